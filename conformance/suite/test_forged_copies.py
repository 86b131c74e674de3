"""Forged copies: a signed message resent with something else beside its signature (R7.5).

spec/consensus.md, "Messages and certificates": what is carried alongside a message is not
covered by its signature, and a block's digest leaves out the block's own signature. A copy
whose carried block is not the block of the signed digest, signed by its proposer, is refused
as that copy: it says nothing of the digest, and the same message with the right block is still
welcome. A VIEW-CHANGE's claim is backed only by a carried block its proposer signed.
spec/consensus-v2.md, V2.2: a vote's version is told by its signature's length, and a node
refuses one not of its height's version, on a version-1 network too.

The reference had all three defects until commit c191bd7 (forged-message audit of 2026-12-06):
a re-proposed forged block halted a height for good, a bad copy of a PRE-PREPARE made the real
one ignored, and a 96-byte vote raised out of the version-1 vote collector. Only the
implementation's replica runs; the case signs every other member's messages
(:mod:`conformance.suite.scene`).
"""

from __future__ import annotations

import contextlib
from dataclasses import replace

import pytest

from aethel.consensus.block import ProofBlock
from aethel.consensus.events import Send, SetTimer
from aethel.consensus.messages import (
    Commit,
    CommitCertificate,
    NewView,
    Prepare,
    PrepareCertificate,
    PrePrepare,
)
from aethel.consensus.signing import DirectSignatureChecker
from aethel.consensus.viewchange import check_new_view
from conformance.adapters.api import ReplicaAPI
from conformance.adapters.errors import Rejected
from conformance.suite.scene import (
    AFTER_TIMEOUT,
    FOUR,
    TIMEOUT_AT,
    Scene,
    find_scene,
    flipped,
    parsed,
    sent,
)

pytestmark = pytest.mark.capability("replica")

#: The length of a BLS signature (version 2); a version-1 vote's is 64 bytes (Ed25519).
BLS_SIGNATURE_SIZE = 96


def _unsigned(block: ProofBlock) -> ProofBlock:
    """``block`` with its signature zeroed: the same digest, no proposer's signature."""
    return replace(block, signature=bytes(len(block.signature)))


def _signed_by_proposer(scene: Scene, block: ProofBlock) -> bool:
    """Return True if ``block``'s proposer, a member of the scene, signed it (R7.5)."""
    member = scene.validators.get(block.proposer)
    return member is not None and DirectSignatureChecker().verify(
        member.public_key, block.payload, block.signature
    )


# --------------------------------------------------------------- a VIEW-CHANGE with a forged block


def _new_view_sent(outputs: object) -> list[NewView]:
    return [m for m in sent(outputs, NewView) if isinstance(m, NewView)]


@pytest.mark.req("R7.5", "R2.6")
@pytest.mark.rejects("R7.5")
def test_new_leader_refuses_a_view_change_whose_block_is_unsigned(replica_api: ReplicaAPI) -> None:
    """The replica leads view 1 and timed out of view 0. A asks for view 1 with no claim; B's
    VIEW-CHANGE (its own signature valid: it covers the claim) claims block D, prepared in view
    0 by q(W) members with a real certificate, and carries D with its signature zeroed. That
    copy is refused (no NEW-VIEW from the replica's, A's and it); a NEW-VIEW re-proposing the
    forged D would be refused by every validator locked on D, a height that never commits.
    B's real VIEW-CHANGE then completes q(W): the NEW-VIEW is valid and re-proposes D as its
    proposer signed it."""
    scene = find_scene(FOUR, lambda s: s.leader(0) != s.leader(1), label="forged-vc")
    name = scene.leader(1)
    a, b, _ = scene.others(name)
    d = scene.block()
    cert = scene.prepare_certificate(scene.others(name), d.digest)
    real = scene.view_change(b, 1, cert, d)
    forged = replace(real, block=_unsigned(d))
    remote = scene.replica(replica_api, name, "collector")
    remote.on_timer(1, 0, "view", TIMEOUT_AT)
    if remote.status()["view"] != 1:
        raise AssertionError(f"{name} did not move to view 1 when view 0 timed out")
    early = _new_view_sent(remote.on_message(scene.view_change(a, 1).to_wire(), AFTER_TIMEOUT))
    with contextlib.suppress(Rejected):  # refusing the copy with an error is as good as ignoring
        early += _new_view_sent(remote.on_message(forged.to_wire(), AFTER_TIMEOUT))
    case = f"scene forged-vc (members {scene.ids}, replica {name} leads view 1, A {a}, B {b})"
    if early:
        block = early[0].pre_prepare.block
        signed = "signed" if _signed_by_proposer(scene, block) else "NOT signed"
        raise AssertionError(
            f"{case}: {name} sent NEW-VIEW for view {early[0].view} counting B's VIEW-CHANGE "
            f"whose carried block {d.digest.hex()[:16]} has a zeroed signature (it re-proposes "
            f"{block.digest.hex()[:16]}, {signed} by its proposer {block.proposer})"
        )
    control = _new_view_sent(remote.on_message(real.to_wire(), AFTER_TIMEOUT))
    if not control:
        raise AssertionError(
            f"{case}: {name} sent no NEW-VIEW on q(W) valid VIEW-CHANGEs after a forged copy of "
            "B's (the real one must still be welcome)"
        )
    reason = check_new_view(control[0], scene.validators, DirectSignatureChecker())
    if reason:
        raise AssertionError(f"{case}: {name}'s NEW-VIEW is invalid: {reason}")
    block = control[0].pre_prepare.block
    if block.digest != d.digest or not _signed_by_proposer(scene, block):
        raise AssertionError(
            f"{case}: {name}'s NEW-VIEW re-proposes {block.digest.hex()[:16]} (signed by its "
            f"proposer: {_signed_by_proposer(scene, block)}), not D {d.digest.hex()[:16]} as "
            "its proposer signed it"
        )


