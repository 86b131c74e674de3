"""The ``aethel-conformance`` command: run the suite, inspect the spec."""

from __future__ import annotations

import typer

from conformance import spec_cli
from conformance.protocol.cli import (
    capabilities_command,
    protocol_schema_command,
    serve_command,
    serve_reference_command,
)
from conformance.prove import prove_command
from conformance.report.cli import diff_command, report_command
from conformance.runner import run_command
from conformance.selftest import selftest_command
from conformance.testvectors.cli import app as vectors_app

app = typer.Typer(
    help="Aethel conformance suite: check an implementation of the Proof-of-Proof protocol.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(spec_cli.app, name="spec")
app.add_typer(vectors_app, name="vectors")
app.command("run")(run_command)
app.command("prove")(prove_command)
app.command("report")(report_command)
app.command("diff")(diff_command)
app.command("serve-reference")(serve_reference_command)
app.command("serve")(serve_command)
app.command("protocol-schema")(protocol_schema_command)
app.command("capabilities")(capabilities_command)
app.command("selftest")(selftest_command)


def main() -> None:
    """Entry point of the ``aethel-conformance`` command."""
    app()


if __name__ == "__main__":
    main()
