"""``aethel-conformance serve-reference``, ``serve`` and ``protocol-schema``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from conformance.adapters.loader import load_implementation
from conformance.protocol.schema import protocol_document
from conformance.protocol.server import serve

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
        bool, typer.Option(help=f"write it to {SCHEMA_FILE.name} in the package")
    ] = False,
) -> None:
    """Print the JSON Schema of every protocol message (or rewrite the committed copy)."""
    text = render_schema()
    if write:
        SCHEMA_FILE.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {SCHEMA_FILE}", err=True)
    else:
        sys.stdout.write(text)
