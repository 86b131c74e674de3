"""RFC 6962 Merkle tree hashing of a block's ordered lists, with inclusion and consistency proofs.

Rules (spec/encoding.md):

* E10 a block commits to its ordered proofs and to its ordered transactions with the RFC 6962
  Merkle tree hash (MTH, RFC 6962 section 2.1): leaf hash = SHA-256(0x00 || entry), node hash =
  SHA-256(0x01 || left || right), the list split at the largest power of two strictly below its
  length, and SHA-256 of the empty string for an empty list. An entry of a protocol list is the
  canonical JSON of the object (E1), so :func:`compute_list_root` hashes ``canonical_json(item)``.
* E11 inclusion and consistency proofs are generated and verified with the algorithms of RFC 9162
  sections 2.1.3 and 2.1.4. Verification is strict: a wrong size or index, a root or leaf hash that
  does not match, a missing, extra or modified proof hash, or a proof hash that is not 32 bytes is
  rejected with :class:`MerkleProofError` (rule E11). Verifiers never raise anything else for
  malformed proofs, and never accept them.

Two details the RFCs leave to the caller, settled here as transparency-dev/merkle settles them (its
test vectors are in ``conformance/vectors/external/rfc6962``):

* a consistency proof between equal sizes is the empty list and holds iff the two roots are equal;
  for size 0 the root must also be the empty-tree hash (a tree of size 0 has exactly one root);
* a consistency proof from size 0 to a larger size is rejected: it proves nothing.

Trees here are over leaf hashes (``list[bytes]``), so callers hash entries once (:func:`hash_leaf`)
and reuse them for the root and for every proof.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from aethel.encoding import HASH_SIZE, canonical_json
from aethel.errors import ProtocolViolation, UsageError

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
#: MTH({}) = SHA-256 of the empty string (RFC 6962 section 2.1).
EMPTY_ROOT = hashlib.sha256(b"").digest()
RULE = "E11"


class MerkleProofError(ProtocolViolation):
    """An RFC 6962 inclusion or consistency proof that does not verify (E11)."""


class ProofRequestError(MerkleProofError, UsageError):
    """A proof asked for that does not exist (E11): a leaf index outside the list, or a
    consistency proof from size 0 or beyond the list. Also a :class:`UsageError` for local
    callers."""


# --------------------------------------------------------------------------- hashing (E10)


def hash_leaf(entry: bytes) -> bytes:
    """Return the RFC 6962 leaf hash SHA-256(0x00 || entry) (E10)."""
    return hashlib.sha256(LEAF_PREFIX + entry).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """Return the RFC 6962 node hash SHA-256(0x01 || left || right) (E10)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def _split_point(size: int) -> int:
    """Return the largest power of two strictly below ``size`` (``size`` >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def compute_root_from_leaf_hashes(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return MTH of the list whose leaf hashes are ``leaf_hashes`` (E10).

    Bottom-up: pairing adjacent hashes level by level and carrying an odd last hash up unchanged
    gives the same tree as RFC 6962's recursive split at the largest power of two.
    """
    if not leaf_hashes:
        return EMPTY_ROOT
    level = list(leaf_hashes)
    while len(level) > 1:
        paired = [
            hashlib.sha256(NODE_PREFIX + level[i] + level[i + 1]).digest()
            for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def compute_root(entries: Sequence[bytes]) -> bytes:
    """Return MTH of a list of raw byte entries (E10)."""
    return compute_root_from_leaf_hashes([hash_leaf(entry) for entry in entries])


def compute_list_root(items: Sequence[object]) -> bytes:
    """Return MTH of a protocol list: each leaf is the canonical JSON of one item (E10, E1)."""
    return compute_root_from_leaf_hashes([hash_leaf(canonical_json(item)) for item in items])


# --------------------------------------------------------------------------- proofs (E11)


def _check_size(size: object, name: str) -> int:
    if type(size) is not int or size < 0:
        raise ProofRequestError(RULE, f"{name} must be a non-negative int, got {size!r}")
    return size


def get_inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """Return the audit path of leaf ``index`` in the tree of ``leaf_hashes`` (RFC 9162 2.1.3.1)."""
    _check_size(index, "index")
    if index >= len(leaf_hashes):
        raise ProofRequestError(
            RULE, f"leaf index {index} is outside a tree of size {len(leaf_hashes)}"
        )
    path: list[bytes] = []
    lo, hi = 0, len(leaf_hashes)
    # Walk down from the root; each step records the sibling subtree's root (RFC order is
    # leaf-to-root, so the list is reversed at the end).
    while hi - lo > 1:
        k = _split_point(hi - lo)
        if index - lo < k:
            path.append(compute_root_from_leaf_hashes(leaf_hashes[lo + k : hi]))
            hi = lo + k
        else:
            path.append(compute_root_from_leaf_hashes(leaf_hashes[lo : lo + k]))
            lo = lo + k
    path.reverse()
    return path


def get_consistency_proof(leaf_hashes: Sequence[bytes], size1: int) -> list[bytes]:
    """Return the proof that the first ``size1`` leaves are a prefix of the tree (RFC 9162 2.1.4.1).

    ``size1`` must satisfy 0 < size1 <= len(leaf_hashes); equal sizes give the empty proof. A
    proof from size 0 proves nothing and is refused (:class:`ProofRequestError`, E11).
    """
    _check_size(size1, "size1")
    if not 0 < size1 <= len(leaf_hashes):
        raise ProofRequestError(RULE, f"size1 must be in [1, {len(leaf_hashes)}], got {size1}")
    return _subproof(size1, leaf_hashes, True)


def _subproof(m: int, leaves: Sequence[bytes], complete: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of RFC 9162 section 2.1.4.1."""
    n = len(leaves)
    if m == n:
        return [] if complete else [compute_root_from_leaf_hashes(leaves)]
    k = _split_point(n)
    if m <= k:
        return [*_subproof(m, leaves[:k], complete), compute_root_from_leaf_hashes(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], False), compute_root_from_leaf_hashes(leaves[:k])]


def _check_hashes(proof: object) -> list[bytes]:
    if proof is None:
        return []
    if not isinstance(proof, list | tuple):
        raise MerkleProofError(RULE, f"a proof is a list of hashes, got {type(proof).__name__}")
    for position, item in enumerate(proof):
        if not isinstance(item, bytes) or len(item) != HASH_SIZE:
            size = len(item) if isinstance(item, bytes) else type(item).__name__
            raise MerkleProofError(RULE, f"proof hash {position} is not {HASH_SIZE} bytes ({size})")
    return list(proof)


def _check_index(value: object, name: str) -> int:
    if type(value) is not int or value < 0:
        raise MerkleProofError(RULE, f"{name} must be a non-negative integer, got {value!r}")
    return value


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes] | None, root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``tree_size`` with ``root``.

    Implements RFC 9162 section 2.1.3.2. ``proof`` may be None for an empty path. Raises
    :class:`MerkleProofError` (E11) unless the proof verifies.
    """
    index = _check_index(index, "leaf index")
    tree_size = _check_index(tree_size, "tree size")
    path = _check_hashes(proof)
    if not isinstance(leaf_hash, bytes) or len(leaf_hash) != HASH_SIZE:
        raise MerkleProofError(RULE, f"leaf hash is not {HASH_SIZE} bytes")
    if index >= tree_size:
        raise MerkleProofError(RULE, f"leaf index {index} is outside a tree of size {tree_size}")
    fn, sn = index, tree_size - 1
    r = leaf_hash
    for sibling in path:
        if sn == 0:
            raise MerkleProofError(RULE, "proof has more hashes than the tree has levels")
        if fn & 1 or fn == sn:
            r = hash_children(sibling, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hash_children(r, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise MerkleProofError(RULE, "proof has fewer hashes than the tree has levels")
    if r != root:
        raise MerkleProofError(RULE, "inclusion proof does not lead to the given root")


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes] | None, root1: bytes, root2: bytes
) -> None:
    """Check that the tree of ``size1``/``root1`` is a prefix of the tree of ``size2``/``root2``.

    Implements RFC 9162 section 2.1.4.2, with the equal-size and size-0 rules of this module's
    docstring. ``proof`` may be None for an empty proof. Raises :class:`MerkleProofError` (E11)
    unless the proof verifies.
    """
    size1 = _check_index(size1, "size1")
    size2 = _check_index(size2, "size2")
    path = _check_hashes(proof)
    if size2 < size1:
        raise MerkleProofError(RULE, f"size2 {size2} is smaller than size1 {size1}")
    if size1 == size2:
        if path:
            raise MerkleProofError(RULE, "equal sizes need an empty consistency proof")
        if root1 != root2:
            raise MerkleProofError(RULE, "equal sizes but different roots")
        if size1 == 0 and root1 != EMPTY_ROOT:
            raise MerkleProofError(RULE, "the root of an empty tree is SHA-256 of the empty string")
        return
    if size1 == 0:
        raise MerkleProofError(RULE, "a consistency proof from the empty tree proves nothing")
    if not path:
        raise MerkleProofError(RULE, "consistency proof is empty")
    # RFC 9162 2.1.4.2 step 2: when size1 is a power of two, root1 is the first subtree root.
    if size1 & (size1 - 1) == 0:
        path = [root1, *path]
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise MerkleProofError(RULE, "consistency proof has extra hashes")
        if fn & 1 or fn == sn:
            fr = hash_children(c, fr)
            sr = hash_children(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = hash_children(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise MerkleProofError(RULE, "consistency proof is missing hashes")
    if fr != root1:
        raise MerkleProofError(RULE, "consistency proof does not lead to root1")
    if sr != root2:
        raise MerkleProofError(RULE, "consistency proof does not lead to root2")


def is_valid_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes] | None, root: bytes
) -> bool:
    """Return whether :func:`verify_inclusion` accepts (never raises for malformed input)."""
    try:
        verify_inclusion(leaf_hash, index, tree_size, proof, root)
    except MerkleProofError:
        return False
    return True


def is_valid_consistency(
    size1: int, size2: int, proof: Sequence[bytes] | None, root1: bytes, root2: bytes
) -> bool:
    """Return whether :func:`verify_consistency` accepts (never raises for malformed input)."""
    try:
        verify_consistency(size1, size2, proof, root1, root2)
    except MerkleProofError:
        return False
    return True
