"""R7.1 is decided once (aethel/spending.py) and its three users agree on every transfer.

The judge (before proving), the state transition (the ``transfer`` operation) and the block
validator's running accounts all call :func:`aethel.spending.find_double_spend`; these tests pin
the order of its checks and show, on a grid of transfers, that the judge and the state layer
refuse exactly the same ones, naming R7.1 (the state layer names R3.6 for a lone overdraft, a
book operation taking more than a balance holds: spec/economics.md).
"""

from __future__ import annotations

import random

import pytest

from aethel.encoding import KeyPair, to_hex
from aethel.merkle.tree import StateTree
from aethel.proofs.errors import TransactionRejected
from aethel.proofs.judge import Account, Judge
from aethel.proofs.model import sign_transfer
from aethel.spending import RunningAccounts, Spend, find_double_spend
from aethel.state.errors import TransitionError
from aethel.state.layout import nonce_key
from aethel.state.transitions import (
    Genesis,
    TransferOperation,
    Transition,
    compute_genesis,
    compute_transition,
)


def spend(amount: int, nonce: int, balance: int, expected: int, **kw: int) -> Spend | None:
    found = find_double_spend(
        sender="a", amount=amount, nonce=nonce, balance=balance, expected_nonce=expected, **kw
    )
    return None if found is None else found.kind


@pytest.mark.req("R7.1")
@pytest.mark.rejects("R7.1")
def test_the_checks_and_their_order() -> None:
    assert spend(10, 3, 10, 3) is None
    assert spend(11, 3, 10, 3) is Spend.OVERDRAFT
    assert spend(11, 3, 10, 3, spent=1) is Spend.JOINT_OVERDRAFT
    assert spend(1, 4, 10, 3) is Spend.NONCE_OUT_OF_ORDER
    assert spend(1, 2, 10, 3) is Spend.NONCE_OUT_OF_ORDER  # spent before the run: stale
    assert spend(1, 2, 10, 3, first_nonce=1) is Spend.REPEATED_NONCE  # spent in this run
    # The nonce is decided before the balance.
    assert spend(11, 4, 10, 3) is Spend.NONCE_OUT_OF_ORDER


@pytest.mark.req("R7.1")
def test_running_accounts_stage_and_never_write_the_pre_state() -> None:
    pre = {"a": 10, "b": 0}
    running: RunningAccounts[str] = RunningAccounts(pre.__getitem__, lambda _: 0)
    assert running.check("a", 6, 0) is None
    running.apply("a", "b", 6)
    found = running.check("a", 6, 1)
    assert found is not None and found.kind is Spend.JOINT_OVERDRAFT
    assert found.operation_rule == "R7.1"
    repeated = running.check("a", 1, 0)
    assert repeated is not None and repeated.kind is Spend.REPEATED_NONCE
    assert running.balance("b") == 6 and running.nonce("a") == 1
    assert pre == {"a": 10, "b": 0}


@pytest.mark.req("R7.1", "R3.6")
def test_the_judge_and_the_state_layer_refuse_the_same_transfers() -> None:
    """Every (amount, nonce) against one account: the judge refuses iff the transition does."""
    rng = random.Random(18)
    sender, receiver = KeyPair.generate(rng), KeyPair.generate(rng)
    judge = Judge(KeyPair.generate(rng))
    names = to_hex(sender.public_key), to_hex(receiver.public_key)
    tree = StateTree()
    tree.batch_update(compute_genesis(Genesis({names[0]: 5}, {"v1": 1})).writes)
    tree.batch_update({nonce_key(names[0]): 2})  # the sender has sent two transfers
    compared = 0
    for amount in range(1, 8):
        for nonce in range(0, 5):
            tx = sign_transfer(sender, receiver=receiver.public_key, amount=amount, nonce=nonce)
            try:
                judge.prove_transfer(tx, 5, 2)
                judge_rule = None
            except TransactionRejected as exc:
                judge_rule = exc.rule_id
            operation = TransferOperation(names[0], names[1], amount, nonce)
            try:
                compute_transition(tree.get, Transition(1, (operation,)))
                state_rule = None
            except TransitionError as exc:
                state_rule = exc.rule_id
            assert (judge_rule is None) == (state_rule is None), (amount, nonce)
            if judge_rule is not None:
                assert judge_rule == "R7.1"
                assert state_rule == ("R3.6" if nonce == 2 else "R7.1"), (amount, nonce)
            compared += 1
    assert compared == 35


@pytest.mark.req("R7.1")
@pytest.mark.rejects("R7.1")
def test_a_batch_repeating_a_nonce_is_refused_as_the_state_layer_refuses_it() -> None:
    rng = random.Random(7)
    a, b = KeyPair.generate(rng), KeyPair.generate(rng)
    judge = Judge(KeyPair.generate(rng))
    batch = [
        sign_transfer(a, receiver=b.public_key, amount=1, nonce=0),
        sign_transfer(a, receiver=b.public_key, amount=2, nonce=0),
    ]
    with pytest.raises(TransactionRejected, match=r"two transfers from .* with nonce 0"):
        judge.prove_batch(batch, {a.public_key: Account(10, 0)})
