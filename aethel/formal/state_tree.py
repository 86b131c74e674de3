"""I3 (Merkle root consistency) and I4 (batch versus sequential updates), bounded depth.

The node hash is an uninterpreted function, injective by axiom and never equal to the empty hash
(``merkle_model.declare_hash_model``); paths of distinct slots are distinct (SHA-256 of distinct
keys). Over that model Z3 proves, for every content of a tree of ``2**DEPTH`` slots:

* I3: equal roots imply equal key/value sets; an inclusion proof verifies exactly for present
  pairs (sound for every sibling list, complete with the tree's own siblings); an absence proof
  (empty slot, or another leaf on the path) verifies only for absent keys.
* I4: a batch (last write wins, then one pass over the touched slots) gives the same slots and
  root as applying the updates one by one, for every batch of up to ``BATCH`` updates (sets and
  deletes).

Bounded: depth and batch size are fixed (see ``DEPTH``, ``BATCH``); the real tree has 256 levels.
The twins drop the leaf/node domain separation, drop the path from the leaf hash, keep the first
write instead of the last, and drop deletes from a batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import z3

from aethel.formal.merkle_model import (
    Algebra,
    HashModel,
    Slot,
    compute_root,
    declare_hash_model,
    fold_proof,
    get_siblings,
    path_bit,
    symbolic_slots,
    z3_algebra,
)
from aethel.formal.solver import Formula, Obligation, Twin

#: Tree depth of the bounded model: 2**DEPTH key slots.
DEPTH = 4
#: Most updates in one modelled batch.
BATCH = 8
TREE_BOUND = f"depth {DEPTH} ({2**DEPTH} key slots)"
BATCH_BOUND = f"depth {DEPTH} ({2**DEPTH} key slots), batches of 1-{BATCH} updates"


def _paths(model: HashModel) -> tuple[list[Any], z3.BoolRef]:
    paths = [z3.Const(f"path{k}", model.sort) for k in range(2**DEPTH)]
    return paths, z3.Distinct(*paths)


def _same_content(left: Sequence[Slot], right: Sequence[Slot]) -> z3.BoolRef:
    return z3.And(
        [
            z3.And(a.present == b.present, z3.Implies(a.present, a.value_hash == b.value_hash))
            for a, b in zip(left, right, strict=True)
        ]
    )


def _present_count(slots: Sequence[Slot]) -> z3.ArithRef:
    return z3.Sum([z3.If(s.present, 1, 0) for s in slots])


def show_hash(model: z3.ModelRef, term: z3.ExprRef) -> str:
    """Render an element of the uninterpreted hash sort briefly: ``Hash!val!7`` -> ``h7``."""
    return str(model.eval(term, model_completion=True)).replace("Hash!val!", "h")


def show_tree(model: z3.ModelRef, slots: Sequence[Slot]) -> str:
    """Render the key/value set of a tree: ``{slot 0: h3, slot 5: h9}`` (path of slot k = p_k)."""
    entries = [
        f"slot {k}: {show_hash(model, s.value_hash)}"
        for k, s in enumerate(slots)
        if z3.is_true(model.eval(s.present, model_completion=True))
    ]
    return "{" + ", ".join(entries) + "}"


def _show_paths(model: z3.ModelRef, *trees: Sequence[Slot]) -> str:
    """Render the path hashes of the slots used by any of ``trees`` (p_k: path of slot k)."""
    used = sorted(
        {
            k
            for slots in trees
            for k, s in enumerate(slots)
            if z3.is_true(model.eval(s.present, model_completion=True))
        }
    )
    return ", ".join(f"p{k}={show_hash(model, trees[0][k].path)}" for k in used)


def _equal_roots_formula(algebra_of: Any) -> Formula:
    model = declare_hash_model()
    algebra: Algebra = algebra_of(model)
    paths, distinct = _paths(model)
    one = symbolic_slots(model, "a_", DEPTH, paths)
    other = symbolic_slots(model, "b_", DEPTH, paths)
    same_root = compute_root(one, algebra) == compute_root(other, algebra)
    goal = _same_content(one, other)
    premise = z3.And(*model.axioms_for(same_root, goal), distinct, same_root)

    def describe(found: z3.ModelRef) -> dict[str, str]:
        return {
            "tree A": show_tree(found, one),
            "tree B": show_tree(found, other),
            "common root": show_hash(found, compute_root(one, algebra)),
            "paths of used slots": _show_paths(found, one, other),
        }

    return Formula(
        premise, goal, describe=describe, minimize=(_present_count(one) + _present_count(other),)
    )


def build_equal_roots() -> Formula:
    """Equal roots imply equal key/value sets (I3)."""
    return _equal_roots_formula(z3_algebra)


def build_equal_roots_without_domain_separation() -> Formula:
    """Twin: leaf and node hashed under one tag, so a leaf can pose as an inner node."""
    return _equal_roots_formula(lambda model: z3_algebra(model, leaf_tag=0, node_tag=0))


def build_equal_roots_without_path_in_leaf() -> Formula:
    """Twin: the leaf hash omits the path, so a lone leaf no longer says where it sits."""

    def algebra_of(model: HashModel) -> Algebra:
        honest = z3_algebra(model)
        return Algebra(
            empty=honest.empty,
            leaf=lambda _path, value_hash: model.compress(0, model.empty, value_hash),
            node=honest.node,
            select=honest.select,
            count=honest.count,
        )

    return _equal_roots_formula(algebra_of)


@dataclass(frozen=True, slots=True)
class _ProvedTree:
    """One symbolic tree that proofs are checked against: its slots and its root."""

    model: HashModel
    algebra: Algebra
    paths: list[Any]
    distinct: z3.BoolRef
    slots: list[Slot]
    root: Any

    def formula(self, goals: Sequence[z3.BoolRef]) -> Formula:
        """Return the formula that every goal holds of this tree (its counterexample shown)."""
        goal = z3.And(goals)
        premise = z3.And(*self.model.axioms_for(goal), self.distinct)
        return Formula(premise, goal, describe=lambda m: {"tree": show_tree(m, self.slots)})


def _proved_tree() -> _ProvedTree:
    """Return a fresh symbolic tree over distinct paths (the setting of I3 and its kin)."""
    model = declare_hash_model()
    algebra = z3_algebra(model)
    paths, distinct = _paths(model)
    slots = symbolic_slots(model, "", DEPTH, paths)
    return _ProvedTree(model, algebra, paths, distinct, slots, compute_root(slots, algebra))


def build_inclusion_sound() -> Formula:
    """Any inclusion proof (any siblings, any length) that verifies names a present pair (I3)."""
    tree = _proved_tree()
    model, algebra, paths, slots, root = tree.model, tree.algebra, tree.paths, tree.slots, tree.root
    goals = []
    for k in range(2**DEPTH):
        for length in range(DEPTH + 1):
            value = z3.Const(f"claimed_value{k}_{length}", model.sort)
            siblings = [z3.Const(f"sibling{k}_{length}_{i}", model.sort) for i in range(length)]
            verifies = (
                fold_proof(algebra.leaf(paths[k], value), k, siblings, DEPTH, algebra) == root
            )
            goals.append(
                z3.Implies(verifies, z3.And(slots[k].present, slots[k].value_hash == value))
            )
    return tree.formula(goals)


def build_inclusion_complete() -> Formula:
    """Every present pair has a verifying proof: the tree's own siblings at the leaf's depth."""
    tree = _proved_tree()
    algebra, paths, slots, root = tree.algebra, tree.paths, tree.slots, tree.root
    goals = []
    for k, slot in enumerate(slots):
        leaf = algebra.leaf(paths[k], slot.value_hash)
        some_proof = z3.Or(
            [
                fold_proof(leaf, k, get_siblings(slots, k, length, algebra), DEPTH, algebra) == root
                for length in range(DEPTH + 1)
            ]
        )
        goals.append(z3.Implies(slot.present, some_proof))
    return tree.formula(goals)


def build_absence_sound() -> Formula:
    """An absence proof (empty slot or another leaf on the path) verifies only if absent."""
    tree = _proved_tree()
    model, algebra, paths, slots, root = tree.model, tree.algebra, tree.paths, tree.slots, tree.root
    goals = []
    for k in range(2**DEPTH):
        for length in range(DEPTH + 1):
            siblings = [z3.Const(f"sibling{k}_{length}_{i}", model.sort) for i in range(length)]
            ends = [algebra.empty]
            # Another leaf proves absence where it sits alone on k's path: it shares the first
            # `length` path bits with k.
            for j in range(2**DEPTH):
                if j != k and all(
                    path_bit(j, i, DEPTH) == path_bit(k, i, DEPTH) for i in range(length)
                ):
                    ends.append(algebra.leaf(paths[j], z3.Const(f"other{k}_{j}", model.sort)))
            for end in ends:
                verifies = fold_proof(end, k, siblings, DEPTH, algebra) == root
                goals.append(z3.Implies(verifies, z3.Not(slots[k].present)))
    return tree.formula(goals)


# I4: batch versus sequential.


@dataclass(frozen=True, slots=True)
class Update:
    """One update of a batch: set ``slot`` to ``value_hash``, or delete it (``is_set`` false).

    ``active`` says whether the update is in the batch at all: the model fixes BATCH update
    variables and a symbolic batch size, so one query covers every size from 1 to BATCH.
    """

    active: Any
    slot: Any
    is_set: Any
    value_hash: Any


def symbolic_batch(model: HashModel) -> tuple[z3.ArithRef, list[Update], z3.BoolRef]:
    """Return a batch size, BATCH updates (the first ``size`` active) and their range premise."""
    size = z3.Int("batch_size")
    updates = [
        Update(
            i < size,
            z3.Int(f"key{i}"),
            z3.Bool(f"is_set{i}"),
            z3.Const(f"new_value{i}", model.sort),
        )
        for i in range(BATCH)
    ]
    well_formed = z3.And(
        size >= 1,
        size <= BATCH,
        *[z3.Implies(u.active, z3.And(u.slot >= 0, u.slot < 2**DEPTH)) for u in updates],
    )
    return size, updates, well_formed


def apply_sequential(slots: Sequence[Slot], updates: Sequence[Update]) -> list[Slot]:
    """Apply updates one by one, in order."""
    current = list(slots)
    for update in updates:
        current = [
            Slot(
                z3.If(z3.And(update.active, update.slot == k), update.is_set, s.present),
                s.path,
                z3.If(z3.And(update.active, update.slot == k), update.value_hash, s.value_hash),
            )
            for k, s in enumerate(current)
        ]
    return current


def apply_batch(
    slots: Sequence[Slot], updates: Sequence[Update], *, last_wins: bool = True
) -> list[Slot]:
    """Apply a batch the way ``batch_update`` does: keep one write per key, then one pass.

    The kept writes have distinct keys, so the pass may take them in any order; it takes them in
    batch order, which only equals the sequential result if the dedup kept the right write.
    """
    kept = []
    for i, update in enumerate(updates):
        rivals = updates[i + 1 :] if last_wins else updates[:i]
        kept.append(
            z3.And(
                update.active,
                *[z3.Not(z3.And(r.active, r.slot == update.slot)) for r in rivals],
            )
        )
    result = []
    for k, slot in enumerate(slots):
        present, value = slot.present, slot.value_hash
        for update, keep in reversed(list(zip(updates, kept, strict=True))):
            touched = z3.And(keep, update.slot == k)
            present = z3.If(touched, update.is_set, present)
            value = z3.If(touched, update.value_hash, value)
        result.append(Slot(present, slot.path, value))
    return result


def apply_batch_without_deletes(slots: Sequence[Slot], updates: Sequence[Update]) -> list[Slot]:
    """Twin: a batch that silently skips deletions."""
    batch = apply_batch(slots, updates)
    return [
        Slot(z3.Or(b.present, s.present), b.path, b.value_hash)
        for b, s in zip(batch, slots, strict=True)
    ]


def _show_batch(found: z3.ModelRef, size: z3.ArithRef, updates: Sequence[Update]) -> str:
    count = found.eval(size, model_completion=True).as_long()
    shown = []
    for update in updates[:count]:
        slot = found.eval(update.slot, model_completion=True)
        if z3.is_true(found.eval(update.is_set, model_completion=True)):
            shown.append(f"set slot {slot} = {show_hash(found, update.value_hash)}")
        else:
            shown.append(f"delete slot {slot}")
    return "[" + "; ".join(shown) + "]"


def _batch_formula(batch: Any) -> Formula:
    model = declare_hash_model()
    algebra = z3_algebra(model)
    paths, distinct = _paths(model)
    start = symbolic_slots(model, "", DEPTH, paths)
    size, updates, well_formed = symbolic_batch(model)
    sequential = apply_sequential(start, updates)
    batched = batch(start, updates)
    goal = z3.And(
        _same_content(sequential, batched),
        compute_root(sequential, algebra) == compute_root(batched, algebra),
    )
    premise = z3.And(*model.axioms_for(goal), distinct, well_formed)

    def describe(found: z3.ModelRef) -> dict[str, str]:
        return {
            "tree before": show_tree(found, start),
            "batch": _show_batch(found, size, updates),
            "sequential result": show_tree(found, sequential),
            "batch result": show_tree(found, batched),
        }

    return Formula(premise, goal, describe=describe, minimize=(size, _present_count(start)))


def build_batch_equivalence() -> Formula:
    """A batch gives the same slots and root as the same updates applied in order (I4)."""
    return _batch_formula(apply_batch)


def build_batch_first_write_wins() -> Formula:
    """Twin: the dedup keeps the first write to a key instead of the last."""
    return _batch_formula(lambda s, u: apply_batch(s, u, last_wins=False))


def build_batch_without_deletes() -> Formula:
    """Twin: deletions are dropped from the batch."""
    return _batch_formula(apply_batch_without_deletes)


I3_OBLIGATIONS = (
    Obligation("equal roots imply equal key/value sets", build_equal_roots, TREE_BOUND),
    Obligation(
        "inclusion proof verifies only for present pairs", build_inclusion_sound, TREE_BOUND
    ),
    Obligation("every present pair has a verifying proof", build_inclusion_complete, TREE_BOUND),
    Obligation("absence proof verifies only for absent keys", build_absence_sound, TREE_BOUND),
)
I3_TWINS = (
    Twin(
        "no leaf/node domain separation",
        "leaf = H(path || value hash), node = H(left || right): one tag for both",
        build_equal_roots_without_domain_separation,
        TREE_BOUND,
    ),
    Twin(
        "leaf hash without the path",
        "leaf = H(0x00 || value hash): a lone leaf no longer binds its key",
        build_equal_roots_without_path_in_leaf,
        TREE_BOUND,
    ),
)
I4_OBLIGATIONS = (
    Obligation(
        "batch = sequential (slots and root), last write wins",
        build_batch_equivalence,
        BATCH_BOUND,
    ),
)
I4_TWINS = (
    Twin(
        "first write wins",
        "the batch keeps the first write to a key",
        build_batch_first_write_wins,
        BATCH_BOUND,
    ),
    Twin(
        "deletes dropped",
        "the batch ignores deletions",
        build_batch_without_deletes,
        BATCH_BOUND,
    ),
)
