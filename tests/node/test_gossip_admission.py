"""A transfer gossiped with its judge proof is admitted under the block validator's rules.

A node admits a client's transfer (proved by the client or by its own judge) and gossips the
pair; every peer admits it with :meth:`Mempool.add_proved_transaction`, which must refuse what a
block validator would refuse (R1.1: the proof is the transfer's obligation on at most the balance
left; R1.5: it verifies; R5.5: both signatures), on top of the transfer checks (R7.1).
"""

from __future__ import annotations

import random

import pytest

from aethel.encoding import KeyPair
from aethel.errors import SignatureError
from aethel.proofs.errors import ProofRejected, TransactionRejected
from aethel.proofs.judge import Account, Judge
from aethel.proofs.mempool import Mempool
from aethel.proofs.model import Outcome, Proof, ProofKind, Transfer, sign_proof, sign_transfer
from aethel.proofs.obligations import get_transfer_obligation

RNG = random.Random(1606)
ALICE, BOB = KeyPair.generate(RNG), KeyPair.generate(RNG)
CLIENT = Judge(KeyPair.generate(RNG))
ACCOUNT = Account(balance=1_000, nonce=0)


def transfer(amount: int, nonce: int = 0) -> Transfer:
    return sign_transfer(ALICE, receiver=BOB.public_key, amount=amount, nonce=nonce)


def pool() -> Mempool:
    return Mempool(judge=Judge(KeyPair.generate(RNG)))


@pytest.mark.req("R1.1", "R5.1")
def test_a_transfer_with_its_obligation_proof_is_admitted_and_carried_into_blocks() -> None:
    mempool = pool()
    first, second = transfer(100), transfer(200, 1)
    mempool.add_proved_transaction(first, CLIENT.prove_transfer(first, 1_000, 0), ACCOUNT)
    # The second states the balance left after the first (less than the account holds: fine).
    mempool.add_proved_transaction(second, CLIENT.prove_transfer(second, 900, 1), ACCOUNT)
    contents = mempool.select_for_block(10, transfers_only=True)
    assert [tx.nonce for tx in contents.transactions] == [0, 1]
    again = mempool.add_proved_transaction(first, CLIENT.prove_transfer(first, 1_000, 0), ACCOUNT)
    assert again.proof.subjects == (first.transaction_id,) and len(mempool) == 2


@pytest.mark.req("R1.1")
@pytest.mark.rejects("R1.1")
def test_a_proof_stating_more_than_the_balance_left_is_refused() -> None:
    mempool = pool()
    first, second = transfer(100), transfer(200, 1)
    mempool.add_proved_transaction(first, CLIENT.prove_transfer(first, 1_000, 0), ACCOUNT)
    with pytest.raises(ProofRejected, match=r"R1\.1.*at most 900"):
        mempool.add_proved_transaction(second, CLIENT.prove_transfer(second, 1_000, 1), ACCOUNT)
    assert len(mempool) == 1


@pytest.mark.req("R1.1")
@pytest.mark.rejects("R1.1")
def test_a_proof_of_another_transfer_or_another_text_is_refused() -> None:
    mempool = pool()
    tx, other = transfer(100), transfer(101)
    with pytest.raises(ProofRejected, match=r"R1\.1.*does not cover"):
        mempool.add_proved_transaction(tx, CLIENT.prove_transfer(other, 1_000, 0), ACCOUNT)
    padded = sign_proof(
        CLIENT.key,
        kind=ProofKind.TRANSFER,
        smt=get_transfer_obligation(tx, 1_000, 0) + "(assert true)",
        claimed=Outcome.UNSAT,
        budget=CLIENT.budget,
        subjects=(tx.transaction_id,),
    )
    with pytest.raises(ProofRejected, match=r"R1\.1.*not its obligation"):
        mempool.add_proved_transaction(tx, padded, ACCOUNT)
    assert len(mempool) == 0


@pytest.mark.req("R1.5")
@pytest.mark.rejects("R1.5")
def test_a_false_claim_is_refused_after_verification() -> None:
    tx = transfer(100)
    false = sign_proof(
        CLIENT.key,
        kind=ProofKind.TRANSFER,
        smt=get_transfer_obligation(tx, 1_000, 0),
        claimed=Outcome.SAT,  # the obligation holds (unsat): claiming sat is false
        budget=CLIENT.budget,
        subjects=(tx.transaction_id,),
    )
    mempool = pool()
    with pytest.raises(ProofRejected) as refused:
        mempool.add_proved_transaction(tx, false, ACCOUNT)
    assert refused.value.rule_id.startswith("R1")
    assert len(mempool) == 0


@pytest.mark.req("R5.5")
@pytest.mark.rejects("R5.5")
def test_forged_signatures_are_refused_first() -> None:
    tx = transfer(100)
    proof = CLIENT.prove_transfer(tx, 1_000, 0)
    bad_proof = Proof(
        proof.kind, proof.smt, proof.claimed, proof.budget, proof.submitter,
        bytes([proof.signature[0] ^ 1]) + proof.signature[1:], proof.subjects, proof.ghost,
    )  # fmt: skip
    bad_tx = Transfer(tx.sender, tx.receiver, tx.amount, tx.nonce, bytes(64))
    mempool = pool()
    with pytest.raises(SignatureError, match=r"R5\.5.*proof signature"):
        mempool.add_proved_transaction(tx, bad_proof, ACCOUNT)
    with pytest.raises(SignatureError, match=r"R5\.5.*sender signature"):
        mempool.add_proved_transaction(bad_tx, proof, ACCOUNT)
    assert len(mempool) == 0


@pytest.mark.req("R7.1")
@pytest.mark.rejects("R7.1")
def test_the_transfer_checks_apply_to_proved_transfers_too() -> None:
    mempool = pool()
    gap = transfer(100, 1)
    with pytest.raises(TransactionRejected, match=r"R7\.1.*expected 0"):
        mempool.add_proved_transaction(gap, CLIENT.prove_transfer(gap, 1_000, 1), ACCOUNT)
    used = transfer(100, 0)
    with pytest.raises(TransactionRejected, match=r"R7\.1.*already used"):
        mempool.add_proved_transaction(
            used, CLIENT.prove_transfer(used, 1_000, 0), Account(1_000, 1)
        )
