"""Discharge proof obligations with Z3 and describe the outcome.

An obligation is a claim ``premise -> goal`` over integer (or uninterpreted) variables. Z3 proves
it when ``premise and not goal`` is unsatisfiable. Two extra checks keep a proof honest:

* the premise alone must be satisfiable, otherwise the claim holds vacuously (``vacuous``);
* a negative twin (a deliberately broken variant) must be *refuted*: Z3 returns a model of
  ``premise and not goal``, which the report prints as the counterexample.

Every query runs in a fresh solver with a timeout, so a hard query ends as ``unknown`` instead of
hanging the run. Spec: I1-I10 ("each invariant also needs a negative check").
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import z3

#: Per-query timeout; every obligation in the catalog takes well under a second.
DEFAULT_TIMEOUT_MS = 10_000


class Outcome(StrEnum):
    """What Z3 said about one obligation."""

    PROVED = "proved"
    REFUTED = "refuted"
    UNKNOWN = "unknown"
    VACUOUS = "vacuous"


@dataclass(frozen=True, slots=True)
class Formula:
    """A claim ``premise -> goal``, and how to show a counterexample to it.

    ``variables`` (name -> term) are shown as ``name = value``, unless ``describe`` renders the
    model itself.
    ``minimize`` lists integer terms (e.g. how many keys a tree holds) to make small, in order,
    so a counterexample is as readable as the solver can make it within the timeout.
    """

    premise: z3.BoolRef
    goal: z3.BoolRef
    variables: Mapping[str, z3.ExprRef] = field(default_factory=dict)
    describe: Callable[[z3.ModelRef], dict[str, str]] | None = None
    minimize: tuple[z3.ArithRef, ...] = ()


@dataclass(frozen=True, slots=True)
class Obligation:
    """One claim to discharge; ``build`` makes the formula lazily (Z3 terms are not free)."""

    name: str
    build: Callable[[], Formula]
    #: None for a claim over all sizes; otherwise the bound, e.g. "depth 3 (8 slots)".
    bound: str | None = None


@dataclass(frozen=True, slots=True)
class Twin:
    """A deliberately broken variant of an invariant: Z3 MUST refute it (non-vacuity)."""

    name: str
    defect: str
    build: Callable[[], Formula]
    bound: str | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of one query: status, wall time, and the counterexample if refuted."""

    name: str
    outcome: Outcome
    seconds: float
    bound: str | None
    counterexample: dict[str, str] = field(default_factory=dict)
    reason: str = ""


def _solve(assertions: list[z3.BoolRef], timeout_ms: int) -> tuple[z3.CheckSatResult, z3.Solver]:
    solver = z3.Solver()
    solver.set("timeout", timeout_ms)
    solver.add(*assertions)
    return solver.check(), solver


def _describe_model(formula: Formula, model: z3.ModelRef) -> dict[str, str]:
    if formula.describe is not None:
        return formula.describe(model)
    return {
        name: str(model.eval(term, model_completion=True))
        for name, term in formula.variables.items()
    }


def _small_model(formula: Formula, model: z3.ModelRef, timeout_ms: int) -> z3.ModelRef:
    """Return a model of ``premise and not goal`` with the ``minimize`` terms made small."""
    if not formula.minimize:
        return model
    optimizer = z3.Optimize()
    optimizer.set("timeout", timeout_ms)
    optimizer.add(formula.premise, z3.Not(formula.goal))
    for term in formula.minimize:
        optimizer.minimize(term)
    if optimizer.check() == z3.sat:
        return optimizer.model()
    return model  # the optimizer ran out of time: the first model is still a counterexample


def check(name: str, build: Callable[[], Formula], bound: str | None, timeout_ms: int) -> Verdict:
    """Try to prove ``build()``; report proved, refuted (with a model), unknown or vacuous."""
    started = time.perf_counter()
    formula = build()
    result, solver = _solve([formula.premise, z3.Not(formula.goal)], timeout_ms)
    if result == z3.unsat:
        # Proved; now make sure it was not proved from contradictory premises.
        premise_result, premise_solver = _solve([formula.premise], timeout_ms)
        elapsed = time.perf_counter() - started
        if premise_result == z3.sat:
            return Verdict(name, Outcome.PROVED, elapsed, bound)
        if premise_result == z3.unsat:
            return Verdict(
                name, Outcome.VACUOUS, elapsed, bound, reason="premises are unsatisfiable"
            )
        return Verdict(
            name,
            Outcome.UNKNOWN,
            elapsed,
            bound,
            reason="premise satisfiability: " + premise_solver.reason_unknown(),
        )
    elapsed = time.perf_counter() - started
    if result == z3.sat:
        model = _small_model(formula, solver.model(), timeout_ms)
        elapsed = time.perf_counter() - started
        return Verdict(name, Outcome.REFUTED, elapsed, bound, _describe_model(formula, model))
    return Verdict(name, Outcome.UNKNOWN, elapsed, bound, reason=solver.reason_unknown())


def prove(obligation: Obligation, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> Verdict:
    """Discharge ``obligation``; it holds when the verdict is ``proved``."""
    return check(obligation.name, obligation.build, obligation.bound, timeout_ms)


def refute(twin: Twin, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> Verdict:
    """Check ``twin``; the non-vacuity check passes when the verdict is ``refuted``."""
    return check(twin.name, twin.build, twin.bound, timeout_ms)
