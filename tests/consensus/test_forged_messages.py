"""A message its sender did not sign changes nothing at an honest replica (R7.5).

Found by an audit on 2026-12-06 that fed a reference replica forged copies of every message type
on every route (current view, later view, later height, earlier height) and compared it with a
twin that did not receive them. Each test below failed before its fix; each is a twin run of the
same deterministic cluster (4 validators, collector mode, FIFO network, virtual time).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from aethel.consensus.events import Send
from aethel.consensus.messages import (
    Commit,
    CommitCertificate,
    NewView,
    Prepare,
    PrepareCertificate,
    PrePrepare,
    ViewChange,
)

from .cluster import make_cluster


def _zeroed(message: Any) -> Any:
    return dataclasses.replace(message, signature=bytes(len(message.signature)))


@pytest.mark.req("R7.5")
@pytest.mark.parametrize("copy", ["block-signature-zeroed", "another-block"])
def test_a_bad_copy_of_a_proposal_leaves_the_real_one_welcome(copy: str) -> None:
    """The leader's PRE-PREPARE, its signature intact (it covers the digest), resent with the
    block's signature zeroed or with another block: refused as a copy, and the real one, right
    after, is accepted. Before, the signed digest went into the height's refused set and v000
    never voted at height 1 (it fell back on sync requests)."""
    cluster = make_cluster(4, "collector")
    cluster.start()
    while not (isinstance(cluster.queue[0][2], PrePrepare) and cluster.queue[0][1] == "v000"):
        cluster.step()
    real = cluster.queue[0][2]
    if copy == "block-signature-zeroed":
        forged = dataclasses.replace(real, block=_zeroed(real.block))
    else:
        forged = dataclasses.replace(real, block=dataclasses.replace(real.block, proofs=()))
    replica = cluster.replicas["v000"]
    cluster.now += 1
    cluster.route("v000", replica.on_message(forged, cluster.now, "attacker"))
    assert real.digest not in replica.current.refused
    cluster.step()  # the real PRE-PREPARE
    assert replica.proposals.get(0) is not None, "the real proposal was not accepted"
    while min(cluster.heights().values()) < 2 and cluster.queue:
        cluster.step()
    assert cluster.heights()["v000"] >= 2 and [n for n, _ in cluster.syncs if n == "v000"] == []


def _locked_then_forged(forge: bool) -> dict[str, int]:
    """View 0 of height 1 prepares everywhere but v000 (the leader of view 1) and commits
    nowhere; the VIEW-CHANGEs go to v000, v001's with its prepared block's signature zeroed
    when ``forge`` (its own signature covers the claim, not the block)."""
    cluster = make_cluster(4, "collector")
    leader = cluster.validators.get_leader(1, 1).id
    assert leader == "v000"

    def lost(source: str, target: str, item: object) -> bool:
        first_view = getattr(item, "height", None) == 1 and getattr(item, "view", None) == 0
        if first_view and isinstance(item, Commit):
            return True
        return first_view and isinstance(item, PrepareCertificate) and target == leader

    cluster.start()
    cluster.deliver(lost)
    cluster.fire_timers()
    for index, (source, target, item) in enumerate(cluster.queue):
        if forge and isinstance(item, ViewChange) and source == "v001" and target == leader:
            assert item.block is not None
            forged = dataclasses.replace(item, block=_zeroed(item.block))
            cluster.queue[index] = (source, target, forged)
    for _ in range(8):
        steps = 0
        while cluster.queue and steps < 5_000 and min(cluster.heights().values()) < 3:
            cluster.step()
            steps += 1
        cluster.fire_timers()
    return cluster.heights()


@pytest.mark.req("R7.5", "R2.6", "R2.5")
def test_a_view_change_carrying_a_forged_block_does_not_halt_the_height() -> None:
    """The new leader takes no claim whose block its proposer did not sign. Before, it
    re-proposed the forged copy, every validator refused it and with it the digest they were
    locked on, and height 1 never committed (nine views later: nothing)."""
    honest = _locked_then_forged(forge=False)
    assert min(honest.values()) >= 3
    assert _locked_then_forged(forge=True) == honest


def test_a_forged_request_for_a_lost_new_view_takes_no_ones_turn() -> None:
    """v003 lost the NEW-VIEW of view 1 and asks again; a VIEW-CHANGE naming it with a zeroed
    signature arrives at the leader first. The leader answers the real one (R7.5). Before, the
    forged one used v003's one re-send per view-0 timeout and v003 committed a view later."""
    cluster = make_cluster(4, "collector")
    leader = cluster.validators.get_leader(1, 1).id
    cluster.down.add(cluster.validators.get_leader(1, 0).id)

    def lost(source: str, target: str, item: object) -> bool:
        return isinstance(item, NewView) and target == "v003"

    cluster.start()
    cluster.deliver(lost)
    cluster.fire_timers()
    cluster.deliver(lost)
    cluster.fire("v003")
    real = next(
        item
        for source, target, item in cluster.queue
        if isinstance(item, ViewChange) and source == "v003" and target == leader
    )
    replica = cluster.replicas[leader]
    cluster.now += 1
    forged = replica.on_message(_zeroed(real), cluster.now, "attacker")
    assert not [o for o in forged if isinstance(o, Send) and isinstance(o.message, NewView)]
    cluster.now += 1
    answer = replica.on_message(real, cluster.now, "v003")
    assert [o for o in answer if isinstance(o, Send) and isinstance(o.message, NewView)]


