"""Render a JSON-lines run report into its Markdown, HTML, JUnit and chart files."""

from __future__ import annotations

from pathlib import Path

from conformance.report.html import render_html
from conformance.report.junit import render_junit
from conformance.report.markdown import render_markdown
from conformance.report.matrix import compute_matrix
from conformance.report.model import Report, read_report

REPORT_FILE = "report.jsonl"


def render_report(report_path: Path, out_dir: Path | None = None) -> Report:
    """Write ``summary.md``, ``report.html``, ``junit.xml`` and ``plots/*.png`` from a report."""
    out_dir = out_dir or report_path.parent
    report = read_report(report_path)
    rows = compute_matrix(report)
    from conformance.report.plots import render_plots  # matplotlib: only when rendering

    plots = render_plots(report)
    plot_dir = out_dir / "plots"
    plot_dir.mkdir(parents=True, exist_ok=True)
    for stale in plot_dir.glob("*.png"):
        stale.unlink()
    for _, name, data in plots:
        (plot_dir / name).write_bytes(data)
    files = [(title, f"plots/{name}") for title, name, _ in plots]
    (out_dir / "summary.md").write_text(render_markdown(report, rows, files), encoding="utf-8")
    (out_dir / "report.html").write_text(render_html(report, rows, plots), encoding="utf-8")
    (out_dir / "junit.xml").write_bytes(render_junit(report))
    return report
