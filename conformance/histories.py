"""Presented histories for the ``history`` capability: a real run's chain and tampered copies.

:func:`make_chain` runs the reference simulator (a small honest cluster, real Z3 proofs, real
Ed25519) and takes one node's committed chain as the valid history, with the validator keys
that signed it. :func:`build_case` derives one case from it: the valid history, or a copy
with one defect at one height (tokens minted, a certificate under quorum or for another root,
a bad signature, an invalid proof, a skipped or reordered height...), re-signed with the keys
where the defect should be the only thing wrong, and the verdict a conforming verifier gives.
The expected verdicts come from this table, never from asking the reference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aethel.consensus.block import ProofBlock
from aethel.consensus.evidence import Evidence
from aethel.consensus.history import History, HistoryLink, compute_changes, get_history
from aethel.consensus.ledger import LedgerExecutor, LedgerValidator, StateRepository
from aethel.consensus.messages import Commit, CommitCertificate, Prepare
from aethel.consensus.signing import KeySigner
from aethel.consensus.validators import ValidatorSet
from aethel.economics import Offence, compute_emission_limit
from aethel.encoding import JSONValue, KeyPair, sha256
from aethel.merkle.batch import DELETE
from aethel.proofs.model import Outcome, proof_from_json, sign_proof
from aethel.sim.simulator import SimConfig, Simulation
from aethel.state.layout import SUPPLY_MINTED
from aethel.state.transitions import Genesis

#: The chain every case derives from: 5 equal validators (q(W) is 4 of them, so 3 hold a
#: majority below q(W)), 4 heights of 2 transfers each.
CHAIN_VALIDATORS = 5
CHAIN_HEIGHTS = 4
CHAIN_SEED = 11


@dataclass(frozen=True, slots=True)
class Chain:
    """A committed chain of a real run, with what re-signing it needs."""

    genesis: Genesis
    validators: ValidatorSet
    keys: Mapping[str, KeyPair]
    history: History
    repository: StateRepository
    genesis_root: bytes

    def root_before(self, height: int) -> bytes:
        """Return the state root before ``height`` (the genesis root before height 1)."""
        if height == 1:
            return self.genesis_root
        certificate = self.history.links[height - 2].certificate
        assert certificate is not None
        return certificate.post_root

    def link(self, height: int) -> HistoryLink:
        """Return the link of ``height``."""
        return self.history.links[height - 1]

    def genesis_json(self) -> dict[str, Any]:
        """Return the genesis in the replica capability's JSON form."""
        return {"balances": dict(self.genesis.balances), "stakes": dict(self.genesis.stakes)}


def make_chain(
    seed: int = CHAIN_SEED,
    validators: int = CHAIN_VALIDATORS,
    heights: int = CHAIN_HEIGHTS,
    protocol_v2_height: int | None = None,
) -> Chain:
    """Run the reference simulator (honest, collector mode; protocol version 2 from
    ``protocol_v2_height`` if given) and return node 0's chain."""
    sim = Simulation(
        SimConfig(
            validators=validators,
            heights=heights,
            seed=seed,
            per_block=2,
            accounts=8,
            protocol_v2_height=protocol_v2_height,
        )
    )
    result = sim.run()
    if not result.ok or result.heights_committed < heights:
        raise RuntimeError(f"the simulation behind the history cases failed: {result.checkers}")
    return chain_from_simulation(sim, 0, heights)


def chain_from_simulation(sim: Simulation, node: int, heights: int) -> Chain:
    """Return heights 1..``heights`` of node ``node``'s committed chain in a finished run."""
    store = sim.engine.nodes[node].store
    genesis_root = sim.ledger_executor.genesis_root()
    history = get_history(store, 1, heights, sim.repository, genesis_root)
    keys = dict(zip(sim.ids, sim.keys, strict=True))
    return Chain(sim.genesis, sim.validators, keys, history, sim.repository, genesis_root)


# ---------------------------------------------------------------------- forging


def sign_certificate(
    chain: Chain,
    height: int,
    view: int,
    digest: bytes,
    post_root: bytes,
    signers: Sequence[str],
    keys: Mapping[str, KeyPair] | None = None,
) -> CommitCertificate:
    """Return a commit certificate of COMMIT votes signed by ``signers`` (keys we hold)."""
    keys = keys or chain.keys
    votes = tuple(
        Commit.create(KeySigner(v, keys[v]), height, view, digest, post_root) for v in signers
    )
    return CommitCertificate(height, view, digest, post_root, votes)


