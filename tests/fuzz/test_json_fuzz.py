"""Grammar-based fuzzing of the JSON parsers that read peers' bytes (E1-E5, R7.5).

Canonical JSON values, and the canonical forms of real proofs and transfers, are mutated at the
byte level (pieces the canonical form forbids spliced in, bytes removed, repeated or replaced)
and at the value level (a member replaced by arbitrary JSON, removed or added). Each parser
either returns an object whose canonical form is the input, or raises the project's typed error
(:class:`~aethel.errors.AethelError`); anything else is a crash a peer could cause.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aethel.encoding import KeyPair, canonical_json, parse_canonical_json
from aethel.errors import AethelError
from aethel.proofs.judge import generate_standard_mix
from aethel.proofs.model import (
    MAX_PROOF_JSON_BYTES,
    parse_proof,
    parse_transfer,
    proof_from_json,
    sign_transfer,
    transfer_from_json,
)

from .strategies import canonical_bytes, json_values, mutated_bytes, replaced


@st.composite
def near_canonical(draw: st.DrawFn) -> bytes:
    return draw(mutated_bytes(canonical_bytes(draw(json_values))))


@pytest.mark.req("E1", "E2", "E3", "E4")
@given(data=near_canonical())
def test_canonical_json_decoding_returns_the_value_or_a_typed_error(data: bytes) -> None:
    try:
        value = parse_canonical_json(data, max_size=MAX_PROOF_JSON_BYTES)
    except AethelError:
        return
    assert canonical_json(value) == data


@functools.cache
def _objects() -> dict[str, Any]:
    proof = generate_standard_mix(1, seed=3)[0]
    sender, receiver = KeyPair.from_seed(bytes(32)), KeyPair.from_seed(bytes([1] * 32))
    transfer = sign_transfer(sender, receiver=receiver.public_key, amount=5, nonce=2)
    return {"proof": proof.to_json(), "transfer": transfer.to_json()}


PARSERS = {
    "proof": (parse_proof, proof_from_json),
    "transfer": (parse_transfer, transfer_from_json),
}


@pytest.mark.req("E2", "E4", "E5", "R7.5")
@pytest.mark.parametrize("kind", sorted(PARSERS))
@given(data=st.data())
def test_proof_and_transfer_bytes_parse_or_raise_a_typed_error(
    kind: str, data: st.DataObject
) -> None:
    parse, _ = PARSERS[kind]
    raw = data.draw(mutated_bytes(canonical_json(_objects()[kind])))
    try:
        parsed = parse(raw)
    except AethelError:
        return
    assert parsed.encode() == raw


@pytest.mark.req("E2", "E4", "E5", "R7.5")
@pytest.mark.parametrize("kind", sorted(PARSERS))
@given(data=st.data())
def test_proof_and_transfer_objects_parse_or_raise_a_typed_error(
    kind: str, data: st.DataObject
) -> None:
    _, from_json = PARSERS[kind]
    value = data.draw(replaced(_objects()[kind]))
    try:
        parsed = from_json(value)
    except AethelError:
        return
    parsed.is_signature_valid()  # a parsed object can always be checked
    assert parsed.to_json() == value
