"""``aethel-conformance serve-reference``, ``serve``, ``protocol-schema`` and ``capabilities``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from aethel.errors import UsageError
from conformance.adapters.errors import ImplementationFailure
from conformance.adapters.loader import load_implementation
from conformance.capabilities import DESCRIPTIONS
from conformance.protocol.commands import TABLE
from conformance.protocol.schema import protocol_document
from conformance.protocol.server import serve
from conformance.protocol.versions import VERSIONS_FILE, VersionBumpNeeded, update_record

SCHEMA_FILE = Path(__file__).resolve().parent / "schema.json"


def serve_reference_command() -> None:
    """Serve the reference implementation over the subprocess protocol on stdin/stdout."""
    serve(load_implementation("reference"), sys.stdin, sys.stdout)


def serve_command(
    impl: Annotated[str, typer.Option(help="a Python implementation: python:pkg.mod:factory")],
) -> None:
    """Serve a Python implementation (e.g. a self-test mutant) over the subprocess protocol."""
    if impl.startswith("stdio"):
        raise typer.BadParameter("serve takes a Python implementation, not a subprocess")
    serve(load_implementation(impl), sys.stdin, sys.stdout)


def render_schema() -> str:
    """Return the protocol's JSON Schema document as committed in schema.json."""
    return json.dumps(protocol_document(), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def protocol_schema_command(
    write: Annotated[
        bool,
        typer.Option(help=f"write {SCHEMA_FILE.name} and record new capabilities in versions.json"),
    ] = False,
) -> None:
    """Print the JSON Schema of every protocol message (or rewrite the committed copies).

    With ``--write``, also record new capabilities in versions.json; refuse (exit 1) a change
    that needs a new protocol version (PROTOCOL.md, Versions and capabilities).
    """
    text = render_schema()
    if write:
        try:
            added = update_record()
        except VersionBumpNeeded as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        SCHEMA_FILE.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {SCHEMA_FILE}", err=True)
        if added:
            typer.echo(f"recorded new capabilities {', '.join(added)} in {VERSIONS_FILE}", err=True)
    else:
        sys.stdout.write(text)


def capabilities_command(
    impl: Annotated[
        str | None,
        typer.Option(help="also show which capabilities this implementation declares"),
    ] = None,
) -> None:
    """List the capabilities an implementation may declare, with what each covers."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from conformance.report.text import visible

    declared: frozenset[str] | None = None
    name = ""
    if impl is not None:
        try:
            implementation = load_implementation(impl)
        except (UsageError, ImplementationFailure) as exc:
            typer.echo(f"error: {visible(str(exc))}", err=True)
            raise typer.Exit(2) from None
        try:
            declared = frozenset(implementation.capabilities)
            name = escape(visible(str(implementation.name), keep=""))
        finally:
            implementation.close()
    table = Table(title="Capabilities (conformance/PROTOCOL.md)")
    table.add_column("capability")
    table.add_column("commands", justify="right")
    table.add_column("covers")
    if declared is not None:
        table.add_column(f"declared by {name}")
    for capability, commands in TABLE.items():
        row = [capability.value, str(len(commands)), DESCRIPTIONS[capability]]
        if declared is not None:
            row.append("yes" if capability.value in declared else "[yellow]no[/yellow]")
        table.add_row(*row)
    Console().print(table)
