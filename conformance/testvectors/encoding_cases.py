"""The encoding cases, defined once: the suite's cases (conformance/suite/test_encoding.py) and
the vectors under ``encoding/`` both read these lists.

Known answers are written by hand from RFC 8785 and the spec (E1-E4), so they are an oracle
independent of any implementation; generating the vectors fails if the reference disagrees with
one. The must-reject lists are the inputs the spec gives no canonical form (parsing) or no
encoding (values), each with the rules it breaks.

Spec: E1, E2, E3, E4, E5, E6, E7, N1.
"""

from __future__ import annotations

from typing import Any


def nested(depth: int) -> list[Any]:
    """Return ``depth`` levels of nested empty lists."""
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


#: (case, value, its canonical encoding), written by hand.
KNOWN_ANSWERS: list[tuple[str, Any, bytes]] = [
    ("empty-object", {}, b"{}"),
    ("sorted-members", {"b": 1, "a": [True, None, "x"]}, b'{"a":[true,null,"x"],"b":1}'),
    ("escapes", {"s": '"\\\n\t\x01\x7f'}, b'{"s":"\\"\\\\\\n\\t\\u0001\x7f"}'),
    ("utf16-order", {"\ue000": 1, "\U0001f600": 2}, '{"\U0001f600":2,"\ue000":1}'.encode()),
    (
        "utf16-order-first-supplementary",
        {"\ue000": 1, "\U00010000": 2},
        '{"\U00010000":2,"\ue000":1}'.encode(),
    ),
    ("last-scalar-before-surrogates", {"s": "\ud7ff"}, '{"s":"\ud7ff"}'.encode()),
    ("int-range", [-(2**63), 2**63 - 1], b"[-9223372036854775808,9223372036854775807]"),
    ("non-ascii-raw", {"memo": "h\u00e9llo \u20ac"}, '{"memo":"h\u00e9llo \u20ac"}'.encode()),
    ("nested", {"z": {"b": [], "a": {}}, "a": 0}, b'{"a":0,"z":{"a":{},"b":[]}}'),
]

#: (case, rules, value) more values with a canonical form (the reference gives the encoding).
MORE_VALUES: list[tuple[str, tuple[str, ...], Any]] = [
    ("escapes-line-separator", ("E1",), {"s": '"\\\n\t\x01\x7f\u2028'}),
    ("utf16-member-order-ascii", ("E1",), {"\ue000": 1, "\U0001f600": 2, "a": 0}),
    ("int-signs", ("E2",), [-(2**63), 2**63 - 1, 0, -1]),
    ("non-ascii", ("E1", "E3"), {"memo": "h\u00e9llo \u20ac \U0001f600"}),
    ("deepest-nesting", ("E4",), nested(64)),
]

#: (case, rules, bytes) that are not the canonical form of any value: parsing must refuse them.
PARSE_MUST_REJECT: list[tuple[str, tuple[str, ...], bytes]] = [
    ("whitespace", ("E4",), b'{"a": 1}'),
    ("member-order", ("E1", "E4"), b'{"b":1,"a":2}'),
    ("duplicate-member", ("E4",), b'{"a":1,"a":1}'),
    ("float", ("E2",), b"1.5"),
    ("exponent", ("E2",), b"1e3"),
    ("negative-zero", ("E2",), b"-0"),
    ("nan", ("E2",), b"NaN"),
    ("infinity", ("E2",), b"Infinity"),
    ("out-of-range", ("E2",), b"9223372036854775808"),
    ("below-range", ("E2",), b"-9223372036854775809"),
    ("trailing-data", ("E4",), b"{}{}"),
    ("byte-order-mark", ("E4",), b"\xef\xbb\xbf{}"),
    ("non-nfc", ("E3",), '"e\u0301"'.encode()),
    ("non-nfc-member-name", ("E3",), '{"e\u0301":1}'.encode()),
    ("invalid-utf8", ("E4",), b'"\xff"'),
    ("lone-surrogate", ("E3",), b'"\\ud800"'),
    ("lone-low-surrogate-last", ("E3",), b'"\\udfff"'),
    ("unneeded-escape", ("E1", "E4"), b'"\\u0041"'),
    ("uppercase-escape", ("E1", "E4"), b'"\\u001F"'),
    ("leading-zero", ("E4",), b"01"),
    ("too-deep", ("E4",), b"[" * 65 + b"]" * 65),
]

#: (case, rules, bytes) in canonical form: parsing must accept them.
PARSE_ACCEPT: list[tuple[str, tuple[str, ...], bytes]] = [
    ("canonical", ("E4",), b'{"a":[1,"x",null],"b":{}}'),
    ("deepest-nesting", ("E4",), b"[" * 64 + b"]" * 64),
]

#: (case, rules, value) with no canonical encoding: encoding must refuse them.
ENCODE_MUST_REJECT: list[tuple[str, tuple[str, ...], Any]] = [
    ("float", ("E2",), 1.5),
    ("float-integral", ("E2",), 2.0),
    ("above-range", ("E2",), 2**63),
    ("below-range", ("E2",), -(2**63) - 1),
    ("non-nfc", ("E3",), "e\u0301"),
    ("non-nfc-member-name", ("E3",), {"e\u0301": 1}),
    ("lone-surrogate", ("E3",), "\ud800"),
    ("lone-low-surrogate-last", ("E3",), "\udfff"),
    ("too-deep", ("E4",), nested(65)),
]

#: The seed and body of the signature cases (E7): one signature per domain tag.
SIGNING_SEED = bytes(range(32))
SIGNED_BODY = {"amount": 7, "nonce": 1, "receiver": "bob", "sender": "alice"}

#: The malformed hex cases of ``verify_signature`` (E5): each changes one member of a call whose
#: key and signature are otherwise valid (see :func:`malformed_hex`).
MALFORMED_HEX_CASES = (
    "uppercase-key",
    "prefixed-key",
    "short-key",
    "odd-length-signature",
    "long-signature",
    "non-hex-signature",
)


def malformed_hex(public_key: str, signature: str) -> dict[str, dict[str, str]]:
    """Return, per case of :data:`MALFORMED_HEX_CASES`, the member of a ``verify_signature``
    call it replaces, given the valid lowercase hex ``public_key`` and ``signature`` (E5: a
    fixed-size field rejects any other length, uppercase digits, prefixes and odd lengths)."""
    made = {
        "uppercase-key": {"public_key": public_key.upper()},
        "prefixed-key": {"public_key": "0x" + public_key},
        "short-key": {"public_key": public_key[:-2]},
        "odd-length-signature": {"signature": signature[:-1]},
        "long-signature": {"signature": signature + "00"},
        "non-hex-signature": {"signature": "zz" + signature[2:]},
    }
    assert tuple(made) == MALFORMED_HEX_CASES
    return made
