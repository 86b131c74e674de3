"""The state tree: a compressed sparse Merkle tree (Spec: E8, T22.1a, T22.1b).

Keys are strings, values are JSON values (hashed as canonical JSON). The root is a pure function
of the key/value set, whatever the order of updates and deletes (history independence). An
update of ``k`` keys in a tree of ``n`` visits and rehashes only the ``O(k log n)`` nodes on
their paths, each once.

Two ways to hold the nodes (see :mod:`aethel.merkle.nodes`):

* in memory (``StateTree()``): nodes link to their children directly and a batch updates the
  inner nodes on its paths in place (one version, no allocation per rehashed node);
* over a node store (``StateTree(store, root=...)``): children are hashes, read through a
  bounded LRU :class:`NodeCache` (T22.1b); stored nodes are never changed, each batch writes
  its new nodes to the store, which keeps every version. This is how
  :class:`aethel.state.store.StateStore` persists the tree.
"""

from __future__ import annotations

import hashlib
import json
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Final

from aethel.errors import UsageError
from aethel.merkle.batch import DELETE, BatchStats, paused_gc, prepare_ops
from aethel.merkle.build import Item, Op, build_subtree, find_split
from aethel.merkle.cache import DEFAULT_CACHE_SIZE, CacheStats, NodeCache
from aethel.merkle.errors import MissingNodeError
from aethel.merkle.hashing import (
    EMPTY_HASH,
    HASH_SIZE,
    NODE_PREFIX,
    compute_key_bytes,
)
from aethel.merkle.nodes import (
    Leaf,
    MemoryNodeStore,
    Node,
    NodeStore,
    Ref,
    get_ref_hash,
    to_record,
)
from aethel.merkle.proofs import AbsenceProof, InclusionProof, Proof

_sha256 = hashlib.sha256
_path_of = itemgetter(0)
#: Most prefix bits a snapshot manifest may use (65,536 chunks).
MAX_PREFIX_BITS: Final = 16


@dataclass(frozen=True, slots=True)
class SubtreeRoot:
    """The subtree of all leaves whose path starts with ``prefix`` (``prefix_bits`` bits long).

    ``hash`` is the root of the compressed tree of those leaves alone, rooted at depth
    ``prefix_bits``: the empty hash, the single leaf's hash, or an inner node. ``leaf`` is
    ``(path, value_hash)`` when the subtree is a single leaf.
    """

    prefix: int
    hash: bytes
    leaf: tuple[bytes, bytes] | None


def _check_prefix(prefix_bits: int, prefix: int) -> None:
    if type(prefix_bits) is not int or not 0 <= prefix_bits <= MAX_PREFIX_BITS:
        raise UsageError(f"prefix_bits must be an int in [0, {MAX_PREFIX_BITS}]")
    if type(prefix) is not int or not 0 <= prefix < (1 << prefix_bits):
        raise UsageError(f"prefix must be an int in [0, 2**{prefix_bits})")


