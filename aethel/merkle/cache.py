"""A bounded LRU cache of tree nodes in front of a node store, with true statistics (T22.1b).

Every node read of the tree goes through :meth:`NodeCache.get_node`: a read served from the cache
is a hit, a read that goes to the backing store is a miss. Writes pass through to the store and
admit the most recently created nodes (the top of the tree, which the next update reads first);
they are neither hits nor misses. A tree held wholly in memory links its nodes directly and has
no store to read from, so its cache sees no traffic: the cache serves trees over a store.
Nodes are immutable (addressed by hash), so a cached node can never be stale.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from aethel.errors import UsageError
from aethel.merkle.nodes import Node, NodeStore

#: Default number of nodes the cache holds (T22.1b).
DEFAULT_CACHE_SIZE = 1_000


@dataclass(frozen=True, slots=True)
class CacheStats:
    """Counters of a node cache since it was created or its statistics were reset (T22.1b)."""

    hits: int
    misses: int
    hit_rate: float
    size: int
    max_size: int

    def as_dict(self) -> dict[str, int | float]:
        """Return the statistics as a plain dict (for JSON reports)."""
        return asdict(self)


class NodeCache:
    """An LRU cache of at most ``max_size`` nodes over a backing :class:`NodeStore`.

    ``max_size`` 0 disables caching (every read is a miss), which benchmarks use as a baseline.
    The cache is itself a node store, so it stacks: tree -> cache -> store.
    """

    __slots__ = ("_backing", "_entries", "_hits", "_max_size", "_misses")

    def __init__(self, backing: NodeStore, max_size: int = DEFAULT_CACHE_SIZE) -> None:
        if type(max_size) is not int or max_size < 0:
            raise UsageError(f"cache max_size must be a non-negative int, got {max_size!r}")
        self._backing = backing
        self._max_size = max_size
        self._entries: OrderedDict[bytes, Node] = OrderedDict()
        self._hits = 0
        self._misses = 0

    @property
    def backing(self) -> NodeStore:
        """The store behind the cache."""
        return self._backing

    def get_node(self, node_hash: bytes) -> Node | None:
        """Return the node under ``node_hash`` from the cache (hit) or the store (miss)."""
        entries = self._entries
        node = entries.get(node_hash)
        if node is not None:
            self._hits += 1
            entries.move_to_end(node_hash)
            return node
        self._misses += 1
        node = self._backing.get_node(node_hash)
        if node is not None and self._max_size:
            entries[node_hash] = node
            if len(entries) > self._max_size:
                entries.popitem(last=False)
        return node

    def put_nodes(self, nodes: Sequence[Node]) -> None:
        """Write records to the store and admit the last ``max_size`` of them."""
        self._backing.put_nodes(nodes)
        self.admit(nodes)

    def admit(self, nodes: Sequence[Node]) -> None:
        """Cache the last ``max_size`` records (in creation order) without counting reads."""
        if not self._max_size:
            return
        entries = self._entries
        for node in nodes[-self._max_size :]:
            entries[node[0]] = node
            entries.move_to_end(node[0])
        while len(entries) > self._max_size:
            entries.popitem(last=False)

    def get_cache_stats(self) -> CacheStats:
        """Return hits, misses, hit rate, size and max size (T22.1b)."""
        reads = self._hits + self._misses
        return CacheStats(
            hits=self._hits,
            misses=self._misses,
            hit_rate=self._hits / reads if reads else 0.0,
            size=len(self._entries),
            max_size=self._max_size,
        )

    def reset_stats(self) -> None:
        """Zero the hit and miss counters (the cached nodes stay)."""
        self._hits = 0
        self._misses = 0

    def clear(self) -> None:
        """Drop every cached node (counters stay)."""
        self._entries.clear()
