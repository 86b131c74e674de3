"""The implementation's replica is moved by no forged certificate (R2.3, R7.5).

In collector mode the leader assembles PREPARE and COMMIT certificates; a Byzantine leader
could send ones it did not earn. The implementation's replica, holding the proposal of height 1
of a real chain, is shown forged certificates (below q(W), a vote whose signature was made with
another key, one vote counted twice): it must send no COMMIT and commit nothing. The genuine
certificates then move it (the control).

Member by member: a certificate of exactly q(W) whose one vote was signed over a vote differing
in its height, view, phase, digest or post-state root, or under another name or key, or is
damaged, moves no replica either (the receiver rebuilds each vote from the certificate, so
every such change is a signature over something else). And q(W) is exact: with W = 3k,
certificates holding 2k + 1 count and 2k do not (:data:`THIRDS`, stake-weighted sets).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from aethel.consensus.events import Broadcast, Send
from aethel.consensus.messages import (
    Commit,
    CommitCertificate,
    Prepare,
    PrepareCertificate,
    PrePrepare,
)
from aethel.consensus.signing import KeySigner
from conformance.adapters.api import Implementation, ReplicaAPI
from conformance.replica_wire import outputs_from_json
from conformance.suite.chains import SlashedChain, fresh_replica, slashed_chain
from conformance.suite.scene import FOUR, Scene, make_scene, sent, subsets_with_stake

pytestmark = pytest.mark.capability("replica")

NOW = 10**9


def _sends(outputs: object, kind: type) -> bool:
    for out in outputs_from_json(outputs):
        if isinstance(out, Send | Broadcast) and isinstance(out.message, kind):
            return True
    return False


def _forgeries(voters: list[str]) -> dict[str, list[str]]:
    """Who signs each forged certificate ("x:y" = y's vote signed with x's key)."""
    a, b, c = voters
    return {
        "below-quorum": [a, b],
        "a-vote-signed-with-another-key": [a, b, f"{a}:{c}"],
        "one-vote-counted-twice": [a, b, b],
    }


def _signer(chain: SlashedChain, spec: str) -> KeySigner:
    key_of, _, name = spec.rpartition(":")
    return KeySigner(name, chain.signers[key_of or name].key)


@pytest.mark.req("R2.3", "R7.5")
def test_forged_certificates_move_no_replica(impl: Implementation, replica_api: ReplicaAPI) -> None:
    chain = slashed_chain(FOUR)
    committed = chain.commits[0]
    block, genuine_commit = committed.block, committed.certificate
    voter = next(n for n in ("v001", "v002", "v003") if n != block.proposer)
    others = [n for n in ("v000", "v001", "v002", "v003") if n != voter][:3]
    remote = fresh_replica(replica_api, chain, voter)
    proposal = PrePrepare.create(chain.signers[block.proposer], committed.view, block)
    if not _sends(remote.on_message(proposal.to_wire(), NOW), Prepare):
        raise AssertionError(f"{voter} sent no PREPARE for the valid proposal of height 1")
    view, digest, root = committed.view, block.digest, genuine_commit.post_root
    for name, signers in _forgeries(others).items():
        prepares = tuple(Prepare.create(_signer(chain, s), 1, view, digest) for s in signers)
        forged = PrepareCertificate(1, view, digest, prepares)
        if _sends(remote.on_message(forged.to_wire(), NOW), Commit):
            raise AssertionError(f"{voter} sent COMMIT on a forged prepare certificate ({name})")
        commits = tuple(Commit.create(_signer(chain, s), 1, view, digest, root) for s in signers)
        remote.on_message(CommitCertificate(1, view, digest, root, commits).to_wire(), NOW)
        if remote.status()["height"] != 1:
            raise AssertionError(f"{voter} committed height 1 on a forged certificate ({name})")
    prepares = tuple(Prepare.create(chain.signers[s], 1, view, digest) for s in others)
    genuine = PrepareCertificate(1, view, digest, prepares)
    if not _sends(remote.on_message(genuine.to_wire(), NOW), Commit):
        raise AssertionError(f"{voter} sent no COMMIT on a genuine prepare certificate")
    remote.on_message(genuine_commit.to_wire(), NOW)
    if remote.status()["height"] != 2:
        raise AssertionError(f"{voter} did not commit height 1 on its genuine certificate")


# --------------------------------------------------------------------------- one vote changed

FORGE_NOW = 10**9


def _vote(
    scene: Scene, phase: str, signer: str, validator: str, digest: bytes, root: bytes, **at: int
) -> Prepare | Commit:
    """A vote of ``phase`` naming ``validator``, signed with ``signer``'s key."""
    height, view = at.get("height", 1), at.get("view", 0)
    if phase == "prepare":
        unsigned: Prepare | Commit = Prepare(height, view, digest, validator, b"")
    else:
        unsigned = Commit(height, view, digest, root, validator, b"")
    signature = scene.signers[signer].key.sign_bytes(unsigned.payload)
    return replace(unsigned, signature=signature)


