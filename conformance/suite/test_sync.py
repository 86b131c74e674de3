"""State sync from peers the suite plays (R3.1, R3.5, N5, T22.3.B4).

The suite builds a state with the reference and plays the peers (conformance/sync_harness.py):
honest ones, one serving corrupt chunks, one serving manifests that do not join to the trusted
root, one that is down. The implementation syncs to the trusted root by polling; the suite
answers its requests and then checks, without taking the implementation's word for it, that it
holds exactly the trusted state (values read back, and its own snapshot of the state verified
with the reference), that it reported rejected exactly the bad data it was served, and that a
part or a manifest that only bad peers serve makes the sync fail naming the rule.

The sync of a million keys runs only with ``--scale full``: through the subprocess path the
state crosses the pipe twice (as chunks) and the suite holds it three times over, so it takes
tens of seconds and gigabytes; a standard run reports it as not run, never as passed.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from aethel.encoding import JSONValue, canonical_json
from aethel.state.errors import SyncError
from aethel.state.snapshot import parse_manifest, verify_chunk
from conformance.adapters.api import SyncAPI, SyncSession
from conformance.checks import expect_equal, expect_rejected
from conformance.plugin import Measure
from conformance.sync_harness import (
    CHUNK_CORRUPTIONS,
    MANIFEST_LIES,
    CorruptPeer,
    DownPeer,
    HonestPeer,
    LiarPeer,
    Peer,
    Served,
    Snapshot,
    SyncTrace,
    build_state,
    build_tree,
    check_asked_once,
    check_dropped_peers,
    check_rejections,
    compute_prefix,
    corrupt_chunk,
    drive_sync,
)

pytestmark = pytest.mark.capability("sync")
KEYS = 3_000
PREFIX_BITS = 4
#: Polls allowed to a sync of the small state (the reference needs about ten).
MAX_POLLS = 2_000


@pytest.fixture(scope="module")
def state(seed: int) -> dict[str, JSONValue]:
    return build_state(KEYS, seed)


@pytest.fixture(scope="module")
def snapshot(state: dict[str, JSONValue]) -> Snapshot:
    return prepared_snapshot(state)


def prepared_snapshot(state: Mapping[str, JSONValue]) -> Snapshot:
    """Return the snapshot of ``state``, its parts at :data:`PREFIX_BITS` prepared."""
    built = Snapshot(build_tree(state))
    built.prepare(PREFIX_BITS)
    return built


@contextmanager
def synced(
    api: SyncAPI, snapshot: Snapshot, peers: list[Peer], seed: int, prefix_bits: int = PREFIX_BITS
) -> Iterator[tuple[SyncTrace, dict[str, Any], SyncSession]]:
    """Start a sync from ``peers``, drive it to its end; yield (trace, outcome, session)."""
    by_name = {peer.name: peer for peer in peers}
    session = api.new(snapshot.root.hex(), prefix_bits, list(by_name))
    try:
        trace = drive_sync(session, by_name, prefix_bits, random.Random(seed), max_polls=MAX_POLLS)
        yield trace, session.outcome(), session
    finally:
        getattr(session, "close", lambda: None)()


def check_holds_state(
    session: SyncSession,
    outcome: Mapping[str, Any],
    snapshot: Snapshot,
    state: Mapping[str, JSONValue],
    trace: SyncTrace,
    seed: int,
) -> None:
    """The sync ended with exactly the trusted state: root, key count and values read back.

    Every key of a part a bad peer served is read, with a random sample of the rest and keys the
    state does not hold.
    """
    if outcome.get("state") != "done" or trace.state != "done":
        raise AssertionError(f"the sync must complete, it ended {outcome.get('state')}: {outcome}")
    expect_equal(outcome.get("root"), snapshot.root.hex(), "root of the synced state")
    expect_equal(outcome.get("keys"), len(state), "keys in the synced state")
    bad_parts = {prefix for _, prefix, kind in trace.served if kind == "bad" and prefix is not None}
    rng = random.Random(seed)
    keys = sorted(state)
    chosen = [k for k in keys if compute_prefix(k, PREFIX_BITS) in bad_parts]
    chosen += rng.sample(keys, min(200, len(keys)))
    absent = [f"absent:{rng.randrange(10**9)}" for _ in range(20)]
    wanted: list[Any] = [{"found": True, "value": state[k]} for k in chosen]
    wanted += [{"found": False}] * len(absent)
    got: list[Any] = []
    asked = chosen + absent
    for start in range(0, len(asked), 500):
        got += session.get(asked[start : start + 500])
    for key, want, have in zip(asked, wanted, got, strict=False):
        expect_equal(have, want, f"value of {key!r} in the synced state")
    expect_equal(len(got), len(asked), "answers to a read of the synced state")


def check_recovers(
    api: SyncAPI,
    snapshot: Snapshot,
    state: Mapping[str, JSONValue],
    peers: list[Peer],
    seed: int,
) -> SyncTrace:
    """A sync from ``peers`` ends with exactly the trusted state (:func:`check_holds_state`),
    every bad answer a peer served is reported rejected under its rule, a peer that served bad
    data, or failed three requests, is asked for nothing more (:func:`check_dropped_peers`), and
    no peer is asked for the same part twice (:func:`check_asked_once`).
    Returns the sync's trace."""
    with synced(api, snapshot, peers, seed) as (trace, outcome, session):
        check_holds_state(session, outcome, snapshot, state, trace, seed)
        problems = check_rejections(outcome, trace) + check_dropped_peers(trace)
        problems += check_asked_once(trace)
        if problems:
            raise AssertionError(f"seed {seed}: " + "; ".join(problems))
        return trace


