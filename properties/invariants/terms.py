"""Symbolic twins of the implementation's formulas, built from the implementation's constants.

Each ``*_term`` restates one pure function of ``aethel`` over Z3 integers, reading every constant
from the implementation module (so changing a constant there changes what is proved). The
implementation's functions cannot take Z3 terms themselves (they check ``type(x) is int`` and use
``//``, ``<<`` and ``min``/``max``), so ``properties/test_terms.py`` ties each term to its
function: for random and boundary inputs, the term simplified on concrete values equals the
function's output. Z3's integer division is Euclidean, which equals Python's floor division for a
positive divisor; every divisor here is positive.

Spec: I1, I2, I6-I10 (the formulas of R1.2-R1.4, R2.2, R2.3, R4.2, R4.4, R4.7, R6.5).
"""

from __future__ import annotations

import z3

from aethel import economics
from aethel.consensus import timeouts
from aethel.proofs import difficulty


def minimum(a: z3.ArithRef, b: z3.ArithRef | int) -> z3.ArithRef:
    """Return min(a, b) as a term."""
    return z3.If(a <= b, a, b)


def maximum(a: z3.ArithRef | int, b: z3.ArithRef) -> z3.ArithRef:
    """Return max(a, b) as a term."""
    return z3.If(a >= b, a, b)


def quorum_term(total_stake: z3.ArithRef) -> z3.ArithRef:
    """q(W) = floor(2W/3) + 1 (aethel.consensus.quorum.compute_quorum; R2.3)."""
    return 2 * total_stake / 3 + 1


def max_faulty_term(n: z3.ArithRef) -> z3.ArithRef:
    """f(n) = floor((n - 1) / 3) (aethel.consensus.quorum.compute_max_faulty; R2.2)."""
    return (n - 1) / 3


def block_reward_term(total_difficulty: z3.ArithRef) -> z3.ArithRef:
    """min(difficulty * REWARD_PER_DIFFICULTY, CAP) (aethel.economics.compute_block_reward)."""
    return minimum(total_difficulty * economics.REWARD_PER_DIFFICULTY, economics.BLOCK_REWARD_CAP)


def emission_limit_term(height: z3.ArithRef) -> z3.ArithRef:
    """E(h) = h * CAP (aethel.economics.compute_emission_limit; R4.7)."""
    return height * economics.BLOCK_REWARD_CAP


def share_term(reward: z3.ArithRef, stake: z3.ArithRef, total_stake: z3.ArithRef) -> z3.ArithRef:
    """floor(reward * stake / total) (one member's share in compute_reward_split; R1.3)."""
    return reward * stake / total_stake


def slash_term(stake: z3.ArithRef, offence: economics.Offence) -> z3.ArithRef:
    """floor(stake * rate) with the offence's rate (aethel.economics.compute_slash_amount)."""
    return stake * economics.SLASH_PERCENT[offence] / 100


def difficulty_term(effort: z3.ArithRef, size: z3.ArithRef) -> z3.ArithRef:
    """effort + ceil(size / SIZE_UNIT_BYTES) (aethel.proofs.difficulty.compute_difficulty)."""
    unit = difficulty.SIZE_UNIT_BYTES
    return effort + (size + unit - 1) / unit


def backoff_term(view: z3.ArithRef) -> z3.ArithRef:
    """2 ** min(view, MAX_BACKOFF_EXPONENT), exact for every view >= 0 as a chain of cases."""
    top = timeouts.MAX_BACKOFF_EXPONENT
    term: z3.ArithRef = z3.IntVal(2**top)
    for exponent in range(top - 1, -1, -1):
        term = z3.If(view <= exponent, z3.IntVal(2**exponent), term)
    return term


def timeout_term(latency: z3.ArithRef, view: z3.ArithRef) -> z3.ArithRef:
    """max(BASE, K * latency) * 2**min(view, MAX) (aethel.consensus.timeouts.compute_timeout)."""
    base = maximum(timeouts.BASE_TIMEOUT_NS, timeouts.LATENCY_MULTIPLE * latency)
    return base * backoff_term(view)


def evaluate(term: z3.ArithRef) -> int:
    """Return the integer value of a closed term (used by the cross-checks)."""
    value = z3.simplify(term)
    if not z3.is_int_value(value):
        raise ValueError(f"term did not reduce to an integer: {value}")
    return int(value.as_long())
