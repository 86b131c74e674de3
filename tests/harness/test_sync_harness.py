"""The suite's sync peers and driver (conformance/sync_harness.py) and the reference session."""

from __future__ import annotations

import gc
import random
from typing import Any

import pytest

from aethel.state.errors import SyncError
from aethel.state.snapshot import parse_manifest, verify_chunk
from conformance.adapters.errors import Rejected
from conformance.adapters.reference_sync import ReferenceSync
from conformance.sync_harness import (
    CHUNK_CORRUPTIONS,
    MANIFEST_LIES,
    CorruptPeer,
    HonestPeer,
    Peer,
    Snapshot,
    SyncTrace,
    build_state,
    build_tree,
    check_asked_once,
    check_dropped_peers,
    check_rejections,
    corrupt_chunk,
    drive_sync,
    lying_manifest,
)

BITS = 3


@pytest.fixture(scope="module")
def snapshot() -> Snapshot:
    return Snapshot(build_tree(build_state(400, 5)))


@pytest.mark.parametrize("kind", CHUNK_CORRUPTIONS)
def test_every_chunk_corruption_is_refused_by_the_reference(snapshot: Snapshot, kind: str) -> None:
    manifest = parse_manifest(snapshot.manifest(BITS), snapshot.root, BITS)
    for prefix in manifest.get_needed_prefixes():
        verify_chunk(snapshot.chunk(BITS, prefix), manifest, prefix)  # the true one verifies
        with pytest.raises(SyncError) as caught:
            verify_chunk(corrupt_chunk(snapshot, BITS, prefix, kind), manifest, prefix)
        assert caught.value.rule_id == "R3.5"


@pytest.mark.parametrize("lie", MANIFEST_LIES)
def test_every_manifest_lie_is_refused_by_the_reference(snapshot: Snapshot, lie: str) -> None:
    with pytest.raises(SyncError) as caught:
        parse_manifest(lying_manifest(snapshot, BITS, lie), snapshot.root, BITS)
    assert caught.value.rule_id == "R3.1"


class Scripted:
    """A session answering polls from a script (to test the driver's limits)."""

    def __init__(self, answers: list[dict[str, Any]]) -> None:
        self.answers = answers
        self.received: list[list[Any]] = []

    def poll(self, responses: list[Any]) -> dict[str, Any]:
        self.received.append(responses)
        return self.answers[min(len(self.received), len(self.answers)) - 1]


def test_driver_answers_requests_on_the_next_poll(snapshot: Snapshot) -> None:
    session = Scripted(
        [
            {"state": "running", "requests": [{"peer": "a", "prefix": None}], "rule": None},
            {"state": "done", "requests": [], "rule": None},
        ]
    )
    trace = drive_sync(session, {"a": HonestPeer("a", snapshot, BITS)}, BITS, random.Random(0))
    assert trace.state == "done" and trace.polls == 2
    assert session.received[1] == [
        {"peer": "a", "prefix": None, "data": snapshot.manifest(BITS).hex()}
    ]
    assert trace.served == [("a", None, "good")]


@pytest.mark.parametrize(
    "request_",
    [{"peer": "stranger", "prefix": None}, {"peer": "a", "prefix": 1 << BITS}, {"peer": "a"}],
    ids=["unknown-peer", "part-out-of-range", "no-prefix"],
)
def test_driver_refuses_requests_outside_the_offer(
    snapshot: Snapshot, request_: dict[str, Any]
) -> None:
    session = Scripted([{"state": "running", "requests": [request_], "rule": None}])
    with pytest.raises(AssertionError):
        drive_sync(session, {"a": HonestPeer("a", snapshot, BITS)}, BITS, random.Random(0))


def test_driver_gives_up_on_a_sync_that_never_concludes(snapshot: Snapshot) -> None:
    forever = Scripted(
        [{"state": "running", "requests": [{"peer": "a", "prefix": None}], "rule": None}]
    )
    with pytest.raises(AssertionError, match="did not conclude"):
        drive_sync(forever, {"a": HonestPeer("a", snapshot, BITS)}, BITS, random.Random(0),
                   max_polls=50)  # fmt: skip
    idle = Scripted([{"state": "running", "requests": [], "rule": None}])
    with pytest.raises(AssertionError, match="no request"):
        drive_sync(idle, {}, BITS, random.Random(0), idle_limit_s=0.05)


