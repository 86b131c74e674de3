"""Charts of a run (matplotlib PNG): statuses by area, margins over thresholds, scaling.

Each function returns ``(title, file name, PNG bytes)`` or nothing when the run has no data for
it; the HTML summary embeds the bytes, the Markdown summary links the files. A chart is drawn
only when it carries information: a scaling chart needs at least two sizes of one metric (a
single point shows no scaling). Colours follow the case status, so a measurement of an
inconclusive case (a threshold missed on a busy machine) is blue like ``unknown``, not red.

matplotlib is imported on first use only (:mod:`conformance.report.figures`):
``aethel-conformance --help`` and every command that draws no chart start without it.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from conformance.report.figures import png, pyplot
from conformance.report.model import STATUSES, Measurement, Report
from conformance.report.timeline import plot_timeline

COLORS = {
    "pass": "#2e7d32",
    "fail": "#c62828",
    "error": "#ef6c00",
    "timeout": "#6a1b9a",
    "skip": "#9e9e9e",
    "unknown": "#1565c0",
}
Plot = tuple[str, str, bytes]
#: Fewest distinct x values of a metric for a scaling chart.
MIN_SCALING_POINTS = 2


def plot_status_by_area(report: Report) -> Plot | None:
    """Stacked bars: how many cases of each area ended in each status."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for case in report.cases:
        for area in case.areas or ["(no area)"]:
            counts[area][case.status] += 1
    if not counts:
        return None
    areas = sorted(counts)
    figure, axes = pyplot().subplots(figsize=(8, 0.45 * len(areas) + 1.5))
    left = [0] * len(areas)
    for status in STATUSES:
        values = [counts[a][status] for a in areas]
        if any(values):
            axes.barh(areas, values, left=left, color=COLORS[status], label=status)
            left = [x + v for x, v in zip(left, values, strict=True)]
    axes.set_xlabel("cases")
    axes.set_title("Cases by spec area and status")
    axes.invert_yaxis()
    axes.legend(loc="lower right", fontsize="small")
    return ("Cases by area and status", "status_by_area.png", png(figure))


def _margin(m: Measurement) -> float | None:
    """Return how many times better than its threshold a measurement is (1 = exactly met)."""
    if m.threshold is None or isinstance(m.value, str) or m.value <= 0 or m.threshold <= 0:
        return None
    if m.comparison in (">=", ">"):
        return m.value / m.threshold
    if m.comparison in ("<=", "<"):
        return m.threshold / m.value
    return None


def margin_rows(report: Report) -> list[tuple[str, float, str]]:
    """Return ``(label, margin, colour status)`` per measurement with a threshold, sorted.

    A met threshold is ``pass``; a missed one takes its case's status: ``fail``, or ``unknown``
    when the machine was too busy to tell (then it is drawn blue, not red).
    """
    rows = []
    for case in report.cases:
        for m in case.measurements:
            margin = _margin(m)
            if margin is not None:
                status = "pass" if m.holds else case.status
                rows.append(
                    (
                        f"{m.rule} {m.metric}" + (f" @{m.x:g}" if m.x is not None else ""),
                        margin,
                        status if status in COLORS else "fail",
                    )
                )
    return sorted(rows, key=lambda r: r[0])


def plot_threshold_margins(report: Report) -> Plot | None:
    """Bars: measured value relative to the spec threshold (log scale; right of 1 = met)."""
    rows = margin_rows(report)
    if not rows:
        return None
    figure, axes = pyplot().subplots(figsize=(8, 0.4 * len(rows) + 1.5))
    labels = [r[0] for r in rows]
    axes.barh(labels, [r[1] for r in rows], color=[COLORS[r[2]] for r in rows])
    axes.axvline(1.0, color="black", linestyle="--", label="spec threshold")
    axes.set_xscale("log")
    axes.set_xlabel("measured / threshold (times better than required)")
    axes.set_title("Measured values against the spec thresholds")
    axes.invert_yaxis()
    axes.legend(loc="lower right", fontsize="small")
    return ("Measured vs threshold", "threshold_margins.png", png(figure))


def plot_scaling(report: Report) -> list[Plot]:
    """One line chart per measurement series with x values (e.g. finality vs validators)."""
    series: dict[str, list[Measurement]] = defaultdict(list)
    for case in report.cases:
        for m in case.measurements:
            if m.series and m.x is not None and not isinstance(m.value, str):
                series[m.series].append(m)
    plots = []
    for name, points in sorted(series.items()):
        points.sort(key=lambda m: m.x or 0)
        by_metric: dict[str, list[Measurement]] = defaultdict(list)
        for m in points:
            by_metric[m.metric].append(m)
        # One point shows no scaling: keep the metrics measured at two sizes or more.
        by_metric = {
            metric: ms
            for metric, ms in by_metric.items()
            if len({m.x for m in ms}) >= MIN_SCALING_POINTS
        }
        if not by_metric:
            continue
        figure, axes = pyplot().subplots(figsize=(7, 4))
        for metric, ms in sorted(by_metric.items()):
            xs = [float(m.x) for m in ms if m.x is not None]  # series hold only points with x
            ys = [float(m.value) for m in ms if m.x is not None]
            axes.plot(xs, ys, marker="o", label=metric)
            limits = {m.threshold for m in ms if m.threshold is not None}
            for limit in sorted(limits):
                axes.axhline(
                    limit, color=COLORS["fail"], linestyle="--", label=f"{metric} threshold"
                )
        axes.set_xscale("log")
        axes.set_xlabel(name.split(" by ")[-1] if " by " in name else "x")
        axes.set_ylabel(points[0].unit)
        axes.set_title(f"Scaling: {name}")
        axes.legend(fontsize="small")
        safe = "".join(ch if ch.isalnum() else "_" for ch in name)
        plots.append((f"Scaling: {name}", f"scaling_{safe}.png", png(figure)))
    return plots


def render_plots(report: Report) -> list[Plot]:
    """Return every chart the report has data for."""
    plots = [p for p in (plot_status_by_area(report), plot_threshold_margins(report)) if p]
    return plots + plot_scaling(report) + plot_timeline(report)
