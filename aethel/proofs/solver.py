"""Run Z3 on one proof's text in a fresh context and measure its deterministic effort (R1.4, N7).

How a proof is solved is part of the protocol, because its effort feeds difficulty and rewards
and must be identical on every honest node:

* z3-solver exactly as pinned (:data:`aethel.PROTOCOL_VERSION`);
* a NEW Z3 context per proof, configured with :data:`CONTEXT_CONFIG`, holding one
  ``SimpleSolver`` whose ``rlimit`` parameter is the proof's budget;
* the text is loaded with ``from_string`` (after :func:`aethel.proofs.smt_text.check_smt_text`
  accepted it), then ``check`` runs once;
* effort = the context's ``rlimit count`` statistic after ``check`` minus the one before it
  (parsing is not counted; its cost is bounded by the text limits and priced by the size term
  of difficulty).

Why a fresh context per proof (ARCHITECTURE.md, "Proofs and the verifier"):
Z3 hash-conses terms per context and recycles the ids of freed terms, and its rewriters order
terms by id. In a long-lived context the ids a proof's terms get depend on everything the
context solved before, and so does the effort. Measured with z3 4.15.4: one 442-byte transfer
proof cost 121, 123, 125, 127, 310, 313 or 316 rlimit units depending on history (``aethel
bench proofs`` shows 11-22 distinct efforts for one batch proof over 25 histories), and a
nonlinear proof with a 5M budget came out ``unsat`` after 0.86M-3.8M units or ``unknown``; two
honest validators would disagree on difficulty and even on validity. A fresh context starts
from the same state every time: the same proofs gave the same effort in every order, after
arbitrary other solving in the same process, and in other processes. The price is about
0.7 ms of context construction per proof (see ``aethel bench proofs``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from dataclasses import dataclass
from typing import Any

import z3
from z3 import z3core

#: Context parameters (part of the protocol): no model construction (the verifier needs only
#: the outcome), no automatic reconfiguration by problem class (cheaper context start).
CONTEXT_CONFIG: tuple[tuple[str, str], ...] = (("model", "false"), ("auto_config", "false"))
#: Solver parameters besides ``rlimit`` (part of the protocol). ``arith.solver = 2`` selects
#: Z3's simplex-based arithmetic solver: with the default (6, the LRA solver) the rlimit count
#: does not track the work of integer reasoning (measured: a 30-variable 0/1 integer program
#: spent 16 s for 92,001 units, another ran over 120 s inside a 5M budget), so the budget would
#: not bound CPU time. With solver 2 every hostile shape measured stayed above 0.3 units/us.
SOLVER_PARAMS: tuple[tuple[str, int], ...] = (("arith.solver", 2),)

#: glibc ``mallopt`` parameter numbers and the values set: allocations up to 32 MiB come from
#: the heap, and up to 64 MiB of free memory at the top of the heap stays mapped.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024
TRIM_THRESHOLD_BYTES = 64 * 1024 * 1024


def _keep_heap_memory() -> bool:
    """Fix glibc's mmap and trim thresholds in this process; return whether both were set.

    A fresh Z3 context allocates tables of several hundred KiB and frees them with the context.
    With glibc's dynamic thresholds, whether the next context reuses that heap memory or gets
    fresh pages (mapped, faulted in and zeroed by the kernel) depends on the process's
    allocation history: measured 0.7 ms or 8 ms of CPU per context in the same program after
    different imports, and 8-13 ms in dask workers, whose nanny sets ``MALLOC_TRIM_THRESHOLD_``
    and so turns the dynamic thresholds off. Fixed thresholds make the fast case certain. This
    changes speed and memory layout (up to 64 MiB of freed heap stays mapped), never a result.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mmap = libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
        trim = libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
    except (OSError, AttributeError):  # not glibc: nothing to tune
        return False
    return bool(mmap and trim)


MMAP_THRESHOLD_FIXED = _keep_heap_memory()

