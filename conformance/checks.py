"""Assertions for conformance cases that say where an answer diverged and by how much.

* :func:`expect_equal` compares JSON values and reports the first divergence (path, expected,
  actual), which the report prints beside the case.
* :func:`expect_rejected` runs a call that must be refused.
* :class:`Inconclusive` ends a case whose verdict cannot be reached (status ``unknown``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conformance.adapters.errors import Rejected


class Divergence(AssertionError):
    """An answer differed from the expected one; ``path`` locates the first difference."""

    def __init__(self, what: str, path: str, expected: Any, actual: Any) -> None:
        self.what = what
        self.path = path
        self.expected = expected
        self.actual = actual
        where = f" at {path}" if path else ""
        super().__init__(
            f"{what}: first divergence{where}: expected {_short(expected)}, got {_short(actual)}"
        )

    def as_dict(self) -> dict[str, Any]:
        """Return the divergence as a JSON object for the report."""
        return {
            "what": self.what,
            "path": self.path,
            "expected": _short(self.expected),
            "actual": _short(self.actual),
        }


class MustReject(AssertionError):
    """The implementation accepted an input the spec says it must reject."""


class Inconclusive(Exception):
    """The case could not reach a verdict (reported as ``unknown``, never as a pass)."""


def _short(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def first_divergence(expected: Any, actual: Any, path: str = "") -> tuple[str, Any, Any] | None:
    """Return ``(path, expected, actual)`` of the first difference, or None if equal.

    Types count: ``1`` and ``True`` differ, and so do ``1`` and ``1.0`` (E2).
    """
    if type(expected) is not type(actual):
        return (path, expected, actual)
    if isinstance(expected, dict):
        for key in sorted(set(expected) | set(actual), key=str):
            if key not in actual:
                return (f"{path}.{key}", expected[key], "<missing>")
            if key not in expected:
                return (f"{path}.{key}", "<absent>", actual[key])
            found = first_divergence(expected[key], actual[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(expected, list | tuple):
        for index, (want, got) in enumerate(zip(expected, actual, strict=False)):
            found = first_divergence(want, got, f"{path}[{index}]")
            if found:
                return found
        if len(expected) != len(actual):
            return (f"{path}.length", len(expected), len(actual))
        return None
    return None if expected == actual else (path, expected, actual)


def expect_equal(actual: Any, expected: Any, what: str = "answer") -> None:
    """Raise :class:`Divergence` unless ``actual`` equals ``expected`` (types included)."""
    found = first_divergence(expected, actual)
    if found is not None:
        path, want, got = found
        raise Divergence(what, path.lstrip("."), want, got)


def expect_rejected(call: Callable[[], Any], what: str) -> Rejected:
    """Run ``call`` and return its :class:`Rejected`; raise :class:`MustReject` if it answered."""
    try:
        answer = call()
    except Rejected as exc:
        return exc
    raise MustReject(f"{what}: must be rejected, but the implementation answered {_short(answer)}")


def expect_refused(call: Callable[[], Any], what: str) -> None:
    """Like :func:`expect_rejected`, but a verifier answering ``False`` also counts as refusal."""
    try:
        answer = call()
    except Rejected:
        return
    if answer is not False:
        raise MustReject(
            f"{what}: must be refused, but the implementation answered {_short(answer)}"
        )
