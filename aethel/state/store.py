"""The state store: the state tree persisted in SQLite, one version per committed height.

Spec: R5.4 (persist, survive a crash with nothing committed lost), R3.6/R4.7 (transitions are
validated before anything is written), T22.1b (LRU node cache in front of the node store).

Layout (SQLite, WAL journal, ``synchronous=FULL`` so a committed height survives power loss):

* ``nodes(hash, data)``: tree nodes addressed by hash (:func:`aethel.merkle.nodes.encode_node`);
  versions share unchanged subtrees and nothing is ever overwritten or deleted;
* ``heights(height, root, kind)``: the root of every committed height;
* ``records(height, name, data)``: opaque canonical-JSON payloads committed with a height
  (the consensus layer's block and certificate, R5.4).

One height commits in one SQLite transaction: its new nodes, its root and its records, or none
of them. Reopening reads one row (the latest height) and nothing else: no rebuild. Old heights
stay readable (values, proofs, snapshots). Usage::

    store = StateStore(path)
    store.commit(store.stage_genesis(Genesis(balances, stakes)))
    staged = store.stage(Transition(1, (Transfer("alice", "bob", 5, 0),)))  # validated
    staged.post_root                                 # what a COMMIT vote carries
    store.commit(staged, {"block": block_json, "certificate": certificate_json})

A store has one writer (not thread-safe). Staging never writes; several candidates for the
next height may be staged, and the one that commits must still extend the latest height.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any, Final, Literal

from aethel.encoding import parse_canonical_json
from aethel.errors import UsageError
from aethel.merkle import (
    DEFAULT_CACHE_SIZE,
    EMPTY_HASH,
    CacheStats,
    NodeCache,
    OverlayNodeStore,
    Proof,
    StateTree,
)
from aethel.merkle.nodes import Node, decode_node, encode_node
from aethel.state.transitions import (
    Genesis,
    Transition,
    TransitionOutcome,
    compute_genesis,
    compute_transition,
)

SCHEMA_VERSION: Final = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS nodes (hash BLOB PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS heights (
    height INTEGER PRIMARY KEY, root BLOB NOT NULL, kind TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
    height INTEGER NOT NULL, name TEXT NOT NULL, data BLOB NOT NULL, PRIMARY KEY (height, name)
) WITHOUT ROWID;
"""
#: SQLite's own page cache (KiB), under the node cache: keeps the upper B-tree pages in memory.
SQLITE_PAGE_CACHE_KIB: Final = 64 * 1024
#: Largest record payload accepted (a block with thousands of proofs stays far below).
MAX_RECORD_BYTES: Final = 64 << 20

_first = itemgetter(0)
HeightKind = Literal["genesis", "transition", "snapshot"]


class SqliteNodeStore:
    """Tree nodes in the ``nodes`` table of an open SQLite connection."""

    __slots__ = ("_db",)

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    def get_node(self, node_hash: bytes) -> Node | None:
        """Return the node stored under ``node_hash`` (hash-checked), or None."""
        row = self._db.execute(
            "SELECT CAST(data AS BLOB) FROM nodes WHERE hash = ?", (node_hash,)
        ).fetchone()
        return None if row is None else decode_node(node_hash, row[0])

    def put_nodes(self, nodes: Sequence[Node]) -> None:
        """Insert nodes (the caller holds the transaction)."""
        self._db.executemany(
            "INSERT OR IGNORE INTO nodes VALUES (?, ?)",
            ((node[0], encode_node(node)) for node in nodes),
        )


@dataclass(frozen=True, slots=True)
class StagedHeight:
    """A validated next height, computed but not written: commit it or drop it."""

    height: int
    pre_root: bytes
    post_root: bytes
    kind: HeightKind
    outcome: TransitionOutcome
    nodes: tuple[Node, ...] = field(repr=False)
    _store: object = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class CommittedHeight:
    """A height and its state root."""

    height: int
    root: bytes


