"""Canonical JSON conformance (E1-E4): known answers and must-reject inputs."""

from __future__ import annotations

import pytest

from conformance.adapters import Implementation, Rejected

KNOWN_ANSWERS = [
    ("empty-object", {}, b"{}"),
    ("sorted-members", {"b": 1, "a": [True, None, "x"]}, b'{"a":[true,null,"x"],"b":1}'),
    ("escapes", {"s": '"\\\n\t\x01\x7f'}, b'{"s":"\\"\\\\\\n\\t\\u0001\x7f"}'),
    ("utf16-order", {"\ue000": 1, "\U0001f600": 2}, '{"\U0001f600":2,"\ue000":1}'.encode()),
    ("int-range", [-(2**63), 2**63 - 1], b"[-9223372036854775808,9223372036854775807]"),
]

MUST_REJECT = [
    ("whitespace", b'{"a": 1}'),
    ("member-order", b'{"b":1,"a":2}'),
    ("duplicate-member", b'{"a":1,"a":1}'),
    ("float", b"1.5"),
    ("exponent", b"1e3"),
    ("negative-zero", b"-0"),
    ("nan", b"NaN"),
    ("out-of-range", b"9223372036854775808"),
    ("trailing-data", b"{}{}"),
    ("non-nfc", '"e\u0301"'.encode()),
    ("invalid-utf8", b'"\xff"'),
    ("lone-surrogate", b'"\\ud800"'),
    ("unneeded-escape", b'"\\u0041"'),
]


@pytest.mark.req("E1", "E2", "E3")
@pytest.mark.parametrize(
    ("case", "value", "expected"), KNOWN_ANSWERS, ids=[c[0] for c in KNOWN_ANSWERS]
)
def test_canonical_json_known_answer(
    impl: Implementation, case: str, value: object, expected: bytes
) -> None:
    assert impl.canonical_json(value) == expected
    assert impl.parse_canonical_json(expected) == value


@pytest.mark.req("E2", "E3", "E4")
@pytest.mark.parametrize(("case", "data"), MUST_REJECT, ids=[c[0] for c in MUST_REJECT])
def test_non_canonical_input_is_rejected(impl: Implementation, case: str, data: bytes) -> None:
    with pytest.raises(Rejected):
        impl.parse_canonical_json(data)
