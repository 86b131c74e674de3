"""State tree hashing (E8): known answers, a from-the-definition oracle, history independence."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aethel.encoding import canonical_json
from aethel.errors import EncodingError
from aethel.merkle.batch import DELETE
from aethel.merkle.hashing import EMPTY_HASH
from aethel.merkle.nodes import MemoryNodeStore
from aethel.merkle.tree import StateTree

KNOWN_ANSWERS = (
    Path(__file__).resolve().parents[2] / "conformance/vectors/external/smt/known-answers.json"
)
CASES = json.loads(KNOWN_ANSWERS.read_text(encoding="utf-8"))["cases"]


def definition_root(state: dict[str, Any]) -> bytes:
    """Compute the root straight from the E8 definition: recursive, no compression tricks."""

    def sha(data: bytes) -> bytes:
        return hashlib.sha256(data).digest()

    leaves = sorted(
        (sha(key.encode()), sha(b"\x00" + sha(key.encode()) + sha(canonical_json(value))))
        for key, value in state.items()
    )

    def subtree(items: list[tuple[bytes, bytes]], depth: int) -> bytes:
        if not items:
            return bytes(32)
        if len(items) == 1:
            return items[0][1]
        bit = [(path[depth // 8] >> (7 - depth % 8)) & 1 for path, _ in items]
        left = [item for item, b in zip(items, bit, strict=True) if b == 0]
        right = [item for item, b in zip(items, bit, strict=True) if b == 1]
        return sha(b"\x01" + subtree(left, depth + 1) + subtree(right, depth + 1))

    return subtree(leaves, 0)


keys = st.text(alphabet="abcdefghij:0123456789é", min_size=1, max_size=12)
values = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.text(max_size=8),
    st.none(),
    st.booleans(),
    st.lists(st.integers(0, 9), max_size=3),
    st.dictionaries(st.sampled_from("xyz"), st.integers(0, 9), max_size=2),
)
states = st.dictionaries(keys, values, max_size=40)


@pytest.mark.req("E8")
@pytest.mark.parametrize("case", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_known_answer_roots(case: dict[str, Any]) -> None:
    expected = bytes.fromhex(case["root"])
    in_memory = StateTree()
    in_memory.batch_update(case["state"])
    over_store = StateTree(MemoryNodeStore())
    for key, value in case["state"].items():
        over_store.update(key, value)
    assert in_memory.root() == expected
    assert over_store.root() == expected
    assert definition_root(case["state"]) == expected


@pytest.mark.req("E8")
def test_empty_tree_root_is_zero_and_single_leaf_is_root() -> None:
    tree = StateTree()
    assert tree.root() == EMPTY_HASH == bytes(32)
    tree.update("k", 1)
    sha = hashlib.sha256
    path = sha(b"k").digest()
    assert tree.root() == sha(b"\x00" + path + sha(b"1").digest()).digest()
    tree.delete("k")
    assert tree.root() == EMPTY_HASH


@pytest.mark.req("E8")
@given(states)
def test_root_matches_the_definition(state: dict[str, Any]) -> None:
    tree = StateTree()
    tree.batch_update(state)
    assert tree.root() == definition_root(state)


@pytest.mark.req("E8")
@given(states, st.lists(keys, max_size=15), st.randoms(use_true_random=False))
def test_history_independence(
    state: dict[str, Any], transient: list[str], rng: random.Random
) -> None:
    """Any order of inserts, overwrites and deletes gives the root of the final key/value set."""
    operations: list[tuple[str, Any]] = list(state.items())
    operations += [(key, "temporary") for key in transient]
    rng.shuffle(operations)
    for key in transient:  # each transient key is deleted again at some later point
        operations.insert(rng.randrange(len(operations) + 1), (key, DELETE))
    final: dict[str, Any] = {}
    tree = StateTree(MemoryNodeStore(), cache_size=rng.choice([0, 4, 1000]))
    for key, value in operations:
        if value is DELETE:
            final.pop(key, None)
            tree.delete(key)
        else:
            final[key] = value
            tree.update(key, value)
    direct = StateTree()
    direct.batch_update(dict(sorted(final.items(), reverse=True)))
    assert tree.root() == direct.root() == definition_root(final)


@pytest.mark.req("E8")
@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("", 1),  # empty key
        ("e\u0301", 1),  # not NFC
        ("\ud800", 1),  # lone surrogate
        ("k" * 1025, 1),  # too long
        (b"bytes", 1),  # not a string
        ("ok", 1.5),  # float value
        ("ok", 2**63),  # out of range
    ],
)
def test_invalid_writes_are_rejected_and_change_nothing(key: Any, value: Any) -> None:
    tree = StateTree()
    tree.batch_update({"a": 1, "b": 2})
    before = tree.root()
    with pytest.raises(EncodingError):
        tree.batch_update([("c", 3), (key, value)])
    assert tree.root() == before
    assert tree.get("c") is None
