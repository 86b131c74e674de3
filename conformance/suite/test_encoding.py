"""Canonical JSON, object hashes and signatures (E1-E7, N1): known answers and must-reject inputs.

The known answers are written by hand from RFC 8785 and the spec (an oracle independent of any
implementation); the generated round-trips compare with the executable spec in ``aethel.encoding``.
"""

from __future__ import annotations

import hashlib
import unicodedata

import nacl.signing
import pytest
from hypothesis import given
from hypothesis import strategies as st

from aethel import encoding as spec_encoding
from conformance.adapters.api import EncodingAPI
from conformance.checks import expect_equal, expect_refused, expect_rejected
from conformance.testvectors import encoding_cases

pytestmark = pytest.mark.capability("encoding")

#: Written by hand; shared with the vectors (conformance/testvectors/encoding_cases.py).
KNOWN_ANSWERS = encoding_cases.KNOWN_ANSWERS


#: Where the spec fixes the rule a refusal names and the case is compared with it: a number
#: without a canonical form names E2, a string that is not NFC scalar values E3. Cases of
#: canonical bytes (E4) name no rule here: E4's refusals are compared by the cases of its own
#: work. ``-0`` is listed under E2 by the spec, but a decoder that re-encodes the integer 0 and
#: compares bytes names E4 (as the reference does), so it is not compared either.
COMPARED_RULES = ("E2", "E3")
NOT_COMPARED = frozenset({"negative-zero"})


def _rule(case: str, rules: tuple[str, ...]) -> str | None:
    """Return the rule the refusal must name, or None where it is not compared."""
    if len(rules) == 1 and rules[0] in COMPARED_RULES and case not in NOT_COMPARED:
        return rules[0]
    return None


def _param(case: str, rules: tuple[str, ...], *values: object) -> object:
    return pytest.param(case, *values, _rule(case, rules), id=case, marks=pytest.mark.req(*rules))


MUST_REJECT = [_param(case, rules, data) for case, rules, data in encoding_cases.PARSE_MUST_REJECT]


ENCODE_MUST_REJECT = [
    _param(case, rules, value) for case, rules, value in encoding_cases.ENCODE_MUST_REJECT
]


@pytest.mark.req("E1", "E2", "E3")
@pytest.mark.parametrize(
    ("case", "value", "expected"), KNOWN_ANSWERS, ids=[c[0] for c in KNOWN_ANSWERS]
)
def test_canonical_json_known_answer(
    encoding_api: EncodingAPI, case: str, value: object, expected: bytes
) -> None:
    expect_equal(encoding_api.canonical_json(value), expected.hex(), "canonical encoding (hex)")
    expect_equal(encoding_api.parse_canonical_json(expected.hex()), value, "parsed value")


@pytest.mark.parametrize(("case", "data", "rule"), MUST_REJECT)
def test_non_canonical_input_is_rejected(
    encoding_api: EncodingAPI, case: str, data: bytes, rule: str | None
) -> None:
    expect_rejected(
        lambda: encoding_api.parse_canonical_json(data.hex()), f"parsing {data!r}", rule=rule
    )


@pytest.mark.parametrize(("case", "value", "rule"), ENCODE_MUST_REJECT)
def test_value_without_canonical_form_is_rejected(
    encoding_api: EncodingAPI, case: str, value: object, rule: str | None
) -> None:
    expect_rejected(lambda: encoding_api.canonical_json(value), f"encoding {case}", rule=rule)


@pytest.mark.req("E4")
def test_deepest_allowed_nesting_is_accepted(encoding_api: EncodingAPI) -> None:
    data = b"[" * 64 + b"]" * 64
    expect_equal(
        encoding_api.canonical_json(encoding_api.parse_canonical_json(data.hex())),
        data.hex(),
        "64 levels of nesting round-trip",
    )


nfc_text = (
    st.text(max_size=12)
    .map(lambda s: unicodedata.normalize("NFC", s))
    .filter(lambda s: not any(0xD800 <= ord(c) <= 0xDFFF for c in s))
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | nfc_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(nfc_text, children, max_size=4)
    ),
    max_leaves=12,
)


@pytest.mark.req("E1", "E4")
@given(value=json_values)
def test_generated_values_encode_as_the_spec_and_round_trip(
    encoding_api: EncodingAPI, value: object
) -> None:
    expected = spec_encoding.canonical_json(value).hex()
    encoded = encoding_api.canonical_json(value)
    expect_equal(encoded, expected, "canonical encoding (hex)")
    expect_equal(encoding_api.parse_canonical_json(encoded), value, "round trip")


