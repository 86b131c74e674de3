"""Inclusion and absence proofs: they verify exactly the true statements, parse strictly (E9)."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aethel.encoding import canonical_json
from aethel.errors import UsageError
from aethel.merkle.errors import ProofFormatError
from aethel.merkle.hashing import EMPTY_HASH, compute_path
from aethel.merkle.nodes import MemoryNodeStore
from aethel.merkle.proofs import AbsenceProof, InclusionProof, Proof, parse_proof, verify_proof
from aethel.merkle.tree import StateTree

NFC_KEYS = st.text(min_size=1, max_size=6).filter(lambda s: unicodedata.is_normalized("NFC", s))


def make_tree(count: int, *, store: bool = False) -> tuple[StateTree, dict[str, int]]:
    state = {f"key{i}": i * 7 for i in range(count)}
    tree = StateTree(MemoryNodeStore()) if store else StateTree()
    tree.batch_update(state)
    return tree, state


def is_true(proof: Proof, state: dict[str, Any]) -> bool:
    """Return whether a proof's claim holds in ``state``."""
    if isinstance(proof, InclusionProof):
        return proof.key in state and canonical_json(state[proof.key]) == proof.value_bytes
    return proof.key not in state


def accepts(data: bytes, root: bytes) -> bool:
    try:
        return verify_proof(data, root)
    except ProofFormatError as exc:
        assert exc.rule_id == "E9"
        return False


@pytest.mark.req("E9")
@pytest.mark.parametrize("store", [False, True], ids=["in-memory", "over-store"])
def test_proofs_verify_for_present_and_absent_keys(store: bool) -> None:
    tree, state = make_tree(200, store=store)
    root = tree.root()
    kinds = set()
    for key in [*state, *(f"absent{i}" for i in range(200))]:
        proof = tree.prove(key)
        assert proof.root == root and proof.key == key
        assert verify_proof(proof, root)
        assert verify_proof(proof.to_json(), root)
        assert parse_proof(proof.to_json()) == proof
        if isinstance(proof, InclusionProof):
            assert key in state and proof.value == state[key]
            kinds.add("inclusion")
        else:
            assert key not in state
            kinds.add("absence-other-leaf" if proof.leaf else "absence-empty")
    assert kinds == {"inclusion", "absence-other-leaf", "absence-empty"}


@pytest.mark.req("E9")
def test_proofs_of_tiny_trees() -> None:
    empty = StateTree()
    proof = empty.prove("k")
    assert isinstance(proof, AbsenceProof) and proof.siblings == () and proof.leaf is None
    assert verify_proof(proof, EMPTY_HASH)
    one = StateTree()
    one.update("k", {"a": [1, None]})
    inclusion = one.prove("k")
    assert inclusion.siblings == () and verify_proof(inclusion, one.root())
    other = one.prove("x")
    assert isinstance(other, AbsenceProof) and other.leaf is not None
    assert verify_proof(other, one.root())


@pytest.mark.req("E9")
@pytest.mark.parametrize("key", ["key3", "key150", "absent7", "absent42"])
def test_every_flipped_bit_is_rejected_or_still_true(key: str) -> None:
    """Flip each bit of a proof's JSON: it must fail to parse, fail to verify, or (only for an
    absence proof whose key changed to another absent key) still state a true fact."""
    tree, state = make_tree(60)
    root = tree.root()
    data = tree.prove(key).to_json()
    for index in range(len(data)):
        for bit in range(8):
            mutated = bytearray(data)
            mutated[index] ^= 1 << bit
            if not accepts(bytes(mutated), root):
                continue
            proof = parse_proof(bytes(mutated))
            assert isinstance(proof, AbsenceProof) and proof.key != key
            assert is_true(proof, state)


@pytest.mark.req("E9")
@pytest.mark.parametrize("key", ["key3", "key59", "absent1"])
def test_wrong_key_wrong_root_and_sibling_changes_are_rejected(key: str) -> None:
    tree, state = make_tree(60)
    root = tree.root()
    proof = tree.prove(key)
    fields: dict[str, Any] = {
        "key": proof.key,
        "root": proof.root,
        "siblings": proof.siblings,
    }
    if isinstance(proof, InclusionProof):
        build = lambda **kw: InclusionProof(**{**fields, "value_bytes": proof.value_bytes, **kw})  # noqa: E731
    else:
        build = lambda **kw: AbsenceProof(**{**fields, "leaf": proof.leaf, **kw})  # noqa: E731
    # Another key: rejected unless the claim is true of that key too.
    for other in [*state, *(f"absent{i}" for i in range(30))]:
        if other != key:
            moved = build(key=other)
            assert not verify_proof(moved, root) or is_true(moved, state)
    if isinstance(proof, InclusionProof):
        assert not any(verify_proof(build(key=other), root) for other in state if other != key)
    # The root is bound: another root is refused, in the proof or as the trusted root.
    other_tree, _ = make_tree(61)
    assert not verify_proof(proof, other_tree.root())
    assert not verify_proof(build(root=other_tree.root()), other_tree.root())
    # Extra or missing siblings, anywhere.
    siblings = proof.siblings
    for changed in [
        (EMPTY_HASH, *siblings),
        (*siblings, EMPTY_HASH),
        (*siblings, bytes(range(32))),
        siblings[1:],
        siblings[:-1],
        siblings[::-1],
    ]:
        if changed != siblings:
            assert not verify_proof(build(siblings=changed), root)