def test_rejection_check_names_missing_wrong_and_false_reports() -> None:
    trace = SyncTrace(state="done")
    trace.served = [("m", 1, "bad"), ("m", None, "good"), ("b", 1, "good"), ("l", None, "bad")]
    good = {
        "rejected": [
            {"peer": "m", "prefix": 1, "rule": "R3.5"},
            {"peer": "l", "prefix": None, "rule": "R3.1"},
        ]
    }
    assert check_rejections(good, trace) == []
    problems = check_rejections(
        {
            "rejected": [
                {"peer": "l", "prefix": None, "rule": "R3.5"},
                {"peer": "b", "prefix": 1, "rule": "R3.5"},
            ]
        },
        trace,
    )
    assert any("chunk 1 from m is not reported" in p for p in problems)
    assert any("manifest from l is rejected under" in p for p in problems)
    assert any("true chunk 1 from b" in p for p in problems)
    assert check_rejections({"rejected": None}, trace)


def test_drop_check_allows_the_carrying_polls_requests_and_names_later_ones() -> None:
    trace = SyncTrace(state="done")
    # poll 1 asks m and b for the manifest; poll 2 carries them and asks m for chunks 1 and 2
    # and b for 3; poll 3 carries m's bad chunk 1 (and her true 2) and still asks m for 4;
    # poll 4 carries it, and asks m for 5: too late.
    trace.asked = [(1, "m", None), (1, "b", None), (2, "m", 1), (2, "m", 2), (2, "b", 3),
                   (3, "m", 4), (4, "m", 5)]  # fmt: skip
    trace.served = [("m", None, "good"), ("b", None, "good"), ("m", 1, "bad"), ("m", 2, "good"),
                    ("b", 3, "good"), ("m", 4, "good"), ("m", 5, "good")]  # fmt: skip
    problems = check_dropped_peers(trace)
    assert len(problems) == 1 and "m is asked again after poll 3" in problems[0]
    assert "1 more request(s), from poll 4 (parts 5)" in problems[0]
    trace.asked.pop(), trace.served.pop()
    assert check_dropped_peers(trace) == []
    # three failures drop a peer too; two do not
    trace = SyncTrace(state="done")
    trace.asked = [(1, "f", 1), (1, "f", 2), (2, "f", 3), (3, "f", 4), (4, "f", 5)]
    trace.served = [("f", 1, "error"), ("f", 2, "error"), ("f", 3, "error"), ("f", 4, "good"),
                    ("f", 5, "good")]  # fmt: skip
    assert check_dropped_peers(trace) == [
        "f is asked again after poll 3, which carried its failure number 3 (for chunk 3): "
        "1 more request(s), from poll 4 (parts 5)"
    ]
    trace.served[2] = ("f", 3, "good")
    assert check_dropped_peers(trace) == []


def test_asked_once_check_names_each_repeated_request() -> None:
    trace = SyncTrace(state="done")
    trace.asked = [(1, "a", None), (2, "a", 3), (2, "b", 4), (3, "b", 3), (4, "a", 3)]
    assert check_asked_once(trace) == ["a was asked for part 3 2 times (polls [2, 4])"]
    trace.asked.append((5, "b", None))
    trace.asked.append((6, "b", None))
    assert check_asked_once(trace)[1] == "b was asked for the manifest 2 times (polls [5, 6])"


def test_reference_session_refuses_an_unasked_answer_and_goes_on(snapshot: Snapshot) -> None:
    peers: dict[str, Peer] = {
        "a": HonestPeer("a", snapshot, BITS),
        "m": CorruptPeer("m", snapshot, BITS),
    }
    session = ReferenceSync().new(snapshot.root.hex(), BITS, list(peers))
    try:
        with pytest.raises(Rejected):
            session.poll([{"peer": "a", "prefix": 5, "data": "00"}])
        trace = drive_sync(session, peers, BITS, random.Random(1))
        assert trace.state == "done"
        outcome = session.outcome()
        assert outcome["root"] == snapshot.root.hex() and outcome["keys"] == 400
        assert check_rejections(outcome, trace) == []
        assert trace.served_as("bad"), "the reference asks every peer, the corrupt one too"
    finally:
        session.close()


def test_closing_an_unfinished_session_resumes_the_garbage_collector(snapshot: Snapshot) -> None:
    peers = {"a": HonestPeer("a", snapshot, BITS)}
    session = ReferenceSync().new(snapshot.root.hex(), BITS, list(peers))
    manifest = session.poll([])["requests"]
    answer = session.poll([peers["a"].answer(r["prefix"])[0] for r in manifest])
    assert answer["state"] == "running"
    assert not gc.isenabled()  # the reference pauses collection while chunks arrive
    session.close()
    assert gc.isenabled()
    with pytest.raises(Rejected):
        session_reader = ReferenceSync().new(snapshot.root.hex(), BITS, ["a"])
        try:
            session_reader.get(["balance:acct0000000"])  # nothing synced yet
        finally:
            session_reader.close()