@pytest.mark.req("E6", "N1")
@pytest.mark.parametrize(
    ("case", "value", "expected"), KNOWN_ANSWERS, ids=[c[0] for c in KNOWN_ANSWERS]
)
def test_object_hash_is_sha256_of_canonical_encoding(
    encoding_api: EncodingAPI, case: str, value: object, expected: bytes
) -> None:
    expect_equal(encoding_api.hash_object(value), hashlib.sha256(expected).hexdigest(), "hash")


#: Shared with the vectors (conformance/testvectors/encoding_cases.py).
SEED = encoding_cases.SIGNING_SEED
TRANSFER = encoding_cases.SIGNED_BODY


@pytest.mark.req("E7", "N1")
@pytest.mark.parametrize("domain", [d.value for d in spec_encoding.Domain], ids=str)
def test_signature_is_ed25519_over_domain_and_canonical_body(
    encoding_api: EncodingAPI, domain: str
) -> None:
    """The signature must equal an Ed25519 signature (PyNaCl) of tag || 0x00 || canonical body."""
    signer = nacl.signing.SigningKey(SEED)
    message = domain.encode("ascii") + b"\x00" + spec_encoding.canonical_json(TRANSFER)
    expect_equal(encoding_api.public_key(SEED.hex()), bytes(signer.verify_key).hex(), "public key")
    expected = signer.sign(message).signature.hex()
    signed = {**TRANSFER, "signature": "00" * 64}  # the signature member is not signed
    expect_equal(encoding_api.sign(SEED.hex(), domain, signed), expected, "signature")


@pytest.mark.req("E7")
@pytest.mark.rejects("E7")
def test_signature_of_one_domain_is_invalid_in_every_other(encoding_api: EncodingAPI) -> None:
    key = encoding_api.public_key(SEED.hex())
    domains = [d.value for d in spec_encoding.Domain]
    for signed_in in domains:
        signature = encoding_api.sign(SEED.hex(), signed_in, TRANSFER)
        for checked_in in domains:
            verdict = encoding_api.verify_signature(key, checked_in, TRANSFER, signature)
            expect_equal(
                verdict, signed_in == checked_in, f"signed in {signed_in}, checked in {checked_in}"
            )


@pytest.mark.req("E7")
@pytest.mark.rejects("E7")
@pytest.mark.parametrize(
    ("case", "change"),
    [
        ("flipped-bit", "signature"),
        ("other-amount", "value"),
        ("other-key", "key"),
    ],
    ids=["flipped-bit", "other-amount", "other-key"],
)
def test_altered_signature_or_body_does_not_verify(
    encoding_api: EncodingAPI, case: str, change: str
) -> None:
    domain = spec_encoding.Domain.TRANSACTION.value
    key = encoding_api.public_key(SEED.hex())
    signature = bytes.fromhex(encoding_api.sign(SEED.hex(), domain, TRANSFER))
    value = dict(TRANSFER)
    if change == "signature":
        signature = bytes([signature[0] ^ 1]) + signature[1:]
    elif change == "value":
        value["amount"] = 8
    else:
        key = encoding_api.public_key(bytes(32).hex())
    expect_refused(lambda: encoding_api.verify_signature(key, domain, value, signature.hex()), case)


@pytest.mark.req("E5")
@pytest.mark.rejects("E5")
@pytest.mark.parametrize("case", encoding_cases.MALFORMED_HEX_CASES, ids=str)
def test_malformed_hex_is_rejected(encoding_api: EncodingAPI, case: str) -> None:
    domain = spec_encoding.Domain.TRANSACTION.value
    key = encoding_api.public_key(SEED.hex())
    signature = encoding_api.sign(SEED.hex(), domain, TRANSFER)
    change = encoding_cases.malformed_hex(key, signature)[case]
    key, signature = change.get("public_key", key), change.get("signature", signature)
    # E5 fixes the rule; for a signature member R7.5 names the same fault (spec/encoding.md).
    rule = "E5" if "public_key" in change else ("E5", "R7.5")
    expect_rejected(
        lambda: encoding_api.verify_signature(key, domain, TRANSFER, signature), case, rule=rule
    )
