"""``aethel-conformance selftest``: the suite must catch every deliberately broken implementation.

For each mutant (:mod:`conformance.mutants`) the suite runs on the capabilities the mutant
touches, performance checks aside. The mutant is caught when, for every rule its defect breaks,
some case citing that rule fails (fail, error or timeout) against the mutant and passes against
the reference in a control run of the same selection. A mutant that escapes, or one caught only
by cases that also fail on the reference, fails the self-test.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from conformance.mutants import Mutant, registry
from conformance.report.model import FAILED, Report
from conformance.runner import run_suite

console = Console(stderr=True, soft_wrap=True)
#: Performance checks measure speed, which no mutant changes; they would only slow the self-test.
MARKER = "not performance"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the suite did with one mutant."""

    mutant: str
    defect: str
    breaks: tuple[str, ...]
    caught_rules: tuple[str, ...]
    missed_rules: tuple[str, ...]
    failing_cases: tuple[str, ...]
    problem: str = ""
    caught: bool = field(default=False)


def judge(mutant: Mutant, control: Report, run: Report | None) -> Verdict:
    """Decide whether ``run`` (the suite against ``mutant``) caught it, given the control run."""
    if run is None:
        return Verdict(
            mutant.name,
            mutant.defect,
            mutant.breaks,
            (),
            mutant.breaks,
            (),
            problem="the run did not complete",
        )
    passed_on_reference = {c.case_id for c in control.cases if c.status == "pass"}
    failing = [c for c in run.cases if c.status in FAILED]
    trusted = [c for c in failing if c.case_id in passed_on_reference]
    caught = tuple(r for r in mutant.breaks if any(r in c.rules for c in trusted))
    missed = tuple(r for r in mutant.breaks if r not in caught)
    problem = ""
    if failing and not trusted:
        problem = "its failing cases also fail on the reference"
    return Verdict(
        mutant=mutant.name,
        defect=mutant.defect,
        breaks=mutant.breaks,
        caught_rules=caught,
        missed_rules=missed,
        failing_cases=tuple(sorted(c.case_id for c in trusted)),
        problem=problem,
        caught=not missed,
    )


def run_selftest(mutants: list[Mutant], report_dir: Path, workers: int = 0) -> list[Verdict]:
    """Run the control and every mutant; return one verdict per mutant."""
    capabilities = sorted({c for m in mutants for c in m.capabilities})
    common = {"workers": workers, "marker": MARKER, "progress": False}
    console.print(f"control: the reference on {', '.join(capabilities)}")
    control, _ = run_suite("reference", report_dir / "control", capability=capabilities, **common)
    if control is None:
        raise typer.Exit(2)
    if control.footer.must_failures:
        failing = sorted(c.case_id for c in control.cases if c.status in FAILED)
        console.print(
            f"[yellow]the reference fails {len(failing)} case(s) of the selection; they cannot "
            f"catch a mutant: {', '.join(failing[:8])}{' ...' if len(failing) > 8 else ''}[/yellow]"
        )
    verdicts: list[Verdict] = []
    for index, mutant in enumerate(mutants, start=1):
        console.print(f"[{index}/{len(mutants)}] mutant {mutant.name}: {mutant.defect}")
        report, _ = run_suite(
            mutant.impl_spec,
            report_dir / mutant.name,
            capability=list(mutant.capabilities),
            **common,
        )
        verdicts.append(judge(mutant, control, report))
        write_verdicts(verdicts, report_dir)  # a long run stopped early keeps what it judged
        if not verdicts[-1].caught:
            console.print(
                f"[red]  escaped: {verdicts[-1].problem or 'missed'} "
                f"{', '.join(verdicts[-1].missed_rules)}[/red]"
            )
    return verdicts


def write_verdicts(verdicts: list[Verdict], report_dir: Path) -> None:
    """Write ``selftest.json``: one object per mutant judged so far."""
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / "selftest.json").write_text(
        json.dumps([asdict(v) for v in verdicts], indent=1) + "\n", encoding="utf-8"
    )


def print_verdicts(verdicts: list[Verdict]) -> None:
    """Print the self-test table."""
    table = Table(title="Suite self-test: every mutant must be caught by the rules it breaks")
    for column in ("mutant", "defect", "breaks", "caught by", "failing cases", "verdict"):
        table.add_column(column)
    for v in verdicts:
        verdict = "[green]caught[/green]" if v.caught else f"[red]ESCAPED[/red] {v.problem}"
        table.add_row(
            v.mutant,
            v.defect,
            ", ".join(v.breaks),
            ", ".join(v.caught_rules) or "-",
            str(len(v.failing_cases)),
            verdict,
        )
    Console(width=160).print(table)


