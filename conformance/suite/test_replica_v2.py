"""One protocol version per height in the implementation's replica (spec/consensus-v2.md, V2.2).

These cases run only for an implementation that declares consensus version 2 (``hello``'s
``consensus_versions``) and the capability ``replica``. Each is a scripted first height, as in
:mod:`conformance.suite.scene`, of a validator set of version 2 (WIRE.md: each member's BLS
key derived from its seed) under a genesis naming ``protocol_v2_height``: 1, so height 1 runs
version 2, or 3, so height 1 runs version 1 (V2.1). The harness signs every message itself,
in the version it chooses:

* a PRE-PREPARE whose signature (and block's, or only its own) is of the other version than
  the height's gets no PREPARE; the same proposal in the height's version gets one, of the
  height's version (signed with BLS at a version-2 height, V2.3);
* PREPAREs of the other version do not count: with the replica's own they would make q(W), and
  no COMMIT follows; the same PREPAREs in the height's version make it COMMIT;
* a commit certificate of the other version (a list of Ed25519 votes at a version-2 height, a
  bitmap and an aggregate at a version-1 height) does not make it commit; the same votes in the
  height's form do;
* under a genesis naming 2, it votes in version 1 at height 1 and, once height 1 commits, in
  version 2 at height 2, where a proposal signed in version 1's domain gets no vote (V2.1);
* in collector mode its view-0 votes go to the collector of V2.10, a certificate that collector
  forges (every member in the bitmap, its own signature alone) makes no COMMIT (V2.8), and when
  view 0 times out the next view's leader collects and the height commits (V2.11);
* version-2 votes at a replica: a stranger's or one with no signature counts for nothing
  (R4.3, V2.5); a member's votes for two digests are one checkable equivocation record and
  only the first counts, forgeries in its name accuse no one (R4.2, V2.9); a version-2
  VIEW-CHANGE equivocation is reported; later heights' votes and VIEW-CHANGEs make a lagging
  replica ask (R3.5). The rest of the file holds the cases the mutation campaigns asked for,
  each naming its survivors.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pytest

from aethel.consensus.block import GENESIS_PARENT, ProofBlock
from aethel.consensus.events import Committed, RequestSync, Send
from aethel.consensus.evidence import Evidence
from aethel.consensus.ledger import make_genesis
from aethel.consensus.messages import (
    Commit,
    CommitCertificate,
    NewView,
    Prepare,
    PrepareCertificate,
    PrePrepare,
    ViewChange,
)
from aethel.consensus.signing import KeySigner, derive_bls_key
from aethel.consensus.v2.certificate import Certificate as AggregateCertificate
from aethel.consensus.v2.certificate import VoteTarget, bitmap
from aethel.consensus.v2.collector import choose_collector
from aethel.consensus.v2.version import version_of_height
from aethel.consensus.validators import Validator, ValidatorSet, make_validator_keys
from aethel.crypto import bls
from aethel.encoding import KeyPair
from aethel.sim.network import LATENCY_MS, REGIONS
from conformance.adapters.api import ReplicaAPI
from conformance.adapters.reference_replica import genesis_to_json
from conformance.checks import expect_equal
from conformance.suite.scene import (
    FOUR,
    Scene,
    expect_signatures_counted,
    flipped,
    gossiped_evidence,
    parsed,
    require_provable,
    sent,
)

pytestmark = [pytest.mark.capability("replica"), pytest.mark.consensus_version(2)]

KEY_SEED = 11


@dataclass
class VersionedScene(Scene):
    """A :class:`Scene` of a version-2 set whose genesis names ``activation`` (V2.1)."""

    activation: int = 1
    #: False: the genesis names no ``protocol_v2_height`` and the set's ``first_height`` alone
    #: names the activation height (V2.1: a network that started in version 1).
    named_by_genesis: bool = True

    def version(self, height: int = 1) -> int:
        return version_of_height(height, self.activation)

    def replica(
        self, api: ReplicaAPI, name: str, mode: str = "broadcast", now: int | None = 0
    ) -> Any:
        remote = api.new(
            self.validators.to_wire(),
            name,
            self.signers[name].key.seed.hex(),
            mode,
            genesis_to_json(self.genesis, self.activation if self.named_by_genesis else None),
        )
        if now is not None:
            remote.start(now)
        return remote

    def signed_block(self, version: int, proposer: str | None = None) -> ProofBlock:
        """The empty block of height 1 signed by ``proposer`` in ``version``'s domain."""
        signer = self.signers[proposer or self.leader(0)]
        return ProofBlock.create(signer, 1, GENESIS_PARENT, [], [], [], None, version)

    def proposal(self, version: int, block_version: int | None = None) -> PrePrepare:
        """The view-0 leader's PRE-PREPARE of its block, signed in ``version``'s domain, the
        block in ``block_version``'s (default: the same)."""
        leader = self.leader(0)
        block = self.signed_block(version if block_version is None else block_version)
        return PrePrepare.create(self.signers[leader], 0, block, version)

    def prepares(self, names: Iterable[str], digest: bytes, version: int) -> list[Prepare]:
        return [Prepare.create(self.signers[n], 1, 0, digest, version) for n in names]

    def commit_certificate_of(
        self, names: list[str], digest: bytes, root: bytes, version: int
    ) -> CommitCertificate:
        """The commit certificate of ``names`` for height 1 in ``version``'s form (V2.7)."""
        if version == 1:
            votes = tuple(Commit.create(self.signers[n], 1, 0, digest, root) for n in names)
            return CommitCertificate(1, 0, digest, root, votes)
        target = VoteTarget("commit", 1, 0, digest, root)
        return CommitCertificate.of_aggregate(self._aggregate_of(target, names))

    def prepare_certificate_of(self, names: list[str], digest: bytes) -> PrepareCertificate:
        """The version-2 prepare certificate of ``names`` for height 1, view 0 (V2.7)."""
        target = VoteTarget("prepare", 1, 0, digest)
        return PrepareCertificate.of_aggregate(self._aggregate_of(target, names))

    def _aggregate_of(self, target: VoteTarget, names: list[str]) -> AggregateCertificate:
        signatures = [
            bls.Signature.from_bytes(self.signers[n].sign_vote(target.message())) for n in names
        ]
        indices = [self.ids.index(n) for n in names]
        return AggregateCertificate(
            target, bitmap(indices, len(self.ids)), bls.aggregate(signatures)
        )


def make_versioned_scene(stakes: Sequence[int], activation: int, label: str) -> VersionedScene:
    """Members ``v000``... with ``stakes``, BLS keys derived from their seeds, regions of WAN-7."""
    pairs = make_validator_keys(len(stakes), KEY_SEED)
    ids = [f"v{i:03d}" for i in range(len(stakes))]
    members = []
    for i, (name, pair, stake) in enumerate(zip(ids, pairs, stakes, strict=True)):
        secret = derive_bls_key(pair.seed)
        region = REGIONS[i % len(REGIONS)]
        members.append(
            Validator(
                name,
                pair.public_key,
                stake,
                secret.public_key().data,
                secret.prove_possession().data,
                region,
            )
        )
    epoch_seed = random.Random(f"aethel-conformance/v2-scene/{label}").randbytes(32)
    validators = ValidatorSet.create(
        0, epoch_seed, members, first_height=activation, regions=REGIONS, latency_ms=LATENCY_MS
    )
    signers = {
        name: KeySigner(name, pair, derive_bls_key(pair.seed))
        for name, pair in zip(ids, pairs, strict=True)
    }
    genesis = make_genesis({}, validators)
    return VersionedScene(validators, signers, genesis, activation=activation)


