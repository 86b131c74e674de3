"""Build compressed subtrees from sorted leaves: the one rehash pass of a batch (E8, T22.1a).

An *item* is ``(path, leaf, is_new)``: a leaf node and whether it is being written now (False
for an existing leaf carried into a rebuilt subtree). Items are sorted by path and share their
first ``depth`` bits. Every new node is hashed exactly once and appended to ``added`` in creation
order (children before parents).
"""

from __future__ import annotations

import hashlib
from typing import Any, TypeAlias

from aethel.errors import AethelError
from aethel.merkle.hashing import EMPTY_HASH, NODE_PREFIX, PATH_BITS
from aethel.merkle.nodes import Leaf, Node, Ref

Item: TypeAlias = tuple[bytes, Leaf, bool]
#: A batch operation: ``(path, leaf, True)`` writes the leaf, ``(path, None, True)`` deletes the
#: key. (The shape of an item, so a batch without deletes is its own item list.)
Op: TypeAlias = tuple[bytes, Leaf | None, bool]

_sha256 = hashlib.sha256


def find_split(items: list[Item] | list[Op], lo: int, hi: int, depth: int) -> int:
    """Return the first index in ``[lo, hi)`` whose path has bit ``depth`` set (``hi`` if none).

    The paths in the range are sorted and agree on their first ``depth`` bits, so the ones with
    bit ``depth`` clear come first.
    """
    byte = depth >> 3
    mask = 0x80 >> (depth & 7)
    if items[lo][0][byte] & mask:
        return lo
    if not items[hi - 1][0][byte] & mask:
        return hi
    low, high = lo, hi - 1  # items[low] has the bit clear, items[high] has it set
    while high - low > 1:
        middle = (low + high) >> 1
        if items[middle][0][byte] & mask:
            high = middle
        else:
            low = middle
    return high


def build_subtree(items: list[Item], lo: int, hi: int, depth: int, added: list[Node]) -> Ref:
    """Return the compressed subtree at ``depth`` holding ``items[lo:hi]`` (None if empty).

    New inner nodes are lists ``[hash, left, right]`` (an in-memory tree updates them in place
    later); leaves stay the tuples the items carry. Raises :class:`AethelError` on two equal
    paths, which only a SHA-256 collision (or a caller bug) can produce. Recursion depth is at
    most 256. (A stack-based variant driven by where neighbouring paths part measured no faster.)
    """
    count = hi - lo
    if count == 1:
        _, leaf, is_new = items[lo]
        if is_new:
            added.append(leaf)
        return leaf
    if count == 0:
        return None
    if depth >= PATH_BITS:
        raise AethelError(f"two leaves share the path {items[lo][0].hex()}")
    split = find_split(items, lo, hi, depth)
    left: Any
    right: Any
    if split == lo:
        right = build_subtree(items, lo, hi, depth + 1, added)
        node = [_sha256(NODE_PREFIX + EMPTY_HASH + right[0]).digest(), None, right]
    elif split == hi:
        left = build_subtree(items, lo, hi, depth + 1, added)
        node = [_sha256(NODE_PREFIX + left[0] + EMPTY_HASH).digest(), left, None]
    else:
        left = build_subtree(items, lo, split, depth + 1, added)
        right = build_subtree(items, split, hi, depth + 1, added)
        node = [_sha256(NODE_PREFIX + left[0] + right[0]).digest(), left, right]
    added.append(node)
    return node