def resign_block(
    chain: Chain,
    block: ProofBlock,
    *,
    parent: bytes | None = None,
    transactions: Sequence[dict[str, JSONValue]] | None = None,
    proofs: Sequence[dict[str, JSONValue]] | None = None,
    evidence: Sequence[Evidence] | None = None,
    last_commit: CommitCertificate | bool | None = False,
    key: KeyPair | None = None,
    proposer: str | None = None,
    height: int | None = None,
) -> ProofBlock:
    """Return ``block`` with some members replaced, signed again by its proposer (or
    ``proposer``, a member unless ``key`` is given; ``key``: the key that signs)."""
    name = proposer or block.proposer
    signer = KeySigner(name, key or chain.keys[name])
    return ProofBlock.create(
        signer,
        block.height if height is None else height,
        block.parent if parent is None else parent,
        block.transactions if transactions is None else transactions,
        block.proofs if proofs is None else proofs,
        block.evidence if evidence is None else evidence,
        block.last_commit if last_commit is False else last_commit,  # type: ignore[arg-type]
    )


def all_validators(chain: Chain) -> list[str]:
    """Return every validator id (all keys sign: the strongest forged certificate)."""
    return [v.id for v in chain.validators.validators]


def recertify(chain: Chain, block: ProofBlock, post_root: bytes) -> CommitCertificate:
    """Return a certificate for ``block`` and ``post_root`` signed by every validator, in the
    view of the real certificate of its height (its proposer led that view or an earlier one)."""
    view = _certificate(chain.link(block.height)).view
    return sign_certificate(
        chain, block.height, view, block.digest, post_root, all_validators(chain)
    )


def below_quorum(chain: Chain, certificate: CommitCertificate) -> tuple[Commit, ...]:
    """Return the most votes of ``certificate`` that stay below q(W) (a majority here)."""
    kept: list[Commit] = []
    stake = 0
    for vote in certificate.votes:
        weight = chain.validators.stake_of(vote.validator)
        if stake + weight >= chain.validators.quorum:
            break
        kept.append(vote)
        stake += weight
    return tuple(kept)


def claim(
    chain: Chain, height: int, edits: Mapping[str, JSONValue | None], *, replace: bool = False
) -> tuple[dict[str, JSONValue | None], bytes]:
    """Return claimed changes of ``height`` (the real ones plus ``edits``) and their root."""
    base = {} if replace else dict(chain.link(height).changes or {})
    changes = {**base, **edits}
    writes = {k: (DELETE if v is None else v) for k, v in changes.items()}
    root = chain.repository.apply(chain.root_before(height), writes)
    return dict(sorted(changes.items())), root


def post_state(chain: Chain, height: int) -> dict[str, Any]:
    """Return the committed state after ``height``."""
    certificate = chain.link(height).certificate
    assert certificate is not None
    return chain.repository.get(certificate.post_root).leaves()


def rich_account(chain: Chain, height: int) -> str:
    """Return the balance key holding the most tokens after ``height``."""
    state = post_state(chain, height)
    balances = {k: v for k, v in state.items() if k.startswith("balance:")}
    return max(sorted(balances), key=lambda k: balances[k])


def executed_link(
    chain: Chain,
    block: ProofBlock,
    signers: Sequence[str],
    view: int,
    height: int | None = None,
) -> HistoryLink:
    """Return ``block`` executed on the state before ``height`` (default: the height it
    states), certified at that height in ``view`` by ``signers`` for the root it gives, with
    the changes it made: a link whose certificate and changes are right for the block, whatever
    else is wrong with it."""
    height = block.height if height is None else height
    repository = chain.repository
    pre = chain.root_before(height)
    verdict = LedgerValidator(repository).validate_block(block, pre)
    execution = LedgerExecutor(repository, chain.genesis).execute(
        block, verdict, pre, chain.validators
    )
    certificate = sign_certificate(chain, height, view, block.digest, execution.post_root, signers)
    changes = compute_changes(
        repository.get(pre).leaves(), repository.get(execution.post_root).leaves()
    )
    return HistoryLink(block, certificate, changes)


def alternative_link(chain: Chain, height: int, signers: Sequence[str]) -> HistoryLink:
    """Return an honest empty block at ``height``, executed and certified by ``signers``.

    With the real link it forms a fork: both verify, both hold q(W).
    """
    original = chain.link(height).block
    block = ProofBlock.create(
        KeySigner(original.proposer, chain.keys[original.proposer]),
        height,
        original.parent,
        (),
        (),
        (),
        original.last_commit,
    )
    return executed_link(chain, block, signers, 0)