#: member -> how Y's entry of the certificate is made: (the vote Y really signed, or None for
#: an entry built otherwise), as a function of the scene, phase, Y, X, digest, other digest,
#: root and other root. The certificate states (1, 0, digest[, root]) and Y's entry keeps only
#: the validator and signature, so every change is a signature over something else.
def _signed_other(
    scene: Scene, phase: str, y: str, x: str, d: bytes, d2: bytes, r: bytes, r2: bytes, member: str
) -> tuple[Prepare | Commit | None, str, bytes]:
    """Return (Y's real vote the signature comes from, or None; the entry's validator; the
    entry's signature)."""
    other_phase = "commit" if phase == "prepare" else "prepare"
    real: Prepare | Commit | None
    if member == "height":
        real = _vote(scene, phase, y, y, d, r, height=2)
    elif member == "view":
        real = _vote(scene, phase, y, y, d, r, view=1)
    elif member == "phase":
        real = _vote(scene, other_phase, y, y, d, r)
    elif member == "digest":
        real = _vote(scene, phase, y, y, d2, r)
    elif member == "root":
        real = _vote(scene, phase, y, y, d, r2)
    elif member == "validator":
        real = _vote(scene, phase, y, y, d, r)
        return None, x, real.signature
    elif member == "non-member":
        stranger = _vote(scene, phase, y, "v999", d, r)
        return None, "v999", stranger.signature
    elif member == "key":
        forged = _vote(scene, phase, x, y, d, r)
        return None, y, forged.signature
    else:  # "signature": one bit flipped
        genuine = _vote(scene, phase, y, y, d, r)
        return None, y, bytes([genuine.signature[0] ^ 1]) + genuine.signature[1:]
    return real, y, real.signature


def _certificate(
    phase: str, digest: bytes, root: bytes, votes: list[Prepare | Commit]
) -> PrepareCertificate | CommitCertificate:
    if phase == "prepare":
        return PrepareCertificate(1, 0, digest, tuple(v for v in votes if isinstance(v, Prepare)))
    return CommitCertificate(1, 0, digest, root, tuple(v for v in votes if isinstance(v, Commit)))


MEMBERS = {
    "prepare": ["height", "view", "phase", "digest", "validator", "non-member", "key", "signature"],
    "commit": [
        "height",
        "view",
        "phase",
        "digest",
        "root",
        "validator",
        "non-member",
        "key",
        "signature",
    ],
}


