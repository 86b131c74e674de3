"""Proposals and votes the implementation's replica must not take (R2.6, R3.3, R2.3, R3.2, P7).

Each case is a scripted first height (:mod:`conformance.suite.scene`): a PRE-PREPARE with one
thing wrong (its sender does not lead the view, its block is another member's, does not extend
the chain, is of another height or is not the block it names, its view is one the replica
left, or a later view without NEW-VIEW) must get no
PREPARE; PREPAREs of a view the replica left, or for another block, must not count towards its
prepared certificate; COMMITs for a conflicting block must not count towards its block's (P7);
and a commit certificate for another post-state root must not make it commit. Each case ends
with the valid counterpart, which must move the replica.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from aethel.consensus.block import GENESIS_PARENT, ProofBlock
from aethel.consensus.events import Committed
from aethel.consensus.messages import Commit, Prepare, PrePrepare, ViewChange
from aethel.consensus.signing import KeySigner
from aethel.consensus.validators import make_validator_keys
from conformance.adapters.api import ReplicaAPI
from conformance.checks import expect_equal
from conformance.suite.chains import new_replica, slashed_chain
from conformance.suite.scene import (
    AFTER_TIMEOUT,
    FOUR,
    TIMEOUT_AT,
    Scene,
    find_scene,
    flipped,
    parsed,
    sent,
    view_deadline,
)

pytestmark = pytest.mark.capability("replica")


def _scene() -> Scene:
    return find_scene(FOUR, lambda s: s.leader(0) != s.leader(1), label="proposals")


def _roles(scene: Scene) -> tuple[str, str, str, str]:
    """Return (the replica R, leader of view 0, leader of view 1, the fourth member X)."""
    l0, l1 = scene.leader(0), scene.leader(1)
    name, other = scene.others(l0, l1)
    return name, l0, l1, other


def _prepares(outputs: object, view: int) -> list[object]:
    return list(sent(outputs, Prepare, lambda m: m.view == view))


def _preparing_member(
    replica_api: ReplicaAPI,
) -> tuple[Scene, Any, tuple[str, str, str], ProofBlock]:
    """A replica R in broadcast mode that sent its PREPARE for the view-0 leader's block D:
    (the scene, R, (R's name, the leader, the fourth member X), D)."""
    scene = _scene()
    name, l0, _, other = _roles(scene)
    d = scene.block()
    remote = scene.replica(replica_api, name, "broadcast")
    if not _prepares(remote.on_message(scene.pre_prepare(d).to_wire(), AFTER_TIMEOUT), 0):
        raise AssertionError(f"{name} sent no PREPARE for a valid proposal")
    return scene, remote, (name, l0, other), d


# --------------------------------------------------------------------------- proposals

#: name -> (rules, does the replica time out of view 0 first, the PRE-PREPARE)
Variant = tuple[tuple[str, ...], bool, Callable[[Scene], PrePrepare]]


def _from_non_leader(scene: Scene) -> PrePrepare:
    other = _roles(scene)[3]
    return scene.pre_prepare(scene.block(other), 0, leader=other)


def _block_of_another_proposer(scene: Scene) -> PrePrepare:
    l0, other = _roles(scene)[1], _roles(scene)[3]
    return scene.pre_prepare(scene.block(other), 0, leader=l0)


def _block_of_another_parent(scene: Scene) -> PrePrepare:
    l0 = _roles(scene)[1]
    block = ProofBlock.create(scene.signers[l0], 1, bytes([1]) * 32, [], [], [], None)
    return scene.pre_prepare(block, 0)


def _block_of_another_height(scene: Scene) -> PrePrepare:
    l0 = _roles(scene)[1]
    block = ProofBlock.create(scene.signers[l0], 2, GENESIS_PARENT, [], [], [], None)
    return _signed_pre_prepare(scene, l0, 1, block.digest, block)


def _first_block_with_a_parent_certificate(scene: Scene) -> PrePrepare:
    """Height 1 has no parent height, so its block carries no certificate (spec/consensus.md:
    the block of height h carries the commit certificate of h - 1); this one carries a
    certificate that every member signed, of another block of height 1 (written from the
    mechanical survivor ``aethel/consensus/block_rules.py:check_last_commit:
    RemoveRaiseOrReturn:837216d0``)."""
    other = _roles(scene)[3]
    elsewhere = scene.block(other)
    certificate = scene.commit_certificate(scene.ids, elsewhere.digest, bytes([7]) * 32)
    return scene.pre_prepare(scene.block(last_commit=certificate), 0)


def _naming_another_digest(scene: Scene) -> PrePrepare:
    l0 = _roles(scene)[1]
    return _signed_pre_prepare(scene, l0, 1, bytes([5]) * 32, scene.block())


def _signed_pre_prepare(
    scene: Scene, leader: str, height: int, digest: bytes, block: ProofBlock
) -> PrePrepare:
    """A view-0 PRE-PREPARE signed by ``leader`` stating ``height`` and ``digest``, whatever
    the block it carries."""
    unsigned = PrePrepare(height, 0, digest, leader, block, b"")
    signature = scene.signers[leader].key.sign_bytes(unsigned.payload)
    return PrePrepare(height, 0, digest, leader, block, signature)


def _non_members_block() -> ProofBlock:
    """An empty block of height 1 whose proposer, v999, is no member, signed with its key."""
    stranger = KeySigner("v999", make_validator_keys(1, 999)[0])
    return ProofBlock.create(stranger, 1, GENESIS_PARENT, [], [], [], None)


def _block_of_a_non_member(scene: Scene) -> PrePrepare:
    """The view-0 leader's PRE-PREPARE of a block whose proposer is no member."""
    l0 = _roles(scene)[1]
    block = _non_members_block()
    return _signed_pre_prepare(scene, l0, 1, block.digest, block)


def _signed_with_another_key(scene: Scene) -> PrePrepare:
    """The view-0 leader's own signed block, in a PRE-PREPARE naming the leader but signed with
    the fourth member's key (written from the mechanical survivor ``aethel/consensus/
    proposals.py:ProposalRules._on_pre_prepare:ReplaceFalseWithTrue:37c60750``, the
    PRE-PREPARE's signature taken as checked: the block's own signature passed for it)."""
    l0, other = _roles(scene)[1], _roles(scene)[3]
    block = scene.block()
    unsigned = PrePrepare(1, 0, block.digest, l0, block, b"")
    return replace(unsigned, signature=scene.signers[other].key.sign_bytes(unsigned.payload))


def _with_a_damaged_signature(scene: Scene) -> PrePrepare:
    """The view-0 leader's PRE-PREPARE of its own block with one bit of its signature flipped."""
    genuine = scene.pre_prepare(scene.block(), 0)
    damaged = bytes([genuine.signature[0] ^ 1]) + genuine.signature[1:]
    return replace(genuine, signature=damaged)


def _of_view_zero(scene: Scene) -> PrePrepare:
    return scene.pre_prepare(scene.block(), 0)


def _of_view_one(scene: Scene) -> PrePrepare:
    l1 = _roles(scene)[2]
    return scene.pre_prepare(scene.block(l1), 1)


PROPOSALS: dict[str, Variant] = {
    "from-a-non-leader": (("R2.6",), False, _from_non_leader),
    "a-block-of-another-proposer-in-view-0": (("R2.6",), False, _block_of_another_proposer),
    "a-block-of-another-parent": (("R3.3",), False, _block_of_another_parent),
    "a-block-of-another-height": (("R2.3",), False, _block_of_another_height),
    "naming-another-digest-than-its-block": (("R2.3",), False, _naming_another_digest),
    "a-first-block-carrying-a-parent-certificate": (
        ("R2.3",),
        False,
        _first_block_with_a_parent_certificate,
    ),
    "a-block-of-a-non-member": (("R4.3",), False, _block_of_a_non_member),
    "signed-with-another-members-key": (("R7.5",), False, _signed_with_another_key),
    "with-a-damaged-signature": (("R7.5",), False, _with_a_damaged_signature),
    "for-a-view-the-replica-left": (("R2.6",), True, _of_view_zero),
    "for-a-later-view-outside-new-view": (("R2.6",), True, _of_view_one),
}


def _proposal_params() -> list[object]:
    return [
        pytest.param(
            name,
            id=name,
            marks=[pytest.mark.req("R2.6", "R2.3", *rules), pytest.mark.rejects(*rules)],
        )
        for name, (rules, _, _) in PROPOSALS.items()
    ]


@pytest.mark.parametrize("variant", _proposal_params())
@pytest.mark.parametrize("mode", ["collector", "broadcast"], ids=str)
def test_a_wrong_proposal_gets_no_prepare(replica_api: ReplicaAPI, variant: str, mode: str) -> None:
    """The PRE-PREPARE gets no PREPARE. Its valid counterpart then gets one: the view-0
    leader's own block (on a fresh replica), or, for a later view, the same PRE-PREPARE inside
    a NEW-VIEW carrying q(W) VIEW-CHANGEs."""
    scene = _scene()
    name, l0, l1, other = _roles(scene)
    _, times_out, build = PROPOSALS[variant]
    proposal = build(scene)
    remote = scene.replica(replica_api, name, mode)
    if times_out:
        remote.on_timer(1, 0, "view", TIMEOUT_AT)
    votes = sent(remote.on_message(proposal.to_wire(), AFTER_TIMEOUT), Prepare)
    if votes:
        raise AssertionError(
            f"{name} sent PREPARE for view {getattr(votes[0], 'view', '?')} on a PRE-PREPARE "
            f"{variant.replace('-', ' ')}"
        )
    if variant == "for-a-later-view-outside-new-view":
        changes = [scene.view_change(m, 1) for m in (l0, l1, other)]
        nv = scene.new_view(changes, None, proposal.block, 1)
        if not _prepares(remote.on_message(nv.to_wire(), AFTER_TIMEOUT), 1):
            raise AssertionError(f"{name} did not prepare the same proposal inside a NEW-VIEW")
        return
    fresh = scene.replica(replica_api, name, mode)
    if not _prepares(
        fresh.on_message(scene.pre_prepare(scene.block()).to_wire(), AFTER_TIMEOUT), 0
    ):
        raise AssertionError(f"{name} sent no PREPARE for the leader's valid proposal")


# --------------------------------------------------------------------------- votes


@pytest.mark.req("R2.3", "R2.6")
@pytest.mark.rejects("R2.3")
def test_prepares_of_a_view_the_replica_left_do_not_count(replica_api: ReplicaAPI) -> None:
    """Broadcast mode: the replica follows a NEW-VIEW for view 1 re-proposing D, prepared in
    view 0. View-0 PREPAREs for D from two others would, with its own view-1 PREPARE, reach
    q(W): they must not make it prepared in view 1 (no COMMIT); view-1 PREPAREs then must."""
    scene = _scene()
    name, l0, l1, other = _roles(scene)
    d = scene.block()
    cert = scene.prepare_certificate([l0, l1, other], d.digest, 0)
    changes = [scene.view_change(l0, 1, cert, d), scene.view_change(l1, 1)]
    changes.append(scene.view_change(other, 1))
    remote = scene.replica(replica_api, name, "broadcast")
    outputs = remote.on_message(scene.new_view(changes, cert, d, 1).to_wire(), AFTER_TIMEOUT)
    if not _prepares(outputs, 1):
        raise AssertionError(f"{name} sent no PREPARE for the re-proposal of a valid NEW-VIEW")
    early: list[object] = []
    for member in (l0, other):
        early += sent(
            remote.on_message(scene.prepare(member, d.digest, 0).to_wire(), AFTER_TIMEOUT), Commit
        )
    if early:
        raise AssertionError(
            f"{name} sent COMMIT for view 1 counting PREPAREs of view 0, a view it left"
        )
    late: list[object] = []
    for member in (l0, other):
        late += sent(
            remote.on_message(scene.prepare(member, d.digest, 1).to_wire(), AFTER_TIMEOUT), Commit
        )
    if not late:
        raise AssertionError(f"{name} sent no COMMIT on q(W) PREPAREs of view 1 (the control)")


@pytest.mark.req("R2.3")
@pytest.mark.rejects("R2.3")
def test_prepares_for_another_block_do_not_count(replica_api: ReplicaAPI) -> None:
    """Broadcast mode: the replica holds D and its own PREPARE; the leader's PREPARE for D and
    X's for another block D2 hold q(W) together but D only 2 of 4: no COMMIT. The fourth
    member's PREPARE for D then completes q(W) for D."""
    scene = _scene()
    name, l0, l1, other = _roles(scene)
    d, d2 = scene.block(), scene.block(other)
    remote = scene.replica(replica_api, name, "broadcast")
    if not _prepares(remote.on_message(scene.pre_prepare(d).to_wire(), AFTER_TIMEOUT), 0):
        raise AssertionError(f"{name} sent no PREPARE for a valid proposal")
    early = sent(remote.on_message(scene.prepare(l0, d.digest).to_wire(), AFTER_TIMEOUT), Commit)
    early += sent(
        remote.on_message(scene.prepare(other, d2.digest).to_wire(), AFTER_TIMEOUT), Commit
    )
    if early:
        raise AssertionError(
            f"{name} sent COMMIT with PREPAREs for D from 20,000 of 40,000 stake: a PREPARE "
            "for another block was counted"
        )
    if not sent(remote.on_message(scene.prepare(l1, d.digest).to_wire(), AFTER_TIMEOUT), Commit):
        raise AssertionError(f"{name} sent no COMMIT on q(W) PREPAREs for D (the control)")


@pytest.mark.req("P7", "R2.3")
@pytest.mark.rejects("P7")
def test_commits_for_a_conflicting_block_do_not_count(replica_api: ReplicaAPI) -> None:
    """Broadcast mode: the replica holds D, is prepared and sent its COMMIT. The leader's COMMIT
    for D and X's COMMIT for a conflicting block D2 of the same height and view hold q(W)
    together, but D only 20,000 of 40,000 with the replica's own: it must commit nothing. The
    fourth member's COMMIT for D then completes q(W) for D, which commits with D's own root
    (P7: only a block whose COMMIT votes reach q(W) stake commits)."""
    scene = _scene()
    name, l0, l1, other = _roles(scene)
    d, d2 = scene.block(), scene.block(other)
    root, root2 = scene.post_root(d), scene.post_root(d2)
    remote = scene.replica(replica_api, name, "broadcast")
    if not _prepares(remote.on_message(scene.pre_prepare(d).to_wire(), AFTER_TIMEOUT), 0):
        raise AssertionError(f"{name} sent no PREPARE for a valid proposal")
    own: list[object] = []
    for member in (l0, l1):
        own += sent(
            remote.on_message(scene.prepare(member, d.digest).to_wire(), AFTER_TIMEOUT), Commit
        )
    if not own:
        raise AssertionError(f"{name} sent no COMMIT on q(W) PREPAREs for D (the setup)")
    remote.on_message(scene.commit(l0, d.digest, root).to_wire(), AFTER_TIMEOUT)
    remote.on_message(scene.commit(other, d2.digest, root2).to_wire(), AFTER_TIMEOUT)
    status = remote.status()
    if status["height"] != 1:
        raise AssertionError(
            f"{name} committed height 1 with COMMITs for D from 20,000 of 40,000 stake: a COMMIT "
            f"for a conflicting block was counted (state root {status['state_root'][:8]}...)"
        )
    remote.on_message(scene.commit(l1, d.digest, root).to_wire(), AFTER_TIMEOUT)
    status = remote.status()
    if (status["height"], status["state_root"]) != (2, root.hex()):
        raise AssertionError(
            f"{name} did not commit D with its root on q(W) COMMITs for D (the control): {status}"
        )


@pytest.mark.req("R3.2", "R2.3")
@pytest.mark.rejects("R3.2")
@pytest.mark.parametrize("mode", ["collector", "broadcast"], ids=str)
def test_a_certificate_for_another_root_commits_nothing(replica_api: ReplicaAPI, mode: str) -> None:
    """The replica holds D, whose execution gives root r. A commit certificate of q(W) valid
    COMMITs for (D, r') with r' != r must not make it commit (its own root is not r'); the
    certificate for (D, r) then must, leaving its state root at r."""
    scene = _scene()
    name, l0, l1, other = _roles(scene)
    d = scene.block()
    root = scene.post_root(d)
    remote = scene.replica(replica_api, name, mode)
    remote.on_message(scene.pre_prepare(d).to_wire(), AFTER_TIMEOUT)
    foreign = scene.commit_certificate([l0, l1, other], d.digest, bytes([7]) * 32)
    remote.on_message(foreign.to_wire(), AFTER_TIMEOUT)
    status = remote.status()
    if status["height"] != 1:
        raise AssertionError(
            f"{name} committed height 1 on a certificate for post-state root "
            f"{'07' * 4}..., not its own {root.hex()[:8]}... (state root {status['state_root']})"
        )
    remote.on_message(
        scene.commit_certificate([l0, l1, other], d.digest, root).to_wire(), AFTER_TIMEOUT
    )
    status = remote.status()
    if (status["height"], status["state_root"]) != (2, root.hex()):
        raise AssertionError(
            f"{name} did not commit D with root {root.hex()[:8]}... on its certificate (the "
            f"control): {status}"
        )


@pytest.mark.req("R2.3")
@pytest.mark.parametrize("phase", ["prepare", "commit"], ids=str)
def test_votes_that_arrive_before_the_proposal_count(replica_api: ReplicaAPI, phase: str) -> None:
    """Broadcast mode. The other three members' PREPAREs (or COMMITs, with the block's post-state
    root) for the leader's block D reach the replica before the PRE-PREPARE of D does, as an
    asynchronous network may deliver them. They hold q(W) for D, so once the replica has
    checked D (spec/consensus.md, Phases: on a prepared certificate it sends its COMMIT; on a
    commit certificate it commits a block it holds whose root is the certificate's) it sends
    its COMMIT for D, or commits height 1, on the PRE-PREPARE itself, with no further vote.

    Written from the module campaign of aethel/consensus/proposals.py (survivor
    ``_after_accepting:RemoveStatement:1d2866a0``: the COMMITs held when the block was accepted
    never looked at again)."""
    scene = _scene()
    name, l0, l1, other = _roles(scene)
    d = scene.block()
    remote = scene.replica(replica_api, name, "broadcast")
    root = scene.post_root(d)
    early: list[object] = []
    for member in (l0, l1, other):
        vote = (
            scene.prepare(member, d.digest)
            if phase == "prepare"
            else scene.commit(member, d.digest, root)
        )
        early += parsed(remote.on_message(vote.to_wire(), AFTER_TIMEOUT))
    if any(isinstance(out, Committed) for out in early):
        raise AssertionError(f"{name} committed height 1 before it held the block")
    outputs = remote.on_message(scene.pre_prepare(d).to_wire(), AFTER_TIMEOUT)
    if phase == "prepare":
        if not sent(outputs, Commit, lambda m: m.digest == d.digest):
            raise AssertionError(
                f"{name} sent no COMMIT for D on its PRE-PREPARE, though q(W) PREPAREs for D "
                "had arrived before it"
            )
    elif not any(isinstance(out, Committed) and out.height == 1 for out in parsed(outputs)):
        raise AssertionError(
            f"{name} did not commit height 1 on D's PRE-PREPARE, though q(W) COMMITs for D "
            "with D's post-state root had arrived before it"
        )


@pytest.mark.req("R4.3", "R2.6")
@pytest.mark.rejects("R4.3")
def test_a_new_view_proposing_a_block_of_a_non_member_gets_no_prepare(
    replica_api: ReplicaAPI,
) -> None:
    """A block keeps its first proposer when re-proposed, so in a later view the proposer need
    not be the view's leader, but it must be a member (spec/consensus.md, Blocks rule 1; R4.3).
    A NEW-VIEW for view 1 with q(W) VIEW-CHANGEs, none prepared, carrying a block whose
    proposer v999 is no member gets no PREPARE; the same NEW-VIEW with the leader's own block
    gets one (the control).

    Written from the mechanical survivor ``aethel/consensus/proposals.py:ProposalRules.
    _check_block:RemoveRaiseOrReturn:3258b8b5`` (the non-member check removed): in view 0 the
    proposer must be the leader, which no case's non-member was, so no case reached it."""
    scene = _scene()
    name, l0, l1, other = _roles(scene)
    changes = [scene.view_change(m, 1) for m in (l0, l1, other)]
    remote = scene.replica(replica_api, name)
    remote.on_timer(1, 0, "view", TIMEOUT_AT)
    stranger = scene.new_view(changes, None, _non_members_block(), 1)
    if _prepares(remote.on_message(stranger.to_wire(), AFTER_TIMEOUT), 1):
        raise AssertionError(f"{name} prepared a view-1 block whose proposer v999 is no member")
    control = scene.replica(replica_api, name)
    control.on_timer(1, 0, "view", TIMEOUT_AT)
    own = scene.new_view(changes, None, scene.block(l1), 1)
    if not _prepares(control.on_message(own.to_wire(), AFTER_TIMEOUT), 1):
        raise AssertionError(f"{name} did not prepare the view-1 leader's own block (the control)")


@pytest.mark.req("R2.6", "R4.2")
def test_a_stale_proposal_timer_proposes_nothing(replica_api: ReplicaAPI) -> None:
    """A shell cannot cancel a timer, so timers of heights a replica has left still fire
    (spec/consensus.md: only the current view's own timers act). The reference chain's leader
    of height 1, view 0 (v001) is started, which sets its proposal timer, and commits height 1
    from the chain's PRE-PREPARE of its block and the commit certificate before that timer
    fires. When the timer fires at height 1, v001 holds a proposal of its own for view 0 and
    sends no second one (R4.2); when it fires at height 2, whose view-0 leader is v000, v001
    sends no PRE-PREPARE (a proposal of height 2 by v001 would be a non-leader's, R2.6).

    Written from the module campaign of aethel/consensus/proposals.py (survivor
    ``_on_propose_timer:ReplaceAndWithOr:f83fa184``: a stale timer proposed for the current
    view whenever it had no proposal; and ``:b4c1f2dd``: a current timer proposed again)."""
    chain = slashed_chain(FOUR)
    leader = chain.commits[0].block.proposer
    assert chain.cluster.validators.get_leader(2, 0).id != leader
    remote = new_replica(replica_api, chain, leader)
    remote.start(0)
    first = chain.commits[0]
    proposal = PrePrepare.create(chain.signers[leader], first.view, first.block)
    remote.on_message(proposal.to_wire(), 1_000)
    again = sent(remote.on_timer(1, 0, "propose", 2_000), PrePrepare)
    if again:
        raise AssertionError(
            f"{leader} holds a PRE-PREPARE of its own for height 1, view 0, yet sent another "
            "when its proposal timer fired (a leader signs one proposal per view, R4.2)"
        )
    remote.on_message(first.certificate.to_wire(), 3_000)
    if remote.status()["height"] != 2:
        raise AssertionError(f"{leader} did not commit height 1 from its certificate")
    outputs = remote.on_timer(1, 0, "propose", 10**10)
    proposals = sent(outputs, PrePrepare)
    if proposals:
        raise AssertionError(
            f"{leader}, at height 2 (led by v000 in view 0), sent PRE-PREPAREs "
            f"{[(p.height, p.view) for p in proposals if isinstance(p, PrePrepare)]} when its "
            "proposal timer of height 1 fired"
        )


@pytest.mark.req("R2.3", "R7.5")
@pytest.mark.rejects("R7.5")
def test_commits_with_bad_signatures_do_not_count(replica_api: ReplicaAPI) -> None:
    """Broadcast mode: the replica prepared D (the leader's, X's and its own PREPAREs) and sent
    its COMMIT. The leader's and X's COMMITs for D then arrive with one bit of each signature
    flipped: with its own they would be q(W), but a vote counts only if its validator signed it
    (R7.5), so nothing commits; the same COMMITs correctly signed then commit height 1.

    Written from the module campaign of aethel/consensus/voting.py (survivor ``VotingRules.
    _on_commit:ReplaceFalseWithTrue:8e446014``: COMMITs from the network taken as checked). Bad
    signatures were tried on PREPAREs only (test_replica.py)."""
    scene, remote, (name, l0, other), d = _preparing_member(replica_api)
    root = scene.post_root(d)
    own: list[object] = []
    for member in (l0, other):
        own += sent(
            remote.on_message(scene.prepare(member, d.digest).to_wire(), AFTER_TIMEOUT), Commit
        )
    if not own:
        raise AssertionError(f"{name} sent no COMMIT on q(W) PREPAREs for D (the control)")
    genuine = [scene.commit(member, d.digest, root) for member in (l0, other)]
    for vote in genuine:
        damaged = flipped(vote)
        outputs = parsed(remote.on_message(damaged.to_wire(), AFTER_TIMEOUT))
        if any(isinstance(out, Committed) for out in outputs):
            raise AssertionError(
                f"{name} committed height 1 counting {vote.validator}'s COMMIT whose signature "
                "does not verify"
            )
    committed: list[object] = []
    for vote in genuine:
        committed += [
            out
            for out in parsed(remote.on_message(vote.to_wire(), AFTER_TIMEOUT))
            if isinstance(out, Committed)
        ]
    if not committed:
        raise AssertionError(f"{name} did not commit on q(W) correctly signed COMMITs (control)")


@pytest.mark.req("R2.3", "R7.5")
@pytest.mark.rejects("R2.3")
def test_a_certificate_refused_once_is_refused_again(replica_api: ReplicaAPI) -> None:
    """The replica holds the leader's proposal D. A commit certificate for D arrives with the
    COMMITs of q(W) members, one of them with a flipped bit: two valid votes are below q(W), so
    it commits nothing (R2.3, R7.5). The same certificate again must commit nothing either: a
    verdict a replica keeps about a certificate is a verdict about a valid one. The certificate
    with every vote intact then commits height 1 (the control).

    Written from the mechanical survivor ``aethel/consensus/certificates.py:CertificateChecks.
    _check_cert:ReplaceUnaryOperator_Delete_Not:51087bcc`` (the cache of checked certificates
    kept the refused ones, so a bad certificate passed the second time): no case sent a
    refused certificate twice."""
    scene, remote, (name, l0, other), d = _preparing_member(replica_api)
    root = scene.post_root(d)
    members = [l0, other, name]
    genuine = scene.commit_certificate(members, d.digest, root)
    first = genuine.votes[0]
    damaged = replace(
        genuine,
        votes=(
            flipped(first),
            *genuine.votes[1:],
        ),
    )
    for attempt in ("first", "second"):
        outputs = parsed(remote.on_message(damaged.to_wire(), AFTER_TIMEOUT))
        if any(isinstance(out, Committed) for out in outputs):
            raise AssertionError(
                f"{name} committed height 1 on a certificate with {first.validator}'s COMMIT "
                f"damaged (two valid votes, below q(W)), shown the {attempt} time"
            )
    outputs = parsed(remote.on_message(genuine.to_wire(), AFTER_TIMEOUT))
    if not any(isinstance(out, Committed) for out in outputs):
        raise AssertionError(f"{name} did not commit on the intact certificate (the control)")


@pytest.mark.req("R2.6", "R2.4")
def test_a_later_views_prepared_certificate_becomes_the_claim(replica_api: ReplicaAPI) -> None:
    """Broadcast mode. The replica prepares the view-0 leader's block D (q(W) PREPAREs), and
    view 0 times out: its VIEW-CHANGE for view 1 claims D prepared in view 0. The view-1 leader
    then proposes its own block D' in a NEW-VIEW whose q(W) VIEW-CHANGEs claim nothing (a valid
    NEW-VIEW proposes a fresh block then), and the replica prepares D' in view 1. When view 1
    times out, its VIEW-CHANGE for view 2 must claim D' prepared in view 1, the highest
    prepared certificate it holds (spec/consensus.md, view change: the next leader re-proposes
    the highest prepared block, which is what keeps a block that may have committed in view 1).

    Written from the module campaign of aethel/consensus/voting.py (survivor ``VotingRules.
    _on_prepared:ReplaceComparisonOperator_Gt_LtE:f6296be6``: the claim kept at the earlier
    view). No case had prepared in two views."""
    scene = _scene()
    name, l0, l1, other = _roles(scene)
    d, d2 = scene.block(), scene.block(l1)
    remote = scene.replica(replica_api, name, "broadcast")
    remote.on_message(scene.pre_prepare(d).to_wire(), 1_000)
    for member in (l0, other):
        remote.on_message(scene.prepare(member, d.digest).to_wire(), 2_000)
    first = [
        m for m in sent(remote.on_timer(1, 0, "view", TIMEOUT_AT), ViewChange)
        if isinstance(m, ViewChange) and m.view == 1
    ]  # fmt: skip
    if [m.prepared_digest for m in first] != [d.digest]:
        raise AssertionError(f"control: {name}'s VIEW-CHANGE for view 1 does not claim D")
    changes = [scene.view_change(m, 1) for m in (l0, l1, other)]
    outputs = remote.on_message(scene.new_view(changes, None, d2, 1).to_wire(), AFTER_TIMEOUT)
    if not _prepares(outputs, 1):
        raise AssertionError(f"control: {name} did not prepare D' in view 1")
    deadline = view_deadline(outputs, 1, 1)
    for member in (l1, other):
        outputs = remote.on_message(scene.prepare(member, d2.digest, 1).to_wire(), AFTER_TIMEOUT)
        deadline = view_deadline(outputs, 1, 1) or deadline
    at = (deadline or 10**12) + 1
    claims = [
        (m.prepared_view, m.prepared_digest)
        for m in sent(remote.on_timer(1, 1, "view", at), ViewChange)
        if isinstance(m, ViewChange) and m.view == 2
    ]
    expect_equal(
        [(v, (dg or b"").hex()) for v, dg in claims],
        [(1, d2.digest.hex())],
        f"the prepared claim of {name}'s VIEW-CHANGE for view 2 (it prepared D in view 0 and "
        "D' in view 1)",
    )
