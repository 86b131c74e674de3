"""The mempool: admission, conflicts, order, bound and metrics (R5.1, R5.5, R6.3, R7.1, R8.2)."""

from __future__ import annotations

import logging
import random

import pytest

from aethel.encoding import KeyPair
from aethel.errors import SignatureError
from aethel.proofs.errors import MempoolFull, ProofRejected, TransactionRejected
from aethel.proofs.judge import Account, Judge, generate_standard_mix
from aethel.proofs.mempool import Mempool
from aethel.proofs.model import Outcome, Proof, ProofKind, Transfer, sign_proof, sign_transfer
from aethel.proofs.obligations import get_transfer_obligation
from aethel.proofs.parallel import ResultCache, Verifier, verify_proof_block

RNG = random.Random(77)
ALICE, BOB, CAROL = (KeyPair.generate(RNG) for _ in range(3))


def flip(proof: Proof) -> Proof:
    signature = bytes([proof.signature[0] ^ 1]) + proof.signature[1:]
    return Proof(
        proof.kind, proof.smt, proof.claimed, proof.budget, proof.submitter, signature,
        proof.subjects, proof.ghost,
    )  # fmt: skip


def transfer(key: KeyPair, amount: int, nonce: int, receiver: KeyPair = BOB) -> Transfer:
    return sign_transfer(key, receiver=receiver.public_key, amount=amount, nonce=nonce)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def big_mix() -> tuple[list[Proof], Verifier]:
    """1,100 standard-mix proofs, verified once (in parallel) into a shared cache."""
    proofs = generate_standard_mix(1_100, seed=21)
    verifier = Verifier(cache=ResultCache(max_size=5_000))
    results = verify_proof_block(proofs, parallel=True, cache=verifier.cache)
    assert all(result.is_valid for result in results)
    return proofs, verifier


def pool(judge_key: KeyPair, **options: object) -> Mempool:
    return Mempool(judge=Judge(judge_key), **options)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- order (R6.3)


@pytest.mark.req("R6.3", "P25", "N3")
def test_blocks_take_the_highest_difficulty_first_among_1100_pending(
    big_mix: tuple[list[Proof], Verifier],
) -> None:
    proofs, verifier = big_mix
    arrival = list(proofs)
    random.Random(5).shuffle(arrival)
    mempool = Mempool(verifier=verifier)
    for proof in arrival:
        mempool.add_proof(proof)
    assert len(mempool) == mempool.stats().size == 1_100
    difficulty = {p.proof_id: verifier.verify(p).difficulty for p in proofs}
    assert len(set(difficulty.values())) > 10  # varied difficulty...
    assert len(set(difficulty.values())) < 1_100  # ...with ties broken by arrival
    expected = sorted(
        range(len(arrival)),
        key=lambda i: (-difficulty[arrival[i].proof_id], i, arrival[i].proof_id),
    )
    block = mempool.select_for_block(1_100)
    assert [p.proof_id for p in block.proofs] == [arrival[i].proof_id for i in expected]
    top = mempool.select_for_block(100)
    assert top.proofs == block.proofs[:100]
    assert [entry.proof for entry in mempool.pending()] == list(block.proofs)
    assert mempool.remove_committed([p.proof_id for p in top.proofs]) == 100
    assert mempool.select_for_block(5).proofs == block.proofs[100:105]
    assert mempool.stats().committed == 100


@pytest.mark.req("R6.3", "P25")
def test_a_later_nonce_never_precedes_its_predecessor(judge_key: KeyPair) -> None:
    mempool = pool(judge_key)
    # With 19-digit balances and amounts, the nonce-9 obligation has 319 bytes (size term 5)
    # and the nonce-10 and nonce-11 ones 321 (size term 6): the later proofs outrank the one
    # they depend on.
    amounts = [10**18, 10**18, 10**18]
    for nonce, amount in enumerate(amounts, start=9):
        mempool.add_transaction(transfer(ALICE, amount, nonce), Account(9 * 10**18, 9))
    ranks = [entry.rank for entry in mempool.pending()]
    nonces_in_rank_order = [
        mempool._transactions[e.proof.subjects[0]].nonce for e in mempool.pending()
    ]
    assert nonces_in_rank_order != sorted(nonces_in_rank_order), "no inversion to test"
    assert ranks == sorted(ranks)
    block = mempool.select_for_block(len(amounts))
    assert [tx.nonce for tx in block.transactions] == [9, 10, 11]
    assert [p.subjects[0] for p in block.proofs] == [tx.transaction_id for tx in block.transactions]
    assert [tx.nonce for tx in mempool.select_for_block(2).transactions] == [9, 10]


# --------------------------------------------------------------------------- admission (R5.5)


