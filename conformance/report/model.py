"""The run report: one JSON-lines file (header, one line per case, footer) and its reading.

Format ``aethel-conformance-report/1``:

* header: ``{"type": "header", "format", "suite": {"version", "hash"}, "implementation":
  {"spec", "name", "version", "capabilities", "protocol"}, "environment", "seed", "filters",
  "full_run", "workers", "options", "expectations", "started"}``
* case: ``{"type": "case", "case_id", "nodeid", "rules", "areas", "capabilities", "level",
  "status", "duration_s", "message", "measurements", "divergence", "impl_stderr", "impl_events",
  "impl_transcript", "known_failure"}``; status is one of :data:`STATUSES`.
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
    keyword: str | None = None
    marker: str | None = None

    def is_empty(self) -> bool:
        """Return True if nothing was filtered out on purpose."""
        return not (self.req or self.area or self.capability or self.keyword or self.marker)


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
    #: No MUST case failed (known failures aside): decides the exit code.
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

    * ``non-conformant``: a MUST case failed, errored or timed out (known failures aside).
    * ``partial``: a filtered run; it never passes as a full run.
    * ``conformant for declared capabilities``: MUST cases were skipped for want of a capability.
    * ``inconclusive``: a MUST case could not reach a verdict (``unknown``).
    * ``conformant``: everything else.
    Known failures keep a run from being ``conformant`` but do not make it fail.
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
    skipped_for_scale = [c for c in skipped if (c.message or "").startswith("scale:")]
    skipped_must = len(skipped) > len(skipped_for_scale)
    unknown_must = any(c.status == "unknown" and c.level == "MUST" for c in cases)
    if must:
        verdict = f"non-conformant: {len(must)} MUST case(s) failed"
    elif not header.full_run:
        verdict = "partial: filtered run, not a conformance verdict"
    elif known:
        verdict = f"non-conformant: {len(known)} known failure(s) (expected)"
    elif unknown_must:
        verdict = "inconclusive: some MUST cases reached no verdict"
    elif skipped_must:
        verdict = "conformant for the declared capabilities only"
    elif skipped_for_scale:
        verdict = (
            f"conformant at standard scale ({len(skipped_for_scale)} full-scale case(s) "
            "not run: --scale full)"
        )
    elif not cases:
        verdict = "empty run"
    else:
        verdict = "conformant"
    return Footer(
        totals=totals,
        cases=len(cases),
        must_failures=len(must),
        should_failures=len(should),
        known_failures=len(known),
        fixed_known_failures=fixed,
        stale_expectations=sorted(stale_expectations or []),
        verdict=verdict,
        passed=not must and bool(cases),
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
