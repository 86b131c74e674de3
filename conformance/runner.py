"""``aethel-conformance run``: run the suite against implementations and write their reports.

Before any case runs, every option is checked (filters, files, scale: an unknown value exits 2
naming the valid ones) and every implementation is started once and asked ``hello``: one that
cannot start exits 2 at once with the reason, and no report is written. One that declares no
capability is not run (outcome "nothing checked", exit 4).

Each implementation then runs in its own ``python -m pytest`` process (pytest-xdist workers below
it with ``-n``), so two implementations never share imported state. The collector plugin writes
``report.jsonl``; this module then renders ``summary.md``, ``report.html``, ``junit.xml`` and the
charts beside it. With several ``--impl``, each gets a sub-directory, and ``index.md`` /
``index.html`` show the requirement matrix with one column per implementation. The exit codes
are those of :mod:`conformance.report.outcome`.
"""

from __future__ import annotations

import difflib
import html
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from aethel.catalog import AREAS, CatalogError, load_catalog
from aethel.errors import UsageError
from conformance.report.outcome import (
    NOTHING_CHECKED,
    UNUSABLE,
    Outcome,
    combined_code,
)
from conformance.report.text import one_line, visible

if TYPE_CHECKING:
    from conformance.adapters.load_options import LoadOptions
    from conformance.report.model import Report

#: Lines are not wrapped (paths and case IDs stay whole in logs); a terminal wraps them itself.
console = Console(stderr=True, soft_wrap=True, highlight=False)
#: Where the suite's cases live (the package's copy, wherever it is installed).
SUITE_DIR = Path(__file__).resolve().parent / "suite"
REPORT_FILE = "report.jsonl"
SCALES = ("standard", "full")


def label_of(spec: str) -> str:
    """Return a directory name for an ``--impl`` argument (``reference``, ``stdio``, ...)."""
    if spec == "reference":
        return "reference"
    kind, _, rest = spec.partition(":")
    if kind == "python":
        return "python-" + re.sub(r"[^A-Za-z0-9]+", "-", rest).strip("-").lower()
    return kind or "impl"


def suite_command(
    impl: str,
    report_path: Path,
    *,
    workers: int = 0,
    req: list[str] | None = None,
    area: list[str] | None = None,
    capability: list[str] | None = None,
    case: list[str] | None = None,
    keyword: str | None = None,
    marker: str | None = None,
    seed: int = 0,
    expectations: Path | None = None,
    validate_protocol: bool = False,
    startup_timeout: float = 20.0,
    request_timeout: float = 60.0,
    case_timeout: float = 600.0,
    scale: str = "standard",
    strict: bool = False,
    require_capability: list[str] | None = None,
    progress: bool = True,
    extra: list[str] | None = None,
) -> list[str]:
    """Return the pytest command line that runs the suite against ``impl``."""
    command = [
        # -P: never import the suite from the working directory; run_suite puts the copy of the
        # package this process uses first on PYTHONPATH, so the suite path and the imports agree
        # (an installed wheel run from inside a source checkout, as under tox, would otherwise
        # mix them).
        sys.executable,
        "-P",
        "-m",
        "pytest",
        str(SUITE_DIR),
        "-p",
        "conformance.report.collector",
        "-p",
        "no:cacheprovider",
        f"--rootdir={SUITE_DIR}",
        "-p",
        "no:terminal",
        f"--impl={impl}",
        f"--report-jsonl={report_path}",
        f"--seed={seed}",
        f"--startup-timeout={startup_timeout}",
        f"--request-timeout={request_timeout}",
        f"--case-timeout={case_timeout}",
        f"--scale={scale}",
    ]
    if workers:
        command += ["-n", str(workers)]
    for option, values in (
        ("--req", req),
        ("--area", area),
        ("--capability", capability),
        ("--case", case),
        ("--require-capability", require_capability),
    ):
        for value in values or []:
            command.append(f"{option}={value}")
    if keyword:
        command += ["-k", keyword]
    if marker:
        command += ["-m", marker]
    if expectations:
        command.append(f"--expectations={expectations}")
    if validate_protocol:
        command.append("--validate-protocol")
    if strict:
        command.append("--strict-conformance")
    if not progress:
        command.append("--no-progress")
    return command + list(extra or [])