@pytest.mark.req("R5.5", "P23", "P30", "R7.5")
def test_signatures_are_checked_before_anything_else(judge_key: KeyPair, mix: list[Proof]) -> None:
    verifier = Verifier()
    mempool = Mempool(verifier=verifier, judge=Judge(judge_key))
    with pytest.raises(SignatureError) as info:
        mempool.add_proof(flip(mix[0]))
    assert info.value.rule_id == "R5.5"
    assert verifier.cache_stats().misses == 0  # verification never started
    stolen = Proof(
        mix[0].kind, mix[0].smt, mix[0].claimed, mix[0].budget, ALICE.public_key,
        mix[0].signature, mix[0].subjects,
    )  # fmt: skip
    with pytest.raises(SignatureError):
        mempool.add_proof(stolen)
    tx = transfer(ALICE, 5, 0)
    forged = Transfer(tx.sender, tx.receiver, 500, tx.nonce, tx.signature)
    with pytest.raises(SignatureError):
        mempool.add_transaction(forged, Account(1_000, 0))
    assert mempool.judge is not None and mempool.judge.produced == 0
    assert len(mempool) == 0
    assert mempool.stats().rejected == 3
    assert mempool.add_proof(mix[0]).proof == mix[0]
    assert mempool.add_proof(mix[0]).arrival == 0  # an exact duplicate changes nothing
    assert mempool.stats().admitted == 1


@pytest.mark.req("R1.5", "P5")
def test_invalid_and_unknown_proofs_are_refused(judge_key: KeyPair) -> None:
    mempool = Mempool()
    false_claim = sign_proof(
        judge_key,
        kind=ProofKind.TRANSFER,
        smt=get_transfer_obligation(transfer(ALICE, 50, 0), 10, 0),
        budget=100_000,
    )
    with pytest.raises(ProofRejected) as info:
        mempool.add_proof(false_claim)
    assert info.value.rule_id == "R1.5"
    hard = "(declare-const x Int)(declare-const y Int)(assert (> x 0))(assert (> y 0))"
    hard += "(assert (= (* x x) (* 2 y y)))(assert (< x 50))"
    starved = sign_proof(
        judge_key, kind=ProofKind.GENERIC, smt=hard, claimed=Outcome.UNSAT, budget=1_000
    )
    with pytest.raises(ProofRejected):
        mempool.add_proof(starved)
    forbidden = sign_proof(judge_key, kind=ProofKind.GENERIC, smt="(push 1)", budget=10)
    with pytest.raises(ProofRejected) as info:
        mempool.add_proof(forbidden)
    assert info.value.rule_id == "N6"
    assert len(mempool) == 0


# --------------------------------------------------------------------------- judge (R5.1)


@pytest.mark.req("R5.1", "P21")
def test_every_judge_proof_of_an_admitted_transfer_enters_the_mempool(judge_key: KeyPair) -> None:
    mempool = pool(judge_key)
    senders = [ALICE, BOB, CAROL]
    accounts = {key.public_key: Account(1_000_000, 3) for key in senders}
    produced = []
    rng = random.Random(9)
    next_nonce = {key.public_key: 3 for key in senders}
    for _ in range(30):
        sender = rng.choice(senders)
        receiver = next(k for k in senders if k is not sender)
        tx = transfer(sender, rng.randrange(1, 1_000), next_nonce[sender.public_key], receiver)
        entry = mempool.add_transaction(tx, accounts[sender.public_key])
        next_nonce[sender.public_key] += 1
        produced.append(entry.proof)
        assert entry.proof.subjects == (tx.transaction_id,)
        assert mempool.has_transaction(tx.transaction_id)
    assert mempool.judge is not None and mempool.judge.produced == len(produced) == 30
    assert all(proof.proof_id in mempool for proof in produced)
    block = mempool.select_for_block(30)
    assert {p.proof_id for p in block.proofs} == {p.proof_id for p in produced}
    mempool.remove_committed(transaction_ids=[tx.transaction_id for tx in block.transactions[:10]])
    assert all(p.proof_id in mempool for p in produced if p not in block.proofs[:10])


# --------------------------------------------------------------------------- conflicts (R7.1)


@pytest.mark.req("R7.1")
def test_a_double_spend_rejects_both_transfers(judge_key: KeyPair) -> None:
    mempool = pool(judge_key)
    account = Account(1_000, 0)
    first = mempool.add_transaction(transfer(ALICE, 100, 0), account)
    second = transfer(ALICE, 200, 0, CAROL)
    with pytest.raises(TransactionRejected) as info:
        mempool.add_transaction(second, account)
    assert info.value.rule_id == "R7.1"
    assert first.proof.proof_id not in mempool
    assert not mempool.has_transaction(first.proof.subjects[0])
    assert not mempool.has_transaction(second.transaction_id)
    assert len(mempool) == 0


@pytest.mark.req("R7.1")
def test_transfers_that_together_overdraw_are_all_rejected(judge_key: KeyPair) -> None:
    mempool = pool(judge_key)
    account = Account(100, 0)
    mempool.add_transaction(transfer(ALICE, 30, 0), account)
    mempool.add_transaction(transfer(ALICE, 30, 1), account)
    other = mempool.add_transaction(transfer(BOB, 5, 0, CAROL), Account(5, 0))
    with pytest.raises(TransactionRejected, match="together"):
        mempool.add_transaction(transfer(ALICE, 50, 2), account)
    assert [entry.proof for entry in mempool.pending()] == [other.proof]


