"""The ``aethel`` command: the reference implementation's own tools (benchmarks, simulator,
node and testnet) and the Z3 proofs of the spec's invariants (``aethel prove``)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from aethel import PROTOCOL_VERSION, __version__, bench
from aethel.errors import UsageError
from aethel.formal.prove import prove_command
from aethel.node.cli import node_app, testnet_app
from aethel.sim.cli import simulate_command

app = typer.Typer(
    help="Aethel reference implementation: benchmarks, simulator and tools.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()


def _format(value: float | None) -> str:
    if value is None:
        return "-"
    if value == 0 or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.3g}" if abs(value) < 1 else f"{value:,.2f}"


def print_benchmark(report: dict[str, Any]) -> None:
    """Print one benchmark report as a table with the machine it ran on."""
    machine = report["machine"]
    console.print(
        f"[bold]{report['benchmark']}[/bold]{' (quick)' if report.get('quick') else ''} on "
        f"{machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB, "
        f"Python {machine['python']}, z3 {machine['z3']}"
    )
    table = Table(show_lines=False)
    for column in ("result", "value", "unit", "goal", "threshold", "status"):
        table.add_column(column, justify="left" if column in ("result", "unit") else "right")
    for item in report["results"]:
        result = bench.Result(**item)
        statuses = []
        if (meets := result.meets(result.threshold)) is not None:
            statuses.append("spec ok" if meets else "[red]SPEC FAIL[/red]")
        if (meets := result.meets(result.goal)) is not None:
            statuses.append("goal ok" if meets else "[yellow]goal missed[/yellow]")
        table.add_row(
            result.name,
            _format(result.value),
            result.unit,
            _format(result.goal),
            _format(result.threshold),
            ", ".join(statuses) or "-",
        )
    console.print(table)
    for item in report["results"]:
        if item.get("note"):
            console.print(f"  {item['name']}: {item['note']}")


@app.command("bench")
def bench_command(
    name: Annotated[str, typer.Argument(help="benchmark to run; `aethel bench list` lists them")],
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    quick: Annotated[bool, typer.Option(help="skip the largest sizes (smoke runs)")] = False,
) -> None:
    """Run a benchmark and print its table (or JSON with --json)."""
    if name == "list":
        for bench_name, description in sorted(bench.available().items()):
            console.print(f"[bold]{bench_name}[/bold]: {description}")
        return
    try:
        report = bench.run_benchmark(name, quick=quick)
    except UsageError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        print_benchmark(report)


@app.command("simulate")
def simulate(*args: Any, **kwargs: Any) -> None:  # pragma: no cover - replaced below
    """Placeholder; the real command is registered from aethel.sim.cli."""


def _register_simulate() -> None:
    app.registered_commands[:] = [c for c in app.registered_commands if c.name != "simulate"]
    app.command("simulate")(simulate_command)


_register_simulate()


def _register_node() -> None:
    app.add_typer(node_app, name="node")
    app.add_typer(testnet_app, name="testnet")


_register_node()


app.command("prove")(prove_command)


@app.command("version")
def version_command() -> None:
    """Print the implementation and protocol versions."""
    print(f"aethel {__version__} (protocol {PROTOCOL_VERSION})")


def main() -> None:
    """Entry point of the ``aethel`` command."""
    app()
