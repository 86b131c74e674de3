"""The HTML summary of a run: one self-contained file (charts embedded), opens in any browser.

Order: verdict and exit code, totals, what did not pass (failures, inconclusive cases, known
failures: each with its rules' text, message, transcript, replay and rerun command), the
requirement matrix, then the charts.
"""

from __future__ import annotations

import base64
from collections import Counter
from importlib import resources

import jinja2

from conformance.report.failures import GROUPS, filters_text, unsettled_cases
from conformance.report.matrix import MatrixRow, describe_measurement
from conformance.report.model import STATUSES, Report
from conformance.report.outcome import outcome_of
from conformance.report.text import visible

Plot = tuple[str, str, bytes]


def _template() -> jinja2.Template:
    source = resources.files("conformance.report").joinpath("templates/report.html.j2")
    environment = jinja2.Environment(autoescape=True)
    environment.filters["visible"] = visible
    return environment.from_string(source.read_text(encoding="utf-8"))


def render_html(report: Report, rows: list[MatrixRow], plots: list[Plot]) -> str:
    """Return the HTML summary."""
    footer = report.footer
    outcome = outcome_of(report)
    if outcome.code == 1:
        verdict_class = "bad"
    elif footer.verdict == "conformant":
        verdict_class = "good"
    else:
        verdict_class = "partial"
    skips = Counter(c.message or "" for c in report.cases if c.status == "skip").most_common()
    unsettled = unsettled_cases(report)
    return _template().render(
        header=report.header,
        footer=footer,
        outcome=outcome,
        impl=report.header.implementation,
        env=report.header.environment,
        filters=filters_text(report),
        statuses=STATUSES,
        verdict_class=verdict_class,
        plots=[(t, n, base64.b64encode(data).decode("ascii")) for t, n, data in plots],
        rows=rows,
        groups=[(g, [u for u in unsettled if u.group == g]) for g in GROUPS],
        skips=skips,
        cases=report.cases,
        describe=describe_measurement,
    )