#: id -> (the genesis's protocol_v2_height, the version of the messages the harness sends).
OTHER_VERSION = {
    "version-1-at-a-version-2-height": (1, 1),
    "version-2-at-a-version-1-height": (3, 2),
}


def _versions() -> list[Any]:
    return [pytest.param(*versions, id=name) for name, versions in OTHER_VERSION.items()]


def _roles(scene: VersionedScene) -> tuple[str, list[str]]:
    """Return the replica under test (not the view-0 leader) and the two others."""
    leader = scene.leader(0)
    name = next(m for m in scene.ids if m != leader)
    return name, [m for m in scene.ids if m not in (name, leader)]


def _prepares_of(outputs: object) -> list[Prepare]:
    return [m for m in sent(outputs, Prepare) if isinstance(m, Prepare)]


def _commit_height_1(
    scene: VersionedScene, remote: Any, name: str, proposal: PrePrepare, version: int = 1
) -> CommitCertificate:
    """Show ``remote`` (``name``, holding ``proposal`` of height 1) a commit certificate in
    ``version``'s form of the leader, one other member and itself; fail unless it commits
    height 1. Return the certificate."""
    first = scene.leader(0)
    root = scene.post_root(proposal.block)
    signers = [first, *[m for m in scene.ids if m not in (first, name)][:1], name]
    certificate = scene.commit_certificate_of(signers, proposal.digest, root, version)
    outputs = parsed(remote.on_message(certificate.to_wire(), 2_000_000))
    if not any(isinstance(out, Committed) for out in outputs):
        raise AssertionError(
            f"control: {name} did not commit height 1 on a version-{version} certificate"
        )
    return certificate


def _prepared_at_version_2(
    replica_api: ReplicaAPI, label: str
) -> tuple[VersionedScene, Any, str, list[str], PrePrepare]:
    """A replica (not the leader) of a set whose height 1 runs version 2, broadcast mode, that
    prepared the leader's proposal: (scene, replica, its name, the two others, the proposal)."""
    scene = make_versioned_scene(FOUR, 1, label)
    name, others = _roles(scene)
    proposal = scene.proposal(2)
    remote = scene.replica(replica_api, name)
    if not _prepares_of(remote.on_message(proposal.to_wire(), 1_000_000)):
        raise AssertionError(f"control: {name} did not prepare the leader's proposal")
    return scene, remote, name, others, proposal


@pytest.mark.req("V2.2", "V2.3", "R2.6")
@pytest.mark.rejects("V2.2")
@pytest.mark.parametrize("signed", ["block-and-pre-prepare", "pre-prepare-only"])
@pytest.mark.parametrize(("activation", "other"), _versions())
def test_a_proposal_of_the_other_version_gets_no_vote(
    replica_api: ReplicaAPI, activation: int, other: int, signed: str
) -> None:
    """A PRE-PREPARE signed in the other version's domain than its height's gets no PREPARE,
    whether its block is signed in that domain too or in the height's (``pre-prepare-only``:
    a replica that judges the block's domain and takes the PRE-PREPARE's on trust votes).

    The second form was written from the mechanical survivor ``aethel/consensus/
    certificates.py:CertificateChecks._signature_reason:NumberReplacer:6ee78f04`` (the other
    domain asked for as version 0, an error, at a version-2 height), which no case reached:
    every badly signed PRE-PREPARE sent had a badly signed block, refused first."""
    scene = make_versioned_scene(FOUR, activation, f"proposal/{activation}")
    name, _ = _roles(scene)
    remote = scene.replica(replica_api, name)
    block_version = other if signed == "block-and-pre-prepare" else scene.version()
    proposal = scene.proposal(other, block_version)
    wrong = _prepares_of(remote.on_message(proposal.to_wire(), 1_000_000))
    if wrong:
        raise AssertionError(
            f"{name} sent PREPARE for a proposal signed in version {other}'s domain (its block "
            f"in version {block_version}'s) at height 1, which runs version {scene.version()} "
            "(V2.2)"
        )
    votes = _prepares_of(remote.on_message(scene.proposal(scene.version()).to_wire(), 2_000_000))
    if not votes:
        raise AssertionError(f"{name} sent no PREPARE for the proposal in the height's version")
    if any(vote.version != scene.version() for vote in votes):
        raise AssertionError(
            f"{name}'s PREPARE is of version {votes[0].version}, not the height's "
            f"{scene.version()} (V2.2, V2.3: a version-2 vote is a 96-byte BLS signature)"
        )


@pytest.mark.req("V2.2", "V2.3", "R2.3")
@pytest.mark.rejects("V2.2")
@pytest.mark.parametrize(("activation", "other"), _versions())
def test_prepares_of_the_other_version_do_not_count(
    replica_api: ReplicaAPI, activation: int, other: int
) -> None:
    scene = make_versioned_scene(FOUR, activation, f"prepares/{activation}")
    name, others = _roles(scene)
    proposal = scene.proposal(scene.version())
    remote = scene.replica(replica_api, name)
    remote.on_message(proposal.to_wire(), 1_000_000)
    now = 2_000_000
    for vote in scene.prepares(others, proposal.digest, other):
        outputs = remote.on_message(vote.to_wire(), now)
        now += 1_000_000
        if sent(outputs, Commit):
            raise AssertionError(
                f"{name} sent COMMIT after PREPAREs of version {other} at height 1, which runs "
                f"version {scene.version()}: they counted towards q(W) (V2.2)"
            )
    committed = []
    for vote in scene.prepares(others, proposal.digest, scene.version()):
        committed += sent(remote.on_message(vote.to_wire(), now), Commit)
        now += 1_000_000
    if not committed:
        raise AssertionError(f"{name} sent no COMMIT after q(W) PREPAREs in the height's version")


@pytest.mark.req("V2.2", "V2.7", "R3.2")
@pytest.mark.rejects("V2.2")
@pytest.mark.parametrize(("activation", "other"), _versions())
def test_a_commit_certificate_of_the_other_version_does_not_commit(
    replica_api: ReplicaAPI, activation: int, other: int
) -> None:
    scene = make_versioned_scene(FOUR, activation, f"certificate/{activation}")
    name, others = _roles(scene)
    proposal = scene.proposal(scene.version())
    root = scene.post_root(proposal.block)
    remote = scene.replica(replica_api, name)
    remote.on_message(proposal.to_wire(), 1_000_000)
    signers = [scene.leader(0), *others]
    wrong = scene.commit_certificate_of(signers, proposal.digest, root, other)
    outputs = parsed(remote.on_message(wrong.to_wire(), 2_000_000))
    if any(isinstance(out, Committed) for out in outputs):
        raise AssertionError(
            f"{name} committed height 1 on a certificate of version {other}; the height runs "
            f"version {scene.version()} (V2.2)"
        )
    right = scene.commit_certificate_of(signers, proposal.digest, root, scene.version())
    outputs = parsed(remote.on_message(right.to_wire(), 3_000_000))
    if not any(isinstance(out, Committed) for out in outputs):
        raise AssertionError(f"{name} did not commit on q(W) in the height's form")


