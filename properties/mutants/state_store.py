"""State-store mutants (subclasses of :class:`aethel.state.StateStore`)."""

from __future__ import annotations

from aethel.merkle import StateTree
from aethel.state import StateStore
from aethel.state.store import CommittedHeight


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
