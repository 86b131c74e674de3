"""A full audit of the supply books of one state (R3.6, R4.7): O(n), for checkers and tests.

:func:`aethel.state.transitions.compute_transition` keeps the books per transition without
reading the whole state; this audit recounts every balance and stake from scratch, so a test or
a trace checker can confirm the books at any height independently.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from aethel.economics import compute_emission_limit
from aethel.merkle.tree import StateTree
from aethel.state.layout import BALANCE, STAKE, SUPPLY_BURNED, SUPPLY_GENESIS, SUPPLY_MINTED


@dataclass(frozen=True, slots=True)
class SupplyAudit:
    """Recounted totals of one state and the books it records."""

    height: int
    balances: int
    stakes: int
    genesis: int
    minted: int
    burned: int
    negative_keys: tuple[str, ...]

    @property
    def total_supply(self) -> int:
        """Return sum(balances) + sum(stakes)."""
        return self.balances + self.stakes

    @property
    def is_conserved(self) -> bool:
        """Return True if total supply = genesis + minted - burned and nothing is negative."""
        expected = self.genesis + self.minted - self.burned
        return self.total_supply == expected and not self.negative_keys

    @property
    def is_within_emission(self) -> bool:
        """Return True if minted <= E(height) (R4.7)."""
        return self.minted <= compute_emission_limit(self.height)


def compute_supply_audit(tree: StateTree, height: int) -> SupplyAudit:
    """Recount every balance and stake of ``tree`` (the state at ``height``)."""
    balances = stakes = 0
    books = {SUPPLY_GENESIS: 0, SUPPLY_MINTED: 0, SUPPLY_BURNED: 0}
    negative: list[str] = []
    for leaf in tree.iter_leaves():
        key = leaf[3]
        if key.startswith(BALANCE) or key.startswith(STAKE) or key in books:
            value = json.loads(leaf[4])
            if type(value) is not int or value < 0:
                negative.append(key)
                continue
            if key.startswith(BALANCE):
                balances += value
            elif key.startswith(STAKE):
                stakes += value
            else:
                books[key] = value
    return SupplyAudit(
        height=height,
        balances=balances,
        stakes=stakes,
        genesis=books[SUPPLY_GENESIS],
        minted=books[SUPPLY_MINTED],
        burned=books[SUPPLY_BURNED],
        negative_keys=tuple(sorted(negative)),
    )
