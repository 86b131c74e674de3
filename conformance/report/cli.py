"""``aethel-conformance report`` and ``aethel-conformance diff``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from conformance.report.diff import compute_diff, diff_as_json, render_diff
from conformance.report.model import Report, read_report


def _read(path: Path) -> Report:
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
    from conformance.report.render import render_report  # matplotlib: only when rendering

    path = report / "report.jsonl" if report.is_dir() else report
    _read(path)
    done = render_report(path, out)
    typer.echo(f"{done.footer.verdict}: wrote {(out or path.parent) / 'report.html'}")


def _runs(path: Path) -> dict[str, Path] | None:
    """Return ``{label: report}`` of a run over several implementations (None for one report)."""
    if not path.is_dir() or (path / "report.jsonl").exists():
        return None
    found = {
        d.name: d / "report.jsonl" for d in sorted(path.iterdir()) if (d / "report.jsonl").exists()
    }
    return found or None


def diff_command(
    old: Annotated[
        Path, typer.Argument(help="the earlier report.jsonl, or its directory (or a run's)")
    ],
    new: Annotated[
        Path, typer.Argument(help="the later report.jsonl, or its directory (or a run's)")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Compare two runs by stable case ID; exit 1 if the new run has new failures.

    Given the report directories of two runs over several implementations (``--impl`` more
    than once), compare the reports of each implementation present in both. With ``--json``,
    print ``{"new_failures": [...], "fixed": [...], ...}`` for one report, or
    ``{"implementations": {label: {...}}, "only_in_old": [...], "only_in_new": [...]}``.
    """
    old_runs, new_runs = _runs(old), _runs(new)
    several = old_runs is not None and new_runs is not None
    if old_runs is None or new_runs is None:
        pairs = [("", old, new)]
        only_old: list[str] = []
        only_new: list[str] = []
    else:
        pairs = [
            (label, old_runs[label], new_runs[label]) for label in old_runs if label in new_runs
        ]
        only_old = sorted(set(old_runs) - set(new_runs))
        only_new = sorted(set(new_runs) - set(old_runs))
        if not as_json:
            for label in sorted(only_old + only_new):
                typer.echo(f"{label}: only in {'the old' if label in old_runs else 'the new'} run")
        if not pairs:
            typer.echo("error: the two runs have no implementation in common", err=True)
            raise typer.Exit(2)
    regressed = False
    documents: dict[str, Any] = {}
    for label, old_path, new_path in pairs:
        before, after = _read(old_path), _read(new_path)
        diff = compute_diff(before, after)
        regressed = regressed or bool(diff.new_failures)
        if as_json:
            documents[label] = diff_as_json(before, after, diff)
            continue
        if label:
            typer.echo(f"== {label}")
        typer.echo(render_diff(before, after, diff), nl=False)
    if as_json:
        document = (
            {"implementations": documents, "only_in_old": only_old, "only_in_new": only_new}
            if several
            else documents[""]
        )
        typer.echo(json.dumps(document, indent=1))
    if regressed:
        raise typer.Exit(1)