# --------------------------------------------------------------- a bad copy of a PRE-PREPARE


def _prepares(outputs: object, digest: bytes) -> list[Prepare]:
    return [
        m
        for m in sent(outputs, Prepare, lambda m: m.height == 1 and m.view == 0)
        if isinstance(m, Prepare) and m.digest == digest
    ]


@pytest.mark.req("R7.5")
@pytest.mark.rejects("R7.5")
@pytest.mark.parametrize("copy", ["block-signature-zeroed", "another-block"])
def test_a_bad_copy_of_a_proposal_leaves_the_real_one_welcome(
    replica_api: ReplicaAPI, copy: str
) -> None:
    """The view-0 leader's PRE-PREPARE, its own signature intact (it covers the digest), is
    resent with the block's signature zeroed, or with another member's signed block, before the
    real one reaches the replica (a follower). The copy is refused (no PREPARE for it); the
    real PRE-PREPARE right after is accepted: the replica sends its PREPARE for the digest."""
    scene = find_scene(FOUR, lambda s: True, label="forged-pp")
    leader = scene.leader(0)
    name = scene.others(leader)[0]
    d = scene.block()
    real = scene.pre_prepare(d)
    carried = _unsigned(d) if copy == "block-signature-zeroed" else scene.block(name)
    forged = replace(real, block=carried)
    case = f"scene forged-pp (members {scene.ids}, leader {leader}, replica {name}), {copy}"
    remote = scene.replica(replica_api, name, "collector")
    voted: list[Prepare] = []
    with contextlib.suppress(Rejected):
        voted = _prepares(remote.on_message(forged.to_wire(), 10**6), d.digest)
    if voted:
        raise AssertionError(
            f"{case}: {name} sent PREPARE for {d.digest.hex()[:16]} on a copy of the "
            "PRE-PREPARE whose block is not the digest's, signed by its proposer"
        )
    if not _prepares(remote.on_message(real.to_wire(), 2 * 10**6), d.digest):
        raise AssertionError(
            f"{case}: {name} sent no PREPARE for the leader's real PRE-PREPARE "
            f"{d.digest.hex()[:16]} after refusing a bad copy of it (the copy says nothing of "
            "the digest)"
        )


# --------------------------------------------------------------- a 96-byte vote on version 1


def _quorum_outputs(outputs: object) -> list[object]:
    """The prepared certificates and COMMIT votes of height 1 that ``outputs`` send."""
    return list(sent(outputs, PrepareCertificate | Commit | CommitCertificate))


