"""Tree nodes, child references, their byte encoding, and the node store interface.

A node is a plain sequence that starts with its own hash (kept small and fast: a million-key
tree holds millions of them):

* an inner node is ``(hash, left, right)``: a tuple when it comes from a store (shared, never
  changed), a list ``[hash, left, right]`` when the tree built it in memory (then the tree may
  update it in place: an update of a million-key tree in memory allocates almost nothing, which
  also spares the cyclic garbage collector from rescanning millions of new nodes);
* a leaf is the tuple ``(hash, path, value_hash, key, value)``, where ``value`` is the canonical
  JSON bytes of the value; the key and value travel with the leaf so a snapshot of any version
  can be read back from its root alone.

A child reference (:data:`Ref`) is ``None`` for an empty subtree, a node tuple when the child is
in memory, or the child's hash (``bytes``) when it must be read from a node store. A tree held
only in memory links nodes directly; a tree over a store keeps hashes and reads nodes through
the LRU cache. Nodes are immutable and addressed by hash, so versions share unchanged subtrees.

A *record* is a node whose children are hashes or ``None``: what a store keeps. On disk
(:func:`encode_node`) an inner node is its hash preimage ``0x01 || left || right``; a leaf is its
preimage ``0x00 || path || value_hash`` followed by a 2-byte key length, the key and the value.
:func:`decode_node` checks the hashes, so a corrupted store is detected, not trusted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, Protocol, TypeAlias, cast

from aethel.merkle.errors import StoreCorruptionError
from aethel.merkle.hashing import EMPTY_HASH, HASH_SIZE, LEAF_PREFIX, NODE_PREFIX

Inner: TypeAlias = "tuple[bytes, Ref, Ref] | list[Any]"
Leaf: TypeAlias = tuple[bytes, bytes, bytes, str, bytes]
Node: TypeAlias = "Inner | Leaf"
Ref: TypeAlias = "Inner | Leaf | bytes | None"

_sha256 = hashlib.sha256
_LEAF_HEADER = 1 + 2 * HASH_SIZE


def get_ref_hash(ref: Ref) -> bytes:
    """Return the hash a child reference stands for (the empty hash for ``None``)."""
    if ref is None:
        return EMPTY_HASH
    if type(ref) is bytes:
        return ref
    return cast(Node, ref)[0]


def to_record(node: Node) -> Node:
    """Return ``node`` as a tuple whose children are hashes (what a store keeps)."""
    if len(node) == 5:
        return node
    return (node[0], _to_hash_ref(node[1]), _to_hash_ref(node[2]))


def _to_hash_ref(ref: Ref) -> bytes | None:
    if ref is None or type(ref) is bytes:
        return ref
    return cast(Node, ref)[0]


def encode_node(node: Node) -> bytes:
    """Return the stored bytes of ``node`` (see the module docstring)."""
    if len(node) == 3:
        return NODE_PREFIX + get_ref_hash(node[1]) + get_ref_hash(node[2])
    _, path, value_hash, key, value = node
    key_bytes = key.encode("utf-8")
    return LEAF_PREFIX + path + value_hash + len(key_bytes).to_bytes(2, "big") + key_bytes + value


def decode_node(node_hash: bytes, data: bytes) -> Node:
    """Return the record stored as ``data`` under ``node_hash``, checking every hash in it.

    Raises :class:`StoreCorruptionError` if the bytes are malformed or do not hash to
    ``node_hash`` (or a leaf's value does not hash to its value hash).
    """
    if data[:1] == NODE_PREFIX and len(data) == 1 + 2 * HASH_SIZE:
        if _sha256(data).digest() != node_hash:
            raise StoreCorruptionError(f"inner node {node_hash.hex()} does not match its hash")
        left: bytes | None = data[1:33]
        right: bytes | None = data[33:65]
        return (
            node_hash,
            None if left == EMPTY_HASH else left,
            None if right == EMPTY_HASH else right,
        )
    if data[:1] == LEAF_PREFIX and len(data) >= _LEAF_HEADER + 2:
        if _sha256(data[:_LEAF_HEADER]).digest() != node_hash:
            raise StoreCorruptionError(f"leaf {node_hash.hex()} does not match its hash")
        key_length = int.from_bytes(data[_LEAF_HEADER : _LEAF_HEADER + 2], "big")
        key_end = _LEAF_HEADER + 2 + key_length
        value_hash = data[33:65]
        value = data[key_end:]
        if len(data) < key_end or _sha256(value).digest() != value_hash:
            raise StoreCorruptionError(f"leaf {node_hash.hex()} holds a value of another hash")
        try:
            key = data[_LEAF_HEADER + 2 : key_end].decode("utf-8")
        except UnicodeDecodeError:
            raise StoreCorruptionError(f"leaf {node_hash.hex()} holds a non-UTF-8 key") from None
        return (node_hash, data[1:33], value_hash, key, value)
    raise StoreCorruptionError(f"node {node_hash.hex()} has malformed stored bytes")


class NodeStore(Protocol):
    """Where the records of a tree live, addressed by hash. Nothing is ever overwritten."""

    def get_node(self, node_hash: bytes) -> Node | None:
        """Return the record stored under ``node_hash``, or None if there is none."""
        ...

    def put_nodes(self, nodes: Sequence[Node]) -> None:
        """Store records (each carries its hash), given children before parents."""
        ...


class MemoryNodeStore:
    """A dict of records: every version written stays readable (tests, small tools)."""

    __slots__ = ("_nodes",)

    def __init__(self) -> None:
        self._nodes: dict[bytes, Node] = {}

    def __len__(self) -> int:
        return len(self._nodes)

    def get_node(self, node_hash: bytes) -> Node | None:
        """Return the record stored under ``node_hash``, or None."""
        return self._nodes.get(node_hash)

    def put_nodes(self, nodes: Sequence[Node]) -> None:
        """Store records."""
        self._nodes.update((node[0], node) for node in nodes)


class OverlayNodeStore:
    """Records written on top of a base store, held in memory until taken away.

    A staged state transition writes here; committing it moves :attr:`pending` into the
    persistent store, abandoning it just drops the overlay.
    """

    __slots__ = ("_base", "pending")

    def __init__(self, base: NodeStore) -> None:
        self._base = base
        self.pending: dict[bytes, Node] = {}

    def get_node(self, node_hash: bytes) -> Node | None:
        """Return a pending record, else the base store's."""
        node = self.pending.get(node_hash)
        return node if node is not None else self._base.get_node(node_hash)

    def put_nodes(self, nodes: Sequence[Node]) -> None:
        """Add records to the pending set."""
        self.pending.update((node[0], node) for node in nodes)