@pytest.mark.req("R2.3", "R7.5")
@pytest.mark.rejects("R2.3", "R7.5")
@pytest.mark.parametrize(
    ("phase", "member"),
    [(p, m) for p, members in MEMBERS.items() for m in members],
    ids=[f"{p}-{m}" for p, members in MEMBERS.items() for m in members],
)
def test_a_certificate_with_one_vote_member_changed_moves_no_replica(
    replica_api: ReplicaAPI, phase: str, member: str
) -> None:
    """Broadcast mode: the replica holds the proposal of height 1 and is shown a certificate of
    exactly q(W) (three of four equal stakes) in which one vote's signature was made over a vote
    differing in one member (height, view, phase, digest, post-state root), under another name
    or key, or is damaged. Where that other vote is a real one, the replica receives it first,
    as a vote, so a verdict remembered by key and signature alone would be reused. The forged
    certificate must not move it (no COMMIT, no commit); the genuine one then must."""
    scene = make_scene(list(FOUR), epoch="cert-members")
    leader = scene.leader()
    name, x, y = scene.others(leader)
    block = scene.block()
    d, r = block.digest, scene.post_root(block)
    d2, r2 = scene.block(x).digest, bytes([9]) * 32
    remote = scene.replica(replica_api, name, "broadcast")
    if not sent(remote.on_message(scene.pre_prepare(block).to_wire(), FORGE_NOW), Prepare):
        raise AssertionError(f"{name} sent no PREPARE for the valid proposal of height 1")
    real, validator, signature = _signed_other(scene, phase, y, x, d, d2, r, r2, member)
    early = [] if real is None else sent(remote.on_message(real.to_wire(), FORGE_NOW), Commit)
    honest = [_vote(scene, phase, m, m, d, r) for m in (leader, x)]
    entry = replace(_vote(scene, phase, y, y, d, r), validator=validator, signature=signature)
    votes = sorted([*honest, entry], key=lambda v: v.validator)
    forged = _certificate(phase, d, r, votes)
    genuine = _certificate(
        phase, d, r, [_vote(scene, phase, m, m, d, r) for m in sorted([leader, x, y])]
    )
    outputs = remote.on_message(forged.to_wire(), FORGE_NOW)
    if early or sent(outputs, Commit, lambda m: m.digest == d) or remote.status()["height"] != 1:
        raise AssertionError(
            f"{name} was moved by a {phase} certificate whose vote of {y} is signed over a vote "
            f"with another {member}"
        )
    outputs = remote.on_message(genuine.to_wire(), FORGE_NOW)
    moved = sent(outputs, Commit) if phase == "prepare" else remote.status()["height"] == 2
    if not moved:
        raise AssertionError(f"{name} was not moved by the genuine {phase} certificate")


# --------------------------------------------------------------------------- q(W) at W = 3k

#: Stake-weighted sets with W = 3k: q(W) = 2k + 1, and 2k = ceil(2W/3) is one short.
THIRDS = {
    "W=30000": [10_001, 9_999, 5_000, 5_000],
    "W=3003": [1_000, 1_001, 1_002],
    "W=300000": [50_001, 59_999, 40_000, 30_000, 70_000, 25_000, 25_000],
}


@pytest.mark.req("R2.3", "R7.2")
@pytest.mark.rejects("R2.3")
@pytest.mark.parametrize("stakes", list(THIRDS.values()), ids=list(THIRDS))
@pytest.mark.parametrize("mode", ["collector", "broadcast"], ids=str)
def test_certificates_at_exactly_q_count_and_one_short_do_not(
    replica_api: ReplicaAPI, stakes: list[int], mode: str
) -> None:
    """The replica holds the proposal of height 1. A PREPARE certificate and a COMMIT
    certificate whose members hold exactly q(W) - 1 = 2k move it nowhere; ones holding exactly
    q(W) = 2k + 1 make it send COMMIT, then commit."""
    scene = make_scene(list(stakes), epoch="cert-thirds")
    total, quorum = scene.validators.total_stake, scene.validators.quorum
    assert total % 3 == 0 and quorum == 2 * total // 3 + 1
    name = scene.others(scene.leader())[0]
    short = subsets_with_stake(scene, quorum - 1)
    exact = subsets_with_stake(scene, quorum)
    block = scene.block()
    d, r = block.digest, scene.post_root(block)
    remote = scene.replica(replica_api, name, mode)
    if not sent(remote.on_message(scene.pre_prepare(block).to_wire(), FORGE_NOW), Prepare):
        raise AssertionError(f"{name} sent no PREPARE for the valid proposal of height 1")
    below = scene.prepare_certificate(short, d)
    if sent(remote.on_message(below.to_wire(), FORGE_NOW), Commit):
        raise AssertionError(
            f"{name} sent COMMIT on a prepare certificate of {short}: {quorum - 1} stake, one "
            f"short of q(W) = {quorum} (W = {total})"
        )
    remote.on_message(scene.commit_certificate(short, d, r).to_wire(), FORGE_NOW)
    if remote.status()["height"] != 1:
        raise AssertionError(
            f"{name} committed on a commit certificate of {short}: {quorum - 1} stake, one "
            f"short of q(W) = {quorum} (W = {total})"
        )
    at = scene.prepare_certificate(exact, d)
    if not sent(remote.on_message(at.to_wire(), FORGE_NOW), Commit):
        raise AssertionError(
            f"{name} sent no COMMIT on a prepare certificate of {exact}: exactly q(W) = "
            f"{quorum} (W = {total})"
        )
    remote.on_message(scene.commit_certificate(exact, d, r).to_wire(), FORGE_NOW)
    if remote.status()["height"] != 2:
        raise AssertionError(
            f"{name} did not commit on a commit certificate of {exact}: exactly q(W) = "
            f"{quorum} (W = {total})"
        )


