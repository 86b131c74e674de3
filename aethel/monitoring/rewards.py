"""Cumulative reward tracking per validator (R8.4, P35)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping


class RewardTracker:
    """Sum the reward shares of every committed transition, once per height."""

    def __init__(self) -> None:
        self.totals: dict[str, int] = {}
        self._heights: set[int] = set()

    def record(self, height: int, rewards: Mapping[str, int]) -> Iterator[tuple[str, int]]:
        """Add the shares paid at ``height`` (ignored if the height was recorded before)."""
        if height in self._heights:
            return iter(())
        self._heights.add(height)
        for validator, amount in rewards.items():
            self.totals[validator] = self.totals.get(validator, 0) + amount
        return iter(sorted(rewards.items()))

    def report(self) -> list[tuple[str, int]]:
        """Return (validator, total) sorted by total, largest first."""
        return sorted(self.totals.items(), key=lambda item: (-item[1], item[0]))
