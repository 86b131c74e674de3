"""Canonical JSON, hex, hashing and signatures of the reference implementation (E1-E7, N1)."""

from __future__ import annotations

import hashlib
import json
import random
import unicodedata

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from aethel.encoding import (
    INT_MAX,
    INT_MIN,
    MAX_DEPTH,
    Domain,
    KeyPair,
    canonical_json,
    hash_canonical,
    parse_canonical_json,
    parse_hex,
    require_signature,
    sha256,
    signing_bytes,
    to_hex,
    verify_signature,
    verify_signature_bytes,
)
from aethel.errors import EncodingError, SignatureError, UsageError

nfc_text = (
    st.text()
    .map(lambda s: unicodedata.normalize("NFC", s))
    .filter(lambda s: not any(0xD800 <= ord(c) <= 0xDFFF for c in s))
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(INT_MIN, INT_MAX) | nfc_text,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(nfc_text, children, max_size=5)
    ),
    max_leaves=30,
)


def rejects(data: bytes, rule_id: str, reason: str = "") -> None:
    with pytest.raises(EncodingError) as info:
        parse_canonical_json(data)
    assert info.value.rule_id == rule_id, str(info.value)
    assert reason in str(info.value), str(info.value)


# --------------------------------------------------------------------------- E1 form


@pytest.mark.req("E1")
def test_members_sorted_and_no_whitespace() -> None:
    assert canonical_json({"b": [1, 2], "a": {"d": None, "c": True}}) == (
        b'{"a":{"c":true,"d":null},"b":[1,2]}'
    )


@pytest.mark.req("E1")
def test_member_order_is_utf16_code_units_not_code_points() -> None:
    # U+1F600 is the surrogate pair D83D DE00 in UTF-16, so it sorts before U+E000, although
    # its code point is larger: the RFC 8785 pitfall for names outside the BMP.
    value = {"\ue000": 1, "\U0001f600": 2, "a": 3}
    assert canonical_json(value) == '{"a":3,"\U0001f600":2,"\ue000":1}'.encode()
    assert parse_canonical_json(canonical_json(value)) == value


@pytest.mark.req("E1")
def test_rfc8785_string_escapes() -> None:
    text = '\b\t\n\f\r"\\\x00\x1f\x7f/é\u2028'
    # Short escapes where RFC 8785 has them, \u00xx in lowercase for other controls, and
    # everything else (DEL, '/', non-ASCII, U+2028) as literal UTF-8.
    expected = '"\\b\\t\\n\\f\\r\\"\\\\\\u0000\\u001f\x7f/é\u2028"'.encode()
    assert canonical_json(text) == expected
    assert parse_canonical_json(expected) == text


@pytest.mark.req("E1")
def test_rfc8785_sample_object() -> None:
    # The ordering sample of RFC 8785 section 3.2.3, with U+FB33 (not NFC, so E3 rejects it)
    # replaced by U+FF21, which sorts the same way after the surrogate pair of U+1F600.
    names = ["\u20ac", "\r", "\uff21", "1", "\U0001f600", "\x80", "\xf6"]
    encoded = canonical_json({name: name for name in names}).decode()
    order = [json.loads(f'"{part.split(":")[0][1:-1]}"') for part in encoded[1:-1].split(",")]
    assert order == ["\r", "1", "\x80", "\xf6", "\u20ac", "\U0001f600", "\uff21"]


@pytest.mark.req("E1")
def test_values_without_canonical_form_are_rejected() -> None:
    for value in ({1: "x"}, {b"k": 1}, b"bytes", {1, 2}, object()):
        with pytest.raises(EncodingError) as info:
            canonical_json(value)
        assert info.value.rule_id == "E1"


@pytest.mark.req("E1")
def test_tuples_encode_as_arrays() -> None:
    assert canonical_json((1, (2,))) == b"[1,[2]]"


# --------------------------------------------------------------------------- E2 numbers


@pytest.mark.req("E2")
def test_integer_range_is_exactly_64_bit_signed() -> None:
    assert canonical_json([INT_MIN, INT_MAX]) == b"[-9223372036854775808,9223372036854775807]"
    for value in (INT_MIN - 1, INT_MAX + 1, 10**30):
        with pytest.raises(EncodingError):
            canonical_json(value)
    rejects(b"9223372036854775808", "E2")
    rejects(b"-9223372036854775809", "E2")
    rejects(b"1" * 5000, "E2")


