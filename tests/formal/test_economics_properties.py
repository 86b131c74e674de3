"""Hypothesis properties of the economics functions (P2, P3, P16, P20)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aethel.economics import (
    BLOCK_REWARD_CAP,
    Offence,
    compute_block_reward,
    compute_emission_limit,
    compute_reward_split,
    compute_slash_amount,
)

stakes = st.dictionaries(
    st.text("abcdefghij", min_size=1, max_size=4), st.integers(0, 10**12), min_size=1, max_size=20
).filter(lambda members: sum(members.values()) > 0)


@pytest.mark.req("P3")
@given(st.integers(0, 10**12), stakes, st.sampled_from(["a", "proposer"]))
def test_shares_sum_to_reward_and_follow_stake(
    reward: int, members: dict[str, int], proposer: str
) -> None:
    shares = compute_reward_split(reward, members, proposer)
    assert sum(shares.values()) == reward
    total = sum(members.values())
    for validator, stake in members.items():
        exact = reward * stake // total
        bonus = (
            reward - sum(reward * s // total for s in members.values())
            if validator == proposer
            else 0
        )
        assert shares[validator] == exact + bonus
    ordered = sorted(members, key=members.__getitem__)
    for low, high in itertools.pairwise(ordered):
        if proposer not in (low, high):
            assert shares[low] <= shares[high]


@pytest.mark.req("P2")
@given(st.integers(0, 10**9), st.integers(0, 10**9))
def test_block_reward_is_non_decreasing_in_difficulty_and_capped(a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert compute_block_reward(low) <= compute_block_reward(high) <= BLOCK_REWARD_CAP


@pytest.mark.req("P20")
@given(st.lists(st.integers(0, 10**9), max_size=50))
def test_minted_never_exceeds_emission_schedule(difficulties: list[int]) -> None:
    minted = 0
    for height, difficulty in enumerate(difficulties, start=1):
        minted += compute_block_reward(difficulty)
        assert minted <= compute_emission_limit(height)


@pytest.mark.req("P16")
@given(st.integers(0, 10**15))
def test_slashing_burns_floor_of_rate(stake: int) -> None:
    assert compute_slash_amount(stake, Offence.FALSE_CLAIM) == stake * 5 // 100
    assert compute_slash_amount(stake, Offence.EQUIVOCATION) == stake * 20 // 100
    assert 0 <= compute_slash_amount(stake, Offence.EQUIVOCATION) <= stake
