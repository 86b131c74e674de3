"""What a store wrote is checked when it is read, and it has one writer (R5.4).

spec/state-tree.md, R5.4: "A store has one writer at a time: while one process holds a store open,
a second opener, in the same process or another, gets an error naming the holder ... What the
store wrote is checked when it is read: a record, a height or a tree node damaged on disk is
reported as an error naming R5.4, never served as state."

Both are checked from outside, on the file the harness chose for ``state-store.open``:

* one writer: a second ``open`` of a store that is open is refused; the first goes on working,
  and once it is closed the store opens again with what it committed;
* damage: the harness commits five heights, closes the store, reads every key it wrote (and an
  absent one) at every height, with its proof, and then, for each of 120 seeded trials, flips one
  bit of a copy of the file (of a file under it, if the store is a directory), opens the copy and
  reads the same. Every answer must be the intact store's answer or a refusal naming R5.4; a
  different value, root or proof is damaged data served as state. Most flips land where nothing
  is read (free space, page headers a database checks itself); the rest must be caught.

A failing trial prints its seed, trial number, file and bit, which replay it.
"""

from __future__ import annotations

import functools
import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conformance.adapters.api import StateStoreAPI, StateStoreObject
from conformance.adapters.errors import Rejected
from conformance.checks import MustReject, expect_equal

pytestmark = pytest.mark.capability("state-store")

ACCOUNTS = [f"acct{i}" for i in range(6)]
VALIDATORS = [f"val{i}" for i in range(3)]
BALANCE, STAKE = 1_000_000, 50_000
HEIGHTS = 5
TRIALS = 120
#: The keys read back: every key written, and one the state never held.
KEYS = [f"balance:{a}" for a in ACCOUNTS] + [f"stake:{v}" for v in VALIDATORS]
KEYS += ["supply:genesis", "supply:minted", "supply:burned", "balance:nobody"]


def _close(obj: object) -> None:
    getattr(obj, "close", lambda: None)()


def _fill(store: StateStoreObject) -> None:
    """Genesis and HEIGHTS heights of transfers, rewards and one slash."""
    store.commit_genesis({a: BALANCE for a in ACCOUNTS}, {v: STAKE for v in VALIDATORS})
    for height in range(1, HEIGHTS + 1):
        sender, recipient = ACCOUNTS[height % 6], ACCOUNTS[(height + 1) % 6]
        nonce = (height - 1) // 6
        ops: list[dict[str, Any]] = [
            {"op": "transfer", "sender": sender, "recipient": recipient,
             "amount": 1_000 * height, "nonce": nonce},
            {"op": "reward", "account": ACCOUNTS[0], "amount": 17 * height},
        ]  # fmt: skip
        if height == 3:
            ops.append({"op": "slash", "validator": VALIDATORS[1], "offence": "equivocation"})
        store.commit_transition(height, ops)


#: One read of the store: its answer, or ("rejected", rule) when the store refused it.
Read = tuple[str, Callable[[StateStoreObject], Any]]


def _reads() -> list[Read]:
    reads: list[Read] = [("latest", lambda s: s.latest())]
    for height in range(HEIGHTS + 1):
        for key in KEYS:
            reads.append((f"get {key} at {height}", functools.partial(_get, key, height)))
            reads.append((f"prove {key} at {height}", functools.partial(_prove, key, height)))
    return reads


def _get(key: str, height: int, store: StateStoreObject) -> Any:
    return store.get(key, height)


def _prove(key: str, height: int, store: StateStoreObject) -> Any:
    return store.prove(key, height)


def _answers(store: StateStoreObject) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, read in _reads():
        try:
            out[name] = read(store)
        except Rejected as refused:
            out[name] = ("rejected", refused.rule_id)
    return out


def _files(path: Path) -> list[Path]:
    """The store's files: the path itself, or every file under it when it is a directory."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and p.stat().st_size > 0)
    return [path]


@pytest.mark.req("R5.4")
def test_a_store_has_one_writer(state_store_api: StateStoreAPI, tmp_path: Path) -> None:
    """A second open of an open store is refused; the first keeps working; after it closes,
    the store opens again with every height it committed."""
    path = str(tmp_path / "state.sqlite")
    first = state_store_api.open(path)
    try:
        first.commit_genesis({a: BALANCE for a in ACCOUNTS}, {v: STAKE for v in VALIDATORS})
        try:
            second = state_store_api.open(path)
        except Rejected:
            pass
        else:
            _close(second)
            raise MustReject("a second open of a store that is open was not refused (R5.4)")
        op = {"op": "transfer", "sender": "acct0", "recipient": "acct1", "amount": 5, "nonce": 0}
        latest = first.commit_transition(1, [op])
    finally:
        _close(first)
    again = state_store_api.open(path)
    try:
        expect_equal(again.latest(), {"height": 1, "root": latest["root"]}, "latest after")
    finally:
        _close(again)


@pytest.mark.req("R5.4")
def test_damage_on_disk_is_refused_never_served(
    state_store_api: StateStoreAPI, tmp_path: Path, seed: int
) -> None:
    """One bit flipped per trial in a closed store's file: every read answers as the intact
    store does, or is refused naming R5.4."""
    intact = tmp_path / "intact.sqlite"
    store = state_store_api.open(str(intact))
    try:
        _fill(store)
    finally:
        _close(store)
    store = state_store_api.open(str(intact))
    try:
        want = _answers(store)
    finally:
        _close(store)
    refused_intact = sorted(name for name, got in want.items() if isinstance(got, tuple))
    if refused_intact:
        raise AssertionError(f"the intact store refused {refused_intact[:3]}")
    files = _files(intact)
    sizes = [f.stat().st_size for f in files]
    rng = random.Random(f"store-integrity/{seed}")
    served = {"same": 0, "refused": 0}
    for trial in range(TRIALS):
        copy = tmp_path / f"trial-{trial}.sqlite"
        if intact.is_dir():
            shutil.copytree(intact, copy)
        else:
            shutil.copyfile(intact, copy)
        index = rng.choices(range(len(files)), weights=sizes)[0]
        target = copy / files[index].relative_to(intact) if intact.is_dir() else copy
        data = bytearray(target.read_bytes())
        bit = rng.randrange(len(data) * 8)
        data[bit // 8] ^= 1 << (bit % 8)
        target.write_bytes(bytes(data))
        where = f"seed {seed}, trial {trial}: bit {bit} of {target.name}"
        try:
            damaged = state_store_api.open(str(copy))
        except Rejected as refused:
            expect_equal(refused.rule_id, "R5.4", f"rule named refusing to open ({where})")
            served["refused"] += 1
            continue
        try:
            got = _answers(damaged)
        finally:
            _close(damaged)
        for name, answer in got.items():
            if isinstance(answer, tuple):
                expect_equal(answer, ("rejected", "R5.4"), f"{name} ({where})")
            elif answer != want[name]:
                raise AssertionError(
                    f"{name} answered {str(answer)[:160]} instead of {str(want[name])[:160]}: "
                    f"damaged data served as state ({where})"
                )
        served["refused" if any(isinstance(a, tuple) for a in got.values()) else "same"] += 1
    if served["refused"] == 0:
        raise AssertionError(
            f"no trial of {TRIALS} damaged anything the store reads ({served}): the flips "
            "cannot tell a checking store from one that checks nothing"
        )
