"""The block validity rules a voter and a history verifier share (spec/consensus.md, "Blocks").

Owns: no rule; it applies rules owned elsewhere (ARCHITECTURE.md, "The replica") the same way
for a voter (:mod:`aethel.consensus.proposals`) and for the history verifier.

Pure checks, each raising :class:`~aethel.errors.ProtocolViolation` naming the broken rule:
the limits (N6: at most MAX_BLOCK_PROOFS proofs and transactions, MAX_BLOCK_EVIDENCE evidence
records; no proof twice, R7.1/R1.1), the last commit (R2.3, R3.2) and the evidence (R4.2,
R1.5, R7.5).
:meth:`aethel.consensus.proposals.ProposalRules._check_block` runs them before any vote (R1.1) and
:class:`aethel.consensus.history_verifier.HistoryVerifier` on every link, so a block a voter
accepts is one a history check accepts and the other way round.
"""

from __future__ import annotations

from collections.abc import Callable

from aethel.consensus.block import ProofBlock
from aethel.consensus.evidence import check_evidence
from aethel.consensus.messages import CommitCertificate
from aethel.consensus.signing import SignatureChecker
from aethel.consensus.validators import ValidatorSet
from aethel.errors import ProtocolViolation
from aethel.proofs.errors import MalformedObjectError
from aethel.proofs.items import decode_block_items
from aethel.proofs.model import proof_from_json

#: Most proofs (and transactions) one block may hold (spec/consensus.md, "Blocks").
MAX_BLOCK_PROOFS = 1_000
#: Most evidence records one block may hold (spec/consensus.md, "Blocks").
MAX_BLOCK_EVIDENCE = 16

SlashKey = tuple[str, str, int]


def check_block_limits(block: ProofBlock) -> None:
    """Raise ProtocolViolation unless ``block`` is within the block limits.

    At most :data:`MAX_BLOCK_PROOFS` proofs and as many transactions, at most
    :data:`MAX_BLOCK_EVIDENCE` evidence records (N6), and no proof id twice: a proof covers one
    transaction, so a repeat is a double spend (R7.1) or a transaction left uncovered (R1.1),
    the rules the full validation would name after solving every proof. Checked before any
    proof is verified, so such a block costs a voter no solver time. A proof that does not
    parse is left to the block's validation, which names it (E12).
    """
    if len(block.proofs) > MAX_BLOCK_PROOFS or len(block.transactions) > MAX_BLOCK_PROOFS:
        raise ProtocolViolation("N6", f"more than {MAX_BLOCK_PROOFS} proofs or transactions")
    if len(block.evidence) > MAX_BLOCK_EVIDENCE:
        raise ProtocolViolation("N6", f"more than {MAX_BLOCK_EVIDENCE} evidence records")
    seen: dict[bytes, int] = {}
    for index, proof_id in _proof_ids(block):
        first = seen.setdefault(proof_id, index)
        if first == index:
            continue
        # A proof covers one transaction: repeated with it, the transaction is spent twice
        # (R7.1); next to another transaction, it does not cover that one (R1.1).
        if index < len(block.transactions) and (
            block.transactions[index] == block.transactions[first]
        ):
            raise ProtocolViolation("R7.1", f"transaction {index} repeats transaction {first}")
        raise ProtocolViolation("R1.1", f"proof {index} repeats proof {first} of the block")


def _proof_ids(block: ProofBlock) -> list[tuple[int, bytes]]:
    """Return (index, id) of every proof of ``block`` that decodes, decoding the block once
    (:func:`aethel.proofs.items.decode_block_items`: validation reuses the typed items)."""
    try:
        proofs = decode_block_items(block.digest, block.transactions, block.proofs).proofs
        return [(index, proof.proof_id) for index, proof in enumerate(proofs)]
    except MalformedObjectError:
        pass
    found = []
    for index, item in enumerate(block.proofs):
        try:
            found.append((index, proof_from_json(item).proof_id))
        except MalformedObjectError:
            continue
    return found


def check_last_commit(
    block: ProofBlock,
    parent: bytes,
    parent_root: bytes,
    certifiers: ValidatorSet | None,
    check: Callable[[CommitCertificate], str],
) -> None:
    """Check the block's last commit: the parent's certificate, valid by its set (R2.3, R3.2).

    ``certifiers`` is the set of the parent height (None at height 1, which has no parent);
    ``check`` checks a certificate by it and returns "" or the reason.
    """
    cert = block.last_commit
    if certifiers is None:
        if cert is not None:
            raise ProtocolViolation("R2.3", "the first block has no parent certificate")
        return
    if cert is None or cert.height != block.height - 1 or cert.digest != parent:
        raise ProtocolViolation("R2.3", "the block lacks its parent's commit certificate")
    if cert.post_root != parent_root:
        raise ProtocolViolation("R3.2", "the parent certificate vouches for another state root")
    reason = check(cert)
    if reason:
        rule = reason.split(":", 1)[0]
        raise ProtocolViolation(
            rule if rule[:1] in ("R", "E", "N", "V") else "R2.3",
            f"invalid parent certificate: {reason}",
        )


def check_block_evidence(
    block: ProofBlock,
    is_slashed: Callable[[SlashKey], bool],
    validators: ValidatorSet,
    checker: SignatureChecker,
    is_proof_invalid: Callable[[ProofBlock, int], bool],
    activation: int | None = None,
) -> None:
    """Check each evidence record: new, from an earlier height, and proving its offence.

    ``is_slashed`` tells whether the pre-state already applied a record; ``validators`` is the
    epoch's signed set (an offender slashed out of later sets stays accountable); ``activation``
    the first height of protocol version 2 (each record is checked by the version of its
    offence's height, V2.2). Spec: R4.2, R1.5, R7.5.
    """
    keys: set[SlashKey] = set()
    for evidence in block.evidence:
        key = evidence.slash_key
        if key in keys or is_slashed(key):
            raise ProtocolViolation("R4.2", "evidence already slashed or repeated")
        keys.add(key)
        if evidence.height >= block.height:
            raise ProtocolViolation("R4.2", "evidence from the block's height or a later one")
        try:
            check_evidence(evidence, validators, checker, is_proof_invalid, activation)
        except ProtocolViolation as exc:
            raise ProtocolViolation(exc.rule_id, f"invalid evidence: {exc.detail}") from None
