"""Staking operations of the state layer: ``bond`` and ``unbond`` move an amount between a
balance and a stake and change no total (R3.6; spec/economics.md, the operations table: "bond ...
moves amount from balance:<account> to stake:<validator>", "unbond ... moves amount from
stake:<validator> to balance:<account>").

Written from the mechanical campaign's survivor
``aethel/state/transitions.py:_apply:RemoveStatement:66f3f3bb`` (a bond that credits the stake
without debiting the balance: tokens from nothing), and the hand-written mutant
``store-bond-not-debited``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.adapters.api import StateStoreAPI, StateStoreObject
from conformance.checks import expect_equal

pytestmark = pytest.mark.capability("state-store")
BALANCE, STAKE = 1_000_000, 50_000


@pytest.fixture
def store(state_store_api: StateStoreAPI, tmp_path: Path) -> Iterator[StateStoreObject]:
    opened = state_store_api.open(str(tmp_path / "state.sqlite"))
    opened.commit_genesis({"alice": BALANCE, "bob": BALANCE}, {"val0": STAKE, "val1": STAKE})
    yield opened
    getattr(opened, "close", lambda: None)()


def _value(store: StateStoreObject, key: str) -> Any:
    found = store.get(key, None)
    return found.get("value", 0) if found.get("found") else 0


def _books(store: StateStoreObject) -> dict[str, int]:
    keys = ["balance:alice", "balance:bob", "stake:val0", "stake:val1"]
    keys += ["supply:genesis", "supply:minted", "supply:burned"]
    return {key: _value(store, key) for key in keys}


@pytest.mark.req("R3.6", "P14")
def test_bond_and_unbond_move_the_amount_and_keep_the_books(store: StateStoreObject) -> None:
    """Height 1 bonds 300 of alice's to val0; height 2 unbonds 120 of val0's to bob: each moves
    exactly its amount, and balances + stakes stay genesis + minted - burned."""
    before = _books(store)
    store.commit_transition(
        1, [{"op": "bond", "account": "alice", "validator": "val0", "amount": 300}]
    )
    after_bond = _books(store)
    want = dict(before)
    want["balance:alice"] -= 300
    want["stake:val0"] += 300
    expect_equal(after_bond, want, "the books after alice bonds 300 to val0")
    store.commit_transition(
        2, [{"op": "unbond", "validator": "val0", "account": "bob", "amount": 120}]
    )
    want["stake:val0"] -= 120
    want["balance:bob"] += 120
    after_unbond = _books(store)
    expect_equal(after_unbond, want, "the books after val0 unbonds 120 to bob")
    accounts = ("balance:alice", "balance:bob", "stake:val0", "stake:val1")
    held = sum(after_unbond[k] for k in accounts)
    supply = (
        after_unbond["supply:genesis"]
        + after_unbond["supply:minted"]
        - after_unbond["supply:burned"]
    )
    expect_equal(held, supply, "balances + stakes = genesis + minted - burned (R3.6)")
