"""The persistent state store (R5.4): versions per height, atomic commits, reopening cheaply, one
writer, corruption detected and never served."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from aethel.encoding import canonical_json
from aethel.errors import AethelError, EncodingError, UsageError
from aethel.merkle.hashing import EMPTY_HASH, LEAF_PREFIX, NODE_PREFIX
from aethel.merkle.proofs import verify_proof
from aethel.merkle.tree import StateTree
from aethel.state.errors import TransitionError
from aethel.state.store import (
    FIND_HEIGHT_SQL,
    StateStore,
    StoreCorrupted,
    StoreLocked,
    height_checksum,
)
from aethel.state.transitions import Genesis, Reward, TransferOperation, Transition

GENESIS = Genesis({"alice": 1_000, "bob": 500}, {"v1": 10_000, "v2": 20_000})


def transfer(height: int, nonce: int, amount: int = 10) -> Transition:
    return Transition(height, (TransferOperation("alice", "bob", amount, nonce), Reward("v1", 100)))


def filled(path: Path, heights: int) -> StateStore:
    store = StateStore(path)
    store.commit(store.stage_genesis(GENESIS), {"block": canonical_json({"height": 0})})
    for height in range(1, heights + 1):
        staged = store.stage(transfer(height, height - 1))
        store.commit(staged, {"block": canonical_json({"height": height}), "certificate": b"[]"})
    return store


@pytest.mark.req("R5.4")
def test_heights_commit_and_old_versions_stay_readable(tmp_path: Path) -> None:
    with filled(tmp_path / "state.db", 5) as store:
        assert store.height == 5 and store.get_heights() == [0, 1, 2, 3, 4, 5]
        for height in range(6):
            root = store.get_root(height)
            assert store.get("balance:alice", height) == 1_000 - 10 * height
            proof = store.prove("balance:bob", height)
            assert verify_proof(proof, root) and proof.value == 500 + 10 * height
            assert store.get_record(height, "block") == canonical_json({"height": height})
        assert store.get_record(3, "certificate") == b"[]"
        assert store.get_record(0, "certificate") is None
        # The same state built in memory has the same root: the store adds nothing to hashing.
        memory = StateTree()
        memory.batch_update(
            dict((leaf[3], store.get(leaf[3])) for leaf in store.tree().iter_leaves())
        )
        assert memory.root() == store.root


@pytest.mark.req("R5.4")
def test_reopening_reads_no_node_and_continues(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    filled(path, 3).close()
    with StateStore(path) as store:
        stats = store.get_cache_stats()
        assert (stats.hits, stats.misses, stats.size) == (0, 0, 0)  # nothing rebuilt or loaded
        assert store.height == 3
        assert store.get("balance:alice") == 970
        store.commit(store.stage(transfer(4, 3)))
    with StateStore(path) as store:
        assert store.height == 4 and store.get("balance:bob") == 540


@pytest.mark.req("R5.4")
def test_staging_writes_nothing_and_stale_stages_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with filled(path, 2) as store:
        root = store.root
        first = store.stage(transfer(3, 2))
        second = store.stage(transfer(3, 2, amount=20))  # a competing candidate
        assert first.post_root != second.post_root and store.root == root
        store.commit(second)
        with pytest.raises(UsageError):
            store.commit(first)  # no longer extends the latest height
        with pytest.raises(UsageError):
            store.stage(transfer(3, 3))  # height 3 is taken
        other = filled(tmp_path / "other.db", 2)
        with pytest.raises(UsageError):
            store.commit(other.stage(transfer(3, 2)))
        other.close()
    with StateStore(path) as store:
        assert store.height == 3 and store.get("balance:alice") == 1_000 - 20 - 20


@pytest.mark.req("R5.4")
def test_bad_records_are_rejected_before_anything_is_written(tmp_path: Path) -> None:
    with filled(tmp_path / "state.db", 1) as store:
        staged = store.stage(transfer(2, 1))
        with pytest.raises(EncodingError):
            store.commit(staged, {"block": b'{"a": 1}'})  # not canonical
        with pytest.raises(UsageError):
            store.commit(staged, {"": b"{}"})
        assert store.height == 1 and store.get_heights() == [0, 1]
        store.commit(staged, {"block": b'{"a":1}'})
        assert store.height == 2


@pytest.mark.req("R5.4", "R3.6")
def test_a_rejected_transition_leaves_the_store_unchanged(tmp_path: Path) -> None:
    with filled(tmp_path / "state.db", 1) as store:
        root = store.root
        with pytest.raises(TransitionError):
            store.stage(Transition(2, (TransferOperation("alice", "bob", 10**9, 1),)))
        assert store.root == root and store.height == 1


@pytest.mark.req("R5.4")
def test_genesis_only_into_an_empty_store(tmp_path: Path) -> None:
    with StateStore(tmp_path / "state.db") as store:
        assert store.height is None and store.root == EMPTY_HASH
        with pytest.raises(UsageError):
            store.stage(transfer(1, 0))
        staged = store.stage_genesis(GENESIS)
        store.commit(staged)
        with pytest.raises(UsageError):
            store.stage_genesis(GENESIS)
        with pytest.raises(UsageError):
            store.commit(staged)


@pytest.mark.req("R5.4")
def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    StateStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '99' WHERE name = 'schema'")
    with pytest.raises(UsageError):
        StateStore(path)


# --------------------------------------------------------------------------- one writer


@pytest.mark.req("R5.4")
@pytest.mark.rejects("R5.4")
def test_a_second_writer_is_refused_at_open(tmp_path: Path) -> None:
    """A store has one writer: a second open, in this process or another, gets StoreLocked at
    once and changes nothing; the lock goes when the writer closes or dies."""
    path = tmp_path / "state.db"
    first = filled(path, 2)
    with pytest.raises(StoreLocked, match=f"another writer \\(process {os.getpid()}\\)"):
        StateStore(path)
    other = subprocess.run(
        [
            sys.executable,
            "-c",
            f"from aethel.state.store import StateStore; StateStore({str(path)!r})",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert other.returncode == 1 and "StoreLocked" in other.stderr, other.stderr
    first.commit(first.stage(transfer(3, 2)))  # the writer is unaffected
    first.close()
    with StateStore(path) as store:
        assert store.height == 3
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_OPEN, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline() == "open\n"
    with pytest.raises(StoreLocked):
        StateStore(path)
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    with StateStore(path) as store:  # a killed writer's lock died with it
        assert store.height == 3


HOLD_OPEN = """
import sys, time
from aethel.state.store import StateStore
store = StateStore(sys.argv[1])
print("open", flush=True)
time.sleep(600)
"""


# --------------------------------------------------------------------------- corruption


def _flip(value: object, bit: int) -> object:
    """Return ``value`` with one bit flipped, in the same SQLite type."""
    if isinstance(value, int):
        return value ^ (1 << bit)
    data = bytearray(value.encode("utf-8") if isinstance(value, str) else value)  # type: ignore[attr-defined]
    data[bit // 8 % len(data)] ^= 1 << (bit % 8)
    return bytes(data).decode("utf-8", errors="replace") if isinstance(value, str) else bytes(data)


def _corrupt(path: Path, table: str, column: str, where: str, bit: int) -> None:
    with sqlite3.connect(path) as db:
        rows = db.execute(f"SELECT {column} FROM {table} WHERE {where}").fetchall()
        assert len(rows) == 1, (table, column, where)
        db.execute(f"UPDATE {table} SET {column} = ? WHERE {where}", (_flip(rows[0][0], bit),))


def _any_node(path: Path, kind: bytes) -> bytes:
    with sqlite3.connect(path) as db:
        return bytes(
            db.execute(
                "SELECT hash FROM nodes WHERE substr(data, 1, 1) = ? LIMIT 1", (kind,)
            ).fetchone()[0]
        )


#: (name, table, column, row, bit, what must refuse). The store has heights 0-3.
CORRUPTIONS = [
    ("latest-root", "heights", "root", "height = 3", 77, "open"),
    ("older-root", "heights", "root", "height = 1", 3, "height 1"),
    ("latest-kind", "heights", "kind", "height = 3", 1, "open"),
    ("older-checksum", "heights", "checksum", "height = 2", 200, "height 2"),
    ("height-number", "heights", "height", "height = 2", 6, "open"),  # 66: now the latest
    ("block-data", "records", "data", "height = 2 AND name = 'block'", 9, "block 2"),
    ("certificate-data", "records", "data", "height = 3 AND name = 'certificate'", 4, "cert 3"),
    ("record-name", "records", "name", "height = 1 AND name = 'block'", 2, "block 1"),
    ("record-checksum", "records", "checksum", "height = 1 AND name = 'block'", 100, "block 1"),
    ("record-height", "records", "height", "height = 2 AND name = 'certificate'", 3, "cert 2"),
    ("records-digest", "heights", "records", "height = 2", 30, "height 2"),
    ("inner-node-data", "nodes", "data", "hash = :inner", 300, "values"),
    ("leaf-node-data", "nodes", "data", "hash = :leaf", 600, "values"),
    ("leaf-node-value", "nodes", "data", "hash = :leaf", -9, "values"),
    ("node-hash", "nodes", "hash", "hash = :leaf", 13, "values"),
]


def _read_everything(store: StateStore, what: str, keys: list[str]) -> None:
    """Do what reads the corrupted record (the case names it)."""
    if what == "heights":
        store.get_heights()
    elif what.startswith("height "):
        number = int(what.split()[1])
        store.get_root(number)
    elif what.startswith(("block", "cert")):
        name, number = what.split()
        store.get_record(int(number), "certificate" if name == "cert" else "block")
    elif what == "values":
        for height in store.get_heights():
            for key in keys:
                store.get(key, height)
                store.prove(key, height)


@pytest.mark.req("R5.4")
@pytest.mark.parametrize(
    ("table", "column", "where", "bit", "what"),
    [c[1:] for c in CORRUPTIONS],
    ids=[c[0] for c in CORRUPTIONS],
)
def test_a_flipped_bit_in_any_record_is_detected_not_served(
    tmp_path: Path, table: str, column: str, where: str, bit: int, what: str
) -> None:
    """One bit flipped in a height row (root, kind, number, checksum), a block or certificate
    record (data, name, height, checksum) or a node (inner or leaf bytes, a leaf's value, its
    address): reading it raises StoreCorrupted naming R5.4, never answers; the rest reads."""
    path = tmp_path / "state.db"
    with filled(path, 3) as intact:
        keys = sorted({leaf[3] for h in range(4) for leaf in intact.tree(h).iter_leaves()})
    inner, leaf = _any_node(path, NODE_PREFIX).hex(), _any_node(path, LEAF_PREFIX).hex()
    where = where.replace(":inner", f"X'{inner}'").replace(":leaf", f"X'{leaf}'")
    if bit < 0:  # the last bytes of a leaf: its value
        with sqlite3.connect(path) as db:
            length = db.execute(f"SELECT length(data) FROM nodes WHERE {where}").fetchone()[0]
        bit = (length - 1) * 8 + (-bit % 8)
    _corrupt(path, table, column, where, bit)
    if what == "open":
        with pytest.raises(StoreCorrupted) as refused:
            StateStore(path)
    else:
        with StateStore(path) as store:
            assert store.height == 3
            with pytest.raises(StoreCorrupted) as refused:
                _read_everything(store, what, keys)
    assert refused.value.rule_id == "R5.4"
    assert isinstance(refused.value, AethelError)


@pytest.mark.req("R5.4")
def test_random_bit_flips_in_the_file_never_serve_wrong_data(tmp_path: Path) -> None:
    """Flip one bit at each of 300 seeded places of a closed store's file: every reopening and
    every read either answers exactly what the intact store answers or raises a typed error
    (AethelError); never another answer, never another exception."""
    pristine = tmp_path / "state.db"
    filled(pristine, 4).close()
    assert not Path(f"{pristine}-wal").exists() or Path(f"{pristine}-wal").stat().st_size == 0
    data = pristine.read_bytes()
    with StateStore(pristine) as store:
        want = _snapshot(store)
    rng = random.Random(20261128)
    outcomes = {"same": 0, "typed error": 0}
    copy = tmp_path / "flipped.db"
    for trial in range(300):
        position = rng.randrange(len(data) * 8)
        flipped = bytearray(data)
        flipped[position // 8] ^= 1 << (position % 8)
        for leftover in (copy, Path(f"{copy}-wal"), Path(f"{copy}-shm")):
            leftover.unlink(missing_ok=True)
        copy.write_bytes(bytes(flipped))
        try:
            with StateStore(copy) as store:
                got = _snapshot(store)
        except AethelError:
            outcomes["typed error"] += 1
            continue
        assert got == want, f"trial {trial}: bit {position} of the file changed an answer"
        outcomes["same"] += 1
    assert outcomes["typed error"] > 0, outcomes
    print(outcomes)


def _snapshot(store: StateStore) -> object:
    heights = store.get_heights()
    return (
        store.latest,
        heights,
        [store.get_root(h) for h in heights],
        [store.get_record(h, n) for h in heights for n in ("block", "certificate")],
        [
            (store.get(k, h), store.prove(k, h).to_dict())
            for h in heights
            for k in ("balance:alice", "balance:bob", "stake:v2", "supply:minted", "balance:x")
        ],
    )


@pytest.mark.req("R5.4")
def test_reopening_checks_one_row_and_one_node(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The integrity checks keep reopening cheap: one height row and the root node, whatever
    the store's size (no tree walk)."""
    import aethel.state.store as store_module

    path = tmp_path / "state.db"
    with StateStore(path) as store:
        store.commit(store.stage_genesis(Genesis({f"acct{i}": 1 for i in range(2_000)}, {})))
    reads: list[bytes] = []
    original = store_module.SqliteNodeStore.get_node

    def counted(self: object, node_hash: bytes) -> object:
        reads.append(node_hash)
        return original(self, node_hash)  # type: ignore[arg-type]

    monkeypatch.setattr(store_module.SqliteNodeStore, "get_node", counted)
    with StateStore(path) as store:
        assert reads == [store.root]


