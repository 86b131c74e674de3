"""The LRU node cache (T22.1b): bounded, default 1,000, and its statistics are exactly true."""

from __future__ import annotations

import pytest

from aethel.errors import UsageError
from aethel.merkle.cache import DEFAULT_CACHE_SIZE, NodeCache
from aethel.merkle.nodes import MemoryNodeStore
from aethel.merkle.tree import StateTree


def stored_tree(size: int) -> tuple[MemoryNodeStore, bytes]:
    store = MemoryNodeStore()
    tree = StateTree(store)
    tree.batch_update({f"key{i}": i for i in range(size)})
    return store, tree.root()


def depth_of(tree: StateTree, key: str) -> int:
    return len(tree.prove(key).siblings)


@pytest.mark.req("T22.1b")
def test_default_size_is_1000() -> None:
    assert DEFAULT_CACHE_SIZE == 1_000
    assert StateTree().get_cache_stats().max_size == 1_000
    store, root = stored_tree(10)
    assert StateTree(store, root=root).get_cache_stats().max_size == 1_000


@pytest.mark.req("T22.1b")
def test_repeated_reads_miss_once_then_hit() -> None:
    """A read walks depth + 1 nodes: all misses on a cold cache, all hits the second time."""
    store, root = stored_tree(500)
    probe = StateTree(store, root=root, cache_size=0)
    walk = depth_of(probe, "key7") + 1  # the nodes from the root down to the leaf
    tree = StateTree(store, root=root, cache_size=100)
    assert tree.get("key7") == 7
    stats = tree.get_cache_stats()
    assert (stats.hits, stats.misses, stats.size) == (0, walk, walk)
    for _ in range(9):
        assert tree.get("key7") == 7
    stats = tree.get_cache_stats()
    assert (stats.hits, stats.misses, stats.size, stats.max_size) == (9 * walk, walk, walk, 100)
    assert stats.hit_rate == pytest.approx(9 / 10)
    # A second key shares the top of the tree: those nodes hit, the rest miss.
    other_walk = depth_of(probe, "key8") + 1
    tree.get("key8")
    after = tree.get_cache_stats()
    assert after.hits + after.misses == stats.hits + stats.misses + other_walk
    assert after.hits > stats.hits and after.misses > stats.misses


@pytest.mark.req("T22.1b")
def test_lru_evicts_the_least_recently_used_and_stays_bounded() -> None:
    store, root = stored_tree(2000)
    probe = StateTree(store, root=root, cache_size=0)
    walk = depth_of(probe, "key1") + 1
    # A cache smaller than one walk under a cyclic pattern: LRU evicts each node before reuse.
    small = StateTree(store, root=root, cache_size=walk - 1)
    for _ in range(5):
        small.get("key1")
    stats = small.get_cache_stats()
    assert stats.hits == 0 and stats.misses == 5 * walk and stats.size == walk - 1
    # Many distinct keys never grow the cache beyond its bound.
    bounded = StateTree(store, root=root, cache_size=50)
    for index in range(300):
        bounded.get(f"key{index}")
        assert bounded.get_cache_stats().size <= 50
    # Disabled cache: every read is a miss, nothing is kept.
    off = StateTree(store, root=root, cache_size=0)
    off.get("key1")
    off.get("key1")
    assert off.get_cache_stats().hits == 0 and off.get_cache_stats().size == 0


@pytest.mark.req("T22.1b")
def test_hot_keys_hit_cold_keys_miss() -> None:
    """A skewed workload: hot keys are served from the cache, a cold scan misses."""
    store, root = stored_tree(4000)
    tree = StateTree(store, root=root, cache_size=200)
    hot = [f"key{i}" for i in range(10)]
    for _ in range(20):
        for key in hot:
            tree.get(key)
    hot_stats = tree.get_cache_stats()
    assert hot_stats.hit_rate > 0.9
    tree.cache.reset_stats()
    for index in range(1000, 1400):
        tree.get(f"key{index}")
    cold_stats = tree.get_cache_stats()
    assert cold_stats.hit_rate < hot_stats.hit_rate
    assert cold_stats.misses > 400  # each cold key's lower nodes come from the store


@pytest.mark.req("T22.1b")
def test_writes_admit_new_nodes_without_counting_reads() -> None:
    store = MemoryNodeStore()
    tree = StateTree(store, cache_size=10)
    tree.batch_update({f"key{i}": i for i in range(100)})
    stats = tree.get_cache_stats()
    assert (stats.hits, stats.misses, stats.size) == (0, 0, 10)
    tree.get("key3")  # the root was written last: it is cached
    assert tree.get_cache_stats().hits >= 1


@pytest.mark.req("T22.1b")
@pytest.mark.parametrize("size", [-1, 1.5, "10"])
def test_invalid_sizes_are_rejected(size: object) -> None:
    with pytest.raises(UsageError):
        NodeCache(MemoryNodeStore(), size)  # type: ignore[arg-type]
