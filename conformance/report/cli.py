"""``aethel-conformance report`` and ``aethel-conformance diff``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from conformance.report.diff import compute_diff, render_diff
from conformance.report.model import read_report
from conformance.report.render import render_report


def _read(path: Path):  # type: ignore[no-untyped-def]
    if path.is_dir():
        path = path / "report.jsonl"
    try:
        return read_report(path)
    except (OSError, ValueError) as exc:
        typer.echo(f"error: cannot read report {path}: {exc}", err=True)
        raise typer.Exit(2) from None


def report_command(
    report: Annotated[Path, typer.Argument(help="a report.jsonl (or the directory holding it)")],
    out: Annotated[
        Path | None, typer.Option(help="write the summaries here (default: beside it)")
    ] = None,
) -> None:
    """Render summary.md, report.html, junit.xml and charts from a JSON-lines report."""
    path = report / "report.jsonl" if report.is_dir() else report
    _read(path)
    done = render_report(path, out)
    typer.echo(f"{done.footer.verdict}: wrote {(out or path.parent) / 'report.html'}")


def diff_command(
    old: Annotated[Path, typer.Argument(help="the earlier report.jsonl (or its directory)")],
    new: Annotated[Path, typer.Argument(help="the later report.jsonl (or its directory)")],
) -> None:
    """Compare two runs by stable case ID; exit 1 if the new run has new failures."""
    before, after = _read(old), _read(new)
    diff = compute_diff(before, after)
    typer.echo(render_diff(before, after, diff), nl=False)
    if diff.new_failures:
        raise typer.Exit(1)
