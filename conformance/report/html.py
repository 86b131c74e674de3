"""The HTML summary of a run: one self-contained file (charts embedded), opens in any browser."""

from __future__ import annotations

import base64
from collections import Counter
from importlib import resources

import jinja2

from conformance.report.markdown import _filters
from conformance.report.matrix import MatrixRow, describe_measurement
from conformance.report.model import FAILED, STATUSES, Report
from conformance.report.plots import Plot


def _template() -> jinja2.Template:
    source = resources.files("conformance.report").joinpath("templates/report.html.j2")
    environment = jinja2.Environment(autoescape=True)
    return environment.from_string(source.read_text(encoding="utf-8"))


def render_html(report: Report, rows: list[MatrixRow], plots: list[Plot]) -> str:
    """Return the HTML summary."""
    footer = report.footer
    if footer.must_failures:
        verdict_class = "bad"
    elif footer.verdict == "conformant":
        verdict_class = "good"
    else:
        verdict_class = "partial"
    skips = Counter(c.message or "" for c in report.cases if c.status == "skip").most_common()
    return _template().render(
        header=report.header,
        footer=footer,
        impl=report.header.implementation,
        env=report.header.environment,
        filters=_filters(report),
        statuses=STATUSES,
        verdict_class=verdict_class,
        plots=[(t, n, base64.b64encode(data).decode("ascii")) for t, n, data in plots],
        rows=rows,
        failures=[c for c in report.cases if c.status in FAILED],
        skips=skips,
        cases=report.cases,
        describe=describe_measurement,
    )
