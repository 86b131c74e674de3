"""Grammar-based fuzzing of state proofs, sync manifests and chunks (E9, R3.1, R3.5).

Real proofs, manifests and chunks of a small state tree are mutated at the byte level and at
the value level (see :mod:`tests.fuzz.strategies`). Parsing and verifying them either succeeds
or raises the project's typed error; a mutated proof never proves a claim about another key,
value or root.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aethel.encoding import parse_canonical_json
from aethel.errors import AethelError
from aethel.merkle.proofs import proof_from_dict, verify_proof
from aethel.merkle.tree import StateTree
from aethel.state.snapshot import build_chunk, build_manifest, parse_manifest, verify_chunk

from .strategies import canonical_bytes, mutated_bytes, replaced

PREFIX_BITS = 2


@functools.cache
def _tree() -> StateTree:
    tree = StateTree()
    tree.batch_update({f"account:{i}": {"balance": i * 7, "nonce": i} for i in range(24)})
    return tree


@functools.cache
def _proofs() -> tuple[bytes, ...]:
    tree = _tree()
    return tuple(tree.prove(key).to_json() for key in ("account:3", "account:17", "missing"))


@pytest.mark.req("E9")
@given(data=st.data())
def test_state_proof_bytes_parse_and_verify_or_raise_a_typed_error(data: st.DataObject) -> None:
    original = data.draw(st.sampled_from(_proofs()))
    raw = data.draw(mutated_bytes(original))
    try:
        holds = verify_proof(raw, _tree().root())
    except AethelError:
        return
    # Accepted bytes are canonical, so a change shows in the claim or the path: it must fail.
    assert not holds or raw == original


@pytest.mark.req("E9")
@given(data=st.data())
def test_state_proof_objects_parse_or_raise_a_typed_error(data: st.DataObject) -> None:
    original = parse_canonical_json(data.draw(st.sampled_from(_proofs())))
    value = data.draw(replaced(original))
    try:
        proof = proof_from_dict(value)
        verify_proof(proof, _tree().root())
    except AethelError:
        return


@functools.cache
def _manifest_and_chunks() -> tuple[bytes, tuple[bytes, ...]]:
    tree = _tree()
    manifest = build_manifest(tree, PREFIX_BITS).to_json()
    chunks = tuple(build_chunk(tree, PREFIX_BITS, p) for p in range(1 << PREFIX_BITS))
    return manifest, chunks


def _mutations(draw: st.DrawFn, original: bytes) -> bytes:
    if draw(st.booleans()):
        return draw(mutated_bytes(original))
    value: Any = parse_canonical_json(original)
    return canonical_bytes(draw(replaced(value)))


@pytest.mark.req("R3.1")
@given(data=st.data())
def test_a_manifest_parses_against_the_trusted_root_or_raises_a_typed_error(
    data: st.DataObject,
) -> None:
    original, _ = _manifest_and_chunks()
    raw = _mutations(data.draw, original)
    try:
        manifest = parse_manifest(raw, _tree().root(), PREFIX_BITS)
    except AethelError:
        return
    assert manifest.to_json() == original


@pytest.mark.req("R3.5")
@given(data=st.data())
def test_a_chunk_verifies_against_its_manifest_or_raises_a_typed_error(
    data: st.DataObject,
) -> None:
    manifest_bytes, chunks = _manifest_and_chunks()
    manifest = parse_manifest(manifest_bytes, _tree().root(), PREFIX_BITS)
    prefix = data.draw(st.integers(0, len(chunks) - 1))
    raw = _mutations(data.draw, chunks[prefix])
    try:
        verify_chunk(raw, manifest, prefix)
    except AethelError:
        return
    assert raw == chunks[prefix]  # the same entries of the same part have the same bytes


@pytest.mark.req("R3.5", "E2")
@pytest.mark.parametrize("prefix", [0, 1])
def test_a_chunk_naming_its_part_with_a_boolean_is_refused(prefix: int) -> None:
    """Found by this fuzzer (thorough profile): ``"prefix": false`` passed for part 0, since
    ``False == 0`` in Python; a JSON boolean is not an integer (E2)."""
    manifest_bytes, chunks = _manifest_and_chunks()
    manifest = parse_manifest(manifest_bytes, _tree().root(), PREFIX_BITS)
    value = parse_canonical_json(chunks[prefix])
    with pytest.raises(AethelError):
        verify_chunk(canonical_bytes({**value, "prefix": bool(prefix)}), manifest, prefix)
