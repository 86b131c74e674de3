"""Fast sync (R3.1, R3.5): a manifest checked against the trusted root, chunks verified on arrival
from several peers, bad peers' chunks rejected and fetched elsewhere, progress reported."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aethel.encoding import canonical_json
from aethel.errors import UsageError
from aethel.merkle.tree import StateTree
from aethel.state.errors import SyncError
from aethel.state.snapshot import build_chunk, build_manifest, parse_manifest, verify_chunk
from aethel.state.store import StateStore
from aethel.state.sync import InProcessPeer, SyncProgress, run_sync, sync_state
from aethel.state.transitions import Genesis, Reward, TransferOperation, Transition


def make_tree(size: int, salt: str = "") -> StateTree:
    tree = StateTree()
    tree.batch_update({f"account{i}{salt}": {"balance": i, "nonce": i % 7} for i in range(size)})
    return tree


def path_prefix(key: str, bits: int) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest(), "big") >> (256 - bits)


class BadPeer:
    """Serves the honest manifest, but every chunk passes through ``corrupt`` first."""

    def __init__(
        self, honest: InProcessPeer, corrupt: Callable[[dict[str, Any], int], Any]
    ) -> None:
        self.honest = honest
        self.corrupt = corrupt
        self.name = "bad"
        self.chunks_served = 0

    async def get_manifest(self, root: bytes, prefix_bits: int) -> bytes:
        return await self.honest.get_manifest(root, prefix_bits)

    async def get_chunk(self, root: bytes, prefix_bits: int, prefix: int) -> bytes:
        self.chunks_served += 1
        chunk = json.loads(await self.honest.get_chunk(root, prefix_bits, prefix))
        result = self.corrupt(chunk, prefix)
        return result if isinstance(result, bytes) else canonical_json(result)


def forged_key(prefix: int, bits: int) -> str:
    return next(k for i in range(10**6) if path_prefix(k := f"forged{i}", bits) == prefix)


def _altered_value(chunk: dict[str, Any], prefix: int) -> Any:
    chunk["entries"][0][1] = {"balance": 10**9, "nonce": 0}
    return chunk


def _dropped_entry(chunk: dict[str, Any], prefix: int) -> Any:
    chunk["entries"] = chunk["entries"][1:]
    return chunk


def _added_entry(chunk: dict[str, Any], prefix: int) -> Any:
    key = forged_key(prefix, chunk["prefix_bits"])
    entries = [*chunk["entries"], [key, 1]]
    entries.sort(key=lambda pair: hashlib.sha256(pair[0].encode()).digest())
    chunk["entries"] = entries
    return chunk


def _reordered(chunk: dict[str, Any], prefix: int) -> Any:
    chunk["entries"] = chunk["entries"][::-1]
    return chunk


def _duplicated(chunk: dict[str, Any], prefix: int) -> Any:
    chunk["entries"] = [chunk["entries"][0], *chunk["entries"]]
    return chunk


def _other_part(chunk: dict[str, Any], prefix: int) -> Any:
    chunk["prefix"] = (prefix + 1) % (1 << chunk["prefix_bits"])
    return chunk


def _other_root(chunk: dict[str, Any], prefix: int) -> Any:
    chunk["root"] = "00" * 31 + "01"
    return chunk


CORRUPTIONS: dict[str, Callable[[dict[str, Any], int], Any]] = {
    "altered-value": _altered_value,
    "dropped-entry": _dropped_entry,
    "added-entry": _added_entry,
    "reordered": _reordered,
    "duplicated": _duplicated,
    "other-part": _other_part,
    "other-root": _other_root,
    "extra-member": lambda chunk, prefix: {**chunk, "proof": []},
    "empty": lambda chunk, prefix: {**chunk, "entries": []},
    "garbage": lambda chunk, prefix: b"\x00garbage",
    "not-canonical": lambda chunk, prefix: json.dumps(chunk, indent=1).encode(),
}


@pytest.mark.req("R3.1", "R3.5")
def test_sync_from_three_peers_reaches_the_trusted_root() -> None:
    tree = make_tree(3_000)
    peers = [InProcessPeer.serving(f"peer{i}", tree) for i in range(3)]
    progress: list[SyncProgress] = []
    result = run_sync(tree.root(), peers, prefix_bits=6, on_progress=progress.append)
    assert result.tree.root() == tree.root() and result.keys == 3_000
    assert result.rejections == () and result.dropped_peers == ()
    assert sum(result.chunks_by_peer.values()) == result.chunks == 64
    assert len(result.chunks_by_peer) == 3  # work was spread over the peers
    assert [p.chunks_done for p in progress] == list(range(1, 65))
    assert progress[-1].keys_done == 3_000 and progress[-1].chunks_total == 64
    assert all(a.keys_done < b.keys_done for a, b in itertools.pairwise(progress))
    for key in ["account0", "account2999"]:
        assert result.tree.get(key) == tree.get(key)


@pytest.mark.req("R3.5")
@pytest.mark.parametrize("corruption", list(CORRUPTIONS), ids=list(CORRUPTIONS))
def test_one_corrupt_peer_of_three_still_ends_at_the_exact_root(corruption: str) -> None:
    tree = make_tree(2_000)
    honest = [InProcessPeer.serving(f"good{i}", tree) for i in range(2)]
    bad = BadPeer(InProcessPeer.serving("inner", tree), CORRUPTIONS[corruption])
    result = run_sync(tree.root(), [bad, *honest], prefix_bits=5)
    assert result.tree.root() == tree.root()
    assert result.keys == 2_000
    assert bad.chunks_served >= 1
    assert result.dropped_peers == ("bad",)
    assert result.rejections and all(
        r.peer == "bad" and r.rule_id == "R3.5" for r in result.rejections
    )
    assert "bad" not in result.chunks_by_peer  # every part it touched came from another peer


@pytest.mark.req("R3.1")
def test_a_manifest_that_does_not_match_the_trusted_root_is_refused() -> None:
    tree = make_tree(500)
    other = make_tree(500, salt="x")
    liar = InProcessPeer("liar", lambda root: other)  # serves another state under any root
    result = run_sync(tree.root(), [liar, InProcessPeer.serving("good", tree)], prefix_bits=4)
    assert result.tree.root() == tree.root()
    assert result.rejections[0].peer == "liar" and result.rejections[0].rule_id == "R3.1"
    with pytest.raises(SyncError) as info:
        run_sync(tree.root(), [liar], prefix_bits=4)
    assert info.value.rule_id == "R3.1"


@pytest.mark.req("R3.1")
def test_manifest_entries_are_bound_to_the_root() -> None:
    tree = make_tree(40)
    manifest = build_manifest(tree, 4)
    obj = json.loads(manifest.to_json())
    assert parse_manifest(manifest.to_json(), tree.root(), 4) == manifest
    index = next(
        i for i, e in enumerate(obj["entries"]) if e["leaf"] is None and e["hash"] != "00" * 32
    )
    tampered: list[dict[str, Any]] = [
        {
            **obj,
            "entries": [
                *obj["entries"][:index],
                {"hash": "11" * 32, "leaf": None},
                *obj["entries"][index + 1 :],
            ],
        },
        {**obj, "entries": obj["entries"][:-1]},
        {**obj, "prefix_bits": 3},
        {**obj, "extra": 0},
    ]
    leaf_index = next((i for i, e in enumerate(obj["entries"]) if e["leaf"] is not None), None)
    if leaf_index is not None:  # a single-leaf entry moved under another prefix
        entries = list(obj["entries"])
        target = (leaf_index + 1) % 16
        entries[leaf_index], entries[target] = entries[target], entries[leaf_index]
        tampered.append({**obj, "entries": entries})
    for bad in tampered:
        with pytest.raises(SyncError) as info:
            parse_manifest(canonical_json(bad), tree.root(), 4)
        assert info.value.rule_id == "R3.1"


class SlowPeer:
    def __init__(self, honest: InProcessPeer, delay: float) -> None:
        self.honest = honest
        self.delay = delay
        self.name = "slow"

    async def get_manifest(self, root: bytes, prefix_bits: int) -> bytes:
        return await self.honest.get_manifest(root, prefix_bits)

    async def get_chunk(self, root: bytes, prefix_bits: int, prefix: int) -> bytes:
        await asyncio.sleep(self.delay)
        return await self.honest.get_chunk(root, prefix_bits, prefix)


class FailingPeer(SlowPeer):
    async def get_chunk(self, root: bytes, prefix_bits: int, prefix: int) -> bytes:
        raise ConnectionResetError("peer went away")


@pytest.mark.req("R3.5")
def test_slow_and_failing_peers_time_out_and_others_take_over() -> None:
    tree = make_tree(1_000)
    slow = SlowPeer(InProcessPeer.serving("inner", tree), delay=5.0)
    failing = FailingPeer(InProcessPeer.serving("inner", tree), delay=0)
    failing.name = "failing"
    good = InProcessPeer.serving("good", tree)
    result = run_sync(
        tree.root(), [slow, failing, good], prefix_bits=4, request_timeout=0.05, max_failures=2
    )
    assert result.tree.root() == tree.root()
    assert set(result.dropped_peers) == {"slow", "failing"}
    assert set(result.chunks_by_peer) == {"good"}
    assert {r.peer for r in result.rejections} == {"slow", "failing"}


@pytest.mark.req("R3.5")
def test_sync_fails_cleanly_when_no_peer_serves_a_part() -> None:
    tree = make_tree(300)
    bad_peers = [BadPeer(InProcessPeer.serving("inner", tree), _altered_value) for _ in range(2)]
    for index, peer in enumerate(bad_peers):
        peer.name = f"bad{index}"
    with pytest.raises(SyncError) as info:
        run_sync(tree.root(), bad_peers, prefix_bits=3)
    assert info.value.rule_id == "R3.5"
    with pytest.raises(UsageError):
        run_sync(tree.root(), [], prefix_bits=3)


@pytest.mark.req("R3.1", "R3.5")
@settings(max_examples=30)
@given(
    st.dictionaries(
        st.text(min_size=1, max_size=5).filter(lambda k: unicodedata.is_normalized("NFC", k)),
        st.one_of(st.integers(-(2**63), 2**63 - 1), st.text(max_size=4)),
        max_size=60,
    ),
    st.integers(0, 7),
)
def test_any_state_round_trips_through_manifest_and_chunks(
    state: dict[str, int], prefix_bits: int
) -> None:
    tree = StateTree()
    tree.batch_update(state)
    manifest = parse_manifest(build_manifest(tree, prefix_bits).to_json(), tree.root(), prefix_bits)
    keys = 0
    for prefix in manifest.get_needed_prefixes():
        keys += verify_chunk(build_chunk(tree, prefix_bits, prefix), manifest, prefix).keys
    assert keys == len(state)
    result = asyncio.run(
        sync_state(tree.root(), [InProcessPeer.serving("p", tree)], prefix_bits=prefix_bits)
    )
    assert result.tree.root() == tree.root()
    # The synced tree is an ordinary tree: later writes give the same roots as on the source.
    for key in [*list(state)[:3], "new-key"]:
        assert result.tree.update(key, "changed") == tree.update(key, "changed")


GENESIS = Genesis({f"acct{i}": 10_000 for i in range(30)}, {"v1": 5_000, "v2": 7_000})


def transition(height: int) -> Transition:
    sender, receiver = f"acct{height % 30}", f"acct{(height * 7) % 30}"
    nonce = (height - 1) // 30  # the earlier heights with the same sender
    return Transition(
        height, (TransferOperation(sender, receiver, height, nonce), Reward("v1", 50))
    )


@pytest.mark.req("R3.1", "R3.5", "R5.4")
def test_fast_sync_from_a_snapshot_then_replay_of_later_blocks(tmp_path: Path) -> None:
    """A lagging node syncs the snapshot of height 12 from store-backed peers, persists it with
    the certificate, then applies heights 13..20 as ordinary transitions: same roots."""
    with StateStore(tmp_path / "a.db", durable=False) as node_a:
        node_a.commit(node_a.stage_genesis(GENESIS))
        for height in range(1, 21):
            node_a.commit(node_a.stage(transition(height)))
        trusted = node_a.get_root(12)  # vouched for by the certificate of height 12
        peers = [InProcessPeer.for_store(f"peer{i}", node_a) for i in range(3)]
        result = run_sync(trusted, peers, prefix_bits=3)
        path_b = tmp_path / "b.db"
        with StateStore(path_b) as node_b:
            node_b.import_snapshot(12, result.tree, {"certificate": canonical_json({"height": 12})})
            assert node_b.height == 12 and node_b.root == trusted
        with StateStore(path_b) as node_b:  # persisted: a restart keeps the synced state
            for height in range(13, 21):
                node_b.commit(node_b.stage(transition(height)))
                assert node_b.root == node_a.get_root(height)
            assert node_b.get_heights() == list(range(12, 21))
            assert node_b.get_record(12, "certificate") == canonical_json({"height": 12})
            assert node_b.get("balance:acct5") == node_a.get("balance:acct5")
