"""The difficulty formula (R1.4, P4, I9).

difficulty(effort, size) = effort + ceil(size / 64), where effort is the solver's deterministic
resource count (the Z3 ``rlimit`` delta of verifying the proof) and size is the UTF-8 length in
bytes of the proof's SMT-LIB2 text. Strictly increasing in effort, non-decreasing in size,
identical on every honest node running the pinned solver (N7).

``difficulty_formula`` is the formula over ints or Z3 terms (``aethel.arith``);
``compute_difficulty`` validates its input and calls it, and the Z3 proof of I9
(``aethel/formal/difficulty.py``) calls it on symbolic efforts and sizes.
"""

from __future__ import annotations

from aethel.arith import Num, floor_div
from aethel.errors import UsageError

SIZE_UNIT_BYTES = 64


def difficulty_formula(effort: Num, size: Num) -> Num:
    """Return effort + ceil(size / 64) of ints or Z3 terms, unchecked (R1.4, I9)."""
    return effort + floor_div(size + SIZE_UNIT_BYTES - 1, SIZE_UNIT_BYTES)


def compute_difficulty(effort: int, size: int) -> int:
    """Return the integer difficulty of a proof of solver ``effort`` and ``size`` bytes."""
    if type(effort) is not int or effort < 0:
        raise UsageError(f"effort must be a non-negative int, got {effort!r}")
    if type(size) is not int or size < 0:
        raise UsageError(f"size must be a non-negative int, got {size!r}")
    return difficulty_formula(effort, size)
