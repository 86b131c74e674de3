"""The reviewed list of equivalent mutants (``conformance/mutants/equivalent.toml``).

A surviving mechanical mutant is either killed by a new suite case or listed here as equivalent:
no observable behaviour of the implementation changes. Each entry names the mutant by its stable
ID (:mod:`conformance.mechanical.generate`), gives a one-line reason, and who reviewed it::

    [[equivalent]]
    id = "aethel/rfc6962.py:_split:ReplaceComparisonOperator_Lt_LtE:0c1d2e3f"
    line = 42                     # where it was when reviewed (for people; not matched)
    reason = "k < n and k <= n differ only at k == n, which the loop bound excludes"
    reviewed = "lead"

A campaign leaves listed mutants out of its score; a listed mutant the suite kills is an error in
the list (it was not equivalent), reported as such.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

EQUIVALENT_FILE = Path(__file__).resolve().parents[1] / "mutants" / "equivalent.toml"
_KEYS = {"id", "line", "reason", "reviewed"}


class TriageError(ValueError):
    """The equivalent list is malformed."""


@dataclass(frozen=True, slots=True)
class Equivalent:
    """One mutant reviewed as equivalent."""

    id: str
    reason: str
    reviewed: str
    line: int = 0


def load_equivalents(path: Path = EQUIVALENT_FILE) -> dict[str, Equivalent]:
    """Return the listed equivalent mutants by ID; raise :class:`TriageError` if malformed."""
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise TriageError(f"{path.name}: not valid TOML: {exc}") from None
    unknown = set(data) - {"equivalent"}
    if unknown:
        raise TriageError(f"{path.name}: unexpected top-level keys {sorted(unknown)}")
    found: dict[str, Equivalent] = {}
    for number, entry in enumerate(data.get("equivalent", []), start=1):
        extra = set(entry) - _KEYS
        if extra:
            raise TriageError(f"{path.name}: entry {number} has unknown keys {sorted(extra)}")
        for key in ("id", "reason", "reviewed"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise TriageError(f"{path.name}: entry {number} needs a non-empty {key!r}")
        if entry["id"].count(":") != 3:
            raise TriageError(f"{path.name}: entry {number}: {entry['id']!r} is not a mutant ID")
        if entry["id"] in found:
            raise TriageError(f"{path.name}: {entry['id']} is listed twice")
        found[entry["id"]] = Equivalent(
            entry["id"], entry["reason"].strip(), entry["reviewed"].strip(), entry.get("line", 0)
        )
    return found
