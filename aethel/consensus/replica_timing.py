"""Latency samples of a replica and the timeout of its current view (R2.6, R6.5).

A vote's round trip to its certificate is a latency sample; the view timeout is
:func:`aethel.consensus.timeouts.compute_timeout` of the largest recent sample, with backoff per
view. Setting and handling the timers is in :mod:`aethel.consensus.viewchange` and
:meth:`aethel.consensus.replica_base.ReplicaBase.on_timer`.
"""

from __future__ import annotations

from aethel.consensus.replica_state import ReplicaState
from aethel.consensus.timeouts import compute_timeout


class LatencyTracker(ReplicaState):
    """Estimate the network latency and the view timeout from it (Spec: R2.6, R6.5)."""

    def observed_latency(self) -> int:
        """Return the observed one-way latency estimate in ns (max of recent samples, R6.5)."""
        return max(self._latency, default=0)

    def current_timeout(self) -> int:
        """Return the timeout of the current view (R2.6, R6.5)."""
        return compute_timeout(self.observed_latency(), self.view)

    def _sample_latency(self, view: int, kind: str) -> None:
        """Record half the round trip from a vote to its certificate as a latency sample.

        A round trip longer than the view's timeout measured a failure (a partition, a view
        change), not the network: it is ignored, or timeouts would grow without bound (R6.5).
        """
        sent = self._vote_sent_at.get((view, kind))
        if sent is not None:
            round_trip = self._now - sent
            if round_trip < compute_timeout(self.observed_latency(), view):
                self._latency.append(round_trip // 2)
