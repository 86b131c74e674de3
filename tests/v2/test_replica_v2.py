"""The reference replica speaking protocol version 2 (spec/consensus-v2.md): a network that
starts in version 2 and one that moves from version 1 to version 2 at a height commit the same
chain at every replica (V2.1); each height takes only messages of its own version (V2.2); votes
are BLS signatures (V2.3) collected by the collector of V2.10, whose certificate is a bitmap and
one aggregate (V2.7, V2.8) whose members share the reward."""

from __future__ import annotations

import itertools

import pytest

from aethel.consensus.block import GENESIS_PARENT, ProofBlock
from aethel.consensus.events import Log, Output, Send
from aethel.consensus.messages import (
    Commit,
    CommitCertificate,
    Prepare,
    PrepareCertificate,
    PrePrepare,
)
from aethel.consensus.v2.collector import choose_collector
from aethel.consensus.votes import certificate_members
from aethel.consensus.wire import parse_message
from aethel.encoding import canonical_json, parse_canonical_json
from tests.v2.cluster import Cluster, make_cluster, run_heights


def _rejections(outputs: list[Output]) -> list[str]:
    return [out.detail for out in outputs if isinstance(out, Log) and out.event == "rejected"]


@pytest.mark.req("V2.1", "V2.2", "V2.3", "V2.7", "R2.4", "R3.2")
@pytest.mark.parametrize("mode", ["collector", "broadcast"])
@pytest.mark.parametrize("activation", [1, 3])
def test_replicas_commit_one_chain_in_the_version_of_each_height(
    mode: str, activation: int
) -> None:
    cluster = make_cluster(4, mode, activation)  # type: ignore[arg-type]
    run_heights(cluster, 5)
    chains = {
        name: [(c.block.digest, c.certificate.post_root) for c in commits[:5]]
        for name, commits in cluster.commits.items()
    }
    assert all(len(chain) == 5 for chain in chains.values())
    assert len({tuple(chain) for chain in chains.values()}) == 1
    for commits in cluster.commits.values():
        for committed in commits[:5]:
            want = 2 if committed.height >= activation else 1
            assert committed.certificate.version == want, committed.height
            last = committed.block.last_commit
            if last is not None:
                # The block of H2 carries the version-1 certificate of H2 - 1 (V2.2).
                assert last.version == (2 if last.height >= activation else 1)
    assert not [log for _, log in cluster.logs if log.event == "rejected"]


@pytest.mark.req("V2.8", "R1.3")
def test_the_members_of_a_bitmap_share_the_reward() -> None:
    cluster = make_cluster(4, "collector", 1)
    run_heights(cluster, 4)
    commits = cluster.commits["v000"]
    paid = 0
    for parent, child in itertools.pairwise(commits):
        members = certificate_members(parent.certificate, cluster.validators)
        assert child.block.last_commit == parent.certificate
        if child.execution.rewards:
            # Members share by stake; the rounding remainder goes to the parent's proposer.
            shares = child.execution.rewards
            stake = {m: cluster.validators.stake_of(m) for m in members}
            amount = sum(shares.values())
            for member in members:
                assert shares[member] >= amount * stake[member] // sum(stake.values())
            assert set(shares) <= {*members, parent.block.proposer}
            paid += 1
    assert paid >= 2


@pytest.mark.req("V2.10", "V2.9")
def test_votes_of_view_0_go_to_the_collector_of_v2_10() -> None:
    cluster = make_cluster(7, "collector", 1)
    sent: list[tuple[str, str, object]] = []
    original = cluster.route

    def watch(source: str, outputs: list[Output]) -> None:
        for out in outputs:
            if isinstance(out, Send) and isinstance(out.message, Prepare | Commit):
                sent.append((source, out.to, out.message))
        original(source, outputs)

    cluster.route = watch  # type: ignore[method-assign]
    run_heights(cluster, 2)
    validators = cluster.validators
    assert validators.v2 is not None
    roster = validators.v2.roster
    targets = set()
    apart = 0
    for source, target, vote in sent:
        assert isinstance(vote, Prepare | Commit) and vote.version == 2
        leader = validators.get_leader(vote.height, vote.view).id
        index = choose_collector(
            roster,
            validators.v2.table,
            validators.seed,
            vote.height,
            vote.view,
            roster.index[leader],
        )
        assert target == roster.members[index].id, (vote.height, vote.view, source)
        targets.add(target)
        apart += target != leader
    assert sent and targets
    assert apart, "the scene must have a collector other than the leader"