@pytest.mark.req("R3.1", "R3.5")
@pytest.mark.rejects("R3.5")
@pytest.mark.parametrize("corruption", CHUNK_CORRUPTIONS, ids=str)
def test_corrupt_chunks_are_rejected_and_fetched_elsewhere(
    sync_api: SyncAPI,
    snapshot: Snapshot,
    state: dict[str, JSONValue],
    seed: int,
    corruption: str,
) -> None:
    """Mallory (listed first) serves the true manifest and corrupt chunks, Alice is unavailable
    for a third of the parts, Bob serves everything: the sync ends with the trusted state, and
    every chunk Mallory served is reported rejected under R3.5."""
    peers: list[Peer] = [
        CorruptPeer("mallory", snapshot, PREFIX_BITS, (corruption,)),
        HonestPeer("alice", snapshot, PREFIX_BITS, frozenset(range(0, 1 << PREFIX_BITS, 3))),
        HonestPeer("bob", snapshot, PREFIX_BITS),
    ]
    check_recovers(sync_api, snapshot, state, peers, seed)


@dataclass
class FirstChunkCorruptPeer:
    """Serves the true manifest, spoils the first chunk it is asked for, then serves true
    chunks: a peer that, once caught, would serve well enough to go unnoticed if kept."""

    name: str
    snapshot: Snapshot
    prefix_bits: int
    spoiled: bool = False

    def answer(self, prefix: int | None) -> tuple[dict[str, JSONValue], Served]:
        if prefix is None or self.spoiled:
            data = self.snapshot.data_hex(self.prefix_bits, prefix)
            return {"peer": self.name, "prefix": prefix, "data": data}, "good"
        self.spoiled = True
        data = corrupt_chunk(self.snapshot, self.prefix_bits, prefix, "altered-value").hex()
        return {"peer": self.name, "prefix": prefix, "data": data}, "bad"


@pytest.mark.req("R3.5")
@pytest.mark.parametrize("fault", ["one-bad-chunk", "failed-requests"], ids=str)
def test_a_peer_is_dropped_for_bad_data_or_three_failures(
    sync_api: SyncAPI, snapshot: Snapshot, state: dict[str, JSONValue], seed: int, fault: str
) -> None:
    """Mallory spoils the first chunk she is asked for and serves true chunks after it (or
    fails every chunk request), Bob serves everything: the sync ends with the trusted state, and
    Mallory is asked for nothing after the poll that carried her bad chunk (or her third
    failure): spec/sync.md, "Fetching"."""
    mallory: Peer
    if fault == "one-bad-chunk":
        mallory = FirstChunkCorruptPeer("mallory", snapshot, PREFIX_BITS)
    else:
        every_part = frozenset[int | None](range(1 << PREFIX_BITS))
        mallory = HonestPeer("mallory", snapshot, PREFIX_BITS, every_part)
    peers: list[Peer] = [mallory, HonestPeer("bob", snapshot, PREFIX_BITS)]
    trace = check_recovers(sync_api, snapshot, state, peers, seed)
    wanted = 1 if fault == "one-bad-chunk" else 3
    faults = [kind for peer, _, kind in trace.served if peer == "mallory" and kind != "good"]
    if len(faults) < wanted:
        raise AssertionError(
            f"the sync asked mallory for {len(faults)} chunk(s) she could not serve, the case "
            f"needs {wanted}: a sync fetches from all its peers at once (spec/sync.md, Fetching)"
        )


