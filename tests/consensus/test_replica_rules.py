"""Replica rules checked message by message: signatures, batching, stats, view change, stores."""

from __future__ import annotations

import dataclasses
import functools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aethel.consensus.events import Broadcast, Send, Timer
from aethel.consensus.messages import (
    Commit,
    CommitCertificate,
    Message,
    NewView,
    Prepare,
    PrepareCertificate,
    PrePrepare,
)
from aethel.consensus.replica import Replica
from aethel.consensus.signing import KeySigner
from aethel.consensus.validators import Validator, ValidatorSet, make_validator_keys
from aethel.consensus.wire import parse_message
from aethel.economics import MIN_STAKE
from aethel.encoding import canonical_json, parse_canonical_json
from aethel.errors import ProtocolViolation

from .cluster import Cluster, make_cluster


def _flip(signature: bytes) -> bytes:
    return bytes([signature[0] ^ 1]) + signature[1:]


@functools.cache
def _recorded(mode: str) -> list[tuple[str, str, Message]]:
    return _record(make_cluster(4, mode))  # type: ignore[arg-type]


def _record(cluster: Cluster) -> list[tuple[str, str, Message]]:
    """Run two heights and return every (source, target, message) delivered."""
    seen: list[tuple[str, str, Message]] = []
    cluster.start()
    while min(cluster.heights().values()) < 2 and cluster.queue:
        source, target, message = cluster.queue[0]
        if not isinstance(message, Timer):
            seen.append((source, target, message))
        cluster.run(max_steps=1)
    return seen


@pytest.mark.req("R7.5")
def test_a_vote_with_a_bad_signature_never_counts() -> None:
    cluster = make_cluster(4, "broadcast")
    replica = cluster.replicas["v000"]
    cluster.start()
    cluster.run(max_steps=3)  # deliver the pre-prepare
    proposal = replica.proposals[0]
    for name in ("v001", "v002"):
        signer = cluster.replicas[name].signer
        vote = Prepare.create(signer, 1, 0, proposal.digest)
        forged = dataclasses.replace(vote, signature=_flip(vote.signature))
        replica.on_message(forged, 10)
    collector = replica.current.prepares[0]
    assert set(collector.first) <= {"v000", "v003"}
    assert replica.stats.rejected >= 2
    # An outsider's well-signed vote counts for nothing either (R4.3).
    outsider = KeySigner("zz-outsider", make_validator_keys(1, 99)[0])
    replica.on_message(Prepare.create(outsider, 1, 0, proposal.digest), 11)
    assert "zz-outsider" not in collector.first


@pytest.mark.req("R4.3", "P17")
def test_members_below_the_minimum_stake_are_refused() -> None:
    key = make_validator_keys(1, 1)[0]
    with pytest.raises(ProtocolViolation, match=r"R4\.3"):
        ValidatorSet.create(0, bytes(32), [Validator("a", key.public_key, MIN_STAKE - 1)])
    keys = make_validator_keys(3, 2)
    validators = ValidatorSet.create(
        0, bytes(32), [Validator(f"v{i}", k.public_key, 2 * MIN_STAKE) for i, k in enumerate(keys)]
    )
    # Slashing below the minimum drops the member at once: its votes count for nothing.
    smaller = validators.with_stakes({"v1": MIN_STAKE - 1})
    assert smaller.get("v1") is None and smaller.stake_of("v1") == 0
    assert smaller.total_stake == 4 * MIN_STAKE


@pytest.mark.req("T22.2b")
@settings(max_examples=25)
@given(data=st.data())
def test_batch_processing_equals_one_at_a_time(data: st.DataObject) -> None:
    mode = data.draw(st.sampled_from(["broadcast", "collector"]))
    trace = _recorded(mode)
    target = data.draw(st.sampled_from(["v000", "v001", "v002", "v003"]))
    inbox = [m for _, t, m in trace if t == target]
    # Mix in corrupted copies, duplicates and reordering.
    extra = []
    for message in data.draw(st.lists(st.sampled_from(inbox), max_size=6)):
        if isinstance(message, Prepare | Commit):
            extra.append(dataclasses.replace(message, signature=_flip(message.signature)))
        else:
            extra.append(message)
    messages = data.draw(st.permutations(inbox + extra))
    chunk = data.draw(st.integers(1, 8))

    one = make_cluster(4, mode).replicas[target]  # type: ignore[arg-type]
    batched = make_cluster(4, mode).replicas[target]  # type: ignore[arg-type]
    one_out = one.start(0)
    batched_out = batched.start(0)
    for message in messages:
        one_out += one.on_message(message, 5)
    for start in range(0, len(messages), chunk):
        for message in messages[start : start + chunk]:
            batched.add_message_to_batch(message)
        batched_out += batched.flush_message_batch(5)
    assert one_out == batched_out
    assert (one.height, one.view, one.state_root) == (
        batched.height,
        batched.view,
        batched.state_root,
    )
    assert batched.get_performance_stats()["batches"] >= 1
    assert batched.batch_process_messages([], 5) == []


@pytest.mark.req("T22.2e")
def test_performance_stats_count_the_work_done() -> None:
    cluster = make_cluster(4, "collector")
    cluster.start()
    while min(cluster.heights().values()) < 3 and cluster.queue:
        cluster.run(max_steps=20)
    stats = cluster.replicas["v001"].get_performance_stats()
    assert stats["commits"] == len(cluster.commits["v001"]) >= 3
    assert (
        stats["blocks_validated"] >= 3 and stats["proofs_checked"] == 2 * stats["blocks_validated"]
    )
    assert stats["signatures_checked"] > 0 and stats["messages_received"] > 0
    assert stats["height"] == stats["commits"] + 1
    assert isinstance(stats["observed_latency_ns"], int)


