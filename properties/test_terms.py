"""Tie the Z3 models to the code: each symbolic term, evaluated on concrete inputs, equals the
implementation's function, and the bounded Merkle model hashes like the spec's tree.

If a formula in aethel changes and its term in ``properties/invariants/terms.py`` does not, these
tests fail, so the Z3 proofs can never silently be about a different formula than the code.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import z3
from hypothesis import example, given
from hypothesis import strategies as st

from aethel.consensus.quorum import compute_max_faulty, compute_quorum
from aethel.consensus.timeouts import compute_timeout
from aethel.economics import (
    BLOCK_REWARD_CAP,
    REWARD_PER_DIFFICULTY,
    Offence,
    compute_block_reward,
    compute_emission_limit,
    compute_reward_split,
    compute_slash_amount,
)
from aethel.encoding import canonical_json
from aethel.proofs.difficulty import compute_difficulty
from properties.invariants import terms
from properties.invariants.merkle_model import Slot, compute_root, sha256_algebra

V = z3.IntVal
BIG = 10**18


@pytest.mark.req("I2")
@given(st.integers(1, BIG))
@example(1)
@example(2)
@example(3)
def test_quorum_term_is_compute_quorum(total_stake: int) -> None:
    assert terms.evaluate(terms.quorum_term(V(total_stake))) == compute_quorum(total_stake)


@pytest.mark.req("I1")
@given(st.integers(1, BIG))
@example(1)
@example(4)
def test_max_faulty_term_is_compute_max_faulty(n: int) -> None:
    assert terms.evaluate(terms.max_faulty_term(V(n))) == compute_max_faulty(n)


@pytest.mark.req("I7")
@given(st.integers(0, BIG))
@example(BLOCK_REWARD_CAP // REWARD_PER_DIFFICULTY)
@example(BLOCK_REWARD_CAP // REWARD_PER_DIFFICULTY + 1)
def test_block_reward_term_is_compute_block_reward(difficulty: int) -> None:
    assert terms.evaluate(terms.block_reward_term(V(difficulty))) == compute_block_reward(
        difficulty
    )


@pytest.mark.req("I7")
@given(st.integers(0, BIG))
def test_emission_term_is_compute_emission_limit(height: int) -> None:
    assert terms.evaluate(terms.emission_limit_term(V(height))) == compute_emission_limit(height)


members = st.dictionaries(
    st.text("abcdefgh", min_size=1, max_size=3), st.integers(0, 10**12), min_size=1, max_size=12
).filter(lambda stakes: sum(stakes.values()) > 0)


@pytest.mark.req("I6", "P3")
@given(st.integers(0, BIG), members, st.sampled_from(["a", "b", "outsider"]))
@example(1, {"a": 1, "b": 1}, "a")
def test_share_term_is_the_split_and_its_proved_postcondition_holds(
    reward: int, stakes: dict[str, int], proposer: str
) -> None:
    shares = compute_reward_split(reward, stakes, proposer)
    total = sum(stakes.values())
    floor_shares = {
        v: terms.evaluate(terms.share_term(V(reward), V(stake), V(total)))
        for v, stake in stakes.items()
    }
    remainder = reward - sum(floor_shares.values())
    # The postcondition I6 proves for any number of members.
    assert 0 <= remainder <= len(stakes) - 1
    assert sum(shares.values()) == reward
    for validator, share in shares.items():
        bonus = remainder if validator == proposer else 0
        assert share == floor_shares.get(validator, 0) + bonus


@pytest.mark.req("I8", "P16")
@given(st.integers(0, BIG), st.sampled_from(list(Offence)))
@example(1, Offence.EQUIVOCATION)
def test_slash_term_is_compute_slash_amount(stake: int, offence: Offence) -> None:
    amount = compute_slash_amount(stake, offence)
    assert terms.evaluate(terms.slash_term(V(stake), offence)) == amount
    assert 0 <= amount <= stake


@pytest.mark.req("I9", "P4")
@given(st.integers(0, BIG), st.integers(0, BIG), st.integers(0, 10**6), st.integers(0, 10**6))
@example(0, 0, 0, 1)
@example(0, 0, 64, 65)
def test_difficulty_term_is_compute_difficulty_and_monotone(
    effort: int, size: int, more_effort: int, more_size: int
) -> None:
    base = compute_difficulty(effort, size)
    assert terms.evaluate(terms.difficulty_term(V(effort), V(size))) == base
    assert compute_difficulty(effort + more_effort, size + more_size) >= base


@pytest.mark.req("I10", "P26")
@given(st.integers(0, 10**15), st.integers(0, 200), st.integers(0, 10**12), st.integers(0, 10))
@example(10**9, 0, 1, 0)
@example(0, 6, 0, 1)
def test_timeout_term_is_compute_timeout_and_its_postcondition_holds(
    latency: int, view: int, more_latency: int, more_views: int
) -> None:
    timeout = compute_timeout(latency, view)
    assert terms.evaluate(terms.timeout_term(V(latency), V(view))) == timeout
    assert timeout >= 4 * latency
    assert compute_timeout(latency + more_latency, view + more_views) >= timeout


# The bounded Merkle model, evaluated with SHA-256, against the spec's known answers.

KNOWN_ANSWERS = (
    Path(__file__).resolve().parent.parent
    / "conformance"
    / "vectors"
    / "external"
    / "smt"
    / "known-answers.json"
)


def model_root(state: dict[str, Any], depth: int) -> bytes:
    """Return the bounded model's root of ``state`` with SHA-256 (keys must fit ``depth``)."""
    slots = [Slot(False, bytes(32), bytes(32)) for _ in range(2**depth)]
    for key, value in state.items():
        path = hashlib.sha256(key.encode()).digest()
        index = int.from_bytes(path, "big") >> (256 - depth)
        if slots[index].present:
            raise ValueError(f"{key!r} shares its first {depth} path bits with another key")
        slots[index] = Slot(True, path, hashlib.sha256(canonical_json(value)).digest())
    return bytes(compute_root(slots, sha256_algebra()))


def _known_answer_cases() -> list[Any]:
    cases = json.loads(KNOWN_ANSWERS.read_text(encoding="utf-8"))["cases"]
    return [pytest.param(case, id=f"{len(case['state'])}-keys") for case in cases]


@pytest.mark.req("I3")
@pytest.mark.parametrize("case", _known_answer_cases())
def test_merkle_model_with_sha256_matches_the_known_answers(case: dict[str, Any]) -> None:
    # Every known-answer state has keys that differ within their first 3 path bits, the shape
    # the depth-3 model covers.
    assert model_root(case["state"], 3).hex() == case["root"]
