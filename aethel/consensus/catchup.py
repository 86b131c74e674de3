"""Verify a certified chain a lagging replica catches up over, and the validator set it ends in.

Owns: R3.1 (a state is adopted only once the certified chain to it verifies, each certificate
by the validator set of its own height). Spec: spec/consensus.md, "Catching up".

A commit certificate is valid only by the validator set of its own height: q(W) of *that*
set's stake. Slashing lowers stakes from one height to the next, so a replica at height h knows
the set of h but not the set of a later height H: the stakes of H depend on the evidence of the
blocks h .. H - 1. A certificate of H that reaches q(W) by the stale stakes of h, or that more
than a third of the stake of h signed, is no proof that H committed: COMMIT votes commit only
with q(W) of their height's set, and Byzantine stake below W/3 plus one honest COMMIT from a
view that did not commit passes a third. So a replica never trusts a later certificate alone.

It follows the chain instead: for each height k from h to H, in order, the block of k extends
the previous one, the certificate of k is for that block and valid by the set of k (R2.3), and
the set of k + 1 is the set of k with the slashing of block k's evidence applied (R4.2; members
left below MIN_STAKE drop out, R4.3). Each block is certified by q(W) of its own set, so its
evidence was checked by honest validators and the derived stakes are the ones its post-state
holds. Only the last certificate's post-state root is adopted (the state itself arrives by state
sync, verified against that root); the intermediate blocks are not re-executed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aethel.consensus.block import ProofBlock
from aethel.consensus.interfaces import ChainSource
from aethel.consensus.messages import CommitCertificate
from aethel.consensus.signing import SignatureChecker, SignatureItem
from aethel.consensus.v2.checks import DIRECT, AggregateChecker
from aethel.consensus.validators import ValidatorSet
from aethel.consensus.votes import CertificateCheck
from aethel.economics import compute_slash_amount
from aethel.errors import ProtocolViolation, is_rule_id

#: One certified height: its block and its commit certificate.
ChainLink = tuple[ProofBlock, CommitCertificate]


def collect_chain_links(
    sources: Sequence[ChainSource], start: int, target: int
) -> tuple[ChainLink, ...] | None:
    """Return the certified heights ``start`` .. ``target`` - 1, each from the first source
    holding a block and the certificate for it, or None if one is missing.

    Nothing here is trusted: the replica verifies the links (:func:`verify_certified_chain`).
    """
    links: list[ChainLink] = []
    for height in range(start, target):
        for source in sources:
            block = source.get_block(height)
            cert = source.get_certificate(height)
            if block is not None and cert is not None and cert.digest == block.digest:
                links.append((block, cert))
                break
        else:
            return None
    return tuple(links)


@dataclass(frozen=True, slots=True)
class VerifiedChain:
    """The outcome of :func:`verify_certified_chain`: the target and the sets around it."""

    #: The last link's certificate (the height adopted).
    certificate: CommitCertificate
    #: The set of the target height: the one that signed ``certificate``.
    certifiers: ValidatorSet
    #: The set of the height after the target (its block's slashing applied).
    validators: ValidatorSet


def compute_next_validators(validators: ValidatorSet, block: ProofBlock) -> ValidatorSet:
    """Return the set of height h + 1 from the set of h and block h's evidence (R4.2, R4.3).

    Each record burns its offence's share of the offender's running stake, in list order, as
    the ledger's transition does; an offender no longer in the set has no vote to lose.
    """
    stakes: dict[str, int] = {}
    for evidence in block.evidence:
        stake = stakes.get(evidence.offender, validators.stake_of(evidence.offender))
        if stake:
            stakes[evidence.offender] = stake - compute_slash_amount(stake, evidence.offence)
    return validators.with_stakes(stakes)


def check_catch_up_target(height: int, certificate: CommitCertificate) -> str:
    """Return "" if ``certificate`` is of ``height`` (the replica's) or a later one, else why."""
    if certificate.height < height:
        return "R3.1: the certified height is not after this replica's"
    return ""


def check_catch_up_hint(
    certificate: CommitCertificate, validators: ValidatorSet, checker: SignatureChecker
) -> tuple[str, int]:
    """Return ("", n) if a later height's certificate is worth asking for a sync, else (why, n);
    n is the number of signatures checked.

    A hint, never trust: validators holding more than a third of the stake of ``validators``
    (the set known here) signed COMMITs at that height, so one of them is honest and the height
    before it committed. Whether the certificate itself is valid is decided by the set of its
    own height, which only the chain up to it tells (:func:`verify_certified_chain`).
    """
    seen: set[str] = set()
    items: list[SignatureItem] = []
    stake = 0
    for vote in certificate.votes:
        member = validators.get(vote.validator)
        if (
            member is None
            or vote.validator in seen
            or (vote.height, vote.view, vote.digest, vote.post_root)
            != (certificate.height, certificate.view, certificate.digest, certificate.post_root)
        ):
            continue
        seen.add(vote.validator)
        stake += member.stake
        items.append((member.public_key, vote.payload, vote.signature))
    if 3 * stake <= validators.total_stake:
        return f"R3.1: signers of height {certificate.height} hold {stake}, not over a third", 0
    if not all(checker.verify_batch(items, None)):
        return "R7.5: a certificate vote has a bad signature", len(items)
    return "", len(items)


def check_aggregate_hint(
    certificate: CommitCertificate, validators: ValidatorSet, checker: AggregateChecker = DIRECT
) -> tuple[str, int]:
    """Return ("", n) if a later height's version-2 certificate is worth asking for a sync,
    else (why, n); n is the number of pairing checks made (V2.8).

    The hint of :func:`check_catch_up_hint` for a bitmap and an aggregate: the members of the
    bitmap in ``validators``' roster hold more than a third of its stake, and the aggregate
    verifies for exactly their registered keys.
    """
    aggregate, v2 = certificate.v2, validators.v2
    if aggregate is None or v2 is None:
        return "V2.2: a version-2 hint needs a version-2 certificate and set", 0
    roster = v2.roster
    members = aggregate.members()
    if len(aggregate.signers) != (len(roster) + 7) // 8 or (members and members[-1] >= len(roster)):
        return "V2.7: the bitmap is not the size of the validator set", 0
    stake = roster.stake_of(members)
    if 3 * stake <= roster.total:
        return f"R3.1: signers of height {certificate.height} hold {stake}, not over a third", 0
    keys = [roster.members[i].key for i in members]
    if not checker.fast_aggregate_verify(keys, aggregate.target.message(), aggregate.aggregate):
        return "V2.8: the aggregate does not verify for the bitmap's members", 1
    return "", 1


def verify_certified_chain(
    validators: ValidatorSet,
    height: int,
    parent: bytes,
    links: Sequence[ChainLink],
    check: CertificateCheck,
) -> VerifiedChain:
    """Verify ``links`` from ``height`` (whose set is ``validators``, whose parent is ``parent``).

    The links must be the consecutive heights ``height``, ``height + 1``, ... (the last one is
    the target). Raise :class:`ProtocolViolation` naming the broken rule at the first bad link.
    """
    if not links:
        raise ProtocolViolation("R3.1", "no certified height to catch up to")
    current, digest, expected = validators, parent, height
    certifiers = validators
    for block, certificate in links:
        if block.height != expected or certificate.height != expected:
            raise ProtocolViolation(
                "R3.1", f"height {expected} is missing from the chain (got {block.height})"
            )
        if block.parent != digest:
            raise ProtocolViolation("R3.3", f"block {expected} does not extend the chain")
        if certificate.digest != block.digest:
            raise ProtocolViolation("R2.3", f"the certificate of {expected} is for another block")
        reason = check(certificate, current)
        if reason:
            # A check's reason starts with the rule it names ("R2.3: ..."); keep that rule.
            rule = reason.split(":", 1)[0]
            raise ProtocolViolation(
                rule if is_rule_id(rule) else "R2.3",
                f"certificate of height {expected} by the set of that height: {reason}",
            )
        certifiers = current
        current = compute_next_validators(current, block)
        digest, expected = block.digest, expected + 1
    return VerifiedChain(links[-1][1], certifiers, current)
