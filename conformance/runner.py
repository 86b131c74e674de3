"""``aethel-conformance run``: run the suite against implementations and write their reports.

Each implementation runs in its own ``python -m pytest`` process (pytest-xdist workers below it
with ``-n``), so two implementations never share imported state. The collector plugin writes
``report.jsonl``; this module then renders ``summary.md``, ``report.html``, ``junit.xml`` and the
charts beside it. With several ``--impl``, each gets a sub-directory and ``index.md`` /
``index.html`` list them. The exit code is non-zero when any MUST case failed for any
implementation (known failures from ``--expectations`` aside), 2 when a run could not complete.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from aethel.errors import UsageError
from conformance.adapters.loader import check_spec
from conformance.plugin import SUITE_DIR
from conformance.report.model import FAILED, STATUSES, Report
from conformance.report.render import REPORT_FILE, render_report

#: Lines are not wrapped (paths and case IDs stay whole in logs); a terminal wraps them itself.
console = Console(stderr=True, soft_wrap=True)


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
    keyword: str | None = None,
    marker: str | None = None,
    seed: int = 0,
    expectations: Path | None = None,
    validate_protocol: bool = False,
    startup_timeout: float = 20.0,
    request_timeout: float = 60.0,
    case_timeout: float = 600.0,
    scale: str = "standard",
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
    for option, values in (("--req", req), ("--area", area), ("--capability", capability)):
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
    out_dir.mkdir(parents=True, exist_ok=True)
    report_path = out_dir / REPORT_FILE
    if report_path.exists():
        report_path.unlink()
    command = suite_command(impl, report_path, **options)  # type: ignore[arg-type]
    done = subprocess.run(command, env=suite_env(), check=False)
    if not report_path.exists():
        return None, done.returncode
    return render_report(report_path), done.returncode


#: Most unsettled cases listed on the console after a run (all of them are in summary.md).
SHOWN_CASES = 10


def _print_summary(label: str, report: Report, out_dir: Path) -> None:
    f = report.footer
    totals = ", ".join(f"{n} {s}" for s, n in f.totals.items() if n)
    color = "red" if f.must_failures else ("green" if f.verdict == "conformant" else "yellow")
    console.print(
        f"[bold]{label}[/bold]: [{color}]{f.verdict}[/{color}] ({totals}; {f.duration_s:.1f} s)"
    )
    for problem in report.header.options.get("problems", []):
        console.print(f"  [red]problem: {problem}[/red]", highlight=False)
    unsettled = [c for c in report.cases if c.status in (*FAILED, "unknown")]
    for case in unsettled[:SHOWN_CASES]:
        first = (case.message or "").strip().splitlines()[:1]
        known = " (known failure)" if case.known_failure else ""
        console.print(
            f"  {case.status}{known}: {case.case_id}: {first[0][:200] if first else ''}",
            highlight=False,
            markup=False,
        )
    if len(unsettled) > SHOWN_CASES:
        console.print(f"  ... and {len(unsettled) - SHOWN_CASES} more (summary.md lists them all)")
    console.print(
        f"  report: {out_dir / 'report.html'} (also summary.md, junit.xml, {REPORT_FILE})"
    )


def _print_recap(results: list[tuple[str, str, Report | None]]) -> None:
    """Print one line per implementation after a run of several."""
    console.print("[bold]summary[/bold]")
    for label, _spec, report in results:
        if report is None:
            console.print(f"  {label}: [red]run did not complete[/red]")
            continue
        f = report.footer
        totals = ", ".join(f"{n} {s}" for s, n in f.totals.items() if n)
        color = "red" if f.must_failures else ("green" if f.verdict == "conformant" else "yellow")
        console.print(
            f"  {label}: [{color}]{f.verdict}[/{color}] ({totals}; {f.duration_s:.1f} s)",
            highlight=False,
        )


def write_index(report_dir: Path, results: list[tuple[str, str, Report | None]]) -> None:
    """Write ``index.md`` and ``index.html`` linking the reports of several implementations."""
    md = [
        "# Conformance runs",
        "",
        "| implementation | verdict | " + " | ".join(STATUSES) + " | report |",
        "|---|---|" + "---|" * len(STATUSES) + "---|",
    ]
    rows = []
    for label, spec, report in results:
        if report is None:
            md.append(f"| `{spec}` | run did not complete |" + " |" * (len(STATUSES) + 1))
            rows.append(
                f"<tr><td><code>{html.escape(spec)}</code></td>"
                f"<td>run did not complete</td><td colspan={len(STATUSES) + 1}></td></tr>"
            )
            continue
        t = report.footer.totals
        counts = [str(t.get(s, 0)) for s in STATUSES]
        link = f"[{label}/summary.md]({label}/summary.md)"
        md.append(f"| `{spec}` | {report.footer.verdict} | {' | '.join(counts)} | {link} |")
        rows.append(
            f"<tr><td><code>{html.escape(spec)}</code></td><td>{html.escape(report.footer.verdict)}</td>"
            + "".join(f"<td>{n}</td>" for n in counts)
            + f"<td><a href='{label}/report.html'>{label}/report.html</a></td></tr>"
        )
    (report_dir / "index.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    (report_dir / "index.html").write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>Conformance runs</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:2rem}td,th{border:1px solid #ccc;"
        "padding:.3rem .6rem}table{border-collapse:collapse}</style></head><body>"
        "<h1>Conformance runs</h1><table><tr><th>implementation</th><th>verdict</th>"
        + "".join(f"<th>{s}</th>" for s in STATUSES)
        + "<th>report</th></tr>"
        + "".join(rows)
        + "</table></body></html>\n",
        encoding="utf-8",
    )


def run_command(
    impl: Annotated[
        list[str] | None,
        typer.Option(
            help="implementation: reference, python:pkg.mod:factory or stdio:COMMAND (repeatable)"
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
        list[str] | None, typer.Option(help="only cases needing this capability")
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
    progress: Annotated[bool, typer.Option(help="show a progress bar")] = True,
) -> None:
    """Run the conformance suite; exit non-zero if any MUST case fails."""
    specs = impl or ["reference"]
    for spec in specs:
        try:
            check_spec(spec)
        except UsageError as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from None
    labels: list[str] = []
    for spec in specs:
        label = label_of(spec)
        while label in labels:
            label += "-" + str(len(labels) + 1)
        labels.append(label)
    results: list[tuple[str, str, Report | None]] = []
    code = 0
    for spec, label in zip(specs, labels, strict=True):
        out_dir = report_dir if len(specs) == 1 else report_dir / label
        console.print(f"[bold]running the suite against {spec}[/bold]")
        report, pytest_code = run_suite(
            spec,
            out_dir,
            workers=workers,
            req=req,
            area=area,
            capability=capability,
            keyword=keyword,
            marker=marker,
            seed=seed,
            expectations=expectations,
            validate_protocol=validate_protocol,
            startup_timeout=startup_timeout,
            request_timeout=request_timeout,
            case_timeout=case_timeout,
            scale=scale,
            progress=progress,
        )
        results.append((label, spec, report))
        if report is None:
            console.print(
                f"[red]{spec}: the run did not complete (pytest exit code {pytest_code})[/red]"
            )
            code = max(code, 2)
            continue
        _print_summary(label, report, out_dir)
        if not report.footer.passed:
            code = max(code, 1)
    if len(specs) > 1:
        write_index(report_dir, results)
        _print_recap(results)
        console.print(f"index: {report_dir / 'index.html'}")
    raise typer.Exit(code)
