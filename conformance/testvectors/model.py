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
#: Sub-directories of conformance/vectors that ``vectors generate`` neither writes nor deletes as
#: generated vectors: copied vectors, and those other generators keep (Ed25519 edges, the
#: verifier's effort known answers, the BLS known answers); ``vectors export`` copies them as
#: they are.
FOREIGN = frozenset({EXTERNAL, "ed25519", "verifier", "bls"})
#: Where a runner's generated vectors live when its name is taken by a foreign directory.
COMMITTED_DIR = {"verifier": "verifier-outcomes"}
#: Handlers the suite replays in their own file rather than conformance/suite/test_vectors.py
#: (replica traces: conformance/suite/test_replica_traces.py).
OWN_SUITE_FILE = frozenset({("replica", "trace")})


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
        return (
            Path(COMMITTED_DIR.get(self.runner, self.runner)) / self.handler / f"{self.case}.json"
        )

    @property
    def capabilities(self) -> tuple[str, ...]:
        """Return the capabilities an implementation needs to run the vector."""
        if self.handler == "trace":
            from conformance.testvectors.traces import required_capabilities

            return required_capabilities(self.input)
        return (self.runner,)

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


def generated_paths(directory: Path = VECTORS_DIR) -> list[Path]:
    """Return the files of generated vectors under ``directory`` (foreign ones left out)."""
    return [
        path
        for path in sorted(directory.glob("*/*/*.json"))
        if path.relative_to(directory).parts[0] not in FOREIGN
    ]


def load_vectors(directory: Path = VECTORS_DIR, *, every: bool = False) -> list[Vector]:
    """Return the generated vectors under ``directory``, sorted by path: those
    conformance/suite/test_vectors.py replays, or with ``every`` all of them."""
    vectors = [Vector.from_file(path) for path in generated_paths(directory)]
    return [v for v in vectors if every or (v.runner, v.handler) not in OWN_SUITE_FILE]
