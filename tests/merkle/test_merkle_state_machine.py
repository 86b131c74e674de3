"""A Hypothesis state machine drives the tree against a dict model (E8, E9, T22.1a).

After every step: the root equals a fresh build of the model (in memory and over a node store
with a tiny cache), every key reads back as in the model, and every key's proof (inclusion or
absence) verifies against the root, says what the model says, and survives its JSON form. The
store-backed tree also keeps every old version readable at its old root.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from aethel.merkle.batch import DELETE
from aethel.merkle.nodes import MemoryNodeStore
from aethel.merkle.proofs import AbsenceProof, InclusionProof, parse_proof, verify_proof
from aethel.merkle.tree import StateTree

UNIVERSE = [f"k{i}" for i in range(24)]
keys = st.sampled_from(UNIVERSE)
values = st.one_of(
    st.integers(-3, 3), st.text(max_size=3), st.none(), st.lists(st.booleans(), max_size=2)
)


class TreeMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.model: dict[str, Any] = {}
        self.memory = StateTree()
        self.stored = StateTree(MemoryNodeStore(), cache_size=8)
        self.versions: list[tuple[bytes, dict[str, Any]]] = []

    def trees(self) -> tuple[StateTree, StateTree]:
        return self.memory, self.stored

    def remember(self) -> None:
        self.versions.append((self.stored.root(), dict(self.model)))
        self.versions = self.versions[-5:]

    @rule(key=keys, value=values)
    def update(self, key: str, value: Any) -> None:
        self.model[key] = value
        for tree in self.trees():
            tree.update(key, value)
        self.remember()

    @rule(key=keys)
    def delete(self, key: str) -> None:
        self.model.pop(key, None)
        for tree in self.trees():
            tree.delete(key)
        self.remember()

    @rule(pairs=st.lists(st.tuples(keys, st.one_of(values, st.just(DELETE))), max_size=12))
    def batch(self, pairs: list[tuple[str, Any]]) -> None:
        for key, value in pairs:
            if value is DELETE:
                self.model.pop(key, None)
            else:
                self.model[key] = value
        for tree in self.trees():
            tree.batch_update(pairs)
        self.remember()

    @invariant()
    def roots_match_a_fresh_build(self) -> None:
        fresh = StateTree()
        fresh.batch_update(self.model)
        assert self.memory.root() == fresh.root() == self.stored.root()

    @invariant()
    def reads_and_proofs_match_the_model(self) -> None:
        root = self.memory.root()
        for key in UNIVERSE:
            proof = self.memory.prove(key)
            assert verify_proof(proof, root)
            if key in self.model:
                assert isinstance(proof, InclusionProof) and proof.value == self.model[key]
            else:
                assert isinstance(proof, AbsenceProof)
            assert parse_proof(proof.to_json()) == proof
            assert self.stored.prove(key) == proof
            for tree in self.trees():
                assert tree.get(key, "<absent>") == self.model.get(key, "<absent>")

    @invariant()
    def old_versions_stay_readable(self) -> None:
        for root, snapshot in self.versions:
            old = self.stored.with_root(root)
            for key in UNIVERSE[:6]:
                assert old.get(key, "<absent>") == snapshot.get(key, "<absent>")
                assert verify_proof(old.prove(key), root)


TestTreeMachine = pytest.mark.req("E8", "E9", "T22.1a")(TreeMachine.TestCase)
