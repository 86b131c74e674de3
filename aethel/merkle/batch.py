"""Batch preparation for the state tree: validate, hash and sort writes (T22.1a).

A batch is validated completely before the tree changes: keys (E8, E3) and values (E1-E3).
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Final

from aethel.encoding import INT_MAX, INT_MIN
from aethel.merkle.build import Op
from aethel.merkle.hashing import LEAF_PREFIX, MAX_KEY_BYTES, compute_key_bytes, encode_value

_sha256 = hashlib.sha256
_path_of = itemgetter(0)
#: Batches at least this large run with the cyclic garbage collector paused: they allocate
#: millions of tuples that can hold no cycles, and each automatic collection would scan them all.
_GC_PAUSE_THRESHOLD: Final = 10_000


class _Delete:
    __slots__ = ()

    def __repr__(self) -> str:
        return "DELETE"


#: Pass as a value to :meth:`StateTree.batch_update` to delete the key.
DELETE: Final = _Delete()


@dataclass(frozen=True, slots=True)
class BatchStats:
    """What one batch update cost: distinct keys, hashes computed and nodes visited."""

    keys: int
    leaves_hashed: int
    nodes_hashed: int
    nodes_visited: int


@contextmanager
def paused_gc(size: int | None = None) -> Iterator[None]:
    """Pause the cyclic garbage collector during a bulk operation (``size`` None: always).

    With ``size``, only batches of at least 10,000 writes pause it. The pause defers
    collections; it frees nothing less and loses nothing.
    """
    if (size is not None and size < _GC_PAUSE_THRESHOLD) or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def prepare_ops(latest: Mapping[str, Any]) -> list[Op]:
    """Validate and hash every write; return the ops sorted by path."""
    ops: list[Op] = []
    append = ops.append
    sha256 = _sha256
    for key, value in latest.items():
        if type(key) is str and key.isascii() and 0 < len(key) <= MAX_KEY_BYTES:
            path = sha256(key.encode("ascii")).digest()  # the fast path of compute_key_bytes
        else:
            path = sha256(compute_key_bytes(key)).digest()
        if value is DELETE:
            append((path, None, True))
            continue
        if type(value) is int and INT_MIN <= value <= INT_MAX:
            value_bytes = str(value).encode("ascii")  # the fast path of encode_value
        else:
            value_bytes = encode_value(value)
        value_hash = sha256(value_bytes).digest()
        leaf_hash = sha256(LEAF_PREFIX + path + value_hash).digest()
        append((path, (leaf_hash, path, value_hash, key, value_bytes), True))
    ops.sort(key=_path_of)
    return ops