@pytest.mark.req("R3.5")
@pytest.mark.rejects("R3.5")
@pytest.mark.parametrize("corruption", CHUNK_CORRUPTIONS, ids=str)
def test_part_only_a_corrupt_peer_serves_fails_the_sync(
    sync_api: SyncAPI, snapshot: Snapshot, seed: int, corruption: str
) -> None:
    """Alice and Bob cannot serve one part, and Mallory, honest otherwise, serves it corrupt: the
    sync must fail naming R3.5, after asking every peer for that part once (a sync fails only
    when no peer serves a valid chunk), and adopt nothing."""
    part = snapshot.get_needed_prefixes(PREFIX_BITS)[0]
    peers: list[Peer] = [
        HonestPeer("alice", snapshot, PREFIX_BITS, frozenset({part})),
        CorruptPeer("mallory", snapshot, PREFIX_BITS, (corruption,), frozenset({part})),
        HonestPeer("bob", snapshot, PREFIX_BITS, frozenset({part})),
    ]
    with synced(sync_api, snapshot, peers, seed) as (trace, outcome, _):
        if trace.state != "failed":
            raise AssertionError(
                f"the sync ended {trace.state}, but no peer served a valid chunk {part}"
            )
        expect_equal(trace.rule, "R3.5", "rule named by the failed sync")
        asked = {peer for peer, prefix, _ in trace.served if prefix == part}
        if asked != {p.name for p in peers}:
            missed = sorted({p.name for p in peers} - asked)
            raise AssertionError(f"the sync failed without asking {missed} for part {part}")
        repeated = check_asked_once(trace)
        if repeated:
            raise AssertionError(f"seed {seed}: " + "; ".join(repeated))
        expect_equal(
            {k: outcome.get(k) for k in ("state", "root")},
            {"state": "failed", "root": None},
            "outcome of the failed sync",
        )


@pytest.mark.req("R3.1")
@pytest.mark.rejects("R3.1")
@pytest.mark.parametrize("lie", MANIFEST_LIES, ids=str)
def test_manifest_that_does_not_join_to_the_trusted_root_is_rejected(
    sync_api: SyncAPI, snapshot: Snapshot, state: dict[str, JSONValue], seed: int, lie: str
) -> None:
    """The first peer serves a manifest that does not join to the trusted root: it is rejected
    under R3.1 and the sync completes from the honest peer."""
    peers: list[Peer] = [
        LiarPeer("liar", snapshot, PREFIX_BITS, lie),
        HonestPeer("alice", snapshot, PREFIX_BITS),
    ]
    check_recovers(sync_api, snapshot, state, peers, seed)


#: A small state with empty parts, single-key parts (one beside an empty part) and larger parts
#: at 4 prefix bits.
SMALL_KEYS = 20
#: Each way a manifest is changed in one member only (spec/sync.md, "Snapshots"): the
#: manifest's own members, then those of an empty entry, of a single-key entry (its leaf and the
#: leaf's members) and of an entry of several keys.
MANIFEST_MEMBER_CHANGES = (
    "root-bit",
    "root-removed",
    "prefix-bits-plus-one",
    "prefix-bits-removed",
    "prefix-bits-string",
    "entries-removed",
    "entries-one-dropped",
    "entries-one-added",
    "entries-two-swapped",
    "extra-member",
    "empty-entry-hash-set",
    "empty-entry-leaf-added",
    "empty-entry-extra-member",
    "single-entry-hash-bit",
    "single-entry-hash-removed",
    "single-entry-leaf-null",
    "single-entry-leaf-removed",
    "single-entry-leaf-path-bit",
    "single-entry-leaf-value-hash-bit",
    "single-entry-leaf-path-removed",
    "single-entry-leaf-value-hash-removed",
    "single-entry-leaf-extra-member",
    "inner-entry-hash-bit",
    "inner-entry-hash-short",
    "inner-entry-leaf-added",
    "inner-entry-extra-member",
)


