"""I6 (reward split), I7 (supply bound) and I8 (slashing bound), for every size.

* I6 for any number of members: each share is floor(R * s / T), so T * share <= R * s and
  R * s - T * share <= T - 1 (a lemma per member, for all R, s, T). Summing over members is an
  induction on the number k of members summed so far, with the invariant
  0 <= R * S_k - T * P_k <= k * (T - 1) (S_k stakes summed, P_k shares summed): Z3 proves the base,
  the step, and that at k = n (S_n = T) the remainder R - P_n lies in [0, n - 1]. So the shares
  plus the remainder are exactly R, and the proposer's bonus is never negative. Monotonicity in
  stake is a lemma over any two members.
* I7 by induction on the height h: minted(0) = 0 <= E(0), and minted(h) <= E(h) implies
  minted(h) + reward(d) <= E(h + 1) for every difficulty d.
* I8 for every stake and each offence's rate.

Spec: I6, I7, I8 (R1.3, R4.2, R4.4, R4.7). The share, remainder, block reward, emission limit
and slash amount are the implementation's own ``*_formula`` functions (``aethel.economics``)
applied to Z3 terms; the negative twins are hand-written. What stays written here is the split's
bookkeeping around those formulas: the proposer's share is its floor share plus the remainder
(a dictionary update in ``compute_reward_split``).
"""

from __future__ import annotations

from collections.abc import Callable

import z3

from aethel.economics import (
    SLASH_PERCENT,
    Offence,
    block_reward_formula,
    emission_limit_formula,
    member_share_formula,
    proof_reward_formula,
    slash_amount_formula,
    split_remainder_formula,
)
from aethel.formal.solver import Formula, Obligation, Twin

ShareRule = Callable[[z3.ArithRef, z3.ArithRef, z3.ArithRef], z3.ArithRef]

# I6: reward split.


def build_share_bounds() -> Formula:
    """Each share is the floor of the exact share: 0 <= share <= R, R*s - T*share in [0, T-1]."""
    reward, stake, total = z3.Ints("R s T")
    share = member_share_formula(reward, stake, total)
    premise = z3.And(reward >= 0, total > 0, stake >= 0, stake <= total)
    goal = z3.And(
        share >= 0,
        share <= reward,
        total * share <= reward * stake,
        reward * stake - total * share <= total - 1,
    )
    return Formula(premise, goal, {"R": reward, "s": stake, "T": total})


def build_share_monotone() -> Formula:
    """A member with more stake never gets a smaller share."""
    reward, low, high, total = z3.Ints("R s_low s_high T")
    premise = z3.And(reward >= 0, total > 0, low >= 0, low <= high, high <= total)
    goal = member_share_formula(reward, low, total) <= member_share_formula(reward, high, total)
    return Formula(premise, goal, {"R": reward, "s_low": low, "s_high": high, "T": total})


def _split_invariant(
    reward: z3.ArithRef,
    total: z3.ArithRef,
    summed_stake: z3.ArithRef,
    summed_shares: z3.ArithRef,
    members: z3.ArithRef,
) -> z3.BoolRef:
    lost = reward * summed_stake - total * summed_shares
    return z3.And(lost >= 0, lost <= members * (total - 1))


def build_split_induction_base() -> Formula:
    """Induction base: with no member summed, the invariant holds."""
    reward, total = z3.Ints("R T")
    premise = z3.And(reward >= 0, total > 0)
    goal = _split_invariant(reward, total, z3.IntVal(0), z3.IntVal(0), z3.IntVal(0))
    return Formula(premise, goal, {"R": reward, "T": total})


def build_split_induction_step() -> Formula:
    """Induction step: adding one member's stake and share keeps the invariant."""
    reward, total, stake, shares, k, s = z3.Ints("R T S_k P_k k s")
    premise = z3.And(
        reward >= 0,
        total > 0,
        k >= 0,
        s >= 0,
        _split_invariant(reward, total, stake, shares, k),
    )
    goal = _split_invariant(
        reward, total, stake + s, shares + member_share_formula(reward, s, total), k + 1
    )
    return Formula(premise, goal, {"R": reward, "T": total, "S_k": stake, "P_k": shares})


def build_split_conclusion() -> Formula:
    """With all n members summed (S_n = T): remainder R - P_n in [0, n - 1]; total is R."""
    reward, total, shares, n = z3.Ints("R T P_n n")
    premise = z3.And(
        reward >= 0, total > 0, n >= 1, _split_invariant(reward, total, total, shares, n)
    )
    remainder = split_remainder_formula(reward, [shares])
    goal = z3.And(remainder >= 0, remainder <= n - 1, shares + remainder == reward)
    return Formula(premise, goal, {"R": reward, "T": total, "P_n": shares, "n": n})


def _two_member_split(rule: ShareRule, with_remainder: bool) -> Formula:
    """The split of R between two members (the proposer one of them), shares by ``rule``."""
    reward, first, second = z3.Ints("R stake_1 stake_2")
    total = first + second
    shares = [rule(reward, first, total), rule(reward, second, total)]
    remainder = split_remainder_formula(reward, shares)
    proposer_share = shares[0] + (remainder if with_remainder else 0)
    premise = z3.And(reward >= 0, first >= 0, second >= 0, total > 0)
    goal = z3.And(
        proposer_share + shares[1] == reward,
        remainder >= 0,
        remainder <= 1,
        *[share >= 0 for share in shares],
    )
    variables = {
        "R": reward,
        "stake of proposer": first,
        "stake of other": second,
        "proposer share": proposer_share,
        "other share": shares[1],
        "remainder": remainder,
    }
    return Formula(premise, goal, variables, minimize=(reward, total))


