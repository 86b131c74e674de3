"""Z3-proved invariants I1-I10, each with its negative twins: facts about the spec's formulas.

``INVARIANTS`` lists every invariant of the catalog (kind "invariant") with the obligations that
together prove it and the deliberately broken variants Z3 must refute. The proofs call the
reference's own ``*_formula`` functions (``aethel.arith``, ``aethel.economics``, ...) on Z3 terms,
so they speak about the formulas the spec states and the reference computes, not about any
implementation under test; an implementation's outputs are checked against the same
postconditions by the conformance suite (``conformance/suite/test_postconditions.py``).

:mod:`aethel.formal.prove` runs them and reports (``aethel prove``);
``tests/formal/test_invariants.py`` runs them under pytest. This package sits above
the consensus core (it imports the formulas; nothing in the core imports it).
"""

from __future__ import annotations

from dataclasses import dataclass

from aethel.formal import conservation, difficulty, economics, quorum, state_tree, timeouts
from aethel.formal.solver import Obligation, Twin


@dataclass(frozen=True, slots=True)
class Invariant:
    """One catalog invariant: the obligations proving it and its negative twins."""

    id: str
    title: str
    #: How far the proof reaches: what is unbounded, what is bounded, what is assumed.
    scope: str
    obligations: tuple[Obligation, ...]
    twins: tuple[Twin, ...]


INVARIANTS: tuple[Invariant, ...] = (
    Invariant(
        "I1",
        "quorum intersection by count",
        "all n >= 1 (Venn-region sizes describe every pair of sets)",
        quorum.I1_OBLIGATIONS,
        quorum.I1_TWINS,
    ),
    Invariant(
        "I2",
        "quorum intersection by stake",
        "all integer W >= 1, any stake distribution (Venn-region stakes)",
        quorum.I2_OBLIGATIONS,
        quorum.I2_TWINS,
    ),
    Invariant(
        "I3",
        "Merkle root consistency and inclusion proofs",
        f"bounded: depth {state_tree.DEPTH}; node hash an injective uninterpreted function",
        state_tree.I3_OBLIGATIONS,
        state_tree.I3_TWINS,
    ),
    Invariant(
        "I4",
        "batch-versus-sequential equivalence",
        f"bounded: depth {state_tree.DEPTH}, batches of 1-{state_tree.BATCH} sets and deletes",
        state_tree.I4_OBLIGATIONS,
        state_tree.I4_TWINS,
    ),
    Invariant(
        "I5",
        "conservation of a transfer",
        "per-account change and non-negativity for any number of accounts; "
        f"total checked directly over {conservation.ACCOUNTS} accounts",
        conservation.I5_OBLIGATIONS,
        conservation.I5_TWINS,
    ),
    Invariant(
        "I6",
        "reward split",
        "any number of members (lemma per member + induction over members); "
        "n = 2 also checked whole",
        economics.I6_OBLIGATIONS,
        economics.I6_TWINS,
    ),
    Invariant(
        "I7",
        "supply bound minted(h) <= E(h)",
        "all heights h (induction), any difficulties",
        economics.I7_OBLIGATIONS,
        economics.I7_TWINS,
    ),
    Invariant(
        "I8",
        "slashing bound",
        "all stakes, each offence's rate",
        economics.I8_OBLIGATIONS,
        economics.I8_TWINS,
    ),
    Invariant(
        "I9",
        "difficulty monotonicity",
        "all efforts and sizes",
        difficulty.I9_OBLIGATIONS,
        difficulty.I9_TWINS,
    ),
    Invariant(
        "I10",
        "timeout rule",
        "all latencies and views",
        timeouts.I10_OBLIGATIONS,
        timeouts.I10_TWINS,
    ),
)
