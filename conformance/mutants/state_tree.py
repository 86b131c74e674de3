"""Mutants of the state tree."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from typing import Any

import aethel.merkle.batch as merkle_batch
from aethel import encoding
from aethel.merkle.cache import DEFAULT_CACHE_SIZE, NodeCache
from aethel.merkle.hashing import (
    EMPTY_HASH,
    compute_leaf_hash,
    compute_node_hash,
    compute_path,
    get_path_bit,
)
from aethel.merkle.nodes import MemoryNodeStore, Node
from aethel.merkle.proofs import AbsenceProof, proof_from_dict, verify_proof
from aethel.merkle.tree import StateTree
from conformance.adapters.reference import (
    ReferenceImplementation,
    ReferenceStateTree,
    ReferenceTree,
)
from conformance.adapters.reference_errors import rejecting
from conformance.mutants import Mutant


def _plain_root(leaves: list[tuple[bytes, bytes]], depth: int = 0) -> bytes:
    """The compressed tree root hashed without the 0x00 / 0x01 domain prefixes."""
    if not leaves:
        return EMPTY_HASH
    if len(leaves) == 1:
        path, value_hash = leaves[0]
        return hashlib.sha256(path + value_hash).digest()
    left = [leaf for leaf in leaves if not get_path_bit(leaf[0], depth)]
    right = [leaf for leaf in leaves if get_path_bit(leaf[0], depth)]
    return hashlib.sha256(_plain_root(left, depth + 1) + _plain_root(right, depth + 1)).digest()


class NoDomainSeparationTree(ReferenceTree):
    """Defect: leaves and inner nodes are hashed without their 0x00 / 0x01 prefixes."""

    def _plain(self) -> str:
        return _plain_root([(leaf[1], leaf[2]) for leaf in self.tree.iter_leaves()]).hex()

    @rejecting
    def update(self, key: str, value: Any) -> str:
        self.tree.update(key, value)
        return self._plain()

    @rejecting
    def delete(self, key: str) -> str:
        self.tree.delete(key)
        return self._plain()

    def batch_update(self, ops: list[Any]) -> str:
        super().batch_update(ops)
        return self._plain()

    def root(self) -> str:
        return self._plain()


class NoDomainSeparationStateTree(ReferenceStateTree):
    tree_class = NoDomainSeparationTree


class NoDomainSeparationImplementation(ReferenceImplementation):
    name = "mutant-no-domain-separation"

    def make_state_tree(self) -> object:
        return NoDomainSeparationStateTree()


class AbsenceForPresentKeyStateTree(ReferenceStateTree):
    """Defect: an absence proof whose "other leaf" is the key's own leaf is not refused."""

    @rejecting
    def verify_proof(self, proof: Any, root: str) -> bool:
        parsed = proof_from_dict(proof)
        trusted = encoding.parse_hex(root, length=32, rule_id="E9")
        path = compute_path(parsed.key)
        if isinstance(parsed, AbsenceProof) and parsed.leaf and parsed.leaf[0] == path:
            # The missing check: the other leaf must sit on another path. Fold up as for any leaf.
            node = compute_leaf_hash(parsed.leaf[0], parsed.leaf[1])
            for depth in range(len(parsed.siblings) - 1, -1, -1):
                sibling = parsed.siblings[depth]
                if get_path_bit(path, depth):
                    node = compute_node_hash(sibling, node)
                else:
                    node = compute_node_hash(node, sibling)
            return parsed.root == trusted and node == trusted
        return verify_proof(parsed, trusted)


class AbsenceForPresentKeyImplementation(ReferenceImplementation):
    name = "mutant-absence-for-present-key"

    def make_state_tree(self) -> object:
        return AbsenceForPresentKeyStateTree()


@contextlib.contextmanager
def _lenient_integers() -> Iterator[None]:
    """Encode any integer leaf value as its decimal digits while a write runs (bignum-style)."""
    namespace = vars(merkle_batch)
    strict = namespace["encode_value"]

    def lenient(value: object) -> bytes:
        if type(value) is int:
            return str(value).encode("ascii")
        encoded: bytes = strict(value)
        return encoded

    namespace["encode_value"] = lenient
    try:
        yield
    finally:
        namespace["encode_value"] = strict


