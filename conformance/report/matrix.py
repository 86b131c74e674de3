"""The requirement matrix: catalog ID -> cases -> status -> measured value vs threshold."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from aethel.catalog import Catalog, load_catalog
from conformance.report.model import FAILED, Case, Measurement, Report

#: Worst first: the row status is the worst status among its cases.
ORDER = ("fail", "error", "timeout", "known-failure", "unknown", "pass", "skip")


@dataclass(frozen=True, slots=True)
class MatrixRow:
    """One catalog ID and what the run found for it."""

    rule_id: str
    level: str
    area: str
    kind: str
    title: str
    cases: tuple[Case, ...]
    status: str
    counts: dict[str, int]
    measurements: tuple[Measurement, ...]
    note: str


def _row_status(cases: tuple[Case, ...], rule_id: str, filtered: bool) -> tuple[str, str]:
    if not cases:
        if rule_id.startswith("I"):
            return (
                "not in suite",
                "Z3-proved invariant: see aethel/formal/ and `aethel prove`",
            )
        return ("not selected", "filtered out of this run") if filtered else ("no case", "")
    statuses = set()
    for case in cases:
        if case.known_failure and case.status in FAILED:
            statuses.add("known-failure")
        else:
            statuses.add(case.status)
    for status in ORDER:
        if status in statuses:
            return status, ""
    return "unknown", ""


def compute_matrix(report: Report, catalog: Catalog | None = None) -> list[MatrixRow]:
    """Return one row per catalog ID, in spec order."""
    catalog = catalog or load_catalog()
    by_rule: dict[str, list[Case]] = {}
    for case in report.cases:
        for rule_id in case.rules:
            by_rule.setdefault(rule_id, []).append(case)
    rows = []
    filtered = not report.header.full_run
    for rule in catalog:
        cases = tuple(sorted(by_rule.get(rule.id, []), key=lambda c: c.case_id))
        status, note = _row_status(cases, rule.id, filtered)
        measurements = tuple(m for c in cases for m in c.measurements if m.rule == rule.id)
        rows.append(
            MatrixRow(
                rule_id=rule.id,
                level=rule.level,
                area=rule.area,
                kind=rule.kind,
                title=rule.title,
                cases=cases,
                status=status,
                counts=dict(Counter(c.status for c in cases)),
                measurements=measurements,
                note=note,
            )
        )
    return rows


def describe_measurement(m: Measurement) -> str:
    """Return ``value unit (threshold cmp value unit: ok)`` for tables."""
    value = m.value if isinstance(m.value, str) else f"{m.value:.4g}"
    text = f"{m.metric} = {value} {m.unit}"
    if m.threshold is not None:
        verdict = "ok" if m.holds else "NOT MET"
        text += f" (threshold {m.comparison} {m.threshold:g}: {verdict})"
    return text
