"""Mutants of the state store: persistence that survives a clean reopen but not a crash (R5.4)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from aethel.merkle.nodes import Node, encode_node
from aethel.state.store import (
    CommittedHeight,
    HeightKind,
    StateStore,
    _check_records,
    height_checksum,
    record_checksum,
    records_digest,
)
from conformance.adapters.reference import ReferenceImplementation
from conformance.adapters.reference_errors import rejecting
from conformance.adapters.reference_state import ReferenceStateStore, ReferenceStoreObject
from conformance.mutants import Mutant


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


MUTANTS = [
    Mutant(
        name="store-root-first",
        defect="a height's root is committed in one SQLite transaction, its tree nodes in another",
        breaks=("R5.4",),
        capabilities=("state-store",),
        build=RootFirstImplementation,
    ),
]
