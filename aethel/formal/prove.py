"""``prove``: discharge the Z3 invariants I1-I10 and report.

The command ``aethel prove``: the invariants are facts about the spec's formulas, so the command
lives beside them, in the reference's tools, and the conformance suite neither imports nor runs
it (``aethel-conformance spec coverage`` reads from the catalog which IDs are invariants).

For each invariant of the catalog the report gives its status (proved only if every obligation
is proved from satisfiable premises), the time, how far the proof reaches (unbounded or the
bound), and each negative twin with the counterexample Z3 found for it. The command exits 0 only
if every catalog invariant is proved and every twin refuted; a twin that proves, an unknown
(timeout) or an invariant with no proof all fail the run.

Spec: I1-I10.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import typer
import z3

from aethel.catalog import load_catalog
from aethel.formal import INVARIANTS, Invariant
from aethel.formal.solver import DEFAULT_TIMEOUT_MS, Outcome, Twin, Verdict, prove, refute
from aethel.progress import Heartbeat


@dataclass(frozen=True, slots=True)
class TwinResult:
    """A negative twin and what Z3 said about it (it passes when refuted)."""

    twin: Twin
    verdict: Verdict

    @property
    def ok(self) -> bool:
        return self.verdict.outcome is Outcome.REFUTED


@dataclass(frozen=True, slots=True)
class InvariantResult:
    """One invariant's obligations and twins, checked."""

    invariant: Invariant
    obligations: tuple[Verdict, ...]
    twins: tuple[TwinResult, ...]

    @property
    def status(self) -> Outcome:
        """Return proved only if every obligation is; else the worst outcome among them."""
        for outcome in (Outcome.REFUTED, Outcome.VACUOUS, Outcome.UNKNOWN):
            if any(v.outcome is outcome for v in self.obligations):
                return outcome
        return Outcome.PROVED if self.obligations else Outcome.UNKNOWN

    @property
    def seconds(self) -> float:
        return sum(v.seconds for v in self.obligations)

    @property
    def ok(self) -> bool:
        return self.status is Outcome.PROVED and all(t.ok for t in self.twins) and bool(self.twins)


@dataclass(frozen=True, slots=True)
class ProveReport:
    """Every invariant checked, plus catalog invariants that have no proof at all."""

    results: tuple[InvariantResult, ...]
    missing: tuple[str, ...]
    timeout_ms: int
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.missing and all(r.ok for r in self.results)


def catalog_invariant_ids() -> list[str]:
    """Return the IDs of the catalog's invariants (kind "invariant"), in catalog order."""
    return [rule.id for rule in load_catalog() if rule.kind == "invariant"]


def run_proofs(
    invariants: Sequence[Invariant] = INVARIANTS,
    *,
    only: Sequence[str] = (),
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
    expected: Sequence[str] | None = None,
) -> ProveReport:
    """Prove every obligation and refute every twin of ``invariants`` (or those in ``only``).

    ``expected`` (default: the catalog's invariants) lists the IDs that must have a proof.
    """
    started = time.perf_counter()
    chosen = [inv for inv in invariants if not only or inv.id in only]
    done: list[InvariantResult] = []
    now = [""]

    def describe() -> str:
        return f"{len(done)}/{len(chosen)} invariants done, now {now[0] or '-'}"

    # In a CI log (standard output not a terminal) a line every 30 s says how far it is.
    with Heartbeat("prove", describe):
        for inv in chosen:
            now[0] = inv.id
            done.append(
                InvariantResult(
                    inv,
                    tuple(prove(obligation, timeout_ms) for obligation in inv.obligations),
                    tuple(TwinResult(twin, refute(twin, timeout_ms)) for twin in inv.twins),
                )
            )
    results = tuple(done)
    wanted = catalog_invariant_ids() if expected is None else list(expected)
    have = {inv.id for inv in invariants}
    missing = tuple(i for i in wanted if i not in have and (not only or i in only))
    return ProveReport(results, missing, timeout_ms, time.perf_counter() - started)