def _flip(hex_text: str, byte: int = 0) -> str:
    data = bytearray.fromhex(hex_text)
    data[byte] ^= 0x01
    return data.hex()


def changed_manifest(true_manifest: bytes, change: str) -> bytes:
    """Return the canonical manifest with one member changed as ``change`` names."""
    manifest = json.loads(true_manifest)
    entries: list[dict[str, Any]] = manifest["entries"]
    empty = [entry["hash"] == "00" * 32 for entry in entries]
    kinds: dict[str, dict[str, Any]] = {}
    for index, entry in enumerate(entries):
        if empty[index]:
            kinds.setdefault("empty", entry)
        elif entry["leaf"] is None:
            kinds.setdefault("inner", entry)
        elif empty[index ^ 1]:
            # A single key beside an empty part moves up in the fold, so its leaf member
            # matters to the root; beside a non-empty part a missing leaf folds the same.
            kinds.setdefault("single", entry)
    if set(kinds) != {"empty", "single", "inner"}:
        raise AssertionError(f"the small state lacks a kind of entry: it has {sorted(kinds)}")
    part, _, what = change.partition("-entry-")
    if what:
        entry = kinds[part]
        leaf = entry["leaf"]
        invented = {"path": "80" + "00" * 31, "value_hash": "11" * 32}
        match what:
            case "hash-set":
                entry["hash"] = "11" * 32
            case "hash-bit":
                entry["hash"] = _flip(entry["hash"])
            case "hash-short":
                entry["hash"] = entry["hash"][:-2]
            case "hash-removed":
                del entry["hash"]
            case "leaf-added":
                entry["leaf"] = invented
            case "leaf-null":
                entry["leaf"] = None
            case "leaf-removed":
                del entry["leaf"]
            case "leaf-path-bit":
                entry["leaf"] = {**leaf, "path": _flip(leaf["path"], 31)}
            case "leaf-value-hash-bit":
                entry["leaf"] = {**leaf, "value_hash": _flip(leaf["value_hash"])}
            case "leaf-path-removed":
                entry["leaf"] = {"value_hash": leaf["value_hash"]}
            case "leaf-value-hash-removed":
                entry["leaf"] = {"path": leaf["path"]}
            case "leaf-extra-member":
                entry["leaf"] = {**leaf, "note": 1}
            case "extra-member":
                entry["note"] = 1
            case _:
                raise ValueError(change)
        return canonical_json(manifest)
    match change:
        case "root-bit":
            manifest["root"] = _flip(manifest["root"])
        case "root-removed":
            del manifest["root"]
        case "prefix-bits-plus-one":
            manifest["prefix_bits"] += 1
        case "prefix-bits-removed":
            del manifest["prefix_bits"]
        case "prefix-bits-string":
            manifest["prefix_bits"] = str(manifest["prefix_bits"])
        case "entries-removed":
            del manifest["entries"]
        case "entries-one-dropped":
            entries.pop()
        case "entries-one-added":
            entries.append({"hash": "00" * 32, "leaf": None})
        case "entries-two-swapped":
            first = next(i for i, e in enumerate(entries) if e["hash"] != "00" * 32)
            second = next(i for i, e in enumerate(entries) if e["hash"] != entries[first]["hash"])
            entries[first], entries[second] = entries[second], entries[first]
        case "extra-member":
            manifest["note"] = 1
        case _:
            raise ValueError(change)
    return canonical_json(manifest)


@dataclass
class ForgedManifestPeer:
    """Serves a given (forged) manifest and the true chunks."""

    name: str
    snapshot: Snapshot
    prefix_bits: int
    manifest: bytes

    def answer(self, prefix: int | None) -> tuple[dict[str, JSONValue], Served]:
        if prefix is None:
            return {"peer": self.name, "prefix": None, "data": self.manifest.hex()}, "bad"
        data = self.snapshot.data_hex(self.prefix_bits, prefix)
        return {"peer": self.name, "prefix": prefix, "data": data}, "good"


@pytest.fixture(scope="module")
def small_state(seed: int) -> dict[str, JSONValue]:
    return build_state(SMALL_KEYS, seed)