@pytest.mark.req("V2.1", "V2.2", "V2.3")
@pytest.mark.parametrize("named_by", ["genesis", "validator-set"])
def test_the_version_changes_at_the_activation_height(
    replica_api: ReplicaAPI, named_by: str
) -> None:
    """The activation height is 2, named by the genesis (``protocol_v2_height``) or, for a
    network that started in version 1, by the version-2 set alone (``first_height``, the
    genesis naming none): the replica votes in version 1 at height 1 and, after committing it
    on a version-1 certificate, in version 2 at height 2 (V2.1), where a proposal signed in
    version 1's domain gets no vote (V2.2).

    ``validator-set`` was written from the module campaign of aethel/consensus/replica_core.py
    (survivors ``ReplicaCore.__init__:AddNot:3ee00df8`` and ``ReplicaCore.__init__:
    ReplaceComparisonOperator_Is_IsNot:49a015a9``: the set's ``first_height`` ignored): every
    case named the height in the genesis."""
    scene = replace(
        make_versioned_scene(FOUR, 2, "activation/2"), named_by_genesis=named_by == "genesis"
    )
    first, second = scene.leader(0), scene.leader(0, 2)
    name = next(m for m in scene.ids if m not in (first, second))
    remote = scene.replica(replica_api, name)
    proposal = scene.proposal(1)
    votes = _prepares_of(remote.on_message(proposal.to_wire(), 1_000_000))
    if [vote.version for vote in votes] != [1]:
        raise AssertionError(
            f"{name} answered height 1's version-1 proposal with PREPAREs of versions "
            f"{[vote.version for vote in votes]}, not one of version 1: height 1 is below the "
            "activation height 2 (V2.1)"
        )
    certificate = _commit_height_1(scene, remote, name, proposal)

    def proposal_of_height_2(version: int) -> PrePrepare:
        signer = scene.signers[second]
        block = ProofBlock.create(signer, 2, proposal.digest, [], [], [], certificate, version)
        return PrePrepare.create(signer, 0, block, version)

    wrong = _prepares_of(remote.on_message(proposal_of_height_2(1).to_wire(), 3_000_000))
    if wrong:
        raise AssertionError(
            f"{name} sent PREPARE for a height-2 proposal signed in version 1's domain: height 2 "
            "is the activation height and runs version 2 (V2.1, V2.2)"
        )
    votes = _prepares_of(remote.on_message(proposal_of_height_2(2).to_wire(), 4_000_000))
    if [vote.version for vote in votes] != [2]:
        raise AssertionError(
            f"{name} answered height 2's version-2 proposal with PREPAREs of versions "
            f"{[vote.version for vote in votes]}, not one of version 2 (V2.1, V2.3)"
        )


# --------------------------------------------------------------------------- the collector


def find_versioned_scene(
    stakes: Sequence[int], activation: int, where: Callable[[VersionedScene], bool], label: str
) -> VersionedScene:
    """Return the first versioned scene (epochs ``label/0`` .. ``label/199``) whose roles
    satisfy ``where``, as :func:`conformance.suite.scene.find_scene` does for version 1."""
    for attempt in range(200):
        scene = make_versioned_scene(stakes, activation, f"{label}/{attempt}")
        if where(scene):
            return scene
    raise AssertionError(f"no epoch gives the scene its roles ({label}; suite bug)")


def _by_region(scene: VersionedScene, view: int, leader: str) -> str:
    """Return the member V2.10's rule picks to collect (height 1, ``view``) led by ``leader``."""
    v2 = scene.validators.v2
    assert v2 is not None
    index = choose_collector(
        v2.roster, v2.table, scene.validators.seed, 1, view, v2.roster.index[leader]
    )
    return v2.roster.members[index].id


def _collector_roles(scene: VersionedScene) -> dict[str, str]:
    return {"leader": scene.leader(0), "collector": _by_region(scene, 0, scene.leader(0))}


def _collector_scene() -> tuple[VersionedScene, dict[str, str]]:
    """A version-2 scene whose view-0 leader, view-0 collector (V2.10) and view-1 leader are
    three different members, and the fourth (the replica under test) is none of them; the
    region rule of view 0 would not pick the view-1 leader either (so a replica that applied it
    after view 0 sends its votes elsewhere)."""

    def fits(scene: VersionedScene) -> bool:
        following = scene.leader(1)
        roles = {*_collector_roles(scene).values(), following}
        return len(roles) == 3 and _by_region(scene, 0, following) != following

    scene = find_versioned_scene(FOUR, 1, fits, "collector")
    roles = {**_collector_roles(scene), "next": scene.leader(1)}
    roles["replica"] = next(m for m in scene.ids if m not in roles.values())
    return scene, roles


def _certificate(
    scene: VersionedScene, target: VoteTarget, names: list[str], signers: list[str]
) -> AggregateCertificate:
    """A certificate of ``target`` whose bitmap names ``names`` and whose aggregate sums the
    signatures of ``signers`` (the same members, for an honest certificate)."""
    signatures = [
        bls.Signature.from_bytes(scene.signers[n].sign_vote(target.message())) for n in signers
    ]
    indices = [scene.ids.index(n) for n in names]
    return AggregateCertificate(target, bitmap(indices, len(scene.ids)), bls.aggregate(signatures))


def _votes_sent(outputs: object, kind: type[Prepare] | type[Commit]) -> list[tuple[str, Any]]:
    """Return (recipient, vote) for each vote of ``kind`` sent to one validator."""
    return [
        (out.to, out.message)
        for out in parsed(outputs)
        if isinstance(out, Send) and isinstance(out.message, kind)
    ]


@pytest.mark.req("V2.11", "V2.10", "V2.8", "R2.6")
@pytest.mark.rejects("V2.8")
def test_a_collector_that_forges_or_withholds_costs_only_its_view(
    replica_api: ReplicaAPI,
) -> None:
    """The replica sends its view-0 PREPARE to the collector of V2.10; the collector sends a
    prepare certificate naming every member but signed by itself alone (refused: no COMMIT,
    V2.8) and nothing else. The view times out, the leader of view 1 proposes in a NEW-VIEW,
    and in view 1 the leader collects: the replica's PREPARE and COMMIT go to it, and its
    certificates commit the height (V2.11)."""
    scene, roles = _collector_scene()
    name, collector, next_leader = roles["replica"], roles["collector"], roles["next"]
    others = [m for m in scene.ids if m != name]
    remote = scene.replica(replica_api, name, "collector")
    proposal = scene.proposal(2)
    prepares = _votes_sent(remote.on_message(proposal.to_wire(), 1_000_000), Prepare)
    if [to for to, _ in prepares] != [collector]:
        raise AssertionError(
            f"{name} sent its view-0 PREPARE to {[to for to, _ in prepares]}, not to the "
            f"collector of V2.10, {collector}"
        )
    target = VoteTarget("prepare", 1, 0, proposal.digest)
    forged = _certificate(scene, target, scene.ids, [collector] * len(scene.ids))
    outputs = remote.on_message(PrepareCertificate.of_aggregate(forged).to_wire(), 2_000_000)
    if sent(outputs, Commit):
        raise AssertionError(
            f"{name} sent COMMIT on a certificate whose aggregate is {collector}'s signature "
            "alone, its bitmap naming every member (V2.8, V2.11)"
        )
    outputs = remote.on_timer(1, 0, "view", 10 * 10**9)
    if not sent(outputs, ViewChange):
        raise AssertionError(f"{name} did not ask for view 1 when view 0 timed out (R2.6)")
    changes = [ViewChange.create(scene.signers[m], 1, 1, None, None, 2) for m in others]
    block = scene.signed_block(2, next_leader)
    pre_prepare = PrePrepare.create(scene.signers[next_leader], 1, block, 2)
    new_view = NewView.create(scene.signers[next_leader], changes, None, pre_prepare, 2)
    prepares = _votes_sent(remote.on_message(new_view.to_wire(), 11 * 10**9), Prepare)
    if [to for to, _ in prepares] != [next_leader]:
        raise AssertionError(
            f"{name} sent its view-1 PREPARE to {[to for to, _ in prepares]}: after view 0 the "
            f"leader, {next_leader}, collects (V2.10, V2.11)"
        )
    target = VoteTarget("prepare", 1, 1, block.digest)
    certificate = PrepareCertificate.of_aggregate(_certificate(scene, target, others, others))
    commits = _votes_sent(remote.on_message(certificate.to_wire(), 12 * 10**9), Commit)
    if [to for to, _ in commits] != [next_leader]:
        raise AssertionError(
            f"{name} sent its view-1 COMMIT to {[to for to, _ in commits]}, not to the view's "
            f"leader {next_leader} (V2.11)"
        )
    root = commits[0][1].post_root
    target = VoteTarget("commit", 1, 1, block.digest, root)
    done = CommitCertificate.of_aggregate(_certificate(scene, target, others, others))
    outputs = parsed(remote.on_message(done.to_wire(), 13 * 10**9))
    if not any(isinstance(out, Committed) for out in outputs):
        raise AssertionError(f"{name} did not commit height 1 in view 1 (V2.11)")


