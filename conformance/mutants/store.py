"""Mutants of the state store (R5.4): persistence that survives a clean reopen but not a crash;
a store that trusts the tree nodes it reads back; a store any number of writers may open."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from unittest import mock

import aethel.state.store
from aethel.merkle.hashing import LEAF_PREFIX, NODE_PREFIX
from aethel.merkle.nodes import Node, decode_node, encode_node
from aethel.state.store import (
    CommittedHeight,
    HeightKind,
    StateStore,
    _check_records,
    height_checksum,
    record_checksum,
    records_digest,
)
from conformance.adapters.api import JSON
from conformance.adapters.errors import Rejected
from conformance.adapters.reference import ReferenceImplementation
from conformance.adapters.reference_errors import rejecting
from conformance.adapters.reference_state import ReferenceStateStore, ReferenceStoreObject
from conformance.mutants import CommandsUnderPatch, Mutant


class RootFirstStore(StateStore):
    """Defect: a height's root (with its records) is committed in one SQLite transaction and
    the tree nodes it needs in a second one. Every clean run and reopen is right; a crash
    between the two leaves a latest root whose nodes are missing."""

    def _write_height(
        self,
        height: int,
        root: bytes,
        kind: HeightKind,
        nodes: Iterator[Node] | Sequence[Node],
        records: Mapping[str, bytes] | None,
    ) -> None:
        rows = [(n, d, record_checksum(height, n, d)) for n, d in _check_records(records)]
        digest = records_digest(c for _, _, c in rows)
        node_rows = [(node[0], encode_node(node)) for node in nodes]
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT INTO heights VALUES (?, ?, ?, ?, ?)",
                (height, root, kind, digest, height_checksum(height, root, kind, digest)),
            )
            self._db.executemany(
                "INSERT INTO records VALUES (?, ?, ?, ?)", ((height, *row) for row in rows)
            )
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("INSERT OR IGNORE INTO nodes VALUES (?, ?)", node_rows)
        self._latest = CommittedHeight(height, root)


class RootFirstStoreObject(ReferenceStoreObject):
    def __init__(self, path: str) -> None:
        self.store = RootFirstStore(path)


class RootFirstStateStore(ReferenceStateStore):
    @rejecting
    def open(self, path: str) -> ReferenceStoreObject:
        return RootFirstStoreObject(path)


class RootFirstImplementation(ReferenceImplementation):
    name = "mutant-store-root-first"

    def make_state_store(self) -> object:
        return RootFirstStateStore()


_LEAF_HEADER = 1 + 32 + 32


def decode_node_on_trust(node_hash: bytes, data: bytes) -> Node:
    """Defect: a stored node is decoded by its layout without hashing it: the store's own
    database is trusted, so a damaged value or child hash is read back as state."""
    if data[:1] == NODE_PREFIX and len(data) == 65:
        left, right = data[1:33], data[33:65]
        return (
            node_hash,
            None if left == bytes(32) else left,
            None if right == bytes(32) else right,
        )
    if data[:1] == LEAF_PREFIX and len(data) >= _LEAF_HEADER + 2:
        key_end = _LEAF_HEADER + 2 + int.from_bytes(data[_LEAF_HEADER : _LEAF_HEADER + 2], "big")
        key = data[_LEAF_HEADER + 2 : key_end].decode("utf-8", "replace")
        return (node_hash, data[1:33], data[33:65], key, data[key_end:])
    return decode_node(node_hash, data)


class TrustedNodesStoreObject(CommandsUnderPatch, ReferenceStoreObject):
    """Every command runs with :func:`decode_node_on_trust` in place of the checked decoder."""

    patch = (aethel.state.store, "decode_node", decode_node_on_trust)


class TrustedNodesStateStore(ReferenceStateStore):
    @rejecting
    def open(self, path: str) -> ReferenceStoreObject:
        with mock.patch.object(aethel.state.store, "decode_node", decode_node_on_trust):
            return TrustedNodesStoreObject(path)


class TrustedNodesImplementation(ReferenceImplementation):
    name = "mutant-store-trusts-its-nodes"

    def make_state_store(self) -> object:
        return TrustedNodesStateStore()


def no_writer_lock(path: Path) -> int:
    """Defect: opening creates the lock file but never locks it: a second writer opens the
    store beside the first."""
    return os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)


class ManyWritersStateStore(ReferenceStateStore):
    @rejecting
    def open(self, path: str) -> ReferenceStoreObject:
        with mock.patch.object(aethel.state.store, "_lock_writer", no_writer_lock):
            return ReferenceStoreObject(path)


class ManyWritersImplementation(ReferenceImplementation):
    name = "mutant-store-many-writers"

    def make_state_store(self) -> object:
        return ManyWritersStateStore()


#: The members of each operation kind (spec/economics.md, the table of operations, with the
#: conformance protocol's ``recipient``).
_OPERATION_MEMBERS = {
    "transfer": ("sender", "recipient", "amount", "nonce"),
    "reward": ("account", "amount"),
    "bond": ("account", "validator", "amount"),
    "unbond": ("validator", "account", "amount"),
    "slash": ("validator", "offence"),
}


class LenientOperationsStoreObject(ReferenceStoreObject):
    """Defect: an operation is read by the members its kind defines; others are ignored."""

    @rejecting
    def commit_transition(self, height: int, operations: list[JSON]) -> JSON:
        known = _OPERATION_MEMBERS
        read = [
            {k: v for k, v in op.items() if k == "op" or k in known[op["op"]]}
            if isinstance(op, dict) and op.get("op") in known
            else op
            for op in operations
        ]
        return super().commit_transition(height, read)


class UnnamedOperationRefusalStoreObject(ReferenceStoreObject):
    """Defect: an operation of another form is refused, but the refusal names no rule."""

    @rejecting
    def commit_transition(self, height: int, operations: list[JSON]) -> JSON:
        try:
            return super().commit_transition(height, operations)
        except Rejected as refused:
            if refused.rule_id == "R3.6" and "operation" in refused.message:
                raise Rejected(refused.message) from None
            raise


class _OperationsStateStore(ReferenceStateStore):
    object_class: type[ReferenceStoreObject] = ReferenceStoreObject

    @rejecting
    def open(self, path: str) -> ReferenceStoreObject:
        return self.object_class(path)


class LenientOperationsImplementation(ReferenceImplementation):
    name = "mutant-operation-undefined-members-ignored"

    def make_state_store(self) -> object:
        return type("S", (_OperationsStateStore,), {"object_class": LenientOperationsStoreObject})()


class UnnamedOperationRefusalImplementation(ReferenceImplementation):
    name = "mutant-operation-refused-naming-no-rule"

    def make_state_store(self) -> object:
        return type(
            "S", (_OperationsStateStore,), {"object_class": UnnamedOperationRefusalStoreObject}
        )()


MUTANTS = [
    Mutant(
        name="store-root-first",
        defect="a height's root is committed in one SQLite transaction, its tree nodes in another",
        breaks=("R5.4",),
        capabilities=("state-store",),
        build=RootFirstImplementation,
    ),
    Mutant(
        name="store-trusts-its-nodes",
        defect="tree nodes read back from the store are decoded without checking their hashes: "
        "a value or child hash damaged on disk is served as state",
        breaks=("R5.4",),
        capabilities=("state-store",),
        build=TrustedNodesImplementation,
    ),
    Mutant(
        name="store-many-writers",
        defect="opening a store takes no writer lock: a second open of a store that is open "
        "succeeds, and two writers commit to one file",
        breaks=("R5.4",),
        capabilities=("state-store",),
        build=ManyWritersImplementation,
    ),
    Mutant(
        name="operation-undefined-members-ignored",
        defect="a state-transition operation is read by the members its kind defines and any "
        "other member is ignored, instead of the operation being refused naming R3.6",
        breaks=("R3.6",),
        capabilities=("state-store",),
        build=LenientOperationsImplementation,
    ),
    Mutant(
        name="operation-refused-naming-no-rule",
        defect="an operation of another form (unknown op, a member missing or undefined) is "
        "refused, but the refusal names no rule (spec/encoding.md's table gives R3.6)",
        breaks=("R3.6",),
        capabilities=("state-store",),
        build=UnnamedOperationRefusalImplementation,
    ),
]
