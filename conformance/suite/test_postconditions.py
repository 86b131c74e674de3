"""The postconditions Z3 proves (I6-I8, I10), checked on an implementation's outputs.

The proofs (:mod:`aethel.formal`, ``aethel prove``) are about the spec's
formulas; here the same postconditions are checked on what the implementation under test
answers, so an implementation whose formulas differ from the proved ones fails (e.g. the
self-test's ``float-rewards`` mutant) even though the proofs pass.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from aethel.consensus.timeouts import LATENCY_MULTIPLE
from aethel.economics import BLOCK_REWARD_CAP, SLASH_PERCENT, Offence
from conformance.adapters.api import EconomicsAPI, ReplicaAPI

members = st.dictionaries(
    st.text("abcdefgh", min_size=1, max_size=3), st.integers(0, 10**12), min_size=1, max_size=12
).filter(lambda stakes: sum(stakes.values()) > 0)


@pytest.mark.capability("economics")
@pytest.mark.req("I6", "P3")
@given(st.integers(0, 10**15), members, st.sampled_from(["a", "b", "outsider"]))
@example(1, {"a": 1, "b": 1}, "a")
@example(10**15, {"a": 3, "b": 3, "c": 3}, "outsider")
def test_reward_split_meets_the_proved_postcondition(
    economics_api: EconomicsAPI, reward: int, stakes: dict[str, int], proposer: str
) -> None:
    shares = economics_api.reward_split(reward, stakes, proposer)
    assert all(type(v) is int and v >= 0 for v in shares.values()), shares
    assert sum(shares.values()) == reward
    total = sum(stakes.values())
    floor_shares = {v: reward * s // total for v, s in stakes.items()}
    for validator, share in shares.items():
        if validator != proposer:
            assert share == floor_shares[validator]
    remainder = shares[proposer] - floor_shares.get(proposer, 0)
    assert 0 <= remainder <= len(stakes) - 1
    by_stake = sorted((s, v) for v, s in stakes.items() if v != proposer)
    for (_, low), (_, high) in itertools.pairwise(by_stake):
        assert shares[low] <= shares[high]


@pytest.mark.capability("economics")
@pytest.mark.req("I8", "P16")
@given(st.integers(0, 2**62), st.sampled_from(list(Offence)))
@example(1, Offence.EQUIVOCATION)
@example(19, Offence.FALSE_CLAIM)
def test_slash_amount_meets_the_proved_postcondition(
    economics_api: EconomicsAPI, stake: int, offence: Offence
) -> None:
    amount = economics_api.slash_amount(stake, offence.value)
    percent = SLASH_PERCENT[offence]
    assert type(amount) is int
    assert 0 <= amount <= stake
    assert 100 * amount <= stake * percent < 100 * (amount + 1)


@pytest.mark.capability("economics")
@pytest.mark.req("I7", "P20")
@given(st.lists(st.integers(0, 10**9), max_size=40))
@example([BLOCK_REWARD_CAP, 10**9])
def test_block_rewards_stay_within_the_emission_schedule(
    economics_api: EconomicsAPI, difficulties: list[int]
) -> None:
    economics = economics_api
    minted = 0
    assert economics.emission_limit(0) >= 0
    for height, difficulty in enumerate(difficulties, start=1):
        reward = economics.block_reward(difficulty)
        # The induction step I7 proves: a block never mints more than E(h) - E(h-1).
        assert (
            0 <= reward <= economics.emission_limit(height) - economics.emission_limit(height - 1)
        )
        minted += reward
        assert minted <= economics.emission_limit(height)


@pytest.mark.capability("replica")
@pytest.mark.req("I10", "P26")
@given(st.integers(0, 10**13), st.integers(0, 100), st.integers(0, 10**12), st.integers(0, 8))
@example(10**9 + 1, 0, 0, 0)
@example(0, 6, 0, 1)
def test_timeout_meets_the_proved_postcondition(
    replica_api: ReplicaAPI, latency: int, view: int, more_latency: int, more_views: int
) -> None:
    replica = replica_api
    timeout = replica.timeout(latency, view)
    assert timeout >= LATENCY_MULTIPLE * latency
    assert replica.timeout(latency + more_latency, view + more_views) >= timeout
