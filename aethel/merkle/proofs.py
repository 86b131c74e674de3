"""Inclusion and absence proofs of the state tree, their strict JSON form, and verification.

Spec: E8 (hashing), E9 (strict parsing; key and root bound), N2 (size grows with log n).

A proof speaks for one key and one root. ``siblings[i]`` is the hash on the other side of the
key's path at depth ``i + 1`` (across path bit ``i``), listed from the root down, so a proof of a
leaf at depth ``d`` has ``d`` siblings (at most 256). Empty siblings are 32 zero bytes.

* Inclusion: the key's leaf, with ``value``, sits at depth ``len(siblings)``.
* Absence: at depth ``len(siblings)`` on the key's path lies either nothing (``leaf`` is null)
  or another key's leaf (``leaf`` gives its path and value hash; its path shares the first
  ``len(siblings)`` bits with the key's path and differs from it).

JSON form (canonical JSON, E1; hashes as lowercase hex, E5), exactly these members::

    {"key": K, "kind": "inclusion", "root": R, "siblings": [S...], "value": V}
    {"key": K, "kind": "absence", "leaf": null | {"path": P, "value_hash": H},
     "root": R, "siblings": [S...]}

:func:`parse_proof` accepts nothing else (no extra or missing member, exact 32-byte hashes, at
most 256 siblings, a valid key) and raises :class:`ProofFormatError` naming E9.
:func:`verify_proof` recomputes the root from the key, the leaf and the siblings and accepts
only if it equals both the proof's root and the root the caller trusts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

from aethel.encoding import JSONValue, canonical_json, parse_canonical_json, parse_hex
from aethel.errors import EncodingError, UsageError
from aethel.merkle.errors import ProofFormatError
from aethel.merkle.hashing import (
    EMPTY_HASH,
    HASH_SIZE,
    LEAF_PREFIX,
    NODE_PREFIX,
    PATH_BITS,
    compute_common_prefix_bits,
    compute_key_bytes,
)

#: Largest serialized proof accepted (a value may be large, but not unbounded).
MAX_PROOF_BYTES: Final = 1 << 20
_RULE = "E9"
_INCLUSION_MEMBERS = frozenset({"key", "kind", "root", "siblings", "value"})
_ABSENCE_MEMBERS = frozenset({"key", "kind", "leaf", "root", "siblings"})
_LEAF_MEMBERS = frozenset({"path", "value_hash"})

_sha256 = hashlib.sha256


def _check_hash(name: str, value: object) -> None:
    if type(value) is not bytes or len(value) != HASH_SIZE:
        raise ProofFormatError(_RULE, f"{name} must be exactly {HASH_SIZE} bytes")


def _check_common(key: object, root: object, siblings: object) -> None:
    try:
        compute_key_bytes(key, rule_id=_RULE)
    except EncodingError as exc:
        raise ProofFormatError(_RULE, exc.detail) from None
    _check_hash("root", root)
    if type(siblings) is not tuple:
        raise ProofFormatError(_RULE, "siblings must be a tuple of hashes")
    if len(siblings) > PATH_BITS:
        raise ProofFormatError(_RULE, f"{len(siblings)} siblings; at most {PATH_BITS}")
    for index, sibling in enumerate(siblings):
        _check_hash(f"sibling {index}", sibling)


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """Proof that ``key`` holds the value whose canonical JSON is ``value_bytes`` under ``root``."""

    key: str
    root: bytes
    siblings: tuple[bytes, ...]
    value_bytes: bytes

    def __post_init__(self) -> None:
        _check_common(self.key, self.root, self.siblings)
        if type(self.value_bytes) is not bytes:
            raise ProofFormatError(_RULE, "value_bytes must be bytes")
        try:
            parse_canonical_json(self.value_bytes, max_size=MAX_PROOF_BYTES)
        except EncodingError as exc:
            raise ProofFormatError(_RULE, f"value is not canonical JSON: {exc}") from None

    @property
    def value(self) -> Any:
        """The proven value (a fresh copy)."""
        return parse_canonical_json(self.value_bytes)

    def to_dict(self) -> dict[str, JSONValue]:
        """Return the JSON object of the proof (see the module docstring)."""
        return {
            "key": self.key,
            "kind": "inclusion",
            "root": self.root.hex(),
            "siblings": [sibling.hex() for sibling in self.siblings],
            "value": parse_canonical_json(self.value_bytes),
        }

    def to_json(self) -> bytes:
        """Return the canonical JSON bytes of the proof."""
        return canonical_json(self.to_dict())


@dataclass(frozen=True, slots=True)
class AbsenceProof:
    """Proof that ``key`` is not in the tree of ``root``.

    ``leaf`` is ``(path, value_hash)`` of the other leaf found where the key's leaf would be, or
    None if that slot is empty.
    """

    key: str
    root: bytes
    siblings: tuple[bytes, ...]
    leaf: tuple[bytes, bytes] | None

    def __post_init__(self) -> None:
        _check_common(self.key, self.root, self.siblings)
        if self.leaf is not None:
            if type(self.leaf) is not tuple or len(self.leaf) != 2:
                raise ProofFormatError(_RULE, "leaf must be a (path, value_hash) pair or None")
            _check_hash("leaf path", self.leaf[0])
            _check_hash("leaf value hash", self.leaf[1])

    def to_dict(self) -> dict[str, JSONValue]:
        """Return the JSON object of the proof (see the module docstring)."""
        leaf: JSONValue = None
        if self.leaf is not None:
            leaf = {"path": self.leaf[0].hex(), "value_hash": self.leaf[1].hex()}
        return {
            "key": self.key,
            "kind": "absence",
            "leaf": leaf,
            "root": self.root.hex(),
            "siblings": [sibling.hex() for sibling in self.siblings],
        }

    def to_json(self) -> bytes:
        """Return the canonical JSON bytes of the proof."""
        return canonical_json(self.to_dict())


Proof: TypeAlias = InclusionProof | AbsenceProof


def _require_members(obj: Mapping[str, object], expected: frozenset[str], what: str) -> None:
    members = set(obj)
    if members != expected:
        extra = sorted(members - expected)
        missing = sorted(expected - members)
        raise ProofFormatError(_RULE, f"{what}: extra members {extra}, missing {missing}")


def _parse_hash(value: object, name: str) -> bytes:
    try:
        return parse_hex(value, length=HASH_SIZE, rule_id=_RULE)
    except EncodingError as exc:
        raise ProofFormatError(_RULE, f"{name}: {exc.detail}") from None


def proof_from_dict(obj: object) -> Proof:
    """Return the proof a parsed JSON object denotes, strictly (E9).

    Use this when a proof arrives inside a larger canonical JSON message. Raises
    :class:`ProofFormatError` for anything but the exact form in the module docstring.
    """
    if not isinstance(obj, dict):
        raise ProofFormatError(_RULE, f"a proof is a JSON object, got {type(obj).__name__}")
    kind = obj.get("kind")
    if kind == "inclusion":
        _require_members(obj, _INCLUSION_MEMBERS, "inclusion proof")
    elif kind == "absence":
        _require_members(obj, _ABSENCE_MEMBERS, "absence proof")
    else:
        raise ProofFormatError(_RULE, f"proof kind must be 'inclusion' or 'absence', got {kind!r}")
    siblings = obj["siblings"]
    if not isinstance(siblings, list):
        raise ProofFormatError(_RULE, "siblings must be a list")
    if len(siblings) > PATH_BITS:
        raise ProofFormatError(_RULE, f"{len(siblings)} siblings; at most {PATH_BITS}")
    parsed = tuple(_parse_hash(item, f"sibling {i}") for i, item in enumerate(siblings))
    root = _parse_hash(obj["root"], "root")
    key = obj["key"]
    if kind == "inclusion":
        try:
            value_bytes = canonical_json(obj["value"])
        except EncodingError as exc:
            raise ProofFormatError(_RULE, f"value has no canonical form: {exc}") from None
        return InclusionProof(key, root, parsed, value_bytes)
    leaf = obj["leaf"]
    if leaf is None:
        return AbsenceProof(key, root, parsed, None)
    if not isinstance(leaf, dict):
        raise ProofFormatError(_RULE, "leaf must be null or an object")
    _require_members(leaf, _LEAF_MEMBERS, "absence proof leaf")
    other = (_parse_hash(leaf["path"], "leaf path"), _parse_hash(leaf["value_hash"], "leaf hash"))
    return AbsenceProof(key, root, parsed, other)


def parse_proof(data: bytes) -> Proof:
    """Parse a proof from canonical JSON bytes, strictly (E9).

    Raises :class:`ProofFormatError` (rule E9) for non-canonical JSON, any extra or missing
    member, a hash that is not exactly 32 bytes, more than 256 siblings, or an invalid key.
    """
    try:
        obj = parse_canonical_json(data, max_size=MAX_PROOF_BYTES)
    except EncodingError as exc:
        raise ProofFormatError(_RULE, f"a proof must be canonical JSON: {exc}") from None
    return proof_from_dict(obj)


def compute_proof_root(proof: Proof) -> bytes | None:
    """Return the root ``proof`` implies, or None if it is self-contradictory.

    An absence proof contradicts itself when its other leaf has the key's own path or does not
    share the key's path down to the depth where it claims to sit.
    """
    key_bytes = proof.key.encode("utf-8")
    path = _sha256(key_bytes).digest()
    siblings = proof.siblings
    depth = len(siblings)
    if isinstance(proof, InclusionProof):
        value_hash = _sha256(proof.value_bytes).digest()
        current = _sha256(LEAF_PREFIX + path + value_hash).digest()
    elif proof.leaf is None:
        current = EMPTY_HASH
    else:
        other_path, other_value_hash = proof.leaf
        if other_path == path or compute_common_prefix_bits(other_path, path) < depth:
            return None
        current = _sha256(LEAF_PREFIX + other_path + other_value_hash).digest()
    bits = int.from_bytes(path, "big")
    for index in range(depth - 1, -1, -1):
        if (bits >> (PATH_BITS - 1 - index)) & 1:
            current = _sha256(NODE_PREFIX + siblings[index] + current).digest()
        else:
            current = _sha256(NODE_PREFIX + current + siblings[index]).digest()
    return current


def verify_proof(proof: Proof | bytes, root: bytes) -> bool:
    """Return True iff ``proof`` proves its claim about its key under ``root`` (E8, E9).

    ``proof`` is a proof object or its canonical JSON bytes; bytes are parsed strictly and a
    malformed proof raises :class:`ProofFormatError` (E9). A well-formed proof that does not
    hold (other root, other key, altered value or sibling, wrong depth) returns False.
    """
    if isinstance(proof, bytes | bytearray | memoryview):
        proof = parse_proof(bytes(proof))
    elif not isinstance(proof, InclusionProof | AbsenceProof):
        raise UsageError(f"verify_proof expects a proof or its JSON bytes, got {type(proof)}")
    if type(root) is not bytes or len(root) != HASH_SIZE:
        raise UsageError("the trusted root must be exactly 32 bytes")
    if proof.root != root:
        return False
    return compute_proof_root(proof) == root