# --------------------------------------------------------------------------- the root index


def _roots(store: StateStore) -> list[tuple[int, int | None]]:
    return [(h, store.find_height(store.get_root(h))) for h in store.get_heights()]


def _plan(path: Path, sql: str, *args: object) -> str:
    with sqlite3.connect(path) as db:
        return " | ".join(row[-1] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", args))


@pytest.mark.req("R5.4")
def test_the_root_lookup_searches_the_index(tmp_path: Path) -> None:
    """find_height (the persistent ledger's lookup of a state by root) is a search of the root
    index, not a scan of every height, and needs no sort for its ORDER BY."""
    path = tmp_path / "state.db"
    with filled(path, 4) as store:
        assert _roots(store) == [(h, h) for h in range(5)]
        assert store.find_height(b"\x07" * 32) is None
        plan = _plan(path, FIND_HEIGHT_SQL, store.root)
    assert plan.startswith("SEARCH heights USING INDEX heights_by_root (root=?)"), plan
    assert "SCAN" not in plan and "TEMP B-TREE" not in plan, plan


@pytest.mark.req("R5.4")
def test_a_schema_2_store_without_the_index_gains_it_at_open(tmp_path: Path) -> None:
    """A schema-2 store written before the index (the same tables and rows, no index) opens,
    answers exactly as before, gets the index from its writer at open, and keeps committing; the
    schema version and the stored rows are unchanged (an index is derived data)."""
    path = tmp_path / "state.db"
    with filled(path, 3) as store:
        want = (_snapshot(store), _roots(store))
    with sqlite3.connect(path) as db:
        db.execute("DROP INDEX heights_by_root")
        rows = db.execute("SELECT * FROM heights ORDER BY height").fetchall()
        assert db.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall() == []
    with StateStore(path) as store:
        assert (_snapshot(store), _roots(store)) == want
        store.commit(store.stage(transfer(4, 3)))
        assert store.find_height(store.root) == 4
    with sqlite3.connect(path) as db:
        assert (
            db.execute("SELECT * FROM heights WHERE height <= 3 ORDER BY height").fetchall() == rows
        )
        assert db.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone() == ("2",)
        assert [
            r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        ] == ["heights_by_root"]
    assert "USING INDEX heights_by_root" in _plan(path, FIND_HEIGHT_SQL, b"")


@pytest.mark.req("R5.4")
@pytest.mark.rejects("R5.4")
def test_an_index_the_store_did_not_write_is_refused(tmp_path: Path) -> None:
    """An index of another definition under the store's name is refused at open (R5.4)."""
    path = tmp_path / "state.db"
    filled(path, 1).close()
    with sqlite3.connect(path) as db:
        db.execute("DROP INDEX heights_by_root")
        db.execute("CREATE INDEX heights_by_root ON heights (kind)")
    with pytest.raises(StoreCorrupted) as refused:
        StateStore(path)
    assert refused.value.rule_id == "R5.4"


@pytest.mark.req("R5.4")
@pytest.mark.rejects("R5.4")
def test_a_root_index_that_disagrees_with_its_table_is_detected_not_served(
    tmp_path: Path,
) -> None:
    """The index says root A is at height 1, but height 1's row (consistent with its own
    checksum) now holds root B: find_height(A) raises StoreCorrupted, never answers 1. (A
    lookup answered from the index alone, SELECT height ... WHERE root = ?, answers 1: checked
    by hand when this test was written.)"""
    path = tmp_path / "state.db"
    with filled(path, 3) as store:
        root_a = store.get_root(1)
    other = b"\x42" * 32
    with sqlite3.connect(path) as db:  # hide the index from SQLite while the table changes
        name, table, page, sql = db.execute(
            "SELECT name, tbl_name, rootpage, sql FROM sqlite_master WHERE type = 'index'"
        ).fetchone()
        db.execute("PRAGMA writable_schema = ON")
        db.execute("DELETE FROM sqlite_master WHERE name = ?", (name,))
    with sqlite3.connect(path) as db:
        kind, records = db.execute("SELECT kind, records FROM heights WHERE height = 1").fetchone()
        db.execute(
            "UPDATE heights SET root = ?, checksum = ? WHERE height = 1",
            (other, height_checksum(1, other, kind, records)),
        )
        db.execute("PRAGMA writable_schema = ON")
        db.execute(
            "INSERT INTO sqlite_master VALUES ('index', ?, ?, ?, ?)", (name, table, page, sql)
        )
    with StateStore(path) as store:
        assert store.get_root(1) == other  # the row itself is consistent
        with pytest.raises(StoreCorrupted) as refused:
            store.find_height(root_a)
        assert store.find_height(store.get_root(3)) == 3
    assert refused.value.rule_id == "R5.4"
