"""State sync at the ends of the prefix-length range (R3.1, spec/sync.md "Snapshots": the
snapshot is split "into 2^d parts, d from 0 to 16").

A sync of d = 0 has a single part: its manifest has one entry, the trusted root itself, and one
chunk carries the whole state. The case syncs a small state at d = 0 and d = 1 from an honest peer
and reads every key back.

Written from the mechanical campaign's survivor
``aethel/merkle/tree.py:StateTree.from_subtrees:NumberReplacer:cb4d1ac8`` (joining the parts
refuses a single part), and the hand-written mutant ``sync-one-part-refused``.
"""

from __future__ import annotations

import random

import pytest

from conformance.adapters.api import SyncAPI
from conformance.checks import expect_equal
from conformance.sync_harness import HonestPeer, Snapshot, build_state, build_tree, drive_sync

pytestmark = pytest.mark.capability("sync")
KEYS = 300


@pytest.mark.req("R3.1")
@pytest.mark.parametrize("prefix_bits", [0, 1], ids=lambda d: f"d{d}")
def test_a_sync_in_one_or_two_parts_adopts_the_trusted_state(
    sync_api: SyncAPI, seed: int, prefix_bits: int
) -> None:
    state = build_state(KEYS, seed)
    snapshot = Snapshot(build_tree(state))
    snapshot.prepare(prefix_bits)
    peers = {"alice": HonestPeer("alice", snapshot, prefix_bits)}
    session = sync_api.new(snapshot.root.hex(), prefix_bits, list(peers))
    try:
        trace = drive_sync(session, peers, prefix_bits, random.Random(seed), max_polls=500)
        outcome = session.outcome()
        if outcome.get("state") != "done" or trace.state != "done":
            raise AssertionError(
                f"a sync of {2**prefix_bits} part(s) (d = {prefix_bits}) from an honest peer must "
                f"complete (spec/sync.md: d from 0 to 16); it ended {outcome} (seed {seed})"
            )
        expect_equal(outcome.get("root"), snapshot.root.hex(), "root of the synced state")
        expect_equal(outcome.get("keys"), len(state), "keys in the synced state")
        keys = sorted(state)
        got = session.get(keys)
        expect_equal(got, [{"found": True, "value": state[k]} for k in keys], "values read back")
    finally:
        getattr(session, "close", lambda: None)()
