"""The report of a mechanical campaign: scores per module, per area and per operator kind.

Written to ``reports/selftest/mechanical-<label>.md`` and ``.json`` with the commit the campaign
ran at. The score of a group is killed / (mutants - equivalent - incompetent), where killed counts
kills by a failing case and by timeout; ``no-coverage`` mutants (no case reaches them) count as
survivors. Every survivor is listed with where it is and what it changes, for triage.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from conformance.mechanical.campaign import KILLED
from conformance.mechanical.generate import enumerate_module, exclusion_of
from conformance.mechanical.triage import Equivalent

#: Spec area of each module (longest matching prefix wins).
AREAS: tuple[tuple[str, str], ...] = (
    ("aethel/encoding.py", "encoding"),
    ("aethel/rfc6962.py", "encoding (list hash)"),
    ("aethel/arith.py", "encoding"),
    ("aethel/economics.py", "economics"),
    ("aethel/monitoring/rewards.py", "economics"),
    ("aethel/merkle/", "state-tree"),
    ("aethel/state/sync.py", "sync"),
    ("aethel/state/snapshot.py", "sync"),
    ("aethel/state/", "state-tree"),
    ("aethel/proofs/", "proofs"),
    ("aethel/consensus/", "consensus"),
    ("aethel/monitoring/", "monitoring"),
    ("aethel/sim/", "simulator (a tool; no implementation serves it)"),
    ("aethel/node/", "node (a tool; no implementation serves it)"),
    ("aethel/", "common"),
)


def area_of(module: str) -> str:
    """Return the spec area of ``module``."""
    best = max((p for p, _ in AREAS if module.startswith(p)), key=len)
    return dict(AREAS)[best]


def exclusions(campaign: Any, every: list[Any], excluded_modules: list[str]) -> dict[str, Any]:
    """Return what the campaign left out and why: modules, and positions by reason.

    For each excluded module: its reason, how many mutants it would have, and how many of its
    lines the control's served processes ran (0 backs the claim that no implementation process
    runs it).
    """
    sources = dict(campaign.snapshot.files)
    modules = []
    for module in sorted(excluded_modules):
        modules.append(
            {
                "module": module,
                "reason": exclusion_of(module),
                "mutants": len(enumerate_module(module, sources[module])),
                "lines_run_by_the_implementation": len(campaign.coverage.lines.get(module, {}))
                + len(campaign.coverage.startup.get(module, ())),
            }
        )
    return {
        "modules": modules,
        "voided": list(campaign.voided),
        "positions": dict(sorted(campaign.excluded_positions.items())),
        "mutants_in_scope": len(every),
    }


def _score(rows: list[dict[str, Any]], equivalent: set[str]) -> dict[str, Any]:
    counted = [r for r in rows if r["id"] not in equivalent and r["verdict"] != "incompetent"]
    killed = sum(1 for r in counted if r["verdict"] in KILLED)
    return {
        "mutants": len(rows),
        "equivalent": sum(1 for r in rows if r["id"] in equivalent),
        "incompetent": sum(1 for r in rows if r["verdict"] == "incompetent"),
        "killed": sum(1 for r in counted if r["verdict"] == "killed"),
        "timeout": sum(1 for r in counted if r["verdict"] == "timeout"),
        "survived": sum(1 for r in counted if r["verdict"] == "survived"),
        "no_coverage": sum(1 for r in counted if r["verdict"] == "no-coverage"),
        "error": sum(1 for r in counted if r["verdict"] == "error"),
        "score": round(killed / len(counted), 4) if counted else None,
    }


def build_report(
    record: dict[str, Any],
    results: Iterable[dict[str, Any]],
    equivalents: dict[str, Equivalent],
    *,
    label: str,
    modules: list[str],
    sample_size: int,
    seed: int,
    wall_s: float,
    workers: str,
    reach: dict[str, list[str]] | None = None,
    excluded: dict[str, Any] | None = None,
    runner: str = "warm",
    selection: str = "direct",
    recheck: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the campaign report as JSON-ready data.

    ``reach`` gives, per mutant ID, the rules of the cases that ran its line (for triage).
    """
    reach = reach or {}
    rows = sorted(results, key=lambda r: r["id"])
    listed = set(equivalents)
    groups: dict[str, dict[str, list[dict[str, Any]]]] = {
        "module": defaultdict(list),
        "area": defaultdict(list),
        "kind": defaultdict(list),
    }
    for row in rows:
        groups["module"][row["module"]].append(row)
        groups["area"][area_of(row["module"])].append(row)
        groups["kind"][row["kind"]].append(row)
    ran = [r for r in rows if r.get("cases_run")]
    survivors = [
        r for r in rows if r["verdict"] in ("survived", "no-coverage") and r["id"] not in listed
    ]
    by_commit: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        by_commit[row.get("commit") or record["commit"]][row["verdict"]] += 1
    kills = [r for r in rows if r["verdict"] in KILLED and not r.get("carried_from")]
    return {
        "label": label,
        "commit": record["commit"],
        "runner": runner,
        "selection": selection,
        "recheck": recheck or {},
        "by_commit": {c: dict(sorted(v.items())) for c, v in sorted(by_commit.items())},
        "confirmed_kills": sum(1 for r in kills if r.get("confirmed")),
        "kills_judged_here": len(kills),
        "excluded": excluded or {},
        "dirty": record["dirty"],
        "snapshot": record["snapshot"],
        "suite_hash": record["suite_hash"],
        "started": record["started"],
        "control": record.get("control", {}),
        "modules": modules,
        "sample": sample_size,
        "seed": seed,
        "workers": workers,
        "wall_s": round(wall_s, 1),
        "cost": {
            "mutants_run": len(ran),
            "mean_s_per_mutant": round(sum(r["duration_s"] for r in ran) / len(ran), 2)
            if ran
            else None,
            "mean_cases_run": round(sum(r["cases_run"] for r in ran) / len(ran), 1)
            if ran
            else None,
        },
        "total": _score(rows, listed),
        "by_module": {k: _score(v, listed) for k, v in sorted(groups["module"].items())},
        "by_area": {k: _score(v, listed) for k, v in sorted(groups["area"].items())},
        "by_kind": {k: _score(v, listed) for k, v in sorted(groups["kind"].items())},
        "equivalent_but_killed": sorted(
            r["id"] for r in rows if r["id"] in listed and r["verdict"] in KILLED
        ),
        "survivors": [
            {
                k: r[k]
                for k in (
                    "id",
                    "module",
                    "line",
                    "definition",
                    "operator",
                    "original",
                    "mutated",
                    "verdict",
                    "cases_selected",
                    "cases_direct",
                )
            }
            | {"rules_reaching": reach.get(r["id"], [])}
            for r in survivors
        ],
    }


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _table(title: str, scores: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        f"### {title}",
        "",
        "| | mutants | equivalent | killed | timeout | survived | no coverage | error | score |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, s in scores.items():
        lines.append(
            f"| {name} | {s['mutants']} | {s['equivalent']} | {s['killed']} | {s['timeout']} | "
            f"{s['survived']} | {s['no_coverage']} | {s['error']} | {_pct(s['score'])} |"
        )
    return [*lines, ""]


def render_markdown(report: dict[str, Any]) -> str:
    """Return the report as Markdown."""
    total = report["total"]
    cost = report["cost"]
    counted = total["mutants"] - total["equivalent"] - total["incompetent"]
    lines = [
        f"# Mechanical mutation campaign: {report['label']}",
        "",
        f"- commit `{report['commit']}`{' (with uncommitted changes)' if report['dirty'] else ''}"
        f", snapshot of aethel/ `{report['snapshot'][:16]}`, suite hash "
        f"`{report['suite_hash'][:16]}`, started {report['started']}",
        f"- modules: {', '.join(report['modules']) or 'all of aethel/ (bench and CLI aside)'}",
        f"- sample: {report['sample'] or 'every mutant'} (seed {report['seed']}); run on "
        f"{report['workers']}; wall time {report['wall_s']:.0f} s for this invocation",
        f"- control (pristine snapshot, suite minus performance): {report['control']}",
        f"- cost: {cost['mutants_run']} mutants run, {cost['mean_s_per_mutant']} s each on "
        f"average (one worker), {cost['mean_cases_run']} cases each on average",
        "",
        f"**Score: {_pct(total['score'])}** of {counted} "
        f"non-equivalent mutants killed ({total['killed']} by a failing case, {total['timeout']} "
        f"by timeout; {total['survived']} survived, {total['no_coverage']} reached by no case, "
        f"{total['equivalent']} listed equivalent, {total['incompetent']} incompetent).",
        "",
    ]
    lines += _header_notes(report)
    lines += _table("By module", report["by_module"])
    lines += _table("By area", report["by_area"])
    lines += _table("By operator kind", report["by_kind"])
    if report["equivalent_but_killed"]:
        lines += ["### Listed as equivalent but killed (fix the list)", ""]
        lines += [f"- `{i}`" for i in report["equivalent_but_killed"]] + [""]
    lines += ["### Survivors (to triage)", ""]
    if not report["survivors"]:
        lines.append("None.")
    for s in report["survivors"]:
        lines.append(
            f"- `{s['id']}` line {s['line']} in `{s['definition']}`: `{s['original']}` -> "
            f"`{s['mutated']}` ({s['verdict']}; {s['cases_selected']} cases run, "
            f"{s['cases_direct']} reaching the line; their rules: "
            f"{', '.join(s['rules_reaching']) or '-'})"
        )
    return "\n".join(lines) + "\n"


def _header_notes(report: dict[str, Any]) -> list[str]:
    lines = [
        f"- runner: {report.get('runner', 'warm')} "
        "(warm: one pytest session per worker, collected once; process: one pytest process per "
        f"mutant); case selection: {report.get('selection', 'direct')} (direct: the cases that "
        "ran a mutated line; a module- or class-level mutant, or one of a def line, runs every "
        "case of its module)",
        f"- kills judged in this campaign: {report.get('kills_judged_here', 0)}, of which "
        f"{report.get('confirmed_kills', 0)} confirmed (the killing case then passed against a "
        "freshly started pristine implementation)",
    ]
    recheck = report.get("recheck") or {}
    if recheck:
        lines.append(
            f"- recheck of `{recheck['earlier']}` (commit `{recheck['earlier_commit'][:12]}`): "
            f"{recheck['rerun_survivors']} of its survivors and {recheck['never_judged']} "
            f"mutants it never judged were run at this commit; its kills were carried over; "
            f"{recheck['dropped']} of its verdicts were dropped (the mutant no longer exists)"
        )
    lines += ["", "### Verdicts by the commit they were judged at", ""]
    lines += ["| commit | " + " | ".join(VERDICT_COLUMNS) + " |"]
    lines += ["|---|" + "---:|" * len(VERDICT_COLUMNS)]
    for commit, counts in report.get("by_commit", {}).items():
        cells = " | ".join(str(counts.get(v, 0)) for v in VERDICT_COLUMNS)
        lines.append(f"| `{commit[:12]}` | {cells} |")
    lines.append("")
    excluded = report.get("excluded") or {}
    if excluded:
        lines += ["### Left out, and why", ""]
        lines.append(
            f"{excluded['mutants_in_scope']} mutants in scope. Excluded modules (no "
            "implementation process runs them; the last column is the number of their lines the "
            "control's served processes ran):"
        )
        lines += ["", "| module | mutants | lines run | reason |", "|---|---:|---:|---|"]
        for m in excluded["modules"]:
            lines.append(
                f"| `{m['module']}` | {m['mutants']} | {m['lines_run_by_the_implementation']} | "
                f"{m['reason']} |"
            )
        total = sum(m["mutants"] for m in excluded["modules"])
        lines += ["", f"{total} mutants in excluded modules.", ""]
        if excluded.get("voided"):
            lines.append(
                "Listed as excluded but run by the control's implementation, so mutated after "
                f"all: {', '.join(f'`{m}`' for m in excluded['voided'])}."
            )
            lines.append("")
        if excluded["positions"]:
            lines.append("Positions left out inside mutated modules:")
            lines.append("")
            for reason, count in excluded["positions"].items():
                lines.append(f"- {count}: {reason}")
            lines.append("")
    return lines


VERDICT_COLUMNS = ("killed", "timeout", "survived", "no-coverage", "incompetent", "error")


def write_report(report: dict[str, Any], directory: Path) -> tuple[Path, Path]:
    """Write ``mechanical-<label>.md`` and ``.json`` under ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    md = directory / f"mechanical-{report['label']}.md"
    js = directory / f"mechanical-{report['label']}.json"
    md.write_text(render_markdown(report), encoding="utf-8")
    js.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return md, js
