"""The run report: one JSON-lines file (header, one line per case, footer) and its reading.

Format ``aethel-conformance-report/1``:

* header: ``{"type": "header", "format", "suite": {"version", "hash"}, "implementation":
  {"spec", "name", "version", "capabilities", "protocol"}, "environment", "seed", "filters",
  "full_run", "workers", "options", "expectations", "started"}``
* case: ``{"type": "case", "case_id", "nodeid", "rules", "areas", "capabilities", "level",
  "status", "duration_s", "message", "measurements", "divergence", "impl_stderr", "impl_events",
  "impl_transcript", "generated", "notes", "known_failure"}``; status is one of :data:`STATUSES`.
* footer: ``{"type": "footer", "totals", "must_failures", "should_failures", "known_failures",
  "fixed_known_failures", "stale_expectations", "verdict", "passed", "conformant", "duration_s",
  "finished"}``

Cases are written sorted by case ID so two reports diff line by line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

FORMAT = "aethel-conformance-report/1"
STATUSES = ("pass", "fail", "error", "timeout", "skip", "unknown")
FAILED = frozenset({"fail", "error", "timeout"})
#: Skip reasons of cases that run only at a larger ``--scale`` start with this.
SCALE_SKIP_PREFIX = "scale:"
Status = Literal["pass", "fail", "error", "timeout", "skip", "unknown"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Measurement(_Model):
    """A measured value, with the catalog threshold it was checked against (if any)."""

    metric: str
    value: float | str
    unit: str
    rule: str | None = None
    comparison: str | None = None
    threshold: float | None = None
    holds: bool | None = None
    x: float | None = None
    series: str | None = None
    note: str = ""


class Filters(_Model):
    """The selection a run was restricted to; any non-empty field makes it a filtered run."""

    req: list[str] = Field(default_factory=list)
    area: list[str] = Field(default_factory=list)
    capability: list[str] = Field(default_factory=list)
    case: list[str] = Field(default_factory=list)
    keyword: str | None = None
    marker: str | None = None

    def is_empty(self) -> bool:
        """Return True if nothing was filtered out on purpose."""
        return not (
            self.req or self.area or self.capability or self.case or self.keyword or self.marker
        )


class ImplementationInfo(_Model):
    """Who was tested: the ``--impl`` argument and what the implementation said about itself."""

    spec: str
    name: str
    version: str
    capabilities: list[str]
    protocol: int | None = None


class Header(_Model):
    """First line of a report."""

    type: Literal["header"] = "header"
    format: str = FORMAT
    suite: dict[str, Any]
    implementation: ImplementationInfo
    environment: dict[str, Any]
    seed: int
    filters: Filters
    full_run: bool
    workers: int
    options: dict[str, Any] = Field(default_factory=dict)
    expectations: str | None = None
    started: str


class Case(_Model):
    """One line per case."""

    type: Literal["case"] = "case"
    case_id: str
    nodeid: str
    rules: list[str]
    areas: list[str] = Field(default_factory=list)
    capabilities: list[str] = Field(default_factory=list)
    level: Literal["MUST", "SHOULD"]
    status: Status
    duration_s: float
    message: str | None = None
    where: str | None = None
    measurements: list[Measurement] = Field(default_factory=list)
    divergence: dict[str, Any] | None = None
    impl_stderr: str | None = None
    impl_events: list[str] = Field(default_factory=list)
    #: Request/response lines of a case that did not pass (subprocess implementations, capped).
    impl_transcript: list[str] = Field(default_factory=list)
    #: How the case's input is generated: "hypothesis", "seed" (the run's root seed) or None.
    generated: str | None = None
    #: Notes of the failure (Hypothesis: the falsifying example and the blob that replays it).
    notes: list[str] = Field(default_factory=list)
    known_failure: str | None = None


class Footer(_Model):
    """Last line of a report: totals and the verdict."""

    type: Literal["footer"] = "footer"
    totals: dict[str, int]
    cases: int
    must_failures: int
    should_failures: int
    known_failures: int
    fixed_known_failures: list[str] = Field(default_factory=list)
    stale_expectations: list[str] = Field(default_factory=list)
    verdict: str
    #: The run exits 0 (conformance/report/outcome.py): no MUST case failed (known failures
    #: aside), none inconclusive, a required capability missing nor nothing declared.
    passed: bool
    #: A full run, every MUST case passed, none skipped or inconclusive, no known failures.
    conformant: bool
    duration_s: float
    finished: str


class Report(_Model):
    """A whole report, read back."""

    header: Header
    cases: list[Case]
    footer: Footer

    def by_id(self) -> dict[str, Case]:
        """Return the cases keyed by case ID."""
        return {case.case_id: case for case in self.cases}


def compute_footer(
    header: Header,
    cases: list[Case],
    *,
    duration_s: float,
    finished: str,
    stale_expectations: list[str] | None = None,
) -> Footer:
    """Count the statuses and decide the verdict.

    * ``non-conformant``: a MUST case failed, errored or timed out (known failures aside), a
      capability of ``--require-capability`` is not declared, or with ``--strict`` a MUST case
      was skipped or inconclusive.
    * ``nothing checked``: the implementation declares no capability.
    * ``partial``: a filtered run; it never passes as a full run.
    * ``inconclusive``: a MUST case could not reach a verdict (``unknown``).
    * ``conformant for declared capabilities``: MUST cases were skipped for want of a capability.
    * ``conformant``: everything else.
    Known failures keep a run from being ``conformant`` but do not make it fail. The exit code
    of each verdict is in :mod:`conformance.report.outcome`.
    """
    totals = {status: 0 for status in STATUSES}
    for case in cases:
        totals[case.status] += 1
    failed = [c for c in cases if c.status in FAILED]
    must = [c for c in failed if c.level == "MUST" and not c.known_failure]
    should = [c for c in failed if c.level == "SHOULD" and not c.known_failure]
    known = [c for c in failed if c.known_failure]
    fixed = sorted(c.case_id for c in cases if c.known_failure and c.status == "pass")
    skipped = [c for c in cases if c.status == "skip" and c.level == "MUST"]
    skipped_for_scale = [c for c in skipped if (c.message or "").startswith(SCALE_SKIP_PREFIX)]
    skipped_must = len(skipped) - len(skipped_for_scale)
    unknown_must = sum(c.status == "unknown" and c.level == "MUST" for c in cases)
    strict = bool(header.options.get("strict", False))
    declared = set(header.implementation.capabilities)
    missing = sorted(set(header.options.get("require_capabilities", [])) - declared)
    passed = False
    if must:
        verdict = f"non-conformant: {len(must)} MUST case(s) failed"
    elif missing:
        verdict = f"non-conformant: required capabilities not declared: {', '.join(missing)}"
    elif not declared:
        verdict = "nothing checked: the implementation declares no capability"
    elif strict and (unknown_must or skipped_must):
        verdict = (
            f"non-conformant (--strict): {skipped_must} MUST case(s) skipped, "
            f"{unknown_must} inconclusive"
        )
    elif not cases:
        verdict = "empty run: no case selected"
    elif not header.full_run:
        verdict = "partial: filtered run, not a conformance verdict"
        passed = not unknown_must
    elif known:
        verdict = f"non-conformant: {len(known)} known failure(s) (expected)"
        passed = not unknown_must
    elif unknown_must:
        verdict = "inconclusive: some MUST cases reached no verdict"
    elif skipped_must:
        verdict = "conformant for the declared capabilities only"
        passed = True
    elif skipped_for_scale:
        verdict = (
            f"conformant at standard scale ({len(skipped_for_scale)} full-scale case(s) "
            "not run: --scale full)"
        )
        passed = True
    else:
        verdict = "conformant"
        passed = True
    return Footer(
        totals=totals,
        cases=len(cases),
        must_failures=len(must),
        should_failures=len(should),
        known_failures=len(known),
        fixed_known_failures=fixed,
        stale_expectations=sorted(stale_expectations or []),
        verdict=verdict,
        passed=passed,
        conformant=verdict == "conformant",
        duration_s=round(duration_s, 3),
        finished=finished,
    )


def write_report(path: Path, header: Header, cases: list[Case], footer: Footer) -> None:
    """Write the report as JSON lines, cases sorted by case ID."""
    lines = [header.model_dump_json()]
    lines += [c.model_dump_json() for c in sorted(cases, key=lambda c: c.case_id)]
    lines.append(footer.model_dump_json())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def read_report(path: Path) -> Report:
    """Read a report written by :func:`write_report`; raise ValueError if it is malformed."""
    header: Header | None = None
    footer: Footer | None = None
    cases: list[Case] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            kind = record.get("type")
            if kind == "header":
                header = Header.model_validate(record)
            elif kind == "case":
                cases.append(Case.model_validate(record))
            elif kind == "footer":
                footer = Footer.model_validate(record)
            else:
                raise ValueError(f"unknown record type {kind!r}")
        except ValueError as exc:
            raise ValueError(f"{path}:{number}: {exc}") from None
    if header is None or footer is None:
        raise ValueError(f"{path}: a report needs a header and a footer line")
    return Report(header=header, cases=cases, footer=footer)
