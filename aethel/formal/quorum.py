"""I1 (quorum intersection by count) and I2 (by stake), for every size.

Two subsets A, B of a set of n members are described, up to renaming the members, by the sizes of
the four regions of their Venn diagram (only A, only B, both, neither): any four naturals with sum
n are realised by some pair of subsets and every pair gives such four. So a claim over region
sizes with n a free integer is the claim over all pairs of sets, for every n; no bound is
involved. The same holds with stake: a region's stake is any natural (a validator may hold any
stake), and the four stakes sum to W.

Spec: I1, I2 (R2.2, R2.3, R2.4). q and f are the implementation's own formulas
(``quorum_formula`` and ``max_faulty_formula`` of ``aethel.consensus.quorum``) applied to Z3
terms; the negative twins are hand-written, being by definition not the implementation.
"""

from __future__ import annotations

import z3

from aethel.consensus.quorum import max_faulty_formula, quorum_formula
from aethel.formal.solver import Formula, Obligation, Twin


def _regions(prefix: str) -> tuple[z3.ArithRef, z3.ArithRef, z3.ArithRef, z3.ArithRef]:
    only_a, only_b, both, neither = z3.Ints(
        f"{prefix}only_A {prefix}only_B {prefix}both {prefix}neither"
    )
    return only_a, only_b, both, neither


def _count_formula(faulty: z3.ArithRef, n: z3.ArithRef) -> Formula:
    only_a, only_b, both, neither = _regions("")
    premise = z3.And(
        n >= 1,
        only_a >= 0,
        only_b >= 0,
        both >= 0,
        neither >= 0,
        only_a + only_b + both + neither == n,
        only_a + both == n - faulty,
        only_b + both == n - faulty,
    )
    goal = both >= faulty + 1
    variables = {
        "n": n,
        "f": faulty,
        "quorum size n - f": n - faulty,
        "only in A": only_a,
        "only in B": only_b,
        "in both": both,
        "in neither": neither,
    }
    return Formula(premise, goal, variables, minimize=(n,))


def build_count_intersection() -> Formula:
    """Two sets of n - f(n) members share at least f(n) + 1 (I1)."""
    n = z3.Int("n")
    return _count_formula(max_faulty_formula(n), n)


def build_count_intersection_floor_n_over_3() -> Formula:
    """Twin: f = floor(n / 3), one too many faults tolerated when 3 divides n."""
    n = z3.Int("n")
    return _count_formula(n / 3, n)


def _stake_formula(quorum: z3.ArithRef, total: z3.ArithRef) -> Formula:
    only_a, only_b, both, neither = _regions("stake_")
    byzantine = z3.Int("byzantine_stake")
    premise = z3.And(
        total >= 1,
        only_a >= 0,
        only_b >= 0,
        both >= 0,
        neither >= 0,
        only_a + only_b + both + neither == total,
        only_a + both >= quorum,
        only_b + both >= quorum,
        byzantine >= 0,
        3 * byzantine < total,
    )
    # Overlap stake > W/3, hence more than all Byzantine stake: some overlap stake is honest.
    goal = z3.And(3 * both > total, both > byzantine)
    variables = {
        "W": total,
        "quorum stake": quorum,
        "stake only in A": only_a,
        "stake only in B": only_b,
        "stake in both": both,
        "stake in neither": neither,
        "Byzantine stake": byzantine,
    }
    return Formula(premise, goal, variables, minimize=(total,))


def build_stake_intersection() -> Formula:
    """Two quorums of stake >= q(W) overlap in stake > W/3, so in honest stake (I2)."""
    total = z3.Int("W")
    return _stake_formula(quorum_formula(total), total)


def build_stake_intersection_without_plus_one() -> Formula:
    """Twin: q(W) = floor(2W/3), without the + 1."""
    total = z3.Int("W")
    return _stake_formula(2 * total / 3, total)


def build_stake_intersection_majority() -> Formula:
    """Twin: q(W) = floor(W/2) + 1, a simple majority."""
    total = z3.Int("W")
    return _stake_formula(total / 2 + 1, total)


I1_OBLIGATIONS = (
    Obligation("two sets of n - f members share >= f + 1, all n >= 1", build_count_intersection),
)
I1_TWINS = (
    Twin(
        "f = floor(n/3)",
        "faults by count computed as floor(n/3) instead of floor((n-1)/3)",
        build_count_intersection_floor_n_over_3,
    ),
)
I2_OBLIGATIONS = (
    Obligation(
        "two quorums overlap in stake > W/3 > Byzantine stake, all W >= 1",
        build_stake_intersection,
    ),
)
I2_TWINS = (
    Twin("q = floor(2W/3)", "quorum without the + 1", build_stake_intersection_without_plus_one),
    Twin("q = floor(W/2) + 1", "simple-majority quorum", build_stake_intersection_majority),
)
