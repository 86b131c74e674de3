"""The reference state store (aethel.state) behind the ``state-store`` capability."""

from __future__ import annotations

from typing import Any

from aethel.economics import Offence
from aethel.state.store import StateStore
from aethel.state.transitions import (
    Bond,
    Genesis,
    Operation,
    Reward,
    Slash,
    TransferOperation,
    Transition,
    Unbond,
)
from conformance.adapters.api import JSON, Hex
from conformance.adapters.errors import Rejected
from conformance.adapters.reference_errors import rejecting

#: The members of each operation on the wire, in the order of the operation's fields. Protocol
#: version 1 names a transfer's receiver ``recipient`` (conformance/PROTOCOL.md); the field,
#: like spec/economics.md, is ``receiver``.
_FIELDS: dict[str, tuple[type, tuple[str, ...]]] = {
    "transfer": (TransferOperation, ("sender", "recipient", "amount", "nonce")),
    "reward": (Reward, ("account", "amount")),
    "bond": (Bond, ("account", "validator", "amount")),
    "unbond": (Unbond, ("validator", "account", "amount")),
    "slash": (Slash, ("validator", "offence")),
}


def operation_from_json(value: Any) -> Operation:
    """Parse one operation ``{"op": kind, ...fields}`` strictly; an operation of another form
    is refused naming R3.6, the rule spec/encoding.md's table gives state-transition operations."""
    if not isinstance(value, dict) or value.get("op") not in _FIELDS:
        raise Rejected(
            f"an operation is {{'op': {sorted(_FIELDS)}, ...}}, got {value!r}"[:200], "R3.6"
        )
    cls, names = _FIELDS[value["op"]]
    if set(value) != {"op", *names}:
        raise Rejected(f"operation {value['op']} has exactly {['op', *names]}", "R3.6")
    args = [value[name] for name in names]
    if cls is Slash:
        try:
            args[1] = Offence(args[1])
        except ValueError:
            raise Rejected(f"unknown offence {args[1]!r}", "R4.2") from None
    return cls(*args)  # type: ignore[no-any-return]


class ReferenceStoreObject:
    """One open reference store."""

    def __init__(self, path: str) -> None:
        self.store = StateStore(path)

    @rejecting
    def commit_genesis(self, balances: dict[str, int], stakes: dict[str, int]) -> Hex:
        staged = self.store.stage_genesis(Genesis(dict(balances), dict(stakes)))
        self.store.commit(staged)
        return staged.post_root.hex()

    @rejecting
    def commit_transition(self, height: int, operations: list[JSON]) -> JSON:
        if not isinstance(operations, list):
            raise Rejected("a transition's operations are a list", "R3.6")
        parsed = tuple(operation_from_json(op) for op in operations)
        staged = self.store.stage(Transition(height, parsed))
        self.store.commit(staged)
        o = staged.outcome
        return {"root": staged.post_root.hex(), "minted": o.minted, "burned": o.burned,
                "total_supply": o.total_supply, "genesis_supply": o.genesis_supply}  # fmt: skip

    def latest(self) -> JSON:
        latest = self.store.latest
        if latest is None:
            return {"height": None, "root": "00" * 32}
        return {"height": latest.height, "root": latest.root.hex()}

    @rejecting
    def get(self, key: str, height: int | None) -> JSON:
        missing = object()
        value = self.store.get(key, height, missing)
        return {"found": False} if value is missing else {"found": True, "value": value}

    @rejecting
    def prove(self, key: str, height: int | None) -> JSON:
        return self.store.prove(key, height).to_dict()

    def close(self) -> None:
        self.store.close()


class ReferenceStateStore:
    """Capability ``state-store`` of the reference."""

    @rejecting
    def open(self, path: str) -> ReferenceStoreObject:
        return ReferenceStoreObject(path)
