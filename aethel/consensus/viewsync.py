"""View synchronisation: how much stake has asked for which view of a height.

Owns: R2.5 (liveness after GST: honest validators stay within one view of each other, so a
view with an honest leader eventually lasts long enough to commit).

PBFT keeps honest validators in step by two rules, both counted here:

* A view v > 0 is *established* at a validator once validators holding q(W) stake have sent
  VIEW-CHANGE for v or a later view of the height (or a valid NEW-VIEW for v arrived). Only
  then does its view timer start, so a validator that times out alone (cut off, or its messages
  lost) waits in the view it asked for instead of running ahead of everyone.
* The join rule: once validators holding more than W/3 stake asked for views above a
  validator's own, at least one of them is honest and has left that view, so it joins the
  smallest view among them at once.

A VIEW-CHANGE for a later view counts towards establishing every earlier one: its sender has
left those views (it timed out there or joined a later one). Without this, two groups of honest
validators waiting in adjacent views, each lacking the other's old, lost VIEW-CHANGE, would wait
for each other for ever. Only each validator's highest view is kept, so memory stays one entry
per validator whatever views a Byzantine validator names (N6). Establishing a view only starts
a timer; it never lets anything commit, so counting is about liveness, not safety (a NEW-VIEW
still needs q(W) VIEW-CHANGEs for exactly its view, :func:`.viewchange.check_new_view`).
"""

from __future__ import annotations


class ViewTally:
    """The highest view each validator asked for at one height, and the stake behind it.

    Spec: R2.5.
    """

    __slots__ = ("highest", "stake_at")

    def __init__(self) -> None:
        #: validator id -> the highest view it sent a valid VIEW-CHANGE for.
        self.highest: dict[str, int] = {}
        #: view -> the stake of the validators whose highest view it is.
        self.stake_at: dict[int, int] = {}

    def is_news(self, validator: str, view: int) -> bool:
        """Return True if ``view`` is above the highest view ``validator`` asked for so far."""
        return view > self.highest.get(validator, 0)

    def process_view_change(self, validator: str, view: int, stake: int) -> None:
        """Record that ``validator`` (holding ``stake``) asked for ``view`` (a verified message)."""
        previous = self.highest.get(validator)
        if previous is not None and previous >= view:
            return
        if previous is not None:
            left = self.stake_at[previous] - stake
            if left:
                self.stake_at[previous] = left
            else:
                del self.stake_at[previous]
        self.highest[validator] = view
        self.stake_at[view] = self.stake_at.get(view, 0) + stake

    def get_stake_from(self, view: int) -> int:
        """Return the stake of the validators that asked for ``view`` or a later view."""
        return sum(stake for v, stake in self.stake_at.items() if v >= view)

    def get_join_view(self, view: int, total_stake: int) -> int | None:
        """Return the view to join from ``view`` (the join rule), or None.

        When validators holding more than W/3 stake asked for views above ``view``, return the
        smallest of those views; one of them is honest, so the view returned is at most the
        view an honest validator is in, however far a Byzantine one claims to be.
        """
        above = {v: stake for v, stake in self.stake_at.items() if v > view}
        if 3 * sum(above.values()) <= total_stake:
            return None
        return min(above)
