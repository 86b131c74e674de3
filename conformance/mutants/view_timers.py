"""Mutants of a replica's view timers (R2.6, R6.5; spec/consensus.md, "View change": only the
established view's own timer times it out; a timer set before it does nothing when it fires;
R2.6: the timeout doubles with each further view of the same height).

A shell cannot cancel a timer, so every timer a replica set fires in the end. The first two are
replicas written as if timers were cancelled:

* ``superseded-timer-honoured``: a view timer naming the current height and view times the view
  out whenever it fires, so a re-send timer set while the validator waited for the view times the
  established view out half a view early;
* ``any-view-timer-times-out``: any view timer times the current view out, whatever height and
  view it was set for.

Both are caught by suite/test_consensus.py::test_timeouts_follow_latency_above_500_ms (a mixed
cluster whose view changes come early). A direct case (a re-send timer firing after a NEW-VIEW
established the view) was written for them in 71ad9a6 and removed: selftest showed it caught
nothing that case does not.

* ``backoff-carried-to-the-next-height``: the backoff counts every view change since the replica
  started, as a global view number would (classic PBFT's views do not restart per request), so
  after a view change the next height's view 0 waits twice as long. Caught by
  suite/test_replica_rules.py::test_the_backoff_starts_again_at_the_next_height.
* ``backoff-uncapped``: the view timer doubles with every view without the cap of 64 times the
  first (R2.6), although the replica's timeout command caps it: the timer and the command are
  two code paths. Caught by test_replica_rules.py::test_replica_view_timers_double_per_view
  (views 7 and 8).
"""

from __future__ import annotations

from aethel.consensus.events import Output, Timer
from aethel.consensus.replica import Replica
from aethel.consensus.timeouts import compute_timeout
from conformance.mutants import Mutant, replica_implementation


class MatchedByName(Replica):
    """Defect: a timer of the current height and view is never superseded."""

    def _timer_superseded(self) -> bool:
        return False


class AnyViewTimer(MatchedByName):
    """Defect: every view timer is taken for the current view's."""

    def on_timer(self, timer: Timer, now: int) -> list[Output]:
        if timer.kind == "view":
            timer = Timer(self.height, self.view, "view")
        return super().on_timer(timer, now)


class GlobalBackoff(Replica):
    """Defect: the backoff exponent is the number of views entered since the start."""

    _views_before = 0

    def _open_height(self) -> None:
        self._views_before += self.view  # the closing height's last view
        super()._open_height()

    def _arm_view_timer(self) -> None:
        backoff = self.view + self._views_before
        self._set_view_timer(self._now + compute_timeout(self.observed_latency(), backoff))


class UncappedTimers(Replica):
    """Defect: the established view's timer is max(4 s, 4 x latency) x 2^view, uncapped."""

    def _arm_view_timer(self) -> None:
        base = compute_timeout(self.observed_latency(), 0)
        self._set_view_timer(self._now + base * 2**self.view)


Superseded = replica_implementation("Superseded", __name__, replica_class=MatchedByName)
AnyTimer = replica_implementation("AnyTimer", __name__, replica_class=AnyViewTimer)
Global = replica_implementation("Global", __name__, replica_class=GlobalBackoff)
Uncapped = replica_implementation("Uncapped", __name__, replica_class=UncappedTimers)

MUTANTS = [
    Mutant(
        "superseded-timer-honoured",
        "a view timer of the current height and view times the view out even after a later "
        "timer replaced it (a re-send timer times the established view out early)",
        ("R2.6", "R6.5"),
        ("replica",),
        Superseded,
    ),
    Mutant(
        "any-view-timer-times-out",
        "any view timer times the current view out, whatever height and view it was set for",
        ("R2.6", "R6.5"),
        ("replica",),
        AnyTimer,
    ),
    Mutant(
        "backoff-carried-to-the-next-height",
        "the view timeout's backoff counts every view change since the start, not the views of "
        "the height: after one, the next height's view 0 waits twice its timeout",
        ("R2.6", "R6.5"),
        ("replica",),
        Global,
    ),
    Mutant(
        name="backoff-uncapped",
        defect="a replica's view timer doubles with every view without the cap of 64 times the "
        "first",
        breaks=("R2.6",),
        capabilities=("replica",),
        build=Uncapped,
    ),
]
