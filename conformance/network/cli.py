"""``aethel-conformance network``: test nodes as processes under faults (conformance/NODE.md).

One run (a seed) or a campaign (``--seeds N``: seeds S..S+N-1 over dask.distributed,
:mod:`conformance.network.campaign`). ``--replay FILE`` runs a saved schedule again. Exit codes
are the suite's (0 conformant, 1 non-conformant, 2 unusable, 3 inconclusive); a replay's say
whether the recorded failure came back (:mod:`conformance.network.replay`).
"""

from __future__ import annotations

import signal
import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from conformance.network.campaign import run_campaign
from conformance.network.checkers import Verdict
from conformance.network.contract import REFERENCE_COMMAND, ContractError, check_template
from conformance.network.execute import execute
from conformance.network.nemesis import parse_nemeses
from conformance.network.replay import RecordedFailure, compare, read_replay
from conformance.network.run import RunConfig

console = Console(stderr=True, soft_wrap=True)
DEFAULT_DIR = Path("reports/latest/network")


def parse_impl(text: str) -> str:
    """``reference`` or ``node:COMMAND`` -> a command template (checked)."""
    if text == "reference":
        return REFERENCE_COMMAND
    if not text.startswith("node:"):
        raise ContractError(f"--impl is 'reference' or node:COMMAND (NODE.md), got {text!r}")
    template = text[len("node:") :]
    check_template(template)
    return template


def parse_mix(text: str | None, validators: int) -> int:
    """``reference:K`` -> K (0 <= K <= validators)."""
    if not text:
        return 0
    kind, _, count = text.partition(":")
    if kind != "reference" or not count.isdigit() or not 0 <= int(count) <= validators:
        raise ContractError(f"--mix is reference:K with 0 <= K <= {validators}, got {text!r}")
    return int(count)


def print_verdicts(verdicts: list[Verdict]) -> None:
    colours = {"pass": "green", "fail": "red", "unknown": "blue", "skip": "dim"}
    for v in verdicts:
        colour = colours.get(v.status, "white")
        rules = ", ".join(v.rules)
        console.print(f"[{colour}]{v.status:7}[/{colour}] {v.checker:22} [{rules}] {v.message}")


def _terminate_on_sigterm() -> None:
    def handler(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def network_command(
    impl: Annotated[
        str, typer.Option(help="'reference' or node:COMMAND (a command template, NODE.md)")
    ] = "reference",
    validators: Annotated[int, typer.Option("--validators", "-n", help="validator count")] = 4,
    mix: Annotated[
        str | None, typer.Option(help="reference:K: K of the validators run the reference node")
    ] = None,
    nemesis: Annotated[
        list[str] | None,
        typer.Option(help="fault kinds (repeatable, comma lists; all, none, partition)"),
    ] = None,
    seed: Annotated[int, typer.Option(help="seed of keys, schedule and workload")] = 0,
    duration: Annotated[float, typer.Option(help="seconds of faults and workload")] = 60.0,
    clients: Annotated[int, typer.Option(help="transfer clients (one account each)")] = 4,
    liveness_bound: Annotated[
        float | None,
        typer.Option(
            help="seconds every node has to catch up after the last heal (default: derived "
            "from the view timeouts and the run's schedule, conformance/network/bound.py)"
        ),
    ] = None,
    startup_timeout: Annotated[float, typer.Option(help="seconds a node has to be ready")] = 60.0,
    stop_grace: Annotated[float, typer.Option(help="seconds from SIGTERM to exit")] = 15.0,
    replay: Annotated[
        Path | None, typer.Option(help="run a saved replay file again (its schedule and seed)")
    ] = None,
    seeds: Annotated[
        int, typer.Option(help="a campaign: seeds S..S+N-1 on a dask cluster (1: one run)")
    ] = 1,
    scheduler: Annotated[
        str, typer.Option(help="campaign: 'local' (a LocalCluster), tcp://HOST:PORT or 'serial'")
    ] = "local",
    workers: Annotated[int, typer.Option(help="campaign: LocalCluster worker processes")] = 1,
    report_dir: Annotated[Path, typer.Option(help="where the report goes")] = DEFAULT_DIR,
) -> None:
    """Test validator nodes as processes under a seeded nemesis; check the recorded history.

    Exit codes: 0 every checker passed, 1 a checker failed, 2 unusable (bad option or file, the
    run could not complete), 3 inconclusive (a checker reached no verdict).

    With --replay FILE the exit code says whether the failure the file recorded came back. The
    defect is the recorded failures of checkers of what the nodes said (agreement, validity,
    conservation, durability, partition, accusation, reads, contract-api, contract-wire); missed
    deadlines (liveness, contract-first-commit, a node not ready or not stopped in time) depend
    on the machine's speed and are compared apart. 1 reproduced: every checker of the defect
    fails again ("reproduced (timing differs)" when the deadlines differ, "reproduced (more
    failed)" when another fails too; a failure of deadlines only reproduces when they are missed
    again); 0 not reproduced: no checker fails; 5 partly reproduced or a different failure; 3
    inconclusive: nothing failed but a checker of the defect reached no verdict; 2 unusable.
    """
    _terminate_on_sigterm()
    try:
        template = parse_impl(impl) if replay is None or impl != "reference" else None
        before: RecordedFailure | None = None
        if replay is not None:
            config, before = read_replay(replay, template)
            if liveness_bound is not None:
                config = replace(config, liveness_bound=liveness_bound)
        else:
            config = RunConfig(
                impl=template or REFERENCE_COMMAND,
                validators=validators,
                mix=parse_mix(mix, validators),
                nemeses=parse_nemeses(nemesis),
                seed=seed,
                duration=duration,
                clients=clients,
                startup_timeout=startup_timeout,
                liveness_bound=liveness_bound,
                stop_grace=stop_grace,
            )
        if not 1 <= config.validators <= 64 or config.duration <= 0 or config.clients < 1:
            raise ContractError("need 1..64 validators, a positive duration and >= 1 client")
        if config.liveness_bound is not None and config.liveness_bound <= 0:
            raise ContractError("--liveness-bound is a positive number of seconds")
    except (ContractError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if seeds > 1 and replay is None:
        code = run_campaign(config, seeds, report_dir, scheduler=scheduler, workers=workers)
        raise typer.Exit(code)
    console.print(
        f"network run: {config.validators} validators ({config.mix} reference), seed "
        f"{config.seed}, {config.duration:g} s, nemeses {', '.join(config.nemeses) or 'none'}"
    )
    verdicts, code, replay_file = execute(config, report_dir)
    print_verdicts(verdicts)
    if before is not None:
        outcome = compare(before, verdicts)
        console.print(f"replay of {replay}: {outcome.line}; exit {outcome.code}")
        code = outcome.code
    console.print(f"report: {report_dir}/summary.md; replay: {replay_file}")
    sys.stdout.flush()
    raise typer.Exit(code)


__all__ = ["network_command", "parse_impl", "parse_mix", "print_verdicts"]
