"""In collector mode the leader forwards each certificate to every validator (spec/consensus.md,
"Dissemination modes": "PREPARE and COMMIT votes go to the leader of the view, which forwards
each certificate, as the list of signed votes, to every validator").

The replica under test leads view 0 of height 1 in collector mode. It proposes, the case sends it
the PREPAREs of two members (with its own, q(W) of four equal stakes), then their COMMITs: its
prepared certificate and its commit certificate must each reach all three other members, the one
whose vote is not in them included. A leader that sends a certificate only to its voters leaves
that member without it: it cannot vote COMMIT, and it commits only when it catches up, a timeout
later (the mixed clusters' lossless runs still commit, which is why no other case saw it).
"""

from __future__ import annotations

from typing import Any

import pytest

from aethel.consensus.events import Broadcast, Send, SetTimer
from aethel.consensus.messages import (
    CommitCertificate,
    Prepare,
    PrepareCertificate,
    PrePrepare,
)
from conformance.adapters.api import ReplicaAPI
from conformance.suite.scene import FOUR, make_scene, parsed, sent

pytestmark = pytest.mark.capability("replica")


def _reached(outputs: object, kind: type, members: list[str]) -> dict[str, bool]:
    """Which of ``members`` a message of ``kind`` was sent to (directly or by broadcast)."""
    reached = dict.fromkeys(members, False)
    for out in parsed(outputs):
        if isinstance(out, Send | Broadcast) and isinstance(out.message, kind):
            for member in members:
                reached[member] |= isinstance(out, Broadcast) or out.to == member
    return reached


@pytest.mark.req("R2.3", "R2.5")
def test_the_collector_forwards_each_certificate_to_every_validator(
    replica_api: ReplicaAPI,
) -> None:
    scene = make_scene(list(FOUR), epoch="collector-forwards")
    leader = scene.leader(0)
    voters = scene.others(leader)[:2]
    others = scene.others(leader)
    remote: Any = scene.replica(replica_api, leader, "collector", now=None)
    outputs = remote.start(0)
    proposals = sent(outputs, PrePrepare)
    for out in parsed(outputs):
        if isinstance(out, SetTimer) and out.timer.kind == "propose":
            proposals += sent(remote.on_timer(1, 0, "propose", out.deadline), PrePrepare)
    if not proposals or not isinstance(proposals[0], PrePrepare):
        raise AssertionError(f"control: {leader}, the leader of view 0, proposed nothing")
    block = proposals[0].block
    prepared: dict[str, bool] = dict.fromkeys(others, False)
    # The leader's own messages come back to it through its shell (a message to itself).
    own = remote.on_message(proposals[0].to_wire(), 1_000)
    for vote in sent(own, Prepare, lambda m: m.validator == leader):
        remote.on_message(vote.to_wire(), 1_000)
    for voter in voters:
        reached = _reached(
            remote.on_message(scene.prepare(voter, block.digest).to_wire(), 2_000),
            PrepareCertificate,
            others,
        )
        prepared = {m: prepared[m] or reached[m] for m in others}
    if not any(prepared.values()):
        raise AssertionError(f"control: {leader} forwarded no prepared certificate on q(W)")
    root = scene.post_root(block)
    committed: dict[str, bool] = dict.fromkeys(others, False)
    for voter in [leader, *voters]:
        reached = _reached(
            remote.on_message(scene.commit(voter, block.digest, root).to_wire(), 3_000),
            CommitCertificate,
            others,
        )
        committed = {m: committed[m] or reached[m] for m in others}
    missing = {
        "prepared": [m for m, ok in prepared.items() if not ok],
        "commit": [m for m, ok in committed.items() if not ok],
    }
    if missing["prepared"] or missing["commit"]:
        raise AssertionError(
            f"{leader} (collector of view 0) forwarded its prepared certificate to all but "
            f"{missing['prepared']} and its commit certificate to all but {missing['commit']}: "
            "each goes to every validator"
        )
