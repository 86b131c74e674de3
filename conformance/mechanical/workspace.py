"""The pristine snapshot of ``aethel/`` a campaign mutates, and the workspaces that serve it.

A campaign copies the sources of ``aethel/`` once when it starts (:class:`Snapshot`): the control
run and every mutant run are served from that copy, so an edit made in the working tree during a
long campaign changes nothing in it, and its hash names what was measured.

A :class:`Workspace` is a directory holding the snapshot as the package ``aethel`` (and a link to
the spec, which ``aethel.catalog`` reads beside the package), compiled once to checked-hash
``.pyc`` files. A mutant is written over its module, served, and the pristine text written back;
the served process never writes bytecode, and checked-hash ``.pyc`` files are validated by the
source's hash, not its modification time, so a mutant and its restore within one second can never
reuse each other's bytecode. Each slot of a worker process
(:func:`conformance.mechanical.campaign.slot`) has its own two workspaces: one mutated in turn, one
never mutated.
"""

from __future__ import annotations

import compileall
import hashlib
import py_compile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The sources of ``aethel/`` (path relative to the repository root -> text)."""

    files: tuple[tuple[str, str], ...]

    @classmethod
    def take(cls, root: Path) -> Snapshot:
        """Copy every ``.py`` file under ``root/aethel`` (bytecode and data aside)."""
        files = sorted(
            (p.relative_to(root).as_posix(), p.read_text(encoding="utf-8"))
            for p in (root / "aethel").rglob("*.py")
            if "__pycache__" not in p.parts
        )
        return cls(tuple(files))

    @property
    def digest(self) -> str:
        """SHA-256 over every path and text: what the campaign measured."""
        h = hashlib.sha256()
        for path, text in self.files:
            h.update(path.encode() + b"\0" + text.encode() + b"\0")
        return h.hexdigest()

    def source(self, module: str) -> str:
        """Return the pristine text of ``module``."""
        for path, text in self.files:
            if path == module:
                return text
        raise KeyError(module)

    def write(self, target: Path) -> None:
        """Write the snapshot under ``target`` (``target/aethel/...``)."""
        for path, text in self.files:
            destination = target / path
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_text(text, encoding="utf-8")


class Workspace:
    """A served copy of a snapshot in which one module at a time is mutated."""

    def __init__(self, root: Path, snapshot: Snapshot, spec_dir: Path) -> None:
        self.root = root
        self.snapshot = snapshot
        marker = root / ".snapshot"
        if not marker.exists() or marker.read_text(encoding="utf-8") != snapshot.digest:
            root.mkdir(parents=True, exist_ok=True)
            snapshot.write(root)
            link = root / "spec"
            if not link.exists():
                link.symlink_to(spec_dir, target_is_directory=True)
            compileall.compile_dir(
                str(root / "aethel"),
                quiet=1,
                invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH,
            )
            marker.write_text(snapshot.digest, encoding="utf-8")

    @contextmanager
    def mutated(self, module: str, text: str | None) -> Iterator[Path]:
        """Serve ``text`` as ``module`` for the duration of the block (None: pristine)."""
        path = self.root / module
        if text is None:
            yield self.root
            return
        path.write_text(text, encoding="utf-8")
        try:
            yield self.root
        finally:
            path.write_text(self.snapshot.source(module), encoding="utf-8")