# ---------------------------------------------------------------------- the cases


@dataclass(frozen=True, slots=True)
class Tamper:
    """One kind of defect: where it may go, the rule a verifier names, the IDs a case cites."""

    kind: str
    rule: str
    cites: tuple[str, ...]
    #: Heights (1-based) the defect may be placed at, given the chain's length n.
    first: int = 1
    last_offset: int = 0
    doc: str = ""


#: Every defect, with the specific rule the reference names for it.
TAMPERS: tuple[Tamper, ...] = (
    Tamper("mint-minority", "R2.3", ("R7.4", "P29"), doc="tokens minted, 1 of 5 certify"),
    Tamper("mint-quorum", "R3.6", ("R7.4", "P29"), doc="tokens minted, all 5 certify"),
    Tamper("mint-quorum-roots-only", "R7.4", ("R7.4", "P29"), doc="as above, no changes given"),
    Tamper("mint-booked", "R7.4", ("R7.4", "P29"), doc="minted and booked: only re-execution"),
    Tamper("mint-above-emission", "R4.7", ("R7.4", "P29"), doc="minted past E(h) and booked"),
    Tamper("negative-balance", "R3.6", ("R7.4", "P29"), doc="a balance below zero"),
    Tamper("balance-of-another-type", "R3.6", ("R7.4", "P29"), doc="a balance as a string"),
    Tamper("missing-certificate", "R7.4", ("R7.4", "P29"), doc="no certificate"),
    Tamper("under-quorum", "R2.3", ("R7.4", "P29"), doc="3 of 5: a majority below q(W)"),
    Tamper("outsider-vote", "R4.3", ("R7.4", "P29"), doc="a vote by a key outside the set"),
    Tamper("repeated-voter", "R2.3", ("R7.4", "P29"), doc="one voter counted twice"),
    Tamper("bad-vote-signature", "R7.5", ("R7.4", "P29", "R7.5"), doc="a vote's signature"),
    Tamper("certificate-other-block", "R7.4", ("R7.4", "P29"), doc="certifies another digest"),
    Tamper("certificate-other-root", "R7.4", ("R7.4", "P29"), doc="all 5 certify a wrong root"),
    Tamper("claimed-state-other-root", "R3.3", ("R3.3",), doc="changes off the certified root"),
    Tamper("invalid-proof", "R1.5", ("R3.3",), doc="a proof claiming the wrong outcome"),
    Tamper("double-spend", "R7.1", ("R3.3", "R7.1"), doc="one transfer twice in a block"),
    Tamper("bad-block-signature", "R7.5", ("R3.3", "R7.5"), doc="block signed by another key"),
    Tamper("wrong-parent", "R3.3", ("R3.3",), doc="block not on the verified chain"),
    Tamper("skipped-height", "R7.4", ("R3.3", "R7.4"), last_offset=1, doc="a height left out"),
    Tamper("reordered", "R7.4", ("R3.3",), last_offset=1, doc="two heights swapped"),
    Tamper(
        "parent-certificate-under-quorum",
        "R2.3",
        ("R7.4", "P29", "R2.3"),
        first=2,
        doc="the last commit a block carries is under quorum",
    ),
    Tamper(
        "proposer-outside-set", "R4.3", ("R3.3", "R4.3"), doc="a block by a key outside the set"
    ),
    Tamper("proposer-led-no-view", "R2.6", ("R3.3", "R2.6"), doc="a member that led no view"),
    Tamper("evidence-framing", "R4.2", ("R3.3", "R4.2", "R7.5"), doc="evidence another signed"),
    Tamper("block-1-states-height-2", "R7.4", ("R7.4", "R3.3"), last_offset=3, doc="1 says 2"),
    Tamper("claimed-empty-key", "E1", ("R3.3", "E8"), doc="a claimed change the tree refuses"),
)
TAMPER_KINDS = {t.kind: t for t in TAMPERS}


@dataclass(frozen=True, slots=True)
class HistoryCase:
    """A presented history and the verdict a conforming verifier gives."""

    history: History
    accepted: bool
    #: Accepted: the tip height; rejected: the first height that does not verify.
    height: int
    #: Accepted: the certified tip root; rejected: None.
    root: bytes | None
    #: The rule the reference names when it rejects (other verifiers may name another).
    rule: str = ""


