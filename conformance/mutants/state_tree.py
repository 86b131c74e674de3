"""Mutants of the state tree."""

from __future__ import annotations

import hashlib
from typing import Any

from aethel import encoding, merkle
from aethel.merkle.hashing import get_path_bit
from conformance.adapters.reference import (
    ReferenceImplementation,
    ReferenceStateTree,
    ReferenceTree,
    rejecting,
)
from conformance.mutants import Mutant


def _plain_root(leaves: list[tuple[bytes, bytes]], depth: int = 0) -> bytes:
    """The compressed tree root hashed without the 0x00 / 0x01 domain prefixes."""
    if not leaves:
        return merkle.EMPTY_HASH
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
        parsed = merkle.proof_from_dict(proof)
        trusted = encoding.parse_hex(root, length=32, rule_id="E9")
        path = merkle.compute_path(parsed.key)
        if isinstance(parsed, merkle.AbsenceProof) and parsed.leaf and parsed.leaf[0] == path:
            # The missing check: the other leaf must sit on another path. Fold up as for any leaf.
            node = merkle.compute_leaf_hash(parsed.leaf[0], parsed.leaf[1])
            for depth in range(len(parsed.siblings) - 1, -1, -1):
                sibling = parsed.siblings[depth]
                if get_path_bit(path, depth):
                    node = merkle.compute_node_hash(sibling, node)
                else:
                    node = merkle.compute_node_hash(node, sibling)
            return parsed.root == trusted and node == trusted
        return merkle.verify_proof(parsed, trusted)


class AbsenceForPresentKeyImplementation(ReferenceImplementation):
    name = "mutant-absence-for-present-key"

    def make_state_tree(self) -> object:
        return AbsenceForPresentKeyStateTree()


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
]
