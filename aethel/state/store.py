"""The state store: the state tree persisted in SQLite, one version per committed height.

Spec: R5.4 (persist, survive a crash with nothing committed lost, never serve a corrupted
record), R3.6/R4.7 (transitions are validated before anything is written), T22.1b (LRU node
cache in front of the node store).

Layout (SQLite, WAL journal, ``synchronous=FULL`` so a committed height survives power loss):

* ``nodes(hash, data)``: tree nodes addressed by hash (:func:`aethel.merkle.nodes.encode_node`);
  versions share unchanged subtrees and nothing is ever overwritten or deleted;
* ``heights(height, root, kind, records, checksum)``: the root of every committed height and the
  digest of its records, with the index ``heights_by_root`` (derived; created at open if a
  store written before it lacks it);
* ``records(height, name, data, checksum)``: opaque canonical-JSON payloads committed with a
  height (the consensus layer's block and certificate, R5.4).

One height commits in one SQLite transaction: its new nodes, its root and its records, or none
of them. Reopening reads one row (the latest height) and its root node, nothing else: no
rebuild. Old heights stay readable (values, proofs, snapshots).

Integrity (R5.4: corruption is detected, not served). A node is checked against its address
on every read (its bytes must hash to it). A height row and a record row carry a SHA-256
checksum of their content and position (:func:`height_checksum`, :func:`record_checksum`),
checked on every read, the latest height's at open together with its root node; reading a
record checks all the records of its height against the height's digest
(:func:`records_digest`), so a record that vanished or moved is noticed too. A leaf's key must
lead to the leaf's path (the leaf hash covers the path, not the key). A row or node
that fails, a node a committed root needs that is missing, or a database SQLite itself finds
malformed raises :class:`StoreCorrupted` (a :class:`~aethel.errors.ProtocolViolation` naming
R5.4); nothing corrupted is returned.

One writer (R5.4: each height is written by one process, atomically). Opening takes an
exclusive ``flock`` on ``<path>.lock`` for as long as the store is open; a second opener, in
this process or another, gets :class:`StoreLocked` at once. The lock goes with the process, so
a store whose writer was killed opens again. Usage::

    store = StateStore(path)
    store.commit(store.stage_genesis(Genesis(balances, stakes)))
    staged = store.stage(Transition(1, (TransferOperation("alice", "bob", 5, 0),)))  # validated
    staged.post_root                                 # what a COMMIT vote carries
    store.commit(staged, {"block": block_json, "certificate": certificate_json})

A store has one writer (not thread-safe). Staging never writes; several candidates for the
next height may be staged, and the one that commits must still extend the latest height.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any, Final, Literal, ParamSpec, TypeVar

from aethel.encoding import parse_canonical_json
from aethel.errors import ProtocolViolation, UsageError
from aethel.merkle.cache import DEFAULT_CACHE_SIZE, CacheStats, NodeCache
from aethel.merkle.errors import MissingNodeError, StoreCorruptionError
from aethel.merkle.hashing import EMPTY_HASH, compute_path
from aethel.merkle.nodes import Node, OverlayNodeStore, decode_node, encode_node
from aethel.merkle.proofs import Proof
from aethel.merkle.tree import StateTree
from aethel.state.transitions import (
    Genesis,
    Transition,
    TransitionOutcome,
    compute_genesis,
    compute_transition,
)

#: 2: height and record rows carry checksums (a store of schema 1 is refused, not migrated).
SCHEMA_VERSION: Final = 2
#: The tables, as SQLite records them: reopening checks the file holds exactly these.
_TABLES: Final = {
    "meta": "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    "nodes": "CREATE TABLE nodes (hash BLOB PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID",
    "heights": (
        "CREATE TABLE heights (height INTEGER PRIMARY KEY, root BLOB NOT NULL, "
        "kind TEXT NOT NULL, records BLOB NOT NULL, checksum BLOB NOT NULL)"
    ),
    "records": (
        "CREATE TABLE records (height INTEGER NOT NULL, name TEXT NOT NULL, data BLOB NOT NULL, "
        "checksum BLOB NOT NULL, PRIMARY KEY (height, name)) WITHOUT ROWID"
    ),
}
#: Derived data, not a schema change: the committed roots by root, so :meth:`StateStore.
#: find_height` (the persistent ledger's lookup of a state by root) searches instead of scanning
#: every height. The rows stored are the same with or without it, so schema 2 stays: the writer
#: creates it at open when a schema-2 store written before it lacks it (under the writer lock),
#: and code without it opens a store that has it (its check reads the tables only; SQLite keeps
#: the index in step with every write).
_INDEXES: Final = {
    "heights_by_root": "CREATE INDEX heights_by_root ON heights (root, height)",
}
#: The lookup the index serves: the latest height holding a root.
FIND_HEIGHT_SQL: Final = (
    "SELECT height, root, kind, records, checksum FROM heights WHERE root = ? "
    "ORDER BY height DESC LIMIT 1"
)
#: SQLite's own page cache (KiB), under the node cache: keeps the upper B-tree pages in memory.
SQLITE_PAGE_CACHE_KIB: Final = 64 * 1024
#: Largest record payload accepted (a block with thousands of proofs stays far below).
MAX_RECORD_BYTES: Final = 64 << 20

_first = itemgetter(0)
HeightKind = Literal["genesis", "transition", "snapshot"]
_KINDS: Final = ("genesis", "transition", "snapshot")
#: SQLite result codes that mean the file is not a sound database (primary codes).
_CORRUPT_CODES: Final = frozenset({11, 24, 26})  # SQLITE_CORRUPT, SQLITE_FORMAT, SQLITE_NOTADB

P = ParamSpec("P")
T = TypeVar("T")


class StoreCorrupted(ProtocolViolation, StoreCorruptionError):
    """A stored row or node failed its check, or SQLite found the file malformed (R5.4).

    Raised instead of returning anything corrupted; the store's files need repair or a resync.
    """

    def __init__(self, message: str, rule_id: str = "R5.4") -> None:
        super().__init__(rule_id, message)

    def __reduce__(self) -> tuple[type[ProtocolViolation], tuple[str, str]]:
        return (type(self), (self.detail, self.rule_id))


class StoreLocked(UsageError):
    """The store is open by another writer (this process or another); a store has one."""


def height_checksum(height: int, root: bytes, kind: str, records: bytes) -> bytes:
    """Return the checksum of a height row: SHA-256 over a tag, the height, root, kind and the
    digest of its records (:func:`records_digest`)."""
    return hashlib.sha256(
        b"aethel/store/height\x00"
        + height.to_bytes(8, "big")
        + root
        + records
        + kind.encode("utf-8")
    ).digest()


def records_digest(checksums: Iterable[bytes]) -> bytes:
    """Return the digest of a height's records: SHA-256 of their checksums in sorted order, so a
    record that vanished, moved or was added is noticed when any record of the height is read."""
    return hashlib.sha256(b"aethel/store/records\x00" + b"".join(sorted(checksums))).digest()


def record_checksum(height: int, name: str, data: bytes) -> bytes:
    """Return the checksum of a record row: SHA-256 over a tag, its height, name and data."""
    encoded = name.encode("utf-8")
    return hashlib.sha256(
        b"aethel/store/record\x00"
        + height.to_bytes(8, "big")
        + len(encoded).to_bytes(2, "big")
        + encoded
        + data
    ).digest()


def _database_errors(function: Callable[P, T]) -> Callable[P, T]:
    """Turn SQLite's verdict that the file is malformed into :class:`StoreCorrupted` (R5.4)."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return function(*args, **kwargs)
        except sqlite3.DatabaseError as exc:
            code = getattr(exc, "sqlite_errorcode", None)
            if isinstance(code, int) and code & 0xFF in _CORRUPT_CODES:
                raise StoreCorrupted(f"SQLite finds the store malformed: {exc}") from exc
            if str(exc).startswith("Could not decode to UTF-8"):  # text no longer UTF-8
                raise StoreCorrupted(f"the store holds text that is not UTF-8: {exc}") from exc
            raise
        except UnicodeDecodeError as exc:  # text the store wrote as UTF-8 no longer is
            raise StoreCorrupted(f"the store holds text that is not UTF-8: {exc}") from exc

    return wrapper


