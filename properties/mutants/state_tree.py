"""State-tree mutants (subclasses of :class:`aethel.merkle.StateTree`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from aethel.merkle import AbsenceProof, Proof, StateTree


class FirstWriteWinsTree(StateTree):
    """Defect: a batch keeps the first write to a key instead of the last (breaks I4)."""

    __slots__ = ()

    def batch_update(self, updates: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> bytes:
        pairs = updates.items() if isinstance(updates, Mapping) else updates
        first: dict[str, Any] = {}
        for key, value in pairs:
            first.setdefault(key, value)
        return super().batch_update(list(first.items()))


class NeighbourlessAbsenceTree(StateTree):
    """Defect: an absence proof omits the other leaf that sits on the key's path (breaks I3/E9).

    The proof then claims an empty slot where a leaf is, so it cannot verify.
    """

    __slots__ = ()

    def prove(self, key: str) -> Proof:
        proof = super().prove(key)
        if isinstance(proof, AbsenceProof) and proof.leaf is not None:
            return AbsenceProof(proof.key, proof.root, proof.siblings, None)
        return proof