def _verdict_json(verdict: Verdict) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": verdict.name,
        "status": verdict.outcome.value,
        "seconds": round(verdict.seconds, 6),
        "bound": verdict.bound,
    }
    if verdict.reason:
        data["reason"] = verdict.reason
    return data


def report_json(report: ProveReport) -> dict[str, Any]:
    """Return the report as one JSON object."""
    return {
        "ok": report.ok,
        "z3_version": z3.get_version_string(),
        "timeout_ms": report.timeout_ms,
        "seconds": round(report.seconds, 6),
        "missing": list(report.missing),
        "invariants": [
            {
                "id": r.invariant.id,
                "title": r.invariant.title,
                "scope": r.invariant.scope,
                "status": r.status.value,
                "seconds": round(r.seconds, 6),
                "obligations": [_verdict_json(v) for v in r.obligations],
                "twins": [
                    {
                        **_verdict_json(t.verdict),
                        "defect": t.twin.defect,
                        "refuted": t.ok,
                        "counterexample": t.verdict.counterexample,
                    }
                    for t in r.twins
                ],
            }
            for r in report.results
        ],
    }


def _bound(bound: str | None) -> str:
    return "all sizes" if bound is None else f"bounded: {bound}"


def report_text(report: ProveReport) -> str:
    """Return the report as text: one block per invariant, counterexamples of the twins."""
    lines = [f"Z3 {z3.get_version_string()}, timeout {report.timeout_ms} ms per query"]
    for r in report.results:
        inv = r.invariant
        lines.append("")
        lines.append(f"{inv.id:<4} {r.status.value:<8} {r.seconds:7.3f}s  {inv.title}")
        lines.append(f"     scope: {inv.scope}")
        for v in r.obligations:
            reason = f" ({v.reason})" if v.reason else ""
            lines.append(
                f"     {v.outcome.value:<8} {v.seconds:7.3f}s  {v.name} [{_bound(v.bound)}]{reason}"
            )
        for t in r.twins:
            v = t.verdict
            verdict = "ok" if t.ok else "FAIL: a broken variant must be refuted"
            lines.append(
                f"     twin {v.outcome.value:<8} {v.seconds:6.3f}s  {v.name}: {t.twin.defect}"
                f"  [{verdict}]"
            )
            if v.counterexample:
                shown = ", ".join(f"{k} = {value}" for k, value in v.counterexample.items())
                lines.append(f"          counterexample: {shown}")
            if v.reason:
                lines.append(f"          ({v.reason})")
        if not r.twins:
            lines.append("     FAIL: no negative twin (vacuity unchecked)")
    for missing in report.missing:
        lines.append("")
        lines.append(f"{missing:<4} MISSING  no proof for this catalog invariant")
    proved = sum(r.status is Outcome.PROVED for r in report.results)
    twins = [t for r in report.results for t in r.twins]
    lines.append("")
    lines.append(
        f"{proved}/{len(report.results) + len(report.missing)} invariants proved, "
        f"{sum(t.ok for t in twins)}/{len(twins)} twins refuted, {report.seconds:.2f}s: "
        + ("OK" if report.ok else "FAILED")
    )
    return "\n".join(lines)


def prove_command(
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    only: Annotated[
        list[str] | None, typer.Option("--only", help="check only this invariant (repeatable)")
    ] = None,
    timeout_ms: Annotated[
        int, typer.Option("--timeout-ms", min=1, help="Z3 timeout per query")
    ] = DEFAULT_TIMEOUT_MS,
) -> None:
    """Prove the invariants I1-I10 with Z3 and refute their negative twins.

    Exits non-zero unless every invariant is proved and every twin refuted.
    """
    chosen = only or []
    unknown = sorted(set(chosen) - {inv.id for inv in INVARIANTS} - set(catalog_invariant_ids()))
    if unknown:
        raise typer.BadParameter(f"unknown invariant(s): {', '.join(unknown)}", param_hint="--only")
    report = run_proofs(only=chosen, timeout_ms=timeout_ms)
    if as_json:
        typer.echo(json.dumps(report_json(report), indent=1, sort_keys=True))
    else:
        typer.echo(report_text(report))
    if not report.ok:
        raise typer.Exit(1)
