"""The ``aethel-conformance`` command: run the suite, inspect the spec.

Commands are imported when they run, not when the program starts: ``aethel-conformance --help``
lists them from :data:`COMMANDS` without importing the suite, Z3, matplotlib or pytest, so it
answers at once. Each entry names the module and attribute of a command (a function, or a Typer
app for a group of commands) and its one-line help; a harness test checks the line against the
command's own.
"""

from __future__ import annotations

import importlib
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

#: name -> (module, attribute, one-line help), in the order ``--help`` lists them.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "run": (
        "conformance.runner",
        "run_command",
        "Run the conformance suite and exit with the outcome.",
    ),
    "report": (
        "conformance.report.cli",
        "report_command",
        "Render summary.md, report.html, junit.xml and charts from a JSON-lines report.",
    ),
    "diff": (
        "conformance.report.cli",
        "diff_command",
        "Compare two runs by stable case ID; exit 1 if the new run has new failures.",
    ),
    "expectations": (
        "conformance.expectations",
        "expectations_command",
        "Write an expectation file (--expectations) listing a report's current failures.",
    ),
    "capabilities": (
        "conformance.protocol.cli",
        "capabilities_command",
        "List the capabilities an implementation may declare, with what each covers.",
    ),
    "selftest": (
        "conformance.selftest",
        "selftest_command",
        "Run the suite against every mutant; exit non-zero unless each is caught.",
    ),
    "spec": ("conformance.spec_cli", "app", "The spec catalog: list it, check its test coverage."),
    "vectors": (
        "conformance.testvectors.cli",
        "app",
        "Test vectors generated from the reference.",
    ),
    "init": (
        "conformance.starter.init",
        "init_command",
        "Write a minimal implementation skeleton with a vector runner into DIR.",
    ),
    "smoke": (
        "conformance.starter.smoke",
        "smoke_command",
        "Start an implementation, say hello, send one request per capability, stop it.",
    ),
    "serve-reference": (
        "conformance.protocol.cli",
        "serve_reference_command",
        "Serve the reference implementation over the subprocess protocol on stdin/stdout.",
    ),
    "serve": (
        "conformance.protocol.cli",
        "serve_command",
        "Serve a Python implementation (e.g. a self-test mutant) over the subprocess protocol.",
    ),
    "protocol-schema": (
        "conformance.protocol.cli",
        "protocol_schema_command",
        "Print the JSON Schema of every protocol message (or rewrite the committed copies).",
    ),
    "sweep": (
        "conformance.mechanical.sweep",
        "sweep_command",
        "Sweep simulator seeds (the tests/sim safety property) on dask; exit 1 on a failure.",
    ),
    "network": (
        "conformance.network.cli",
        "network_command",
        "Test validator nodes as processes under a seeded nemesis; check the recorded history.",
    ),
}


def load_command(name: str) -> Any:
    """Import and return the click command ``name`` (a command or a group)."""
    module_name, attribute, _ = COMMANDS[name]
    target = getattr(importlib.import_module(module_name), attribute)
    if isinstance(target, typer.Typer):
        command = typer.main.get_command(target)
    else:
        single = typer.Typer(add_completion=False)
        single.command(name)(target)
        command = typer.main.get_command(single)
    command.name = name
    return command


class LazyGroup(TyperGroup):
    """A group whose commands are placeholders (name and help) until one is run."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name, (_, _, short) in COMMANDS.items():
            self.commands[name] = TyperCommand(name=name, help=short)

    def resolve_command(self, ctx: Any, args: list[str]) -> tuple[str | None, Any, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if name in COMMANDS:
            command = load_command(name)
        return name, command, rest


app = typer.Typer(
    cls=LazyGroup,
    help="Aethel conformance suite: check an implementation of the Proof-of-Proof protocol.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _group() -> None:
    """Aethel conformance suite: check an implementation of the Proof-of-Proof protocol."""


def main() -> None:
    """Entry point of the ``aethel-conformance`` command."""
    app()


if __name__ == "__main__":
    main()
