"""A replica that joins the highest later view more than a third of the stake asked for (R2.6,
R2.5; spec/consensus.md, "View change": a validator "joins the smallest of those views").

``joins-the-highest-view-asked``: when validators holding more than W/3 stake asked for views
above its own, the replica jumps to the highest of them, reading the rule as "catch up with the
others". One Byzantine validator naming view 1,000 beside one honest validator asking for the
next view then drags the replica to a view whose timer is 64 times the base and whose leader the
honest validators will not reach for minutes.

Caught by conformance/suite/test_view_change.py::test_a_validator_joins_the_smallest_later_view_
asked_for.
"""

from __future__ import annotations

from typing import Any
from unittest import mock

from aethel.consensus.viewsync import ViewTally
from conformance.adapters.reference_replica import ReferenceReplicaObject
from conformance.mutants import Mutant, replica_implementation


class _HighestJoinTally(ViewTally):
    def get_join_view(self, view: int, total_stake: int) -> int | None:
        above = {v: stake for v, stake in self.stake_at.items() if v > view}
        if 3 * sum(above.values()) <= total_stake:
            return None
        return max(above)


class _HighestJoinObject(ReferenceReplicaObject):
    """Every command runs with :class:`_HighestJoinTally`'s rule in place of the reference's."""

    def __getattribute__(self, name: str) -> Any:
        attribute = super().__getattribute__(name)
        if name.startswith("_") or not callable(attribute):
            return attribute

        def with_highest_join(*args: Any, **kwargs: Any) -> Any:
            with mock.patch.object(ViewTally, "get_join_view", _HighestJoinTally.get_join_view):
                return attribute(*args, **kwargs)

        return with_highest_join


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
]
