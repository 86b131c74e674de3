"""I10: the view timeout is never below k * latency and never falls, for all latencies and views.

The rule is the implementation's own (``aethel.consensus.timeouts.timeout_formula``) applied to
Z3 terms. On a term its backoff factor 2**min(view, MAX) is an exact case chain over every
view >= 0 (``aethel.arith.power_of_two``), so no bound on the view or the latency is involved.
The twins are hand-written variants built from the implementation's pieces.

Spec: I10 (R2.6, R6.5, P26).
"""

from __future__ import annotations

from collections.abc import Callable

import z3

from aethel.consensus.timeouts import (
    BASE_TIMEOUT_NS,
    LATENCY_MULTIPLE,
    MAX_BACKOFF_EXPONENT,
    backoff_formula,
    timeout_formula,
)
from aethel.formal.solver import Formula, Obligation, Twin

Rule = Callable[[z3.ArithRef, z3.ArithRef], z3.ArithRef]


def _above_latency(rule: Rule) -> Formula:
    latency, view = z3.Ints("latency_ns view")
    premise = z3.And(latency >= 0, view >= 0)
    goal = rule(latency, view) >= LATENCY_MULTIPLE * latency
    variables = {
        "latency_ns": latency,
        "view": view,
        "timeout_ns": rule(latency, view),
        f"{LATENCY_MULTIPLE} * latency_ns": LATENCY_MULTIPLE * latency,
    }
    return Formula(premise, goal, variables, minimize=(view, latency))


def _non_decreasing(rule: Rule) -> Formula:
    latency_1, latency_2, view_1, view_2 = z3.Ints("latency_1 latency_2 view_1 view_2")
    premise = z3.And(latency_1 >= 0, view_1 >= 0, latency_1 <= latency_2, view_1 <= view_2)
    low, high = rule(latency_1, view_1), rule(latency_2, view_2)
    variables = {
        "latency_1": latency_1,
        "view_1": view_1,
        "timeout_1": low,
        "latency_2": latency_2,
        "view_2": view_2,
        "timeout_2": high,
    }
    return Formula(premise, low <= high, variables, minimize=(view_2, latency_2))


def build_above_latency() -> Formula:
    """timeout(latency, view) >= k * latency (R6.5)."""
    return _above_latency(timeout_formula)


def build_non_decreasing() -> Formula:
    """timeout is non-decreasing in latency and in view (backoff, R2.6)."""
    return _non_decreasing(timeout_formula)


def build_without_latency_multiple() -> Formula:
    """Twin: a fixed timeout with backoff that ignores the observed latency."""
    return _above_latency(lambda latency, view: BASE_TIMEOUT_NS * backoff_formula(view))


def build_wrapping_backoff() -> Formula:
    """Twin: a backoff exponent that wraps around (view mod (MAX + 1)) instead of saturating."""

    def rule(latency: z3.ArithRef, view: z3.ArithRef) -> z3.ArithRef:
        base = timeout_formula(latency, z3.IntVal(0))
        return base * backoff_formula(view % (MAX_BACKOFF_EXPONENT + 1))

    return _non_decreasing(rule)


I10_OBLIGATIONS = (
    Obligation("timeout >= k * latency, all latencies and views", build_above_latency),
    Obligation("non-decreasing in latency and view", build_non_decreasing),
)
I10_TWINS = (
    Twin(
        "no latency multiple",
        "timeout = BASE * 2**min(view, MAX), latency ignored",
        build_without_latency_multiple,
    ),
    Twin("wrapping backoff", "backoff exponent view mod (MAX+1)", build_wrapping_backoff),
)
