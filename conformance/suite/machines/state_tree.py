"""State-tree machine: root consistency, proofs, batch versus sequential, history independence.

It drives the ``state-tree`` capability in the shape of the conformance adapter
(``StateTreeAPI.new`` / ``verify_proof`` and the tree object's methods), so it runs against the
reference, a mutant, or a third-party implementation alike. The model is a dict of key -> value.
After every step the machine checks, against it:

* every key reads as the model says (present with its value, or absent);
* the root equals the root of a fresh tree holding the model's pairs written in another order
  (history independence), and two steps with equal roots hold equal contents (I3, executable);
* a tree fed batches has the same root as a twin fed the same writes one at a time (I4, T22.1a);
* a proof of any key is an inclusion proof exactly when the key is present, carries the model's
  value, verifies under the current root (by the implementation and by the spec's verifier),
  and fails under an older root or with an altered value; a forged proof claiming the opposite
  (absence of a present key with its own leaf, inclusion of an absent key) never verifies
  (I3, E9);
* the node cache statistics are consistent (T22.1b).

Spec: I3, I4, E8, E9, T22.1a, T22.1b.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from aethel.encoding import canonical_json, sha256
from aethel.merkle.proofs import proof_from_dict, verify_proof
from conformance.adapters.api import StateTreeAPI
from conformance.adapters.errors import Rejected
from conformance.suite.machines.common import ModelMismatch

JSON = Any
EMPTY_ROOT = "00" * 32

#: Few keys, so writes collide, deletes hit, and absence proofs meet other leaves.
KEYS = (
    *(f"account:{name}" for name in ("alice", "bob", "carol", "dave", "erin", "frank")),
    "nonce:alice",
    "nonce:bob",
    "supply",
    "validators",
)

values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text("abcxyz", max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("ab"), inner),
    max_leaves=4,
)
keys = st.sampled_from(KEYS)


def set_op(key: str, value: JSON) -> dict[str, JSON]:
    """Return a batch write of ``value`` to ``key``."""
    return {"op": "set", "key": key, "value": value}


def delete_op(key: str) -> dict[str, JSON]:
    """Return a batch delete of ``key``."""
    return {"op": "delete", "key": key}


def _same(a: JSON, b: JSON) -> bool:
    return canonical_json(a) == canonical_json(b)


class StateTreeMachine(RuleBasedStateMachine):
    """Drive a tree (and a twin fed one write at a time) beside a dict."""

    api_factory: ClassVar[Callable[[], StateTreeAPI]]

    def __init__(self) -> None:
        super().__init__()
        self.api = type(self).api_factory()
        # A small cache, so that evictions happen within a short run.
        self.tree = self.api.new(8)
        self.sequential = self.api.new(None)
        self.model: dict[str, JSON] = {}
        self.seen: dict[str, bytes] = {EMPTY_ROOT: canonical_json({})}
        self.old_roots: list[str] = []

    def _apply(self, ops: list[dict[str, JSON]], returned: str, before: str) -> None:
        for op in ops:
            if op["op"] == "delete":
                self.sequential.delete(op["key"])
                self.model.pop(op["key"], None)
            else:
                self.sequential.update(op["key"], op["value"])
                self.model[op["key"]] = copy.deepcopy(op["value"])
        if returned != self.tree.root():
            raise ModelMismatch(
                "T22.1a", f"a write returned {returned}, root is {self.tree.root()}"
            )
        if before != returned and before not in self.old_roots:
            self.old_roots.append(before)

    @rule(key=keys, value=values)
    def set_value(self, key: str, value: JSON) -> None:
        before = self.tree.root()
        self._apply([set_op(key, value)], self.tree.update(key, value), before)

    @rule(key=keys)
    def delete_key(self, key: str) -> None:
        before = self.tree.root()
        self._apply([delete_op(key)], self.tree.delete(key), before)

    @rule(ops=st.lists(st.one_of(st.builds(set_op, keys, values), st.builds(delete_op, keys))))
    def apply_batch(self, ops: list[dict[str, JSON]]) -> None:
        before = self.tree.root()
        self._apply(ops, self.tree.batch_update(ops), before)

    @rule(key=keys)
    def check_proof(self, key: str) -> None:
        root = self.tree.root()
        proof = self.tree.prove(key)
        kind = proof.get("kind") if isinstance(proof, dict) else None
        expected_kind = "inclusion" if key in self.model else "absence"
        if kind != expected_kind:
            raise ModelMismatch("I3 E9", f"proof of {key!r} is {kind!r}, expected {expected_kind}")
        if kind == "inclusion" and not _same(proof["value"], self.model[key]):
            raise ModelMismatch("I3", f"inclusion proof of {key!r} carries {proof['value']!r}")
        if not self.api.verify_proof(proof, root):
            raise ModelMismatch("I3 E9", f"the implementation rejects its own proof of {key!r}")
        if not verify_proof(proof_from_dict(proof), bytes.fromhex(root)):
            raise ModelMismatch("I3 E9", f"the spec's verifier rejects the proof of {key!r}")
        for other in self.old_roots[-3:]:
            if other != root and self.api.verify_proof(proof, other):
                raise ModelMismatch("E9", f"proof of {key!r} verifies under an old root {other}")
        if kind == "inclusion":
            altered = dict(proof, value=["altered", proof["value"]])
            if self.api.verify_proof(altered, root):
                raise ModelMismatch("I3 E9", f"proof of {key!r} verifies with an altered value")

    @rule(key=keys)
    def forged_proofs_fail(self, key: str) -> None:
        """A proof that claims the opposite of the truth never verifies (I3, E9)."""
        root = self.tree.root()
        honest = self.tree.prove(key)
        if key in self.model:
            # Absence claimed with the key's own leaf posing as "another leaf on its path".
            value_hash = sha256(canonical_json(self.model[key])).hex()
            path = sha256(key.encode("utf-8")).hex()
            leaf = {"path": path, "value_hash": value_hash}
            forged: dict[str, Any] = {"key": key, "kind": "absence", "leaf": leaf, "root": root}
        else:
            forged = {"key": key, "kind": "inclusion", "value": 0, "root": root}
        forged["siblings"] = honest["siblings"]
        try:
            accepted = self.api.verify_proof(forged, root)
        except Rejected:
            accepted = False
        if accepted:
            raise ModelMismatch("I3 E9", f"a forged {forged['kind']} proof of {key!r} verifies")

    @invariant()
    def reads_match_the_model(self) -> None:
        for key in KEYS:
            got = self.tree.get(key)
            if key in self.model:
                if not got.get("found") or not _same(got.get("value"), self.model[key]):
                    raise ModelMismatch("I3", f"{key!r} reads {got}, model has {self.model[key]!r}")
            elif got.get("found"):
                raise ModelMismatch("I3", f"{key!r} reads {got}, but it was deleted or never set")

    @invariant()
    def batch_equals_sequential(self) -> None:
        if self.tree.root() != self.sequential.root():
            raise ModelMismatch(
                "I4 T22.1a",
                f"batched root {self.tree.root()} != one-at-a-time root {self.sequential.root()}",
            )

    @invariant()
    def root_is_history_independent(self) -> None:
        root = self.tree.root()
        content = canonical_json(self.model)
        if self.seen.setdefault(root, content) != content:
            raise ModelMismatch("I3", f"root {root} stands for two different contents")
        fresh = self.api.new(None)
        fresh.batch_update([set_op(k, v) for k, v in sorted(self.model.items(), reverse=True)])
        if fresh.root() != root:
            raise ModelMismatch("I3 E8", f"root {root} differs from a fresh build {fresh.root()}")

    @invariant()
    def cache_statistics_are_consistent(self) -> None:
        stats = self.tree.get_cache_stats()
        lookups = stats["hits"] + stats["misses"]
        expected_rate = stats["hits"] / lookups if lookups else 0.0
        if stats["size"] > stats["max_size"] or abs(stats["hit_rate"] - expected_rate) > 1e-9:
            raise ModelMismatch("T22.1b", f"inconsistent node cache statistics {stats}")


def make_state_tree_machine(
    factory: Callable[[], StateTreeAPI], name: str = "reference"
) -> type[StateTreeMachine]:
    """Return a state-tree machine class bound to ``factory`` (the capability under test)."""
    return type(
        f"StateTreeMachine[{name}]", (StateTreeMachine,), {"api_factory": staticmethod(factory)}
    )
