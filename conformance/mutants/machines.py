"""Mutants the state machines were written against (``conformance/suite/test_machines.py``).

One realistic defect each, in the state tree, the state store, the mempool, the verifier and the
replica: each subclasses one reference class and changes one thing, and the reference adapter
runs it like the reference. ``aethel-conformance selftest`` must catch each by a case citing the
rules it breaks; ``tests/formal/test_machines_catch_mutants.py`` also shows that the machine of
its capability alone finds it within the ``ci`` profile.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

import z3

from aethel.consensus.events import Output, Timer
from aethel.consensus.replica import Replica
from aethel.consensus.validators import ValidatorSet
from aethel.encoding import KeyPair, parse_hex
from aethel.errors import ProtocolViolation
from aethel.merkle.nodes import MemoryNodeStore
from aethel.merkle.proofs import AbsenceProof, Proof
from aethel.merkle.tree import StateTree
from aethel.proofs.difficulty import compute_difficulty
from aethel.proofs.errors import TransactionRejected
from aethel.proofs.judge import Account, Judge
from aethel.proofs.mempool import BlockContents, Mempool, PendingProof
from aethel.proofs.model import Proof as SmtProof
from aethel.proofs.model import Transfer, proof_from_json
from aethel.proofs.parallel import ResultCache, Verifier
from aethel.proofs.verifier import Verdict, VerificationResult, verify_proof
from aethel.state.store import CommittedHeight, StateStore
from conformance.adapters.api import JSON, Hex
from conformance.adapters.reference import (
    ReferenceImplementation,
    ReferenceStateTree,
    ReferenceTree,
)
from conformance.adapters.reference_proofs import (
    ReferenceMempool,
    ReferenceMempoolObject,
    ReferenceVerifier,
    ReferenceVerifierObject,
    result_to_json,
)
from conformance.adapters.reference_replica import ReferenceReplica, ReferenceReplicaObject
from conformance.adapters.reference_state import ReferenceStateStore, ReferenceStoreObject
from conformance.mutants import Mutant

# --------------------------------------------------------------------------- state tree


class FirstWriteWinsTree(StateTree):
    """Defect: a batch keeps the first write to a key instead of the last (breaks I4)."""

    __slots__ = ()

    def batch_update(self, updates: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> bytes:
        pairs = updates.items() if isinstance(updates, Mapping) else updates
        first: dict[str, Any] = {}
        for key, value in pairs:
            first.setdefault(key, value)
        return super().batch_update(list(first.items()))


class NeighbourlessAbsenceTree(StateTree):
    """Defect: an absence proof omits the other leaf that sits on the key's path (breaks I3/E9).

    The proof then claims an empty slot where a leaf is, so it cannot verify.
    """

    __slots__ = ()

    def prove(self, key: str) -> Proof:
        proof = super().prove(key)
        if isinstance(proof, AbsenceProof) and proof.leaf is not None:
            return AbsenceProof(proof.key, proof.root, proof.siblings, None)
        return proof


def _tree_adapter(tree_class: type[StateTree]) -> type[ReferenceTree]:
    class MutantTree(ReferenceTree):
        def __init__(self, cache_size: int | None) -> None:
            store = MemoryNodeStore()
            if cache_size is None:
                self.tree = tree_class(store)
            else:
                self.tree = tree_class(store, cache_size=cache_size)

    return MutantTree


class _FirstWriteWinsStateTree(ReferenceStateTree):
    tree_class = _tree_adapter(FirstWriteWinsTree)


class _NeighbourlessAbsenceStateTree(ReferenceStateTree):
    tree_class = _tree_adapter(NeighbourlessAbsenceTree)


class FirstWriteWinsImplementation(ReferenceImplementation):
    """The reference with :class:`FirstWriteWinsTree` behind ``state-tree``."""

    name = "mutant-first-write-wins"

    def make_state_tree(self) -> object:
        return _FirstWriteWinsStateTree()


class NeighbourlessAbsenceImplementation(ReferenceImplementation):
    """The reference with :class:`NeighbourlessAbsenceTree` behind ``state-tree``."""

    name = "mutant-neighbourless-absence"

    def make_state_tree(self) -> object:
        return _NeighbourlessAbsenceStateTree()


# --------------------------------------------------------------------------- state store


class ReopenAtFirstHeight(StateStore):
    """Defect: reopening loads the FIRST committed height as the latest (ORDER BY ... ASC), so
    a restarted node forgets everything after genesis (breaks R5.4)."""

    def _load_latest(self) -> CommittedHeight | None:
        row = self._db.execute(
            "SELECT height, root FROM heights ORDER BY height LIMIT 1"
        ).fetchone()
        return None if row is None else CommittedHeight(row[0], bytes(row[1]))


class StaleLatestView(StateStore):
    """Defect: the read view of the latest height is built once and reused, so reads after a
    commit still see the state it was built on (a cache never invalidated; breaks R3.6)."""

    _latest_view: StateTree | None = None

    def tree(self, height: int | None = None) -> StateTree:
        if height is not None:
            return super().tree(height)
        if self._latest_view is None:
            self._latest_view = super().tree()
        return self._latest_view


def _store_adapter(store_class: type[StateStore]) -> type[ReferenceStateStore]:
    class MutantObject(ReferenceStoreObject):
        def __init__(self, path: str) -> None:
            self.store = store_class(path)

    class MutantStateStore(ReferenceStateStore):
        def open(self, path: str) -> ReferenceStoreObject:
            return MutantObject(path)

    return MutantStateStore


class ReopenAtFirstHeightImplementation(ReferenceImplementation):
    """The reference with :class:`ReopenAtFirstHeight` behind ``state-store``."""

    name = "mutant-reopen-at-first-height"

    def make_state_store(self) -> object:
        return _store_adapter(ReopenAtFirstHeight)()


class StaleLatestViewImplementation(ReferenceImplementation):
    """The reference with :class:`StaleLatestView` behind ``state-store``."""

    name = "mutant-stale-latest-view"

    def make_state_store(self) -> object:
        return _store_adapter(StaleLatestView)()


# --------------------------------------------------------------------------- mempool


class ArrivalOrderMempool(Mempool):
    """Defect: blocks are built first come, first served, ignoring difficulty (breaks R6.3)."""

    def select_for_block(self, max_proofs: int, *, transfers_only: bool = False) -> BlockContents:
        ranked = self._order
        self._order = sorted(ranked, key=lambda rank: (rank[1], rank[2]))
        try:
            return super().select_for_block(max_proofs, transfers_only=transfers_only)
        finally:
            self._order = ranked


class DoubleSpendKeepsFirst(Mempool):
    """Defect: a second transfer with a pending nonce is refused, but the first one stays
    pending (R7.1 requires rejecting both, since either may be the honest one)."""

    def add_transaction(self, tx: Transfer, account: Account) -> PendingProof:
        chain = self._by_sender.get(tx.sender, {})
        pending = chain.get(tx.nonce)
        if tx.is_signature_valid() and pending is not None and pending != tx.transaction_id:
            error: ProtocolViolation = TransactionRejected(
                "R7.1", f"nonce {tx.nonce} is already pending; refusing the newcomer only"
            )
            raise self._reject(error, "transfer")
        return super().add_transaction(tx, account)


def _mempool_adapter(mempool_class: type[Mempool]) -> ReferenceMempool:
    class MutantObject(ReferenceMempoolObject):
        def __init__(self, capacity: int | None, judge_seed: Hex) -> None:
            judge = Judge(KeyPair.from_seed(parse_hex(judge_seed, length=32)))
            if capacity is None:
                self.pool = mempool_class(judge=judge)
            else:
                self.pool = mempool_class(judge=judge, capacity=capacity)

    class MutantMempool(ReferenceMempool):
        def new(self, capacity: int | None, judge_seed: Hex) -> ReferenceMempoolObject:
            return MutantObject(capacity, judge_seed)

    return MutantMempool()


class ArrivalOrderImplementation(ReferenceImplementation):
    """The reference with :class:`ArrivalOrderMempool` behind ``mempool``."""

    name = "mutant-arrival-order"

    def make_mempool(self) -> object:
        return _mempool_adapter(ArrivalOrderMempool)


class DoubleSpendKeepsFirstImplementation(ReferenceImplementation):
    """The reference with :class:`DoubleSpendKeepsFirst` behind ``mempool``."""

    name = "mutant-double-spend-keeps-first"

    def make_mempool(self) -> object:
        return _mempool_adapter(DoubleSpendKeepsFirst)


# --------------------------------------------------------------------------- verifier


class SignatureBlindCache(ResultCache):
    """Defect: the cache is keyed by proof id alone, so a proof with a forged signature
    inherits the result of the genuine one (the id does not cover the signature)."""

    def get(self, proof: SmtProof) -> VerificationResult | None:
        with self._lock:
            entry = self._entries.get(proof.proof_id)
            if entry is None:
                self._misses += 1
                return None
            self._entries.move_to_end(proof.proof_id)
            self._hits += 1
            return entry[1]


#: One context for every proof: the first design (ARCHITECTURE.md, "Proofs and the verifier").
_SHARED_CONTEXT = z3.Context()


def verify_in_shared_context(proof: SmtProof) -> VerificationResult:
    """Defect: effort measured with a fresh solver in one long-lived context.

    Z3 numbers terms per context and orders them by number, so the effort of a proof depends on
    what the context solved before: two honest nodes disagree on difficulty and rewards.
    """
    result = verify_proof(proof)
    if result.solver_outcome is None:
        return result
    solver = z3.SimpleSolver(ctx=_SHARED_CONTEXT)
    solver.set("rlimit", proof.budget)
    solver.from_string(proof.smt)
    before = _rlimit(solver)
    solver.check()
    effort = _rlimit(solver) - before
    difficulty = compute_difficulty(effort, proof.size) if result.verdict is Verdict.VALID else 0
    return dataclasses.replace(result, effort=effort, difficulty=difficulty)


def _rlimit(solver: z3.Solver) -> int:
    stats = solver.statistics()
    return int(stats.get_key_value("rlimit count")) if "rlimit count" in stats.keys() else 0  # noqa: SIM118 (z3 Statistics has no __contains__)


class _SignatureBlindObject(ReferenceVerifierObject):
    def __init__(self) -> None:
        self.verifier = Verifier(cache=SignatureBlindCache())


class _SignatureBlindVerifier(ReferenceVerifier):
    def new(self) -> ReferenceVerifierObject:
        return _SignatureBlindObject()


class SignatureBlindImplementation(ReferenceImplementation):
    """The reference with :class:`SignatureBlindCache` in every verifier."""

    name = "mutant-signature-blind-cache"

    def make_verifier(self) -> object:
        return _SignatureBlindVerifier()


class _SharedContextObject(ReferenceVerifierObject):
    def __init__(self) -> None:
        self.verifier = Verifier()

    def verify(self, proof: JSON) -> JSON:
        parsed = proof_from_json(proof)
        cached = self.verifier.cache.get(parsed)
        if cached is None:
            cached = verify_in_shared_context(parsed)
            self.verifier.cache.put(parsed, cached)
        return result_to_json(cached)


class _SharedContextVerifier(ReferenceVerifier):
    def verify_proof(self, proof: JSON) -> JSON:
        return result_to_json(verify_in_shared_context(proof_from_json(proof)))

    def new(self) -> ReferenceVerifierObject:
        return _SharedContextObject()


class SharedContextImplementation(ReferenceImplementation):
    """The reference measuring effort with :func:`verify_in_shared_context`."""

    name = "mutant-shared-solver-context"

    def make_verifier(self) -> object:
        return _SharedContextVerifier()


# --------------------------------------------------------------------------- replica


class QuorumWithoutPlusOne(Replica):
    """Defect: the quorum is floor(2W/3) stake, without the + 1 (breaks R2.3, I2).

    Every validator set the replica adopts (at start, after slashing) gets the short quorum.
    """

    @property
    def validators(self) -> ValidatorSet:
        return self._short_quorum_set

    @validators.setter
    def validators(self, value: ValidatorSet) -> None:
        self._short_quorum_set = dataclasses.replace(value, quorum=2 * value.total_stake // 3)


class NoViewChangeOnTimeout(Replica):
    """Defect: an expired view timer is ignored instead of starting a view change (R2.6).

    A proposal lost in the network, or a silent leader, then stalls the height for good.
    """

    def on_timer(self, timer: Timer, now: int) -> list[Output]:
        if timer.kind == "view":
            self._now = now
            return self._flush()
        return super().on_timer(timer, now)


class _QuorumWithoutPlusOneObject(ReferenceReplicaObject):
    replica_class = QuorumWithoutPlusOne


class _QuorumWithoutPlusOneReplica(ReferenceReplica):
    object_class = _QuorumWithoutPlusOneObject


class QuorumWithoutPlusOneImplementation(ReferenceImplementation):
    """The reference with :class:`QuorumWithoutPlusOne` behind ``replica``."""

    name = "mutant-quorum-without-plus-one"

    def make_replica(self) -> object:
        return _QuorumWithoutPlusOneReplica()


class _NoViewChangeOnTimeoutObject(ReferenceReplicaObject):
    replica_class = NoViewChangeOnTimeout


class _NoViewChangeOnTimeoutReplica(ReferenceReplica):
    object_class = _NoViewChangeOnTimeoutObject


class NoViewChangeOnTimeoutImplementation(ReferenceImplementation):
    """The reference with :class:`NoViewChangeOnTimeout` behind ``replica``."""

    name = "mutant-no-view-change-on-timeout"

    def make_replica(self) -> object:
        return _NoViewChangeOnTimeoutReplica()


MUTANTS = [
    Mutant(
        "tree-first-write-wins",
        "a batch keeps the first write to a key instead of the last",
        ("I4",),
        ("state-tree",),
        FirstWriteWinsImplementation,
    ),
    Mutant(
        "tree-neighbourless-absence",
        "an absence proof leaves out the other leaf on the key's path",
        ("E9",),
        ("state-tree",),
        NeighbourlessAbsenceImplementation,
    ),
    Mutant(
        "store-reopen-at-first-height",
        "a reopened store loads its first committed height as the latest",
        ("R5.4",),
        ("state-store",),
        ReopenAtFirstHeightImplementation,
    ),
    Mutant(
        "store-stale-latest-view",
        "reads of the latest state come from a view built once and never refreshed",
        ("R3.6",),
        ("state-store",),
        StaleLatestViewImplementation,
    ),
    Mutant(
        "mempool-arrival-order",
        "blocks are built in arrival order, ignoring difficulty",
        ("R6.3",),
        ("mempool",),
        ArrivalOrderImplementation,
    ),
    Mutant(
        "mempool-double-spend-keeps-first",
        "of two transfers with one pending nonce only the newcomer is refused",
        ("R7.1",),
        ("mempool",),
        DoubleSpendKeepsFirstImplementation,
    ),
    Mutant(
        "verifier-signature-blind-cache",
        "the result cache is keyed by proof id alone (a forged signature hits the cache)",
        ("R7.5",),
        ("verifier",),
        SignatureBlindImplementation,
    ),
    Mutant(
        "verifier-shared-solver-context",
        "effort is measured in one long-lived Z3 context (depends on what it solved before)",
        ("R1.4",),
        ("verifier",),
        SharedContextImplementation,
    ),
    Mutant(
        "replica-quorum-without-plus-one",
        "the quorum is floor(2W/3) stake, without the + 1",
        ("R2.3",),
        ("replica",),
        QuorumWithoutPlusOneImplementation,
    ),
    Mutant(
        "replica-no-view-change-on-timeout",
        "an expired view timer is ignored instead of starting a view change",
        ("R2.6",),
        ("replica",),
        NoViewChangeOnTimeoutImplementation,
    ),
]
