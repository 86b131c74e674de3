"""The state of a node: layout and transitions, the persistent versioned store, snapshots, sync.

Spec: R3.1, R3.5, R3.6, R4.2, R4.7, R5.4, R7.1, N5. Start with :class:`StateStore` (persistence
and transitions), :mod:`aethel.state.layout` (the keys), and :mod:`aethel.state.sync` (fast sync
from peers).
"""

from aethel.state.audit import SupplyAudit, compute_supply_audit
from aethel.state.errors import SyncError, TransitionError
from aethel.state.snapshot import (
    Manifest,
    build_chunk,
    build_manifest,
    parse_manifest,
    verify_chunk,
)
from aethel.state.store import (
    CommittedHeight,
    StagedHeight,
    StateStore,
    StoreCorrupted,
    StoreLocked,
)
from aethel.state.sync import (
    InProcessPeer,
    Rejection,
    SnapshotPeer,
    SyncProgress,
    SyncResult,
    run_sync,
    sync_state,
)
from aethel.state.transitions import (
    Bond,
    Genesis,
    Operation,
    Reward,
    SetMeta,
    Slash,
    TransferOperation,
    Transition,
    TransitionOutcome,
    Unbond,
    compute_genesis,
    compute_transition,
)

__all__ = [
    "Bond",
    "CommittedHeight",
    "Genesis",
    "InProcessPeer",
    "Manifest",
    "Operation",
    "Rejection",
    "Reward",
    "SetMeta",
    "Slash",
    "SnapshotPeer",
    "StagedHeight",
    "StateStore",
    "StoreCorrupted",
    "StoreLocked",
    "SupplyAudit",
    "SyncError",
    "SyncProgress",
    "SyncResult",
    "TransferOperation",
    "Transition",
    "TransitionError",
    "TransitionOutcome",
    "Unbond",
    "build_chunk",
    "build_manifest",
    "compute_genesis",
    "compute_supply_audit",
    "compute_transition",
    "parse_manifest",
    "run_sync",
    "sync_state",
    "verify_chunk",
]
