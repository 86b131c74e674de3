"""Assertions for conformance cases that say where an answer diverged and by how much.

* :func:`expect_equal` compares JSON values and reports the first divergence (path, expected,
  actual), which the report prints beside the case. A number of the wrong JSON type (``0.0``
  where the spec fixes the integer ``0``) fails the case as a wrong type, and the first real
  difference of value is still the one reported.
* :func:`expect_rejected` runs a call that must be refused; given ``rule=``, the rule the refusal
  names must be the one the spec fixes for that input.
* :class:`Inconclusive` ends a case whose verdict cannot be reached (status ``unknown``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from conformance.adapters.errors import Rejected


class Divergence(AssertionError):
    """An answer differed from the expected one; ``path`` locates the first difference.

    ``wrong_types`` lists the numbers that had the right value but the wrong JSON type (an
    integer sent as a float or the reverse), each as ``path: expected integer 0, got float 0.0``.
    """

    def __init__(
        self, what: str, path: str, expected: Any, actual: Any, wrong_types: tuple[str, ...] = ()
    ) -> None:
        self.what = what
        self.path = path
        self.expected = expected
        self.actual = actual
        self.wrong_types = wrong_types
        where = f" at {path}" if path else ""
        text = f"{what}: first divergence{where}: expected {_short(expected)}, got {_short(actual)}"
        if wrong_types:
            text += f"; also {_types_text(wrong_types)}"
        super().__init__(text)

    def as_dict(self) -> dict[str, Any]:
        """Return the divergence as a JSON object for the report."""
        found: dict[str, Any] = {
            "what": self.what,
            "path": self.path,
            "expected": _short(self.expected),
            "actual": _short(self.actual),
        }
        if self.wrong_types:
            found["wrong_types"] = list(self.wrong_types)
        return found


class WrongJsonType(Divergence):
    """Every value was right, but some number had the wrong JSON type (integer vs float, E2)."""

    def __init__(self, what: str, wrong_types: tuple[str, ...], first: TypeMismatch) -> None:
        super().__init__(what, first.path.lstrip("."), first.expected, first.actual, wrong_types)
        self.args = (f"{what}: {_types_text(wrong_types)}",)


class MustReject(AssertionError):
    """The implementation accepted an input the spec says it must reject."""


class WrongRule(AssertionError):
    """The implementation refused, as it must, but named no rule or another rule than the spec's."""


class Inconclusive(Exception):
    """The case could not reach a verdict (reported as ``unknown``, never as a pass)."""


def _short(value: Any, limit: int = 200) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _types_text(wrong_types: tuple[str, ...]) -> str:
    shown = "; ".join(wrong_types[:5])
    more = f" (and {len(wrong_types) - 5} more)" if len(wrong_types) > 5 else ""
    return f"wrong JSON type of a number: {shown}{more}"


