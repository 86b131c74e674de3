"""The state of a node: layout and transitions, the persistent versioned store, snapshots, sync.

Spec: R3.1, R3.5, R3.6, R4.2, R4.7, R5.4, R7.1, N5. Start with :class:`StateStore` (persistence
and transitions), :mod:`aethel.state.layout` (the keys), and :mod:`aethel.state.sync` (fast sync
from peers).
"""

from aethel.state.audit import SupplyAudit, compute_supply_audit
from aethel.state.errors import SyncError, TransitionError
from aethel.state.store import CommittedHeight, StagedHeight, StateStore
from aethel.state.transitions import (
    Bond,
    Genesis,
    Operation,
    Reward,
    SetMeta,
    Slash,
    Transfer,
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
    "Operation",
    "Reward",
    "SetMeta",
    "Slash",
    "StagedHeight",
    "StateStore",
    "SupplyAudit",
    "SyncError",
    "Transfer",
    "Transition",
    "TransitionError",
    "TransitionOutcome",
    "Unbond",
    "compute_genesis",
    "compute_supply_audit",
    "compute_transition",
]
