"""One test vector: where it lives, what it says, how to run it on an implementation."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.adapters.errors import Rejected

VECTORS_DIR = Path(__file__).resolve().parent.parent / "vectors"
#: Sub-directories that hold vectors from elsewhere, not generated from the reference.
EXTERNAL = "external"


@dataclass(frozen=True, slots=True)
class Vector:
    """A generated test vector."""

    runner: str
    handler: str
    case: str
    rules: tuple[str, ...]
    input: dict[str, Any]
    expected: dict[str, Any]

    @property
    def path(self) -> Path:
        """Return where the vector lives, relative to the vectors directory."""
        return Path(self.runner) / self.handler / f"{self.case}.json"

    @property
    def must_reject(self) -> bool:
        """True if the input must be rejected."""
        return bool(self.expected.get("reject"))

    def to_json(self) -> str:
        """Return the file content (stable: sorted keys, one trailing newline)."""
        record = {
            "runner": self.runner,
            "handler": self.handler,
            "case": self.case,
            "rules": list(self.rules),
            "input": self.input,
            "expected": self.expected,
        }
        return json.dumps(record, indent=1, sort_keys=True, ensure_ascii=True) + "\n"

    @classmethod
    def from_file(cls, path: Path) -> Vector:
        """Read a vector file."""
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            data["runner"],
            data["handler"],
            data["case"],
            tuple(data["rules"]),
            data["input"],
            data["expected"],
        )


def outcome(call: Any) -> dict[str, Any]:
    """Run ``call`` and return ``{"result": ...}`` or ``{"reject": True}``."""
    try:
        return {"result": call()}
    except Rejected:
        return {"reject": True}


def load_vectors(directory: Path = VECTORS_DIR) -> list[Vector]:
    """Return every generated vector under ``directory``, sorted by path."""
    found = []
    for path in sorted(directory.glob("*/*/*.json")):
        if path.relative_to(directory).parts[0] != EXTERNAL:
            found.append(Vector.from_file(path))
    return found