def _lock_writer(path: Path) -> int:
    """Take the writer lock of the store at ``path``; return its file descriptor."""
    lock_path = path.with_name(path.name + ".lock")
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise UsageError(f"cannot create the lock file {lock_path}: {exc}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip()
        os.close(fd)
        who = f" (process {holder})" if holder.isdigit() else ""
        raise StoreLocked(
            f"{path} is open by another writer{who}: a store has one writer; close it first"
        ) from None
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
    return fd


class SqliteNodeStore:
    """Tree nodes in the ``nodes`` table of an open SQLite connection."""

    __slots__ = ("_db",)

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    @_database_errors
    def get_node(self, node_hash: bytes) -> Node | None:
        """Return the node stored under ``node_hash`` (hash-checked), or None.

        Raises :class:`StoreCorrupted` if the stored bytes do not hash to ``node_hash``.
        """
        row = self._db.execute(
            "SELECT CAST(data AS BLOB) FROM nodes WHERE hash = ?", (node_hash,)
        ).fetchone()
        if row is None:
            return None
        try:
            node = decode_node(node_hash, row[0])
        except StoreCorruptionError as exc:
            raise StoreCorrupted(f"node store: {exc}") from None
        # The leaf hash covers the key's path, not the key: check the key leads to that path.
        if len(node) == 5 and compute_path(node[3]) != node[1]:
            raise StoreCorrupted(f"node store: leaf {node_hash.hex()} holds a key of another path")
        return node

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
        self._lock_fd = _lock_writer(self.path)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None)
        except BaseException:
            os.close(self._lock_fd)
            raise
        try:
            self._open(cache_size, durable)
        except BaseException:
            self._db.close()
            os.close(self._lock_fd)
            raise

    @_database_errors
    def _open(self, cache_size: int, durable: bool) -> None:
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        self._db.execute(f"PRAGMA cache_size=-{SQLITE_PAGE_CACHE_KIB}")
        self._prepare_tables()
        self._nodes = SqliteNodeStore(self._db)
        self._cache = NodeCache(self._nodes, cache_size)
        self._latest = self._load_latest()

    def _prepare_tables(self) -> None:
        """Create the tables in a new file; in an existing one, check they are the store's."""
        found = dict(self._db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'"))
        if not found:
            self._db.execute("BEGIN IMMEDIATE")
            for sql in (*_TABLES.values(), *_INDEXES.values()):
                self._db.execute(sql)
            self._db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            self._db.execute("COMMIT")
            return
        version = None
        if found.get("meta") == _TABLES["meta"]:
            row = self._db.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone()
            version = None if row is None else row[0]
        if version is not None and version != str(SCHEMA_VERSION):
            raise UsageError(
                f"{self.path} has state store schema {version!r}, not {SCHEMA_VERSION} (schema 1 "
                "has no record checksums and is not migrated: sync the state afresh)"
            )
        if found != _TABLES or version is None:
            raise StoreCorrupted(
                f"{self.path}: the tables or the schema version are not those the store wrote"
            )
        self._prepare_indexes()

    def _prepare_indexes(self) -> None:
        """Create the derived indexes a schema-2 store written before them lacks; refuse an
        index the store did not write (see :data:`_INDEXES`)."""
        found = dict(
            self._db.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            )
        )
        if found == _INDEXES:
            return
        if not set(found) <= set(_INDEXES) or any(found[n] != _INDEXES[n] for n in found):
            raise StoreCorrupted(f"{self.path}: the indexes are not those the store wrote")
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for sql in _INDEXES.values():
                self._db.execute(sql.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1))
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise

    def _height_row(self, row: Any) -> CommittedHeight:
        """Return a ``(height, root, kind, records, checksum)`` row's height after checking it."""
        height, root, kind, records, checksum = row
        sound = (
            type(height) is int
            and height >= 0
            and isinstance(root, bytes)
            and len(root) == 32
            and kind in _KINDS
            and isinstance(records, bytes)
            and isinstance(checksum, bytes)
        )
        if not sound or checksum != height_checksum(height, root, kind, records):
            raise StoreCorrupted(f"{self.path}: the row of height {height!r} fails its checksum")
        return CommittedHeight(height, root)

    def _load_latest(self) -> CommittedHeight | None:
        row = self._db.execute(
            "SELECT height, root, kind, records, checksum FROM heights ORDER BY height DESC LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        latest = self._height_row(row)
        # The root's own node, read past the cache: a root whose tree is not there is refused.
        if latest.root != EMPTY_HASH and self._nodes.get_node(latest.root) is None:
            raise StoreCorrupted(
                f"{self.path}: the root of height {latest.height} has no node in the store"
            )
        return latest

    def close(self) -> None:
        """Close the database and release the writer lock (committed heights are durable)."""
        self._db.close()
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1

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

    @_database_errors
    def get_root(self, height: int) -> bytes:
        """Return the root committed at ``height``; raise :class:`UsageError` if there is none."""
        row = self._db.execute(
            "SELECT height, root, kind, records, checksum FROM heights WHERE height = ?", (height,)
        ).fetchone()
        if row is None:
            raise UsageError(f"height {height} is not committed in {self.path}")
        return self._height_row(row).root

    @_database_errors
    def find_height(self, root: bytes) -> int | None:
        """Return the latest committed height whose root is ``root``, or None.

        A search of the root index (:data:`FIND_HEIGHT_SQL`); the row found is checked like
        every height row, so an index that disagrees with its table raises
        :class:`StoreCorrupted` (R5.4) instead of naming another height (SQLite takes the root
        from the index, so the row's checksum fails; the comparison with ``root`` covers a plan
        that takes it from the table).
        """
        row = self._db.execute(FIND_HEIGHT_SQL, (root,)).fetchone()
        if row is None:
            return None
        found = self._height_row(row)
        if found.root != root:
            raise StoreCorrupted(
                f"{self.path}: the root index names height {found.height}, which holds another root"
            )
        return found.height

    @_database_errors
    def get_heights(self) -> list[int]:
        """Return every committed height, ascending (each row checked)."""
        rows = self._db.execute(
            "SELECT height, root, kind, records, checksum FROM heights ORDER BY height"
        )
        return [self._height_row(row).height for row in rows]

    def tree(self, height: int | None = None) -> StateTree:
        """Return a read view of the state at ``height`` (default: the latest).

        Writes to the view stay in a throwaway overlay and never reach the store.
        """
        root = self.root if height is None else self.get_root(height)
        return StateTree(OverlayNodeStore(self._cache), root=root, cache=self._cache)

    def get(self, key: str, height: int | None = None, default: Any = None) -> Any:
        """Return the value of ``key`` at ``height`` (default: the latest), or ``default``."""
        tree = self.tree(height)
        try:
            return tree.get(key, default)
        except MissingNodeError as exc:
            raise StoreCorrupted(f"{self.path}: {exc} (a committed tree lacks it)") from None

    def prove(self, key: str, height: int | None = None) -> Proof:
        """Return an inclusion or absence proof of ``key`` at ``height`` (default: latest)."""
        tree = self.tree(height)
        try:
            return tree.prove(key)
        except MissingNodeError as exc:
            raise StoreCorrupted(f"{self.path}: {exc} (a committed tree lacks it)") from None

    @_database_errors
    def get_record(self, height: int, name: str) -> bytes | None:
        """Return the payload ``name`` committed with ``height`` (canonical JSON), or None.

        Every record of the height is read and checked against its checksum and the height's
        records digest: a record that fails, vanished or moved raises :class:`StoreCorrupted`.
        """
        row = self._db.execute(
            "SELECT height, root, kind, records, checksum FROM heights WHERE height = ?",
            (height,),
        ).fetchone()
        if row is None:
            return None
        self._height_row(row)
        found: dict[str, bytes] = {}
        checksums = []
        for record_name, data, checksum in self._db.execute(
            "SELECT name, data, checksum FROM records WHERE height = ?", (height,)
        ):
            if (
                not isinstance(record_name, str)
                or not isinstance(data, bytes)
                or checksum != record_checksum(height, record_name, data)
            ):
                raise StoreCorrupted(
                    f"{self.path}: record {record_name!r} of height {height} fails its checksum"
                )
            found[record_name] = data
            checksums.append(checksum)
        if records_digest(checksums) != row[3]:
            raise StoreCorrupted(
                f"{self.path}: the records of height {height} are not those committed with it"
            )
        return found.get(name)

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

    @_database_errors
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
            checksums = [(name, data, record_checksum(height, name, data)) for name, data in rows]
            digest = records_digest(c for _, _, c in checksums)
            db.execute(
                "INSERT INTO heights VALUES (?, ?, ?, ?, ?)",
                (height, root, kind, digest, height_checksum(height, root, kind, digest)),
            )
            db.executemany(
                "INSERT INTO records VALUES (?, ?, ?, ?)",
                ((height, name, data, checksum) for name, data, checksum in checksums),
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
