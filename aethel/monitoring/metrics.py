"""Prometheus metrics of one node: per-height metrics, mempool, rewards, accuracy, evidence.

Spec: R8.1 (each finalized height emits duration, participants, proof count, total difficulty),
R8.2 (mempool size and processing rate readable at any time), R8.3 (accuracy alerts), R8.4
(cumulative rewards per validator), R8.5 (Byzantine behaviour logged with evidence).

Each node gets its own ``CollectorRegistry`` (so thousands of simulated nodes do not collide);
:meth:`NodeMetrics.exposition` returns the Prometheus text format that a ``/metrics`` endpoint
would serve (``prometheus_client.generate_latest``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from aethel.consensus.events import Committed, EvidenceFound
from aethel.monitoring.accuracy import ACCURACY_WINDOW, AccuracyAlert, AccuracyTracker
from aethel.monitoring.rewards import RewardTracker

#: Buckets of height duration in seconds (R6.1 / R6.2 thresholds are 10 s and 30 s).
DURATION_BUCKETS = (0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0, 30.0, 60.0)


@dataclass(frozen=True, slots=True)
class HeightMetrics:
    """The metrics one finalized height emits (R8.1)."""

    height: int
    view: int
    duration_s: float
    participants: int
    proof_count: int
    total_difficulty: int


class NodeMetrics:
    """The metrics of one node, in its own Prometheus registry."""

    def __init__(self, node: str, *, accuracy_window: int = ACCURACY_WINDOW) -> None:
        self.node = node
        self.registry = CollectorRegistry()
        r = self.registry
        self.heights_total = Counter(
            "aethel_heights_committed", "Heights this node committed", registry=r
        )
        self.height = Gauge("aethel_height", "Latest committed height", registry=r)
        self.duration = Histogram(
            "aethel_height_duration_seconds",
            "Virtual time from the first proposal a node saw to its commit (R8.1)",
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.last_duration = Gauge(
            "aethel_last_height_duration_seconds", "Duration of the latest height", registry=r
        )
        self.participants = Gauge(
            "aethel_height_participants", "Validators in the latest commit certificate", registry=r
        )
        self.proofs = Gauge("aethel_height_proofs", "Proofs in the latest block", registry=r)
        self.difficulty = Gauge(
            "aethel_height_total_difficulty", "Total difficulty of the latest block", registry=r
        )
        self.proofs_total = Counter("aethel_proofs_committed", "Proofs committed", registry=r)
        self.mempool_size = Gauge("aethel_mempool_size", "Pending proofs (R8.2)", registry=r)
        self.mempool_rate = Gauge(
            "aethel_mempool_processing_rate", "Admission decisions per second (R8.2)", registry=r
        )
        self.rewards = Counter(
            "aethel_validator_rewards",
            "Cumulative rewards per validator, base units (R8.4)",
            ["validator"],
            registry=r,
        )
        self.accuracy = Gauge(
            "aethel_validator_accuracy",
            "Verification accuracy over the sliding window (R8.3)",
            ["validator"],
            registry=r,
        )
        self.accuracy_verdicts = Gauge(
            "aethel_accuracy_verdicts",
            "Verification verdicts in the validator's accuracy window (R8.3)",
            ["validator"],
            registry=r,
        )
        self.alerts = Counter(
            "aethel_accuracy_alerts",
            "Alerts raised for accuracy below 95% (R8.3)",
            ["validator"],
            registry=r,
        )
        self.alerts_open = Gauge(
            "aethel_accuracy_alerts_open", "Accuracy alerts open now (R8.3)", registry=r
        )
        self.evidence = Counter(
            "aethel_byzantine_evidence", "Evidence recorded (R8.5)", ["offence"], registry=r
        )
        self.history: list[HeightMetrics] = []
        self.reward_tracker = RewardTracker()
        self.accuracy_tracker = AccuracyTracker(window=accuracy_window)

    def on_commit(self, committed: Committed) -> HeightMetrics:
        """Record the metrics of a finalized height (R8.1) and its rewards (R8.4)."""
        execution = committed.execution
        record = HeightMetrics(
            height=committed.height,
            view=committed.view,
            duration_s=(committed.now - committed.started) / 1e9,
            participants=committed.certificate.signer_count,
            proof_count=execution.proof_count,
            total_difficulty=execution.total_difficulty,
        )
        self.history.append(record)
        self.heights_total.inc()
        self.height.set(record.height)
        self.duration.observe(record.duration_s)
        self.last_duration.set(record.duration_s)
        self.participants.set(record.participants)
        self.proofs.set(record.proof_count)
        self.difficulty.set(record.total_difficulty)
        self.proofs_total.inc(record.proof_count)
        for validator, amount in self.reward_tracker.record(committed.height, execution.rewards):
            if amount:
                self.rewards.labels(validator=validator).inc(amount)
        return record

    def on_evidence(self, found: EvidenceFound) -> None:
        """Count recorded evidence by offence (R8.5)."""
        self.evidence.labels(offence=found.offence).inc()

    def observe_mempool(self, size: int, processing_rate: float) -> None:
        """Publish the mempool's size and processing rate (R8.2)."""
        self.mempool_size.set(size)
        self.mempool_rate.set(processing_rate)

    def follow_mempool(self, size: Callable[[], float], rate: Callable[[], float]) -> None:
        """Read the mempool's size and rate at every scrape (R8.2: readable at any time)."""
        self.mempool_size.set_function(size)
        self.mempool_rate.set_function(rate)

    def observe_claim(self, validator: str, correct: bool) -> AccuracyAlert | None:
        """Record one verification claim of ``validator``; return an alert if one fires (R8.3)."""
        alert = self.accuracy_tracker.record(validator, correct)
        accuracy = self.accuracy_tracker.accuracy(validator)
        if accuracy is not None:
            self.accuracy.labels(validator=validator).set(accuracy)
        self.accuracy_verdicts.labels(validator=validator).set(
            self.accuracy_tracker.verdicts(validator)
        )
        if alert is not None:
            self.alerts.labels(validator=validator).inc()
        self.alerts_open.set(len(self.accuracy_tracker.open_alerts()))
        return alert

    def exposition(self) -> bytes:
        """Return the Prometheus text exposition of this node's metrics."""
        return generate_latest(self.registry)
