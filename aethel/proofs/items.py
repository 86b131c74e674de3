"""A block's transactions and proofs, decoded once per process and passed on typed.

Spec: E12 (strict decoding of each item), E6 (a block's digest covers both lists). A block
carries its items as JSON objects; the limits check (duplicate proof ids), block validation,
execution and the mempool's commit all need them typed. :func:`decode_block_items` decodes them
on first use and keeps the result (or the refusal) under the digest of the block holding them, so
the later users on the same path get the same typed values without decoding again.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from aethel.proofs.errors import MalformedObjectError
from aethel.proofs.model import Proof, Transfer, proof_from_json, transfer_from_json

#: Blocks whose decoded items are kept (a node works on a few heights at a time).
MAX_KEPT = 64


@dataclass(frozen=True, slots=True)
class BlockItems:
    """A block's transfers and proofs, each decoded strictly, in the block's order."""

    transfers: tuple[Transfer, ...]
    proofs: tuple[Proof, ...]


_kept: OrderedDict[bytes, BlockItems | MalformedObjectError] = OrderedDict()
_lock = threading.Lock()


def decode_block_items(
    digest: bytes, transactions: Sequence[object], proofs: Sequence[object]
) -> BlockItems:
    """Return the typed items of the block whose digest is ``digest``; raise
    :class:`MalformedObjectError` (E2-E5, E12) for the first item that does not decode.

    ``digest`` must be the digest of the block holding exactly these lists (it keys the memo).
    """
    with _lock:
        found = _kept.get(digest)
        if found is not None:
            _kept.move_to_end(digest)
    if found is None:
        try:
            found = BlockItems(
                tuple(transfer_from_json(item) for item in transactions),
                tuple(proof_from_json(item) for item in proofs),
            )
        except MalformedObjectError as exc:
            found = exc
        with _lock:
            _kept[digest] = found
            if len(_kept) > MAX_KEPT:
                _kept.popitem(last=False)
    if isinstance(found, MalformedObjectError):
        raise MalformedObjectError(found.rule_id, found.detail)
    return found
