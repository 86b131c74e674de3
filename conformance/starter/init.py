"""``aethel-conformance init --lang python|javascript DIR``: write a starter implementation.

The skeletons live in ``conformance/starter/templates/<lang>/`` and are copied as they are, with
the suite's protocol and wire documents beside them so the directory is self-contained. A
directory that already holds files is refused unless ``--force`` is given (then the skeleton's
files are overwritten and nothing else is touched).
"""

from __future__ import annotations

import shutil
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

TEMPLATES = Path(__file__).resolve().parent / "templates"
DOCS = [Path(__file__).resolve().parent.parent / name for name in ("PROTOCOL.md", "WIRE.md")]


class Language(StrEnum):
    """The languages of the starter skeletons."""

    PYTHON = "python"
    JAVASCRIPT = "javascript"


#: How to start each skeleton, relative to its directory (for ``smoke`` and ``run``).
ENTRY = {
    Language.PYTHON: "python3 aethel_starter.py",
    Language.JAVASCRIPT: "node aethel-starter.mjs",
}


def template_files(language: Language) -> list[Path]:
    """Return the files of a skeleton, sorted."""
    root = TEMPLATES / language.value
    return sorted(p for p in root.iterdir() if p.is_file() and p.suffix != ".pyc")


class DirectoryNotEmpty(Exception):
    """The target directory holds files and ``--force`` was not given."""


def write_skeleton(language: Language, target: Path, *, force: bool = False) -> list[Path]:
    """Copy the skeleton of ``language`` into ``target``; return the files written."""
    if target.exists() and not target.is_dir():
        raise DirectoryNotEmpty(f"{target} exists and is not a directory")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise DirectoryNotEmpty(f"{target} is not empty (use --force to write into it anyway)")
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for source in [*template_files(language), *DOCS]:
        destination = target / source.name
        shutil.copyfile(source, destination)
        if source.suffix in (".py", ".mjs") and source.read_text(encoding="utf-8").startswith("#!"):
            destination.chmod(0o755)
        written.append(destination)
    return written


def init_command(
    directory: Annotated[Path, typer.Argument(help="where to write the skeleton")],
    lang: Annotated[Language, typer.Option(help="the language of the skeleton")],
    force: Annotated[bool, typer.Option(help="write into a directory that is not empty")] = False,
) -> None:
    """Write a minimal implementation skeleton with a vector runner into DIR."""
    try:
        written = write_skeleton(lang, directory, force=force)
    except DirectoryNotEmpty as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    for path in written:
        typer.echo(f"wrote {path}")
    entry = ENTRY[lang]
    typer.echo(
        f'\nnext: cd {directory} && aethel-conformance smoke --impl "stdio:{entry}"\n'
        f'      aethel-conformance run --impl "stdio:{entry}" --capability <what you implement>'
    )