def valid_case(chain: Chain, history: History | None = None) -> HistoryCase:
    """Return the case of an untampered history (default: the whole chain)."""
    history = chain.history if history is None else history
    if not history.links:
        return HistoryCase(history, True, 0, chain.genesis_root)
    certificate = history.links[-1].certificate
    assert certificate is not None
    return HistoryCase(history, True, certificate.height, certificate.post_root)


def build_case(chain: Chain, kind: str, height: int) -> HistoryCase:
    """Return the chain with defect ``kind`` at ``height`` and the expected rejection."""
    tamper = TAMPER_KINDS[kind]
    n = len(chain.history)
    if not tamper.first <= height <= n - tamper.last_offset:
        raise ValueError(f"{kind} cannot go at height {height} of {n}")
    link = chain.link(height)
    history = _TAMPERINGS[kind](chain, height, link)
    return HistoryCase(history, False, height, None, tamper.rule)


def _with(chain: Chain, height: int, link: HistoryLink) -> History:
    return chain.history.replace(height - 1, link)


def _certificate(link: HistoryLink) -> CommitCertificate:
    assert link.certificate is not None
    return link.certificate


def _mint(chain: Chain, height: int, link: HistoryLink, signers: Sequence[str]) -> History:
    account = rich_account(chain, height)
    changes, root = claim(chain, height, {account: post_state(chain, height)[account] + 1_000})
    certificate = sign_certificate(
        chain, height, _certificate(link).view, link.block.digest, root, signers
    )
    return _with(chain, height, HistoryLink(link.block, certificate, changes))


def _mint_minority(chain: Chain, height: int, link: HistoryLink) -> History:
    return _mint(chain, height, link, all_validators(chain)[:1])


def _mint_quorum(chain: Chain, height: int, link: HistoryLink) -> History:
    return _mint(chain, height, link, all_validators(chain))


def _mint_roots_only(chain: Chain, height: int, link: HistoryLink) -> History:
    forged = _mint(chain, height, link, all_validators(chain)).links[height - 1]
    return _with(chain, height, HistoryLink(forged.block, forged.certificate, None))


def _mint_booked(chain: Chain, height: int, link: HistoryLink, extra: int) -> History:
    account = rich_account(chain, height)
    state = post_state(chain, height)
    edits: dict[str, JSONValue | None] = {
        account: state[account] + extra,
        SUPPLY_MINTED: state.get(SUPPLY_MINTED, 0) + extra,
    }
    changes, root = claim(chain, height, edits)
    certificate = sign_certificate(
        chain, height, _certificate(link).view, link.block.digest, root, all_validators(chain)
    )
    return _with(chain, height, HistoryLink(link.block, certificate, changes))


def _negative(chain: Chain, height: int, link: HistoryLink) -> History:
    account = rich_account(chain, height)
    changes, root = claim(chain, height, {account: -1})
    certificate = recertify(chain, link.block, root)
    return _with(chain, height, HistoryLink(link.block, certificate, changes))


def _another_type(chain: Chain, height: int, link: HistoryLink) -> History:
    """A balance claimed as the string "5", certified by every key (written from the
    mechanical survivor ``aethel/state/audit.py:compute_supply_audit:ReplaceOrWithAnd:fd4b6b7f``,
    which compared the string with 0 and failed with a TypeError)."""
    account = rich_account(chain, height)
    changes, root = claim(chain, height, {account: "5"})
    certificate = recertify(chain, link.block, root)
    return _with(chain, height, HistoryLink(link.block, certificate, changes))


def _missing(chain: Chain, height: int, link: HistoryLink) -> History:
    return _with(chain, height, HistoryLink(link.block, None, link.changes))


def _votes(link: HistoryLink, votes: Sequence[Commit]) -> HistoryLink:
    c = _certificate(link)
    certificate = CommitCertificate(c.height, c.view, c.digest, c.post_root, tuple(votes))
    return HistoryLink(link.block, certificate, link.changes)


def _under_quorum(chain: Chain, height: int, link: HistoryLink) -> History:
    return _with(chain, height, _votes(link, below_quorum(chain, _certificate(link))))


def _outsider(chain: Chain, height: int, link: HistoryLink) -> History:
    c = _certificate(link)
    outsider = KeyPair.from_seed(sha256(b"aethel-conformance/history/outsider"))
    vote = Commit.create(KeySigner("zz-outsider", outsider), height, c.view, c.digest, c.post_root)
    return _with(chain, height, _votes(link, (*below_quorum(chain, c), vote)))