@pytest.mark.req("E2")
def test_floats_nan_and_infinity_are_rejected() -> None:
    for value in (1.0, 0.5, float("nan"), float("inf"), -float("inf")):
        with pytest.raises(EncodingError) as info:
            canonical_json(value)
        assert info.value.rule_id == "E2"
    for data in (b"1.0", b"1e3", b"1E3", b"-1.5e-3", b"NaN", b"Infinity", b"-Infinity", b"[0.0]"):
        rejects(data, "E2")


@pytest.mark.req("E2", "E4")
def test_negative_zero_and_leading_zeros_are_rejected() -> None:
    rejects(b"-0", "E4")
    rejects(b"01", "E4")
    rejects(b"+1", "E4")


@pytest.mark.req("E2")
def test_bool_is_not_an_integer_and_int_subclasses_are_rejected() -> None:
    import enum

    class Small(enum.IntEnum):
        ONE = 1

    assert canonical_json([True, False, 1]) == b"[true,false,1]"
    with pytest.raises(EncodingError):
        canonical_json(Small.ONE)


# --------------------------------------------------------------------------- E3 strings


@pytest.mark.req("E3")
def test_non_nfc_strings_and_names_are_rejected() -> None:
    decomposed = "e\u0301"  # NFD of é
    for value in (decomposed, {decomposed: 1}, [decomposed]):
        with pytest.raises(EncodingError) as info:
            canonical_json(value)
        assert info.value.rule_id == "E3"
    rejects(f'"{decomposed}"'.encode(), "E3")
    rejects(f'{{"{decomposed}":1}}'.encode(), "E3")
    assert canonical_json("\u00e9") == '"\u00e9"'.encode()


@pytest.mark.req("E3")
def test_lone_surrogates_are_rejected() -> None:
    with pytest.raises(EncodingError) as info:
        canonical_json("\ud800")
    assert info.value.rule_id == "E3"
    rejects(b'"\\ud800"', "E3")
    rejects(b'{"\\udfff":1}', "E3")


# --------------------------------------------------------------------------- E4 strict parse


@pytest.mark.req("E4")
@pytest.mark.parametrize(
    "data",
    [
        b'{"a": 1}',
        b' {"a":1}',
        b'{"a":1}\n',
        b'{"b":1,"a":2}',
        b'"\\u0041"',
        b'"\\/"',
        b'"\\u001F"',
        b"[1 ,2]",
    ],
)
def test_non_canonical_json_is_rejected(data: bytes) -> None:
    rejects(data, "E4")


@pytest.mark.req("E4")
def test_duplicate_member_names_are_rejected() -> None:
    # The error names the cause, not just "not canonical".
    rejects(b'{"a":1,"a":1}', "E4", "duplicate object member name 'a'")
    rejects(b'{"x":{"a":1,"a":2}}', "E4", "duplicate")


@pytest.mark.req("E4")
def test_trailing_data_invalid_utf8_and_bom_are_rejected() -> None:
    for data in (b"{}{}", b"{} x", b"1 2", b"\xef\xbb\xbf{}", b"", b"{"):
        rejects(data, "E4")
    for data in (b'"\xff"', b'"\xc3"', b'"\xed\xa0\x80"'):  # the last is an encoded surrogate
        rejects(data, "E4", "not valid UTF-8")