@pytest.mark.req("R2.6", "P10")
def test_a_new_leader_reproposes_the_highest_prepared_block() -> None:
    cluster = make_cluster(4, "collector")
    leader = cluster.validators.get_leader(1, 0).id
    cluster.start()
    # Deliver until every replica holds the prepare certificate, then lose the leader.
    while cluster.queue:
        message = cluster.queue[0][2]
        if isinstance(message, Commit):
            break
        cluster.run(max_steps=1)
    prepared = {n: r.prepared for n, r in cluster.replicas.items() if n != leader}
    digests = {p.digest for p in prepared.values() if p is not None}
    assert len(digests) == 1
    cluster.down.add(leader)
    cluster.queue.clear()
    cluster.fire_timers()
    trace = []
    while cluster.queue:
        trace.append(cluster.queue[0])
        cluster.run(max_steps=1)
    new_leader = cluster.validators.get_leader(1, 1).id
    assert new_leader != leader
    new_views = [m for _, _, m in trace if isinstance(m, NewView)]
    assert new_views
    for message in new_views:  # the NEW-VIEW round-trips through its canonical JSON (E4)
        data = canonical_json(message.to_wire())
        assert canonical_json(parse_message(parse_canonical_json(data)).to_wire()) == data
    commits = {n: c[0] for n, c in cluster.commits.items() if n != leader}
    assert commits and all(c.view >= 1 and c.block.digest in digests for c in commits.values())


def _messages_of(trace: list[tuple[str, str, Message]]) -> set[type]:
    return {type(m) for _, _, m in trace}


def test_the_cluster_trace_holds_every_message_type_of_its_mode() -> None:
    kinds = _messages_of(_record(make_cluster(4, "collector")))
    assert {PrePrepare, Prepare, Commit, PrepareCertificate, CommitCertificate} <= kinds
    assert NewView not in kinds and Broadcast and Send


@pytest.mark.req("N6")
def test_messages_of_a_closed_heights_later_views_leave_the_buffer_bound() -> None:
    # A validator floods PREPAREs for a later view of height 1: they fill the bound of buffered
    # messages. Once height 1 commits in view 0 they are dropped with it, and the bound is free
    # for the messages of later heights again (a leak here would make the replica drop every
    # message of a later height or view from then on).
    cluster = make_cluster(4, "broadcast")
    replica = cluster.replicas["v000"]
    replica.config = dataclasses.replace(replica.config, max_buffered=8)
    flooder = cluster.replicas["v001"].signer
    for i in range(8):
        replica.on_message(Prepare.create(flooder, 1, 2, bytes([i]) * 32), 1)
    assert replica.inbox.count == 8
    cluster.start()
    while replica.height == 1:
        cluster.step()
    assert replica.inbox.count == sum(len(m) for m in replica.inbox.later_heights.values())
    dropped = replica.stats.dropped
    later = Prepare.create(flooder, replica.height + 1, 0, bytes(32))
    replica.on_message(later, 10**9)
    assert replica.stats.dropped == dropped  # buffered for its height, not dropped
    assert later in [m for _, m in replica.inbox.later_heights[replica.height + 1]]


def _flooded(
    count: int, flooder: str, height: int = 1, view: int = 0, peer: str = "", bound: int = 64
) -> tuple[Cluster, Replica]:
    """Return a 4-validator cluster whose v000 keeps at most ``bound`` messages, 8 a peer, and
    was sent ``count`` distinct PREPAREs of (``height``, ``view``) signed by ``flooder``."""
    cluster = make_cluster(4, "broadcast")
    replica = cluster.replicas["v000"]
    replica.config = dataclasses.replace(
        replica.config, max_buffered=bound, max_buffered_per_peer=8
    )
    signer = cluster.replicas[flooder].signer
    for i in range(count):
        replica.on_message(Prepare.create(signer, height, view, i.to_bytes(32, "big")), 1, peer)
    return cluster, replica


@pytest.mark.req("N6")
def test_one_peers_flood_leaves_the_other_peers_messages_their_places() -> None:
    # A Byzantine validator sends PREPAREs of a later view until the replica keeps no more of
    # them: the replica keeps that peer's share and drops the rest, and a message of that view
    # from another peer is still kept (with one pool shared by all, the flood took every place).
    # The peers' counts are released with the height.
    cluster, replica = _flooded(64, "v003", view=2, peer="v003")
    assert replica.inbox.by_peer == {"v003": 8} and replica.stats.dropped == 56
    genuine = Prepare.create(cluster.replicas["v001"].signer, 1, 2, bytes(32))
    replica.on_message(genuine, 2, "v001")
    assert genuine in [m for _, m in replica.inbox.later_views[2]]
    assert replica.inbox.by_peer == {"v003": 8, "v001": 1}
    cluster.start()
    while replica.height == 1:
        cluster.step()
    assert replica.inbox.later_views == {}
    assert replica.inbox.count == sum(replica.inbox.by_peer.values())
    assert "v003" not in replica.inbox.by_peer


@pytest.mark.req("N6")
def test_messages_of_an_unnamed_peer_count_against_the_whole_bound_only() -> None:
    # Environments that do not say which transport a message came over (the suite's adapters,
    # the simulator's relayed broadcasts) keep the one shared bound.
    _, replica = _flooded(40, "v001", height=2, bound=32)
    assert replica.inbox.count == 32 and replica.inbox.by_peer == {}
    assert replica.stats.dropped == 8
