"""Replicas that tally VIEW-CHANGE requests wrongly (R2.6, R2.5; spec/consensus.md, "View
change").

``view-requests-counted-per-view``: the replica tallies the stake behind each view a validator
asked for, not only its highest ("a validator keeps only the highest view each validator asked
for: one entry per validator"), so one validator asking for views 1 and 2 counts twice, and a
quarter of the stake pulls the replica into view 1.

``joins-the-highest-view-asked``: when validators holding more than W/3 stake asked for views
above its own, the replica jumps to the highest of them, reading the rule as "catch up with the
others". One Byzantine validator naming view 1,000 beside one honest validator asking for the
next view then drags the replica to a view whose timer is 64 times the base and whose leader the
honest validators will not reach for minutes.

Caught by conformance/suite/test_view_change.py::test_a_validator_joins_the_smallest_later_view_
asked_for and test_one_validator_asking_for_two_views_counts_once.
"""

from __future__ import annotations

from aethel.consensus.viewsync import ViewTally
from conformance.adapters.reference_replica import ReferenceReplicaObject
from conformance.mutants import CommandsUnderPatch, Mutant, replica_implementation


class _HighestJoinTally(ViewTally):
    def get_join_view(self, view: int, total_stake: int) -> int | None:
        above = {v: stake for v, stake in self.stake_at.items() if v > view}
        if 3 * sum(above.values()) <= total_stake:
            return None
        return max(above)


class _EveryRequestTally(ViewTally):
    def process_view_change(self, validator: str, view: int, stake: int) -> None:
        previous = self.highest.get(validator)
        if previous is not None and previous >= view:
            return
        self.highest[validator] = view
        self.stake_at[view] = self.stake_at.get(view, 0) + stake


class _HighestJoinObject(CommandsUnderPatch, ReferenceReplicaObject):
    patch = (ViewTally, "get_join_view", _HighestJoinTally.get_join_view)


class _EveryRequestObject(CommandsUnderPatch, ReferenceReplicaObject):
    patch = (ViewTally, "process_view_change", _EveryRequestTally.process_view_change)


CountsEveryRequest = replica_implementation(
    "CountsEveryRequest", __name__, base=_EveryRequestObject
)
JoinsTheHighestView = replica_implementation(
    "JoinsTheHighestView", __name__, base=_HighestJoinObject
)

MUTANTS = [
    Mutant(
        name="joins-the-highest-view-asked",
        defect="with more than W/3 stake asking for later views, a replica joins the highest "
        "view asked for, not the smallest: one Byzantine validator drags it far ahead",
        breaks=("R2.6",),
        capabilities=("replica",),
        build=JoinsTheHighestView,
    ),
    Mutant(
        name="view-requests-counted-per-view",
        defect="a validator's stake is counted at every view it asked for, not only its "
        "highest: one validator asking for views 1 and 2 counts twice towards view 1",
        breaks=("R2.6",),
        capabilities=("replica",),
        build=CountsEveryRequest,
    ),
]
