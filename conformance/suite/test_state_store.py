"""The persistent state store: validated transitions, the books, persistence across reopening
(R3.6, R4.2, R4.7, R5.4, R7.1, P14, P16, P20).

The state layout (``balance:<account>``, ``stake:<validator>``, ``supply:genesis|minted|burned``)
is the spec's (spec/state-tree.md); the books are checked by reading the keys back.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aethel.merkle.proofs import proof_from_dict, verify_proof
from conformance.adapters.api import StateStoreAPI, StateStoreObject
from conformance.checks import expect_equal, expect_rejected
from conformance.plugin import catalog_threshold
from conformance.testvectors import store_cases

pytestmark = pytest.mark.capability("state-store")
ACCOUNTS = [f"acct{i}" for i in range(8)]
VALIDATORS = [f"val{i}" for i in range(4)]
BALANCE, STAKE = 1_000_000, 50_000


def close(obj: object) -> None:
    getattr(obj, "close", lambda: None)()


@pytest.fixture
def store(state_store_api: StateStoreAPI, tmp_path: Path) -> Iterator[StateStoreObject]:
    opened = state_store_api.open(str(tmp_path / "state.sqlite"))
    opened.commit_genesis({a: BALANCE for a in ACCOUNTS}, {v: STAKE for v in VALIDATORS})
    yield opened
    close(opened)


def value(store: StateStoreObject, key: str, height: int | None = None) -> Any:
    found = store.get(key, height)
    return found.get("value", 0) if found.get("found") else 0


def books(store: StateStoreObject, height: int | None = None) -> dict[str, int]:
    """Read the books back from the state."""
    return {
        "balances": sum(value(store, f"balance:{a}", height) for a in ACCOUNTS),
        "stakes": sum(value(store, f"stake:{v}", height) for v in VALIDATORS),
        "genesis": value(store, "supply:genesis", height),
        "minted": value(store, "supply:minted", height),
        "burned": value(store, "supply:burned", height),
    }


def random_height(rng: random.Random, nonces: dict[str, int], store: StateStoreObject) -> list[Any]:
    ops: list[dict[str, Any]] = []
    for _ in range(rng.randrange(1, 6)):
        kind = rng.choice(["transfer", "transfer", "reward", "slash"])
        if kind == "transfer":
            sender, recipient = rng.sample(ACCOUNTS, 2)
            balance = value(store, f"balance:{sender}")
            if balance < 2 or any(o.get("sender") == sender for o in ops):
                continue
            ops.append(
                {
                    "op": "transfer",
                    "sender": sender,
                    "recipient": recipient,
                    "amount": rng.randrange(1, balance // 4 + 2),
                    "nonce": nonces[sender],
                }
            )
            nonces[sender] += 1
        elif kind == "reward":
            ops.append(
                {"op": "reward", "account": rng.choice(ACCOUNTS), "amount": rng.randrange(1, 1_000)}
            )
        elif not any(o["op"] == "slash" for o in ops):
            ops.append(
                {
                    "op": "slash",
                    "validator": rng.choice(VALIDATORS),
                    "offence": rng.choice(["false-claim", "equivocation"]),
                }
            )
    return ops


@pytest.mark.req("R3.6", "P14", "P20", "R4.7")
def test_every_transition_keeps_the_books(store: StateStoreObject, seed: int) -> None:
    """Twenty heights of random transfers, rewards and slashes: after each, total supply =
    genesis + minted - burned, nothing negative, minted within E(h)."""
    rng = random.Random(seed)
    nonces = dict.fromkeys(ACCOUNTS, 0)
    emission_step = int(catalog_threshold("R4.4", "block_reward").value)
    for height in range(1, 21):
        ops = random_height(rng, nonces, store)
        store.commit_transition(height, ops)
        b = books(store)
        if b["balances"] + b["stakes"] != b["genesis"] + b["minted"] - b["burned"]:
            raise AssertionError(f"height {height}: books do not balance: {b}")
        if b["minted"] > height * emission_step:
            raise AssertionError(f"height {height}: minted {b['minted']} > E(h)")
        negative = [a for a in ACCOUNTS if value(store, f"balance:{a}") < 0]
        if negative:
            raise AssertionError(f"height {height}: negative balances {negative}")


def _refused(case: str) -> Any:
    rules, _ = store_cases.REFUSED[case]
    cited = (*rules, "R3.6")
    return pytest.param(case, id=case, marks=[pytest.mark.req(*cited), pytest.mark.rejects(*cited)])


@pytest.mark.parametrize("case", [_refused(case) for case in store_cases.REFUSED])
def test_invalid_transition_is_rejected_whole_and_writes_nothing(
    store: StateStoreObject, case: str
) -> None:
    """Each refused transition of the vectors (conformance/testvectors/store_cases.py): the
    whole list is refused, naming the rule spec/economics.md gives (R3.6 more than a balance
    holds, an amount out of range, a malformed name; R7.1 nonce order and transfers that
    together overdraw; R4.2 an unknown offence; R4.7 minting beyond E(h)), and nothing of it is
    written (R3.6)."""
    rules, operations = store_cases.REFUSED[case]
    before = store.latest()
    # spec/economics.md fixes the rule of each refusal ("Transition operations").
    expect_rejected(lambda: store.commit_transition(1, operations), case, rule=rules)
    expect_equal(store.latest(), before, "latest height after the rejection")
    expect_equal(value(store, "balance:acct1"), BALANCE, "a write of the rejected transition")


@pytest.mark.req("R4.7")
@pytest.mark.rejects("R4.7")
def test_minting_beyond_the_emission_schedule_is_rejected(store: StateStoreObject) -> None:
    step = int(catalog_threshold("R4.4", "block_reward").value)
    before = store.latest()
    expect_rejected(
        lambda: store.commit_transition(
            1, [{"op": "reward", "account": "acct0", "amount": step + 1}]
        ),
        "a reward above E(1)",
        rule="R4.7",
    )
    expect_equal(store.latest(), before, "latest height after the rejection")


@pytest.mark.req("R4.2", "P16")
@pytest.mark.parametrize(
    ("offence", "metric"),
    [("false-claim", "slash_percent_false_claim"), ("equivocation", "slash_percent_equivocation")],
    ids=["false-claim", "equivocation"],
)
def test_slashing_burns_the_rate_and_books_it(
    store: StateStoreObject, offence: str, metric: str
) -> None:
    rate = int(catalog_threshold("R4.2", metric).value)
    result = store.commit_transition(1, [{"op": "slash", "validator": "val1", "offence": offence}])
    burned = STAKE * rate // 100
    expect_equal(value(store, "stake:val1"), STAKE - burned, "stake after slashing")
    expect_equal(result["burned"], burned, "burned in the transition")
    expect_equal(value(store, "supply:burned"), burned, "burned book")


@pytest.mark.req("R5.4")
def test_reopened_store_keeps_every_committed_height(
    state_store_api: StateStoreAPI, tmp_path: Path
) -> None:
    path = str(tmp_path / "reopen.sqlite")
    first = state_store_api.open(path)
    first.commit_genesis({a: BALANCE for a in ACCOUNTS}, {v: STAKE for v in VALIDATORS})
    roots = {}
    for height in range(1, 6):
        op = {
            "op": "transfer",
            "sender": "acct0",
            "recipient": "acct1",
            "amount": height,
            "nonce": height - 1,
        }
        roots[height] = first.commit_transition(height, [op])["root"]
    latest = first.latest()
    close(first)
    again = state_store_api.open(path)
    try:
        expect_equal(again.latest(), latest, "latest height after reopening")
        expect_equal(value(again, "balance:acct1", 3), BALANCE + 1 + 2 + 3, "balance at height 3")
        proof = again.prove("balance:acct1", 2)
        ok = verify_proof(proof_from_dict(proof), bytes.fromhex(roots[2]))
        expect_equal(ok, True, "a proof of height 2 against height 2's root")
        op = {"op": "transfer", "sender": "acct0", "recipient": "acct1", "amount": 1, "nonce": 5}
        again.commit_transition(6, [op])
        expect_equal(again.latest()["height"], 6, "a height committed after reopening")
    finally:
        close(again)


@pytest.mark.req("R3.6", "E2")
@pytest.mark.rejects("R3.6", "E2")
def test_a_genesis_takes_zero_amounts_and_refuses_the_others_out_of_range(
    state_store_api: StateStoreAPI, tmp_path: Path
) -> None:
    """spec/state-tree.md: a genesis lists balances and stakes from 0 to 2^63-1; a 0 is the
    absent key it reads as, taken and not stored; a negative amount is refused naming R3.6 and a
    sum past 2^63-1 naming E2 (and nothing is written either way)."""
    zero = state_store_api.open(str(tmp_path / "zero.sqlite"))
    try:
        zero.commit_genesis({"acct0": 0, "acct1": 7}, {"val0": 0, "val1": 5_000})
        expect_equal(
            [zero.get(k, 0) for k in ("balance:acct0", "stake:val0", "supply:genesis")],
            [{"found": False}, {"found": False}, {"found": True, "value": 5_007}],
            "a genesis with zero amounts",
        )
    finally:
        close(zero)
    for name, (balances, stakes, rule) in {
        "negative": ({"acct0": -1}, {}, "R3.6"),
        "past-the-sum": ({"acct0": 2**63 - 1}, {"val0": 1}, "E2"),
    }.items():
        store = state_store_api.open(str(tmp_path / f"{name}.sqlite"))
        try:
            expect_rejected(
                functools.partial(store.commit_genesis, balances, stakes),
                f"a genesis ({name})",
                rule=rule,
            )
            expect_equal(store.latest()["height"], None, f"latest after a refused genesis ({name})")
        finally:
            close(store)
