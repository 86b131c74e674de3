"""``aethel-conformance selftest --network``: every mutant node must be caught by its rules.

For each mutant node (:mod:`conformance.mutants.nodes`) the harness runs the mutant on its
schedule (the faults that expose its defect), and the reference node on the same schedule, same
seed, as the control. The mutant is caught when, for every rule its defect breaks, a checker
citing that rule fails on the mutant and passes on the control. Controls are shared by mutants
with the same validator count, duration and schedule.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from conformance.mutants.nodes import NodeMutant
from conformance.network.checkers import PASS, Verdict
from conformance.network.cli import print_verdicts
from conformance.network.contract import REFERENCE_COMMAND
from conformance.network.execute import execute
from conformance.network.run import RunConfig


@dataclass(frozen=True, slots=True)
class NetworkVerdict:
    """What the checkers did with one mutant node."""

    mutant: str
    defect: str
    breaks: tuple[str, ...]
    caught_rules: tuple[str, ...]
    missed_rules: tuple[str, ...]
    failing_checkers: tuple[str, ...]
    control_failing: tuple[str, ...]
    replay: str
    caught: bool


def config_of(mutant: NodeMutant, impl: str, seed: int = 0) -> RunConfig:
    return RunConfig(
        impl=impl,
        validators=mutant.validators,
        nemeses=tuple(sorted({f.kind for f in mutant.schedule})),
        seed=seed,
        duration=mutant.duration,
        liveness_bound=mutant.liveness_bound,
        schedule=mutant.schedule,
    )


def judge(
    mutant: NodeMutant, control: list[Verdict], run: list[Verdict], replay: str
) -> NetworkVerdict:
    """Caught: each broken rule is cited by a checker failing here and passing on the control."""
    passed = {v.checker for v in control if v.status == PASS}
    trusted = [v for v in run if v.failed and v.checker in passed]
    caught = tuple(r for r in mutant.breaks if any(r in v.rules for v in trusted))
    missed = tuple(r for r in mutant.breaks if r not in caught)
    return NetworkVerdict(
        mutant=mutant.name,
        defect=mutant.defect,
        breaks=mutant.breaks,
        caught_rules=caught,
        missed_rules=missed,
        failing_checkers=tuple(v.checker for v in run if v.failed),
        control_failing=tuple(v.checker for v in control if v.failed),
        replay=replay,
        caught=not missed,
    )


def run_network_selftest(mutants: list[NodeMutant], report_dir: Path) -> list[NetworkVerdict]:
    """Run the controls and every mutant node; one verdict per mutant."""
    controls: dict[tuple[object, ...], list[Verdict]] = {}
    verdicts = []
    for mutant in mutants:
        schedule = tuple(json.dumps(f.to_json(), sort_keys=True) for f in mutant.schedule)
        key = (mutant.validators, mutant.duration, schedule)
        if key not in controls:
            print(f"control: the reference node on {mutant.name}'s schedule", flush=True)
            control, _, _ = execute(
                config_of(mutant, REFERENCE_COMMAND), report_dir / f"control-{len(controls)}"
            )
            print_verdicts(control)
            controls[key] = control
        print(f"mutant node {mutant.name}: {mutant.defect}", flush=True)
        run, _, replay = execute(config_of(mutant, mutant.command), report_dir / mutant.name)
        print_verdicts(run)
        verdicts.append(judge(mutant, controls[key], run, str(replay)))
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / "selftest-network.json").write_text(
        json.dumps([asdict(v) for v in verdicts], indent=1) + "\n", encoding="utf-8"
    )
    return verdicts


__all__ = ["NetworkVerdict", "config_of", "judge", "run_network_selftest"]


def network_selftest(names: list[str], report_dir: Path) -> int:
    """The ``selftest --network`` command: run, print the table, return the exit code."""
    from rich.console import Console
    from rich.table import Table

    from conformance.mutants.nodes import node_mutants

    known = node_mutants()
    unknown = sorted(set(names) - set(known))
    if unknown:
        print(f"unknown mutant nodes {unknown}; known: {', '.join(known)}")
        return 2
    chosen = [known[name] for name in (names or known)]
    verdicts = run_network_selftest(chosen, report_dir)
    table = Table(title="Network self-test: every mutant node caught by the rules it breaks")
    for column in (
        "mutant node",
        "defect",
        "breaks",
        "caught by rules",
        "failing checkers",
        "verdict",
    ):
        table.add_column(column)
    for v in verdicts:
        table.add_row(
            v.mutant,
            v.defect,
            ", ".join(v.breaks),
            ", ".join(v.caught_rules) or "-",
            ", ".join(v.failing_checkers) or "-",
            "[green]caught[/green]" if v.caught else "[red]ESCAPED[/red]",
        )
    Console(width=180).print(table)
    escaped = [v.mutant for v in verdicts if not v.caught]
    if escaped:
        print(f"{len(escaped)} mutant node(s) escaped: {', '.join(escaped)}")
        return 1
    print(f"all {len(verdicts)} mutant nodes caught")
    return 0