class StateStore:
    """The versioned, persistent state tree of one node (see the module docstring).

    ``path`` is created if missing. ``cache_size`` bounds the LRU node cache (T22.1b).
    ``durable=False`` relaxes fsync (``synchronous=NORMAL``: a process crash still loses
    nothing committed, an OS crash may lose the last heights); for benchmarks and tests only.
    """

    def __init__(
        self, path: str | Path, *, cache_size: int = DEFAULT_CACHE_SIZE, durable: bool = True
    ) -> None:
        self.path = Path(path)
        self._db = sqlite3.connect(self.path, isolation_level=None)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            self._db.execute(f"PRAGMA cache_size=-{SQLITE_PAGE_CACHE_KIB}")
            self._db.executescript(_SCHEMA)
            self._check_schema()
            self._nodes = SqliteNodeStore(self._db)
            self._cache = NodeCache(self._nodes, cache_size)
            self._latest = self._load_latest()
        except BaseException:
            self._db.close()
            raise

    def _check_schema(self) -> None:
        row = self._db.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone()
        if row is None:
            self._db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        elif row[0] != str(SCHEMA_VERSION):
            raise UsageError(f"{self.path} has state store schema {row[0]}, not {SCHEMA_VERSION}")

    def _load_latest(self) -> CommittedHeight | None:
        row = self._db.execute(
            "SELECT height, root FROM heights ORDER BY height DESC LIMIT 1"
        ).fetchone()
        return None if row is None else CommittedHeight(row[0], row[1])

    def close(self) -> None:
        """Close the database (committed heights are already durable)."""
        self._db.close()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ reading

    @property
    def latest(self) -> CommittedHeight | None:
        """The latest committed height and root, or None for an empty store."""
        return self._latest

    @property
    def height(self) -> int | None:
        """The latest committed height, or None."""
        return None if self._latest is None else self._latest.height

    @property
    def root(self) -> bytes:
        """The latest committed root (the empty hash for an empty store)."""
        return EMPTY_HASH if self._latest is None else self._latest.root

    def get_root(self, height: int) -> bytes:
        """Return the root committed at ``height``; raise :class:`UsageError` if there is none."""
        row = self._db.execute("SELECT root FROM heights WHERE height = ?", (height,)).fetchone()
        if row is None:
            raise UsageError(f"height {height} is not committed in {self.path}")
        return bytes(row[0])

    def find_height(self, root: bytes) -> int | None:
        """Return the latest committed height whose root is ``root``, or None."""
        row = self._db.execute("SELECT MAX(height) FROM heights WHERE root = ?", (root,)).fetchone()
        return None if row is None else row[0]

    def get_heights(self) -> list[int]:
        """Return every committed height, ascending."""
        return [row[0] for row in self._db.execute("SELECT height FROM heights ORDER BY height")]

    def tree(self, height: int | None = None) -> StateTree:
        """Return a read view of the state at ``height`` (default: the latest).

        Writes to the view stay in a throwaway overlay and never reach the store.
        """
        root = self.root if height is None else self.get_root(height)
        return StateTree(OverlayNodeStore(self._cache), root=root, cache=self._cache)

    def get(self, key: str, height: int | None = None, default: Any = None) -> Any:
        """Return the value of ``key`` at ``height`` (default: the latest), or ``default``."""
        return self.tree(height).get(key, default)

    def prove(self, key: str, height: int | None = None) -> Proof:
        """Return an inclusion or absence proof of ``key`` at ``height`` (default: latest)."""
        return self.tree(height).prove(key)

    def get_record(self, height: int, name: str) -> bytes | None:
        """Return the payload ``name`` committed with ``height`` (canonical JSON), or None."""
        row = self._db.execute(
            "SELECT data FROM records WHERE height = ? AND name = ?", (height, name)
        ).fetchone()
        return None if row is None else bytes(row[0])

    def get_cache_stats(self) -> CacheStats:
        """Return the node cache statistics (T22.1b)."""
        return self._cache.get_cache_stats()

    @property
    def cache(self) -> NodeCache:
        """The LRU node cache in front of the node table."""
        return self._cache

    # ------------------------------------------------------------------ writing

    def stage_genesis(self, genesis: Genesis) -> StagedHeight:
        """Validate ``genesis`` and compute its root; raise :class:`UsageError` if not empty."""
        if self._latest is not None:
            raise UsageError(f"{self.path} already holds height {self._latest.height}")
        outcome = compute_genesis(genesis)
        return self._stage(genesis.height, EMPTY_HASH, outcome, "genesis")

    def stage(self, transition: Transition) -> StagedHeight:
        """Validate ``transition`` on the latest height and compute the next root; write nothing.

        Raises :class:`~aethel.state.transitions.TransitionError` naming the broken rule
        (R3.6, R4.7, R7.1, ...); :class:`UsageError` if ``transition.height`` is not the
        latest height + 1.
        """
        latest = self._latest
        if latest is None:
            raise UsageError("the store is empty: commit a genesis first")
        if not isinstance(transition, Transition) or transition.height != latest.height + 1:
            raise UsageError(f"the next height is {latest.height + 1}")
        view = self.tree()
        outcome = compute_transition(view.get, transition)
        return self._stage(transition.height, latest.root, outcome, "transition")

    def _stage(
        self, height: int, pre_root: bytes, outcome: TransitionOutcome, kind: HeightKind
    ) -> StagedHeight:
        overlay = OverlayNodeStore(self._cache)
        view = StateTree(overlay, root=pre_root, cache=self._cache)
        post_root = view.batch_update(outcome.writes)
        return StagedHeight(
            height, pre_root, post_root, kind, outcome, tuple(overlay.pending.values()), self
        )

    def commit(self, staged: StagedHeight, records: Mapping[str, bytes] | None = None) -> None:
        """Persist ``staged`` with ``records`` in one transaction (R5.4).

        ``records`` maps names (e.g. ``"block"``, ``"certificate"``) to canonical JSON bytes;
        each is checked (E4) before anything is written. Raises :class:`UsageError` if
        ``staged`` does not extend the latest height of this store.
        """
        if staged._store is not self:
            raise UsageError("this staged height was computed by another store")
        latest = self._latest
        expected = (None, EMPTY_HASH) if latest is None else (latest.height + 1, latest.root)
        if staged.kind == "transition" and (staged.height, staged.pre_root) != expected:
            raise UsageError(
                f"staged height {staged.height} no longer extends the latest height; stage again"
            )
        if staged.kind == "genesis" and latest is not None:
            raise UsageError("a genesis commits only into an empty store")
        self._write_height(staged.height, staged.post_root, staged.kind, staged.nodes, records)

    def import_snapshot(
        self, height: int, tree: StateTree, records: Mapping[str, bytes] | None = None
    ) -> None:
        """Persist a verified snapshot ``tree`` as ``height`` (after a sync: R3.1, R3.5).

        ``tree`` must hold its nodes in memory (as :func:`aethel.state.sync.sync_state`
        returns it). ``height`` must exceed the latest committed height. Later heights then
        commit on top of it as usual.
        """
        if not tree.in_memory:
            raise UsageError("import_snapshot takes an in-memory tree (a sync result)")
        if type(height) is not int or height < 0:
            raise UsageError("a height is a non-negative int")
        if self._latest is not None and height <= self._latest.height:
            raise UsageError(f"height {height} is not above the latest ({self._latest.height})")
        self._write_height(height, tree.root(), "snapshot", tree.iter_nodes(), records)

    def _write_height(
        self,
        height: int,
        root: bytes,
        kind: HeightKind,
        nodes: Iterator[Node] | Sequence[Node],
        records: Mapping[str, bytes] | None,
    ) -> None:
        rows = _check_records(records)
        # Inserting in hash order fills the B-tree page by page instead of at random.
        node_rows = sorted(((node[0], encode_node(node)) for node in nodes), key=_first)
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany("INSERT OR IGNORE INTO nodes VALUES (?, ?)", node_rows)
            db.execute("INSERT INTO heights VALUES (?, ?, ?)", (height, root, kind))
            db.executemany(
                "INSERT INTO records VALUES (?, ?, ?)",
                ((height, name, data) for name, data in rows),
            )
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        self._latest = CommittedHeight(height, root)
        if isinstance(nodes, Sequence):
            self._cache.admit(nodes)


def _check_records(records: Mapping[str, bytes] | None) -> list[tuple[str, bytes]]:
    """Validate record payloads (names and canonical JSON, E4) before any write."""
    if records is None:
        return []
    rows = []
    for name, data in sorted(records.items()):
        if type(name) is not str or not name or len(name) > 64:
            raise UsageError(f"record names are strings of 1 to 64 characters, got {name!r}")
        if type(data) is not bytes:
            raise UsageError(f"record {name!r} must be canonical JSON bytes")
        parse_canonical_json(data, max_size=MAX_RECORD_BYTES)
        rows.append((name, data))
    return rows
