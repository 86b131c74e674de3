"""The obligation template has one home, and a block's items are decoded once per process.

Spec: R1.1 (proof i of a block is the transfer obligation of transaction i), E12 (strict
decoding). ``aethel.proofs.obligations`` writes and reads the template (the judge, the mempool
and block validation use it); ``aethel.proofs.items`` decodes a block's items once and hands the
same typed values to the limits check, validation, execution and the mempool's commit.
"""

from __future__ import annotations

import random

import pytest

import aethel.proofs.items as items
from aethel.encoding import KeyPair, sha256
from aethel.proofs.errors import MalformedObjectError
from aethel.proofs.judge import Judge
from aethel.proofs.model import proof_from_json, sign_transfer
from aethel.proofs.obligations import (
    get_stated_balance,
    get_transfer_obligation,
    is_obligation_for,
)


@pytest.mark.req("R1.1")
def test_the_template_is_read_back_where_it_is_written() -> None:
    rng = random.Random(3)
    sender, receiver = KeyPair.generate(rng), KeyPair.generate(rng)
    tx = sign_transfer(sender, receiver=receiver.public_key, amount=7, nonce=2)
    proof = Judge(KeyPair.generate(rng)).prove_transfer(tx, 50, 2)
    assert proof.smt == get_transfer_obligation(tx, 50, 2)
    assert get_stated_balance(proof.smt) == 50
    assert is_obligation_for(proof.smt, tx, 60, 2)  # stating less than the balance is safe
    assert not is_obligation_for(proof.smt, tx, 49, 2)  # stating more is not
    assert not is_obligation_for(proof.smt, tx, 60, 3)  # the nonce must be the next one
    assert get_stated_balance("(assert true)") is None


@pytest.mark.req("E12")
def test_a_block_s_items_are_decoded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(4)
    sender, receiver = KeyPair.generate(rng), KeyPair.generate(rng)
    tx = sign_transfer(sender, receiver=receiver.public_key, amount=1, nonce=0)
    proof = Judge(KeyPair.generate(rng)).prove_transfer(tx, 5, 0)
    calls: list[object] = []
    real = proof_from_json

    def counting(value: object) -> object:
        calls.append(value)
        return real(value)

    monkeypatch.setattr(items, "proof_from_json", counting)
    digest = sha256(b"a block holding one transfer and its proof")
    first = items.decode_block_items(digest, [tx.to_json()], [proof.to_json()])
    again = items.decode_block_items(digest, [tx.to_json()], [proof.to_json()])
    assert again is first and first.proofs == (proof,) and first.transfers == (tx,)
    assert len(calls) == 1


@pytest.mark.req("E12")
@pytest.mark.rejects("E12")
def test_a_refusal_is_kept_too_and_raised_typed_each_time() -> None:
    digest = sha256(b"a block with a malformed transaction")
    for _ in range(2):
        with pytest.raises(MalformedObjectError) as info:
            items.decode_block_items(digest, [{"amount": 1}], [])
        assert info.value.rule_id == "E12"
