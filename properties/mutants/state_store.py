"""State-store mutants (subclasses of :class:`aethel.state.StateStore`)."""

from __future__ import annotations

from aethel.merkle import StateTree
from aethel.state import StateStore
from aethel.state.store import CommittedHeight
from conformance.adapters.reference import ReferenceImplementation
from conformance.adapters.reference_state import ReferenceStateStore, ReferenceStoreObject


class ReopenAtFirstHeight(StateStore):
    """Defect: reopening loads the FIRST committed height as the latest (ORDER BY ... ASC), so
    a restarted node forgets everything after genesis (breaks R5.4)."""

    def _load_latest(self) -> CommittedHeight | None:
        row = self._db.execute(
            "SELECT height, root FROM heights ORDER BY height LIMIT 1"
        ).fetchone()
        return None if row is None else CommittedHeight(row[0], bytes(row[1]))


class StaleLatestView(StateStore):
    """Defect: the read view of the latest height is built once and reused, so reads after a
    commit still see the state it was built on (a cache never invalidated)."""

    _latest_view: StateTree | None = None

    def tree(self, height: int | None = None) -> StateTree:
        if height is not None:
            return super().tree(height)
        if self._latest_view is None:
            self._latest_view = super().tree()
        return self._latest_view


# The mutants as implementations under test (``--impl python:properties.mutants.state_store:...``).


def _store_adapter(store_class: type[StateStore]) -> type[ReferenceStateStore]:
    class MutantObject(ReferenceStoreObject):
        def __init__(self, path: str) -> None:
            self.store = store_class(path)

    class MutantStateStore(ReferenceStateStore):
        def open(self, path: str) -> ReferenceStoreObject:
            return MutantObject(path)

    return MutantStateStore


class ReopenAtFirstHeightImplementation(ReferenceImplementation):
    """The reference with :class:`ReopenAtFirstHeight` behind ``state-store``."""

    name = "mutant-reopen-at-first-height"

    def make_state_store(self) -> object:
        return _store_adapter(ReopenAtFirstHeight)()


class StaleLatestViewImplementation(ReferenceImplementation):
    """The reference with :class:`StaleLatestView` behind ``state-store``."""

    name = "mutant-stale-latest-view"

    def make_state_store(self) -> object:
        return _store_adapter(StaleLatestView)()
