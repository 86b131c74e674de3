"""The replica over a tiny in-memory network: commits, agreement, single-validator mode."""

from __future__ import annotations

import pytest

from aethel.consensus.messages import Prepare
from aethel.consensus.wire import parse_message
from aethel.encoding import canonical_json, parse_canonical_json

from .cluster import make_cluster


def _run_heights(cluster, heights: int) -> None:  # type: ignore[no-untyped-def]
    cluster.start()
    while min(cluster.heights().values()) < heights and cluster.queue:
        cluster.run(max_steps=50)


@pytest.mark.req("R2.4", "R3.2", "P8", "P11")
@pytest.mark.parametrize("mode", ["collector", "broadcast"])
def test_validators_commit_the_same_blocks_and_roots(mode: str) -> None:
    cluster = make_cluster(4, mode)  # type: ignore[arg-type]
    _run_heights(cluster, 5)
    chains = {
        name: [(c.block.digest, c.certificate.post_root) for c in commits[:5]]
        for name, commits in cluster.commits.items()
    }
    assert len(chains) == 4 and all(len(chain) == 5 for chain in chains.values())
    assert len({tuple(chain) for chain in chains.values()}) == 1
    for commits in cluster.commits.values():
        for committed in commits[:5]:
            assert committed.execution.post_root == committed.certificate.post_root
            assert committed.execution.proof_count == 2


@pytest.mark.req("R5.6")
def test_a_single_validator_commits_alone() -> None:
    cluster = make_cluster(1, "collector")
    cluster.start()
    cluster.run(max_steps=10)  # a proposal timer and the proposal to itself per height
    # With n = 1 the leader's own votes are a quorum: each proposal commits at once.
    replica = cluster.replicas["v000"]
    assert len(cluster.commits["v000"]) == 5
    assert replica.height == len(cluster.commits["v000"]) + 1


@pytest.mark.req("E4", "E12", "R7.5")
def test_messages_round_trip_through_canonical_json() -> None:
    cluster = make_cluster(4, "collector")
    seen = []
    original_route = cluster.route

    def record(source, outputs):  # type: ignore[no-untyped-def]
        for out in outputs:
            message = getattr(out, "message", None)
            if message is not None:
                seen.append(message)
        original_route(source, outputs)

    cluster.route = record  # type: ignore[method-assign]
    _run_heights(cluster, 2)
    kinds = {type(m).__name__ for m in seen}
    assert {"PrePrepare", "Prepare", "Commit", "PrepareCertificate", "CommitCertificate"} <= kinds
    for message in seen:
        data = canonical_json(message.to_wire())
        parsed = parse_message(parse_canonical_json(data))
        assert canonical_json(parsed.to_wire()) == data
        assert len(data) == message.wire_size
    vote = next(m for m in seen if isinstance(m, Prepare))
    wire = vote.to_wire()
    wire["extra"] = 1
    with pytest.raises(Exception, match="E12"):
        parse_message(wire)
