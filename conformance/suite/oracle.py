"""Independent oracles the suite computes expected answers with, written from the RFC text.

They share no code with the reference implementation, so a defect copied into both cannot hide.
"""

from __future__ import annotations

import hashlib


def mth(leaves: list[bytes]) -> bytes:
    """Return the RFC 6962 section 2.1 Merkle tree hash of raw entries (recursive definition)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def inclusion_path(m: int, leaves: list[bytes]) -> list[bytes]:
    """Return PATH(m, D[n]) of RFC 6962 section 2.1.1 (leaf to root)."""
    if len(leaves) <= 1:
        return []
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if m < k:
        return [*inclusion_path(m, leaves[:k]), mth(leaves[k:])]
    return [*inclusion_path(m - k, leaves[k:]), mth(leaves[:k])]


def consistency_proof(m: int, leaves: list[bytes]) -> list[bytes]:
    """Return PROOF(m, D[n]) of RFC 6962 section 2.1.2."""

    def subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
        if m == len(d):
            return [] if b else [mth(d)]
        k = 1
        while k * 2 < len(d):
            k *= 2
        if m <= k:
            return [*subproof(m, d[:k], b), mth(d[k:])]
        return [*subproof(m - k, d[k:], False), mth(d[:k])]

    return subproof(m, leaves, True)


# --------------------------------------------------------------------------- state tree (E8, E9)

ZERO = bytes(32)


def _sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def smt_leaf(key: str, value_json: bytes) -> tuple[bytes, bytes]:
    """Return (path, leaf hash) of a key whose value's canonical JSON is ``value_json``."""
    path = _sha(key.encode("utf-8"))
    return path, _sha(b"\x00" + path + _sha(value_json))


def _bit(path: bytes, depth: int) -> int:
    return (path[depth // 8] >> (7 - depth % 8)) & 1


def smt_root(leaves: list[tuple[bytes, bytes]], depth: int = 0) -> bytes:
    """Return the root of the compressed sparse Merkle tree of ``(path, leaf hash)`` pairs.

    Empty subtree: 32 zero bytes; a subtree with one leaf is that leaf; otherwise
    SHA-256(0x01 || left || right) split on path bit ``depth`` (0 = left).
    """
    if not leaves:
        return ZERO
    if len(leaves) == 1:
        return leaves[0][1]
    left = [leaf for leaf in leaves if _bit(leaf[0], depth) == 0]
    right = [leaf for leaf in leaves if _bit(leaf[0], depth) == 1]
    return _sha(b"\x01" + smt_root(left, depth + 1) + smt_root(right, depth + 1))


def smt_proof_root(proof: dict[str, object], value_json: bytes | None) -> bytes | None:
    """Return the root an inclusion or absence proof implies, or None if it contradicts itself.

    ``value_json`` is the canonical JSON of an inclusion proof's value (None for absence).
    """
    key = proof["key"]
    assert isinstance(key, str)
    path = _sha(key.encode("utf-8"))
    siblings = [bytes.fromhex(s) for s in proof["siblings"]]  # type: ignore[attr-defined]
    depth = len(siblings)
    if proof["kind"] == "inclusion":
        assert value_json is not None
        node = _sha(b"\x00" + path + _sha(value_json))
    elif proof["leaf"] is None:
        node = ZERO
    else:
        leaf = proof["leaf"]
        other = bytes.fromhex(leaf["path"])  # type: ignore[index]
        if other == path or any(_bit(other, d) != _bit(path, d) for d in range(depth)):
            return None
        node = _sha(b"\x00" + other + bytes.fromhex(leaf["value_hash"]))  # type: ignore[index]
    for d in range(depth - 1, -1, -1):
        pair = (siblings[d], node) if _bit(path, d) else (node, siblings[d])
        node = _sha(b"\x01" + pair[0] + pair[1])
    return node
