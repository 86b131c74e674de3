"""Batch updates (T22.1a): one rehash pass, identical to sequential writes, O(k log n) work."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aethel.merkle.batch import DELETE
from aethel.merkle.nodes import MemoryNodeStore
from aethel.merkle.tree import StateTree

keys = st.sampled_from([f"k{i}" for i in range(25)])
writes = st.lists(
    st.tuples(keys, st.one_of(st.integers(0, 4), st.just(DELETE), st.text(max_size=2))),
    max_size=40,
)


def sequential(tree: StateTree, pairs: list[tuple[str, Any]]) -> None:
    for key, value in pairs:
        if value is DELETE:
            tree.delete(key)
        else:
            tree.update(key, value)


@pytest.mark.req("T22.1a")
@given(writes, writes, st.booleans())
def test_batch_equals_sequential(
    setup: list[tuple[str, Any]], batch: list[tuple[str, Any]], store: bool
) -> None:
    """Same root and contents, last write wins, in memory and over a node store."""
    one = StateTree(MemoryNodeStore()) if store else StateTree()
    two = StateTree()
    sequential(one, setup)
    sequential(two, setup)
    root = two.batch_update(batch)
    sequential(one, batch)
    assert root == two.root() == one.root()
    for index in range(25):
        assert one.get(f"k{index}", "absent") == two.get(f"k{index}", "absent")


@pytest.mark.req("T22.1a")
def test_last_write_wins_within_a_batch() -> None:
    tree = StateTree()
    tree.batch_update(
        [("a", 1), ("b", 2), ("a", 3), ("b", DELETE), ("c", 4), ("c", DELETE), ("c", 5)]
    )
    expected = StateTree()
    expected.batch_update({"a": 3, "c": 5})
    assert tree.root() == expected.root()
    assert tree.get("b") is None


@pytest.mark.req("T22.1a", "N2")
@pytest.mark.parametrize("size", [1_000, 16_000])
def test_updating_k_keys_rehashes_o_k_log_n_nodes(size: int) -> None:
    """Each touched node is hashed once: at most k * (depth + small constant) nodes."""
    tree = StateTree()
    tree.batch_update({f"key{i}": i for i in range(size)})
    build = tree.last_batch
    assert build is not None and build.nodes_hashed >= size - 1  # a full build, for scale
    rng = random.Random(size)
    for count in (1, 10, 100):
        chosen = rng.sample(range(size), count)
        tree.batch_update({f"key{i}": -i - 1 for i in chosen})
        stats = tree.last_batch
        assert stats is not None and stats.keys == count and stats.leaves_hashed == count
        bound = count * (math.log2(size) + 8)
        assert stats.nodes_hashed <= bound
        assert stats.nodes_visited <= bound
        if count * 100 <= size:  # a small fraction of the keys: a small fraction of the work
            assert stats.nodes_hashed < build.nodes_hashed / 5
    # The batch of 100 shares the top of the tree: far fewer than 100 separate walks.
    separate = 0
    for i in rng.sample(range(size), 100):
        tree.update(f"key{i}", 0)
        assert tree.last_batch is not None
        separate += tree.last_batch.nodes_hashed
    tree.batch_update({f"key{i}": 1 for i in rng.sample(range(size), 100)})
    assert tree.last_batch is not None and tree.last_batch.nodes_hashed < separate


@pytest.mark.req("T22.1a")
def test_rewriting_the_same_values_changes_nothing() -> None:
    state = {f"key{i}": i for i in range(300)}
    tree = StateTree()
    root = tree.batch_update(state)
    assert tree.batch_update(state) == root
    assert tree.last_batch is not None and tree.last_batch.nodes_hashed == 0
    assert tree.batch_update({"absent": DELETE}) == root