def _fresh(activation: int) -> tuple[Cluster, str]:
    """A started cluster before any message is delivered, and a replica that does not lead
    view 0 of height 1."""
    cluster = make_cluster(4, "collector", activation)
    for replica in cluster.replicas.values():
        replica.start(0)
    leader = cluster.validators.get_leader(1, 0).id
    other = next(name for name in cluster.replicas if name != leader)
    return cluster, other


@pytest.mark.req("V2.2")
@pytest.mark.rejects("V2.2")
def test_a_version_1_vote_at_a_version_2_height_is_refused_naming_v2_2() -> None:
    cluster, name = _fresh(activation=1)
    replica = cluster.replicas[name]
    voter = next(n for n in cluster.replicas if n != name)
    old = Prepare.create(cluster.signers[voter], 1, 0, bytes(32))  # Ed25519: version 1
    refused = _rejections(replica.on_message(old, 10))
    assert refused and refused[0].startswith("[V2.2]"), refused


@pytest.mark.req("V2.2")
@pytest.mark.rejects("V2.2")
def test_a_version_2_vote_at_a_version_1_height_is_refused_naming_v2_2() -> None:
    cluster, name = _fresh(activation=3)
    replica = cluster.replicas[name]
    voter = next(n for n in cluster.replicas if n != name)
    new = Commit.create(cluster.signers[voter], 1, 0, bytes(32), bytes(32), version=2)
    refused = _rejections(replica.on_message(new, 10))
    assert refused and refused[0].startswith("[V2.2]"), refused


@pytest.mark.req("V2.2")
@pytest.mark.rejects("V2.2")
def test_a_proposal_signed_in_the_other_versions_domain_is_refused_naming_v2_2() -> None:
    for activation, signed_in in ((1, 1), (3, 2)):
        cluster, name = _fresh(activation)
        replica = cluster.replicas[name]
        leader = cluster.signers[cluster.validators.get_leader(1, 0).id]
        block = ProofBlock.create(leader, 1, GENESIS_PARENT, [], [], [], None, signed_in)
        proposal = PrePrepare.create(leader, 0, block, signed_in)
        refused = _rejections(replica.on_message(proposal, 10))
        assert refused and refused[0].startswith("[V2.2]"), (activation, refused)
        assert 0 not in replica.proposals


@pytest.mark.req("V2.2")
@pytest.mark.rejects("V2.2")
def test_a_certificate_of_the_other_version_is_refused_naming_v2_2() -> None:
    cluster, name = _fresh(activation=1)
    replica = cluster.replicas[name]
    others = [n for n in cluster.replicas if n != name]
    digest, root = bytes(32), bytes(range(32))
    votes = tuple(Commit.create(cluster.signers[n], 1, 0, digest, root) for n in others)
    old = CommitCertificate(1, 0, digest, root, votes)
    refused = _rejections(replica.on_message(old, 10))
    assert refused and refused[0].startswith("[V2.2]"), refused
    prepares = tuple(Prepare.create(cluster.signers[n], 1, 0, digest) for n in others)
    refused = _rejections(replica.on_message(PrepareCertificate(1, 0, digest, prepares), 11))
    assert refused and refused[0].startswith("[V2.2]"), refused


@pytest.mark.req("E4", "E12", "V2.3", "V2.7")
def test_version_2_messages_round_trip_through_canonical_json() -> None:
    cluster = make_cluster(4, "collector", 2)
    seen = []
    original = cluster.route

    def record(source: str, outputs: list[Output]) -> None:
        for out in outputs:
            message = getattr(out, "message", None)
            if message is not None:
                seen.append(message)
        original(source, outputs)

    cluster.route = record  # type: ignore[method-assign]
    run_heights(cluster, 3)
    kinds = set()
    for message in seen:
        wire = parse_canonical_json(canonical_json(message.to_wire()))
        again = parse_message(wire)
        assert again.to_wire() == message.to_wire()
        if isinstance(message, Prepare | Commit | PrepareCertificate | CommitCertificate):
            kinds.add((type(message).__name__, message.version))
    assert {("Prepare", 2), ("Commit", 2), ("CommitCertificate", 2), ("Prepare", 1)} <= kinds
