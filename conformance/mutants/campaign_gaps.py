"""Mutants for the gaps the mechanical campaign's sample (60 mutants, seed 7) found: each is the
way an outsider's implementation could get the behaviour wrong, caught by the case written for
the mechanical survivor (reports/selftest/triage-sample60-seed7.md).

* ``mempool-select-zero-refused``: a listing limit below 1 is refused as a bad request (spec/
  proofs.md: "n of 0 lists nothing"); caught by suite/test_mempool_select_limit.py.
* ``sync-one-part-refused``: a sync of prefix length 0 (one part) is refused, as if a split needed
  two parts (spec/sync.md: "d from 0 to 16"); caught by suite/test_sync_prefix_lengths.py.
* ``store-bond-as-unbond``: ``bond`` and ``unbond`` swapped (bond moves the amount from the stake
  to the balance); caught by suite/test_state_staking.py.
* ``replica-counts-blocks-as-proofs``: ``proofs_checked`` counts the blocks validated, so an empty
  block counts one proof (T22.2e); caught by suite/test_replica_counters.py.
"""

from __future__ import annotations

from typing import Any

from conformance.adapters.api import JSON, Hex
from conformance.adapters.errors import Rejected
from conformance.adapters.reference import ReferenceImplementation
from conformance.adapters.reference_errors import rejecting
from conformance.adapters.reference_proofs import ReferenceMempool, ReferenceMempoolObject
from conformance.adapters.reference_replica import ReferenceReplica, ReferenceReplicaObject
from conformance.adapters.reference_state import ReferenceStateStore, ReferenceStoreObject
from conformance.adapters.reference_sync import ReferenceSync
from conformance.mutants import Mutant

# ----------------------------------------------------------------------------- mempool


class ZeroLimitRefusedPoolObject(ReferenceMempoolObject):
    """Defect: ``select_for_block(0)`` is refused: a block "holds at least one proof"."""

    @rejecting
    def select_for_block(self, max_proofs: int) -> JSON:
        if type(max_proofs) is int and max_proofs < 1:
            raise Rejected(f"a block holds at least one proof, got a limit of {max_proofs}", "R6.3")
        return super().select_for_block(max_proofs)


class ZeroLimitRefusedPool(ReferenceMempool):
    @rejecting
    def new(self, capacity: int | None, judge_seed: Hex) -> ReferenceMempoolObject:
        return ZeroLimitRefusedPoolObject(capacity, judge_seed)


class ZeroLimitRefusedImplementation(ReferenceImplementation):
    name = "mutant-mempool-select-zero-refused"

    def make_mempool(self) -> object:
        return ZeroLimitRefusedPool()


# ----------------------------------------------------------------------------- sync


class OnePartRefusedSync(ReferenceSync):
    """Defect: a prefix length of 0 is refused (the split is taken to need two parts)."""

    @rejecting
    def new(self, root: Hex, prefix_bits: int, peers: list[str]) -> Any:
        if prefix_bits == 0:
            raise Rejected("prefix_bits must be 1 to 16: a snapshot is split in parts", "R3.1")
        return super().new(root, prefix_bits, peers)


class OnePartRefusedImplementation(ReferenceImplementation):
    name = "mutant-sync-one-part-refused"

    def make_sync(self) -> object:
        return OnePartRefusedSync()


# ----------------------------------------------------------------------------- state store

_SWAPPED = {"bond": "unbond", "unbond": "bond"}


class BondAsUnbondStoreObject(ReferenceStoreObject):
    """Defect: ``bond`` and ``unbond`` are swapped (their members are the same three)."""

    @rejecting
    def commit_transition(self, height: int, operations: list[JSON]) -> JSON:
        swapped: list[JSON] = [
            {**op, "op": _SWAPPED[op["op"]]}
            if isinstance(op, dict) and op.get("op") in _SWAPPED
            else op
            for op in operations
        ]
        return super().commit_transition(height, swapped)


class BondAsUnbondStore(ReferenceStateStore):
    @rejecting
    def open(self, path: str) -> ReferenceStoreObject:
        return BondAsUnbondStoreObject(path)


class BondAsUnbondImplementation(ReferenceImplementation):
    name = "mutant-store-bond-as-unbond"

    def make_state_store(self) -> object:
        return BondAsUnbondStore()


# ----------------------------------------------------------------------------- replica


class BlocksAsProofsReplicaObject(ReferenceReplicaObject):
    """Defect: the ``proofs_checked`` counter reports the blocks validated."""

    def get_performance_stats(self) -> JSON:
        stats = dict(self.replica.get_performance_stats())
        stats["proofs_checked"] = stats.get("blocks_validated", 0)
        return stats


class BlocksAsProofsReplica(ReferenceReplica):
    object_class = BlocksAsProofsReplicaObject


class BlocksAsProofsImplementation(ReferenceImplementation):
    name = "mutant-replica-counts-blocks-as-proofs"

    def make_replica(self) -> object:
        return BlocksAsProofsReplica()


MUTANTS = [
    Mutant(
        name="mempool-select-zero-refused",
        defect="select_for_block(0) is refused instead of listing nothing",
        breaks=("R6.3",),
        capabilities=("mempool",),
        build=ZeroLimitRefusedImplementation,
    ),
    Mutant(
        name="sync-one-part-refused",
        defect="a sync of prefix length 0 (one part) is refused",
        breaks=("R3.1",),
        capabilities=("sync",),
        build=OnePartRefusedImplementation,
    ),
    Mutant(
        name="store-bond-as-unbond",
        defect="bond and unbond are swapped: bond moves the amount from the stake to the balance",
        breaks=("R3.6",),
        capabilities=("state-store",),
        build=BondAsUnbondImplementation,
    ),
    Mutant(
        name="replica-counts-blocks-as-proofs",
        defect="proofs_checked counts the blocks validated, so an empty block counts one proof",
        breaks=("T22.2e",),
        capabilities=("replica",),
        build=BlocksAsProofsImplementation,
    ),
]
