"""State-tree mutants (subclasses of :class:`aethel.merkle.StateTree`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from aethel.merkle import AbsenceProof, MemoryNodeStore, Proof, StateTree
from conformance.adapters.reference import (
    ReferenceImplementation,
    ReferenceStateTree,
    ReferenceTree,
)


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


# The mutants as implementations under test (``--impl python:properties.mutants.state_tree:...``).


def _tree_adapter(tree_class: type[StateTree]) -> type[ReferenceTree]:
    class MutantTree(ReferenceTree):
        def __init__(self, cache_size: int | None) -> None:
            store = MemoryNodeStore()
            if cache_size is None:
                self.tree = tree_class(store)
            else:
                self.tree = tree_class(store, cache_size=cache_size)

    return MutantTree


class _FirstWriteWinsStateTree(ReferenceStateTree):
    tree_class = _tree_adapter(FirstWriteWinsTree)


class _NeighbourlessAbsenceStateTree(ReferenceStateTree):
    tree_class = _tree_adapter(NeighbourlessAbsenceTree)


class FirstWriteWinsImplementation(ReferenceImplementation):
    """The reference with :class:`FirstWriteWinsTree` behind ``state-tree``."""

    name = "mutant-first-write-wins"

    def make_state_tree(self) -> object:
        return _FirstWriteWinsStateTree()


class NeighbourlessAbsenceImplementation(ReferenceImplementation):
    """The reference with :class:`NeighbourlessAbsenceTree` behind ``state-tree``."""

    name = "mutant-neighbourless-absence"

    def make_state_tree(self) -> object:
        return _NeighbourlessAbsenceStateTree()