@pytest.mark.req("E4")
def test_nesting_is_bounded() -> None:
    deep_ok = b"[" * MAX_DEPTH + b"]" * MAX_DEPTH
    parse_canonical_json(deep_ok)
    rejects(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), "E4")
    rejects(b"[" * 100_000 + b"]" * 100_000, "E4")
    with pytest.raises(EncodingError):
        canonical_json(json.loads("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)))


@pytest.mark.req("E4")
def test_size_limit_and_argument_type() -> None:
    rejects_big = b'"' + b"a" * 100 + b'"'
    with pytest.raises(EncodingError):
        parse_canonical_json(rejects_big, max_size=50)
    assert parse_canonical_json(rejects_big, max_size=102) == "a" * 100
    with pytest.raises(UsageError):
        parse_canonical_json('{"a":1}')


@pytest.mark.req("E1", "E4")
@given(json_values)
def test_encode_then_parse_round_trips(value: object) -> None:
    data = canonical_json(value)
    assert parse_canonical_json(data) == value
    assert canonical_json(parse_canonical_json(data)) == data


@pytest.mark.req("E4")
@given(json_values, st.data())
def test_any_accepted_input_is_the_canonical_encoding(value: object, data: st.DataObject) -> None:
    # Re-serialize with Python's non-canonical settings; whatever the parser accepts must be
    # byte-identical to the canonical form.
    indent = data.draw(st.sampled_from([None, 1]))
    loose = json.dumps(value, indent=indent, ensure_ascii=data.draw(st.booleans())).encode()
    canonical = canonical_json(value)
    if loose == canonical:
        assert parse_canonical_json(loose) == value
    else:
        with pytest.raises(EncodingError):
            parse_canonical_json(loose)


# --------------------------------------------------------------------------- E5 hex


@pytest.mark.req("E5")
def test_hex_is_lowercase_whole_bytes_of_the_stated_length() -> None:
    assert to_hex(b"\x00\xab") == "00ab"
    assert parse_hex("00ab") == b"\x00\xab"
    assert parse_hex("ab" * 32, length=32) == b"\xab" * 32
    for bad in ("00AB", "0", "zz", "0x00", " 00", 12, None):
        with pytest.raises(EncodingError):
            parse_hex(bad)
    with pytest.raises(EncodingError):
        parse_hex("ab" * 31, length=32)


# --------------------------------------------------------------------------- E6 hashes


@pytest.mark.req("E6", "N1")
def test_object_hash_is_sha256_of_canonical_encoding() -> None:
    value = {"b": 2, "a": "x"}
    assert hash_canonical(value) == hashlib.sha256(b'{"a":"x","b":2}').digest()
    assert sha256(b"abc").hex() == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


# --------------------------------------------------------------------------- E7 signatures


@pytest.fixture(scope="module")
def key() -> KeyPair:
    return KeyPair.generate(random.Random(1))


@pytest.mark.req("E7", "N1")
def test_signature_covers_domain_and_object_without_signature(key: KeyPair) -> None:
    vote = {"height": 3, "digest": "ab" * 32}
    signature = key.sign(Domain.PREPARE, vote)
    assert len(signature) == 64
    assert (
        signing_bytes(Domain.PREPARE, vote)
        == b'aethel/prepare/v1\x00{"digest":"' + (b"ab" * 32) + b'","height":3}'
    )
    signed = {**vote, "signature": signature.hex()}
    assert verify_signature(key.public_key, Domain.PREPARE, signed, signature)
    assert verify_signature(key.public_key, Domain.PREPARE, vote, signature)


@pytest.mark.req("E7")
def test_signature_does_not_replay_across_domains(key: KeyPair) -> None:
    vote = {"height": 3, "digest": "ab" * 32}
    signature = key.sign(Domain.PREPARE, vote)
    for domain in Domain:
        if domain is not Domain.PREPARE:
            assert not verify_signature(key.public_key, domain, vote, signature)


@pytest.mark.req("E7")
def test_tampered_object_key_or_signature_fails(key: KeyPair) -> None:
    vote = {"height": 3, "digest": "ab" * 32}
    signature = key.sign(Domain.COMMIT, vote)
    other = KeyPair.generate(random.Random(2))
    assert not verify_signature(key.public_key, Domain.COMMIT, {**vote, "height": 4}, signature)
    assert not verify_signature(other.public_key, Domain.COMMIT, vote, signature)
    for bit in (0, 100, 511):
        flipped = bytearray(signature)
        flipped[bit // 8] ^= 1 << (bit % 8)
        assert not verify_signature(key.public_key, Domain.COMMIT, vote, bytes(flipped))
    for malformed in (b"", signature[:63], signature + b"\x00"):
        assert not verify_signature(key.public_key, Domain.COMMIT, vote, malformed)
    assert not verify_signature_bytes(b"\x00" * 31, b"m", signature)
    assert not verify_signature(key.public_key, Domain.COMMIT, {"x": 1.5}, signature)
    with pytest.raises(SignatureError) as info:
        require_signature(other.public_key, Domain.COMMIT, vote, signature)
    assert info.value.rule_id == "R7.5"


@pytest.mark.req("E7")
def test_keys_are_deterministic_and_secret_free_in_repr(key: KeyPair) -> None:
    again = KeyPair.generate(random.Random(1))
    assert again.public_key == key.public_key
    assert key.seed.hex() not in repr(key)
    with pytest.raises(UsageError):
        KeyPair.from_seed(b"short")
    with pytest.raises(UsageError):
        signing_bytes("aethel/prepare/v1", {})


@pytest.mark.req("E7")
@given(json_values.filter(lambda v: isinstance(v, dict)), st.integers(0, 2**32))
def test_any_signed_object_verifies_and_any_change_does_not(
    value: dict[str, object], n: int
) -> None:
    key = KeyPair.generate(random.Random(n))
    signature = key.sign(Domain.TRANSACTION, value)
    assert verify_signature(key.public_key, Domain.TRANSACTION, value, signature)
    changed = {**value, "extra-member": n}
    assume("extra-member" not in value)
    assert not verify_signature(key.public_key, Domain.TRANSACTION, changed, signature)