@pytest.fixture(scope="module")
def small_snapshot(small_state: dict[str, JSONValue]) -> Snapshot:
    return prepared_snapshot(small_state)


@pytest.mark.req("R3.1")
@pytest.mark.rejects("R3.1")
@pytest.mark.parametrize("change", MANIFEST_MEMBER_CHANGES, ids=str)
def test_a_manifest_with_one_member_changed_is_rejected(
    sync_api: SyncAPI,
    small_snapshot: Snapshot,
    small_state: dict[str, JSONValue],
    seed: int,
    change: str,
) -> None:
    """The first peer serves the true manifest with one member changed (of the manifest, of an
    empty, a single-key or a larger entry, or of a leaf): it is rejected under R3.1, and the
    sync completes from the honest peer with exactly the trusted state."""
    forged = changed_manifest(small_snapshot.manifest(PREFIX_BITS), change)
    peers: list[Peer] = [
        ForgedManifestPeer("forger", small_snapshot, PREFIX_BITS, forged),
        HonestPeer("alice", small_snapshot, PREFIX_BITS),
    ]
    check_recovers(sync_api, small_snapshot, small_state, peers, seed)


@pytest.mark.req("R3.1")
@pytest.mark.rejects("R3.1")
def test_sync_fails_when_no_peer_serves_a_valid_manifest(
    sync_api: SyncAPI, snapshot: Snapshot, seed: int
) -> None:
    """Every peer lies about the manifest (or is down): the sync fails naming R3.1, after asking
    each of them, and adopts nothing."""
    peers: list[Peer] = [
        LiarPeer(f"liar-{lie}", snapshot, PREFIX_BITS, lie) for lie in MANIFEST_LIES
    ]
    peers.append(DownPeer("down"))
    with synced(sync_api, snapshot, peers, seed) as (trace, outcome, _):
        if trace.state != "failed":
            raise AssertionError(f"the sync ended {trace.state} without a valid manifest")
        expect_equal(trace.rule, "R3.1", "rule named by the failed sync")
        asked = {peer for peer, prefix, _ in trace.served if prefix is None}
        missed = sorted({p.name for p in peers} - asked)
        if missed:
            raise AssertionError(f"the sync failed without asking {missed} for the manifest")
        expect_equal(outcome.get("root"), None, "root adopted by the failed sync")


def _check_served(
    session: SyncSession, snapshot: Snapshot, state: Mapping[str, JSONValue], bits: int
) -> None:
    """The session serves the state at ``bits`` prefix bits: its manifest joins to the trusted
    root and every chunk rebuilds its subtree root (the reference's checks), every key once."""
    try:
        manifest = parse_manifest(bytes.fromhex(session.get_manifest(bits)), snapshot.root, bits)
        keys = sum(
            verify_chunk(bytes.fromhex(session.get_chunk(bits, p)), manifest, p).keys
            for p in manifest.get_needed_prefixes()
        )
    except SyncError as exc:
        raise AssertionError(
            f"the served snapshot ({bits} prefix bits) fails {exc.rule_id}: {exc.detail}"
        ) from None
    expect_equal(keys, len(state), f"keys in the served snapshot ({bits} prefix bits)")


@pytest.mark.req("R3.5")
def test_synced_node_serves_a_snapshot_that_verifies(
    sync_api: SyncAPI, snapshot: Snapshot, state: dict[str, JSONValue], seed: int
) -> None:
    """After syncing (one peer down), the implementation serves the state as a peer would, at
    other prefix lengths: its manifests join to the trusted root and every chunk rebuilds its
    subtree root (the reference's checks), holding every key once."""
    peers: list[Peer] = [DownPeer("down"), HonestPeer("alice", snapshot, PREFIX_BITS)]
    with synced(sync_api, snapshot, peers, seed) as (trace, outcome, session):
        check_holds_state(session, outcome, snapshot, state, trace, seed)
        for bits in (PREFIX_BITS - 1, PREFIX_BITS + 2):
            _check_served(session, snapshot, state, bits)