def test_a_forged_commit_certificate_raises_no_divergence_alarm() -> None:
    """A COMMIT certificate for the accepted block, naming another post-state root, with
    forged votes: refused for its signatures, no "state-divergence" error (R7.5, R3.2)."""
    cluster = make_cluster(4, "collector")
    cluster.start()
    replica = cluster.replicas["v001"]
    while replica.proposals.get(0) is None:
        cluster.step()
    digest = replica.proposals[0].digest
    votes = tuple(
        _zeroed(Commit.create(cluster.replicas[n].signer, 1, 0, digest, bytes(32)))
        for n in ("v000", "v002", "v003")
    )
    forged = CommitCertificate(1, 0, digest, bytes(32), votes)
    cluster.now += 1
    outputs = replica.on_message(forged, cluster.now, "attacker")
    assert not [o for o in outputs if getattr(o, "event", "") == "state-divergence"], outputs


@pytest.mark.req("R7.5", "V2.2")
@pytest.mark.parametrize("kind", [Prepare, Commit])
def test_a_vote_with_a_version_2_signature_on_a_version_1_network_is_refused(
    kind: type[Prepare] | type[Commit],
) -> None:
    """A vote with a 96-byte (BLS-length) signature, which the wire accepts on any network,
    reaches a version-1 replica: refused naming V2.2, no exception. Before, a PREPARE raised a
    TypeError and a COMMIT an untyped V2.2 ProtocolViolation out of the vote collector."""
    cluster = make_cluster(4, "collector")
    cluster.start()
    collector = cluster.validators.get_leader(1, 0).id
    replica = cluster.replicas[collector]
    while replica.proposals.get(0) is None:
        cluster.step()
    digest = replica.proposals[0].digest
    signer = cluster.replicas["v003"].signer
    if kind is Prepare:
        vote: Prepare | Commit = Prepare.create(signer, 1, 0, digest)
    else:
        vote = Commit.create(signer, 1, 0, digest, bytes(32))
    vote = dataclasses.replace(vote, signature=bytes(96))
    cluster.now += 1
    outputs = replica.on_message(vote, cluster.now, "v003")
    assert [o for o in outputs if getattr(o, "event", "") == "rejected"], outputs


class _CountingChecker:
    """The replica's signature checker, counting what it is asked to check."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.checked = 0

    def verify(self, public_key: bytes, payload: bytes, signature: bytes) -> bool:
        self.checked += 1
        return bool(self.inner.verify(public_key, payload, signature))

    def verify_batch(self, items: Any, batch_id: bytes | None) -> list[bool]:
        self.checked += len(items)
        return list(self.inner.verify_batch(items, batch_id))


@pytest.mark.req("R7.5", "N6")
def test_a_forged_view_change_costs_one_signature_check_not_its_certificates() -> None:
    """A VIEW-CHANGE naming v001, carrying a real prepared certificate of three votes and its
    block, with its own signature zeroed, reaches the leader of view 1: refused after one
    signature check. Before, the certificate's three votes and the block's signature were
    checked first (q(W) + 2 checks; 68 at 100 validators), so a forger repeating it made every
    leader do a certificate's work per message. The real one is then counted."""
    cluster = make_cluster(4, "collector")
    leader = cluster.validators.get_leader(1, 1).id
    replica = cluster.replicas[leader]
    cluster.start()
    while replica.proposals.get(0) is None:
        cluster.step()
    block = replica.proposals[0].block
    signers = {name: r.signer for name, r in cluster.replicas.items()}
    votes = tuple(Prepare.create(signers[n], 1, 0, block.digest) for n in sorted(signers)[:3])
    certificate = PrepareCertificate(1, 0, block.digest, votes)
    cluster.fire(leader)
    assert replica.view == 1
    claimant = next(n for n in sorted(signers) if n != leader)
    real = ViewChange.create(signers[claimant], 1, 1, certificate, block)
    counting = _CountingChecker(replica.services.checker)
    replica.services = dataclasses.replace(replica.services, checker=counting)
    cluster.now += 1
    outputs = replica.on_message(_zeroed(real), cluster.now, "attacker")
    assert [o for o in outputs if getattr(o, "event", "") == "rejected"], outputs
    assert counting.checked == 1, f"{counting.checked} signature checks for a forged VIEW-CHANGE"
    counted = replica.current.view_changes.get(1)
    assert counted is None or claimant not in counted.first
    cluster.now += 1
    replica.on_message(real, cluster.now, claimant)
    assert claimant in replica.current.view_changes[1].first
