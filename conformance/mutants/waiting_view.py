"""Mutants of a validator waiting for its view (R2.6, spec/consensus.md "View change": it
re-sends its VIEW-CHANGE every timeout(latency, 0), to every validator in collector mode, and
never moves on by itself).

Each is what an implementer carries over from classic PBFT or reads half of the paragraph for:

* ``waiting-view-moves-on``: a view change that times out moves the validator on to the next
  view (classic PBFT), so validators that time out at different moments chase each other
  through views. Caught by the consensus state machines' safety and liveness properties
  (suite/test_machines.py).
* ``view-change-resent-once``: the VIEW-CHANGE is retransmitted once, when the view's timer
  first runs out, and then the validator waits without a timer. Caught by the same machine
  properties.
* ``view-change-resent-at-the-views-backoff``: the re-send waits the view's own timeout
  (doubled per view), not the view-0 one. Caught by
  suite/test_waiting_view.py::test_a_waiting_validator_resends_at_the_view_0_pace.
* ``view-change-resent-to-the-leader-only``: the re-send goes to the view's leader alone; when
  that leader is silent, nobody learns that q(W) asks for the view. Caught by
  test_a_waiting_validator_resends_a_copy_to_every_validator, and by the crashed-leader case
  and the state machines, whose views then never change.
* ``view-change-copied-from-the-second-re-send``: in collector mode the first re-send goes to
  the leader alone (it may only have lost the first one) and the copies to everyone start at
  the second: a silent leader's view changes one re-send period later. Caught by
  test_a_waiting_validator_resends_a_copy_to_every_validator.
"""

from __future__ import annotations

from typing import Any

from aethel.consensus.events import Send
from aethel.consensus.phases import ViewEvent
from aethel.consensus.replica import Replica
from aethel.consensus.timeouts import compute_timeout
from conformance.mutants import Mutant, replica_implementation


class MovesOnReplica(Replica):
    """Defect: every timeout of the current view starts a view change to the next one,
    established or not (the reference's view table has no such row; the move is made as a
    join, which any view phase may take)."""

    def _on_view_timeout(self) -> None:
        if self._timer_superseded():
            return
        self._share_latest_commit()
        self.stats.timeouts += 1
        event = ViewEvent.TIMEOUT if self.current.established else ViewEvent.JOIN
        self._start_view_change(self.view + 1, event)


class ResentOnceReplica(Replica):
    """Defect: one retransmission per view; after it no timer is set."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retransmitted: set[tuple[int, int]] = set()

    def _arm_resend_timer(self) -> None:
        view = (self.height, self.view)
        if view not in self.retransmitted:
            self.retransmitted.add(view)
            super()._arm_resend_timer()


class ViewBackoffResendReplica(Replica):
    """Defect: the re-send timer is the view's timeout, timeout(latency, v)."""

    def _arm_resend_timer(self) -> None:
        self._set_view_timer(self._now + compute_timeout(self.observed_latency(), self.view))


class LeaderOnlyResendReplica(Replica):
    """Defect: a re-sent VIEW-CHANGE goes to the view's leader only."""

    def _resend_view_change(self) -> None:
        self.current.step_view(ViewEvent.RESEND, self.view)
        change = self.current.own_view_change
        leader = self._leader_id(self.view)
        if change is not None and change.view == self.view and leader != self.id:
            self.stats.view_change_resends += 1
            self._out.append(Send(leader, change))
        self._arm_resend_timer()


class CopiesLaterReplica(Replica):
    """Defect: the first re-send of a view goes to its leader only; copies to every validator
    start at the second."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.resent_once: set[tuple[int, int]] = set()

    def _resend_view_change(self) -> None:
        view = (self.height, self.view)
        change = self.current.own_view_change
        leader = self._leader_id(self.view)
        first = view not in self.resent_once and self.config.mode == "collector"
        if not first or change is None or change.view != self.view or leader == self.id:
            super()._resend_view_change()
            return
        self.resent_once.add(view)
        self.current.step_view(ViewEvent.RESEND, self.view)
        self.stats.view_change_resends += 1
        self._out.append(Send(leader, change))
        self._arm_resend_timer()


class KeepsItsCopyReplica(Replica):
    """Defect: a view established from the others' copies starts its timer, but the replica
    does not send its own copy to everyone: those short of q(W) without its stake wait for its
    next re-send, a view-0 timeout later. (The reference sends the copy there unless it is
    public already; the defect is taking it for public.)"""

    def _synchronise_view(self) -> None:
        self.current.own_view_change_public = True
        super()._synchronise_view()


MovesOn = replica_implementation("MovesOn", __name__, replica_class=MovesOnReplica)
ResentOnce = replica_implementation("ResentOnce", __name__, replica_class=ResentOnceReplica)
ViewBackoffResend = replica_implementation(
    "ViewBackoffResend", __name__, replica_class=ViewBackoffResendReplica
)
LeaderOnlyResend = replica_implementation(
    "LeaderOnlyResend", __name__, replica_class=LeaderOnlyResendReplica
)
CopiesLater = replica_implementation("CopiesLater", __name__, replica_class=CopiesLaterReplica)
KeepsItsCopy = replica_implementation("KeepsItsCopy", __name__, replica_class=KeepsItsCopyReplica)


MUTANTS = [
    Mutant(
        "waiting-view-moves-on",
        "a validator whose view change times out moves on to the next view (classic PBFT)",
        ("R2.6",),
        ("replica",),
        MovesOn,
    ),
    Mutant(
        "view-change-resent-once",
        "a waiting validator re-sends its VIEW-CHANGE once and then waits without a timer",
        ("R2.6",),
        ("replica",),
        ResentOnce,
    ),
    Mutant(
        "view-change-resent-at-the-views-backoff",
        "a waiting validator re-sends its VIEW-CHANGE every timeout(latency, v), not every "
        "timeout(latency, 0)",
        ("R2.6",),
        ("replica",),
        ViewBackoffResend,
    ),
    Mutant(
        "view-change-resent-to-the-leader-only",
        "in collector mode a re-sent VIEW-CHANGE goes to the view's leader alone",
        ("R2.6",),
        ("replica",),
        LeaderOnlyResend,
    ),
    Mutant(
        "view-change-copied-from-the-second-re-send",
        "in collector mode the first re-send of a VIEW-CHANGE goes to the leader only; copies "
        "to every validator start at the second",
        ("R2.6",),
        ("replica",),
        CopiesLater,
    ),
    Mutant(
        name="own-copy-kept-when-established-from-copies",
        defect="collector mode: a view established from the others' copies starts its timer, "
        "but the replica's own copy does not go to everyone until its next re-send",
        breaks=("R2.6",),
        capabilities=("replica",),
        build=KeepsItsCopy,
    ),
]