class BigIntegerTree(ReferenceTree):
    """Defect: integer values are not range-checked (an implementation on a bignum or 64-bit
    unsigned type): 2^63 and 10^30 are stored instead of refused (E2)."""

    def update(self, key: str, value: Any) -> str:
        with _lenient_integers():
            return super().update(key, value)

    def batch_update(self, ops: list[Any]) -> str:
        with _lenient_integers():
            return super().batch_update(ops)


class BigIntegerStateTree(ReferenceStateTree):
    tree_class = BigIntegerTree


class BigIntegerImplementation(ReferenceImplementation):
    name = "mutant-tree-accepts-integers-beyond-64-bits"

    def make_state_tree(self) -> object:
        return BigIntegerStateTree()


class LeafExtraMembersStateTree(ReferenceStateTree):
    """Defect: the other leaf of an absence proof is read by its two members, and anything else
    it carries is ignored instead of refused (E9)."""

    @rejecting
    def verify_proof(self, proof: Any, root: str) -> bool:
        leaf = proof.get("leaf") if isinstance(proof, dict) else None
        if isinstance(leaf, dict) and {"path", "value_hash"} <= set(leaf):
            proof = {**proof, "leaf": {"path": leaf["path"], "value_hash": leaf["value_hash"]}}
        return super().verify_proof(proof, root)


class LeafExtraMembersImplementation(ReferenceImplementation):
    name = "mutant-absence-leaf-extra-members-ignored"

    def make_state_tree(self) -> object:
        return LeafExtraMembersStateTree()


class WriteOnlyCache(NodeCache):
    """Defect: the LRU cache admits the nodes a write creates, but a read that misses does not
    bring its node in, so nodes only ever read never become hits (T22.1b)."""

    def get_node(self, node_hash: bytes) -> Node | None:
        node = self._entries.get(node_hash)
        if node is not None:
            self._hits += 1
            self._entries.move_to_end(node_hash)
            return node
        self._misses += 1
        return self._backing.get_node(node_hash)


class WriteOnlyCacheTree(ReferenceTree):
    def __init__(self, cache_size: int | None) -> None:
        size = DEFAULT_CACHE_SIZE if cache_size is None else cache_size
        cache = WriteOnlyCache(MemoryNodeStore(), size)
        self.tree = StateTree(cache, cache=cache)


class WriteOnlyCacheStateTree(ReferenceStateTree):
    tree_class = WriteOnlyCacheTree


class WriteOnlyCacheImplementation(ReferenceImplementation):
    name = "mutant-node-cache-fills-on-writes-only"

    def make_state_tree(self) -> object:
        return WriteOnlyCacheStateTree()


MUTANTS = [
    Mutant(
        name="no-domain-separation",
        defect="state tree hashes leaves and nodes without the 0x00 / 0x01 prefixes",
        breaks=("E8",),
        capabilities=("state-tree",),
        build=NoDomainSeparationImplementation,
    ),
    Mutant(
        name="absence-for-present-key",
        defect="absence proof verifier accepts the key's own leaf as 'another leaf on its path'",
        breaks=("E9",),
        capabilities=("state-tree",),
        build=AbsenceForPresentKeyImplementation,
    ),
    Mutant(
        name="tree-accepts-integers-beyond-64-bits",
        defect="the state tree stores integer values outside -2^63..2^63-1 instead of refusing",
        breaks=("E2",),
        capabilities=("state-tree",),
        build=BigIntegerImplementation,
    ),
    Mutant(
        name="absence-leaf-extra-members-ignored",
        defect="an absence proof's other leaf with extra members verifies (they are ignored)",
        breaks=("E9",),
        capabilities=("state-tree",),
        build=LeafExtraMembersImplementation,
    ),
    Mutant(
        name="node-cache-fills-on-writes-only",
        defect="the node cache admits written nodes only: a node that is only read never hits",
        breaks=("T22.1b",),
        capabilities=("state-tree",),
        build=WriteOnlyCacheImplementation,
    ),
]
