"""The report of a mechanical campaign: scores per module, per area and per operator kind.

Written to ``reports/selftest/mechanical-<label>.md`` and ``.json`` with the commit the campaign
ran at. The score of a group is killed / (mutants - equivalent - incompetent), where killed counts
kills by a failing case and by timeout; ``no-coverage`` mutants (no case reaches them) count as
survivors. Every survivor is listed with where it is and what it changes, for triage.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from conformance.mechanical.campaign import KILLED
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
    return {
        "label": label,
        "commit": record["commit"],
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


def write_report(report: dict[str, Any], directory: Path) -> tuple[Path, Path]:
    """Write ``mechanical-<label>.md`` and ``.json`` under ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    md = directory / f"mechanical-{report['label']}.md"
    js = directory / f"mechanical-{report['label']}.json"
    md.write_text(render_markdown(report), encoding="utf-8")
    js.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return md, js
