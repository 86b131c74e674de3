"""The state tree: a compressed sparse Merkle tree, its proofs, node store and node cache.

Spec: E8 (hashing, celestia smt compatible), E9 (strict proofs), N2 (logarithmic proofs),
T22.1a (batch updates), T22.1b (LRU node cache). See :mod:`aethel.merkle.hashing` for the exact
conventions and :mod:`aethel.merkle.proofs` for the proof format.
"""

from aethel.merkle.batch import DELETE, BatchStats
from aethel.merkle.cache import DEFAULT_CACHE_SIZE, CacheStats, NodeCache
from aethel.merkle.errors import MissingNodeError, ProofFormatError, StoreCorruptionError
from aethel.merkle.hashing import (
    EMPTY_HASH,
    MAX_KEY_BYTES,
    compute_leaf_hash,
    compute_node_hash,
    compute_path,
    encode_value,
)
from aethel.merkle.nodes import MemoryNodeStore, Node, NodeStore, OverlayNodeStore, Ref
from aethel.merkle.proofs import (
    AbsenceProof,
    InclusionProof,
    Proof,
    compute_proof_root,
    parse_proof,
    proof_from_dict,
    verify_proof,
)
from aethel.merkle.tree import MAX_PREFIX_BITS, StateTree, SubtreeRoot

__all__ = [
    "DEFAULT_CACHE_SIZE",
    "DELETE",
    "EMPTY_HASH",
    "MAX_KEY_BYTES",
    "MAX_PREFIX_BITS",
    "AbsenceProof",
    "BatchStats",
    "CacheStats",
    "InclusionProof",
    "MemoryNodeStore",
    "MissingNodeError",
    "Node",
    "NodeCache",
    "NodeStore",
    "OverlayNodeStore",
    "Proof",
    "ProofFormatError",
    "Ref",
    "StateTree",
    "StoreCorruptionError",
    "SubtreeRoot",
    "compute_leaf_hash",
    "compute_node_hash",
    "compute_path",
    "compute_proof_root",
    "encode_value",
    "parse_proof",
    "proof_from_dict",
    "verify_proof",
]