def _boundary_sets(scene: Scene) -> tuple[str, list[str], list[str]]:
    """Return a member other than the view-0 leader and two sets that include it, holding
    exactly q(W) - 1 and exactly q(W) stake (its own vote counts in both)."""
    quorum = scene.validators.quorum
    for name in scene.others(scene.leader()):
        try:
            short = subsets_with_stake(scene, quorum - 1, include=[name])
            exact = subsets_with_stake(scene, quorum, include=[name])
        except AssertionError:
            continue
        return name, short, exact
    raise AssertionError(f"no member of {scene.ids} is in sets of q(W) - 1 and q(W) (suite bug)")


def _prepared_replica(replica_api: ReplicaAPI, scene: Scene, name: str, voters: list[str]) -> Any:
    """A broadcast-mode replica ``name`` holding the proposal of height 1 (its own PREPARE
    sent) and the PREPAREs of ``voters`` but itself; return it and the outputs of those."""
    block = scene.block()
    remote = scene.replica(replica_api, name, "broadcast")
    if not sent(remote.on_message(scene.pre_prepare(block).to_wire(), FORGE_NOW), Prepare):
        raise AssertionError(f"control: {name} sent no PREPARE for the valid proposal")
    outputs: list[Any] = []
    for voter in voters:
        if voter != name:
            vote = scene.prepare(voter, block.digest)
            outputs.extend(remote.on_message(vote.to_wire(), FORGE_NOW))
    return remote, outputs


@pytest.mark.req("R2.3")
@pytest.mark.rejects("R2.3")
@pytest.mark.parametrize("stakes", list(THIRDS.values()), ids=list(THIRDS))
def test_votes_at_exactly_q_count_and_one_short_do_not(
    replica_api: ReplicaAPI, stakes: list[int]
) -> None:
    """The same boundary for votes a replica counts itself (broadcast mode, where every
    replica collects): holding the proposal of height 1, with PREPAREs that bring the stake
    behind it (its own PREPARE included) to exactly q(W) - 1 = 2k it sends no COMMIT, and to
    exactly q(W) = 2k + 1 it does; then COMMITs to exactly 2k do not commit height 1 and to
    exactly 2k + 1 do.

    Written from the mechanical survivor ``aethel/consensus/votes.py:VoteCollector.add:
    ReplaceComparisonOperator_GtE_Gt`` (a quorum of votes needing more than q(W)): every case
    counted votes by equal stakes, whose sums never equal q(W)."""
    scene = make_scene(list(stakes), epoch="vote-thirds")
    quorum, total = scene.validators.quorum, scene.validators.total_stake
    name, short, exact = _boundary_sets(scene)
    block = scene.block()
    d, r = block.digest, scene.post_root(block)
    _, below = _prepared_replica(replica_api, scene, name, short)
    if sent(below, Commit):
        raise AssertionError(
            f"{name} sent COMMIT with PREPAREs of {short}: {quorum - 1} stake, one short of "
            f"q(W) = {quorum} (W = {total})"
        )
    _, at = _prepared_replica(replica_api, scene, name, exact)
    if not sent(at, Commit):
        raise AssertionError(
            f"{name} sent no COMMIT with PREPAREs of {exact}: exactly q(W) = {quorum} (W = {total})"
        )
    for voters, moves in ((short, False), (exact, True)):
        remote, _ = _prepared_replica(replica_api, scene, name, exact)
        for voter in voters:
            if voter != name:
                remote.on_message(scene.commit(voter, d, r).to_wire(), FORGE_NOW)
        if (remote.status()["height"] == 2) != moves:
            stake = quorum if moves else quorum - 1
            raise AssertionError(
                f"{name}, prepared, {'did not commit' if moves else 'committed'} height 1 on "
                f"COMMITs of {voters}: {stake} stake, q(W) = {quorum} (W = {total})"
            )


