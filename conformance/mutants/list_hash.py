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


def _verify_consistency_shifting_fn_alone(
    size1: int, size2: int, proof: list[bytes], root1: bytes, root2: bytes
) -> bool:
    """RFC 9162 2.1.4.2 with step 6's "right-shift both fn and sn equally until LSB(fn) is set or
    fn is 0" written shifting fn alone: right whenever the step shifts nothing."""
    if size1 == size2:
        return not proof and root1 == root2 and (size1 > 0 or root1 == rfc6962.EMPTY_ROOT)
    if not 0 < size1 < size2 or not proof:
        return False
    path = [root1, *proof] if size1 & (size1 - 1) == 0 else list(proof)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = rfc6962.hash_children(c, fr), rfc6962.hash_children(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1  # sn left where it was
        else:
            sr = rfc6962.hash_children(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == root1 and sr == root2


class ShiftFnAlone(ReferenceListHash):
    """Defect: the consistency verifier's inner shift moves fn and leaves sn (RFC 9162: both)."""

    @rejecting
    def verify_consistency(
        self, size1: int, size2: int, root1: str, root2: str, proof: list[str]
    ) -> bool:
        if not super().verify_consistency(size1, size2, root1, root2, proof):
            return False  # whatever the reference refuses (malformed input) stays refused
        hashes = [bytes.fromhex(h) for h in proof]
        return _verify_consistency_shifting_fn_alone(
            size1, size2, hashes, bytes.fromhex(root1), bytes.fromhex(root2)
        )


class ShiftFnAloneImplementation(ReferenceImplementation):
    name = "mutant-consistency-inner-shift-of-fn-alone"

    def make_list_hash(self) -> object:
        return ShiftFnAlone()


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
    Mutant(
        name="consistency-inner-shift-of-fn-alone",
        defect="the consistency verifier's inner shift (RFC 9162 step 6) moves fn and leaves "
        "sn, so it refuses valid proofs such as 13 -> 14",
        breaks=("E11",),
        capabilities=("list-hash",),
        build=ShiftFnAloneImplementation,
    ),
]