_RLIMIT_KEY = "rlimit count"
_OUTCOMES = {z3.Z3_L_TRUE: "sat", z3.Z3_L_FALSE: "unsat", z3.Z3_L_UNDEF: "unknown"}
#: Position of "rlimit count" in a statistics object of a given size (memo; always re-checked).
_rlimit_index: dict[int, int] = {}


@dataclass(frozen=True, slots=True)
class SolverRun:
    """What one solver run gave: ``sat``/``unsat``/``unknown``, or ``error`` for a parse error."""

    outcome: str
    effort: int
    detail: str = ""


def _read_rlimit(ctx: Any, solver: Any) -> int:
    stats = z3core.Z3_solver_get_statistics(ctx, solver)
    z3core.Z3_stats_inc_ref(ctx, stats)
    try:
        size = z3core.Z3_stats_size(ctx, stats)
        index = _rlimit_index.get(size)
        if index is None or z3core.Z3_stats_get_key(ctx, stats, index) != _RLIMIT_KEY:
            index = next(
                (i for i in range(size) if z3core.Z3_stats_get_key(ctx, stats, i) == _RLIMIT_KEY),
                None,
            )
            if index is None:
                raise RuntimeError("z3 reports no 'rlimit count' statistic")
            _rlimit_index[size] = index
        return int(z3core.Z3_stats_get_uint_value(ctx, stats, index))
    finally:
        z3core.Z3_stats_dec_ref(ctx, stats)


def new_context() -> Any:
    """Return a new Z3 context configured with :data:`CONTEXT_CONFIG`; the caller deletes it."""
    config = z3core.Z3_mk_config()
    for name, value in CONTEXT_CONFIG:
        z3core.Z3_set_param_value(config, name, value)
    ctx = z3core.Z3_mk_context_rc(config)
    z3core.Z3_del_config(config)
    return ctx


def run_solver(smt: str, budget: int) -> SolverRun:
    """Solve ``smt`` in a fresh context with resource limit ``budget``; never raises for bad text.

    ``smt`` must already have passed :func:`aethel.proofs.smt_text.check_smt_text`: this function
    gives the solver whatever it is handed.
    """
    ctx = new_context()
    # Without a handler Z3 would exit the process on an error; this one lets the wrappers raise.
    handler = z3core.Z3_set_error_handler(ctx, z3.z3.z3_error_handler)
    try:
        solver = z3core.Z3_mk_simple_solver(ctx)
        z3core.Z3_solver_inc_ref(ctx, solver)
        params = z3core.Z3_mk_params(ctx)
        z3core.Z3_params_inc_ref(ctx, params)
        z3core.Z3_params_set_uint(ctx, params, z3core.Z3_mk_string_symbol(ctx, "rlimit"), budget)
        for name, number in SOLVER_PARAMS:
            z3core.Z3_params_set_uint(ctx, params, z3core.Z3_mk_string_symbol(ctx, name), number)
        z3core.Z3_solver_set_params(ctx, solver, params)
        z3core.Z3_params_dec_ref(ctx, params)
        try:
            z3core.Z3_solver_from_string(ctx, solver, smt)
        except z3.Z3Exception as exc:
            return SolverRun("error", 0, _message(exc))
        before = _read_rlimit(ctx, solver)
        try:
            result = z3core.Z3_solver_check(ctx, solver)
        except z3.Z3Exception as exc:
            return SolverRun("error", _read_rlimit(ctx, solver) - before, _message(exc))
        effort = _read_rlimit(ctx, solver) - before
        outcome = _OUTCOMES[result]
        detail = z3core.Z3_solver_get_reason_unknown(ctx, solver) if outcome == "unknown" else ""
        z3core.Z3_solver_dec_ref(ctx, solver)
        return SolverRun(outcome, effort, detail)
    finally:
        z3core.Z3_del_context(ctx)
        del handler


def _message(exc: Exception) -> str:
    text = str(exc.args[0] if exc.args else exc)
    if isinstance(exc.args[0] if exc.args else None, bytes):
        text = exc.args[0].decode("utf-8", "replace")
    return text.strip()[:200]
