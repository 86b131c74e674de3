"""The timeline chart of a network run: heights and latency over time, fault windows shaded.

A network run (``aethel-conformance network``) keeps its timeline in the report header
(``options.timeline``): each node's committed height at every poll, each transfer's latency from
its first submission to its first acknowledged commit, and the fault windows. This module draws
it; runs without a timeline get no chart.
"""

from __future__ import annotations

from typing import Any

from conformance.report.figures import png, pyplot
from conformance.report.model import Report

#: Colours of the fault windows, by family.
FAULT_COLOURS = {"partition": "#ef9a9a", "process": "#b39ddb", "link": "#ffe082"}


def _family(kind: str) -> str:
    if kind.startswith("partition"):
        return "partition"
    return "process" if kind in ("kill", "pause", "wipe") else "link"


def plot_timeline(report: Report) -> list[tuple[str, str, bytes]]:
    """One chart (two panels sharing the time axis) or none."""
    timeline: Any = report.header.options.get("timeline")
    if not isinstance(timeline, dict) or not timeline.get("heights"):
        return []
    plt = pyplot()
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
    drawn = False
    for node, points in sorted(timeline["heights"].items()):
        if points:
            xs, ys = zip(*points, strict=True)
            top.step(xs, ys, where="post", linewidth=1, label=node)
            drawn = True
    top.set_ylabel("committed height")
    if drawn:
        top.legend(fontsize="x-small", ncol=4, loc="upper left")
    latency = timeline.get("latency") or []
    if latency:
        xs, ys = zip(*latency, strict=True)
        bottom.scatter(xs, ys, s=6, color="#1565c0", label="transfer latency")
        bottom.set_yscale("log")
    bottom.set_ylabel("submit -> acknowledged commit (s)")
    bottom.set_xlabel("seconds since the run started")
    seen: set[str] = set()
    for start, end, kind in timeline.get("faults") or []:
        family = _family(str(kind))
        label = family if family not in seen else None
        seen.add(family)
        for axes in (top, bottom):
            axes.axvspan(start, end, color=FAULT_COLOURS[family], alpha=0.4, label=label)
            label = None
        top.text(start, top.get_ylim()[1], str(kind), fontsize=6, rotation=90, va="top")
    heal = timeline.get("heal")
    if isinstance(heal, int | float):
        for axes in (top, bottom):
            axes.axvline(heal, color="#2e7d32", linestyle="--")
    if seen:
        bottom.legend(fontsize="x-small", loc="upper right")
    top.set_title("Network run: heights, latency and faults over time (green line: last heal)")
    return [("Network timeline", "network_timeline.png", png(figure))]


__all__ = ["plot_timeline"]