@pytest.mark.req("V2.1", "V2.10", "R2.2")
def test_below_the_activation_height_the_leader_collects(replica_api: ReplicaAPI) -> None:
    """A version-2 set whose activation height is 3; in collector mode at height 1 (version 1)
    the replica's PREPARE goes to the view's leader (R2.2), not to the member V2.10 would
    choose, which the scene makes another: the collector rule of version 2 is a version-2 rule
    (V2.1: below the activation height every rule of version 1 holds).

    Written from the module campaign of aethel/consensus/replica_core.py (survivors ``ReplicaCore.
    _collector_id:ReplaceOrWithAnd`` and ``ReplaceComparisonOperator``/``NumberReplacer`` of
    ``self._version_of(self.height) == 1``: version 2's collector used at a version-1 height):
    no case ran a version-1 height in collector mode with version 2 announced."""
    scene = find_versioned_scene(
        FOUR, 3, lambda s: _by_region(s, 0, s.leader(0)) != s.leader(0), "v1-collector"
    )
    leader = scene.leader(0)
    by_region = _by_region(scene, 0, leader)
    name = next(m for m in scene.ids if m not in (leader, by_region))
    remote = scene.replica(replica_api, name, "collector")
    prepares = _votes_sent(remote.on_message(scene.proposal(1).to_wire(), 1_000_000), Prepare)
    expect_equal(
        [(to, vote.version) for to, vote in prepares],
        [(leader, 1)],
        f"where {name} sends its PREPARE at height 1 (version 1; V2.10 would choose {by_region})",
    )


@pytest.mark.req("T22.2e", "R7.5", "V2.3", "R3.5")
@pytest.mark.parametrize("message", ["prepare", "view-change"])
def test_a_later_heights_version_2_votes_are_checked_and_counted(
    replica_api: ReplicaAPI, message: str
) -> None:
    """A validator is seen at a later height "only by a message of that height whose signature
    verifies by its key, R7.5" (spec/consensus.md, Catching up), and once validators holding
    more than W/3 are seen there it sends them its VIEW-CHANGE. Height 1 runs version 2: two
    other members' PREPAREs of height 2 (BLS votes, V2.3; 2,000 of W = 4,000), or their
    VIEW-CHANGEs of height 2 (Ed25519 in version 2's domain, V2.2), make the replica ask them,
    so it checked both signatures, one message at a time (there is no certificate to check
    them in), and T22.2e's count of signatures checked says so.

    Written from the mechanical survivors ``aethel/consensus/certificates.py:
    CertificateChecks._bls_vote_valid:NumberReplacer:7ce8c539`` (a single BLS vote's check not
    counted) and ``CertificateChecks._signed_by_member:RemoveRaiseOrReturn:49308239`` (a
    member's VIEW-CHANGE of a later version-2 height judged unsigned; no case sent one)."""
    scene = make_versioned_scene(FOUR, 1, "ahead-counted")
    name, _ = _roles(scene)
    ahead = [m for m in scene.ids if m != name][:2]
    remote = scene.replica(replica_api, name)
    before = remote.get_performance_stats().get("signatures_checked")
    digest = bytes(range(32))
    asked: list[str] = []
    now = 1_000_000
    for member in ahead:
        vote: Prepare | ViewChange = (
            Prepare.create(scene.signers[member], 2, 0, digest, 2)
            if message == "prepare"
            else ViewChange.create(scene.signers[member], 2, 1, None, None, 2)
        )
        for out in parsed(remote.on_message(vote.to_wire(), now)):
            if isinstance(out, Send) and isinstance(out.message, ViewChange):
                asked.append(out.to)
        now += 1_000_000
    if sorted(set(asked) & set(ahead)) != sorted(ahead):
        raise AssertionError(
            f"{name} saw {ahead} (more than W/3) at height 2 by their {message}s and sent its "
            f"VIEW-CHANGE of height 1 to {sorted(set(asked))}, not to both (spec/consensus.md, "
            "Catching up)"
        )
    what = f"the height-2 {message}s of {ahead}, which {name} acted on (R7.5, V2.3)"
    expect_signatures_counted(remote, before, len(ahead), what)


@pytest.mark.req("V2.2", "R2.6")
@pytest.mark.rejects("V2.2")
@pytest.mark.parametrize("form", [1, 2], ids=["version-1-certificate", "version-2-certificate"])
def test_a_new_view_carrying_a_certificate_of_the_other_version_gets_no_vote(
    replica_api: ReplicaAPI, form: int
) -> None:
    """V2.2: "no certificate holds votes of two versions", and every certificate of a height is
    of that height's version. Height 1 runs version 2; view 0's leader proposed a block that
    the two other members prepared, and the leader of view 1 re-proposes it in a NEW-VIEW whose
    claim carries the prepare certificate of view 0. In version 2's form (a bitmap and an
    aggregate) the replica prepares the NEW-VIEW's proposal; in version 1's form (a list of
    Ed25519 PREPAREs, every signature valid) the certificate is of the other version, the claim
    is invalid, and the NEW-VIEW gets no PREPARE.

    Written from the mechanical survivor ``aethel/consensus/certificates.py:CertificateChecks.
    _embedded_certificates.check:RemoveRaiseOrReturn:f45ea255`` (a certificate inside a
    VIEW-CHANGE or NEW-VIEW checked by its own form, whatever the height's version)."""
    scene = make_versioned_scene(FOUR, 1, "embedded-version")
    leader, next_leader = scene.leader(0), scene.leader(1)
    assert leader != next_leader, "the scene's label gives views 0 and 1 two leaders"
    name = next(m for m in scene.ids if m not in (leader, next_leader))
    block = scene.signed_block(2)
    signers = [m for m in scene.ids if m != name]
    if form == 1:
        votes = tuple(Prepare.create(scene.signers[m], 1, 0, block.digest) for m in signers)
        prepared = PrepareCertificate(1, 0, block.digest, votes)
    else:
        target = VoteTarget("prepare", 1, 0, block.digest)
        prepared = PrepareCertificate.of_aggregate(_certificate(scene, target, signers, signers))
    changes = [
        ViewChange.create(scene.signers[m], 1, 1, prepared, block, 2)
        if m == leader
        else ViewChange.create(scene.signers[m], 1, 1, None, None, 2)
        for m in signers
    ]
    proposal = PrePrepare.create(scene.signers[next_leader], 1, block, 2)
    new_view = NewView.create(scene.signers[next_leader], changes, prepared, proposal, 2)
    remote = scene.replica(replica_api, name)
    remote.on_timer(1, 0, "view", 10 * 10**9)
    prepares = [
        m for m in _prepares_of(remote.on_message(new_view.to_wire(), 11 * 10**9)) if m.view == 1
    ]
    if form == 2 and not prepares:
        raise AssertionError(
            f"control: {name} did not prepare a NEW-VIEW re-proposing the block its claim's "
            "version-2 certificate prepared"
        )
    if form == 1 and prepares:
        raise AssertionError(
            f"{name} prepared a NEW-VIEW whose claim carries a version-1 prepare certificate at "
            "height 1, which runs version 2 (V2.2)"
        )


