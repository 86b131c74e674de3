"""The Markdown summary of a run: verdict, totals, requirement matrix, failures, skips."""

from __future__ import annotations

from collections import Counter

from conformance.report.matrix import MatrixRow, describe_measurement
from conformance.report.model import FAILED, STATUSES, Report


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _counts(row: MatrixRow) -> str:
    return ", ".join(f"{n} {s}" for s, n in sorted(row.counts.items())) or "-"


def render_markdown(
    report: Report, rows: list[MatrixRow], plot_files: list[tuple[str, str]]
) -> str:
    """Return the summary as Markdown; ``plot_files`` are ``(title, relative path)`` pairs."""
    h, f = report.header, report.footer
    impl = h.implementation
    out = [
        f"# Conformance report: {impl.name} {impl.version}",
        "",
        f"**Verdict: {f.verdict}**" + ("" if h.full_run else " (FILTERED RUN)"),
        "",
        "| | |",
        "|---|---|",
        f"| implementation | `{_cell(impl.spec)}`: {impl.name} {impl.version}"
        + (f", protocol {impl.protocol}" if impl.protocol is not None else "")
        + " |",
        f"| capabilities | {', '.join(impl.capabilities) or '-'} |",
        f"| suite | {h.suite.get('version')} (hash `{str(h.suite.get('hash'))[:16]}`) |",
        f"| run | {h.started}, {f.duration_s:.1f} s, {h.workers or 1} worker(s), seed {h.seed} |",
        f"| machine | {h.environment.get('cpu')}, {h.environment.get('cores')} cores, "
        f"Python {h.environment.get('python')}, z3 {h.environment.get('z3')} |",
        f"| filters | {_filters(report)} |",
        *(f"| problem | {_cell(str(p))} |" for p in h.options.get("problems", [])),
        "",
        "| " + " | ".join(STATUSES) + " | MUST failures | known failures |",
        "|" + "---|" * (len(STATUSES) + 2),
        "| "
        + " | ".join(str(f.totals.get(s, 0)) for s in STATUSES)
        + f" | {f.must_failures} | {f.known_failures} |",
        "",
    ]
    if plot_files:
        out += ["## Charts", ""] + [f"![{title}]({path})" for title, path in plot_files] + [""]
    out += [
        "## Requirement matrix",
        "",
        "| ID | level | title | status | cases | measured vs threshold |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        measured = "; ".join(describe_measurement(m) for m in row.measurements) or row.note or ""
        out.append(
            f"| {row.rule_id} | {row.level} | {_cell(row.title)} | {row.status} | "
            f"{_counts(row)} | {_cell(measured)} |"
        )
    failed = [c for c in report.cases if c.status in FAILED]
    if failed:
        out += ["", "## Failures", ""]
        for case in failed:
            known = f" (known failure: {case.known_failure})" if case.known_failure else ""
            first_line = (case.message or "").splitlines()[0][:300] if case.message else ""
            rules = ", ".join(case.rules)
            out.append(
                f"- `{case.case_id}` [{rules}] **{case.status}**{known}: {_cell(first_line)}"
            )
            if case.divergence:
                d = case.divergence
                expected, actual = _cell(str(d.get("expected"))), _cell(str(d.get("actual")))
                where = d.get("path") or "(top)"
                out.append(f"  - first divergence at `{where}`: expected {expected}, got {actual}")
    reasons = Counter(c.message for c in report.cases if c.status == "skip")
    if reasons:
        out += ["", "## Skipped", ""]
        out += [f"- {n} case(s): {reason}" for reason, n in reasons.most_common()]
    if f.fixed_known_failures or f.stale_expectations:
        out += ["", "## Expectation file", ""]
        out += [f"- fixed (remove it): `{i}`" for i in f.fixed_known_failures]
        out += [f"- stale (no such case): `{i}`" for i in f.stale_expectations]
    return "\n".join(out) + "\n"


def _filters(report: Report) -> str:
    fl = report.header.filters
    if fl.is_empty():
        return "none (full run)"
    parts = [
        f"--req {' '.join(fl.req)}" if fl.req else "",
        f"--area {' '.join(fl.area)}" if fl.area else "",
        f"--capability {' '.join(fl.capability)}" if fl.capability else "",
        f"-k {fl.keyword}" if fl.keyword else "",
        f"-m {fl.marker}" if fl.marker else "",
    ]
    return "; ".join(p for p in parts if p)
