"""The suite's assertions (conformance/checks.py): divergences and refusals are reported as what
they are.

Tooling tests: they check the harness's comparison helpers, not a protocol rule, so they cite no
rule ID.
"""

from __future__ import annotations

import pytest

from conformance.adapters.errors import Rejected
from conformance.checks import (
    Divergence,
    MustReject,
    WrongJsonType,
    WrongRule,
    expect_equal,
    expect_refused,
    expect_rejected,
    first_divergence,
)


def test_a_float_zero_does_not_hide_the_real_divergence() -> None:
    with pytest.raises(Divergence) as raised:
        expect_equal({"a": 0.0, "b": 6}, {"a": 0, "b": 5}, "split")
    error = raised.value
    assert not isinstance(error, WrongJsonType)
    assert (error.path, error.expected, error.actual) == ("b", 5, 6)
    assert error.wrong_types == ("a: expected integer 0, got float 0.0",)
    assert "wrong JSON type" in str(error) and "at b: expected 5, got 6" in str(error)
    assert error.as_dict()["wrong_types"] == ["a: expected integer 0, got float 0.0"]


def test_a_number_of_the_wrong_json_type_alone_is_a_wrong_type() -> None:
    with pytest.raises(WrongJsonType) as raised:
        expect_equal([1, 2.0, {"x": 3}], [1, 2, {"x": 3.0}], "answer")
    assert raised.value.wrong_types == (
        "[1]: expected integer 2, got float 2.0",
        "[2].x: expected float 3.0, got integer 3",
    )
    assert str(raised.value).startswith("answer: wrong JSON type of a number")
    assert raised.value.as_dict()["path"] == "[1]"


@pytest.mark.parametrize(
    ("expected", "actual", "path"),
    [
        (1, True, ""),
        (0, False, ""),
        (1, "1", ""),
        (1, 1.5, ""),
        ({"a": [1, 2]}, {"a": [1]}, ".a.length"),
        ({"a": 1}, {}, ".a"),
        (None, 0, ""),
    ],
)
def test_other_differences_are_divergences(expected: object, actual: object, path: str) -> None:
    found = first_divergence(expected, actual)
    assert found is not None and found[0] == path
    with pytest.raises(Divergence):
        expect_equal(actual, expected)


def test_equal_values_pass() -> None:
    expect_equal({"a": [1, "x", None, True, 0.5]}, {"a": [1, "x", None, True, 0.5]})


def _refuse(rule: str | None) -> None:
    raise Rejected("no", rule)


def test_a_refusal_must_name_the_rule_the_spec_fixes() -> None:
    assert expect_rejected(lambda: _refuse("R7.1"), "double spend", rule="R7.1").rule_id == "R7.1"
    expect_rejected(lambda: _refuse("E3"), "either", rule=("E2", "E3"))
    with pytest.raises(WrongRule, match=r"named R4\.2; the spec fixes R7\.1"):
        expect_rejected(lambda: _refuse("R4.2"), "double spend", rule="R7.1")
    with pytest.raises(WrongRule, match="named no rule"):
        expect_rejected(lambda: _refuse(None), "double spend", rule="R7.1")
    with pytest.raises(MustReject):
        expect_rejected(lambda: 1, "double spend", rule="R7.1")
    assert expect_rejected(lambda: _refuse(None), "no rule fixed").rule_id is None


def test_a_refused_verification_may_answer_false() -> None:
    expect_refused(lambda: False, "tampered proof", rule="E9")
    expect_refused(lambda: _refuse("E9"), "tampered proof", rule="E9")
    with pytest.raises(WrongRule):
        expect_refused(lambda: _refuse("E4"), "tampered proof", rule="E9")
    with pytest.raises(MustReject):
        expect_refused(lambda: True, "tampered proof", rule="E9")
