"""The Markdown summary of a run: verdict, what did not pass (with what it takes to fix it),
the requirement matrix, then charts, skips and the expectation file."""

from __future__ import annotations

from collections import Counter

from conformance.report.failures import GROUPS, Unsettled, filters_text, unsettled_cases
from conformance.report.matrix import MatrixRow, describe_measurement
from conformance.report.model import STATUSES, Report
from conformance.report.outcome import outcome_of
from conformance.report.text import one_line, visible

#: Cases of a group shown with every detail; the rest get one line and their rerun command.
DETAILED = 50
#: Most characters of stderr shown per case (report.html and report.jsonl have more).
STDERR_SHOWN = 3_000
#: Last transcript lines shown per case, each cut to this many characters (report.html: all).
TRANSCRIPT_SHOWN = 12
TRANSCRIPT_CHARS = 400


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... [{len(text)} characters]"


def _cell(text: str) -> str:
    return visible(text, keep="").replace("|", "\\|")


def _counts(row: MatrixRow) -> str:
    return ", ".join(f"{n} {s}" for s, n in sorted(row.counts.items())) or "-"


def _block(text: str, language: str = "") -> list[str]:
    """Return a fenced block holding ``text`` verbatim (controls escaped)."""
    body = visible(text.rstrip("\n"))
    fence = "```"
    while fence in body:
        fence += "`"
    return [f"{fence}{language}", body, fence]


def _details(item: Unsettled) -> list[str]:
    case = item.case
    known = f" (known failure: {_cell(case.known_failure)})" if case.known_failure else ""
    out = [f"### `{case.case_id}`: {case.status}, {case.level}{known}", ""]
    for rule in item.rules:
        out.append(f"- **{rule.rule_id}** ({rule.level}) {rule.title}: {rule.statement}")
    out.append("")
    out += _block(case.message or "(no message)")
    if case.divergence:
        d = case.divergence
        where = d.get("path") or "(top)"
        out.append(
            f"- first divergence at `{_cell(str(where))}`: expected "
            f"{_cell(str(d.get('expected')))}, got {_cell(str(d.get('actual')))}"
        )
    if case.notes:
        out += ["- notes:", *_block("\n".join(case.notes))]
    if item.replay:
        out.append(f"- replay: {item.replay}")
    if case.impl_events:
        out.append(f"- implementation events: {_cell('; '.join(case.impl_events))}")
    if case.impl_transcript:
        lines = [_cut(line, TRANSCRIPT_CHARS) for line in case.impl_transcript[-TRANSCRIPT_SHOWN:]]
        if len(case.impl_transcript) > TRANSCRIPT_SHOWN:
            lines.insert(0, f"[{len(case.impl_transcript) - TRANSCRIPT_SHOWN} more in report.html]")
        out += ["- transcript (-> request, <- response):", *_block("\n".join(lines))]
    if case.impl_stderr:
        tail = case.impl_stderr[-STDERR_SHOWN:]
        out += ["- implementation stderr (end):", *_block(tail)]
    out += ["- rerun this case:", *_block(item.rerun, "sh"), ""]
    return out


def render_unsettled(report: Report) -> list[str]:
    """Return the sections of the cases that did not pass, failures first."""
    items = unsettled_cases(report)
    out: list[str] = []
    for group in GROUPS:
        members = [i for i in items if i.group == group]
        if not members:
            continue
        out += [f"## {group.capitalize()} ({len(members)})", ""]
        if group == "inconclusive":
            out += [
                "These cases reached no verdict: a wall-clock threshold was missed while other "
                "processes used the machine, so a slow implementation cannot be told from a busy "
                "machine. Rerun them on a quiet machine.",
                "",
            ]
        for item in members[:DETAILED]:
            out += _details(item)
        for item in members[DETAILED:]:
            out.append(
                f"- `{item.case.case_id}` {item.case.status}: "
                f"{_cell(one_line(item.case.message or ''))} (rerun: `{item.rerun}`)"
            )
        if len(members) > DETAILED:
            out.append("")
    return out


def render_markdown(
    report: Report, rows: list[MatrixRow], plot_files: list[tuple[str, str]]
) -> str:
    """Return the summary as Markdown; ``plot_files`` are ``(title, relative path)`` pairs."""
    h, f = report.header, report.footer
    impl = h.implementation
    outcome = outcome_of(report)
    name = _cell(f"{impl.name} {impl.version}")
    out = [
        f"# Conformance report: {name}",
        "",
        f"**Verdict: {f.verdict}**" + ("" if h.full_run else " (FILTERED RUN)"),
        "",
        f"Exit code {outcome.code} ({outcome.name})"
        + (f": {_cell(outcome.reason)}" if outcome.reason != f.verdict else ""),
        "",
        "| | |",
        "|---|---|",
        f"| implementation | `{_cell(impl.spec)}`: {name}"
        + (f", protocol {impl.protocol}" if impl.protocol is not None else "")
        + " |",
        f"| capabilities | {', '.join(impl.capabilities) or '-'} |",
        f"| suite | {h.suite.get('version')} (hash `{str(h.suite.get('hash'))[:16]}`) |",
        f"| run | {h.started}, {f.duration_s:.1f} s, {h.workers or 1} worker(s), seed {h.seed} |",
        f"| machine | {h.environment.get('cpu')}, {h.environment.get('cores')} cores, "
        f"Python {h.environment.get('python')}, z3 {h.environment.get('z3')} |",
        f"| filters | {_cell(filters_text(report))} |",
        *(f"| problem | {_cell(str(p))} |" for p in h.options.get("problems", [])),
        "",
        "| " + " | ".join(STATUSES) + " | MUST failures | known failures |",
        "|" + "---|" * (len(STATUSES) + 2),
        "| "
        + " | ".join(str(f.totals.get(s, 0)) for s in STATUSES)
        + f" | {f.must_failures} | {f.known_failures} |",
        "",
    ]
    out += render_unsettled(report)
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
    if plot_files:
        out += ["", "## Charts", ""] + [f"![{title}]({path})" for title, path in plot_files]
    reasons = Counter(c.message for c in report.cases if c.status == "skip")
    if reasons:
        out += ["", "## Skipped", ""]
        out += [f"- {n} case(s): {_cell(reason or '')}" for reason, n in reasons.most_common()]
    if f.fixed_known_failures or f.stale_expectations:
        out += ["", "## Expectation file", ""]
        out += [f"- fixed (remove it): `{i}`" for i in f.fixed_known_failures]
        out += [f"- stale (no such case): `{i}`" for i in f.stale_expectations]
    return "\n".join(out) + "\n"