def _json_type(value: Any) -> str:
    """Return the JSON type of a decoded value (``bool`` is not a number in JSON)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    return type(value).__name__


@dataclass(frozen=True, slots=True)
class TypeMismatch:
    """A number equal in value to the expected one but of the other JSON number type."""

    path: str
    expected: Any
    actual: Any

    def describe(self) -> str:
        where = self.path.lstrip(".") or "(top)"
        return (
            f"{where}: expected {_json_type(self.expected)} {self.expected!r}, "
            f"got {_json_type(self.actual)} {self.actual!r}"
        )


def _compare(
    expected: Any, actual: Any, path: str, mismatches: list[TypeMismatch]
) -> tuple[str, Any, Any] | None:
    kinds = (_json_type(expected), _json_type(actual))
    if kinds[0] != kinds[1]:
        if set(kinds) == {"integer", "float"} and expected == actual:
            mismatches.append(TypeMismatch(path, expected, actual))
            return None
        return (path, expected, actual)
    if isinstance(expected, dict):
        for key in sorted(set(expected) | set(actual), key=str):
            if key not in actual:
                return (f"{path}.{key}", expected[key], "<missing>")
            if key not in expected:
                return (f"{path}.{key}", "<absent>", actual[key])
            found = _compare(expected[key], actual[key], f"{path}.{key}", mismatches)
            if found:
                return found
        return None
    if isinstance(expected, list | tuple):
        for index, (want, got) in enumerate(zip(expected, actual, strict=False)):
            found = _compare(want, got, f"{path}[{index}]", mismatches)
            if found:
                return found
        if len(expected) != len(actual):
            return (f"{path}.length", len(expected), len(actual))
        return None
    if expected != actual or type(expected) is not type(actual):
        return (path, expected, actual)
    return None


def first_divergence(expected: Any, actual: Any, path: str = "") -> tuple[str, Any, Any] | None:
    """Return ``(path, expected, actual)`` of the first difference of value, or None.

    JSON types count: ``1`` and ``True`` differ, ``"1"`` and ``1`` differ. An integer and a float
    of equal value (``0`` and ``0.0``) are not a difference of value: :func:`type_mismatches`
    reports them, so the first real difference is never hidden behind a wrong number type.
    """
    return _compare(expected, actual, path, [])


def type_mismatches(expected: Any, actual: Any) -> list[TypeMismatch]:
    """Return the numbers of ``actual`` equal in value but not in JSON type to ``expected``'s,
    up to the first difference of value."""
    found: list[TypeMismatch] = []
    _compare(expected, actual, "", found)
    return found


def expect_equal(actual: Any, expected: Any, what: str = "answer") -> None:
    """Raise unless ``actual`` equals ``expected``, values and JSON types (E2).

    A difference of value raises :class:`Divergence` at the first one (naming, too, the numbers
    of the wrong JSON type met before it); equal values with an integer where a float belongs, or
    the reverse, raise :class:`WrongJsonType` naming each of them.
    """
    mismatches: list[TypeMismatch] = []
    found = _compare(expected, actual, "", mismatches)
    described = tuple(m.describe() for m in mismatches)
    if found is not None:
        path, want, got = found
        raise Divergence(what, path.lstrip("."), want, got, described)
    if mismatches:
        raise WrongJsonType(what, described, mismatches[0])


def _check_rule(rejection: Rejected, rule: str | tuple[str, ...], what: str) -> None:
    allowed = (rule,) if isinstance(rule, str) else tuple(rule)
    if rejection.rule_id in allowed:
        return
    wanted = " or ".join(allowed)
    named = "named no rule" if rejection.rule_id is None else f"named {rejection.rule_id}"
    raise WrongRule(
        f"{what}: refused as it must be, but the refusal {named}; the spec fixes {wanted} "
        f"for this input (refusal: {_short(rejection.message)})"
    )


def expect_rejected(
    call: Callable[[], Any], what: str, *, rule: str | tuple[str, ...] | None = None
) -> Rejected:
    """Run ``call`` and return its :class:`Rejected`; raise :class:`MustReject` if it answered.

    ``rule`` is the rule ID the spec fixes for this refusal (or the IDs it allows, when the input
    breaks several rules at once): a refusal naming no rule or another rule raises
    :class:`WrongRule`. Leave it out only where the spec does not say which rule the input breaks.
    """
    try:
        answer = call()
    except Rejected as exc:
        if rule is not None:
            _check_rule(exc, rule, what)
        return exc
    raise MustReject(f"{what}: must be rejected, but the implementation answered {_short(answer)}")


def expect_refused(
    call: Callable[[], Any], what: str, *, rule: str | tuple[str, ...] | None = None
) -> None:
    """Like :func:`expect_rejected`, but a verifier answering ``False`` also counts as refusal.

    ``rule`` is compared as in :func:`expect_rejected` when the refusal is a rejection; the
    answer ``False`` names no rule and is always a refusal.
    """
    try:
        answer = call()
    except Rejected as exc:
        if rule is not None:
            _check_rule(exc, rule, what)
        return
    if answer is not False:
        raise MustReject(
            f"{what}: must be refused, but the implementation answered {_short(answer)}"
        )
