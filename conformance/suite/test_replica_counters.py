"""The engine's performance counters start from what the engine did: nothing (T22.2e).

T22.2e: get_performance_stats() "returns counters that match what the engine did, at least:
messages received by type, batches and batched messages, signatures checked, proofs checked,
votes sent, heights committed, timeouts and view changes; counters never decrease". A replica
that was only started, as a member that does not lead view 0, has received, checked, sent and
committed nothing, so each of those counters reads 0; after the leader's PRE-PREPARE of an empty
block it has received one message and still checked no proof.

The counters' names are the reference's (``messages_received``, ``proofs_checked``, ...), the ones
conformance/suite/test_replica.py already reads; the protocol does not list them yet.

Written from the mechanical campaign's survivor
``aethel/consensus/stats.py:ReplicaStats:NumberReplacer:3b431620`` (``proofs_checked`` starting at
-1), and the hand-written mutant ``replica-counter-starts-at-minus-one``.
"""

from __future__ import annotations

import pytest

from conformance.adapters.api import ReplicaAPI
from conformance.checks import expect_equal
from conformance.suite.scene import make_scene

pytestmark = pytest.mark.capability("replica")

#: T22.2e's counters, by the names the reference reports.
NAMED = (
    "messages_received",
    "batches",
    "batched_messages",
    "signatures_checked",
    "proofs_checked",
    "votes_sent",
    "commits",
    "timeouts",
    "view_changes",
)


@pytest.mark.req("T22.2e")
def test_counters_of_a_replica_that_did_nothing_are_zero(replica_api: ReplicaAPI) -> None:
    scene = make_scene([1_000] * 4, epoch="counters")
    member = scene.others(scene.leader(0))[0]
    remote = scene.replica(replica_api, member, now=0)
    first = remote.get_performance_stats()
    expect_equal(
        {name: first.get(name) for name in NAMED},
        dict.fromkeys(NAMED, 0),
        "T22.2e counters of a replica that was only started",
    )
    block = scene.block()
    remote.on_message(scene.pre_prepare(block).to_wire(), 1_000)
    second = remote.get_performance_stats()
    expect_equal(second.get("messages_received"), 1, "messages received after one PRE-PREPARE")
    expect_equal(second.get("proofs_checked"), 0, "proofs checked of an empty block")
    for name in NAMED:
        if isinstance(second.get(name), int) and second[name] < first[name]:
            raise AssertionError(f"counter {name} decreased from {first[name]} to {second[name]}")
