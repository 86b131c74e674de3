"""``aethel simulate``: run one simulation (or replay a saved scenario) from the command line."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from aethel.errors import UsageError
from aethel.sim.byzantine import KINDS
from aethel.sim.health import render_health
from aethel.sim.report import SimulationResult
from aethel.sim.scenarios import generate_twins, load_scenario, save_scenario
from aethel.sim.simulator import SimConfig, run_simulation


def _parse_byzantine(specs: list[str]) -> tuple[tuple[str, float], ...]:
    parsed = []
    for spec in specs:
        kind, _, fraction = spec.partition(":")
        try:
            value = float(fraction)
        except ValueError:
            raise UsageError(f"--byzantine {spec!r}: use KIND:FRACTION, e.g. silent:0.2") from None
        parsed.append((kind, value))
    return tuple(parsed)


def _print_summary(result: SimulationResult, console: Console) -> None:
    data = result.to_json()
    console.print(
        f"[bold]{data['config']['validators']} validators, {data['config']['mode']} mode, "
        f"seed {data['config']['seed']}[/bold] on {data['network_model']['name']}: "
        f"{data['heights_committed']} heights in {data['virtual_s']:.3f} s virtual, "
        f"{data['wall_s']:.2f} s wall, {data['events']:,} events "
        f"({data['events_per_s'] or 0:,}/s), {data['messages']:,} messages"
    )
    byzantine = data["byzantine_nodes"]
    if byzantine:
        fraction = data["byzantine_stake_fraction"]
        kinds = Counter(byzantine.values())
        counts = ", ".join(f"{kind} x{count}" for kind, count in sorted(kinds.items()))
        # P6-P8 hold only below a third; above it the forensics checker must name the guilty.
        regime = (
            "below W/3: safety and liveness are owed"
            if fraction < 1 / 3
            else "[yellow]at or above W/3: a fork is possible; forensics must name validators "
            "holding >= W/3 and no honest one[/yellow]"
        )
        console.print(f"  Byzantine: {counts}, {fraction:.1%} of the stake ({regime})")
    for row in data["heights"][-5:]:
        quorum = row["quorum_commit_s"]
        console.print(
            f"  height {row['height']} (view {row['view']}): finality {row['finality_s']:.3f} s "
            f"(first commit {row['first_commit_s']:.3f} s, q(W) stake "
            f"{'-' if quorum is None else f'{quorum:.3f} s'})"
        )
    for name, verdict in data["checkers"].items():
        mark = "[green]ok[/green]" if verdict["ok"] else "[red]FAILED[/red]"
        console.print(f"  {name}: {mark} {verdict['detail']}")
    console.print(f"  trace hash {data['trace_hash']}")
    console.print(
        "  memoized across simulated nodes (each node charged its CPU time): signature checks, "
        "proof verification, block execution"
    )


def simulate_command(
    validators: Annotated[int, typer.Option("--validators", "-n", help="validator count")] = 4,
    mode: Annotated[str, typer.Option(help="broadcast or collector")] = "collector",
    heights: Annotated[int, typer.Option(help="heights to commit")] = 3,
    seed: Annotated[int, typer.Option(help="root seed")] = 0,
    byzantine: Annotated[
        list[str] | None,
        typer.Option(help=f"KIND:FRACTION (repeatable); kinds: {', '.join(KINDS)}"),
    ] = None,
    fault: Annotated[
        list[str] | None,
        typer.Option(
            help="fault (repeatable): loss:P, dup:P, reorder:P, spike:P:D (each with an optional "
            "@S-E window), "
            "partition:S-E:F, oneway:S-E:F, crash:N@T, crash:N@T-R, crash:N@T-R:fresh, late:N@T"
        ),
    ] = None,
    per_block: Annotated[int, typer.Option(help="transactions (and proofs) per block")] = 4,
    latency_scale: Annotated[int, typer.Option(help="multiply WAN-7 latencies")] = 1,
    storage: Annotated[
        Path | None,
        typer.Option(help="keep each node's state in its own SQLite StateStore in this directory"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
    health: Annotated[bool, typer.Option(help="print the operator health view")] = False,
    progress: Annotated[bool, typer.Option(help="show a progress bar on stderr")] = True,
    save_failure: Annotated[
        Path | None, typer.Option(help="write a replayable scenario file here if a check fails")
    ] = None,
    replay: Annotated[
        Path | None, typer.Option(help="run a saved scenario file instead of the options")
    ] = None,
    twins: Annotated[
        bool,
        typer.Option(help="run the generated Twins scenario of --seed (f twinned validators)"),
    ] = False,
    protocol_v2_height: Annotated[
        int | None,
        typer.Option(
            help="run consensus protocol version 2 from this height on (1: from the genesis; "
            "spec/consensus-v2.md V2.1); default: version 1 throughout"
        ),
    ] = None,
) -> None:
    """Simulate validators under WAN-7 with faults and Byzantine nodes; check the trace."""
    console = Console(stderr=as_json)
    try:
        if replay is not None:
            config, document = load_scenario(replay)
        elif twins:
            document = None
            config = generate_twins(seed, validators, heights, mode)
        else:
            document = None
            if mode not in ("broadcast", "collector"):
                raise UsageError("--mode must be broadcast or collector")
            config = SimConfig(
                validators=validators,
                mode=mode,  # type: ignore[arg-type]
                heights=heights,
                seed=seed,
                byzantine=_parse_byzantine(byzantine or []),
                faults=tuple(fault or []),
                per_block=per_block,
                latency_scale=latency_scale,
                storage_dir=None if storage is None else str(storage),
                protocol_v2_height=protocol_v2_height,
            )
        if progress:
            with Progress(
                TextColumn("[bold]simulating"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("heights"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            ) as bar:
                task = bar.add_task("heights", total=config.heights)
                result = run_simulation(
                    config, lambda done, total: bar.update(task, completed=done, total=total)
                )
        else:
            result = run_simulation(config)
    except UsageError as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    if as_json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        _print_summary(result, console)
    if health:
        render_health(result, console)
    if document is not None:
        same = document["trace_hash"] == result.trace_hash
        console.print(
            f"replay: trace hash {'matches' if same else 'DIFFERS from'} the saved one; "
            f"saved failures {document['failed']}"
        )
    if not result.ok:
        if save_failure is not None:
            path = save_scenario(save_failure, config, result)
            console.print(f"scenario saved to {path}")
        raise typer.Exit(1)
