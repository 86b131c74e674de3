"""Encoding cases written from the survivors of the mechanical campaign (E2, E4, E7).

Each case kills a generated mutant of ``aethel/encoding.py`` that every earlier case let through
(``reports/selftest/triage-*.md`` names the mutant, and ``conformance/mutants/
mechanical_triage.py`` an outsider's version of the same defect):

* objects nested deeper than 64 levels: the depth limit must count objects as it counts arrays
  (E4); the existing cases nest arrays only;
* a value with no canonical encoding does not verify: ``verify_signature`` answers ``false`` (or
  refuses), never fails (E7 over a body E2, E3 or E4 gives no bytes for).
"""

from __future__ import annotations

from typing import Any

import pytest

from aethel import encoding as spec_encoding
from conformance.adapters.api import EncodingAPI
from conformance.checks import expect_equal, expect_refused, expect_rejected
from conformance.testvectors import encoding_cases

pytestmark = pytest.mark.capability("encoding")

DEPTH_LIMIT = 64


def nested_objects(depth: int) -> dict[str, Any]:
    """Return ``depth`` levels of objects, each holding the next as member ``"a"``."""
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def alternating(depth: int) -> Any:
    """Return ``depth`` levels alternating objects and arrays, an object outermost."""
    value: Any = {}
    for level in range(depth - 1):
        value = [value] if level % 2 == 0 else {"a": value}
    return value


@pytest.mark.req("E4")
@pytest.mark.parametrize(
    "shape", [nested_objects, alternating], ids=["objects", "objects-and-arrays"]
)
def test_objects_nested_to_the_limit_round_trip(encoding_api: EncodingAPI, shape: Any) -> None:
    value = shape(DEPTH_LIMIT)
    encoded = encoding_api.canonical_json(value)
    expect_equal(encoded, spec_encoding.canonical_json(value).hex(), "64 levels, encoded")
    expect_equal(encoding_api.parse_canonical_json(encoded), value, "64 levels, parsed back")


@pytest.mark.req("E4")
@pytest.mark.rejects("E4")
@pytest.mark.parametrize(
    "shape", [nested_objects, alternating], ids=["objects", "objects-and-arrays"]
)
def test_objects_nested_past_the_limit_are_refused(encoding_api: EncodingAPI, shape: Any) -> None:
    """E4 bounds nesting of arrays and objects alike: 65 levels are refused both ways."""
    value = shape(DEPTH_LIMIT + 1)
    expect_rejected(lambda: encoding_api.canonical_json(value), "encoding 65 levels", rule="E4")
    inner = spec_encoding.canonical_json(shape(DEPTH_LIMIT))
    data = (b"[" + inner + b"]") if isinstance(value, list) else (b'{"a":' + inner + b"}")
    expect_rejected(
        lambda: encoding_api.parse_canonical_json(data.hex()), "parsing 65 levels", rule="E4"
    )


#: A transfer body whose members have no canonical encoding, one at a time (E2, E3, E4).
WITHOUT_CANONICAL_FORM = [
    pytest.param("amount", 7.5, id="fraction", marks=pytest.mark.req("E2")),
    pytest.param("amount", 2**63, id="above-range", marks=pytest.mark.req("E2")),
    pytest.param("memo", "e\u0301", id="non-nfc", marks=pytest.mark.req("E3")),
    pytest.param(
        "memo", nested_objects(DEPTH_LIMIT + 1), id="too-deep", marks=pytest.mark.req("E4")
    ),
]


@pytest.mark.req("E7")
@pytest.mark.rejects("E7")
@pytest.mark.parametrize(("member", "value"), WITHOUT_CANONICAL_FORM)
def test_a_body_without_canonical_form_does_not_verify(
    encoding_api: EncodingAPI, member: str, value: object
) -> None:
    """A signature covers canonical bytes (E7); a body that has none verifies nothing.

    The signature is a valid one over the unchanged body, so only the changed member can make
    the answer ``false``; a refusal counts too. An implementation that fails instead (an
    internal error) or answers anything but ``false`` fails the case.
    """
    seed = encoding_cases.SIGNING_SEED.hex()
    domain = spec_encoding.Domain.TRANSACTION.value
    body = dict(encoding_cases.SIGNED_BODY)
    key = encoding_api.public_key(seed)
    signature = encoding_api.sign(seed, domain, body)
    expect_equal(encoding_api.verify_signature(key, domain, body, signature), True, "control")
    changed = {**body, member: value}
    expect_refused(
        lambda: encoding_api.verify_signature(key, domain, changed, signature),
        f"verifying a body whose {member} has no canonical form",
    )
