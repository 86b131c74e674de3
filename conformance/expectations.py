"""Per-implementation expectation files: known failures keyed by case ID, each with a reason.

An implementer who cannot fix everything at once lists the cases it knows it fails::

    implementation = "my-impl"          # optional: refuse the file for another implementation
    [known_failures]
    "encoding::non_canonical_input_is_rejected[whitespace]" = "lenient parser, fix tracked in #12"

``aethel-conformance run --expectations FILE`` then reports those cases as known failures: they
still fail (the verdict says so) but do not make the run exit non-zero. A known failure that
passes is reported as fixed, and an ID that matches no case as stale, so the file cannot rot.
``aethel-conformance expectations REPORT`` writes such a file from a report's current failures.
The format is documented for implementers in conformance/PROTOCOL.md ("Known failures").
"""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path
from typing import Annotated

import typer
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aethel.errors import UsageError
from conformance.report.model import FAILED, Report, read_report
from conformance.report.text import one_line, visible


class Expectations(BaseModel):
    """The parsed expectation file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    implementation: str | None = None
    known_failures: dict[str, Annotated[str, Field(min_length=3)]] = Field(default_factory=dict)


def load_expectations(path: Path) -> Expectations:
    """Read and validate an expectation file; raise :class:`UsageError` naming the problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"expectation file {path}: {exc}") from None
    try:
        return Expectations.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise UsageError(
            f"expectation file {path}: {problems} (each case needs a reason)"
        ) from None


def expectations_from_report(report: Report, reason: str | None = None) -> str:
    """Return an expectation file listing the report's current failures (fail, error, timeout).

    Each case's reason is ``reason`` if given, else its status and the first line of its
    message, to be replaced by the real reason (an issue, a plan). A known failure keeps the
    reason it had. The text is checked by reading it back before it is returned.
    """
    failing = sorted((c for c in report.cases if c.status in FAILED), key=lambda c: c.case_id)
    impl = report.header.implementation
    lines = [
        f"# Known failures of {visible(impl.name, keep='')} {visible(impl.version, keep='')},",
        f"# written from the run of {report.header.started} ({len(failing)} failing case(s)).",
        "# Replace each reason with why the case fails and what tracks its fix; see",
        '# conformance/PROTOCOL.md, "Known failures: the expectations file".',
    ]
    if not report.header.full_run:
        lines.append("# The run was filtered: cases outside its selection are not listed.")
    lines += [f"implementation = {_toml_string(impl.name)}", "", "[known_failures]"]
    for case in failing:
        text = (
            reason
            or case.known_failure
            or (f"{case.status}: {one_line(case.message or '', 200) or 'no message'}")
        )
        lines.append(f"{_toml_string(case.case_id)} = {_toml_string(text)}")
    document = "\n".join(lines) + "\n"
    parsed = Expectations.model_validate(tomllib.loads(document))
    assert sorted(parsed.known_failures) == [c.case_id for c in failing]
    return document


def _toml_string(text: str) -> str:
    """Return ``text`` as a TOML basic string (JSON's escapes are TOML's, controls escaped)."""
    return json.dumps(visible(text, keep=""), ensure_ascii=False)


def expectations_command(
    report: Annotated[Path, typer.Argument(help="a report.jsonl, or the directory holding it")],
    out: Annotated[
        Path | None, typer.Option(help="write the file here (default: print it)")
    ] = None,
    reason: Annotated[
        str | None, typer.Option(help="one reason for every case (default: its first line)")
    ] = None,
) -> None:
    """Write an expectation file (--expectations) listing a report's current failures."""
    path = report / "report.jsonl" if report.is_dir() else report
    try:
        text = expectations_from_report(read_report(path), reason)
    except (OSError, ValueError) as exc:
        typer.echo(f"error: cannot read report {path}: {exc}", err=True)
        raise typer.Exit(2) from None
    if out is None:
        sys.stdout.write(text)
        return
    out.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {out}", err=True)
