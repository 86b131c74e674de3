"""Verify a presented history link by link, and choose between two conflicting ones.

Spec: R3.3 and P12 (between conflicting states, accept the one whose chain of commit certificates
and proofs verifies from a trusted state, reject the other, accept neither if neither verifies),
R7.4 and P29 (reject a history in which any transition breaks conservation or the supply books,
or any height lacks a valid commit certificate). Types: :mod:`aethel.consensus.history`.

For each link at height h, in this order (cheap checks before the solver runs), the verifier
checks what an honest validator checks before it commits the block itself:

1. position: the block is of height h (a later height means h is missing: R7.4; an earlier one
   is out of order: R3.3) and its parent is the digest of the verified block h - 1 (R3.3);
   within the block limits (N6);
2. the proposer is a member of the validator set of h and signed the block (R4.3, R7.5);
3. the block's last commit is a valid certificate of h - 1 for that block and its root
   (R2.3, R3.2; none at height 1);
4. the link's commit certificate is for this block and valid by the set of h: distinct members,
   stake >= q(W), every signature good (R7.4 with R2.3, R4.3, R7.5);
5. the evidence is new, from an earlier height, and proves its offence (R4.2, R1.5);
6. the transition: the claimed changes, if presented, keep the books (R3.6, R4.7) and give the
   certified root (R3.3); every proof re-verifies with Z3 and every transaction applies
   (:class:`~aethel.consensus.ledger.LedgerValidator`: R1.1, R1.5, R5.5, R7.1); the block is
   re-executed by the consensus ledger's own transition (:class:`~aethel.consensus.ledger.
   LedgerExecutor`: the parent's reward paid to the members of the last commit, slashing, the
   transfers, the books: R3.6, R4.1, R4.2, R4.7) and the result must be the certified root (R7.4).

The validator set of h is the epoch's set with the stakes of the state before h (slashing lowers
them, R4.3), exactly as a replica adopts them. Every state lives in a scratch repository: a
verification never writes to the node's own state (P29).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from aethel.consensus.block import ProofBlock
from aethel.consensus.block_rules import (
    check_block_evidence,
    check_block_limits,
    check_last_commit,
)
from aethel.consensus.history import (
    History,
    HistoryAnchor,
    HistoryLink,
    HistoryRejected,
    HistoryVerdict,
    VerifiedHeight,
    VerifiedHistory,
)
from aethel.consensus.interfaces import BlockVerdict, Execution
from aethel.consensus.ledger import LedgerExecutor, LedgerValidator, StateRepository
from aethel.consensus.messages import Commit, CommitCertificate
from aethel.consensus.signing import DirectSignatureChecker, SignatureChecker
from aethel.consensus.v2.version import version_of_height
from aethel.consensus.validators import ValidatorSet
from aethel.consensus.votes import aggregate_certificates, certificate_members, check_certificate
from aethel.encoding import to_hex
from aethel.errors import AethelError, ProtocolViolation, UsageError
from aethel.merkle.batch import DELETE
from aethel.merkle.hashing import EMPTY_HASH
from aethel.proofs.model import Proof
from aethel.proofs.verifier import VerificationResult, verify_proof
from aethel.state.audit import compute_supply_audit
from aethel.state.transitions import Genesis

ProofVerifier = Callable[[Proof], VerificationResult]


@dataclass(slots=True)
class Replay:
    """The verifier's scratch position while it walks a history (never the node's own state)."""

    repository: StateRepository
    executor: LedgerExecutor
    blocks: LedgerValidator
    height: int
    digest: bytes
    root: bytes
    #: The set that certified ``height`` (checks the last commit of the next block).
    certifiers: ValidatorSet | None
    verified: list[VerifiedHeight] = field(default_factory=list)


class HistoryVerifier:
    """Verify histories against the signed validator set of their epoch (R3.3, R7.4).

    ``verify`` re-verifies proofs (memoizable: a pure function of the proof); ``checker``
    checks Ed25519 signatures. Subclasses may override one check (the conformance self-test's
    mutants do); the order of the checks is :meth:`check_link`'s. ``activation`` is the first
    height of protocol version 2 (V2.1; default: a version-2 set's ``first_height``): each
    block, certificate and evidence record is checked in its height's version (V2.2).
    """

    def __init__(
        self,
        validators: ValidatorSet,
        *,
        verify: ProofVerifier = verify_proof,
        checker: SignatureChecker | None = None,
        activation: int | None = None,
    ) -> None:
        self.validators = validators
        self.verify_proof = verify
        self.checker: SignatureChecker = checker or DirectSignatureChecker()
        if activation is None and validators.v2 is not None:
            activation = validators.v2.first_height
        self.activation = activation

    # ------------------------------------------------------------------ entry points

    def verify(self, anchor: HistoryAnchor, history: History) -> VerifiedHistory:
        """Return the verified history; raise :class:`HistoryRejected` at its first bad height."""
        verified, failure = self.replay(anchor, history)
        if failure is not None:
            raise failure
        return verified

    def check(self, anchor: HistoryAnchor, history: History) -> HistoryVerdict:
        """Return the verdict on ``history`` (rejections are answers here, not errors).

        A rejected verdict still carries the verified prefix (``verdict.verified``), so a
        caller can see a fork between the valid part of it and another history.
        """
        verified, failure = self.replay(anchor, history)
        if failure is not None:
            return HistoryVerdict(
                False, failure.height, None, failure.rule_id, failure.detail, verified
            )
        return HistoryVerdict(True, verified.tip_height, verified.tip_root, verified=verified)

    def choose(self, anchor: HistoryAnchor, first: History, second: History) -> HistoryChoice:
        """Choose between two histories from one trusted state (R3.3, P12).

        The one that verifies wins; neither wins if neither verifies. If both verify (or their
        verified parts) and they differ at some height, two valid certificates finalize
        conflicting blocks: validators holding more than W/3 stake signed both (I2), a safety
        violation. Neither is then accepted and the answer is the :class:`Fork` evidence. Two
        histories that agree where both have links do not conflict: the longer one wins.
        """
        a, b = self.check(anchor, first), self.check(anchor, second)
        fork = None
        if a.verified is not None and b.verified is not None:
            fork = find_fork(a.verified, b.verified)
        if fork is not None:
            return HistoryChoice(Choice.CONFLICT, a, b, fork)
        if a.accepted and b.accepted:
            choice = Choice.FIRST if a.height >= b.height else Choice.SECOND
        elif a.accepted:
            choice = Choice.FIRST
        elif b.accepted:
            choice = Choice.SECOND
        else:
            choice = Choice.NEITHER
        return HistoryChoice(choice, a, b, None)

    def replay(
        self, anchor: HistoryAnchor, history: History
    ) -> tuple[VerifiedHistory, HistoryRejected | None]:
        """Verify ``history`` link by link; return the verified prefix and the failure, if any."""
        repository = StateRepository()
        stakes = {member.id: member.stake for member in self.validators.validators}
        executor = LedgerExecutor(repository, Genesis({}, stakes))
        try:
            root = repository.apply(EMPTY_HASH, anchor.entries)
        except AethelError as exc:
            raise UsageError(f"the trusted state has no tree: {exc}") from None
        replay = Replay(
            repository,
            executor,
            LedgerValidator(repository, self.verify_proof),
            anchor.height,
            anchor.digest,
            root,
            anchor.certifiers,
        )
        failure = None
        for link in history.links:
            try:
                self.check_link(replay, link)
            except HistoryRejected as exc:
                failure = exc
                break
        verified = VerifiedHistory(anchor, root, tuple(replay.verified), repository)
        return verified, failure

    # ------------------------------------------------------------------ one link

    def check_link(self, replay: Replay, link: HistoryLink) -> None:
        """Verify the link after ``replay``'s position and advance it (see the module doc)."""
        height = replay.height + 1
        block = link.block
        self.check_position(replay, block, height)
        validators = self.get_validators(replay, height)
        proposer = validators.get(block.proposer)
        if proposer is None:
            raise HistoryRejected("R4.3", height, f"proposer {block.proposer} is not a validator")
        version = version_of_height(height, self.activation)
        if not self.checker.verify(
            proposer.public_key, block.payload_for(version), block.signature
        ):
            if self.activation is not None and self.checker.verify(
                proposer.public_key, block.payload_for(3 - version), block.signature
            ):
                raise HistoryRejected(
                    "V2.2", height, f"a version-{3 - version} block at a version-{version} height"
                )
            raise HistoryRejected("R7.5", height, "the block is not signed by its proposer")
        self.check_parent_certificate(replay, block, height)
        certificate = link.certificate
        if certificate is None:
            raise HistoryRejected("R7.4", height, "the height lacks a commit certificate")
        if certificate.height != height or certificate.digest != block.digest:
            raise HistoryRejected("R7.4", height, "the commit certificate is for another block")
        if not is_possible_proposer(validators, height, certificate.view, block.proposer):
            raise HistoryRejected(
                "R2.6", height, f"{block.proposer} led no view up to {certificate.view}"
            )
        reason = self.check_certificate(certificate, validators)
        if reason:
            raise HistoryRejected(_rule(reason), height, f"invalid commit certificate: {reason}")
        self.check_evidence(replay, block, height)
        post_root = self.check_transition(replay, link, certificate, validators)
        replay.verified.append(
            VerifiedHeight(height, block.digest, post_root, certificate, validators)
        )
        replay.height, replay.digest, replay.root = height, block.digest, post_root
        replay.certifiers = validators

    def check_position(self, replay: Replay, block: ProofBlock, height: int) -> None:
        """Check the block's height, parent and size (R7.4, R3.3, N6)."""
        if block.height > height:
            raise HistoryRejected(
                "R7.4", height, f"height {height} is missing: the link is of height {block.height}"
            )
        if block.height < height:
            raise HistoryRejected(
                "R3.3", height, f"a block of height {block.height} where {height} follows"
            )
        if block.parent != replay.digest:
            raise HistoryRejected("R3.3", height, "the block does not extend the verified chain")
        try:
            check_block_limits(block)
        except ProtocolViolation as exc:
            raise HistoryRejected(exc.rule_id, height, exc.detail) from None

    def get_validators(self, replay: Replay, height: int) -> ValidatorSet:
        """Return the set of ``height``: the epoch's, with the stakes of its pre-state (R4.3)."""
        stakes = replay.executor.get_stakes(replay.root)
        changed = {v: s for v, s in stakes.items() if self.validators.stake_of(v) != s}
        try:
            return self.validators.with_stakes(changed)
        except ProtocolViolation as exc:
            raise HistoryRejected(exc.rule_id, height, exc.detail) from None

    def check_parent_certificate(self, replay: Replay, block: ProofBlock, height: int) -> None:
        """Check the block's last commit: the certificate of the verified parent, by the set
        that certified it (R2.3, R3.2; :func:`~aethel.consensus.block_rules.check_last_commit`)."""
        certifiers = replay.certifiers
        try:
            check_last_commit(
                block,
                replay.digest,
                replay.root,
                certifiers,
                lambda cert: (
                    self.check_certificate(cert, certifiers) if certifiers is not None else ""
                ),
            )
        except ProtocolViolation as exc:
            raise HistoryRejected(exc.rule_id, height, exc.detail) from None

    def check_certificate(self, certificate: CommitCertificate, validators: ValidatorSet) -> str:
        """Return "" if ``certificate`` is valid by ``validators``, else why (R2.3, R4.3, R7.5);
        in the form of its height's version (V2.2, V2.8)."""
        if self.activation is None:
            return check_certificate(certificate, validators, self.checker)
        version = version_of_height(certificate.height, self.activation)
        if certificate.version != version:
            return (
                f"V2.2: a version-{certificate.version} certificate for height "
                f"{certificate.height}, which runs version {version}"
            )
        if version == 2:
            return aggregate_certificates()(certificate, validators)
        return check_certificate(certificate, validators, self.checker)

    def check_evidence(self, replay: Replay, block: ProofBlock, height: int) -> None:
        """Check each evidence record as a replica does before voting (R4.2, R1.5, R7.5)."""
        try:
            check_block_evidence(
                block,
                lambda key: replay.executor.is_slashed(replay.root, key),
                self.validators,
                self.checker,
                replay.blocks.is_proof_invalid,
                self.activation,
            )
        except ProtocolViolation as exc:
            raise HistoryRejected(exc.rule_id, height, exc.detail) from None

    def check_transition(
        self,
        replay: Replay,
        link: HistoryLink,
        certificate: CommitCertificate,
        validators: ValidatorSet,
    ) -> bytes:
        """Re-execute the block and return its post-state root, the certified one (R7.4).

        Claimed changes are checked first, so a presented state that breaks the books is named
        for that (R3.6, R4.7); then the proofs (R1.1) and the consensus ledger's transition.
        """
        height = certificate.height
        if link.changes is not None:
            self.check_claimed_state(replay, link, certificate)
        verdict: BlockVerdict = replay.blocks.validate_block(link.block, replay.root)
        if not verdict.valid:
            raise HistoryRejected(verdict.rule_id or "R1.1", height, verdict.reason)
        try:
            execution: Execution = replay.executor.execute(
                link.block, verdict, replay.root, validators
            )
        except ProtocolViolation as exc:
            raise HistoryRejected(exc.rule_id, height, exc.detail) from None
        if execution.post_root != certificate.post_root:
            raise HistoryRejected(
                "R7.4",
                height,
                f"executing the block gives root {to_hex(execution.post_root)[:16]}, the "
                f"certificate vouches for {to_hex(certificate.post_root)[:16]}",
            )
        return execution.post_root

    def check_claimed_state(
        self, replay: Replay, link: HistoryLink, certificate: CommitCertificate
    ) -> bytes:
        """Check the presented post-state: its books (R3.6, R4.7) and its root (R3.3)."""
        height = certificate.height
        assert link.changes is not None
        writes = {k: (DELETE if v is None else v) for k, v in link.changes.items()}
        try:
            claimed = replay.repository.apply(replay.root, writes)
        except AethelError as exc:
            raise HistoryRejected("E1", height, f"the claimed changes: {exc}") from None
        audit = compute_supply_audit(replay.repository.tree(claimed), height)
        if audit.negative_keys:
            raise HistoryRejected(
                "R3.6", height, f"the claimed state holds negative amounts {audit.negative_keys}"
            )
        if not audit.is_conserved:
            raise HistoryRejected(
                "R3.6",
                height,
                f"the claimed state holds {audit.total_supply} tokens; its books say genesis "
                f"{audit.genesis} + minted {audit.minted} - burned {audit.burned}",
            )
        if not audit.is_within_emission:
            raise HistoryRejected(
                "R4.7", height, f"the claimed state has minted {audit.minted}, above E(h)"
            )
        if claimed != certificate.post_root:
            raise HistoryRejected(
                "R3.3", height, "the claimed state is not the one the certificate vouches for"
            )
        return claimed


#: Views scanned for the proposer of a block certified in a later view (see below).
MAX_VIEW_SCAN = 4_096


def is_possible_proposer(validators: ValidatorSet, height: int, view: int, proposer: str) -> bool:
    """Return True if ``proposer`` led some view of ``height`` up to ``view`` (R2.6).

    A block is built by the leader of the view it was first proposed in and re-proposed
    unchanged later, so a block certified in view v was built by the leader of a view <= v.
    Past :data:`MAX_VIEW_SCAN` views every member has led one with overwhelming probability
    (each view is a fresh draw by stake), so the scan stops there and any member passes.
    """
    if view > MAX_VIEW_SCAN:
        return validators.get(proposer) is not None
    return any(validators.get_leader(height, v).id == proposer for v in range(view + 1))


def _rule(reason: str) -> str:
    """Return the rule ID a ``check_certificate`` reason starts with ("R2.3: ...")."""
    head = reason.split(":", 1)[0]
    return head if head[:1] in ("R", "E", "N", "V") else "R7.4"


# ---------------------------------------------------------------------- choosing


class Choice(StrEnum):
    """Which of two offered histories a node adopts (R3.3)."""

    FIRST = "first"
    SECOND = "second"
    NEITHER = "neither"
    #: Both verify and conflict: a safety violation; neither is adopted.
    CONFLICT = "conflict"


@dataclass(frozen=True, slots=True)
class Fork:
    """Two valid commit certificates finalizing conflicting blocks or states at one height.

    ``signers`` signed COMMIT votes in both: their stake is more than W/3 whenever both
    certificates hold q(W) of one set (I2), the evidence of a safety violation (R2.2, R2.4).
    """

    height: int
    first: CommitCertificate
    second: CommitCertificate
    signers: tuple[str, ...]
    stake: int
    total_stake: int

    @property
    def same_view(self) -> bool:
        """Return True if both are of one view: each signer then equivocated (R4.2)."""
        return self.first.view == self.second.view

    def conflicting_votes(self) -> list[tuple[Commit, Commit]]:
        """Return each signer's two COMMIT votes (evidence material when of one view)."""
        second = {vote.validator: vote for vote in self.second.votes}
        return [
            (vote, second[vote.validator]) for vote in self.first.votes if vote.validator in second
        ]


class SafetyViolation(ProtocolViolation):
    """Two conflicting histories both verify: more than W/3 stake signed both (R2.4)."""

    def __init__(self, fork: Fork) -> None:
        self.fork = fork
        super().__init__(
            "R2.4",
            f"conflicting blocks certified at height {fork.height}; {len(fork.signers)} "
            f"validators with stake {fork.stake} of {fork.total_stake} signed both",
        )

    def __reduce__(self) -> tuple[type[SafetyViolation], tuple[Fork]]:  # type: ignore[override]
        return (type(self), (self.fork,))


@dataclass(frozen=True, slots=True)
class HistoryChoice:
    """The outcome of offering two histories: the choice, both verdicts, and any fork."""

    choice: Choice
    first: HistoryVerdict
    second: HistoryVerdict
    fork: Fork | None

    @property
    def chosen(self) -> HistoryVerdict | None:
        """Return the verdict of the adopted history (None: neither, or a conflict)."""
        if self.choice is Choice.FIRST:
            return self.first
        if self.choice is Choice.SECOND:
            return self.second
        return None

    def require(self) -> VerifiedHistory:
        """Return the adopted history; raise if none can be adopted (R3.3, R2.4)."""
        if self.fork is not None:
            raise SafetyViolation(self.fork)
        chosen = self.chosen
        if chosen is None or chosen.verified is None:
            raise ProtocolViolation(
                "R3.3",
                f"neither history verifies: first [{self.first.rule_id}] at height "
                f"{self.first.height}, second [{self.second.rule_id}] at {self.second.height}",
            )
        return chosen.verified


def find_fork(first: VerifiedHistory, second: VerifiedHistory) -> Fork | None:
    """Return the first height where two verified histories finalize different blocks or roots."""
    for mine in first.heights:
        other = second.at(mine.height)
        if other is None:
            return None
        if (mine.digest, mine.post_root) == (other.digest, other.post_root):
            continue
        a, b = mine.certificate, other.certificate
        both = set(certificate_members(a, mine.validators)) & set(
            certificate_members(b, other.validators)
        )
        signers = tuple(sorted(both, key=lambda v: mine.validators.index.get(v, -1)))
        stake = sum(mine.validators.stake_of(v) for v in signers)
        return Fork(mine.height, a, b, signers, stake, mine.validators.total_stake)
    return None