def suite_env() -> dict[str, str]:
    """Environment of the pytest process: this process's ``conformance`` copy first on the path."""
    env = dict(os.environ)
    env.setdefault("PYTHONHASHSEED", "0")
    package_root = str(SUITE_DIR.parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    return env


def run_suite(impl: str, out_dir: Path, **options: object) -> tuple[Report | None, int]:
    """Run the suite against one implementation; return its report and pytest's exit code."""
    from conformance.report.render import render_report

    out_dir.mkdir(parents=True, exist_ok=True)
    report_path = out_dir / REPORT_FILE
    if report_path.exists():
        report_path.unlink()
    command = suite_command(impl, report_path, **options)  # type: ignore[arg-type]
    done = subprocess.run(command, env=suite_env(), check=False)
    if not report_path.exists():
        return None, done.returncode
    return render_report(report_path), done.returncode


# --------------------------------------------------------------------------- before the run


def _choices(option: str, given: Sequence[str], valid: Sequence[str], what: str) -> None:
    """Raise UsageError naming the unknown values of ``option`` and the valid ones."""
    unknown = [v for v in given if v not in valid]
    if not unknown:
        return
    close = sorted({m for v in unknown for m in difflib.get_close_matches(v, valid, n=3)})
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise UsageError(
        f"{option}: unknown {what} {', '.join(map(repr, unknown))}{hint}; valid: {', '.join(valid)}"
    )


def check_options(
    *,
    specs: list[str],
    req: list[str],
    area: list[str],
    capability: list[str],
    case: list[str],
    require_capability: list[str],
    expectations: Path | None,
    scale: str,
    workers: int,
    timeouts: dict[str, float],
) -> str | None:
    """Check every option before anything starts; return the expectation file's implementation.

    Raise :class:`UsageError` with one line naming the problem (and the valid choices).
    """
    from conformance.adapters.loader import check_spec
    from conformance.capabilities import ALL as CAPABILITIES
    from conformance.expectations import load_expectations

    for spec in specs:
        check_spec(spec)
    if scale not in SCALES:
        raise UsageError(f"--scale: {scale!r} is not one of {', '.join(SCALES)}")
    if workers < 0:
        raise UsageError(f"--workers: {workers} is negative")
    for option, value in timeouts.items():
        if not value > 0:
            raise UsageError(f"{option}: {value:g} is not a positive number of seconds")
    try:
        catalog = load_catalog()
    except CatalogError as exc:
        raise UsageError(f"the spec catalog is broken: {exc}") from None
    _choices("--req", req, catalog.ids(), "rule ID")
    _choices("--area", area, AREAS, "spec area")
    _choices("--capability", capability, CAPABILITIES, "capability")
    _choices("--require-capability", require_capability, CAPABILITIES, "capability")
    for case_id in case:
        if "::" not in case_id:
            raise UsageError(
                f"--case: {case_id!r} is not a case ID (area::name[param], as in the report)"
            )
    if expectations is None:
        return None
    if not expectations.is_file():
        raise UsageError(f"--expectations: {expectations}: no such file")
    return load_expectations(expectations).implementation


@dataclass(frozen=True, slots=True)
class Started:
    """What an implementation said about itself when it started."""

    name: str
    version: str
    capabilities: frozenset[str]


def preflight(spec: str, options: LoadOptions) -> Started:
    """Start ``spec`` once, read its hello, close it; raise UsageError if it cannot start."""
    from conformance.adapters.errors import ImplementationFailure
    from conformance.adapters.loader import load_implementation

    try:
        implementation = load_implementation(spec, options)
    except UsageError:
        raise
    except ImplementationFailure as exc:
        raise UsageError(f"{spec}: cannot start: {exc}") from None
    except Exception as exc:  # a Python factory may raise anything
        raise UsageError(f"{spec}: cannot load: {type(exc).__name__}: {exc}") from None
    try:
        return Started(
            str(implementation.name),
            str(implementation.version),
            frozenset(implementation.capabilities),
        )
    finally:
        implementation.close()


# --------------------------------------------------------------------------- after the run

#: Most unsettled cases listed on the console after a run (all of them are in summary.md).
SHOWN_CASES = 10


@dataclass(frozen=True, slots=True)
class RunResult:
    """One implementation's part of a run."""

    label: str
    spec: str
    report: Report | None
    outcome: Outcome


def _safe(text: str) -> str:
    """Return ``text`` for one console line: controls escaped, no Rich markup."""
    return escape(visible(text, keep=""))


def error(message: str) -> None:
    """Print an error: one line, then any detail (the implementation's stderr) indented."""
    first, *rest = visible(message, keep="\n").splitlines() or [""]
    console.print(f"[red]error:[/red] {escape(first)}")
    for line in rest:
        console.print(f"  {line}", markup=False)


def _print_summary(label: str, report: Report, out_dir: Path) -> None:
    from conformance.report.failures import unsettled_cases
    from conformance.report.outcome import outcome_of

    f = report.footer
    outcome = outcome_of(report)
    totals = ", ".join(f"{n} {s}" for s, n in f.totals.items() if n)
    color = {0: "green", 1: "red"}.get(outcome.code, "yellow")
    console.print(
        f"[bold]{_safe(label)}[/bold]: [{color}]{f.verdict}[/{color}] "
        f"({totals}; {f.duration_s:.1f} s): exit code {outcome.code} ({outcome.name})"
    )
    for problem in report.header.options.get("problems", []):
        console.print(f"  [red]problem:[/red] {_safe(str(problem))}")
    unsettled = unsettled_cases(report)
    group = ""
    for item in unsettled[:SHOWN_CASES]:
        if item.group != group:
            group = item.group
            console.print(f"  [bold]{group}[/bold] ({sum(u.group == group for u in unsettled)}):")
        case = item.case
        known = f" (known: {one_line(case.known_failure, 100)})" if case.known_failure else ""
        text = one_line(case.message or "", 200)
        console.print(
            f"    {case.status}{known}: {case.case_id} [{', '.join(case.rules)}]: {text}",
            markup=False,
        )
        console.print(f"      rerun: {item.rerun}", markup=False)
    if len(unsettled) > SHOWN_CASES:
        console.print(f"  ... and {len(unsettled) - SHOWN_CASES} more (summary.md lists them all)")
    console.print(
        f"  report: {out_dir / 'report.html'} (also summary.md, junit.xml, {REPORT_FILE})",
        markup=False,
    )


def _print_recap(results: list[RunResult]) -> None:
    """Print one line per implementation after a run of several."""
    console.print("[bold]summary[/bold]")
    for result in results:
        outcome = result.outcome
        color = {0: "green", 1: "red"}.get(outcome.code, "yellow")
        if result.report is None:
            console.print(
                f"  {result.label}: [{color}]{outcome.name}[/{color}]: "
                f"{_safe(outcome.reason)} (exit code {outcome.code})"
            )
            continue
        f = result.report.footer
        totals = ", ".join(f"{n} {s}" for s, n in f.totals.items() if n)
        console.print(
            f"  {result.label}: [{color}]{f.verdict}[/{color}] ({totals}; {f.duration_s:.1f} s;"
            f" exit code {outcome.code})"
        )


def write_index(report_dir: Path, results: list[RunResult]) -> None:
    """Write ``index.md`` and ``index.html``: per implementation its verdict, then the
    requirement matrix with one column per implementation (the row status of each)."""
    from conformance.report.matrix import compute_matrix
    from conformance.report.model import STATUSES

    columns = [
        (r, {row.rule_id: row for row in compute_matrix(r.report)} if r.report else None)
        for r in results
    ]
    rule_rows = next((list(m.values()) for _, m in columns if m), [])
    md = [
        "# Conformance runs",
        "",
        "| implementation | verdict | exit code | " + " | ".join(STATUSES) + " | report |",
        "|---|---|---|" + "---|" * len(STATUSES) + "---|",
    ]
    head: list[str] = []
    for result in results:
        spec, outcome = visible(result.spec, keep=""), result.outcome
        if result.report is None:
            md.append(
                f"| `{spec}` | {outcome.name}: {visible(outcome.reason, keep='')} | "
                f"{outcome.code} |" + " |" * (len(STATUSES) + 1)
            )
            head.append(
                f"<tr><td><code>{html.escape(spec)}</code></td>"
                f"<td>{html.escape(outcome.name)}: {html.escape(visible(outcome.reason))}</td>"
                f"<td>{outcome.code}</td><td colspan={len(STATUSES) + 1}></td></tr>"
            )
            continue
        t = result.report.footer.totals
        counts = [str(t.get(s, 0)) for s in STATUSES]
        verdict = result.report.footer.verdict
        link = f"[{result.label}/summary.md]({result.label}/summary.md)"
        md.append(f"| `{spec}` | {verdict} | {outcome.code} | {' | '.join(counts)} | {link} |")
        head.append(
            f"<tr><td><code>{html.escape(spec)}</code></td><td>{html.escape(verdict)}</td>"
            f"<td>{outcome.code}</td>"
            + "".join(f"<td>{n}</td>" for n in counts)
            + f"<td><a href='{result.label}/report.html'>{result.label}/report.html</a></td></tr>"
        )
    labels = [r.label for r in results]
    md += ["", "## Requirement matrix", ""]
    md += ["| ID | level | title | " + " | ".join(labels) + " |"]
    md += ["|---|---|---|" + "---|" * len(labels)]
    grid: list[str] = []
    for row in rule_rows:
        cells = []
        for _, matrix in columns:
            cells.append(matrix[row.rule_id].status if matrix else "not run")
        md.append(f"| {row.rule_id} | {row.level} | {row.title} | " + " | ".join(cells) + " |")
        grid.append(
            f"<tr><td><strong>{row.rule_id}</strong></td><td>{row.level}</td>"
            f"<td>{html.escape(row.title)}</td>"
            + "".join(f"<td class='st-{c.replace(' ', '-')}'>{html.escape(c)}</td>" for c in cells)
            + "</tr>"
        )
    (report_dir / "index.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    (report_dir / "index.html").write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>Conformance runs</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:2rem}td,th{border:1px solid #ccc;"
        "padding:.3rem .6rem}table{border-collapse:collapse}.st-pass{background:#c8e6c9}"
        ".st-fail,.st-error,.st-timeout{background:#ffcdd2}.st-unknown{background:#bbdefb}"
        ".st-known-failure{background:#f8bbd0}.st-skip,.st-no-case,.st-not-selected,"
        ".st-not-in-suite,.st-not-run{background:#eceff1}</style></head><body>"
        "<h1>Conformance runs</h1><table id='runs'><tr><th>implementation</th><th>verdict</th>"
        "<th>exit code</th>"
        + "".join(f"<th>{s}</th>" for s in STATUSES)
        + "<th>report</th></tr>"
        + "".join(head)
        + "</table><h2>Requirement matrix</h2><table id='grid'><tr><th>ID</th><th>level</th>"
        "<th>title</th>"
        + "".join(f"<th>{html.escape(label)}</th>" for label in labels)
        + "</tr>"
        + "".join(grid)
        + "</table></body></html>\n",
        encoding="utf-8",
    )


# --------------------------------------------------------------------------- the command


def run_command(
    impl: Annotated[
        list[str] | None,
        typer.Option(
            help="implementation: reference, stdio-reference, python:pkg.mod:factory or "
            "stdio:COMMAND (repeatable)"
        ),
    ] = None,
    report_dir: Annotated[Path, typer.Option(help="where the reports are written")] = Path(
        "reports/latest"
    ),
    workers: Annotated[
        int, typer.Option("-n", "--workers", help="worker processes (pytest-xdist); 0 = none")
    ] = 0,
    req: Annotated[
        list[str] | None, typer.Option(help="only cases citing this rule ID (repeatable)")
    ] = None,
    area: Annotated[
        list[str] | None, typer.Option(help="only cases of this spec area (repeatable)")
    ] = None,
    capability: Annotated[
        list[str] | None, typer.Option(help="only cases needing this capability (repeatable)")
    ] = None,
    case: Annotated[
        list[str] | None,
        typer.Option(help="only the case with this case ID, as the report prints it (repeatable)"),
    ] = None,
    keyword: Annotated[str | None, typer.Option("-k", help="pytest keyword expression")] = None,
    marker: Annotated[
        str | None, typer.Option("-m", help="pytest marker expression, e.g. 'not performance'")
    ] = None,
    seed: Annotated[int, typer.Option(help="root seed of randomized scenarios")] = 0,
    expectations: Annotated[
        Path | None, typer.Option(help="known failures (TOML) of the implementation")
    ] = None,
    validate_protocol: Annotated[
        bool,
        typer.Option(
            "--validate-protocol", help="check every subprocess message against its JSON Schema"
        ),
    ] = False,
    startup_timeout: Annotated[
        float, typer.Option(help="seconds a subprocess may take to say hello")
    ] = 20.0,
    request_timeout: Annotated[float, typer.Option(help="seconds per subprocess request")] = 60.0,
    case_timeout: Annotated[float, typer.Option(help="seconds per case")] = 600.0,
    scale: Annotated[
        str,
        typer.Option(help="standard, or full to add the 10,000-validator runs and 1M-key sync"),
    ] = "standard",
    strict: Annotated[
        bool,
        typer.Option(
            "--strict", help="a MUST case skipped (undeclared capability) or inconclusive fails"
        ),
    ] = False,
    require_capability: Annotated[
        list[str] | None,
        typer.Option(help="fail unless the implementation declares this capability (repeatable)"),
    ] = None,
    progress: Annotated[
        bool,
        typer.Option(help="a progress bar on a terminal (elsewhere: a line every 30 s)"),
    ] = True,
) -> None:
    """Run the conformance suite and exit with the outcome.

    \b
    Exit codes:
      0  conformant: every selected MUST case passed (known failures aside)
      1  non-conformant: a MUST case failed, errored or timed out; a required
         capability is missing; with --strict, a MUST case skipped or inconclusive
      2  unusable: bad option, filter or file; the implementation cannot start
      3  inconclusive: no failure, but a MUST case reached no verdict (busy machine)
      4  nothing checked: the implementation declares no capability
    """
    from conformance.adapters.load_options import LoadOptions
    from conformance.report.outcome import outcome_of

    specs = impl or ["reference"]
    try:
        expected_name = check_options(
            specs=specs,
            req=req or [],
            area=area or [],
            capability=capability or [],
            case=case or [],
            require_capability=require_capability or [],
            expectations=expectations,
            scale=scale,
            workers=workers,
            timeouts={
                "--startup-timeout": startup_timeout,
                "--request-timeout": request_timeout,
                "--case-timeout": case_timeout,
            },
        )
    except UsageError as exc:
        error(str(exc))
        raise typer.Exit(UNUSABLE) from None
    options = LoadOptions(
        startup_timeout_s=startup_timeout,
        request_timeout_s=request_timeout,
        validate_protocol=validate_protocol,
    )
    started: dict[str, Started] = {}
    for spec in specs:
        try:
            started[spec] = preflight(spec, options)
        except UsageError as exc:
            error(str(exc))
            raise typer.Exit(UNUSABLE) from None
        if expected_name and expected_name != started[spec].name:
            error(
                f"--expectations: the file is for {expected_name!r}, but {spec} says it is "
                f"{started[spec].name!r}"
            )
            raise typer.Exit(UNUSABLE)
    labels: list[str] = []
    for spec in specs:
        label = label_of(spec)
        while label in labels:
            label += "-" + str(len(labels) + 1)
        labels.append(label)
    results: list[RunResult] = []
    for spec, label in zip(specs, labels, strict=True):
        out_dir = report_dir if len(specs) == 1 else report_dir / label
        if not started[spec].capabilities:
            outcome = Outcome(
                "nothing checked",
                NOTHING_CHECKED,
                f"{started[spec].name} declares no capability, so no case can run",
            )
            console.print(
                f"[yellow]{_safe(spec)}: {_safe(outcome.reason)}: "
                f"not run (exit code {outcome.code})[/yellow]"
            )
            results.append(RunResult(label, spec, None, outcome))
            continue
        console.print(f"[bold]running the suite against {_safe(spec)}[/bold]")
        report, pytest_code = run_suite(
            spec,
            out_dir,
            workers=workers,
            req=req,
            area=area,
            capability=capability,
            case=case,
            keyword=keyword,
            marker=marker,
            seed=seed,
            expectations=expectations,
            validate_protocol=validate_protocol,
            startup_timeout=startup_timeout,
            request_timeout=request_timeout,
            case_timeout=case_timeout,
            scale=scale,
            strict=strict,
            require_capability=require_capability,
            progress=progress,
        )
        if report is None:
            outcome = Outcome(
                "unusable", UNUSABLE, f"the run did not complete (pytest exit code {pytest_code})"
            )
            error(f"{spec}: {outcome.reason}")
        else:
            outcome = outcome_of(report)
            _print_summary(label, report, out_dir)
        results.append(RunResult(label, spec, report, outcome))
    if len(specs) > 1:
        report_dir.mkdir(parents=True, exist_ok=True)
        write_index(report_dir, results)
        _print_recap(results)
        console.print(f"index: {report_dir / 'index.html'}", markup=False)
    raise typer.Exit(combined_code([r.outcome.code for r in results]))
