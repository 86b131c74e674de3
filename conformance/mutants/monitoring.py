"""Mutants of a node's monitoring."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aethel.consensus.events import Committed
from aethel.monitoring.node import HeightRecord, NodeMonitor
from conformance.adapters.reference import ReferenceImplementation
from conformance.adapters.reference_replica import ReferenceReplica, ReferenceReplicaObject
from conformance.mutants import Mutant


class NodeCountMonitor(NodeMonitor):
    """Defect: a height's participants are the validator set's size (the node count), not the
    members of its commit certificate."""

    def on_commit(self, committed: Committed) -> HeightRecord:
        record = replace(super().on_commit(committed), participants=len(self._stakes))
        self.records[-1] = record
        self.metrics.participants.set(record.participants)
        return record


class NodeCountReplicaObject(ReferenceReplicaObject):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.monitor = NodeCountMonitor(self.monitor.node, self.replica.validators)


class NodeCountReplica(ReferenceReplica):
    object_class = NodeCountReplicaObject


class NodeCountParticipantsImplementation(ReferenceImplementation):
    name = "mutant-participants-by-node-count"

    def make_replica(self) -> object:
        return NodeCountReplica()


MUTANTS = [
    Mutant(
        name="participants-by-node-count",
        defect="per-height metrics count participants as the validator set's size, not the "
        "members of the height's commit certificate",
        breaks=("R8.1", "P32"),
        capabilities=("monitoring",),
        build=NodeCountParticipantsImplementation,
    )
]
