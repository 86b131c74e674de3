"""LOCAL SHIM: a ``state-store`` capability over :class:`aethel.state.StateStore`.

Operations travel as JSON objects (``{"op": "transfer", "sender", "recipient", "amount",
"nonce"}``, ``reward``, ``bond``, ``unbond``, ``slash``); a transition the store refuses raises
:class:`conformance.adapters.Rejected` with the rule it broke. A ``store_class`` argument swaps
in a mutant subclass of the reference store.
"""

from __future__ import annotations

from typing import Any

from aethel.errors import ProtocolViolation
from aethel.state import (
    Bond,
    Genesis,
    Operation,
    Reward,
    Slash,
    StateStore,
    Transfer,
    Transition,
    Unbond,
)
from conformance.adapters import Rejected

JSON = Any


def parse_operation(op: JSON) -> Operation:
    """Return the reference operation of one JSON operation."""
    kind = op["op"]
    if kind == "transfer":
        return Transfer(op["sender"], op["recipient"], op["amount"], op["nonce"])
    if kind == "reward":
        return Reward(op["account"], op["amount"])
    if kind == "bond":
        return Bond(op["account"], op["validator"], op["amount"])
    if kind == "unbond":
        return Unbond(op["validator"], op["account"], op["amount"])
    if kind == "slash":
        return Slash(op["validator"], op["offence"])
    raise ValueError(f"unknown operation {op!r}")


class ReferenceStateStoreObject:
    """One store: the machine's ``StateStoreObject`` over a reference :class:`StateStore`."""

    def __init__(self, store: StateStore) -> None:
        self._store = store

    def commit_genesis(self, balances: dict[str, int], stakes: dict[str, int]) -> str:
        staged = self._store.stage_genesis(Genesis(balances, stakes))
        self._store.commit(staged)
        return staged.post_root.hex()

    def stage(self, height: int, ops: list[JSON]) -> str:
        transition = Transition(height, tuple(parse_operation(op) for op in ops))
        try:
            return self._store.stage(transition).post_root.hex()
        except ProtocolViolation as exc:
            raise Rejected(str(exc), exc.rule_id) from None

    def apply(self, height: int, ops: list[JSON]) -> str:
        transition = Transition(height, tuple(parse_operation(op) for op in ops))
        try:
            staged = self._store.stage(transition)
        except ProtocolViolation as exc:
            raise Rejected(str(exc), exc.rule_id) from None
        self._store.commit(staged)
        return staged.post_root.hex()

    def get(self, key: str, height: int | None = None) -> JSON:
        missing = object()
        value = self._store.get(key, height, missing)
        return {"found": False} if value is missing else {"found": True, "value": value}

    def latest(self) -> JSON:
        return {"height": self._store.height, "root": self._store.root.hex()}

    def close(self) -> None:
        self._store.close()


class ReferenceStateStoreAPI:
    """Open reference stores (``durable=False``: a test need not wait for fsync)."""

    def __init__(self, store_class: type[StateStore] = StateStore) -> None:
        self._store_class = store_class

    def open(self, path: str) -> ReferenceStateStoreObject:
        return ReferenceStateStoreObject(self._store_class(path, durable=False))