def build_split_two_members() -> Formula:
    """Bounded cross-check of the induction: the whole split for n = 2 members."""
    return _two_member_split(member_share_formula, with_remainder=True)


def build_split_without_remainder() -> Formula:
    """Twin: floor shares, the remainder handed to nobody."""
    return _two_member_split(member_share_formula, with_remainder=False)


def build_split_with_ceiling() -> Formula:
    """Twin: shares rounded up, so they can add up to more than R."""
    return _two_member_split(lambda r, s, t: (r * s + t - 1) / t, with_remainder=True)


def build_split_divide_first() -> Formula:
    """Twin: floor(R / T) * s, dividing before multiplying: the remainder grows with T."""
    return _two_member_split(lambda r, s, t: r / t * s, with_remainder=True)


# I7: supply bound.


def build_supply_base() -> Formula:
    """Induction base: nothing is minted at genesis, E(0) >= 0."""
    goal = z3.IntVal(0) <= emission_limit_formula(z3.IntVal(0))
    return Formula(z3.BoolVal(True), goal)


def _supply_step(reward: Callable[[z3.ArithRef], z3.ArithRef]) -> Formula:
    height, minted, difficulty = z3.Ints("h minted_h d")
    premise = z3.And(
        height >= 0, difficulty >= 0, minted >= 0, minted <= emission_limit_formula(height)
    )
    goal = z3.And(
        reward(difficulty) >= 0,
        minted + reward(difficulty) <= emission_limit_formula(height + 1),
    )
    variables = {
        "h": height,
        "minted(h)": minted,
        "E(h)": emission_limit_formula(height),
        "total difficulty of block h+1": difficulty,
        "block reward": reward(difficulty),
        "E(h+1)": emission_limit_formula(height + 1),
    }
    return Formula(premise, goal, variables, minimize=(height, difficulty))


def build_supply_step() -> Formula:
    """Induction step: a block's reward never lifts minted(h + 1) above E(h + 1)."""
    return _supply_step(block_reward_formula)


def build_supply_step_uncapped() -> Formula:
    """Twin: the block reward without the per-block cap (the proof reward of the total)."""
    return _supply_step(proof_reward_formula)


# I8: slashing bound.


def _slash_formula(amount: Callable[[z3.ArithRef], z3.ArithRef], percent: int) -> Formula:
    stake = z3.Int("stake")
    burned = amount(stake)
    premise = stake >= 0
    goal = z3.And(
        burned >= 0,
        stake - burned >= 0,
        100 * burned <= stake * percent,
        stake * percent < 100 * (burned + 1),
    )
    variables = {"stake": stake, "slashed": burned, "stake left": stake - burned}
    return Formula(premise, goal, variables, minimize=(stake,))


def _slash_obligation(offence: Offence) -> Obligation:
    percent = SLASH_PERCENT[offence]
    return Obligation(
        f"{offence.value}: slashed = floor(stake * {percent}%), stake left >= 0",
        lambda: _slash_formula(lambda stake: slash_amount_formula(stake, offence), percent),
    )


def build_slash_with_ceiling() -> Formula:
    """Twin: the equivocation penalty rounded up instead of down."""
    percent = SLASH_PERCENT[Offence.EQUIVOCATION]
    return _slash_formula(lambda stake: (stake * percent + 99) / 100, percent)


def build_slash_in_basis_points() -> Formula:
    """Twin: the rate read as basis points against a percent divisor (x100 penalty)."""
    percent = SLASH_PERCENT[Offence.EQUIVOCATION]
    return _slash_formula(lambda stake: stake * percent * 100 / 100, percent)


I6_OBLIGATIONS = (
    Obligation("per member: 0 <= share <= R, share = floor(R*s/T)", build_share_bounds),
    Obligation("shares monotone in stake", build_share_monotone),
    Obligation("sum over members, induction base", build_split_induction_base),
    Obligation("sum over members, induction step", build_split_induction_step),
    Obligation(
        "all n members: shares + remainder = R, remainder in [0, n-1]", build_split_conclusion
    ),
    Obligation("whole split for two members", build_split_two_members, "n = 2 members"),
)
I6_TWINS = (
    Twin(
        "split without remainder",
        "floor shares, remainder not handed to the proposer",
        build_split_without_remainder,
        "n = 2 members",
    ),
    Twin(
        "split with ceiling",
        "shares rounded up",
        build_split_with_ceiling,
        "n = 2 members",
    ),
    Twin(
        "divide before multiply",
        "share = floor(R / T) * s",
        build_split_divide_first,
        "n = 2 members",
    ),
)
I7_OBLIGATIONS = (
    Obligation("induction base: minted(0) = 0 <= E(0)", build_supply_base),
    Obligation("induction step: minted(h) <= E(h) => minted(h+1) <= E(h+1)", build_supply_step),
)
I7_TWINS = (
    Twin(
        "uncapped block reward",
        "reward = difficulty * rate without the per-block cap",
        build_supply_step_uncapped,
    ),
)
I8_OBLIGATIONS = tuple(_slash_obligation(offence) for offence in Offence)
I8_TWINS = (
    Twin("slash with ceiling", "penalty rounded up", build_slash_with_ceiling),
    Twin("rate in basis points", "percent applied as basis points", build_slash_in_basis_points),
)
