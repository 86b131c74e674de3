"""Mutants of RFC 6962 list hashing."""

from __future__ import annotations

import hashlib

from aethel import rfc6962
from conformance.adapters.reference import ReferenceImplementation, ReferenceListHash
from conformance.adapters.reference_errors import rejecting
from conformance.mutants import Mutant


def _root_duplicating_odd_leaf(leaf_hashes: list[bytes]) -> bytes:
    """Bitcoin's rule: pair an odd last node with itself (RFC 6962 carries it up unchanged)."""
    if not leaf_hashes:
        return rfc6962.EMPTY_ROOT
    level = list(leaf_hashes)
    while len(level) > 1:
        if len(level) % 2:
            level.append(level[-1])
        level = [
            hashlib.sha256(rfc6962.NODE_PREFIX + level[i] + level[i + 1]).digest()
            for i in range(0, len(level), 2)
        ]
    return level[0]


class OddLeafDuplication(ReferenceListHash):
    """Defect: the list root duplicates an odd last node instead of carrying it up."""

    def root(self, entries: list[object]) -> str:
        return _root_duplicating_odd_leaf(self._leaves(entries)).hex()


class OddLeafImplementation(ReferenceImplementation):
    name = "mutant-odd-leaf-duplication"

    def make_list_hash(self) -> object:
        return OddLeafDuplication()


class EmptyProofFromSizeZero(ReferenceListHash):
    """Defect: asked for a consistency proof from size 0, answers the empty proof (as if the
    empty list were trivially a prefix) instead of refusing: a proof that proves nothing."""

    @rejecting
    def prove_consistency(self, entries: list[object], size1: int) -> list[str]:
        if size1 == 0:
            return []
        return super().prove_consistency(entries, size1)


class EmptyProofFromSizeZeroImplementation(ReferenceImplementation):
    name = "mutant-consistency-proof-from-size-zero"

    def make_list_hash(self) -> object:
        return EmptyProofFromSizeZero()


MUTANTS = [
    Mutant(
        name="odd-leaf-duplication",
        defect="RFC 6962 root pairs an odd last node with itself (Bitcoin style)",
        breaks=("E10",),
        capabilities=("list-hash",),
        build=OddLeafImplementation,
    ),
    Mutant(
        name="consistency-proof-from-size-zero",
        defect="a consistency proof from size 0 is produced (empty) instead of refused",
        breaks=("E11",),
        capabilities=("list-hash",),
        build=EmptyProofFromSizeZeroImplementation,
    ),
]
