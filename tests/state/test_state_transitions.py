"""State transitions keep the books (R3.6, R4.2, R4.7) and refuse double spends (R7.1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aethel.economics import BLOCK_REWARD_CAP, Offence, compute_emission_limit
from aethel.errors import UsageError
from aethel.merkle.tree import StateTree
from aethel.state.audit import compute_supply_audit
from aethel.state.errors import TransitionError
from aethel.state.store import StateStore
from aethel.state.transitions import (
    Bond,
    Genesis,
    Operation,
    Reward,
    SetMeta,
    Slash,
    TransferOperation,
    Transition,
    Unbond,
    compute_genesis,
    compute_transition,
)

ACCOUNTS = ["alice", "bob", "carol"]
GENESIS = Genesis({"alice": 1_000, "bob": 500, "carol": 0}, {"v1": 10_000, "v2": 3_333})


class Ledger:
    """An in-memory state with the genesis applied; transitions via compute_transition."""

    def __init__(self, genesis: Genesis = GENESIS) -> None:
        self.tree = StateTree()
        self.tree.batch_update(compute_genesis(genesis).writes)
        self.height = genesis.height

    def apply(self, *operations: Operation) -> Any:
        outcome = compute_transition(self.tree.get, Transition(self.height + 1, operations))
        self.tree.batch_update(outcome.writes)
        self.height += 1
        return outcome

    def rejects(self, rule_id: str, *operations: Operation) -> None:
        root = self.tree.root()
        with pytest.raises(TransitionError) as info:
            self.apply(*operations)
        assert info.value.rule_id == rule_id, info.value
        assert self.tree.root() == root  # nothing changed


@pytest.mark.req("R3.6", "R4.7")
def test_genesis_books() -> None:
    ledger = Ledger()
    audit = compute_supply_audit(ledger.tree, 0)
    assert (audit.balances, audit.stakes, audit.genesis, audit.minted, audit.burned) == (
        1_500,
        13_333,
        14_833,
        0,
        0,
    )
    assert audit.is_conserved and audit.is_within_emission
    assert ledger.tree.get("balance:carol") is None  # zero amounts are not stored


@pytest.mark.req("R3.6")
def test_transfers_move_funds_and_count_nonces() -> None:
    ledger = Ledger()
    outcome = ledger.apply(
        TransferOperation("alice", "bob", 300, 0), TransferOperation("alice", "carol", 700, 1)
    )
    assert outcome.minted == outcome.burned == 0
    get = ledger.tree.get
    assert (get("balance:alice"), get("balance:bob"), get("balance:carol")) == (None, 800, 700)
    assert get("nonce:alice") == 2 and get("nonce:bob") is None
    assert compute_supply_audit(ledger.tree, 1).is_conserved


@pytest.mark.req("R7.1")
def test_same_sender_and_nonce_twice_rejects_the_whole_transition() -> None:
    ledger = Ledger()
    ledger.rejects(
        "R7.1", TransferOperation("alice", "bob", 1, 0), TransferOperation("alice", "carol", 1, 0)
    )
    # A gap: alice's first transfer carries nonce 1.
    ledger.rejects(
        "R7.1", TransferOperation("bob", "carol", 1, 0), TransferOperation("alice", "bob", 1, 1)
    )
    ledger.apply(TransferOperation("alice", "bob", 1, 0))
    ledger.rejects("R7.1", TransferOperation("alice", "bob", 1, 0))  # replay of a committed nonce


@pytest.mark.req("R7.1", "R3.6")
def test_transfers_that_together_overdraw_reject_the_whole_transition() -> None:
    ledger = Ledger()
    # Each alone is fine (alice holds 1,000); together they overdraw: R7.1.
    ledger.rejects(
        "R7.1",
        TransferOperation("alice", "bob", 600, 0),
        TransferOperation("alice", "carol", 600, 1),
    )
    # Alone too large: a plain overdraft breaks conservation (no negative balance): R3.6.
    ledger.rejects("R3.6", TransferOperation("alice", "bob", 1_001, 0))
    # Receiving first makes the second spend fine.
    ledger.apply(
        TransferOperation("bob", "alice", 500, 0), TransferOperation("alice", "carol", 1_500, 0)
    )
    assert ledger.tree.get("balance:alice") is None and ledger.tree.get("balance:carol") == 1_500


@pytest.mark.req("R3.6")
@pytest.mark.parametrize(
    "operation",
    [
        TransferOperation("alice", "bob", 0, 0),
        TransferOperation("alice", "bob", -5, 0),
        TransferOperation("alice", "bob", 5, -1),
        TransferOperation("alice", "", 5, 0),
        Reward("bob", 0),
        Bond("carol", "v1", 1),  # carol holds nothing
        Unbond("v2", "bob", 3_334),  # more than staked
    ],
)
def test_invalid_operations_break_conservation_rules(operation: Operation) -> None:
    ledger = Ledger()
    ledger.rejects("R3.6", TransferOperation("alice", "bob", 1, 0), operation)


@pytest.mark.req("R3.6", "R4.7")
def test_rewards_mint_within_the_emission_schedule() -> None:
    ledger = Ledger()
    outcome = ledger.apply(Reward("alice", BLOCK_REWARD_CAP))
    assert outcome.minted == outcome.minted_total == compute_emission_limit(1)
    assert ledger.tree.get("supply:minted") == BLOCK_REWARD_CAP
    # Height 2 allows 2 * cap in total: one more cap, not a unit more.
    ledger.rejects("R4.7", Reward("bob", BLOCK_REWARD_CAP), Reward("carol", 1))
    ledger.apply(Reward("bob", BLOCK_REWARD_CAP - 1), Reward("carol", 1))
    audit = compute_supply_audit(ledger.tree, 2)
    assert audit.minted == 2 * BLOCK_REWARD_CAP and audit.is_conserved and audit.is_within_emission


@pytest.mark.req("R4.2", "R3.6")
@pytest.mark.parametrize(
    ("offence", "percent"), [(Offence.FALSE_CLAIM, 5), (Offence.EQUIVOCATION, 20)]
)
def test_slashing_burns_floor_of_stake_and_records_it(offence: Offence, percent: int) -> None:
    ledger = Ledger()
    outcome = ledger.apply(Slash("v2", offence), Slash("v2", offence))
    first = 3_333 * percent // 100
    second = (3_333 - first) * percent // 100
    assert outcome.slashed == {"v2": first + second} and outcome.burned == first + second
    get = ledger.tree.get
    assert get("stake:v2") == 3_333 - first - second
    assert get("slashed:v2") == get("supply:burned") == first + second
    audit = compute_supply_audit(ledger.tree, 1)
    assert audit.is_conserved and audit.total_supply == 14_833 - first - second
    # No stake, nothing to burn (an unbonded offender): no-op, no record.
    assert ledger.apply(Slash("nobody", offence)).burned == 0
    assert get("slashed:nobody") is None
    ledger.rejects("R4.2", Slash("v1", "sleeping"))  # type: ignore[arg-type]


@pytest.mark.req("R3.6")
def test_bond_unbond_and_meta_keep_the_supply() -> None:
    ledger = Ledger()
    ledger.apply(
        Bond("alice", "v3", 400), Unbond("v1", "carol", 100), SetMeta("pending", [1, "v1", 5])
    )
    get = ledger.tree.get
    assert (get("balance:alice"), get("stake:v3"), get("stake:v1"), get("balance:carol")) == (
        600,
        400,
        9_900,
        100,
    )
    assert get("meta:pending") == [1, "v1", 5]
    ledger.apply(SetMeta("pending", None))
    assert get("meta:pending") is None
    assert compute_supply_audit(ledger.tree, 2).is_conserved


@pytest.mark.req("R3.6")
def test_transitions_need_genesis_and_a_height() -> None:
    empty = StateTree()
    with pytest.raises(UsageError):
        compute_transition(empty.get, Transition(1, ()))
    ledger = Ledger()
    with pytest.raises(UsageError):
        compute_transition(ledger.tree.get, Transition(0, ()))
    with pytest.raises(TransitionError):
        compute_genesis(Genesis({"a": -1}, {}))
    with pytest.raises(TransitionError):
        compute_genesis(Genesis({"a": 2**62}, {"b": 2**62}))


operations = st.one_of(
    st.builds(
        TransferOperation,
        st.sampled_from(ACCOUNTS),
        st.sampled_from(ACCOUNTS),
        st.integers(-1, 700),
        st.integers(0, 3),
    ),
    st.builds(Reward, st.sampled_from(ACCOUNTS), st.integers(0, BLOCK_REWARD_CAP)),
    st.builds(Bond, st.sampled_from(ACCOUNTS), st.sampled_from(["v1", "v2"]), st.integers(1, 500)),
    st.builds(
        Unbond, st.sampled_from(["v1", "v2"]), st.sampled_from(ACCOUNTS), st.integers(1, 5_000)
    ),
    st.builds(Slash, st.sampled_from(["v1", "v2", "v3"]), st.sampled_from(list(Offence))),
)


@pytest.mark.req("R3.6", "R4.7", "R7.1", "R5.4")
@settings(max_examples=25)
@given(st.lists(st.lists(operations, max_size=6), min_size=1, max_size=8))
def test_books_hold_at_every_committed_height(
    tmp_path_factory: Any, blocks: list[list[Operation]]
) -> None:
    """Random transitions, valid or not: every committed height audits clean, and a rejected
    transition leaves the store exactly as it was."""
    path: Path = tmp_path_factory.mktemp("books") / "state.db"
    with StateStore(path, durable=False) as store:
        store.commit(store.stage_genesis(GENESIS))
        for operations_of_block in blocks:
            height = (store.height or 0) + 1
            before = store.root
            try:
                staged = store.stage(Transition(height, tuple(operations_of_block)))
            except TransitionError as exc:
                assert exc.rule_id in {"R3.6", "R4.7", "R7.1", "R4.2"}
                assert store.root == before and store.height == height - 1
                continue
            store.commit(staged)
            audit = compute_supply_audit(store.tree(), height)
            assert audit.is_conserved and audit.is_within_emission
            assert audit.total_supply == staged.outcome.total_supply
