"""``aethel-conformance diff OLD NEW``: compare two run reports by stable case ID."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.report.failures import filters_text
from conformance.report.model import FAILED, Report


@dataclass(frozen=True, slots=True)
class ReportDiff:
    """What changed between two runs."""

    new_failures: list[tuple[str, str, str]] = field(default_factory=list)
    fixed: list[tuple[str, str, str]] = field(default_factory=list)
    still_failing: list[tuple[str, str, str]] = field(default_factory=list)
    other_changes: list[tuple[str, str, str]] = field(default_factory=list)
    added: list[tuple[str, str]] = field(default_factory=list)
    removed: list[tuple[str, str]] = field(default_factory=list)


def compute_diff(old: Report, new: Report) -> ReportDiff:
    """Classify every case ID of either report (``(case_id, old status, new status)``)."""
    before, after = old.by_id(), new.by_id()
    result = ReportDiff()
    for case_id in sorted(set(before) | set(after)):
        if case_id not in before:
            result.added.append((case_id, after[case_id].status))
            if after[case_id].status in FAILED:
                result.new_failures.append((case_id, "(absent)", after[case_id].status))
            continue
        if case_id not in after:
            result.removed.append((case_id, before[case_id].status))
            continue
        was, now = before[case_id].status, after[case_id].status
        entry = (case_id, was, now)
        if was not in FAILED and now in FAILED:
            result.new_failures.append(entry)
        elif was in FAILED and now == "pass":
            result.fixed.append(entry)
        elif was in FAILED and now in FAILED:
            result.still_failing.append(entry)
        elif was != now:
            result.other_changes.append(entry)
    return result


def diff_as_json(old: Report, new: Report, diff: ReportDiff) -> dict[str, Any]:
    """Return the diff as one JSON object (``aethel-conformance diff --json``)."""

    def run(report: Report) -> dict[str, Any]:
        impl = report.header.implementation
        return {
            "implementation": {"spec": impl.spec, "name": impl.name, "version": impl.version},
            "suite_hash": report.header.suite.get("hash"),
            "started": report.header.started,
            "full_run": report.header.full_run,
            "filters": filters_text(report),
            "verdict": report.footer.verdict,
        }

    def changes(entries: list[tuple[str, str, str]]) -> list[dict[str, str]]:
        return [{"case_id": c, "old": o, "new": n} for c, o, n in entries]

    return {
        "old": run(old),
        "new": run(new),
        "suite_changed": old.header.suite.get("hash") != new.header.suite.get("hash"),
        "new_failures": changes(diff.new_failures),
        "fixed": changes(diff.fixed),
        "still_failing": changes(diff.still_failing),
        "other_changes": changes(diff.other_changes),
        "added": [{"case_id": c, "status": s} for c, s in diff.added],
        "removed": [{"case_id": c, "status": s} for c, s in diff.removed],
    }


def render_diff(old: Report, new: Report, diff: ReportDiff) -> str:
    """Return the diff as text, one section per kind of change."""
    oi, ni = old.header.implementation, new.header.implementation
    lines = [
        f"old: {oi.name} {oi.version}, suite {old.header.suite.get('version')}, "
        f"{old.header.started}",
        f"new: {ni.name} {ni.version}, suite {new.header.suite.get('version')}, "
        f"{new.header.started}",
    ]
    if old.header.suite.get("hash") != new.header.suite.get("hash"):
        lines.append("note: the suite changed between the runs (different suite hash)")
    sections: list[tuple[str, list[tuple[str, ...]]]] = [
        ("new failures", [tuple(e) for e in diff.new_failures]),
        ("fixed", [tuple(e) for e in diff.fixed]),
        ("still failing", [tuple(e) for e in diff.still_failing]),
        ("other status changes", [tuple(e) for e in diff.other_changes]),
        ("new cases", [tuple(e) for e in diff.added]),
        ("removed cases", [tuple(e) for e in diff.removed]),
    ]
    for run, label in ((old, "old"), (new, "new")):
        if not run.header.full_run:
            lines.append(f"note: the {label} run is filtered ({filters_text(run)})")
    # Cases outside a filtered run's selection are not news: count them, do not list them.
    unlisted = {
        "new cases": not old.header.full_run and new.header.full_run,
        "removed cases": not new.header.full_run and old.header.full_run,
    }
    for title, entries in sections:
        if unlisted.get(title) and entries:
            lines.append(f"{title}: {len(entries)} (outside the filtered run's selection)")
            continue
        lines.append(f"{title}: {len(entries)}")
        for entry in entries:
            lines.append("  " + entry[0] + ": " + " -> ".join(entry[1:]))
    return "\n".join(lines) + "\n"
