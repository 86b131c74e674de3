"""Quorum arithmetic by stake and by count (R2.2, R2.3, I1, I2).

Owns: R2.2 (the Byzantine bound: below W/3 of the stake, f(n) by count), I1 and I2 (quorums
intersect).

Spec: q(W) = floor(2W/3) + 1; by count, f(n) = floor((n - 1) / 3).

Each formula is a ``*_formula`` function over ints or Z3 terms (``aethel.arith``): the
``compute_*`` functions validate their input and call it, and the Z3 proofs of I1 and I2
(``aethel/formal/quorum.py``) call it on symbolic sizes.
"""

from __future__ import annotations

from aethel.arith import Num, floor_div
from aethel.errors import UsageError


def quorum_formula(total_stake: Num) -> Num:
    """Return floor(2W/3) + 1 of an int or a Z3 term, unchecked (R2.3, I2)."""
    return floor_div(2 * total_stake, 3) + 1


def max_faulty_formula(n: Num) -> Num:
    """Return floor((n - 1) / 3) of an int or a Z3 term, unchecked (R2.2, I1)."""
    return floor_div(n - 1, 3)


def compute_quorum(total_stake: int) -> int:
    """Return q(W) = floor(2W/3) + 1: the least stake a certificate holds (R2.3)."""
    if type(total_stake) is not int or total_stake < 1:
        raise UsageError(f"total stake must be a positive int, got {total_stake!r}")
    return quorum_formula(total_stake)


def compute_max_faulty(n: int) -> int:
    """Return f(n) = floor((n - 1) / 3): the most Byzantine validators by count (R2.2)."""
    if type(n) is not int or n < 1:
        raise UsageError(f"validator count must be a positive int, got {n!r}")
    return max_faulty_formula(n)


def has_quorum(stake: int, total_stake: int) -> bool:
    """Return True if ``stake`` reaches q(``total_stake``)."""
    return stake >= compute_quorum(total_stake)
