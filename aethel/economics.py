"""Protocol economics as pure integer functions: rewards, split, slashing, emission, stake.

Every amount is an integer number of base units (never a float). These functions are the single
definition used by the state transition, the consensus engine, the conformance checks and the
Z3 proofs of I6-I8 (``aethel/formal``): each formula is a ``*_formula`` function over
ints or Z3 terms (``aethel.arith``), which the ``compute_*`` function calls after validating
its input and the proofs call on symbolic amounts.

Spec: R1.2, R1.3, R4.2-R4.4, R4.7 (spec/economics.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum

from aethel.arith import Num, floor_div, minimum
from aethel.errors import ProtocolViolation, UsageError

#: Base units minted per unit of proof difficulty (R1.2).
REWARD_PER_DIFFICULTY = 10
#: Most base units one block may mint (R4.4); also the per-height emission step of E(h) (R4.7).
BLOCK_REWARD_CAP = 5_000_000
#: Least stake a validator set member holds (R4.3).
MIN_STAKE = 1_000
#: Slashing rates in percent of stake (R4.2).
SLASH_PERCENT_FALSE_CLAIM = 5
SLASH_PERCENT_EQUIVOCATION = 20


class Offence(StrEnum):
    """Slashable behaviours (R4.2); being offline is not one (R4.6)."""

    FALSE_CLAIM = "false-claim"
    EQUIVOCATION = "equivocation"


SLASH_PERCENT = {
    Offence.FALSE_CLAIM: SLASH_PERCENT_FALSE_CLAIM,
    Offence.EQUIVOCATION: SLASH_PERCENT_EQUIVOCATION,
}


class SplitError(ProtocolViolation, UsageError):
    """A reward split the spec does not define (R1.3): no member, a negative amount, or S = 0.

    A :class:`ProtocolViolation` naming R1.3 for input from a peer or an implementation under
    test, and a :class:`UsageError` for local callers (the transition forfeits such a reward
    instead of splitting it).
    """


def _require_natural(
    name: str, value: int, rule_id: str, error: type[ProtocolViolation] = ProtocolViolation
) -> None:
    """Refuse ``value`` naming ``rule_id`` unless it is a non-negative int (the formula's
    domain: R1.2, R1.3, R4.4, R4.7)."""
    if type(value) is not int or value < 0:
        raise error(rule_id, f"{name} must be a non-negative int, got {value!r}")


def proof_reward_formula(difficulty: Num) -> Num:
    """Return difficulty * REWARD_PER_DIFFICULTY of an int or a Z3 term, unchecked (R1.2)."""
    return difficulty * REWARD_PER_DIFFICULTY


def block_reward_formula(total_difficulty: Num) -> Num:
    """Return min(difficulty * REWARD_PER_DIFFICULTY, CAP), unchecked (R4.4, I7)."""
    return minimum(total_difficulty * REWARD_PER_DIFFICULTY, BLOCK_REWARD_CAP)


def emission_limit_formula(height: Num) -> Num:
    """Return E(h) = h * BLOCK_REWARD_CAP of an int or a Z3 term, unchecked (R4.7, I7)."""
    return height * BLOCK_REWARD_CAP


def member_share_formula(reward: Num, stake: Num, total_stake: Num) -> Num:
    """Return floor(reward * stake / total_stake), one member's share (R1.3, I6).

    Unchecked: the caller guarantees total_stake > 0 (a proof states it as a premise).
    """
    return floor_div(reward * stake, total_stake)


def split_remainder_formula(reward: Num, shares: Iterable[Num]) -> Num:
    """Return what the floor ``shares`` leave of ``reward``: the proposer's bonus (R1.3, I6)."""
    return reward - sum(shares)


def compute_proof_reward(difficulty: int) -> int:
    """Return the reward of one verified proof of ``difficulty`` (R1.2); a negative difficulty
    is refused naming R1.2."""
    _require_natural("difficulty", difficulty, "R1.2")
    return proof_reward_formula(difficulty)


def compute_block_reward(total_difficulty: int) -> int:
    """Return the block reward: proportional to total difficulty up to the cap (R4.4, P2); a
    negative total difficulty is refused naming R4.4."""
    _require_natural("total_difficulty", total_difficulty, "R4.4")
    return block_reward_formula(total_difficulty)


def compute_emission_limit(height: int) -> int:
    """Return E(h): the most that may have been minted through height ``height`` (R4.7); a
    negative height is refused naming R4.7."""
    _require_natural("height", height, "R4.7")
    return emission_limit_formula(height)


def compute_reward_split(
    reward: int, member_stakes: Mapping[str, int], proposer: str
) -> dict[str, int]:
    """Split ``reward`` among certificate members in proportion to stake (R1.3, R4.1, P3).

    Each member gets ``floor(reward * stake / total)``; the rounding remainder goes to the
    proposer (who need not be a member). The shares always sum exactly to ``reward``. Members
    with zero share are still listed, and so is the proposer. Raises :class:`SplitError` (R1.3)
    for a certificate without members, a negative amount or members holding no stake.
    """
    _require_natural("reward", reward, "R1.3", SplitError)
    if not member_stakes:
        raise SplitError("R1.3", "a commit certificate has at least one member")
    total = 0
    for validator, stake in member_stakes.items():
        _require_natural(f"stake of {validator}", stake, "R1.3", SplitError)
        total += stake
    if total == 0:
        raise SplitError("R1.3", "certificate members hold no stake: the reward is forfeited")
    shares = {
        v: member_share_formula(reward, stake, total) for v, stake in sorted(member_stakes.items())
    }
    remainder = split_remainder_formula(reward, shares.values())
    shares[proposer] = shares.get(proposer, 0) + remainder
    return shares


def slash_amount_formula(stake: Num, offence: Offence) -> Num:
    """Return floor(stake * rate / 100) for ``offence``'s rate in percent, unchecked (R4.2, I8)."""
    return floor_div(stake * SLASH_PERCENT[offence], 100)


def compute_slash_amount(stake: int, offence: Offence) -> int:
    """Return how much of ``stake`` is burned for ``offence``: floor(stake * rate) (R4.2, I8).

    Defined for stakes s >= 0 only (I8); a negative stake is refused naming R4.2.
    """
    if type(stake) is not int or stake < 0:
        raise ProtocolViolation("R4.2", f"stake must be a non-negative int, got {stake!r}")
    return slash_amount_formula(stake, Offence(offence))


def is_eligible_stake(stake: int) -> bool:
    """Return True if ``stake`` may sit in a validator set (R4.3)."""
    return stake >= MIN_STAKE
