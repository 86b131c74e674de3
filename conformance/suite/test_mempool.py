"""The mempool: signatures first, block order with 1,000+ pending proofs, conflicts, judge
proofs, metrics (R5.1, R5.5, R6.3, R7.1, R8.2, N3, P21, P23, P25, P30, P33)."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from typing import Any

import pytest

from aethel.encoding import KeyPair
from aethel.proofs.judge import generate_standard_mix
from aethel.proofs.model import sign_transfer
from aethel.proofs.verifier import verify_proof as pinned_verify
from conformance.adapters.api import MempoolAPI, MempoolObject
from conformance.adapters.errors import Rejected
from conformance.checks import expect_equal, expect_rejected
from conformance.plugin import Measure

pytestmark = pytest.mark.capability("mempool")
JUDGE_SEED = bytes([7] * 32)
ALICE, BOB, CAROL = (KeyPair.from_seed(bytes([i] * 32)) for i in (11, 12, 13))


@pytest.fixture
def pool(mempool_api: MempoolAPI) -> Iterator[MempoolObject]:
    made = mempool_api.new(None, JUDGE_SEED.hex())
    yield made
    getattr(made, "close", lambda: None)()


def flipped(item: dict[str, Any]) -> dict[str, Any]:
    bad = dict(item)
    signature = bytearray.fromhex(str(bad["signature"]))
    signature[7] ^= 2
    bad["signature"] = signature.hex()
    return bad


def transfer(sender: KeyPair, receiver: KeyPair, amount: int, nonce: int) -> dict[str, Any]:
    return sign_transfer(sender, receiver=receiver.public_key, amount=amount, nonce=nonce).to_json()


@pytest.mark.req("R5.5", "P23", "P30")
def test_bad_signatures_are_rejected_and_change_nothing(pool: MempoolObject) -> None:
    good = generate_standard_mix(2, 21)[0].to_json()
    pool.add_proof(good)
    before = pool.stats()
    expect_rejected(
        lambda: pool.add_proof(flipped(generate_standard_mix(2, 21)[1].to_json())),
        "a proof with a flipped signature bit",
    )
    expect_rejected(
        lambda: pool.add_transaction(flipped(transfer(ALICE, BOB, 5, 0)), 100, 0),
        "a transfer with a flipped signature bit",
    )
    after = pool.stats()
    expect_equal(
        {k: after[k] for k in ("size", "transactions", "admitted")},
        {k: before[k] for k in ("size", "transactions", "admitted")},
        "the pool",
    )
    expect_equal(pool.select_for_block(10)["proofs"], [good_id(good)], "pending proofs")


def good_id(proof: dict[str, Any]) -> str:
    from aethel.proofs.model import proof_from_json

    return proof_from_json(proof).proof_id.hex()


@pytest.mark.req("R6.3", "P25", "N3")
@pytest.mark.performance
def test_block_order_with_a_thousand_pending_proofs(
    pool: MempoolObject, measure: Measure, seed: int
) -> None:
    """1,200 proofs of varied difficulty, with ties, arrive shuffled: all stay pending, and a
    block takes them by difficulty (highest first), then arrival, then proof id."""
    proofs = [p.to_json() for p in generate_standard_mix(1_200, 40 + seed)]
    random.Random(seed).shuffle(proofs)
    ranks = []
    for arrival, proof in enumerate(proofs):
        admitted = pool.add_proof(proof)
        ranks.append((-admitted["difficulty"], arrival, admitted["proof_id"]))
    difficulties = {-r[0] for r in ranks}
    assert len(difficulties) > 10 and len(difficulties) < len(ranks), (
        "the mix needs variety and ties"
    )
    stats = pool.stats()
    measure.check("N3", "pending_proofs", stats["size"])
    expect_equal(stats["size"], len(proofs), "pending proofs")
    order = pool.select_for_block(len(proofs))["proofs"]
    expect_equal(order, [r[2] for r in sorted(ranks)], "block order")
    measure.check("R6.3", "pending_proofs", len(order))
    for proof in proofs[:25]:  # difficulties are those of the pinned solver (R1.4)
        from aethel.proofs.model import proof_from_json

        parsed = proof_from_json(proof)
        want = pinned_verify(parsed).difficulty
        got = next(-r[0] for r in ranks if r[2] == parsed.proof_id.hex())
        expect_equal(got, want, f"difficulty of {parsed.proof_id.hex()[:12]}")


@pytest.mark.req("R7.1")
@pytest.mark.parametrize("case", ["same-nonce", "overdraft"], ids=str)
def test_conflicting_transfers_are_both_rejected(pool: MempoolObject, case: str) -> None:
    first = transfer(ALICE, BOB, 60, 0)
    pool.add_transaction(first, 100, 0)
    second = transfer(
        ALICE, CAROL, 30 if case == "same-nonce" else 50, 0 if case == "same-nonce" else 1
    )
    expect_rejected(lambda: pool.add_transaction(second, 100, 0), f"a {case} conflict")
    pending = pool.select_for_block(10)
    expect_equal(pending["transactions"], [], "transfers left after the conflict")
    expect_equal(pending["proofs"], [], "proofs left after the conflict")


@pytest.mark.req("R5.1", "P21")
def test_judge_proofs_enter_the_mempool(pool: MempoolObject) -> None:
    """Each admitted transfer comes back with the judge's proof, signed by the judge, valid under
    the pinned solver, covering the transfer, and pending for the next block."""
    from aethel.proofs.model import proof_from_json, transfer_from_json

    judge_key = KeyPair.from_seed(JUDGE_SEED).public_key
    txs = [transfer(ALICE, BOB, 10, 0), transfer(ALICE, CAROL, 5, 1), transfer(BOB, CAROL, 1, 0)]
    accounts = [(100, 0), (100, 0), (50, 0)]
    ids = []
    for tx, (balance, nonce) in zip(txs, accounts, strict=True):
        proof = proof_from_json(pool.add_transaction(tx, balance, nonce))
        expect_equal(proof.submitter.hex(), judge_key.hex(), "the judge signed the proof")
        expect_equal(list(proof.subjects), [transfer_from_json(tx).transaction_id], "subjects")
        expect_equal(pinned_verify(proof).verdict.value, "valid", "the judge's proof verifies")
        ids.append(proof.proof_id.hex())
    expect_equal(sorted(pool.select_for_block(10)["proofs"]), sorted(ids), "pending judge proofs")


@pytest.mark.req("R8.2", "P33")
def test_metrics_count_every_decision(pool: MempoolObject) -> None:
    proofs = [p.to_json() for p in generate_standard_mix(12, 33)]
    for proof in proofs[:10]:
        pool.add_proof(proof)
    pool.add_proof(proofs[0])  # a duplicate changes nothing
    for proof in proofs[10:]:
        with contextlib.suppress(Rejected):
            pool.add_proof(flipped(proof))
    stats = pool.stats()
    expect_equal(
        {k: stats[k] for k in ("size", "admitted", "rejected")},
        {"size": 10, "admitted": 10, "rejected": 2},
        "metrics",
    )
    if not stats["processing_rate"] > 0:
        raise AssertionError(f"processing rate {stats['processing_rate']} after 12 decisions")
    committed = pool.remove_committed([good_id(proofs[0]), good_id(proofs[1])], [])
    expect_equal(committed, 2, "proofs removed by a committed block")
    expect_equal(pool.stats()["size"], 8, "size after the commit")