@pytest.mark.req("R3.5")
def test_synced_node_serves_a_sparse_snapshot_that_verifies(
    sync_api: SyncAPI,
    small_snapshot: Snapshot,
    small_state: dict[str, JSONValue],
    seed: int,
) -> None:
    """The same with a state of 20 keys served at 8 and 12 prefix bits: most parts are empty and
    a key stands alone far above the split depth, where the manifest entry is its leaf and its
    place among the parts comes from its path."""
    peers: list[Peer] = [HonestPeer("alice", small_snapshot, PREFIX_BITS)]
    with synced(sync_api, small_snapshot, peers, seed) as (trace, outcome, session):
        check_holds_state(session, outcome, small_snapshot, small_state, trace, seed)
        for bits in (8, 12):
            _check_served(session, small_snapshot, small_state, bits)


@pytest.mark.req("R3.1")
@pytest.mark.rejects("R3.1")
@pytest.mark.parametrize(
    "root",
    [
        pytest.param("ab" * 31, id="short"),
        pytest.param("AB" * 32, id="upper-case"),
        pytest.param("zz" * 32, id="not-hex"),
    ],
)
def test_malformed_trusted_root_is_rejected(sync_api: SyncAPI, root: str) -> None:
    expect_rejected(lambda: sync_api.new(root, PREFIX_BITS, ["alice"]), f"trusted root {root!r}")


@dataclass
class TimedSync:
    """A sync of a generated state from three honest peers, timed."""

    elapsed_s: float
    outcome: dict[str, Any]
    snapshot: Snapshot
    trace: SyncTrace
    session: SyncSession


@contextmanager
def timed_sync(api: SyncAPI, keys: int, prefix_bits: int, seed: int) -> Iterator[TimedSync]:
    """Sync ``keys`` keys from three honest peers, timing the wall seconds from the session's
    creation to its conclusion (the snapshot is prepared before)."""
    snapshot = Snapshot(build_tree(build_state(keys, seed)))
    snapshot.prepare(prefix_bits)
    peers = {f"peer{i}": HonestPeer(f"peer{i}", snapshot, prefix_bits) for i in range(3)}
    start = time.perf_counter()
    session = api.new(snapshot.root.hex(), prefix_bits, list(peers))
    try:
        trace = drive_sync(session, peers, prefix_bits, random.Random(seed))
        elapsed = time.perf_counter() - start
        yield TimedSync(elapsed, session.outcome(), snapshot, trace, session)
    finally:
        getattr(session, "close", lambda: None)()


def check_timed(run: TimedSync, keys: int, seed: int) -> None:
    outcome, snapshot, session = run.outcome, run.snapshot, run.session
    if outcome.get("state") != "done":
        raise AssertionError(f"the sync must complete, it ended {outcome}")
    expect_equal(outcome.get("root"), snapshot.root.hex(), "root of the synced state")
    expect_equal(outcome.get("keys"), keys, "keys in the synced state")
    rng = random.Random(seed)
    sample = [f"balance:acct{i:07d}" for i in rng.sample(range(0, keys, 10), 100)]
    want = [{"found": True, "value": snapshot.tree.get(k)} for k in sample]
    expect_equal(session.get(sample), want, "values of sampled keys")


@pytest.mark.req("T22.3.B4")
@pytest.mark.performance
def test_sync_of_ten_thousand_keys(sync_api: SyncAPI, measure: Measure, seed: int) -> None:
    """10,000 keys from three peers, every chunk verified: within the catalog's time."""
    keys, bits = 10_000, 6
    with timed_sync(sync_api, keys, bits, seed) as run:
        check_timed(run, keys, seed)
        note = f"3 peers, {1 << bits} parts, {run.trace.polls} polls"
        measure.check("T22.3.B4", "sync_10k_s", run.elapsed_s, note=note, wall_clock=True)


@pytest.mark.req("N5", "T22.3.B4")
@pytest.mark.performance
@pytest.mark.scale("full", what="a 1,000,000-key sync")
def test_sync_of_a_million_keys(sync_api: SyncAPI, measure: Measure, seed: int) -> None:
    """1,000,000 keys from three peers, every chunk verified: within the catalog's times."""
    keys, bits = 1_000_000, 8
    with timed_sync(sync_api, keys, bits, seed) as run:
        check_timed(run, keys, seed)
        note = f"3 peers, {1 << bits} parts, {run.trace.polls} polls"
        measure.check("T22.3.B4", "sync_1m_s", run.elapsed_s, note=note, wall_clock=True)
        measure.check("N5", "sync_s", run.elapsed_s, note=note, wall_clock=True)
