"""The small interfaces the consensus core needs from the rest of a node.

The core decides; these services compute and store. Each is a Protocol so the core imports no
concrete proof, state or storage package:

* :class:`BlockValidator` verifies every proof of a block against the pre-state before any vote
  (R1.1, P1) and re-verifies one proof for false-claim evidence (R1.5).
* :class:`Executor` applies a block's transition, economics included (rewards, slashing, supply
  books: R1.2, R1.3, R4.*), and returns the post-state root a COMMIT carries (R3.2).
* :class:`ChainStore` persists blocks, certificates and states, one atomic commit per height,
  and the vote journal that stops a restarted validator from signing twice (R5.4); its reading
  half, :class:`ChainSource`, is all a catching-up replica's shell needs of a peer's store.
* :class:`BlockSource` (the mempool) hands the leader the transactions and proofs to propose.

Implementations must be deterministic functions of their inputs (the simulator may memoize
them across simulated nodes); they may do disk I/O but never read clocks or draw randomness.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from aethel.encoding import JSONValue

if TYPE_CHECKING:
    from aethel.consensus.block import ProofBlock
    from aethel.consensus.messages import CommitCertificate, PrepareCertificate
    from aethel.consensus.validators import ValidatorSet


class ProofOutcome(StrEnum):
    """Result of re-verifying one proof (ARCHITECTURE.md "Proofs and the verifier")."""

    VALID = "valid"
    INVALID = "invalid"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class ProofCheck:
    """The verdict on one proof of a block (R1.1, R1.4)."""

    index: int
    proof_id: str
    outcome: ProofOutcome
    difficulty: int
    effort: int
    reason: str = ""
    #: True when the proof itself fails (re-checkable later without state: slashable, R1.5).
    intrinsic: bool = False


@dataclass(frozen=True, slots=True)
class BlockVerdict:
    """The verdict on a whole block: every proof checked, total difficulty (R1.1, R1.2)."""

    valid: bool
    checks: tuple[ProofCheck, ...]
    total_difficulty: int
    rule_id: str = ""
    reason: str = ""

    @property
    def invalid_proof(self) -> int | None:
        """Return the index of the first intrinsically invalid proof, if any (for evidence)."""
        for check in self.checks:
            if check.intrinsic and check.outcome is not ProofOutcome.VALID:
                return check.index
        return None


@dataclass(frozen=True, slots=True)
class Execution:
    """The result of applying one block's transition (R3.2, R3.6, R4.*)."""

    height: int
    pre_root: bytes
    post_root: bytes
    #: Reward of the parent block distributed here, per validator (R1.3, R4.1).
    rewards: Mapping[str, int]
    #: Stake burned per slashed validator (R4.2).
    slashed: Mapping[str, int]
    #: New stake of every validator whose stake changed (R4.3 decides who still votes).
    stakes: Mapping[str, int]
    minted: int
    burned: int
    minted_total: int
    burned_total: int
    total_supply: int
    genesis_supply: int
    #: Reward this block earned (total difficulty, capped): paid with the next height.
    pending_reward: int
    proof_count: int
    total_difficulty: int
    transfers: int
    handle: object = field(default=None, compare=False, repr=False)


class BlockValidator(Protocol):
    """Verifies blocks before any vote (R1.1)."""

    def validate_block(self, block: ProofBlock, pre_root: bytes) -> BlockVerdict:
        """Verify every proof and transaction of ``block`` against the state at ``pre_root``."""
        ...

    def is_proof_invalid(self, block: ProofBlock, index: int) -> bool:
        """Re-verify proof ``index`` of ``block`` on its own; True if it fails (R1.5)."""
        ...


class Executor(Protocol):
    """Applies a block's transition, economics included."""

    def genesis_root(self) -> bytes:
        """Return the state root before height 1."""
        ...

    def execute(
        self,
        block: ProofBlock,
        verdict: BlockVerdict,
        pre_root: bytes,
        validators: ValidatorSet,
    ) -> Execution:
        """Apply ``block`` to the state at ``pre_root``; nothing is committed yet."""
        ...

    def get_stakes(self, root: bytes) -> Mapping[str, int]:
        """Return the validators' stakes in the state at ``root`` (after a snapshot sync)."""
        ...

    def is_slashed(self, root: bytes, slash_key: tuple[str, str, int]) -> bool:
        """Return True if the state at ``root`` already slashed ``slash_key`` (R4.2)."""
        ...


class ChainSource(Protocol):
    """Certified heights to read: a node's own store, or a peer's that a shell hands a
    catching-up replica (:func:`aethel.consensus.catchup.collect_chain_links`)."""

    def get_block(self, height: int) -> ProofBlock | None:
        """Return the committed block of ``height``, if held."""
        ...

    def get_certificate(self, height: int) -> CommitCertificate | None:
        """Return the commit certificate of ``height``, if held."""
        ...


class ChainStore(ChainSource, Protocol):
    """Persists the chain: one atomic commit per height (R5.4); reads it as a
    :class:`ChainSource`."""

    def latest(self) -> CommitCertificate | None:
        """Return the commit certificate of the latest committed height, or None before
        height 1. It names all a replica resumes from: the height, its block's digest and the
        post-state root its COMMITs carry (R3.2)."""
        ...

    def commit_height(
        self, block: ProofBlock, certificate: CommitCertificate, execution: Execution
    ) -> None:
        """Persist block, certificate and post-state of one height atomically."""
        ...

    def install_snapshot(self, certificate: CommitCertificate, block: ProofBlock) -> None:
        """Adopt the state vouched for by ``certificate`` (after a verified sync, R3.1)."""
        ...

    def record_vote(self, height: int, view: int, kind: str, key: bytes) -> None:
        """Journal a vote before it is sent, so a restart never signs a conflicting one."""
        ...

    def get_votes(self, height: int) -> Mapping[tuple[int, str], bytes]:
        """Return the journaled votes of ``height``: (view, kind) -> signed key."""
        ...

    def record_lock(self, certificate: PrepareCertificate, block: ProofBlock) -> None:
        """Persist the highest prepare certificate (the lock) and its block, before the COMMIT
        it justifies is sent: a restarted validator keeps its lock (R2.6)."""
        ...

    def get_lock(self, height: int) -> tuple[PrepareCertificate, ProofBlock] | None:
        """Return the persisted lock of ``height``, if any."""
        ...


class BlockSource(Protocol):
    """The mempool as the leader sees it (R5.1, R6.3)."""

    def select(
        self, height: int, pre_root: bytes
    ) -> tuple[Sequence[dict[str, JSONValue]], Sequence[dict[str, JSONValue]]]:
        """Return (transactions, proofs) to propose at ``height`` on the state at ``pre_root``."""
        ...

    def on_commit(self, block: ProofBlock) -> None:
        """Drop what ``block`` included."""
        ...
