"""State-store machine: transitions, conservation, supply books, versions, reopen.

The model is :class:`~conformance.suite.machines.books.Books` per committed height. The machine
applies generated transitions (transfers, rewards, bonds, unbonds, slashing; valid and not),
reads old versions, and closes and reopens the store from its file.
After every step it checks that:

* the store accepted exactly the transitions the model accepts; a rejected one names a rule and
  changes nothing (height, root and every read stay as they were);
* every key of the layout reads as the model says, at the latest height and at older ones;
* the root of every height equals the root of a fresh state tree holding the model's key/value
  view (equal books give equal roots, whatever the history);
* the books balance in the store itself: sum of balances and stakes = genesis + minted -
  burned, minted <= E(h), nothing negative (R3.6, R4.7);
* a reopened store has the same latest height, root and contents (R5.4).

Spec: R3.6, R4.2, R4.7, R5.4, R7.1, I5, I7, I8, P14, P16, P20.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from aethel.encoding import canonical_json
from aethel.merkle.tree import StateTree
from conformance.adapters.api import StateStoreAPI, StateStoreObject
from conformance.adapters.errors import Rejected
from conformance.suite.machines.books import Books, apply_transition, check_books, make_genesis
from conformance.suite.machines.common import ModelMismatch

JSON = Any
ACCOUNTS = ("alice", "bob", "carol")
VALIDATORS = ("val-a", "val-b")


def _close(store: StateStoreObject) -> None:
    """Close ``store`` if the adapter offers it (the protocol closes handles at the end)."""
    close = getattr(store, "close", None)
    if close is not None:
        close()


accounts = st.sampled_from(ACCOUNTS)
validators = st.sampled_from(VALIDATORS)
amounts = st.one_of(st.integers(1, 2_000), st.integers(-2, 3), st.integers(1, 4_000_000))
operations = st.one_of(
    st.fixed_dictionaries(
        {
            "op": st.just("transfer"),
            "sender": accounts,
            "recipient": accounts,
            "amount": amounts,
            "nonce": st.integers(0, 3),
        }
    ),
    st.fixed_dictionaries(
        {"op": st.just("reward"), "account": accounts, "amount": st.integers(0, 3_000_000)}
    ),
    st.fixed_dictionaries(
        {"op": st.just("bond"), "account": accounts, "validator": validators, "amount": amounts}
    ),
    st.fixed_dictionaries(
        {"op": st.just("unbond"), "validator": validators, "account": accounts, "amount": amounts}
    ),
    st.fixed_dictionaries(
        {
            "op": st.just("slash"),
            "validator": validators,
            "offence": st.sampled_from(["false-claim", "equivocation"]),
        }
    ),
)


def _tree_root(items: dict[str, int]) -> str:
    tree = StateTree()
    tree.batch_update(sorted(items.items()))
    return tree.root().hex()


class StateStoreMachine(RuleBasedStateMachine):
    """Drive one persistent store beside the books of every committed height."""

    api_factory: ClassVar[Callable[[], StateStoreAPI]]

    def __init__(self) -> None:
        super().__init__()
        self.directory = Path(tempfile.mkdtemp(prefix="aethel-store-machine-"))
        self.path = str(self.directory / "state.sqlite3")
        self.api = type(self).api_factory()
        self.store = self.api.open(self.path)
        self.versions: list[Books] = []

    def teardown(self) -> None:
        _close(self.store)
        shutil.rmtree(self.directory, ignore_errors=True)

    @property
    def height(self) -> int:
        return len(self.versions) - 1

    @initialize(
        balances=st.dictionaries(accounts, st.integers(0, 10_000)),
        stakes=st.dictionaries(validators, st.integers(0, 50_000)),
    )
    def genesis(self, balances: dict[str, int], stakes: dict[str, int]) -> None:
        self.store.commit_genesis(balances, stakes)
        self.versions.append(make_genesis(balances, stakes))

    def _draw_ops(self, data: st.DataObject, max_size: int) -> list[JSON]:
        """Draw operations; most transfers carry the sender's next nonce, so most are valid."""
        ops: list[dict[str, Any]] = data.draw(
            st.lists(operations, max_size=max_size), label="operations"
        )
        nonces = dict(self.versions[-1].nonces)
        for op in ops:
            if op["op"] == "transfer" and data.draw(st.integers(0, 4), label="fresh nonce"):
                sender: str = op["sender"]
                op["nonce"] = nonces.get(sender, 0)
                nonces[sender] = op["nonce"] + 1
        return ops

    @rule(data=st.data())
    def transition(self, data: st.DataObject) -> None:
        ops = self._draw_ops(data, 5)
        height = self.height + 1
        expected = apply_transition(self.versions[-1], height, ops)
        before = self.store.latest()
        try:
            self.store.commit_transition(height, ops)
        except Rejected as rejected:
            if isinstance(expected, Books):
                raise ModelMismatch(
                    "R3.6 R7.1", f"valid transition {ops} rejected: {rejected}"
                ) from None
            if self.store.latest() != before:
                raise ModelMismatch(
                    "R3.6", f"a rejected transition changed the store: {ops}"
                ) from None
            return
        if not isinstance(expected, Books):
            raise ModelMismatch(expected, f"transition breaking {expected} accepted: {ops}")
        self.versions.append(expected)

    @rule()
    def reopen(self) -> None:
        before = self.store.latest()
        _close(self.store)
        self.store = self.api.open(self.path)
        if self.store.latest() != before:
            raise ModelMismatch("R5.4", f"reopened at {self.store.latest()}, closed at {before}")

    @rule(data=st.data())
    def read_an_old_version(self, data: st.DataObject) -> None:
        height = data.draw(st.integers(0, self.height), label="height")
        self._check_reads(height)

    def _check_reads(self, height: int | None) -> None:
        books = self.versions[-1 if height is None else height]
        expected = books.key_values()
        names = [f"{p}{a}" for p in ("balance:", "nonce:") for a in ACCOUNTS]
        names += [f"{p}{v}" for p in ("stake:", "slashed:") for v in VALIDATORS]
        names += ["supply:genesis", "supply:minted", "supply:burned"]
        for key in names:
            got = self.store.get(key, height)
            want = expected.get(key)
            if want is None:
                if got.get("found"):
                    raise ModelMismatch("R3.6", f"{key} at {height} reads {got}, expected absent")
            elif not got.get("found") or canonical_json(got.get("value")) != canonical_json(want):
                raise ModelMismatch("R3.6", f"{key} at {height} reads {got}, expected {want}")

    @invariant()
    def latest_matches_the_books(self) -> None:
        if not self.versions:
            return
        latest = self.store.latest()
        if latest["height"] != self.height:
            raise ModelMismatch("R5.4", f"store at height {latest['height']}, model {self.height}")
        self._check_reads(None)
        books = self.versions[-1]
        if latest["root"] != _tree_root(books.key_values()):
            raise ModelMismatch("R3.6 I3", f"height {self.height}: root differs from the books'")
        problem = check_books(books, self.height)
        if problem:
            raise ModelMismatch(
                "R3.6 R4.7 P14 P20", f"height {self.height}: books broken: {problem}"
            )


def make_state_store_machine(
    factory: Callable[[], StateStoreAPI], name: str = "reference"
) -> type[StateStoreMachine]:
    """Return a state-store machine class bound to ``factory`` (the capability under test)."""
    return type(
        f"StateStoreMachine[{name}]", (StateStoreMachine,), {"api_factory": staticmethod(factory)}
    )
