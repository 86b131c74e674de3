"""A bounded model of the compressed sparse Merkle tree, over any hash algebra.

The tree has ``2**depth`` slots; slot ``k`` holds at most one key, whose path starts with the
``depth`` bits of ``k`` (most significant first, 0 = left). That is the real tree restricted to key
sets whose paths differ within their first ``depth`` bits: such a tree has exactly this shape
(a subtree holding one leaf is that leaf, an empty subtree is the empty hash, otherwise a node).

The same functions build a root from Z3 terms (``z3_algebra``: the node hash an uninterpreted
function, injective by axiom) for the proofs of I3 and I4, and from bytes (``sha256_algebra``: the
hashes of spec E8) for the cross-check against the implementation. Spec: I3, I4 (and the tree
conventions of ARCHITECTURE.md "State tree").
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import z3

#: Hash-input tags of E8: leaf = H(0x00 || path || value hash), node = H(0x01 || l || r).
LEAF_TAG = 0
NODE_TAG = 1


@dataclass(frozen=True, slots=True)
class Slot:
    """One slot of the bounded tree: is a key there, its path hash, its value hash."""

    present: Any
    path: Any
    value_hash: Any


@dataclass(frozen=True, slots=True)
class Algebra:
    """How to hash and branch: over Z3 terms (symbolic) or over bytes and bools (concrete)."""

    empty: Any
    leaf: Callable[[Any, Any], Any]
    node: Callable[[Any, Any], Any]
    select: Callable[[Any, Any, Any], Any]
    count: Callable[[Sequence[Any]], Any]


def path_bit(slot: int, level: int, depth: int) -> int:
    """Return bit ``level`` (0 = most significant) of the ``depth``-bit path prefix of ``slot``."""
    return (slot >> (depth - 1 - level)) & 1


def compute_root(slots: Sequence[Slot], algebra: Algebra) -> Any:
    """Return the root of the tree holding ``slots`` (length a power of two)."""
    if len(slots) == 1:
        only = slots[0]
        return algebra.select(only.present, algebra.leaf(only.path, only.value_hash), algebra.empty)
    count = algebra.count([s.present for s in slots])
    single = algebra.empty
    for slot in reversed(slots):
        single = algebra.select(slot.present, algebra.leaf(slot.path, slot.value_hash), single)
    half = len(slots) // 2
    branch = algebra.node(compute_root(slots[:half], algebra), compute_root(slots[half:], algebra))
    return algebra.select(count == 0, algebra.empty, algebra.select(count == 1, single, branch))


def get_siblings(slots: Sequence[Slot], slot: int, length: int, algebra: Algebra) -> list[Any]:
    """Return the first ``length`` sibling roots on the path to ``slot``, top level first."""
    depth = len(slots).bit_length() - 1
    siblings = []
    low, high = 0, len(slots)
    for level in range(length):
        middle = (low + high) // 2
        if path_bit(slot, level, depth):
            siblings.append(compute_root(slots[low:middle], algebra))
            low = middle
        else:
            siblings.append(compute_root(slots[middle:high], algebra))
            high = middle
    return siblings


def fold_proof(start: Any, slot: int, siblings: Sequence[Any], depth: int, algebra: Algebra) -> Any:
    """Hash ``start`` (the subtree at depth len(siblings) on ``slot``'s path) up to a root."""
    current = start
    for level in range(len(siblings) - 1, -1, -1):
        if path_bit(slot, level, depth):
            current = algebra.node(siblings[level], current)
        else:
            current = algebra.node(current, siblings[level])
    return current


def sha256_algebra() -> Algebra:
    """Return the concrete algebra: SHA-256 with the leaf/node tags of E8."""

    def leaf(path: bytes, value_hash: bytes) -> bytes:
        return hashlib.sha256(bytes([LEAF_TAG]) + path + value_hash).digest()

    def node(left: bytes, right: bytes) -> bytes:
        return hashlib.sha256(bytes([NODE_TAG]) + left + right).digest()

    return Algebra(
        empty=bytes(32),
        leaf=leaf,
        node=node,
        select=lambda condition, then, otherwise: then if condition else otherwise,
        count=lambda flags: sum(1 for flag in flags if flag),
    )


@dataclass(frozen=True, slots=True)
class HashModel:
    """Z3 declarations of the hash: ``compress(tag, a, b)`` over an uninterpreted sort.

    Injectivity is stated with inverse functions (``tag_of``, ``first_of``, ``second_of``),
    instantiated on every ``compress`` term of a formula (``axioms_for``) rather than quantified:
    the ground instances are all a proof over that formula can use, and without quantifiers Z3
    finds finite models, so twins get counterexamples and premises can be shown satisfiable.
    It models SHA-256 collision resistance; the empty hash is no hash output.
    """

    sort: z3.SortRef
    compress: z3.FuncDeclRef
    tag_of: z3.FuncDeclRef
    first_of: z3.FuncDeclRef
    second_of: z3.FuncDeclRef
    empty: z3.ExprRef

    def axioms_for(self, *formulas: z3.ExprRef) -> list[z3.BoolRef]:
        """Return the injectivity axioms of every ``compress`` term inside ``formulas``."""
        axioms = []
        seen: set[int] = set()
        pending = list(formulas)
        while pending:
            term = pending.pop()
            if term.get_id() in seen:
                continue
            seen.add(term.get_id())
            if z3.is_app(term):
                pending.extend(term.children())
                if term.decl() == self.compress:
                    tag, first, second = term.children()
                    axioms.append(
                        z3.And(
                            self.tag_of(term) == tag,
                            self.first_of(term) == first,
                            self.second_of(term) == second,
                            term != self.empty,
                        )
                    )
        return axioms


def declare_hash_model() -> HashModel:
    """Declare the hash ``compress`` and its inverse functions."""
    sort = z3.DeclareSort("Hash")
    return HashModel(
        sort=sort,
        compress=z3.Function("compress", z3.IntSort(), sort, sort, sort),
        tag_of=z3.Function("tag_of", sort, z3.IntSort()),
        first_of=z3.Function("first_of", sort, sort),
        second_of=z3.Function("second_of", sort, sort),
        empty=z3.Const("EMPTY", sort),
    )


def z3_algebra(model: HashModel, leaf_tag: int = LEAF_TAG, node_tag: int = NODE_TAG) -> Algebra:
    """Return the symbolic algebra; equal tags model a hash WITHOUT domain separation."""
    return Algebra(
        empty=model.empty,
        leaf=lambda path, value_hash: model.compress(leaf_tag, path, value_hash),
        node=lambda left, right: model.compress(node_tag, left, right),
        select=z3.If,
        count=lambda flags: z3.Sum([z3.If(flag, 1, 0) for flag in flags]),
    )


def symbolic_slots(model: HashModel, prefix: str, depth: int, paths: Sequence[Any]) -> list[Slot]:
    """Return ``2**depth`` slots with fresh presence flags and value hashes, and the given paths."""
    return [
        Slot(
            present=z3.Bool(f"{prefix}present{k}"),
            path=paths[k],
            value_hash=z3.Const(f"{prefix}value{k}", model.sort),
        )
        for k in range(2**depth)
    ]
