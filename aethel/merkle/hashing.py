"""State tree hashing: keys to paths, values to bytes, leaves and nodes to hashes (Spec: E8).

The conventions are those of celestia's ``smt`` (a compressed binary sparse Merkle tree), byte for
byte:

* key bytes = UTF-8 of the key string; value bytes = canonical JSON of the value (E1);
* ``path = SHA-256(key bytes)``, read most significant bit of byte 0 first, 0 = left;
* ``leaf = SHA-256(0x00 || path || SHA-256(value bytes))``;
* ``node = SHA-256(0x01 || left || right)``;
* the empty subtree (and the empty tree's root) is 32 zero bytes, and a subtree holding exactly
  one leaf *is* that leaf (it sits at the highest position where it is alone).

The prefixes 0x00 and 0x01 keep a leaf from ever passing for an inner node and back.
"""

from __future__ import annotations

import hashlib
import unicodedata
from typing import Final

from aethel.encoding import INT_MAX, INT_MIN, canonical_json
from aethel.errors import EncodingError

HASH_SIZE: Final = 32
#: Root of the empty tree and hash of every empty subtree.
EMPTY_HASH: Final = bytes(HASH_SIZE)
#: Number of bits in a path, hence the deepest a leaf can sit and the most siblings a proof has.
PATH_BITS: Final = 256
LEAF_PREFIX: Final = b"\x00"
NODE_PREFIX: Final = b"\x01"
#: Longest key accepted, in UTF-8 bytes: keys are identifiers, and a bound keeps hostile proofs
#: and snapshot chunks small.
MAX_KEY_BYTES: Final = 1024

_sha256 = hashlib.sha256


def compute_key_bytes(key: object, *, rule_id: str = "E8") -> bytes:
    """Return the UTF-8 bytes of ``key`` after checking it is a valid state key.

    A key is a non-empty NFC string of Unicode scalar values (E3) of at most
    :data:`MAX_KEY_BYTES` bytes. Raises :class:`EncodingError` naming ``rule_id`` otherwise.
    """
    if type(key) is not str:
        raise EncodingError(rule_id, f"a state key is a string, got {type(key).__name__}")
    if not key.isascii():
        for ch in key:
            if 0xD800 <= ord(ch) <= 0xDFFF:
                raise EncodingError(rule_id, f"key {key[:40]!r} holds a lone surrogate")
        if not unicodedata.is_normalized("NFC", key):
            raise EncodingError(rule_id, f"key {key[:40]!r} is not NFC-normalized")
    data = key.encode("utf-8")
    if not data or len(data) > MAX_KEY_BYTES:
        raise EncodingError(
            rule_id, f"a state key has 1 to {MAX_KEY_BYTES} UTF-8 bytes, got {len(data)}"
        )
    return data


def encode_value(value: object) -> bytes:
    """Return the value bytes of ``value``: its canonical JSON (E1, E8).

    Integers, the commonest state value, take a fast path with the same result.
    """
    if type(value) is int and INT_MIN <= value <= INT_MAX:
        return str(value).encode("ascii")
    return canonical_json(value)


def compute_path(key: str) -> bytes:
    """Return the 256-bit path of ``key``: SHA-256 of its UTF-8 bytes (E8)."""
    return _sha256(compute_key_bytes(key)).digest()


def compute_value_hash(value_bytes: bytes) -> bytes:
    """Return SHA-256 of the value bytes (canonical JSON) of a leaf."""
    return _sha256(value_bytes).digest()


def compute_leaf_hash(path: bytes, value_hash: bytes) -> bytes:
    """Return ``SHA-256(0x00 || path || value_hash)`` (E8)."""
    return _sha256(LEAF_PREFIX + path + value_hash).digest()


def compute_node_hash(left: bytes, right: bytes) -> bytes:
    """Return ``SHA-256(0x01 || left || right)`` (E8)."""
    return _sha256(NODE_PREFIX + left + right).digest()


def get_path_bit(path: bytes, depth: int) -> int:
    """Return bit ``depth`` of ``path``: most significant bit of byte 0 first; 0 = left."""
    return (path[depth >> 3] >> (7 - (depth & 7))) & 1


def compute_common_prefix_bits(a: bytes, b: bytes) -> int:
    """Return how many leading bits two paths share (256 if equal)."""
    diff = int.from_bytes(a, "big") ^ int.from_bytes(b, "big")
    return PATH_BITS - diff.bit_length()