def _repeated(chain: Chain, height: int, link: HistoryLink) -> History:
    kept = below_quorum(chain, _certificate(link))
    return _with(chain, height, _votes(link, (*kept, kept[0])))


def _bad_vote_signature(chain: Chain, height: int, link: HistoryLink) -> History:
    votes = list(_certificate(link).votes)
    first = votes[0]
    flipped = bytes([first.signature[0] ^ 0x01]) + first.signature[1:]
    votes[0] = Commit(
        first.height, first.view, first.digest, first.post_root, first.validator, flipped
    )
    return _with(chain, height, _votes(link, votes))


def _other_block(chain: Chain, height: int, link: HistoryLink) -> History:
    c = _certificate(link)
    certificate = sign_certificate(
        chain, height, c.view, sha256(b"another block"), c.post_root, all_validators(chain)
    )
    return _with(chain, height, HistoryLink(link.block, certificate, link.changes))


def _other_root(chain: Chain, height: int, link: HistoryLink) -> History:
    certificate = recertify(chain, link.block, sha256(b"another root"))
    return _with(chain, height, HistoryLink(link.block, certificate, None))


def _claimed_other_root(chain: Chain, height: int, link: HistoryLink) -> History:
    # A meta entry leaves the books alone: only the root comparison can catch it.
    changes, _ = claim(chain, height, {"meta:forged": True})
    return _with(chain, height, HistoryLink(link.block, link.certificate, changes))


def _reblock(chain: Chain, height: int, link: HistoryLink, block: ProofBlock) -> History:
    certificate = recertify(chain, block, _certificate(link).post_root)
    return _with(chain, height, HistoryLink(block, certificate, link.changes))


def _invalid_proof(chain: Chain, height: int, link: HistoryLink) -> History:
    proofs = list(link.block.proofs)
    if not proofs:
        raise ValueError(f"block {height} holds no proof to break")
    original = proof_from_json(proofs[0])
    submitter = KeyPair.from_seed(sha256(b"aethel-conformance/history/submitter"))
    wrong = sign_proof(
        submitter,
        kind=original.kind,
        smt=original.smt,
        claimed=Outcome.SAT,  # the obligation is unsat: this claim is false (R1.5)
        budget=original.budget,
        subjects=original.subjects,
    )
    proofs[0] = wrong.to_json()
    return _reblock(chain, height, link, resign_block(chain, link.block, proofs=proofs))


def _double_spend(chain: Chain, height: int, link: HistoryLink) -> History:
    block = link.block
    if not block.transactions:
        raise ValueError(f"block {height} holds no transfer to repeat")
    block = resign_block(
        chain,
        block,
        transactions=[*block.transactions, block.transactions[0]],
        proofs=[*block.proofs, block.proofs[0]],
    )
    return _reblock(chain, height, link, block)


def _bad_block_signature(chain: Chain, height: int, link: HistoryLink) -> History:
    others = [v for v in all_validators(chain) if v != link.block.proposer]
    block = resign_block(chain, link.block, key=chain.keys[others[0]])
    return _reblock(chain, height, link, block)


def _wrong_parent(chain: Chain, height: int, link: HistoryLink) -> History:
    block = resign_block(chain, link.block, parent=sha256(b"another parent"))
    return _reblock(chain, height, link, block)


def _skipped(chain: Chain, height: int, link: HistoryLink) -> History:
    links = list(chain.history.links)
    del links[height - 1]
    return History(tuple(links))


def _reordered(chain: Chain, height: int, link: HistoryLink) -> History:
    links = list(chain.history.links)
    links[height - 1], links[height] = links[height], links[height - 1]
    return History(tuple(links))


def _executed(chain: Chain, height: int, block: ProofBlock) -> History:
    """The chain with ``block`` at ``height``, executed and certified at ``height`` by every
    validator in the real certificate's view: the block is the only thing wrong."""
    view = _certificate(chain.link(height)).view
    link = executed_link(chain, block, all_validators(chain), view, height)
    return _with(chain, height, link)


def _block_states_the_next_height(chain: Chain, height: int, link: HistoryLink) -> History:
    """Block ``height`` stating height ``height`` + 1, on the right parent, executed and
    certified at ``height``: only the block's height is wrong (R7.4). At height 1, which
    carries no last commit and pays no reward, nothing else can show it: at a later height the
    last commit would have to be of ``height`` and the reward it pays of ``height`` - 1."""
    return _executed(chain, height, resign_block(chain, link.block, height=height + 1))