def selftest_command(
    mutant: Annotated[list[str] | None, typer.Option(help="only this mutant (repeatable)")] = None,
    list_only: Annotated[bool, typer.Option("--list", help="list the mutants and exit")] = False,
    report_dir: Annotated[Path, typer.Option(help="where the runs' reports go")] = Path(
        "reports/latest/selftest"
    ),
    workers: Annotated[int, typer.Option("-n", "--workers", help="worker processes per run")] = 0,
    mechanical: Annotated[
        bool,
        typer.Option(
            "--mechanical",
            help="generated mutants of aethel/ (cosmic-ray operators) instead of the written ones",
        ),
    ] = False,
    module: Annotated[
        list[str] | None,
        typer.Option(help="--mechanical: only this module or package, e.g. aethel.encoding"),
    ] = None,
    sample: Annotated[
        int, typer.Option(help="--mechanical: run N mutants chosen by --seed (0: all)")
    ] = 0,
    seed: Annotated[int, typer.Option(help="--mechanical: seed of --sample")] = 0,
    mutant_id: Annotated[
        list[str] | None,
        typer.Option(
            "--id",
            help="--mechanical: only this mutant, by the ID a report prints (repeatable)",
        ),
    ] = None,
    scheduler: Annotated[
        str,
        typer.Option(
            help="--mechanical: 'local' (a dask LocalCluster of --dask-workers), "
            "tcp://HOST:PORT (a running dask scheduler) or 'serial' (this process)"
        ),
    ] = "local",
    dask_workers: Annotated[
        int, typer.Option(help="--mechanical: worker processes of the LocalCluster")
    ] = 2,
    campaign_dir: Annotated[
        Path,
        typer.Option(help="--mechanical: where the campaign keeps its state (resumed if present)"),
    ] = Path("reports/latest/mechanical"),
    selftest_reports: Annotated[
        Path, typer.Option(help="--mechanical: where the campaign report is written")
    ] = Path("reports/selftest"),
    label: Annotated[
        str | None, typer.Option(help="--mechanical: report name (default from the selection)")
    ] = None,
    fresh: Annotated[
        bool, typer.Option(help="--mechanical: discard the campaign directory's state")
    ] = False,
    report_only: Annotated[
        bool,
        typer.Option(help="--mechanical: write the report from the results so far, run nothing"),
    ] = False,
    recheck: Annotated[
        Path | None,
        typer.Option(
            help="--mechanical: an earlier campaign (directory or results.jsonl): keep its kills "
            "(with their commit), run its survivors and the mutants it never judged again"
        ),
    ] = None,
    runner: Annotated[
        str,
        typer.Option(
            help="--mechanical: 'warm' (one pytest session per worker, collected once) or "
            "'process' (a pytest process per mutant, the slower way kept to compare)"
        ),
    ] = "warm",
    selection: Annotated[
        str,
        typer.Option(
            help="--mechanical: 'direct' (the cases that ran a mutated line) or 'enclosing' "
            "(also the cases that ran its function: the wider choice of format 1, to compare)"
        ),
    ] = "direct",
    network: Annotated[
        bool,
        typer.Option(
            "--network",
            help="the mutant nodes (conformance/mutants/nodes.py) under network faults instead",
        ),
    ] = False,
) -> None:
    """Run the suite against every mutant; exit non-zero unless each is caught.

    With ``--mechanical``, run a campaign of generated mutants instead
    (:mod:`conformance.mechanical`); with ``--network``, the mutant nodes
    (:mod:`conformance.network.selftest`).
    """
    if network:
        from conformance.network.selftest import network_selftest

        raise typer.Exit(network_selftest(list(mutant or []), report_dir / "network"))
    if mechanical:
        if selection not in ("direct", "enclosing"):
            typer.echo(f"--selection is 'direct' or 'enclosing', not {selection!r}", err=True)
            raise typer.Exit(2)
        try:
            from conformance.mechanical.cli import mechanical_selftest
        except ImportError as exc:
            typer.echo(
                f"--mechanical needs the 'mechanical' extra ({exc}): "
                "pip install 'aethel-conformance[mechanical]'",
                err=True,
            )
            raise typer.Exit(2) from None

        mechanical_selftest(
            modules=list(module or []),
            sample_size=sample,
            seed=seed,
            scheduler=scheduler,
            workers=dask_workers,
            campaign_dir=campaign_dir,
            report_dir=selftest_reports,
            label=label,
            fresh=fresh,
            report_only=report_only,
            runner=runner,
            enclosing=selection == "enclosing",
            recheck=recheck,
            ids=list(mutant_id or []),
        )
        return
    known = registry()
    if list_only:
        for m in known.values():
            typer.echo(
                f"{m.name}: {m.defect} [breaks {', '.join(m.breaks)}]\n    --impl {m.impl_spec}"
            )
        return
    unknown = sorted(set(mutant or []) - set(known))
    if unknown:
        typer.echo(f"unknown mutants {unknown}; see --list", err=True)
        raise typer.Exit(2)
    chosen = [known[name] for name in (mutant or known)]
    verdicts = run_selftest(chosen, report_dir, workers)
    print_verdicts(verdicts)
    write_verdicts(verdicts, report_dir)
    escaped = [v.mutant for v in verdicts if not v.caught]
    if escaped:
        typer.echo(f"{len(escaped)} mutant(s) escaped: {', '.join(escaped)}", err=True)
        raise typer.Exit(1)
    typer.echo(f"all {len(verdicts)} mutants caught")
