"""State-store sequences: a genesis, lists of operations, the resulting roots and books, and the
refusals with their rule (vectors under ``state-store/sequence/``; importable by the suite).

A case opens one fresh store, commits a genesis and makes a list of calls (``commit_transition``
with a height and operations, ``get`` and ``latest``). The outcome of each call is its result or
``{"reject": true, "rule": ID}``: spec/economics.md ("Transition operations") fixes the rule of
every refusal (R3.6 more than a balance or stake holds, an amount out of range, a malformed name;
R7.1 nonce order and a joint overdraft; R4.2 an unknown offence; E2 a book past 2^63-1; R4.7
minting beyond E(h)), and a refused transition writes nothing, which the ``latest`` and ``get``
after it show.

Spec: R3.6, R4.2, R4.3, R4.7, R7.1, E2, P14, P16, P20.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from conformance.adapters.api import Implementation
from conformance.adapters.errors import Rejected

#: (case, rules, input).
StoreCase = tuple[str, tuple[str, ...], dict[str, Any]]

ACCOUNTS = [f"acct{i}" for i in range(4)]
VALIDATORS = [f"val{i}" for i in range(3)]
BALANCE, STAKE = 1_000_000, 50_000
#: The reward the emission schedule allows at height 1 (E(1) = 5,000,000, R4.7).
EMISSION_STEP = 5_000_000
MAX = 2**63 - 1


def _transfer(sender: str, recipient: str, amount: int, nonce: int) -> dict[str, Any]:
    return {"op": "transfer", "sender": sender, "recipient": recipient, "amount": amount,
            "nonce": nonce}  # fmt: skip


def _reward(account: str, amount: int) -> dict[str, Any]:
    return {"op": "reward", "account": account, "amount": amount}


def _slash(validator: str, offence: str) -> dict[str, Any]:
    return {"op": "slash", "validator": validator, "offence": offence}


def _commit(height: int, *operations: dict[str, Any]) -> dict[str, Any]:
    return {
        "call": "commit_transition",
        "params": {"height": height, "operations": list(operations)},
    }


def _get(key: str, height: int | None = None) -> dict[str, Any]:
    return {"call": "get", "params": {"key": key, "height": height}}


LATEST = {"call": "latest", "params": {}}


def _books() -> list[dict[str, Any]]:
    keys = [f"balance:{a}" for a in ACCOUNTS] + [f"stake:{v}" for v in VALIDATORS]
    keys += ["supply:genesis", "supply:minted", "supply:burned"]
    return [_get(k) for k in keys]


def _sequence(calls: list[dict[str, Any]], stakes: dict[str, int] | None = None) -> dict[str, Any]:
    return {
        "genesis": {
            "balances": dict.fromkeys(ACCOUNTS, BALANCE),
            "stakes": stakes if stakes is not None else dict.fromkeys(VALIDATORS, STAKE),
        },
        "calls": calls,
    }


GOOD = _transfer("acct0", "acct1", 10, 0)
#: Refused transitions (the whole list is refused, naming the rule) and the rules they break
#: (where two are listed, the refusal names one of them). conformance/suite/test_state_store.py
#: sends them too.
REFUSED: dict[str, tuple[tuple[str, ...], list[Any]]] = {
    "same-nonce": (("R7.1",), [GOOD, _transfer("acct0", "acct2", 5, 0)]),
    "joint-overdraft": (("R7.1",), [GOOD, _transfer("acct0", "acct2", BALANCE - 5, 1)]),
    "overdraft-alone": (("R3.6",), [_transfer("acct0", "acct2", BALANCE + 1, 0)]),
    "overdraft-after-a-transfer": (
        ("R7.1",),
        [GOOD, _transfer("acct0", "acct2", BALANCE * 2, 1)],
    ),
    "nonce-gap": (("R7.1",), [GOOD, _transfer("acct0", "acct2", 5, 5)]),
    "zero-amount": (("R3.6",), [GOOD, _transfer("acct0", "acct2", 0, 1)]),
    "amount-of-2-to-the-63": (("R3.6", "E2"), [GOOD, _transfer("acct0", "acct2", 2**63, 1)]),
    "reward-beyond-emission": (("R4.7",), [GOOD, _reward("acct1", EMISSION_STEP + 1)]),
    "unknown-offence": (("R4.2",), [GOOD, _slash("val0", "offline")]),
    "empty-account-name": (("R3.6",), [GOOD, _transfer("acct0", "", 5, 1)]),
    "account-name-of-257-bytes": (("R3.6",), [GOOD, _transfer("acct0", "a" * 257, 5, 1)]),
    # An operation of another form (spec/encoding.md's table: R3.6 for state-transition
    # operations).
    "unknown-operation": (("R3.6",), [GOOD, {"op": "mint", "account": "acct1", "amount": 5}]),
    "operation-with-an-undefined-member": (
        ("R3.6",),
        [GOOD, {"op": "reward", "account": "acct1", "amount": 5, "memo": "x"}],
    ),
    "operation-missing-a-member": (("R3.6",), [GOOD, {"op": "reward", "account": "acct1"}]),
    "operation-not-an-object": (("R3.6",), [GOOD, ["reward", "acct1", 5]]),
}


def iter_store_cases() -> Iterator[StoreCase]:
    """Yield every state-store sequence, in a stable order."""
    heights = [
        _commit(1, _transfer("acct0", "acct1", 10, 0), _reward("acct2", 1_000)),
        _commit(2, _transfer("acct1", "acct3", 7, 0), _transfer("acct0", "acct3", 3, 1)),
        _commit(3, _slash("val0", "false-claim"), _reward("acct0", 4_999_999)),
        _commit(4, _slash("val1", "equivocation"), _transfer("acct3", "acct0", 20, 0)),
        _commit(5),
        LATEST,
        *_books(),
        _get("balance:acct1", 1),
        _get("balance:acct1", 2),
        _get("balance:nobody"),
    ]
    yield "transfers-rewards-slashes", ("R3.6", "R4.2", "R4.7", "P14", "P16"), _sequence(heights)

    for case, (rules, operations) in REFUSED.items():
        calls = [
            _commit(1, *operations),
            LATEST,
            _get("balance:acct1"),
            _get("balance:acct2"),
            _commit(1, GOOD),
            LATEST,
        ]
        yield f"refused-{case}", tuple(dict.fromkeys((*rules, "R3.6"))), _sequence(calls)

    minimum = [
        _commit(1, _slash("val0", "equivocation")),
        _get("stake:val0"),
        _commit(2, _slash("val0", "false-claim")),
        _get("stake:val0"),
        _commit(3, _slash("val1", "false-claim")),
        _get("stake:val1"),
        _get("supply:burned"),
    ]
    stakes = {"val0": 1_250, "val1": 1_000, "val2": STAKE}
    yield "slashing-down-to-the-minimum-stake", ("R4.2", "R4.3", "P16"), _sequence(minimum, stakes)

    cap = [
        _commit(1, _reward("acct0", EMISSION_STEP)),
        _commit(2, _reward("acct0", EMISSION_STEP)),
        _commit(3, _reward("acct0", EMISSION_STEP + 1)),
        _get("supply:minted"),
        LATEST,
    ]
    yield "emission-cap", ("R4.7", "P20"), _sequence(cap)

    overflow = [
        _commit(1, _reward("acct0", EMISSION_STEP)),
        _commit(2, _transfer("acct0", "acct1", MAX, 0)),
        LATEST,
    ]
    yield "overdraw-by-2-to-the-63-minus-1", ("R3.6",), _sequence(overflow)

    # spec/state-tree.md: a name is a non-empty NFC string of at most 256 bytes (of UTF-8): 256
    # ASCII bytes, and 128 two-byte characters, are names (257 bytes: refused, above).
    longest = ["a" * 256, "\u00e9" * 128]
    names = [
        _commit(1, _transfer("acct0", longest[0], 5, 0), _transfer("acct0", longest[1], 6, 1)),
        _get(f"balance:{longest[0]}"),
        _get(f"balance:{longest[1]}"),
        LATEST,
    ]
    yield "names-of-256-bytes", ("R3.6",), _sequence(names)


def run_sequence(impl: Implementation, data: dict[str, Any]) -> dict[str, Any]:
    """Run a store sequence on ``impl`` in a fresh file; return ``{"result": {"genesis": root,
    "calls": [outcome of each call]}}``."""
    with tempfile.TemporaryDirectory(prefix="aethel-vectors-") as directory:
        store = impl.api("state-store").open(str(Path(directory) / "state.sqlite"))
        try:
            genesis = data["genesis"]
            root = store.commit_genesis(genesis["balances"], genesis["stakes"])
            outcomes: list[Any] = []
            for call in data["calls"]:
                try:
                    result = getattr(store, call["call"])(**call["params"])
                except Rejected as refusal:
                    outcomes.append({"reject": True, "rule": refusal.rule_id})
                    continue
                outcomes.append({"result": result})
        finally:
            getattr(store, "close", lambda: None)()
    return {"result": {"genesis": root, "calls": outcomes}}
