"""A network run's report: the same files as every run (report.jsonl, summary.md, report.html,
junit.xml, plots/), one case per checker, the timeline chart, the history beside them.

Each checker (:mod:`conformance.network.checkers`) becomes a case ``network::<checker>`` citing
its rules, so the requirement matrix shows which rules the run judged. The header's options
hold the run's parameters, the contract version, the replay command (the rerun command every
failure shows) and the timeline the chart is drawn from (:mod:`conformance.report.timeline`).
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from conformance.network.checkers import Verdict
from conformance.network.contract import CONTRACT_VERSION
from conformance.network.run import RunRecord
from conformance.report.environment import environment_info, suite_info
from conformance.report.model import (
    Case,
    Filters,
    Header,
    ImplementationInfo,
    Measurement,
    Report,
    compute_footer,
    write_report,
)
from conformance.report.render import REPORT_FILE, render_report

#: Most points of each timeline series kept in the header.
MAX_POINTS = 3_000
UNITS = {
    "recovery_s": "s",
    "bound_s": "s",
    "heights_compared": "heights",
    "heights_verified": "heights",
}


def timeline_of(record: RunRecord) -> dict[str, Any]:
    """Heights per node over time, latency per transfer, fault windows, the last heal."""
    heights: dict[str, list[tuple[float, int]]] = {node: [] for node in record.ids}
    for op in record.history.select("status", "ok"):
        if op.node in heights:
            heights[op.node].append((op.time, int(op.value["height"])))
    first_sent: dict[str, float] = {}
    for op in record.history.select("transfer", "invoke"):
        first_sent.setdefault(str(op.value["id"]), op.time)
    latency = []
    done: set[str] = set()
    for op in record.history.select("confirm", "ok"):
        tid = str(op.value["id"])
        if tid in first_sent and tid not in done:
            done.add(tid)
            latency.append((first_sent[tid], round(op.time - first_sent[tid], 4)))
    faults = [
        (a.started, a.ended if a.ended is not None else a.started, a.fault.kind)
        for a in record.applied
    ]
    return {
        "heights": {node: _thin(points) for node, points in heights.items()},
        "latency": _thin(latency),
        "faults": faults,
        "heal": record.heal_time,
    }


def _thin(points: list[Any]) -> list[Any]:
    step = max(1, len(points) // MAX_POINTS)
    return points[::step]


def _case(verdict: Verdict, record: RunRecord, replay: Path | None) -> Case:
    notes = list(verdict.details[:30])
    if verdict.failed and replay is not None:
        notes.append(f"replay: aethel-conformance network --replay {replay}")
    if verdict.failed and record.abort_log:
        notes.append("end of the node's log:\n" + record.abort_log[-1500:])
    measurements = [
        Measurement(metric=name, value=value, unit=UNITS.get(name, "count"))
        for name, value in sorted(verdict.measurements.items())
    ]
    return Case(
        case_id=f"network::{verdict.checker}",
        nodeid=f"network::{verdict.checker}",
        rules=list(verdict.rules),
        areas=["network"],
        capabilities=["node"],
        level="MUST",
        status=verdict.status,  # type: ignore[arg-type]
        duration_s=0.0,
        message=verdict.message,
        measurements=measurements,
        notes=notes,
    )


def write_run_report(
    record: RunRecord,
    verdicts: list[Verdict],
    out_dir: Path,
    *,
    replay: Path | None,
    started: str,
) -> Report:
    """Write and render the report of one run into ``out_dir``; return it."""
    config = record.config
    applied = [
        {"kind": a.fault.kind, "start": a.started, "end": a.ended, "targets": a.fault.targets}
        for a in record.applied
    ]
    options: dict[str, Any] = {
        "contract": CONTRACT_VERSION,
        "validators": config.validators,
        "mix_reference": config.mix,
        "nemeses": list(config.nemeses),
        "duration_s": config.duration,
        "clients": config.clients,
        "liveness_bound_s": None if record.liveness is None else record.liveness.seconds,
        "liveness_bound": None if record.liveness is None else record.liveness.to_json(),
        "kinds": record.kinds(),
        "faults": applied,
        "aborted": record.aborted,
        "proxy": record.proxy_stats,
        "wall_s": record.wall_s,
        "timeline": timeline_of(record),
    }
    if replay is not None:
        options["rerun"] = f"aethel-conformance network --replay {replay}"
    if record.aborted:
        options["problems"] = [f"the run stopped early: {record.aborted}"]
    header = Header(
        suite=suite_info(),
        implementation=ImplementationInfo(
            spec=f"node:{config.impl}",
            name="network run:",
            version=f"nodes under node contract {CONTRACT_VERSION}",
            capabilities=["node"],
        ),
        environment=environment_info(),
        seed=config.seed,
        filters=Filters(),
        full_run=True,
        workers=0,
        options=options,
        started=started,
    )
    cases = [_case(v, record, replay) for v in verdicts]
    finished = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    footer = compute_footer(header, cases, duration_s=record.wall_s, finished=finished)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_report(out_dir / REPORT_FILE, header, cases, footer)
    record.history.write(out_dir / "history.jsonl")
    return render_report(out_dir / REPORT_FILE)


__all__ = ["timeline_of", "write_run_report"]
