"""The persistent state store (R5.4): versions per height, atomic commits, reopening cheaply."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from aethel.encoding import canonical_json
from aethel.errors import EncodingError, UsageError
from aethel.merkle import EMPTY_HASH, StateTree, StoreCorruptionError, verify_proof
from aethel.state import Genesis, Reward, StateStore, Transfer, Transition, TransitionError

GENESIS = Genesis({"alice": 1_000, "bob": 500}, {"v1": 10_000, "v2": 20_000})


def transfer(height: int, nonce: int, amount: int = 10) -> Transition:
    return Transition(height, (Transfer("alice", "bob", amount, nonce), Reward("v1", 100)))


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
            store.stage(Transition(2, (Transfer("alice", "bob", 10**9, 1),)))
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
def test_corrupted_nodes_are_detected_not_trusted(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    filled(path, 1).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE nodes SET data = substr(data, 1, 40) || X'ff' || substr(data, 42)")
    with StateStore(path) as store, pytest.raises(StoreCorruptionError):
        store.get("balance:alice")


@pytest.mark.req("R5.4")
def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    StateStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '99' WHERE name = 'schema'")
    with pytest.raises(UsageError):
        StateStore(path)