def _parent_under_quorum(chain: Chain, height: int, link: HistoryLink) -> History:
    """The block's last commit below q(W), and the block executed with it (the reward goes to
    the last commit's members, R4.1), so only the parent certificate's check sees it."""
    last = link.block.last_commit
    assert last is not None
    weak = CommitCertificate(
        last.height, last.view, last.digest, last.post_root, below_quorum(chain, last)
    )
    return _executed(chain, height, resign_block(chain, link.block, last_commit=weak))


#: The key of the block proposer outside the validator set.
OUTSIDER_PROPOSER = "zz-outsider"


def _proposer_outside(chain: Chain, height: int, link: HistoryLink) -> History:
    """The block signed by a key outside the set under a name outside it, executed and
    certified by every member."""
    key = KeyPair.from_seed(sha256(b"aethel-conformance/history/outsider-proposer"))
    outsider = resign_block(chain, link.block, proposer=OUTSIDER_PROPOSER, key=key)
    return _executed(chain, height, outsider)


def _proposer_led_no_view(chain: Chain, height: int, link: HistoryLink) -> History:
    """The block signed by a member that led none of the views 0 .. v of its height (v: the
    certificate's view), preferring the leader of v + 1 (one view too late)."""
    view = _certificate(link).view
    leaders = {chain.validators.get_leader(height, v).id for v in range(view + 1)}
    late = chain.validators.get_leader(height, view + 1).id
    members = [m for m in all_validators(chain) if m not in leaders]
    member = late if late in members else members[0]
    block = resign_block(chain, link.block, proposer=member)
    return _executed(chain, height, block)


def _evidence_framing(chain: Chain, height: int, link: HistoryLink) -> History:
    """The block carries an equivocation record against a member (two PREPAREs of height 1 in
    its name) that another member signed and reported; the block is executed with it (the
    victim slashed) and certified by every member, so only the evidence's check sees it."""
    members = all_validators(chain)
    victim, forger = members[-1], members[0]
    fake = KeySigner(victim, chain.keys[forger])
    first = Prepare.create(fake, 1, 0, sha256(b"framed one"))
    second = Prepare.create(fake, 1, 0, sha256(b"framed two"))
    args = (Offence.EQUIVOCATION, victim, first, second, None, -1, forger)
    unsigned = Evidence(*args, b"")
    record = Evidence(*args, KeySigner(forger, chain.keys[forger]).sign(unsigned.payload))
    block = resign_block(chain, link.block, evidence=[*link.block.evidence, record])
    return _executed(chain, height, block)


def _claimed_empty_key(chain: Chain, height: int, link: HistoryLink) -> History:
    """The link's claimed changes plus a write of the empty key, which no state holds (E8):
    the verifier refuses the height, never fails on it (written from the mechanical
    survivors of ``HistoryVerifier.check_claimed_state`` that let the tree's error escape)."""
    changes = {**(link.changes or {}), "": 1}
    return _with(chain, height, HistoryLink(link.block, link.certificate, changes))


_TAMPERINGS: dict[str, Any] = {
    "mint-minority": _mint_minority,
    "mint-quorum": _mint_quorum,
    "mint-quorum-roots-only": _mint_roots_only,
    "mint-booked": lambda c, h, link: _mint_booked(c, h, link, 1),
    "mint-above-emission": lambda c, h, link: _mint_booked(
        c, h, link, compute_emission_limit(h) + 1
    ),
    "negative-balance": _negative,
    "balance-of-another-type": _another_type,
    "missing-certificate": _missing,
    "under-quorum": _under_quorum,
    "outsider-vote": _outsider,
    "repeated-voter": _repeated,
    "bad-vote-signature": _bad_vote_signature,
    "certificate-other-block": _other_block,
    "certificate-other-root": _other_root,
    "claimed-state-other-root": _claimed_other_root,
    "invalid-proof": _invalid_proof,
    "double-spend": _double_spend,
    "bad-block-signature": _bad_block_signature,
    "wrong-parent": _wrong_parent,
    "skipped-height": _skipped,
    "reordered": _reordered,
    "parent-certificate-under-quorum": _parent_under_quorum,
    "proposer-outside-set": _proposer_outside,
    "proposer-led-no-view": _proposer_led_no_view,
    "evidence-framing": _evidence_framing,
    "block-1-states-height-2": _block_states_the_next_height,
    "claimed-empty-key": _claimed_empty_key,
}