@pytest.mark.req("R7.1")
def test_a_double_spend_inside_a_chain_drops_its_successors(judge_key: KeyPair) -> None:
    mempool = pool(judge_key)
    account = Account(1_000, 0)
    kept = mempool.add_transaction(transfer(ALICE, 1, 0), account)
    mempool.add_transaction(transfer(ALICE, 2, 1), account)
    mempool.add_transaction(transfer(ALICE, 3, 2), account)
    with pytest.raises(TransactionRejected):
        mempool.add_transaction(transfer(ALICE, 4, 1), account)
    assert [entry.proof for entry in mempool.pending()] == [kept.proof]


@pytest.mark.req("R7.1")
@pytest.mark.parametrize(("nonce", "reason"), [(2, "already used"), (5, "expected 3")])
def test_stale_and_gapped_nonces_are_rejected(judge_key: KeyPair, nonce: int, reason: str) -> None:
    mempool = pool(judge_key)
    with pytest.raises(TransactionRejected, match=reason):
        mempool.add_transaction(transfer(ALICE, 1, nonce), Account(10, 3))
    with pytest.raises(TransactionRejected, match=r"overdraws|together"):
        mempool.add_transaction(transfer(ALICE, 11, 3), Account(10, 3))
    assert len(mempool) == 0 and mempool.stats().rejected == 2


@pytest.mark.req("R7.1")
def test_a_committed_account_update_drops_stale_transfers(judge_key: KeyPair) -> None:
    mempool = pool(judge_key)
    for nonce in range(3):
        mempool.add_transaction(transfer(ALICE, 10, nonce), Account(100, 0))
    assert mempool.remove_stale(ALICE.public_key, Account(90, 1)) == 1
    assert len(mempool) == 2
    assert mempool.remove_stale(ALICE.public_key, Account(5, 1)) == 2
    assert len(mempool) == 0


# --------------------------------------------------------------------------- bound (N6)


@pytest.mark.req("N6")
def test_a_full_mempool_evicts_the_last_proof_or_refuses(
    judge_key: KeyPair, big_mix: tuple[list[Proof], Verifier]
) -> None:
    proofs, verifier = big_mix
    by_difficulty = sorted(proofs, key=lambda p: verifier.verify(p).difficulty)
    low, mid, high = by_difficulty[0], by_difficulty[550], by_difficulty[-1]
    mempool = Mempool(verifier=verifier, judge=Judge(judge_key), capacity=2)
    mempool.add_proof(mid)
    mempool.add_proof(low)
    tie = next(
        p
        for p in by_difficulty[1:]
        if verifier.verify(p).difficulty == verifier.verify(low).difficulty
    )
    with pytest.raises(MempoolFull) as info:
        mempool.add_proof(tie)  # equal difficulty, later arrival: ranks below the last one
    assert info.value.rule_id == "N6"
    mempool.add_proof(high)
    assert [e.proof for e in mempool.pending()] == [high, mid]
    assert mempool.stats().evicted == 1
    produced = mempool.judge.produced if mempool.judge else -1
    with pytest.raises(MempoolFull):
        mempool.add_transaction(transfer(ALICE, 1, 0), Account(10, 0))
    assert mempool.judge is not None and mempool.judge.produced == produced  # judge never ran


# --------------------------------------------------------------------------- metrics (R8.2)


@pytest.mark.req("R8.2", "P33")
def test_size_and_processing_rate_are_exact_at_any_time(judge_key: KeyPair) -> None:
    clock = Clock()
    mempool = Mempool(judge=Judge(judge_key), clock=clock, rate_window=10.0)
    assert mempool.stats().processing_rate == 0.0
    for nonce in range(5):
        mempool.add_transaction(transfer(ALICE, 1, nonce), Account(100, 0))
        clock.now += 1.0
    with pytest.raises(TransactionRejected):
        mempool.add_transaction(transfer(ALICE, 1, 9), Account(100, 0))  # a nonce gap
    stats = mempool.stats()
    assert (stats.size, stats.transactions, stats.admitted, stats.rejected) == (5, 5, 5, 1)
    assert stats.processing_rate == 6 / 10.0
    clock.now += 5.5  # decisions at t = 0..5 s; now t = 10.5 s: the first falls out
    assert mempool.stats().processing_rate == 5 / 10.0
    clock.now += 100.0
    assert mempool.stats().processing_rate == 0.0
    assert mempool.stats().size == 5


def test_admission_logs_name_the_rule(judge_key: KeyPair, caplog: pytest.LogCaptureFixture) -> None:
    mempool = pool(judge_key)
    with (
        caplog.at_level(logging.INFO, logger="aethel.proofs.mempool"),
        pytest.raises(TransactionRejected),
    ):
        mempool.add_transaction(transfer(ALICE, 1, 9), Account(10, 0))
    assert "R7.1" in caplog.text
