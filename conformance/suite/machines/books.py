"""An executable model of the state books: accounts, stakes, supply, one transition at a time.

Written from the spec (spec/economics.md, the state layout of spec/state-tree.md), not from
the reference: plain dicts, the rules checked in the order the spec lists them, and the
layout's key/value view so that the model's root can be computed with any state tree. A
transition is all or nothing: :func:`apply_transition` returns the new books or the rule the
transition breaks.

Spec: R3.6, R4.2, R4.7, R7.1, I5, I7, I8.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from aethel.economics import Offence, compute_emission_limit, compute_slash_amount

JSON = Any
INT_MAX = 2**63 - 1


@dataclass
class Books:
    """The whole state as the spec describes it."""

    balances: dict[str, int] = field(default_factory=dict)
    nonces: dict[str, int] = field(default_factory=dict)
    stakes: dict[str, int] = field(default_factory=dict)
    slashed: dict[str, int] = field(default_factory=dict)
    genesis: int = 0
    minted: int = 0
    burned: int = 0

    def key_values(self) -> dict[str, int]:
        """Return the state tree contents of the layout: zero amounts are absent keys."""
        items: dict[str, int] = {}
        for prefix, table in (
            ("balance:", self.balances),
            ("nonce:", self.nonces),
            ("stake:", self.stakes),
            ("slashed:", self.slashed),
        ):
            items.update({prefix + name: v for name, v in table.items() if v})
        items["supply:genesis"] = self.genesis
        items["supply:minted"] = self.minted
        items["supply:burned"] = self.burned
        return items


def make_genesis(balances: dict[str, int], stakes: dict[str, int]) -> Books:
    """Return the books of a genesis state."""
    return Books(
        balances=dict(balances),
        stakes=dict(stakes),
        genesis=sum(balances.values()) + sum(stakes.values()),
    )


def _amount(value: object, minimum: int = 1) -> bool:
    return type(value) is int and minimum <= value <= INT_MAX


def _move(
    amount: JSON, source: dict[str, int], payer: str, target: dict[str, int], payee: str
) -> bool:
    """Move ``amount`` from ``source[payer]`` to ``target[payee]``; False (nothing moved) if it
    is no amount or the payer holds less."""
    if not _amount(amount) or source.get(payer, 0) < amount:
        return False
    source[payer] -= amount
    target[payee] = target.get(payee, 0) + amount
    return True


def apply_transition(books: Books, height: int, ops: list[JSON]) -> Books | str:
    """Return the books after ``ops`` at ``height``, or the rule ID the transition breaks."""
    after = copy.deepcopy(books)
    seen: set[tuple[str, int]] = set()
    for op in ops:
        kind = op["op"]
        if kind == "transfer":
            sender, recipient = op["sender"], op["recipient"]
            amount, nonce = op["amount"], op["nonce"]
            if not _amount(amount) or not _amount(nonce, 0):
                return "R3.6"
            if (sender, nonce) in seen or nonce != after.nonces.get(sender, 0):
                return "R7.1"
            seen.add((sender, nonce))
            if after.balances.get(sender, 0) < amount:
                return "R3.6 R7.1"
            after.balances[sender] = after.balances.get(sender, 0) - amount
            after.balances[recipient] = after.balances.get(recipient, 0) + amount
            after.nonces[sender] = nonce + 1
        elif kind == "reward":
            if not _amount(op["amount"]):
                return "R3.6"
            after.balances[op["account"]] = after.balances.get(op["account"], 0) + op["amount"]
            after.minted += op["amount"]
        elif kind == "bond":
            if not _move(
                op["amount"], after.balances, op["account"], after.stakes, op["validator"]
            ):
                return "R3.6"
        elif kind == "unbond":
            if not _move(
                op["amount"], after.stakes, op["validator"], after.balances, op["account"]
            ):
                return "R3.6"
        elif kind == "slash":
            stake = after.stakes.get(op["validator"], 0)
            burned = compute_slash_amount(stake, Offence(op["offence"]))
            after.stakes[op["validator"]] = stake - burned
            after.slashed[op["validator"]] = after.slashed.get(op["validator"], 0) + burned
            after.burned += burned
        else:
            raise ValueError(f"unknown operation {op!r}")
    if after.minted > compute_emission_limit(height):
        return "R4.7"
    if any(v > INT_MAX for table in (after.balances, after.stakes) for v in table.values()):
        return "E2"
    return after


def check_books(books: Books, height: int) -> str:
    """Return "" if the books balance at ``height``, else what is wrong (R3.6, R4.7)."""
    held = sum(books.balances.values()) + sum(books.stakes.values())
    if held != books.genesis + books.minted - books.burned:
        return f"held {held} != genesis + minted - burned"
    if books.minted > compute_emission_limit(height):
        return f"minted {books.minted} > E({height})"
    if any(v < 0 for table in (books.balances, books.stakes, books.nonces) for v in table.values()):
        return "a negative amount"
    return ""
