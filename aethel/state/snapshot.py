"""Snapshots of the state tree: a manifest of subtree roots and chunks by key-path prefix.

Spec: R3.1 (a snapshot is verified against a root a commit certificate vouches for), R3.5
(chunks may come from several peers; each is verified on arrival).

A snapshot of root R with ``k`` prefix bits has ``2**k`` parts: part ``p`` holds every key whose
path (SHA-256 of the key) starts with the ``k`` bits of ``p``. Its *subtree root* is the root of
the compressed tree of those keys alone, placed at depth ``k`` (empty hash, one leaf's hash, or
an inner node).

* The **manifest** lists the ``2**k`` subtree roots; for a part holding a single key it also
  gives that leaf's path and value hash, so the receiver knows the part is one leaf (which moves
  up the tree, E8). Joining the roots level by level must give R: then every subtree root is
  bound to R.
* A **chunk** lists the keys and values of one part, in path order. Rebuilding its subtree must
  give the manifest's subtree root: then the chunk is exactly the part of the state under R.

Wire forms (canonical JSON, hashes as lowercase hex), exactly these members::

    manifest: {"entries": [{"hash": H, "leaf": null | {"path": P, "value_hash": V}}, ...],
               "prefix_bits": k, "root": R}
    chunk:    {"entries": [[key, value], ...], "prefix": p, "prefix_bits": k, "root": R}
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from aethel.encoding import (
    MAX_DEPTH,
    JSONValue,
    canonical_json,
    parse_canonical_json,
    parse_hex,
    too_deep_for_the_decoder,
)
from aethel.errors import EncodingError, UsageError
from aethel.merkle.build import Item, build_subtree
from aethel.merkle.hashing import (
    EMPTY_HASH,
    HASH_SIZE,
    LEAF_PREFIX,
    MAX_KEY_BYTES,
    NODE_PREFIX,
    compute_key_bytes,
    encode_value,
)
from aethel.merkle.nodes import Node, Ref
from aethel.merkle.tree import MAX_PREFIX_BITS, StateTree
from aethel.state.errors import SyncError

#: Largest manifest or chunk accepted from a peer.
MAX_MESSAGE_BYTES: Final = 64 << 20
_MANIFEST_MEMBERS = frozenset({"entries", "prefix_bits", "root"})
_CHUNK_MEMBERS = frozenset({"entries", "prefix", "prefix_bits", "root"})
_ENTRY_MEMBERS = frozenset({"hash", "leaf"})
_LEAF_MEMBERS = frozenset({"path", "value_hash"})
_sha256 = hashlib.sha256
#: Lead bytes of 4-byte UTF-8 sequences: the characters beyond the BMP.
_NON_BMP = re.compile(rb"[\xf0-\xf4]")


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """The subtree root of one prefix, and its leaf ``(path, value_hash)`` if it is one leaf."""

    hash: bytes
    leaf: tuple[bytes, bytes] | None


@dataclass(frozen=True, slots=True)
class Manifest:
    """The ``2**prefix_bits`` subtree roots of the state with root ``root``."""

    root: bytes
    prefix_bits: int
    entries: tuple[ManifestEntry, ...]

    def get_needed_prefixes(self) -> list[int]:
        """Return the prefixes whose part is not empty (the chunks to fetch)."""
        return [i for i, entry in enumerate(self.entries) if entry.hash != EMPTY_HASH]

    def to_json(self) -> bytes:
        """Return the canonical JSON wire form."""
        entries: list[JSONValue] = []
        for entry in self.entries:
            leaf: JSONValue = None
            if entry.leaf is not None:
                leaf = {"path": entry.leaf[0].hex(), "value_hash": entry.leaf[1].hex()}
            entries.append({"hash": entry.hash.hex(), "leaf": leaf})
        return canonical_json(
            {"entries": entries, "prefix_bits": self.prefix_bits, "root": self.root.hex()}
        )


@dataclass(frozen=True, slots=True)
class VerifiedChunk:
    """A chunk that matched its manifest entry: its subtree, in memory, and its key count."""

    prefix: int
    subtree: Ref
    keys: int


def _check_prefix_bits(prefix_bits: int) -> None:
    if type(prefix_bits) is not int or not 0 <= prefix_bits <= MAX_PREFIX_BITS:
        raise UsageError(f"prefix_bits must be an int in [0, {MAX_PREFIX_BITS}]")


def build_manifest(tree: StateTree, prefix_bits: int) -> Manifest:
    """Return the manifest of ``tree`` with ``prefix_bits`` prefix bits."""
    _check_prefix_bits(prefix_bits)
    entries = tuple(
        ManifestEntry(part.hash, part.leaf) for part in tree.get_subtree_roots(prefix_bits)
    )
    return Manifest(tree.root(), prefix_bits, entries)


def build_chunk(tree: StateTree, prefix_bits: int, prefix: int) -> bytes:
    """Return the chunk (canonical JSON) of part ``prefix`` of ``tree``.

    Assembled from canonical pieces: the tree holds each value's canonical bytes, and keys are
    valid state keys (NFC, no lone surrogates), whose JSON string form is canonical.
    """
    entries = b",".join(
        b"[" + json.dumps(leaf[3], ensure_ascii=False).encode("utf-8") + b"," + leaf[4] + b"]"
        for leaf in tree.iter_leaves(prefix_bits, prefix)
    )
    return b"".join(
        (
            b'{"entries":[',
            entries,
            b'],"prefix":',
            str(prefix).encode("ascii"),
            b',"prefix_bits":',
            str(prefix_bits).encode("ascii"),
            b',"root":"',
            tree.root().hex().encode("ascii"),
            b'"}',
        )
    )


def compute_manifest_root(entries: Sequence[ManifestEntry]) -> bytes:
    """Join the subtree roots level by level (a lone leaf moves up, E8) and return the root."""
    count = len(entries)
    if count == 0 or count & (count - 1):
        raise UsageError("a manifest has a power-of-two number of entries")
    level = [(entry.hash, entry.leaf is not None) for entry in entries]
    while len(level) > 1:
        parents = []
        for index in range(0, len(level), 2):
            (left, left_leaf), (right, right_leaf) = level[index], level[index + 1]
            if left == EMPTY_HASH and (right == EMPTY_HASH or right_leaf):
                parents.append((right, right_leaf))
            elif right == EMPTY_HASH and left_leaf:
                parents.append((left, True))
            else:
                parents.append((_sha256(NODE_PREFIX + left + right).digest(), False))
        level = parents
    return level[0][0]


def _fail(rule_id: str, message: str) -> SyncError:
    return SyncError(rule_id, message)


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("duplicate member name")
    return obj


def _reject(text: str) -> Any:
    raise ValueError(f"{text} is not an integer")


def _loads_canonical(data: bytes) -> Any:
    """Parse canonical JSON; a fast path for large messages, else :func:`parse_canonical_json`.

    Without characters beyond the BMP, Python's member order is RFC 8785's (UTF-16), so the
    message is canonical exactly when re-encoding it gives the same bytes. What re-encoding does
    not check (NFC strings, the integer range, nesting depth) the chunk check does per entry:
    keys through ``compute_key_bytes``, values through ``encode_value`` (E1-E4 in full). Anything
    the fast path does not accept goes to the strict parser, which names the broken rule.
    """
    fast = len(data) <= MAX_MESSAGE_BYTES and not too_deep_for_the_decoder(data, MAX_DEPTH)
    if fast and (data.isascii() or not _NON_BMP.search(data)):
        try:
            obj = json.loads(
                data.decode("utf-8"),
                object_pairs_hook=_reject_duplicates,
                parse_float=_reject,
                parse_constant=_reject,
            )
            again = json.dumps(
                obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
            ).encode("utf-8")
        except (ValueError, RecursionError):  # UnicodeError and JSONDecodeError included
            pass
        else:
            if again == data:
                return obj
    return parse_canonical_json(data, max_size=MAX_MESSAGE_BYTES)


def _parse(data: object, members: frozenset[str], what: str, rule_id: str) -> dict[str, Any]:
    if not isinstance(data, bytes):
        raise _fail(rule_id, f"{what} must be bytes, got {type(data).__name__}")
    try:
        obj = _loads_canonical(data)
    except EncodingError as exc:
        raise _fail(rule_id, f"{what} is not canonical JSON: {exc}") from None
    if not isinstance(obj, dict) or set(obj) != members:
        raise _fail(rule_id, f"{what} must be an object with exactly {sorted(members)}")
    return obj


def _hash(value: object, what: str, rule_id: str) -> bytes:
    try:
        return parse_hex(value, length=HASH_SIZE, rule_id=rule_id)
    except EncodingError as exc:
        raise _fail(rule_id, f"{what}: {exc.detail}") from None


def parse_manifest(data: bytes, trusted_root: bytes, prefix_bits: int) -> Manifest:
    """Parse a manifest strictly and check it against ``trusted_root`` (R3.1).

    Raises :class:`SyncError` (R3.1) for a malformed manifest, one for another root or prefix
    length, an inconsistent leaf entry, or entries that do not join to ``trusted_root``.
    """
    _check_prefix_bits(prefix_bits)
    rule = "R3.1"
    obj = _parse(data, _MANIFEST_MEMBERS, "manifest", rule)
    if _hash(obj["root"], "manifest root", rule) != trusted_root:
        raise _fail(rule, "the manifest is for another root")
    if obj["prefix_bits"] != prefix_bits or type(obj["prefix_bits"]) is not int:
        raise _fail(rule, f"the manifest has {obj['prefix_bits']!r} prefix bits, not {prefix_bits}")
    raw = obj["entries"]
    if not isinstance(raw, list) or len(raw) != 1 << prefix_bits:
        raise _fail(rule, f"the manifest must list {1 << prefix_bits} entries")
    entries = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or set(item) != _ENTRY_MEMBERS:
            raise _fail(rule, f"manifest entry {index} must have exactly {sorted(_ENTRY_MEMBERS)}")
        subtree = _hash(item["hash"], f"entry {index} hash", rule)
        leaf = item["leaf"]
        if leaf is None:
            entries.append(ManifestEntry(subtree, None))
            continue
        if not isinstance(leaf, dict) or set(leaf) != _LEAF_MEMBERS:
            raise _fail(
                rule, f"manifest entry {index} leaf must have exactly {sorted(_LEAF_MEMBERS)}"
            )
        path = _hash(leaf["path"], f"entry {index} leaf path", rule)
        value_hash = _hash(leaf["value_hash"], f"entry {index} leaf value hash", rule)
        if _sha256(LEAF_PREFIX + path + value_hash).digest() != subtree:
            raise _fail(rule, f"manifest entry {index}: the leaf does not hash to the entry")
        if int.from_bytes(path, "big") >> (256 - prefix_bits) != index:
            raise _fail(rule, f"manifest entry {index}: the leaf's path is under another prefix")
        entries.append(ManifestEntry(subtree, (path, value_hash)))
    if compute_manifest_root(entries) != trusted_root:
        raise _fail(rule, "the manifest's subtree roots do not join to the trusted root")
    return Manifest(trusted_root, prefix_bits, tuple(entries))


def verify_chunk(data: bytes, manifest: Manifest, prefix: int) -> VerifiedChunk:
    """Parse chunk ``prefix`` strictly and check it rebuilds its manifest entry (R3.5).

    Raises :class:`SyncError` (R3.5) for a malformed chunk, one for another root or part, keys
    outside the part, out of path order or repeated, or any key or value that changes the
    subtree root (a missing, extra or altered entry).
    """
    rule = "R3.5"
    obj = _parse(data, _CHUNK_MEMBERS, f"chunk {prefix}", rule)
    if _hash(obj["root"], "chunk root", rule) != manifest.root:
        raise _fail(rule, f"chunk {prefix} is for another root")
    part = (obj["prefix_bits"], obj["prefix"])
    if part != (manifest.prefix_bits, prefix) or {type(n) for n in part} != {int}:  # not bools
        raise _fail(rule, f"chunk {prefix} is another part ({obj['prefix_bits']}, {obj['prefix']})")
    raw = obj["entries"]
    if not isinstance(raw, list):
        raise _fail(rule, f"chunk {prefix} entries must be a list")
    prefix_bits = manifest.prefix_bits
    shift = 24 - prefix_bits  # prefix_bits <= 16: the part is in the first 3 path bytes
    sha256 = _sha256
    items: list[Item] = []
    append = items.append
    previous = b""
    for index, pair in enumerate(raw):
        if type(pair) is not list or len(pair) != 2:
            raise _fail(rule, f"chunk {prefix} entry {index} must be a [key, value] pair")
        key, value = pair
        if type(key) is str and key.isascii() and 0 < len(key) <= MAX_KEY_BYTES:
            path = sha256(key.encode("ascii")).digest()  # the fast path of compute_key_bytes
        else:
            try:
                path = sha256(compute_key_bytes(key, rule_id=rule)).digest()
            except EncodingError as exc:
                raise _fail(rule, f"chunk {prefix} entry {index}: {exc.detail}") from None
        if path <= previous:
            raise _fail(rule, f"chunk {prefix} entry {index} is out of path order or repeated")
        if int.from_bytes(path[:3], "big") >> shift != prefix:
            raise _fail(rule, f"chunk {prefix} entry {index} ({key[:40]!r}) is not in this part")
        previous = path
        value_bytes = encode_value(value)  # canonical: the whole chunk parsed as canonical
        value_hash = sha256(value_bytes).digest()
        leaf_hash = sha256(LEAF_PREFIX + path + value_hash).digest()
        append((path, (leaf_hash, path, value_hash, key, value_bytes), True))
    added: list[Node] = []
    subtree = build_subtree(items, 0, len(items), prefix_bits, added)
    got = EMPTY_HASH if subtree is None else subtree[0]
    if got != manifest.entries[prefix].hash:
        raise _fail(rule, f"chunk {prefix} does not rebuild its subtree root in the manifest")
    return VerifiedChunk(prefix, subtree, len(items))
