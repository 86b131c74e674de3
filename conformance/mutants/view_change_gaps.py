"""Mutants for the gaps the module campaign of aethel/consensus/viewchange.py found: each is the
way an outsider's replica could get a view change wrong, caught by the case written for the
mechanical survivors (reports/selftest/triage-module-viewchange-d312549.md).

* ``view-established-above-q``: a view is taken as established only when more than q(W) stake
  asked for it (R2.6); caught by suite/test_view_change.py::
  test_a_view_is_established_by_exactly_q_of_view_changes.
* ``uncollected-view-changes-taken-as-checked``: a VIEW-CHANGE the replica only counts (a copy,
  or one whose view it does not lead in collector mode) is counted towards joining and
  establishing views without its signature checked (R7.5); caught by suite/
  test_forged_copies.py::test_forged_view_changes_pull_no_one_into_a_later_view[collector].
* ``new-view-restarts-the-view-timer``: every NEW-VIEW the replica follows starts its view's
  timer again, also in a view established before it came (R2.6); caught by suite/
  test_view_change.py::test_a_new_view_for_an_established_view_does_not_restart_its_timer.
* ``later-view-messages-dropped-on-new-view``: a NEW-VIEW that moves the replica to a later
  view throws away what it kept for that view, as if only a timeout could enter it (R2.6);
  caught by suite/test_view_change.py::
  test_prepares_that_came_before_the_new_view_count_once_it_is_followed.
* ``claim-before-own-view-change``: the check of a prepared claim assumes the replica asked for
  the view first, and a claim that arrives earlier raises (R2.6); caught by suite/
  test_view_change.py::test_claims_that_arrive_before_the_leaders_own_timeout_are_carried.
"""

from __future__ import annotations

from aethel.consensus.messages import NewView, ViewChange
from aethel.consensus.replica import Replica
from conformance.mutants import Mutant, replica_implementation


class EstablishedAboveQ(Replica):
    """Defect: exactly q(W) stake asking for a view does not establish it."""

    def _synchronise_view(self) -> None:
        current, validators = self.current, self.validators
        tally = current.view_tally
        exactly = tally.get_stake_from(self.view) == validators.quorum
        joins = tally.get_join_view(self.view, validators.total_stake) is not None
        if current.established or not exactly or joins:
            super()._synchronise_view()


class UncollectedTakenAsChecked(Replica):
    """Defect: a VIEW-CHANGE that is only counted is taken as checked."""

    def _count_view_change(self, vc: ViewChange, verified: bool) -> None:
        super()._count_view_change(vc, True)


class NewViewRestartsTimer(Replica):
    """Defect: every NEW-VIEW followed starts the view's timer again."""

    def _enter_new_view(self, view: int) -> None:
        super()._enter_new_view(view)
        self._arm_view_timer()


class LaterViewDroppedOnNewView(Replica):
    """Defect: what was kept for a later view is dropped when its NEW-VIEW moves us there."""

    def _on_new_view(self, nv: NewView, trusted: bool = False) -> None:
        if nv.height == self.height and nv.view > self.view:
            self.inbox.take_view(nv.view)
        super()._on_new_view(nv, trusted)


class ClaimBeforeOwnViewChange(Replica):
    """Defect: a claim is checked against the view's collector, assumed to exist."""

    def _claim_signed(self, vc: ViewChange) -> bool | None:
        if vc.prepared is not None and self.validators.get(vc.validator) is not None:
            self.current.view_changes[vc.view]  # a KeyError before this replica asked
        return super()._claim_signed(vc)


EstablishedAboveQImplementation = replica_implementation(
    "EstablishedAboveQImplementation", __name__, replica_class=EstablishedAboveQ
)
UncollectedTakenAsCheckedImplementation = replica_implementation(
    "UncollectedTakenAsCheckedImplementation", __name__, replica_class=UncollectedTakenAsChecked
)
NewViewRestartsTimerImplementation = replica_implementation(
    "NewViewRestartsTimerImplementation", __name__, replica_class=NewViewRestartsTimer
)
LaterViewDroppedOnNewViewImplementation = replica_implementation(
    "LaterViewDroppedOnNewViewImplementation", __name__, replica_class=LaterViewDroppedOnNewView
)
ClaimBeforeOwnViewChangeImplementation = replica_implementation(
    "ClaimBeforeOwnViewChangeImplementation", __name__, replica_class=ClaimBeforeOwnViewChange
)

MUTANTS = [
    Mutant(
        name="view-established-above-q",
        defect="a view is established only when more than q(W) stake asked for it",
        breaks=("R2.6",),
        capabilities=("replica",),
        build=EstablishedAboveQImplementation,
    ),
    Mutant(
        name="uncollected-view-changes-taken-as-checked",
        defect="a VIEW-CHANGE the replica only counts is counted with its signature unchecked",
        breaks=("R7.5",),
        capabilities=("replica",),
        build=UncollectedTakenAsCheckedImplementation,
    ),
    Mutant(
        name="new-view-restarts-the-view-timer",
        defect="every NEW-VIEW followed starts the view's timer again",
        breaks=("R2.6",),
        capabilities=("replica",),
        build=NewViewRestartsTimerImplementation,
    ),
    Mutant(
        name="later-view-messages-dropped-on-new-view",
        defect="what was kept for a later view is dropped when its NEW-VIEW moves the replica",
        breaks=("R2.6",),
        capabilities=("replica",),
        build=LaterViewDroppedOnNewViewImplementation,
    ),
    Mutant(
        name="claim-before-own-view-change",
        defect="a prepared claim for a view the replica has not asked for yet raises",
        breaks=("R2.6",),
        capabilities=("replica",),
        build=ClaimBeforeOwnViewChangeImplementation,
    ),
]
