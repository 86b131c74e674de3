"""Quorum arithmetic by stake and by count (R2.2, R2.3, I1, I2).

Spec: q(W) = floor(2W/3) + 1; by count, f(n) = floor((n - 1) / 3).
"""

from __future__ import annotations

from aethel.errors import UsageError


def compute_quorum(total_stake: int) -> int:
    """Return q(W) = floor(2W/3) + 1: the least stake a certificate holds (R2.3)."""
    if type(total_stake) is not int or total_stake < 1:
        raise UsageError(f"total stake must be a positive int, got {total_stake!r}")
    return 2 * total_stake // 3 + 1


def compute_max_faulty(n: int) -> int:
    """Return f(n) = floor((n - 1) / 3): the most Byzantine validators by count (R2.2)."""
    if type(n) is not int or n < 1:
        raise UsageError(f"validator count must be a positive int, got {n!r}")
    return (n - 1) // 3


def has_quorum(stake: int, total_stake: int) -> bool:
    """Return True if ``stake`` reaches q(``total_stake``)."""
    return stake >= compute_quorum(total_stake)
