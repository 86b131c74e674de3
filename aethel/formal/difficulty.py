"""I9: the difficulty formula is monotone, for every effort and size.

Spec: I9 (R1.4, P4). The formula is the implementation's own
(``aethel.proofs.difficulty.difficulty_formula``) applied to Z3 terms; the twins are hand-written.
"""

from __future__ import annotations

from collections.abc import Callable

import z3

from aethel.formal.solver import Formula, Obligation, Twin
from aethel.proofs.difficulty import difficulty_formula

Rule = Callable[[z3.ArithRef, z3.ArithRef], z3.ArithRef]


def _monotone(rule: Rule) -> Formula:
    effort_1, size_1, effort_2, size_2 = z3.Ints("effort_1 size_1 effort_2 size_2")
    premise = z3.And(effort_1 >= 0, size_1 >= 0, effort_1 <= effort_2, size_1 <= size_2)
    low, high = rule(effort_1, size_1), rule(effort_2, size_2)
    goal = low <= high
    variables = {
        "effort_1": effort_1,
        "size_1": size_1,
        "difficulty_1": low,
        "effort_2": effort_2,
        "size_2": size_2,
        "difficulty_2": high,
    }
    return Formula(premise, goal, variables, minimize=(effort_2 + size_2,))


def build_monotone() -> Formula:
    """More effort and more bytes never lower the difficulty."""
    return _monotone(difficulty_formula)


def build_strict_in_effort() -> Formula:
    """More solver effort at equal size strictly raises the difficulty (effort is never free)."""
    effort_1, effort_2, size = z3.Ints("effort_1 effort_2 size")
    premise = z3.And(effort_1 >= 0, size >= 0, effort_1 < effort_2)
    goal = difficulty_formula(effort_1, size) < difficulty_formula(effort_2, size)
    return Formula(premise, goal, {"effort_1": effort_1, "effort_2": effort_2, "size": size})


def build_non_negative() -> Formula:
    """Difficulty is a natural number (rewards are never negative)."""
    effort, size = z3.Ints("effort size")
    premise = z3.And(effort >= 0, size >= 0)
    return Formula(premise, difficulty_formula(effort, size) >= 0, {"effort": effort, "size": size})


def build_effort_density() -> Formula:
    """Twin: effort per 64 bytes of proof, which falls as the proof grows."""
    return _monotone(lambda effort, size: effort * 64 / (size / 64 + 1))


def build_size_penalty() -> Formula:
    """Twin: size subtracted as a penalty for bloated proofs."""
    return _monotone(lambda effort, size: effort - size / 64)


I9_OBLIGATIONS = (
    Obligation("non-decreasing in effort and size", build_monotone),
    Obligation("strictly increasing in effort", build_strict_in_effort),
    Obligation("never negative", build_non_negative),
)
I9_TWINS = (
    Twin("effort density", "difficulty = effort * 64 / (size/64 + 1)", build_effort_density),
    Twin("size penalty", "difficulty = effort - size/64", build_size_penalty),
)