#: variant -> (the members' stakes, the members the bitmap names, the members whose votes the
#: aggregate sums, the bitmap's bytes past the set's size, whether the certificate is a hint
#: worth a sync). The replica under test is the last member.
HINTS: dict[str, tuple[Sequence[int], list[int], list[int], int, bool]] = {
    "half-the-stake": (FOUR, [0, 1], [0, 1], 0, True),
    "a-quarter-of-the-stake": (FOUR, [0], [0], 0, False),
    "half-named-a-quarter-signed": (FOUR, [0, 1], [0], 0, False),
    "exactly-a-third": ((20_000, 10_000, 10_000, 10_000, 10_000), [0], [0], 0, False),
    "a-bitmap-one-byte-too-long": (FOUR, [0, 1], [0, 1], 1, False),
    "a-bit-past-the-last-member": (FOUR, [0, 1, 4], [0, 1], 0, False),
    "eight-members-three-signed": ((10_000,) * 8, [0, 1, 2], [0, 1, 2], 0, True),
    "nine-members-four-signed": ((10_000,) * 9, [0, 1, 2, 3], [0, 1, 2, 3], 0, True),
}


@pytest.mark.req("R3.5", "R3.1", "V2.7", "V2.8", "T22.2e")
@pytest.mark.parametrize("variant", list(HINTS), ids=str)
def test_a_later_version_2_certificate_is_a_hint_only_over_a_third(
    replica_api: ReplicaAPI, variant: str
) -> None:
    """spec/consensus.md, Catching up: "A certificate of a later height signed by more than W/3
    of the stake it knows is only a hint that the chain has moved on (one signer is honest),
    worth a fetch, never trust." Height 1 runs version 2; the replica, at height 1, gets a
    commit certificate of height 3 (a bitmap and an aggregate, V2.7). Signed by half the stake
    it is worth a sync request for height 3; by a quarter or exactly a third, or naming half
    with the aggregate of a quarter (V2.8: the aggregate must verify for exactly the bitmap's
    members), it is not; nor is one whose bitmap is not ceil(n / 8) bytes or sets a bit past
    the last member (V2.7), while sets of 8 and 9 members (one and two bytes) take theirs. Its
    counters never decrease, and count the aggregate's check whenever the bitmap left the
    decision to it (T22.2e).

    Written from the mechanical survivor ``aethel/consensus/v2/roster.py:Roster.__post_init__:
    RemoveStatement:3e6d5dec`` (the roster's total stake not kept: the version-2 hint, which
    no case reached, then failed), and from the module campaign of aethel/consensus/catchup.py
    (``check_aggregate_hint``: the size check of the bitmap off by one byte at 8 or 9 members,
    or removed; a bit past the last member let through; ``<=`` read as ``<``)."""
    stakes, named, signed, extra, worth = HINTS[variant]
    scene = make_versioned_scene(stakes, 1, "v2-hint")
    name = scene.ids[-1]
    target = VoteTarget("commit", 3, 0, bytes([9]) * 32, bytes([8]) * 32)
    aggregate = _certificate(
        scene, target, [scene.ids[i] for i in signed], [scene.ids[i] for i in signed]
    )
    signers = bytearray(aggregate.signers + bytes(extra))
    for i in named:
        signers[i // 8] |= 0x80 >> (i % 8)
    aggregate = replace(aggregate, signers=bytes(signers))
    remote = scene.replica(replica_api, name)
    before = remote.get_performance_stats().get("signatures_checked")
    outputs = parsed(remote.on_message(CommitCertificate.of_aggregate(aggregate).to_wire(), 10**6))
    asked = [out.height for out in outputs if isinstance(out, RequestSync)]
    what = f"a version-2 certificate of height 3 ({variant.replace('-', ' ')})"
    expect_equal(asked, [3] if worth else [], f"sync requests after {what}")
    # A well-formed bitmap naming more than a third leaves the aggregate to decide (V2.8).
    well_formed = extra == 0 and max(named) < len(stakes)
    decided_by_aggregate = well_formed and 3 * sum(stakes[i] for i in named) > sum(stakes)
    expect_signatures_counted(remote, before, int(decided_by_aggregate), what)


@pytest.mark.req("V2.9", "R2.3")
def test_a_late_version_2_vote_after_the_quorum_changes_nothing(replica_api: ReplicaAPI) -> None:
    """Height 1 runs version 2, broadcast mode. The replica prepares the leader's proposal and
    gets the PREPAREs of the leader and one more member: with its own, q(W); it sends its COMMIT.
    The last member's PREPARE then arrives, late: it adds nothing to a quorum already held, and
    the replica answers it like any message, with no second COMMIT.

    Written from the mechanical survivor ``aethel/consensus/votes.py:AggregateVotes.add:
    ReplaceOrWithAnd:d616ccc8`` (a late vote from a validator not heard before failed the
    replica with an internal error; no case sent one after the quorum)."""
    scene, remote, name, others, proposal = _prepared_at_version_2(replica_api, "late-v2-vote")
    leader = scene.leader(0)
    commits: list[Any] = []
    now = 2_000_000
    for vote in scene.prepares([leader, others[0]], proposal.digest, 2):
        commits += sent(remote.on_message(vote.to_wire(), now), Commit)
        now += 1_000_000
    if len(commits) != 1:
        raise AssertionError(f"control: {name} sent {len(commits)} COMMITs on q(W) PREPAREs, not 1")
    (late,) = scene.prepares([others[1]], proposal.digest, 2)
    again = sent(remote.on_message(late.to_wire(), now), Commit)
    expect_equal(len(again), 0, f"COMMITs {name} sent on a late PREPARE")


@pytest.mark.req("V2.9", "R7.5", "R2.3")
def test_a_genuine_vote_after_a_forged_one_in_its_name_counts(replica_api: ReplicaAPI) -> None:
    """Height 1 runs version 2, broadcast mode. The replica prepares the leader's proposal D
    and gets the leader's PREPARE for D: with its own, two of four equal stakes. A PREPARE in
    a third member's name for another digest arrives, signed with the leader's BLS key (a
    forgery, which optimistic aggregation may hold unchecked, V2.9); then that member's own
    PREPARE for D. The forgery is no vote of that member, so its genuine vote is not a
    conflict: it counts, the PREPAREs for D hold q(W), and the replica sends its COMMIT.

    Written from the mechanical survivor ``aethel/consensus/votes.py:AggregateVotes._conflict:
    RemoveStatement:53505c1a`` (the genuine vote counted but the quorum it completed not
    noticed): no case sent a vote after a forgery in its name."""
    scene, remote, name, others, proposal = _prepared_at_version_2(
        replica_api, "forged-then-genuine-v2"
    )
    leader = scene.leader(0)
    (from_leader,) = scene.prepares([leader], proposal.digest, 2)
    commits = sent(remote.on_message(from_leader.to_wire(), 2_000_000), Commit)
    victim = others[0]
    forger = KeySigner(victim, scene.signers[leader].key, scene.signers[leader].bls_key)
    forged = Prepare.create(forger, 1, 0, bytes([9]) * 32, 2)
    commits += sent(remote.on_message(forged.to_wire(), 3_000_000), Commit)
    if commits:
        raise AssertionError(f"{name} sent a COMMIT before PREPAREs for D held q(W)")
    (genuine,) = scene.prepares([victim], proposal.digest, 2)
    commits = sent(remote.on_message(genuine.to_wire(), 4_000_000), Commit)
    expect_equal(
        [(c.validator, c.digest.hex()) for c in commits if isinstance(c, Commit)],
        [(name, proposal.digest.hex())],
        f"COMMITs {name} sent once {victim}'s own PREPARE for D followed a forgery in its name "
        "(its own, the leader's and the victim's PREPAREs hold q(W))",
    )


def _stranger_or_bad_vote(scene: VersionedScene, victim: str, kind: str) -> Prepare:
    """A version-2 PREPARE of height 1 for another digest that counts for nothing: signed by
    ``v999``, no member, with its own keys, or in ``victim``'s name with 96 bytes that are no
    point of G2 (``no-point``) or the point at infinity (V2.5)."""
    other = bytes([7]) * 32
    if kind == "non-member":
        seed = bytes([99]) * 32
        stranger = KeySigner("v999", KeyPair.from_seed(seed), derive_bls_key(seed))
        return Prepare.create(stranger, 1, 0, other, 2)
    (genuine,) = scene.prepares([victim], other, 2)
    signature = bytes([0x80]) + bytes(95) if kind == "no-point" else b"\xc0" + bytes(95)
    return replace(genuine, signature=signature)


@pytest.mark.req("R4.3", "V2.5", "R2.3")
@pytest.mark.rejects("V2.5")
@pytest.mark.parametrize("kind", ["non-member", "no-point", "at-infinity"])
def test_a_version_2_vote_of_no_member_or_no_signature_counts_for_nothing(
    replica_api: ReplicaAPI, kind: str
) -> None:
    """Height 1 runs version 2, broadcast mode; the replica prepared the leader's proposal D. A
    PREPARE for another digest arrives that counts for nothing: by ``v999``, in no validator
    set (R4.3), or in a member's name with a signature that is no point of G2 or the point at
    infinity (V2.5). The replica takes it without failing, and it blocks nothing: the leader's
    and that member's own PREPAREs for D (with the replica's, q(W)) make it send COMMIT.

    Written from the mechanical survivors ``aethel/consensus/votes.py:AggregateVotes.add:
    ReplaceOrWithAnd`` (a non-member's vote reaching the roster lookup) and ``ExceptionReplacer``
    (an unparsable BLS signature escaping as an exception): no case sent the replica a
    version-2 vote of no member, or with bytes that are no signature."""
    scene, remote, name, others, proposal = _prepared_at_version_2(
        replica_api, f"nothing-v2/{kind}"
    )
    victim = others[0]
    bad = _stranger_or_bad_vote(scene, victim, kind)
    commits = sent(remote.on_message(bad.to_wire(), 2_000_000), Commit)
    genuine = scene.prepares([scene.leader(0), victim], proposal.digest, 2)
    now = 3_000_000
    for vote in genuine:
        commits += sent(remote.on_message(vote.to_wire(), now), Commit)
        now += 1_000_000
    expect_equal(
        [(c.validator, c.digest.hex()) for c in commits if isinstance(c, Commit)],
        [(name, proposal.digest.hex())],
        f"COMMITs {name} sent after a {kind} PREPARE for another digest, then the leader's and "
        f"{victim}'s PREPAREs for D (with its own, q(W))",
    )


#: Scripts of PREPAREs shown to a replica that prepared D at a version-2 height: (sender, target)
#: steps, where ``forged`` is a vote in ``voter``'s name signed with the leader's BLS key; the
#: step at which the PREPAREs for D first hold q(W) (the replica's own included), counting only
#: each member's first genuine vote; and whether ``voter`` equivocated (two genuine votes for
#: two digests).
TWO_DIGESTS: dict[str, tuple[list[tuple[str, str]], int, bool]] = {
    "second-vote-before-the-quorum": (
        [("voter", "X"), ("voter", "D"), ("leader", "D"), ("third", "D")],
        3,
        True,
    ),
    "second-vote-after-the-quorum": (
        [("voter", "X"), ("leader", "D"), ("third", "D"), ("voter", "D")],
        2,
        True,
    ),
    "first-vote-in-the-quorum": ([("leader", "D"), ("voter", "D"), ("voter", "X")], 1, True),
    "forged-first-then-two-own": (
        [("forged", "X"), ("voter", "D"), ("voter", "Y"), ("leader", "D")],
        3,
        True,
    ),
    "forged-second": ([("voter", "X"), ("forged", "D"), ("leader", "D"), ("third", "D")], 3, False),
}


@pytest.mark.req("R4.2", "V2.9", "R2.3")
@pytest.mark.parametrize("script", list(TWO_DIGESTS))
def test_version_2_votes_of_one_member_for_two_digests(
    replica_api: ReplicaAPI, script: str
) -> None:
    """Height 1 runs version 2, broadcast mode; the replica prepared the leader's proposal D. A
    member (``voter``) PREPAREs two digests. If it signed both, that is an equivocation: the
    replica gossips one record of it, which anyone can check in version 2's domain (R4.2), and
    only the member's first vote counts (V2.9: "only the first counts, as in version 1"),
    whether the second comes before or after D holds q(W), and whichever of the two is in the
    certificate. A vote in its name it did not sign (``forged``: the leader's BLS signature) is
    no vote of it: it accuses no one and leaves the member's own votes as they are (the first
    genuine one counts). The replica sends COMMIT exactly when D's counted PREPAREs first hold
    q(W).

    Written from the mechanical survivors of ``aethel/consensus/votes.py:AggregateVotes.
    _conflict`` and ``AggregateVotes.add`` (twenty mutants of ``_conflict``, none reached): no
    case showed a replica a version-2 equivocation; version 1's is in test_evidence_found.py."""
    steps, quorum_at, equivocation = TWO_DIGESTS[script]
    scene, remote, name, others, proposal = _prepared_at_version_2(replica_api, f"two-{script}")
    leader = scene.leader(0)
    voter, third = others
    digests = {"D": proposal.digest, "X": bytes([7]) * 32, "Y": bytes([8]) * 32}
    forger = KeySigner(voter, scene.signers[leader].key, scene.signers[leader].bls_key)
    senders = {"voter": scene.signers[voter], "leader": scene.signers[leader], "forged": forger}
    senders["third"] = scene.signers[third]
    records: list[Evidence] = []
    commit_steps: list[int] = []
    for step, (sender, target) in enumerate(steps):
        vote = Prepare.create(senders[sender], 1, 0, digests[target], 2)
        outputs = remote.on_message(vote.to_wire(), (step + 2) * 1_000_000)
        records += gossiped_evidence(outputs)
        commit_steps += [step] * len(sent(outputs, Commit))
    shown = " then ".join(f"{s}'s {t}" for s, t in steps)
    case = f"{name}, prepared D at height 1 (version 2), shown PREPAREs: {shown} ({voter}: voter)"
    expected = [(voter, "equivocation")] if equivocation else []
    if [(e.offender, e.offence.value) for e in records] != expected:
        raise AssertionError(
            f"{case}: it gossiped {[(e.offender, e.offence.value) for e in records]}, "
            f"expected {expected} (R4.2)"
        )
    require_provable(records, scene.validators, name, activation=1)
    if commit_steps != [quorum_at]:
        raise AssertionError(
            f"{case}: it sent COMMIT at steps {commit_steps}; counting each member's first own "
            f"vote only, D's PREPAREs first hold q(W) at step {quorum_at} (V2.9, R2.3)"
        )


@pytest.mark.req("R4.2", "V2.2")
def test_a_version_2_view_change_equivocation_is_reported(replica_api: ReplicaAPI) -> None:
    """Height 1 runs version 2. A member asks for view 1 claiming nothing prepared, then for
    view 1 again claiming the leader's block prepared in view 0 (a version-2 prepare
    certificate), both VIEW-CHANGEs signed in version 2's domain: two claims for one (height,
    view) are an equivocation (spec/consensus.md, Evidence). The replica, shown each claim
    twice, gossips one record of it, which anyone can check in version 2's domain (R4.2).

    Written from the mechanical survivors ``aethel/consensus/votes.py:VoteCollector._payload:
    AddNot``, ``NumberReplacer`` (``version == 2``) and ``ReplaceComparisonOperator_Eq_NotEq``
    (the second claim checked over its version-1 bytes, so it looks forged and nobody is
    accused): version 1's case is in test_evidence_found.py, and no case showed a replica a
    version-2 VIEW-CHANGE equivocation."""
    scene = make_versioned_scene(FOUR, 1, "view-change-equivocation-v2")
    name, (voter, other) = _roles(scene)
    leader = scene.leader(0)
    block = scene.signed_block(2)
    prepared = scene.prepare_certificate_of([leader, voter, other], block.digest)
    claims = [
        ViewChange.create(scene.signers[voter], 1, 1, None, None, 2),
        ViewChange.create(scene.signers[voter], 1, 1, prepared, block, 2),
    ]
    remote = scene.replica(replica_api, name, "broadcast")
    records: list[Evidence] = []
    for step, claim in enumerate([claims[0], claims[1], claims[1], claims[0]]):
        outputs = remote.on_message(claim.to_wire(), (step + 1) * 1_000_000)
        records += gossiped_evidence(outputs)
    found = [(e.offender, e.offence.value) for e in records]
    if found != [(voter, "equivocation")]:
        raise AssertionError(
            f"{name} saw {voter} ask for view 1 of height 1 (version 2) with two prepared "
            f"claims, each twice, and gossiped {found}, not one equivocation record (R4.2)"
        )
    require_provable(records, scene.validators, name, activation=1)


def _prepares_height_2_carrying(
    replica_api: ReplicaAPI, scene: VersionedScene, record: Evidence, version: int = 1
) -> bool:
    """Return whether a replica that committed height 1 gives a PREPARE to the height-2
    leader's block carrying ``record``, both heights of protocol ``version``."""
    first, second = scene.leader(0), scene.leader(0, 2)
    name = next(m for m in scene.ids if m not in (first, second))
    remote = scene.replica(replica_api, name)
    proposal = scene.proposal(version)
    remote.on_message(proposal.to_wire(), 1_000_000)
    certificate = _commit_height_1(scene, remote, name, proposal, version)
    signer = scene.signers[second]
    block = ProofBlock.create(signer, 2, proposal.digest, [], [], [record], certificate, version)
    pre_prepare = PrePrepare.create(signer, 0, block, version)
    votes = _prepares_of(remote.on_message(pre_prepare.to_wire(), 3_000_000))
    return any(vote.digest == pre_prepare.digest for vote in votes)


@pytest.mark.req("V2.2", "R4.2")
@pytest.mark.rejects("V2.2")
def test_evidence_holding_votes_of_the_other_version_gets_no_vote(
    replica_api: ReplicaAPI,
) -> None:
    """The genesis names protocol_v2_height 3: heights 1 and 2 run version 1. A member signs
    two PREPAREs of height 1, view 0, for two digests, with its BLS key as version 2 signs
    (V2.3): votes of the other version than their height's, so no evidence (V2.2: a node
    refuses a message not of its height's version, and evidence holds messages of its
    offence's height's version). A block of height 2 carrying that record gets no PREPARE;
    the same record of two version-1 PREPAREs gets one (the control).

    Written from the mechanical survivor ``aethel/consensus/evidence.py:check_evidence:
    RemoveRaiseOrReturn:675f0729`` (the version check of an evidence record's votes removed):
    no case had sent a record with votes of the other version."""
    scene = make_versioned_scene(FOUR, 3, "evidence-of-the-other-version")
    offender = scene.ids[-1]
    reporter = next(m for m in scene.ids if m != offender)

    def record(version: int) -> Evidence:
        first, second = (
            Prepare.create(scene.signers[offender], 1, 0, bytes([d]) * 32, version) for d in (1, 2)
        )
        return Evidence.equivocation(scene.signers[reporter], first, second, version=1)

    if _prepares_height_2_carrying(replica_api, scene, record(2)):
        raise AssertionError(
            f"a replica voted PREPARE for a version-1 block whose evidence holds {offender}'s "
            "version-2 votes of height 1 (V2.2)"
        )
    if not _prepares_height_2_carrying(replica_api, scene, record(1)):
        raise AssertionError(
            f"height 2 carrying {offender}'s equivocation in version-1 votes got no PREPARE "
            "(the control)"
        )


def _version_2_records(scene: VersionedScene) -> dict[str, Callable[[int], Evidence]]:
    """Records of an offence at height 1 (version 2) by the last member, reported by the
    first, the reporter signing in the version given: two PREPAREs (BLS, V2.3), or two
    PRE-PREPAREs of view 0 (Ed25519 in version 2's domain, V2.2)."""
    offender = scene.signers[scene.ids[-1]]
    reporter = scene.signers[scene.ids[0]]
    prepares = [Prepare.create(offender, 1, 0, bytes([d]) * 32, 2) for d in (1, 2)]
    blocks = [
        ProofBlock.create(offender, 1, GENESIS_PARENT, [], [], [], None, 2),
        ProofBlock.create(offender, 1, bytes([3]) * 32, [], [], [], None, 2),
    ]
    pre_prepares = [PrePrepare.create(offender, 0, block, 2) for block in blocks]
    return {
        "prepares": lambda v: Evidence.equivocation(reporter, prepares[0], prepares[1], v),
        "pre-prepares": lambda v: Evidence.equivocation(
            reporter, pre_prepares[0], pre_prepares[1], v
        ),
    }


@pytest.mark.req("V2.2", "R4.2")
@pytest.mark.rejects("V2.2")
@pytest.mark.parametrize("signed_twice", ["prepares", "pre-prepares"])
def test_version_2_evidence_is_checked_in_version_2s_domain(
    replica_api: ReplicaAPI, signed_twice: str
) -> None:
    """Every height runs version 2. A member signs two PREPAREs (or two PRE-PREPAREs) of
    height 1, view 0, for two blocks; another member reports it. A block of height 2
    carrying the record, signed by its reporter in version 2's evidence domain, gets the
    PREPARE (spec/consensus-v2.md, V2.2: evidence of a version-2 height is signed in
    ``aethel/evidence/v2``); the same record signed in version 1's domain gets none.

    Written from the mechanical survivors ``aethel/consensus/evidence.py:Evidence.payload_for:
    ReplaceComparisonOperator_Eq_NotEq:49993dca`` (a version-2 record checked in version 1's
    domain) and ``signed_by:ReplaceComparisonOperator_Eq_NotEq:41e49171`` (a version-2
    PRE-PREPARE in it checked in version 1's): no block of a version-2 height had carried
    evidence."""
    scene = make_versioned_scene(FOUR, 1, f"v2-evidence/{signed_twice}")
    record = _version_2_records(scene)[signed_twice]
    if not _prepares_height_2_carrying(replica_api, scene, record(2), 2):
        raise AssertionError(
            f"height 2 (version 2) carrying a genuine version-2 record of two {signed_twice} got "
            "no PREPARE"
        )
    if _prepares_height_2_carrying(replica_api, scene, record(1), 2):
        raise AssertionError(
            f"height 2 (version 2) got a PREPARE carrying a record of two {signed_twice} whose "
            "reporter signed it in version 1's domain (V2.2)"
        )


@pytest.mark.req("V2.2", "R2.3")
@pytest.mark.rejects("V2.2")
@pytest.mark.parametrize(("activation", "other"), _versions())
def test_a_commit_certificate_of_the_other_version_commits_nothing(
    replica_api: ReplicaAPI, activation: int, other: int
) -> None:
    """A replica holding the leader's proposal of height 1 (of its height's version) is shown
    a commit certificate for it from q(W) members in the other version's form (V2.7: a
    signature list, or a bitmap and one aggregate), every signature valid: it commits nothing
    (V2.2: a node refuses a message not of its height's version). The certificate in the
    height's form then commits height 1 (the control). Cases had sent certificates of the other
    version only inside VIEW-CHANGEs and NEW-VIEWs (the next case carries one as a block's last
    commit)."""
    scene = make_versioned_scene(FOUR, activation, f"certificate/{activation}")
    version = scene.version(1)
    name, _ = _roles(scene)
    remote = scene.replica(replica_api, name)
    proposal = scene.proposal(version)
    if not _prepares_of(remote.on_message(proposal.to_wire(), 1_000_000)):
        raise AssertionError(f"control: {name} did not prepare the leader's proposal")
    first = scene.leader(0)
    root = scene.post_root(proposal.block)
    signers = [first, *[m for m in scene.ids if m not in (first, name)][:1], name]
    wrong = scene.commit_certificate_of(signers, proposal.digest, root, other)
    outputs = parsed(remote.on_message(wrong.to_wire(), 2_000_000))
    if any(isinstance(out, Committed) for out in outputs):
        raise AssertionError(
            f"{name} committed height 1 (version {version}) on a version-{other} certificate"
        )
    _commit_height_1(scene, remote, name, proposal, version)


@pytest.mark.req("V2.2", "R2.3")
@pytest.mark.rejects("V2.2")
@pytest.mark.parametrize(("activation", "other"), _versions())
def test_a_last_commit_of_the_other_version_gets_no_vote(
    replica_api: ReplicaAPI, activation: int, other: int
) -> None:
    """A replica commits height 1 on a certificate of height 1's version. The height-2 leader's
    block carrying, as its last commit, a certificate of height 1 from the same members in the
    other version's form (every signature valid) gets no PREPARE (V2.2; Blocks rule 2: a valid
    commit certificate for h - 1); the block carrying the certificate the replica committed on
    gets one (the control).

    Written from the mechanical survivor ``aethel/consensus/certificates.py:CertificateChecks.
    _check_cert_by:RemoveRaiseOrReturn:e3bb3f5f`` (the version check of a certificate made but
    its verdict dropped, so a valid certificate of the other form was taken): a certificate
    sent on its own meets another version check first; a block's last commit does not."""
    scene = make_versioned_scene(FOUR, activation, f"last-commit/{activation}")
    first, second = scene.leader(0), scene.leader(0, 2)
    name = next(m for m in scene.ids if m not in (first, second))
    proposal = scene.proposal(scene.version(1))
    root = scene.post_root(proposal.block)
    signers = [first, *[m for m in scene.ids if m not in (first, name)][:1], name]
    wrong = scene.commit_certificate_of(signers, proposal.digest, root, other)

    def prepares_with(last_commit: CommitCertificate | None) -> bool:
        remote = scene.replica(replica_api, name)
        remote.on_message(proposal.to_wire(), 1_000_000)
        committed = _commit_height_1(scene, remote, name, proposal, scene.version(1))
        signer = scene.signers[second]
        version = scene.version(2)
        block = ProofBlock.create(
            signer, 2, proposal.digest, [], [], [], last_commit or committed, version
        )
        pre_prepare = PrePrepare.create(signer, 0, block, version)
        votes = _prepares_of(remote.on_message(pre_prepare.to_wire(), 3_000_000))
        return any(vote.digest == pre_prepare.digest for vote in votes)

    if prepares_with(wrong):
        raise AssertionError(
            f"{name} voted PREPARE for height 2 whose last commit is height 1's certificate in "
            f"version {other}'s form (height 1 runs version {scene.version(1)})"
        )
    if not prepares_with(None):
        raise AssertionError(f"{name} gave no PREPARE to height 2 with its genuine last commit")


@pytest.mark.req("R7.5", "V2.2", "R2.6")
@pytest.mark.rejects("R7.5")
@pytest.mark.parametrize(
    ("activation", "version"), [(1, 2), (3, 1)], ids=["version-2", "version-1"]
)
def test_a_badly_signed_new_view_on_a_network_of_both_versions_gets_no_vote(
    replica_api: ReplicaAPI, activation: int, version: int
) -> None:
    """A network that names an activation height runs both versions, and a NEW-VIEW whose
    signature does not verify in its height's domain may be one signed in the other's (V2.2):
    either way it is refused. The leader of view 1 sends a NEW-VIEW of height 1 (version 2 under
    activation 1, version 1 under 3) with one bit of its signature flipped: no PREPARE, and no
    error from the replica; the same NEW-VIEW unchanged is followed (the control).

    Written from the module campaign of aethel/consensus/viewchange.py (survivors of
    ``check_new_view``'s ``nv.payload_for(3 - version)``: the other version's bytes asked for
    by a version number that does not exist, which raised out of the replica): no case sent a
    badly signed NEW-VIEW on a network of both versions."""
    scene = find_versioned_scene(
        FOUR, activation, lambda s: s.leader(0) != s.leader(1), "bad-new-view"
    )
    leader = scene.leader(1)
    name = next(m for m in scene.ids if m not in (scene.leader(0), leader))
    changes = [
        ViewChange.create(scene.signers[m], 1, 1, None, None, version) for m in scene.others(name)
    ]
    block = scene.signed_block(version, leader)
    proposal = PrePrepare.create(scene.signers[leader], 1, block, version)
    new_view = NewView.create(scene.signers[leader], changes, None, proposal, version)
    damaged = flipped(new_view)
    remote = scene.replica(replica_api, name)
    remote.on_timer(1, 0, "view", 10 * 10**9)
    if [m for m in _prepares_of(remote.on_message(damaged.to_wire(), 11 * 10**9)) if m.view == 1]:
        raise AssertionError(
            f"{name} prepared the proposal of a NEW-VIEW whose signature does not verify (R7.5)"
        )
    if not [
        m for m in _prepares_of(remote.on_message(new_view.to_wire(), 12 * 10**9)) if m.view == 1
    ]:
        raise AssertionError(f"control: {name} did not follow the NEW-VIEW with its signature")
