"""The reference monitoring (aethel.monitoring) behind the ``monitoring`` capability.

A reference replica object keeps an :class:`~aethel.monitoring.node.NodeMonitor` fed with the
messages it receives and the outputs it returns (as any node shell would); ``monitoring.metrics``
on the replica's handle reads it through :func:`metrics_json`. The accuracy rule (R8.3) is the
reference's :class:`~aethel.monitoring.accuracy.AccuracyTracker`.
"""

from __future__ import annotations

from aethel.monitoring.accuracy import AccuracyTracker
from aethel.monitoring.node import NodeMonitor
from conformance.adapters.api import JSON
from conformance.adapters.errors import Rejected
from conformance.adapters.reference_errors import rejecting


def metrics_json(monitor: NodeMonitor, view: int) -> JSON:
    """Return the node's monitoring view in the form of ``monitoring.metrics``."""
    health = monitor.get_health()
    return {
        "heights": [
            {
                "height": r.height,
                "view": r.view,
                "duration_ns": r.duration_ns,
                "participants": r.participants,
                "proof_count": r.proof_count,
                "total_difficulty": r.total_difficulty,
            }
            for r in monitor.records
        ],
        "rewards": monitor.rewards,
        "health": {
            "height": health.height,
            "view": view,
            "active_validators": health.active_validators,
            "consensus_latency_ns": list(health.consensus_latency_ns),
            "proof_throughput_per_s": health.proof_throughput_per_s,
        },
        "exposition": monitor.metrics.exposition().decode("utf-8"),
    }


def accuracy_json(monitor: NodeMonitor) -> JSON:
    """Return the node's live accuracy in the form of ``live-accuracy.accuracy`` (R8.3, R8.6)."""
    tracker = monitor.metrics.accuracy_tracker
    return {
        "windows": {
            validator: {"correct": correct, "verdicts": verdicts}
            for validator, (correct, verdicts) in sorted(tracker.windows().items())
        },
        "alerts": [
            {"validator": a.validator, "correct": a.correct, "verdicts": a.claims}
            for a in tracker.open_alerts()
        ],
    }


class ReferenceLiveAccuracy:
    """Capability ``live-accuracy`` of the reference: its one command, ``accuracy``, runs on a
    replica's handle (:meth:`ReferenceReplicaObject.accuracy`)."""


class ReferenceMonitoring:
    """Capability ``monitoring`` of the reference: the accuracy rule (node views: on replicas)."""

    @rejecting
    def accuracy_alerts(self, verdicts: list[JSON]) -> list[JSON]:
        if not isinstance(verdicts, list):
            raise Rejected("verdicts must be a list")
        parsed = []
        for item in verdicts:
            if (
                not isinstance(item, dict)
                or set(item) != {"validator", "correct"}
                or not isinstance(item["validator"], str)
                or type(item["correct"]) is not bool
            ):
                raise Rejected(
                    f"a verdict is {{validator: str, correct: bool}}, got {item!r}"[:200]
                )
            parsed.append((item["validator"], item["correct"]))
        tracker = AccuracyTracker()  # the reference's rule: window 100, no alert before 20
        alerts: list[JSON] = []
        for index, (validator, correct) in enumerate(parsed):
            alert = tracker.record(validator, correct)
            if alert is not None:
                alerts.append(
                    {
                        "index": index,
                        "validator": alert.validator,
                        "correct": alert.correct,
                        "verdicts": alert.claims,
                    }
                )
        return alerts
