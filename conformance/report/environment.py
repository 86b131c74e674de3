"""What a report header says about the suite and the machine."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

import conformance
from aethel.bench import machine_info

CONFORMANCE_DIR = Path(conformance.__file__).resolve().parent
#: The files whose content decides what the suite checks; their hash identifies the suite. Every
#: top-level module is in (the suite's helpers, and a few drivers: the hash may change more often
#: than the checks, never less); only rendering (report/) and the self-test's mutants are out.
SUITE_GLOBS = (
    "*.py",
    "suite/**/*.py",
    "vectors/**/*.json",
    "protocol/**/*.py",
    "protocol/*.json",
    "adapters/**/*.py",
    "testvectors/**/*.py",
)


def suite_files() -> list[Path]:
    """Return the suite's files, sorted, relative to the conformance package."""
    found: set[Path] = set()
    for pattern in SUITE_GLOBS:
        found.update(p for p in CONFORMANCE_DIR.glob(pattern) if p.is_file())
    return sorted(p.relative_to(CONFORMANCE_DIR) for p in found if "__pycache__" not in p.parts)


def compute_suite_hash() -> str:
    """Return SHA-256 over the suite files' relative paths and contents."""
    digest = hashlib.sha256()
    for relative in suite_files():
        digest.update(relative.as_posix().encode() + b"\x00")
        digest.update((CONFORMANCE_DIR / relative).read_bytes() + b"\x00")
    return digest.hexdigest()


def suite_info() -> dict[str, Any]:
    """Return the suite's version, hash and file count for the report header."""
    return {
        "version": conformance.__version__,
        "hash": compute_suite_hash(),
        "files": len(suite_files()),
    }


def environment_info() -> dict[str, Any]:
    """Return the machine and toolchain the run used."""
    info = machine_info()
    info["python_implementation"] = sys.implementation.name
    info["executable"] = sys.executable
    return info