@pytest.mark.req("R7.5", "V2.2")
@pytest.mark.rejects("R7.5", "V2.2")
def test_a_version_2_length_vote_on_a_version_1_network_is_refused(
    replica_api: ReplicaAPI,
) -> None:
    """The replica leads (and collects) view 0 of a version-1 chain and proposed D. A's PREPARE
    for D arrives with a 96-byte signature (the length of a version-2 BLS vote, which the wire
    takes on any network): it is refused, by a rejection naming R7.5 or V2.2 or by ignoring it,
    never an error, and counts for nothing (B's real PREPARE with the replica's own vote is
    below q(W): no prepared certificate, no COMMIT). A's real PREPARE then completes q(W)."""
    scene = find_scene(FOUR, lambda s: True, label="bls-length-vote")
    name = scene.leader(0)
    a, b, _ = scene.others(name)
    remote = scene.replica(replica_api, name, "collector", now=None)
    outputs = list(remote.start(0))
    for timer in [o for o in parsed(outputs) if isinstance(o, SetTimer)]:
        if timer.timer.kind != "view":  # the leader proposes on its own timer (R2.6 names none)
            outputs += remote.on_timer(1, 0, timer.timer.kind, timer.deadline)
    proposed = [m for m in sent(outputs, PrePrepare) if isinstance(m, PrePrepare)]
    if not proposed:
        raise AssertionError(f"{name}, the leader of view 0, proposed nothing when started")
    d = proposed[0].block
    for out in parsed(outputs):  # what it sends itself it receives (its own PREPARE follows)
        if isinstance(out, Send) and out.to == name:
            remote.on_message(out.message.to_wire(), 1)
    case = f"scene bls-length-vote (members {scene.ids}, replica {name} leads view 0, A {a})"
    long_vote = replace(scene.prepare(a, d.digest), signature=bytes(BLS_SIGNATURE_SIZE))
    early: list[object] = []
    try:
        early += _quorum_outputs(remote.on_message(long_vote.to_wire(), 10**6))
    except Rejected as refusal:
        if refusal.rule_id not in ("R7.5", "V2.2"):
            raise AssertionError(
                f"{case}: {name} refused A's 96-byte PREPARE naming {refusal.rule_id}, not "
                "R7.5 or V2.2"
            ) from refusal
    early += _quorum_outputs(remote.on_message(scene.prepare(b, d.digest).to_wire(), 2 * 10**6))
    if early:
        raise AssertionError(
            f"{case}: {name} counted A's PREPARE with a 96-byte signature on a version-1 "
            f"network: it sent {[type(m).__name__ for m in early]}"
        )
    control = _quorum_outputs(remote.on_message(scene.prepare(a, d.digest).to_wire(), 3 * 10**6))
    if not control:  # a leader that counts no PREPARE of its own needs C's too
        c = scene.others(name, a, b)[0]
        control = _quorum_outputs(
            remote.on_message(scene.prepare(c, d.digest).to_wire(), 4 * 10**6)
        )
    if not control:
        raise AssertionError(
            f"{case}: {name} sent no prepared certificate or COMMIT on q(W) real PREPAREs for "
            f"{d.digest.hex()[:16]} (the control)"
        )


@pytest.mark.req("R7.5", "R2.6")
@pytest.mark.rejects("R7.5")
@pytest.mark.parametrize("mode", ["collector", "broadcast"])
def test_forged_view_changes_pull_no_one_into_a_later_view(
    replica_api: ReplicaAPI, mode: str
) -> None:
    """Two of four equal members "ask" for view 1, claiming nothing prepared (as the copies a
    re-send sends in collector mode do), their signatures damaged: more than W/3 of the stake
    would pull the replica into view 1 (the join rule), but forged messages move no one
    (spec/consensus.md, R7.5). The same two signed make it join (the control).

    Written from the module campaign of aethel/consensus/viewchange.py (survivors of
    ``ViewChangeRules._count_view_change``'s ``not verified and self._signature_fails(...)``:
    a VIEW-CHANGE the replica did not collect counted towards the join unchecked)."""
    scene = find_scene(FOUR, lambda s: s.leader(0) != s.leader(1), label="forged-join")
    leader = scene.leader(1)
    name = next(m for m in scene.ids if m not in (scene.leader(0), leader))
    askers = [m for m in scene.ids if m not in (name, leader)]
    for forged in (True, False):
        remote = scene.replica(replica_api, name, mode)
        for member in askers:
            vc = scene.view_change(member, 1)
            if forged:
                vc = flipped(vc)
            remote.on_message(vc.to_wire(), AFTER_TIMEOUT // 2)
        view = remote.status()["view"]
        if forged and view != 0:
            raise AssertionError(
                f"{name} ({mode} mode) moved to view {view} on VIEW-CHANGEs of {askers} whose "
                "signatures are damaged: forged messages move no one (R7.5)"
            )
        if not forged and view != 1:
            raise AssertionError(
                f"control: {name} ({mode} mode) did not join view 1 when {askers} (more than "
                "W/3) asked for it"
            )
