"""One node's monitoring: its metrics and its health view, fed by its replica's events.

Spec: R8.1 (per-height metrics), R8.4 (cumulative rewards), R8.5 (evidence counted), R8.6 (health
view). A node shell (the simulator, a network shell, the conformance adapter) hands the monitor
the messages its replica receives and the outputs it returns; the monitor keeps

* one :class:`HeightRecord` per committed height (duration in integer nanoseconds of the node's
  time, from the replica entering the height to its commit: ``Committed.now - started``);
* the node's Prometheus metrics (:class:`~aethel.monitoring.metrics.NodeMetrics`);
* the votes it saw: validly signed PREPAREs and COMMITs it received, and the COMMITs inside the
  certificates it committed with, by height.

The health view (:meth:`NodeMonitor.get_health`) follows spec/monitoring.md: a validator is
active when the node saw a vote from it in any of the last 10 committed heights; consensus
latency is the per-height duration over those heights; proof throughput is the proofs they
committed divided by the sum of their durations.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from aethel.consensus.events import Committed, EvidenceFound, Output
from aethel.consensus.messages import Commit, Message, Prepare
from aethel.consensus.signing import DirectSignatureChecker
from aethel.consensus.validators import ValidatorSet
from aethel.monitoring.metrics import NodeMetrics

#: The health view looks at this many of the latest committed heights (spec/monitoring.md).
HEALTH_HEIGHTS = 10


@dataclass(frozen=True, slots=True)
class HeightRecord:
    """The metrics one committed height emits at one node (R8.1)."""

    height: int
    view: int
    duration_ns: int
    participants: int
    proof_count: int
    total_difficulty: int


@dataclass(frozen=True, slots=True)
class HealthView:
    """What an operator sees first (R8.6)."""

    height: int
    active_validators: dict[str, int]
    consensus_latency_ns: tuple[int, ...]
    proof_throughput_per_s: float


class NodeMonitor:
    """The monitoring of one node, fed with its replica's messages and outputs."""

    def __init__(self, node: str, validators: ValidatorSet) -> None:
        self.node = node
        self.metrics = NodeMetrics(node)
        self.records: list[HeightRecord] = []
        self._keys = {member.id: member.public_key for member in validators.validators}
        self._stakes = {member.id: member.stake for member in validators.validators}
        self._voters: dict[int, set[str]] = {}
        self._checker = DirectSignatureChecker()

    def on_message(self, message: Message) -> None:
        """Note a vote the replica received, if it is validly signed by a member."""
        if isinstance(message, Prepare | Commit):
            key = self._keys.get(message.validator)
            if key is not None and self._checker.verify(key, message.payload, message.signature):
                self._voters.setdefault(message.height, set()).add(message.validator)

    def on_outputs(self, outputs: Iterable[Output]) -> None:
        """Record the commits and evidence among a replica's outputs."""
        for out in outputs:
            if isinstance(out, Committed):
                self.on_commit(out)
            elif isinstance(out, EvidenceFound):
                self.metrics.on_evidence(out)

    def on_commit(self, committed: Committed) -> HeightRecord:
        """Record a committed height (R8.1) and the rewards its transition paid (R8.4)."""
        self.metrics.on_commit(committed)
        execution = committed.execution
        record = HeightRecord(
            height=committed.height,
            view=committed.view,
            duration_ns=committed.now - committed.started,
            participants=len(committed.certificate.votes),
            proof_count=execution.proof_count,
            total_difficulty=execution.total_difficulty,
        )
        self.records.append(record)
        self._voters.setdefault(committed.height, set()).update(committed.certificate.members)
        self._stakes.update(execution.stakes)
        return record

    @property
    def rewards(self) -> dict[str, int]:
        """Return each validator's cumulative rewards since genesis (R8.4)."""
        return dict(sorted(self.metrics.reward_tracker.totals.items()))

    def get_health(self) -> HealthView:
        """Return the health view over the last :data:`HEALTH_HEIGHTS` committed heights."""
        recent = self.records[-HEALTH_HEIGHTS:]
        active: set[str] = set()
        for record in recent:
            active |= self._voters.get(record.height, set())
        total_ns = sum(r.duration_ns for r in recent)
        proofs = sum(r.proof_count for r in recent)
        return HealthView(
            height=self.records[-1].height if self.records else 0,
            active_validators={v: self._stakes.get(v, 0) for v in sorted(active)},
            consensus_latency_ns=tuple(r.duration_ns for r in recent),
            proof_throughput_per_s=proofs / (total_ns / 1e9) if total_ns > 0 else 0.0,
        )
