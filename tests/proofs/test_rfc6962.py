"""RFC 6962 list hashing, inclusion and consistency proofs and their vectors (E10, E11)."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aethel.encoding import canonical_json
from aethel.rfc6962 import (
    EMPTY_ROOT,
    MerkleProofError,
    compute_list_root,
    compute_root,
    compute_root_from_leaf_hashes,
    get_consistency_proof,
    get_inclusion_proof,
    hash_children,
    hash_leaf,
    is_valid_consistency,
    is_valid_inclusion,
    verify_consistency,
    verify_inclusion,
)

VECTORS = Path(__file__).resolve().parents[2] / "conformance" / "vectors" / "external" / "rfc6962"


def _load(kind: str) -> list[tuple[str, dict[str, Any]]]:
    files = sorted((VECTORS / kind).rglob("*.json"))
    return [(str(path.relative_to(VECTORS)), json.loads(path.read_text())) for path in files]


INCLUSION = _load("inclusion")
CONSISTENCY = _load("consistency")


def _b64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def _proof(value: list[str] | None) -> list[bytes] | None:
    return None if value is None else [_b64(item) for item in value]


def test_vector_sets_are_complete() -> None:
    # The copy under conformance/vectors holds 198 files: guard against a silently empty glob.
    assert len(INCLUSION) + len(CONSISTENCY) == 196
    assert any(case["wantErr"] for _, case in INCLUSION)
    assert any(not case["wantErr"] for _, case in CONSISTENCY)


@pytest.mark.req("E11")
@pytest.mark.parametrize(("name", "case"), INCLUSION, ids=[name for name, _ in INCLUSION])
def test_inclusion_vector(name: str, case: dict[str, Any]) -> None:
    args = (
        _b64(case["leafHash"]),
        case["leafIdx"],
        case["treeSize"],
        _proof(case["proof"]),
        _b64(case["root"]),
    )
    if case["wantErr"]:
        with pytest.raises(MerkleProofError) as info:
            verify_inclusion(*args)
        assert info.value.rule_id == "E11"
    else:
        verify_inclusion(*args)
    assert is_valid_inclusion(*args) is not case["wantErr"]


@pytest.mark.req("E11")
@pytest.mark.parametrize(("name", "case"), CONSISTENCY, ids=[name for name, _ in CONSISTENCY])
def test_consistency_vector(name: str, case: dict[str, Any]) -> None:
    args = (
        case["size1"],
        case["size2"],
        _proof(case["proof"]),
        _b64(case["root1"]),
        _b64(case["root2"]),
    )
    if case["wantErr"]:
        with pytest.raises(MerkleProofError) as info:
            verify_consistency(*args)
        assert info.value.rule_id == "E11"
    else:
        verify_consistency(*args)
    assert is_valid_consistency(*args) is not case["wantErr"]


def _reference_mth(entries: list[bytes]) -> bytes:
    """MTH written exactly as RFC 6962 section 2.1 states it (recursive split)."""
    if not entries:
        return hashlib.sha256(b"").digest()
    if len(entries) == 1:
        return hashlib.sha256(b"\x00" + entries[0]).digest()
    k = 1
    while k * 2 < len(entries):
        k *= 2
    return hashlib.sha256(
        b"\x01" + _reference_mth(entries[:k]) + _reference_mth(entries[k:])
    ).digest()


@pytest.mark.req("E10")
def test_known_answers_of_rfc6962_hashing() -> None:
    assert compute_root([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()
    assert compute_root([b""]) == hashlib.sha256(b"\x00").digest()
    # The inclusion vectors use the RFC 6962 test leaves; leaf 0 is the empty entry.
    assert (
        base64.b64encode(hash_leaf(b"")).decode() == "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0="
    )
    left, right = hash_leaf(b"a"), hash_leaf(b"b")
    assert compute_root([b"a", b"b"]) == hashlib.sha256(b"\x01" + left + right).digest()
    assert hash_children(left, right) != hash_children(right, left)


@pytest.mark.req("E10")
@given(st.lists(st.binary(max_size=8), max_size=40))
def test_root_matches_the_recursive_definition(entries: list[bytes]) -> None:
    assert compute_root(entries) == _reference_mth(entries)


@pytest.mark.req("E10")
def test_list_root_hashes_canonical_json_entries() -> None:
    items = [{"b": 1, "a": "x"}, [1, 2], "z"]
    assert compute_list_root(items) == compute_root([canonical_json(item) for item in items])
    assert compute_list_root(items) != compute_list_root(list(reversed(items)))


@pytest.mark.req("E11")
@given(st.integers(1, 70), st.data())
def test_generated_inclusion_proofs_verify_and_mutations_fail(
    size: int, data: st.DataObject
) -> None:
    leaves = [hash_leaf(i.to_bytes(4, "big")) for i in range(size)]
    root = compute_root_from_leaf_hashes(leaves)
    index = data.draw(st.integers(0, size - 1))
    proof = get_inclusion_proof(leaves, index)
    verify_inclusion(leaves[index], index, size, proof, root)
    # Every leaf of a tree of 2**len(proof) + 1 leaves has a longer path than this proof.
    assert not is_valid_inclusion(leaves[index], index, 2 ** len(proof) + 1, proof, root)
    assert not is_valid_inclusion(leaves[index], index, size, [*proof, root], root)
    if size > 1:
        assert not is_valid_inclusion(leaves[index], (index + 1) % size, size, proof, root)
        assert not is_valid_inclusion(leaves[index], index, size, proof[:-1], root)
        flipped = bytearray(proof[0])
        flipped[data.draw(st.integers(0, 31))] ^= 1 << data.draw(st.integers(0, 7))
        assert not is_valid_inclusion(
            leaves[index], index, size, [bytes(flipped), *proof[1:]], root
        )


@pytest.mark.req("E11")
@given(st.integers(1, 70), st.data())
def test_generated_consistency_proofs_verify_and_mutations_fail(
    size2: int, data: st.DataObject
) -> None:
    leaves = [hash_leaf(i.to_bytes(4, "big")) for i in range(size2)]
    size1 = data.draw(st.integers(1, size2))
    root1 = compute_root_from_leaf_hashes(leaves[:size1])
    root2 = compute_root_from_leaf_hashes(leaves)
    proof = get_consistency_proof(leaves, size1)
    verify_consistency(size1, size2, proof, root1, root2)
    if size1 < size2:
        assert not is_valid_consistency(size1, size2, proof, root2, root1)
        # The verifier shifts sn at most bit_length(size1) + len(proof) times, so sn of this
        # larger size cannot reach 0.
        larger = 2 ** (size2.bit_length() + len(proof) + 1)
        assert not is_valid_consistency(size1, larger, proof, root1, root2)
        assert not is_valid_consistency(size1, size2, proof[:-1], root1, root2)
        assert not is_valid_consistency(size1, size2, [*proof, root1], root1, root2)
        other = compute_root_from_leaf_hashes([*leaves[:-1], hash_leaf(b"other")])
        assert not is_valid_consistency(size1, size2, proof, root1, other)


@pytest.mark.req("E11")
@pytest.mark.parametrize(
    "proof", [["not bytes"], [b"short"], "a string", 7], ids=["str-item", "short", "str", "int"]
)
def test_malformed_proofs_are_rejected_not_crashed(proof: Any) -> None:
    leaf = hash_leaf(b"x")
    assert not is_valid_inclusion(leaf, 0, 2, proof, leaf)
    assert not is_valid_consistency(1, 2, proof, leaf, leaf)
    assert not is_valid_inclusion(leaf, -1, 2, [], leaf)
    assert not is_valid_consistency(True, 2, [leaf], leaf, leaf)
