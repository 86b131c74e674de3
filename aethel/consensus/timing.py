"""The replica's clock work: latency samples, and the view timers it arms from them.

Owns: no rule; it applies the timeout rule of :mod:`aethel.consensus.timeouts` (backoff per
view, never below 4 times the observed latency) to the timers of the current view.

A vote's round trip to its certificate is a latency sample, the observed latency the largest of
the recent ones; the timer of an established view is ``compute_timeout(latency, view)``, and the
re-send timer of a view still waiting ``compute_timeout(latency, 0)``. When a timer fires and what
it does is view change's (:mod:`aethel.consensus.viewchange`).
"""

from __future__ import annotations

from aethel.consensus.events import SetTimer, Timer
from aethel.consensus.replica_core import ReplicaCore
from aethel.consensus.timeouts import compute_timeout


class TimingRules(ReplicaCore):
    """Estimate the network latency and arm the view timers from it (see the module docstring)."""

    def observed_latency(self) -> int:
        """Return the observed one-way latency estimate in ns (max of recent samples)."""
        return max(self._latency, default=0)

    def current_timeout(self) -> int:
        """Return the timeout of the current view."""
        return compute_timeout(self.observed_latency(), self.view)

    def _sample_latency(self, view: int, kind: str) -> None:
        """Record half the round trip from a vote to its certificate as a latency sample.

        A round trip longer than the view's timeout measured a failure (a partition, a view
        change), not the network: it is ignored, or timeouts would grow without bound.
        """
        sent = self.current.vote_sent_at.get((view, kind))
        if sent is not None:
            round_trip = self._now - sent
            if round_trip < compute_timeout(self.observed_latency(), view):
                self._latency.append(round_trip // 2)

    def _arm_view_timer(self) -> None:
        """Start the current view's timer: it fires after the view's timeout."""
        self._set_view_timer(self._now + compute_timeout(self.observed_latency(), self.view))

    def _arm_resend_timer(self) -> None:
        """Set the timer at which a waiting replica re-sends its VIEW-CHANGE.

        The interval is the view-0 timeout, ``compute_timeout(latency, 0)``: a retransmission
        waits for the network, not for the backoff, which gives established views time to
        finish. A view waited for since before GST is established within this interval plus a
        message delay after GST, whatever the view.
        """
        self._set_view_timer(self._now + compute_timeout(self.observed_latency(), 0))

    def _set_view_timer(self, deadline: int) -> None:
        self.current.view_deadline = deadline
        self._out.append(SetTimer(Timer(self.height, self.view), deadline))

    def _timer_superseded(self) -> bool:
        """Return True if the view timer firing now was replaced by a later one."""
        return self._now < self.current.view_deadline