@pytest.mark.req("R2.3")
@pytest.mark.parametrize("mode", ["collector", "broadcast"], ids=str)
def test_a_certificate_of_every_member_counts(replica_api: ReplicaAPI, mode: str) -> None:
    """spec/consensus.md, "Messages and certificates": "A certificate may hold more than q(W)
    stake." The reference assembles the fewest votes that reach q(W), so no other case shows a
    replica more; another implementation may send all it counted. The replica holds the
    proposal of height 1: a prepared certificate of all four members makes it send COMMIT, and a
    commit certificate of all four makes it commit."""
    scene = make_scene(list(FOUR), epoch="cert-everyone")
    name = scene.others(scene.leader())[0]
    block = scene.block()
    d, r = block.digest, scene.post_root(block)
    remote = scene.replica(replica_api, name, mode)
    if not sent(remote.on_message(scene.pre_prepare(block).to_wire(), FORGE_NOW), Prepare):
        raise AssertionError(f"control: {name} sent no PREPARE for the valid proposal")
    everyone = scene.ids
    prepared = scene.prepare_certificate(everyone, d)
    if not sent(remote.on_message(prepared.to_wire(), FORGE_NOW), Commit):
        raise AssertionError(
            f"{name} sent no COMMIT on a prepared certificate of all four members ({everyone})"
        )
    remote.on_message(scene.commit_certificate(everyone, d, r).to_wire(), FORGE_NOW)
    if remote.status()["height"] != 2:
        raise AssertionError(
            f"{name} did not commit on a commit certificate of all four members ({everyone})"
        )


@pytest.mark.req("R2.3")
def test_a_certificate_of_votes_in_another_order_counts(replica_api: ReplicaAPI) -> None:
    """A sender lists a certificate's votes in validator-set order and a receiver takes them in
    any order (spec/consensus.md, "Messages and certificates"): one implementation's strict
    reading of the order must not split it from the others on a block's last commit. The
    replica holds the proposal of height 1; prepared and commit certificates of three members
    listed in reverse order make it send COMMIT and commit."""
    scene = make_scene(list(FOUR), epoch="cert-order")
    name = scene.others(scene.leader())[0]
    block = scene.block()
    d, r = block.digest, scene.post_root(block)
    remote = scene.replica(replica_api, name, "broadcast")
    if not sent(remote.on_message(scene.pre_prepare(block).to_wire(), FORGE_NOW), Prepare):
        raise AssertionError(f"control: {name} sent no PREPARE for the valid proposal")
    three = scene.ids[:3]  # 30,000 of W = 40,000: q(W) is 26,667

    def reversed_votes(wire: dict[str, Any]) -> dict[str, Any]:
        return {**wire, "votes": list(reversed(wire["votes"]))}

    prepared = reversed_votes(scene.prepare_certificate(three, d).to_wire())
    if not sent(remote.on_message(prepared, FORGE_NOW), Commit):
        raise AssertionError(
            f"{name} sent no COMMIT on a prepared certificate of {three} listed in reverse"
        )
    committed = reversed_votes(scene.commit_certificate(three, d, r).to_wire())
    remote.on_message(committed, FORGE_NOW)
    if remote.status()["height"] != 2:
        raise AssertionError(
            f"{name} did not commit on a commit certificate of {three} listed in reverse"
        )
