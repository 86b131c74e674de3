"""The economics functions (R1.2, R4.2-R4.4, P2, P3, P16, P20), against the catalog's numbers.

These check the integer functions an implementation exposes; the state transitions that apply
them (R1.3, R4.1, R4.5, R4.6) are checked with the state store and the replica. Every constant
(reward per difficulty, cap, slashing percentages, minimum stake) is read from the catalog's
thresholds, never restated here.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.adapters.api import EconomicsAPI
from conformance.checks import expect_equal, expect_rejected
from conformance.plugin import Measure, catalog_threshold

pytestmark = pytest.mark.capability("economics")


def reward_per_difficulty() -> int:
    return int(catalog_threshold("R1.2", "reward_per_difficulty").value)


def block_reward_cap() -> int:
    return int(catalog_threshold("R4.4", "block_reward").value)


@pytest.mark.req("R1.2")
@pytest.mark.parametrize("difficulty", [1, 7, 1_000, 123_457], ids=lambda d: f"difficulty-{d}")
def test_proof_reward_is_fixed_multiple_of_difficulty(
    economics_api: EconomicsAPI, measure: Measure, difficulty: int
) -> None:
    reward = economics_api.proof_reward(difficulty)
    expect_equal(type(reward), int, "type of the reward")
    measure.check("R1.2", "reward_per_difficulty", reward / difficulty, x=difficulty)


@pytest.mark.req("R4.4")
@pytest.mark.parametrize("total", [0, 1, 499_999, 500_000, 500_001, 10**12], ids=lambda d: f"D-{d}")
def test_block_reward_is_proportional_up_to_cap(
    economics_api: EconomicsAPI, measure: Measure, total: int
) -> None:
    reward = economics_api.block_reward(total)
    expect_equal(reward, min(total * reward_per_difficulty(), block_reward_cap()), "block reward")
    measure.check("R4.4", "block_reward", reward, x=total)


@pytest.mark.req("P2")
@given(a=st.integers(0, 10**9), b=st.integers(0, 10**9))
def test_block_reward_is_non_decreasing_in_difficulty(
    economics_api: EconomicsAPI, a: int, b: int
) -> None:
    low, high = sorted((a, b))
    low_reward, high_reward = economics_api.block_reward(low), economics_api.block_reward(high)
    if not low_reward <= high_reward:
        raise AssertionError(f"reward({low}) = {low_reward} > reward({high}) = {high_reward}")


stakes = st.dictionaries(
    st.text("abcdefghij", min_size=1, max_size=3), st.integers(0, 10**12), min_size=1, max_size=12
).filter(lambda members: sum(members.values()) > 0)


@pytest.mark.req("P3")
@given(
    reward=st.integers(0, 10**12), members=stakes, proposer=st.sampled_from(["a", "zz-proposer"])
)
def test_reward_split_is_exact_integer_and_by_stake(
    economics_api: EconomicsAPI, reward: int, members: dict[str, int], proposer: str
) -> None:
    shares = economics_api.reward_split(reward, members, proposer)
    total = sum(members.values())
    expected = {v: reward * s // total for v, s in members.items()}
    expected[proposer] = expected.get(proposer, 0) + reward - sum(expected.values())
    expect_equal(shares, expected, "shares")


@pytest.mark.req("P3", "R1.3")
@pytest.mark.rejects("R1.3")
@pytest.mark.parametrize(
    ("case", "reward", "members"),
    [
        ("empty-certificate", 100, {}),
        ("zero-stake", 100, {"a": 0}),
        ("negative-stake", 100, {"a": -5, "b": 10}),
        ("negative-reward", -1, {"a": 10}),
    ],
    ids=["empty-certificate", "zero-stake", "negative-stake", "negative-reward"],
)
def test_reward_split_rejects_impossible_input(
    economics_api: EconomicsAPI, case: str, reward: int, members: dict[str, int]
) -> None:
    """The split is defined for a certificate with members holding stake (S > 0): the others are
    refused naming R1.3 (a transition forfeits such a reward without splitting it)."""
    expect_rejected(lambda: economics_api.reward_split(reward, members, "a"), case, rule="R1.3")


@pytest.mark.req("R4.2")
@pytest.mark.parametrize(
    ("offence", "metric"),
    [("false-claim", "slash_percent_false_claim"), ("equivocation", "slash_percent_equivocation")],
    ids=["false-claim", "equivocation"],
)
def test_slashing_rate(
    economics_api: EconomicsAPI, measure: Measure, offence: str, metric: str
) -> None:
    stake = 1_000_000
    burned = economics_api.slash_amount(stake, offence)
    expect_equal(type(burned), int, "type of the slashed amount")
    measure.check("R4.2", metric, burned * 100 / stake)


@pytest.mark.req("P16", "R4.2")
@given(stake=st.integers(0, 10**15), offence=st.sampled_from(["false-claim", "equivocation"]))
def test_slashing_is_floor_of_rate(economics_api: EconomicsAPI, stake: int, offence: str) -> None:
    metric = {
        "false-claim": "slash_percent_false_claim",
        "equivocation": "slash_percent_equivocation",
    }
    percent = int(catalog_threshold("R4.2", metric[offence]).value)
    expect_equal(economics_api.slash_amount(stake, offence), stake * percent // 100, "slashed")


@pytest.mark.req("R4.2")
@pytest.mark.rejects("R4.2")
def test_unknown_offence_is_rejected(economics_api: EconomicsAPI) -> None:
    """Being offline is no offence (R4.6): slashing for it is refused naming R4.2."""
    expect_rejected(
        lambda: economics_api.slash_amount(10_000, "offline"), "offence 'offline'", rule="R4.2"
    )


@pytest.mark.req("R4.3")
def test_minimum_stake_boundary(economics_api: EconomicsAPI, measure: Measure) -> None:
    minimum = int(catalog_threshold("R4.3", "member_stake").value)
    expect_equal(economics_api.is_eligible_stake(minimum), True, f"stake {minimum}")
    expect_equal(economics_api.is_eligible_stake(minimum - 1), False, f"stake {minimum - 1}")
    expect_equal(economics_api.is_eligible_stake(0), False, "stake 0")
    least = min(s for s in (minimum - 1, minimum) if economics_api.is_eligible_stake(s))
    measure.check("R4.3", "member_stake", least)


@pytest.mark.req("P20")
@given(difficulties=st.lists(st.integers(0, 10**9), max_size=40))
def test_minted_never_exceeds_emission_schedule(
    economics_api: EconomicsAPI, difficulties: list[int]
) -> None:
    minted = 0
    for height, difficulty in enumerate(difficulties, start=1):
        minted += economics_api.block_reward(difficulty)
        limit = economics_api.emission_limit(height)
        if minted > limit:
            raise AssertionError(f"minted {minted} > E({height}) = {limit}")
