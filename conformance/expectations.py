"""Per-implementation expectation files: known failures keyed by case ID, each with a reason.

An implementer who cannot fix everything at once lists the cases it knows it fails::

    implementation = "my-impl"          # optional: refuse the file for another implementation
    [known_failures]
    "encoding::non_canonical_input_is_rejected[whitespace]" = "lenient parser, fix tracked in #12"

``aethel-conformance run --expectations FILE`` then reports those cases as known failures: they
still fail (the verdict says so) but do not make the run exit non-zero. A known failure that
passes is reported as fixed, and an ID that matches no case as stale, so the file cannot rot.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aethel.errors import UsageError


class Expectations(BaseModel):
    """The parsed expectation file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    implementation: str | None = None
    known_failures: dict[str, Annotated[str, Field(min_length=3)]] = Field(default_factory=dict)


def load_expectations(path: Path) -> Expectations:
    """Read and validate an expectation file; raise :class:`UsageError` naming the problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"expectation file {path}: {exc}") from None
    try:
        return Expectations.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise UsageError(
            f"expectation file {path}: {problems} (each case needs a reason)"
        ) from None
