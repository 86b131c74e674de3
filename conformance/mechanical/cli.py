"""``aethel-conformance selftest --mechanical``: run a campaign and write its report."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console

from aethel.errors import UsageError
from conformance.mechanical.campaign import KILLED, open_campaign, run_tasks
from conformance.mechanical.generate import MechanicalMutant, exclusion_of, sample
from conformance.mechanical.recheck import Earlier, plan_recheck
from conformance.mechanical.report import (
    build_report,
    exclusions,
    render_markdown,
    write_report,
)
from conformance.mechanical.triage import TriageError, load_equivalents

console = Console(stderr=True, soft_wrap=True, highlight=False)


def _log(text: str) -> None:
    console.print(text, markup=False)


def label_for(modules: list[str], sample_size: int, seed: int) -> str:
    """Return a file-name label of a campaign selection (``all``, ``encoding-rfc6962``, ...)."""
    parts = [
        m.removeprefix("aethel").strip("./").replace("/", "-").removesuffix(".py") for m in modules
    ]
    label = "-".join(p for p in parts if p) or "all"
    if sample_size:
        label += f"-sample{sample_size}-seed{seed}"
    return label


def mechanical_selftest(
    *,
    modules: list[str],
    sample_size: int,
    seed: int,
    scheduler: str,
    workers: int,
    campaign_dir: Path,
    report_dir: Path,
    label: str | None,
    fresh: bool,
    report_only: bool = False,
    runner: str = "warm",
    enclosing: bool = False,
    recheck: Path | None = None,
    ids: list[str] | None = None,
) -> None:
    """Run (or resume) a campaign over ``modules`` and write its report; see the package docs.

    ``ids`` (``--id``, repeatable) runs exactly those mutants (IDs as reports print them,
    ``module:function:operator:hash``): to reproduce one verdict, or to judge a survivor again
    after a case was written for it.
    """
    started = time.monotonic()
    if runner not in ("warm", "process"):
        console.print(f"[red]error:[/red] --runner is 'warm' or 'process', not {runner!r}")
        raise typer.Exit(2)
    try:
        equivalents = load_equivalents()
        earlier = Earlier.load(recheck) if recheck is not None else None
        campaign = open_campaign(campaign_dir, fresh=fresh, log=_log)
        every = campaign.mutants(modules)
    except (UsageError, TriageError, ValueError, FileNotFoundError) as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    chosen = sample(every, sample_size, seed)
    if ids:
        known = {m.id: m for m in every}
        unknown = [i for i in ids if i not in known]
        if unknown:
            console.print(
                f"[red]error:[/red] no mutant {', '.join(unknown)} in this snapshot of aethel/ "
                "(IDs change when their line's text changes; see a report's survivor list)"
            )
            raise typer.Exit(2)
        chosen = [known[i] for i in sorted(set(ids))]
    _log(f"{len(every)} mutants in {len({m.module for m in every})} modules; running {len(chosen)}")
    to_run: list[MechanicalMutant] = chosen
    recheck_note: dict[str, int | str] = {}
    if earlier is not None:
        plan = plan_recheck(earlier, chosen, every, campaign.results())
        for row in plan.carried:
            campaign.append(row)
        to_run = plan.to_run
        recheck_note = {
            "earlier": str(earlier.source),
            "earlier_commit": earlier.commit,
            "carried_now": len(plan.carried),
            "rerun_survivors": plan.rerun_survivors,
            "never_judged": plan.never_judged,
            "dropped": plan.dropped,
        }
        _log(
            f"recheck of {earlier.source} (commit {earlier.commit[:12]}): "
            f"{len(plan.carried)} kills carried over now, {plan.rerun_survivors} earlier "
            f"survivors and {plan.never_judged} mutants it never judged to run; "
            f"{plan.dropped} earlier verdicts dropped (their mutant no longer exists)"
        )
    try:
        if not report_only:
            run_tasks(
                campaign,
                to_run,
                scheduler=scheduler,
                workers=workers,
                log=_log,
                runner=runner,
                enclosing=enclosing,
            )
    except KeyboardInterrupt:
        _log(f"interrupted: finished mutants are kept in {campaign.results_file}; run again")
        raise typer.Exit(130) from None
    results = campaign.results()
    rows = [results[m.id] for m in chosen if m.id in results]
    if len(rows) < len(chosen):
        _log(f"{len(chosen) - len(rows)} of the {len(chosen)} mutants have no result yet")
    reach = {}
    for mutant in chosen:
        if results.get(mutant.id, {}).get("verdict") in ("survived", "no-coverage"):
            cases, direct = campaign.coverage.select(mutant, campaign.passing)
            rules = {r for c in cases[:direct] for r in campaign.case_info[c]["rules"]}
            reach[mutant.id] = sorted(rules)
    excluded_modules: list[str] = []
    if not modules:
        excluded_modules = [
            path
            for path, _ in campaign.snapshot.files
            if exclusion_of(path) is not None and path not in campaign.voided
        ]
    report = build_report(
        campaign.record,
        rows,
        equivalents,
        label=label or (f"ids-{len(chosen)}" if ids else label_for(modules, sample_size, seed)),
        modules=modules,
        sample_size=sample_size,
        seed=seed,
        wall_s=time.monotonic() - started,
        workers="this process"
        if scheduler == "serial"
        else (
            f"a LocalCluster of {workers} worker processes" if scheduler == "local" else scheduler
        ),
        reach=reach,
        excluded=exclusions(campaign, every, excluded_modules),
        runner=runner,
        selection="enclosing" if enclosing else "direct",
        recheck=recheck_note,
    )
    md, js = write_report(report, report_dir)
    typer.echo(render_markdown(report).split("### By module")[0].rstrip())
    _log(f"report: {md} and {js}; results: {campaign.results_file}")
    killed = sum(1 for r in rows if r["verdict"] in KILLED)
    if report["equivalent_but_killed"] or report["total"]["error"]:
        raise typer.Exit(1)
    _log(f"{killed} of {len(rows)} mutants killed")
