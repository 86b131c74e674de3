"""Tie the Z3 models to the code: each formula means the same on Z3 terms as on ints, and the
bounded Merkle model hashes like the spec's tree.

The Z3 proofs of I1, I2 and I6-I10 call the implementation's own ``*_formula`` functions on Z3
terms, so there is no restated formula that could drift from the code. What the proofs still
rely on is that a formula *means* the same on terms as on ints: Z3's Euclidean division against
Python's ``//``, an if-then-else against ``min``/``max``, a case chain against ``1 <<``
(``aethel.arith``). Here each formula is built from numerals, simplified by Z3, and compared
with the ``compute_*`` function (validation plus the int reading) on the same inputs.
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

from aethel.consensus.quorum import (
    compute_max_faulty,
    compute_quorum,
    max_faulty_formula,
    quorum_formula,
)
from aethel.consensus.timeouts import compute_timeout, timeout_formula
from aethel.economics import (
    BLOCK_REWARD_CAP,
    REWARD_PER_DIFFICULTY,
    Offence,
    block_reward_formula,
    compute_block_reward,
    compute_emission_limit,
    compute_proof_reward,
    compute_reward_split,
    compute_slash_amount,
    emission_limit_formula,
    member_share_formula,
    proof_reward_formula,
    slash_amount_formula,
    split_remainder_formula,
)
from aethel.encoding import canonical_json
from aethel.formal.merkle_model import Slot, compute_root, sha256_algebra
from aethel.proofs.difficulty import compute_difficulty, difficulty_formula

V = z3.IntVal
BIG = 10**18


def evaluate(term: z3.ArithRef) -> int:
    """Return the integer value of a closed term; fail if it is not a closed integer term."""
    value = z3.simplify(term)
    assert z3.is_int_value(value), f"term did not reduce to an integer: {value}"
    return int(value.as_long())


@pytest.mark.req("I2")
@given(st.integers(1, BIG))
@example(1)
@example(2)
@example(3)
def test_quorum_formula_on_terms_is_compute_quorum(total_stake: int) -> None:
    assert evaluate(quorum_formula(V(total_stake))) == compute_quorum(total_stake)


@pytest.mark.req("I1")
@given(st.integers(1, BIG))
@example(1)
@example(4)
def test_max_faulty_formula_on_terms_is_compute_max_faulty(n: int) -> None:
    assert evaluate(max_faulty_formula(V(n))) == compute_max_faulty(n)


@pytest.mark.req("I7")
@given(st.integers(0, BIG))
@example(BLOCK_REWARD_CAP // REWARD_PER_DIFFICULTY)
@example(BLOCK_REWARD_CAP // REWARD_PER_DIFFICULTY + 1)
def test_reward_formulas_on_terms_are_compute_block_and_proof_reward(difficulty: int) -> None:
    assert evaluate(block_reward_formula(V(difficulty))) == compute_block_reward(difficulty)
    assert evaluate(proof_reward_formula(V(difficulty))) == compute_proof_reward(difficulty)


@pytest.mark.req("I7")
@given(st.integers(0, BIG))
def test_emission_formula_on_terms_is_compute_emission_limit(height: int) -> None:
    assert evaluate(emission_limit_formula(V(height))) == compute_emission_limit(height)


members = st.dictionaries(
    st.text("abcdefgh", min_size=1, max_size=3), st.integers(0, 10**12), min_size=1, max_size=12
).filter(lambda stakes: sum(stakes.values()) > 0)


@pytest.mark.req("I6", "P3")
@given(st.integers(0, BIG), members, st.sampled_from(["a", "b", "outsider"]))
@example(1, {"a": 1, "b": 1}, "a")
def test_split_formulas_on_terms_are_the_split_and_its_proved_postcondition_holds(
    reward: int, stakes: dict[str, int], proposer: str
) -> None:
    shares = compute_reward_split(reward, stakes, proposer)
    total = sum(stakes.values())
    share_terms = {
        v: member_share_formula(V(reward), V(stake), V(total)) for v, stake in stakes.items()
    }
    floor_shares = {v: evaluate(term) for v, term in share_terms.items()}
    remainder = evaluate(split_remainder_formula(V(reward), share_terms.values()))
    # The postcondition I6 proves for any number of members.
    assert 0 <= remainder <= len(stakes) - 1
    assert sum(shares.values()) == reward
    for validator, share in shares.items():
        bonus = remainder if validator == proposer else 0
        assert share == floor_shares.get(validator, 0) + bonus


@pytest.mark.req("I8", "P16")
@given(st.integers(0, BIG), st.sampled_from(list(Offence)))
@example(1, Offence.EQUIVOCATION)
def test_slash_formula_on_terms_is_compute_slash_amount(stake: int, offence: Offence) -> None:
    amount = compute_slash_amount(stake, offence)
    assert evaluate(slash_amount_formula(V(stake), offence)) == amount
    assert 0 <= amount <= stake


@pytest.mark.req("I9", "P4")
@given(st.integers(0, BIG), st.integers(0, BIG), st.integers(0, 10**6), st.integers(0, 10**6))
@example(0, 0, 0, 1)
@example(0, 0, 64, 65)
def test_difficulty_formula_on_terms_is_compute_difficulty_and_monotone(
    effort: int, size: int, more_effort: int, more_size: int
) -> None:
    base = compute_difficulty(effort, size)
    assert evaluate(difficulty_formula(V(effort), V(size))) == base
    assert compute_difficulty(effort + more_effort, size + more_size) >= base


@pytest.mark.req("I10", "P26")
@given(st.integers(0, 10**15), st.integers(0, 200), st.integers(0, 10**12), st.integers(0, 10))
@example(10**9, 0, 1, 0)
@example(0, 6, 0, 1)
def test_timeout_formula_on_terms_is_compute_timeout_and_its_postcondition_holds(
    latency: int, view: int, more_latency: int, more_views: int
) -> None:
    timeout = compute_timeout(latency, view)
    assert evaluate(timeout_formula(V(latency), V(view))) == timeout
    assert timeout >= 4 * latency
    assert compute_timeout(latency + more_latency, view + more_views) >= timeout


# The bounded Merkle model, evaluated with SHA-256, against the spec's known answers.

KNOWN_ANSWERS = (
    Path(__file__).resolve().parents[2]
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