class StateTree:
    """A compressed sparse Merkle tree of string keys and JSON values (E8).

    With no ``store`` the tree lives in memory. With a ``store``, ``root`` opens the version
    with that root (nothing is read until needed), reads go through ``cache`` (default: a new
    LRU of ``cache_size`` nodes in front of ``store``) and every batch writes its new nodes to
    ``store``. Pass both ``store`` and ``cache`` to read through a store layered over a shared
    cache (as :class:`aethel.state.store.StateStore` does for staged heights).

    Not thread-safe: one writer at a time.
    """

    __slots__ = ("_cache", "_last_batch", "_reader", "_rehashed", "_root", "_skips", "_visits")

    def __init__(
        self,
        store: NodeStore | None = None,
        *,
        root: bytes = EMPTY_HASH,
        cache: NodeCache | None = None,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        if type(root) is not bytes or len(root) != HASH_SIZE:
            raise UsageError("a tree root is exactly 32 bytes")
        if store is None and root != EMPTY_HASH:
            raise UsageError("opening an existing root needs the node store that holds it")
        reader: NodeStore
        if cache is None:
            cache = NodeCache(store if store is not None else MemoryNodeStore(), cache_size)
            reader = cache
        else:
            reader = store if store is not None else cache
        self._cache = cache
        self._reader: NodeStore | None = reader if store is not None else None
        self._root: Ref = None if root == EMPTY_HASH else root
        self._visits = 0
        self._skips = 0  # writes that found the same value already there
        self._rehashed = 0  # inner nodes rehashed in place
        self._last_batch: BatchStats | None = None

    @classmethod
    def from_subtrees(cls, subtrees: Sequence[Ref]) -> StateTree:
        """Return an in-memory tree joining the subtrees of ``2**k`` consecutive path prefixes.

        ``subtrees[p]`` is the in-memory subtree (or None) of all leaves whose path starts with
        the ``k``-bit prefix ``p``, rooted at depth ``k`` (as a verified snapshot chunk builds
        it). The levels above are joined with the tree's rules (E8).
        """
        count = len(subtrees)
        if count == 0 or count & (count - 1):
            raise UsageError("from_subtrees needs a power-of-two number of subtrees")
        if any(type(ref) is bytes for ref in subtrees):
            raise UsageError("from_subtrees needs in-memory subtrees")
        tree = cls()
        added: list[Node] = []
        level = list(subtrees)
        while len(level) > 1:
            level = [tree._join(level[i], level[i + 1], added) for i in range(0, len(level), 2)]
        tree._root = level[0]
        return tree

    # ------------------------------------------------------------------ reading

    def root(self) -> bytes:
        """Return the 32-byte root hash (the empty hash for an empty tree)."""
        return get_ref_hash(self._root)

    @property
    def in_memory(self) -> bool:
        """True if the tree has no node store (its nodes live only in memory)."""
        return self._reader is None

    def _load(self, node_hash: bytes) -> Node:
        node = self._reader.get_node(node_hash) if self._reader is not None else None
        if node is None:
            raise MissingNodeError(f"node {node_hash.hex()} is not in the node store")
        return node

    def _find_leaf(
        self, path: bytes
    ) -> tuple[Leaf | None, list[bytes], tuple[bytes, bytes] | None]:
        """Walk ``path``; return (own leaf or None, siblings, other leaf found or None)."""
        siblings: list[bytes] = []
        current = self._root
        depth = 0
        while current is not None:
            node: Any = self._load(current) if type(current) is bytes else current
            if len(node) == 5:
                if node[1] == path:
                    return node, siblings, None
                return None, siblings, (node[1], node[2])
            if (path[depth >> 3] >> (7 - (depth & 7))) & 1:
                siblings.append(get_ref_hash(node[1]))
                current = node[2]
            else:
                siblings.append(get_ref_hash(node[2]))
                current = node[1]
            depth += 1
        return None, siblings, None

    def get(self, key: str, default: Any = None) -> Any:
        """Return the value of ``key`` (a fresh copy), or ``default`` if it is absent."""
        path = _sha256(compute_key_bytes(key)).digest()
        leaf = self._find_leaf(path)[0]
        return default if leaf is None else json.loads(leaf[4])

    def has(self, key: str) -> bool:
        """Return True if ``key`` is in the tree."""
        path = _sha256(compute_key_bytes(key)).digest()
        return self._find_leaf(path)[0] is not None

    def prove(self, key: str) -> Proof:
        """Return an inclusion proof of ``key`` if present, else an absence proof (E9)."""
        path = _sha256(compute_key_bytes(key)).digest()
        leaf, siblings, other = self._find_leaf(path)
        root = self.root()
        if leaf is not None:
            return InclusionProof(key, root, tuple(siblings), leaf[4])
        return AbsenceProof(key, root, tuple(siblings), other)

    def get_cache_stats(self) -> CacheStats:
        """Return the node cache's hits, misses, hit rate, size and max size (T22.1b).

        The cache sits in front of the node store; a tree held wholly in memory reads no node
        from a store, so its counters stay at zero.
        """
        return self._cache.get_cache_stats()

    @property
    def cache(self) -> NodeCache:
        """The node cache this tree reads through."""
        return self._cache

    @property
    def last_batch(self) -> BatchStats | None:
        """Costs of the last :meth:`batch_update` (None before the first)."""
        return self._last_batch

    def with_root(self, root: bytes) -> StateTree:
        """Return a tree over the same store and cache at another ``root`` (an old version)."""
        if self._reader is None:
            raise UsageError("an in-memory tree keeps no old versions to open by root")
        return StateTree(self._reader, root=root, cache=self._cache)

    # ------------------------------------------------------------------ updating

    def update(self, key: str, value: Any) -> bytes:
        """Set ``key`` to ``value``; return the new root."""
        return self.batch_update(((key, value),))

    def delete(self, key: str) -> bytes:
        """Remove ``key`` (nothing happens if it is absent); return the new root."""
        return self.batch_update(((key, DELETE),))

    def batch_update(self, updates: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> bytes:
        """Apply many writes with one rehash pass; return the new root (T22.1a).

        ``updates`` maps keys to values (:data:`DELETE` deletes), or is a sequence of
        ``(key, value)`` pairs in which the last write of a key wins. Writes are sorted by path
        and every touched node is rehashed exactly once; the result is identical to applying the
        writes one by one. Every key and value is validated before anything changes: an invalid
        one raises :class:`~aethel.errors.EncodingError` and leaves the tree as it was.
        """
        try:
            latest: dict[str, Any] = dict(updates)  # from pairs, the last write of a key wins
        except (TypeError, ValueError):
            raise UsageError("batch_update takes a mapping or (key, value) pairs") from None
        with paused_gc(len(latest)):
            ops = prepare_ops(latest)
            deletes = sum(1 for op in ops if op[1] is None)
            visits_before = self._visits
            skips_before = self._skips
            rehashed_before = self._rehashed
            added: list[Node] = []
            if not ops:
                new_root = self._root
            elif self._root is None and not deletes:  # a bulk load: the ops are the items
                new_root = build_subtree(ops, 0, len(ops), 0, added)  # type: ignore[arg-type]
            else:
                new_root = self._apply(self._root, 0, ops, 0, len(ops), added)
            if self._reader is not None:
                if added:
                    self._reader.put_nodes([to_record(node) for node in added])
                new_root = None if new_root is None else get_ref_hash(new_root)
            self._root = new_root
        leaves_written = len(ops) - deletes - (self._skips - skips_before)
        self._last_batch = BatchStats(
            keys=len(ops),
            leaves_hashed=len(ops) - deletes,
            nodes_hashed=len(added) - leaves_written + self._rehashed - rehashed_before,
            nodes_visited=self._visits - visits_before,
        )
        return get_ref_hash(new_root)

    def _apply(
        self, ref: Ref, depth: int, ops: list[Op], lo: int, hi: int, added: list[Node]
    ) -> Ref:
        """Return the subtree ``ref`` at ``depth`` after ``ops[lo:hi]``."""
        if hi - lo == 1:
            return self._apply_one(ref, depth, ops[lo], added)
        if ref is None:
            items: list[Item] = [op for op in ops[lo:hi] if op[1] is not None]  # type: ignore[misc]
            return build_subtree(items, 0, len(items), depth, added)
        self._visits += 1
        node: Any = self._load(ref) if type(ref) is bytes else ref
        if len(node) == 5:
            path = node[1]
            items = [op for op in ops[lo:hi] if op[1] is not None]  # type: ignore[misc]
            position = bisect_left(ops, path, lo, hi, key=_path_of)
            if position == hi or ops[position][0] != path:  # the old leaf stays
                items.insert(bisect_left(items, path, key=_path_of), (path, node, False))
            return build_subtree(items, 0, len(items), depth, added)
        left, right = node[1], node[2]
        # Read the child hashes first: a child built in memory is updated in place.
        left_hash, right_hash = get_ref_hash(left), get_ref_hash(right)
        split = find_split(ops, lo, hi, depth)
        new_left = self._apply(left, depth + 1, ops, lo, split, added) if split > lo else left
        new_right = self._apply(right, depth + 1, ops, split, hi, added) if split < hi else right
        if get_ref_hash(new_left) == left_hash and get_ref_hash(new_right) == right_hash:
            return ref
        return self._join(new_left, new_right, added, node)

    def _apply_one(self, ref: Ref, depth: int, op: Op, added: list[Node]) -> Ref:
        """Return the subtree ``ref`` after one write: walk down, then rehash on the way up.

        Most nodes a batch touches lie below the point where its paths part, where each
        subtree sees a single write; a loop is much cheaper there than the recursion.
        """
        path, leaf, _ = op
        trail: list[tuple[Any, int]] = []
        current = ref
        node: Any = None
        while current is not None:
            node = self._load(current) if type(current) is bytes else current
            if len(node) == 5:
                break
            bit = (path[depth >> 3] >> (7 - (depth & 7))) & 1
            trail.append((node, bit))
            current = node[1 + bit]
            depth += 1
        else:
            node = None
        self._visits += len(trail) + (node is not None)
        bottom: Any
        if node is None:  # an empty slot
            if leaf is None:
                return ref  # deleting an absent key
            added.append(leaf)
            bottom = leaf
        elif node[1] == path:  # the key's own leaf
            if leaf is None:
                bottom = None
            elif leaf[0] == node[0]:
                self._skips += 1
                return ref  # the same value again
            else:
                added.append(leaf)
                bottom = leaf
        elif leaf is None:
            return ref  # deleting an absent key
        else:  # another key's leaf sits here: both go into a new subtree
            pair: list[Item] = sorted([(node[1], node, False), (path, leaf, True)], key=_path_of)
            bottom = build_subtree(pair, 0, 2, depth, added)
        sha256 = _sha256
        for parent, bit in reversed(trail):
            sibling: Any = parent[2 - bit]
            if sibling is None or bottom is None:  # a side is empty: the collapse rules apply
                if bit:
                    bottom = self._join(sibling, bottom, added, parent)
                else:
                    bottom = self._join(bottom, sibling, added, parent)
                continue
            # Both sides present (the common case), inlined from _join.
            sibling_hash = sibling if type(sibling) is bytes else sibling[0]
            bottom_hash = bottom if type(bottom) is bytes else bottom[0]
            if bit:
                parent_hash = sha256(NODE_PREFIX + sibling_hash + bottom_hash).digest()
            else:
                parent_hash = sha256(NODE_PREFIX + bottom_hash + sibling_hash).digest()
            if type(parent) is list:  # built in memory by this tree: update in place
                parent[0] = parent_hash
                parent[1 + bit] = bottom
                self._rehashed += 1
                bottom = parent
            else:  # a stored record: copy on write
                bottom = [parent_hash, sibling, bottom] if bit else [parent_hash, bottom, sibling]
                added.append(bottom)
        result: Ref = bottom
        return result

    def _is_leaf(self, ref: Ref) -> bool:
        if type(ref) is bytes:
            ref = self._load(ref)
        return len(ref) == 5  # type: ignore[arg-type]

    def _join(self, left: Ref, right: Ref, added: list[Node], old: Any = None) -> Ref:
        """Return the parent of two children, letting a lone leaf move up (E8).

        ``old`` is the node being replaced: if this tree built it in memory (a list), it is
        updated in place; otherwise a new node is made (stored records are never changed).
        """
        if left is None:
            if right is None:
                return None
            if self._is_leaf(right):
                return right
        elif right is None and self._is_leaf(left):
            return left
        node_hash = _sha256(NODE_PREFIX + get_ref_hash(left) + get_ref_hash(right)).digest()
        if type(old) is list:
            old[0], old[1], old[2] = node_hash, left, right
            self._rehashed += 1
            return old
        node = [node_hash, left, right]
        added.append(node)
        return node

    # ------------------------------------------------------------------ enumerating

    def _descend(self, prefix_bits: int, prefix: int) -> tuple[Ref, int]:
        """Return the subtree reached by following ``prefix`` and the depth it stopped at."""
        current = self._root
        for depth in range(prefix_bits):
            if current is None:
                return None, depth
            node: Any = self._load(current) if type(current) is bytes else current
            if len(node) == 5:
                return node, depth
            current = node[1 + ((prefix >> (prefix_bits - 1 - depth)) & 1)]
        return current, prefix_bits

    def iter_leaves(self, prefix_bits: int = 0, prefix: int = 0) -> Iterator[Leaf]:
        """Yield every leaf ``(hash, path, value_hash, key, value_bytes)`` under a path prefix.

        Leaves come in path order. ``prefix`` is the first ``prefix_bits`` bits of the path as
        an integer (``prefix_bits`` 0: the whole tree).
        """
        _check_prefix(prefix_bits, prefix)
        start, depth = self._descend(prefix_bits, prefix)
        stack: list[Ref] = [start]
        while stack:
            current = stack.pop()
            if current is None:
                continue
            node: Any = self._load(current) if type(current) is bytes else current
            if len(node) == 5:
                if depth == prefix_bits or _get_prefix(node[1], prefix_bits) == prefix:
                    yield node
            else:
                stack.append(node[2])
                stack.append(node[1])

    def iter_nodes(self) -> Iterator[Node]:
        """Yield every node of the tree (for copying a tree into a store)."""
        stack: list[Ref] = [self._root]
        while stack:
            current = stack.pop()
            if current is None:
                continue
            node: Any = self._load(current) if type(current) is bytes else current
            yield node
            if len(node) == 3:
                stack.append(node[2])
                stack.append(node[1])

    def get_subtree_roots(self, prefix_bits: int) -> list[SubtreeRoot]:
        """Return the :class:`SubtreeRoot` of each of the ``2**prefix_bits`` path prefixes."""
        _check_prefix(prefix_bits, 0)
        out: list[SubtreeRoot] = []

        def walk(ref: Ref, depth: int, prefix: int) -> None:
            span = 1 << (prefix_bits - depth)
            first = prefix << (prefix_bits - depth)
            if ref is None:
                out.extend(SubtreeRoot(first + i, EMPTY_HASH, None) for i in range(span))
                return
            node: Any = self._load(ref) if type(ref) is bytes else ref
            if len(node) == 5:
                own = _get_prefix(node[1], prefix_bits)
                for index in range(first, first + span):
                    if index == own:
                        out.append(SubtreeRoot(index, node[0], (node[1], node[2])))
                    else:
                        out.append(SubtreeRoot(index, EMPTY_HASH, None))
                return
            if depth == prefix_bits:
                out.append(SubtreeRoot(prefix, node[0], None))
                return
            walk(node[1], depth + 1, prefix << 1)
            walk(node[2], depth + 1, (prefix << 1) | 1)

        walk(self._root, 0, 0)
        return out


def _get_prefix(path: bytes, prefix_bits: int) -> int:
    return int.from_bytes(path, "big") >> (256 - prefix_bits)