@pytest.mark.req("E9")
def test_altered_values_and_inconsistent_absence_leaves_are_rejected() -> None:
    tree, _ = make_tree(60)
    root = tree.root()
    proof = tree.prove("key5")
    assert isinstance(proof, InclusionProof)
    for value in [36, "35", None, [35], 35 + 2**40]:
        assert not verify_proof(
            InclusionProof(proof.key, root, proof.siblings, canonical_json(value)), root
        )
    absence = next(
        p
        for p in (tree.prove(f"absent{i}") for i in range(100))
        if isinstance(p, AbsenceProof) and p.leaf
    )
    assert isinstance(absence, AbsenceProof) and absence.leaf is not None
    own_path = compute_path(absence.key)
    # The other leaf may not carry the key's own path (that would hide an inclusion).
    same_path = AbsenceProof(absence.key, root, absence.siblings, (own_path, absence.leaf[1]))
    assert not verify_proof(same_path, root)
    # Nor sit where its path does not lead.
    flipped = bytes([absence.leaf[0][0] ^ 0x80]) + absence.leaf[0][1:]
    assert not verify_proof(
        AbsenceProof(absence.key, root, absence.siblings, (flipped, absence.leaf[1])), root
    )
    # An absence proof of a present key cannot verify.
    present = tree.prove("key6")
    assert isinstance(present, InclusionProof)
    assert not verify_proof(AbsenceProof("key6", root, present.siblings, None), root)


def proof_object(key: str = "key1") -> dict[str, Any]:
    tree, _ = make_tree(60)
    return json.loads(tree.prove(key).to_json())


MALFORMED = [
    ("extra-member", lambda p: {**p, "extra": 1}),
    ("missing-siblings", lambda p: {k: v for k, v in p.items() if k != "siblings"}),
    ("missing-root", lambda p: {k: v for k, v in p.items() if k != "root"}),
    ("missing-key", lambda p: {k: v for k, v in p.items() if k != "key"}),
    ("missing-value", lambda p: {k: v for k, v in p.items() if k != "value"}),
    ("unknown-kind", lambda p: {**p, "kind": "membership"}),
    ("absence-with-value", lambda p: {**p, "kind": "absence"}),
    ("short-root", lambda p: {**p, "root": p["root"][:62]}),
    ("long-root", lambda p: {**p, "root": p["root"] + "00"}),
    ("upper-hex", lambda p: {**p, "root": p["root"].upper()}),
    ("short-sibling", lambda p: {**p, "siblings": [p["siblings"][0][:-2], *p["siblings"][1:]]}),
    ("sibling-not-string", lambda p: {**p, "siblings": [1, *p["siblings"][1:]]}),
    ("siblings-not-list", lambda p: {**p, "siblings": "00"}),
    ("257-siblings", lambda p: {**p, "siblings": ["00" * 32] * 257}),
    ("empty-key", lambda p: {**p, "key": ""}),
    ("key-not-string", lambda p: {**p, "key": 5}),
    ("proof-not-object", lambda p: [p]),
]


@pytest.mark.req("E9")
@pytest.mark.parametrize("mutate", [m for _, m in MALFORMED], ids=[n for n, _ in MALFORMED])
def test_malformed_proofs_raise_typed_e9_errors(mutate: Any) -> None:
    with pytest.raises(ProofFormatError) as info:
        parse_proof(canonical_json(mutate(proof_object())))
    assert info.value.rule_id == "E9"


@pytest.mark.req("E9")
@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not json",
        b'{"kind": "absence"}',  # whitespace: not canonical
        b'{"root":"00","kind":"absence"}',  # member order
        b"\xff",
    ],
)
def test_non_canonical_bytes_raise_typed_e9_errors(data: bytes) -> None:
    with pytest.raises(ProofFormatError) as info:
        parse_proof(data)
    assert info.value.rule_id == "E9"


@pytest.mark.req("E9")
def test_absence_leaf_members_are_exact() -> None:
    tree, _ = make_tree(60)
    absence = next(
        p
        for p in (tree.prove(f"absent{i}") for i in range(100))
        if isinstance(p, AbsenceProof) and p.leaf
    )
    obj = json.loads(absence.to_json())
    for leaf in [{**obj["leaf"], "x": 1}, {"path": obj["leaf"]["path"]}, "leaf", 7]:
        with pytest.raises(ProofFormatError):
            parse_proof(canonical_json({**obj, "leaf": leaf}))


@pytest.mark.req("E9")
def test_verify_proof_misuse_is_a_usage_error() -> None:
    tree, _ = make_tree(3)
    proof = tree.prove("key1")
    with pytest.raises(UsageError):
        verify_proof(proof, tree.root()[:31])
    with pytest.raises(UsageError):
        verify_proof("text", tree.root())  # type: ignore[arg-type]


@pytest.mark.req("E9")
@given(
    st.dictionaries(NFC_KEYS, st.integers(0, 3), max_size=30),
    NFC_KEYS,
)
def test_a_proof_never_verifies_a_false_claim(state: dict[str, int], key: str) -> None:
    tree = StateTree()
    tree.batch_update(state)
    proof = tree.prove(key)
    assert verify_proof(proof, tree.root())
    assert is_true(proof, state)
    old_root = tree.root()
    tree.update(key, 99)  # the proof speaks for the old root only
    assert verify_proof(proof, old_root)
    assert not verify_proof(proof, tree.root())
