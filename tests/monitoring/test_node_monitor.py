"""One node's monitoring fed by its replica's events: height records, rewards, health (R8.1,
R8.4, R8.6)."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from aethel.consensus.messages import Commit, Prepare
from aethel.monitoring.node import HEALTH_HEIGHTS, NodeMonitor
from aethel.sim.simulator import SimConfig, Simulation


@pytest.fixture(scope="module")
def run():  # type: ignore[no-untyped-def]
    sim = Simulation(
        SimConfig(
            validators=5,
            heights=12,
            seed=4,
            mode="broadcast",
            byzantine=(("silent", 0.2),),
            record_messages=True,
        )
    )
    sim.run()
    node = next(i for i in range(5) if i not in sim.behaviours)
    monitor = NodeMonitor(sim.ids[node], sim.validators)
    for message in sim.engine.sent_log or []:
        monitor.on_message(message)
    commits = [r.committed for r in sim.engine.commits if r.node == node]
    monitor.on_outputs(commits)
    return sim, monitor, commits


@pytest.mark.req("R8.1")
def test_one_record_per_committed_height_matches_block_and_certificate(run) -> None:  # type: ignore[no-untyped-def]
    _, monitor, commits = run
    assert [r.height for r in monitor.records] == [c.height for c in commits] == list(range(1, 13))
    for record, committed in zip(monitor.records, commits, strict=True):
        assert record.participants == len(committed.certificate.votes) <= 4
        assert record.proof_count == len(committed.block.proofs)
        assert record.total_difficulty == committed.execution.total_difficulty > 0
        assert record.duration_ns == committed.now - committed.started > 0
    families = {
        f.name: f for f in text_string_to_metric_families(monitor.metrics.exposition().decode())
    }
    assert families["aethel_height"].samples[0].value == 12


@pytest.mark.req("R8.4")
def test_rewards_sum_the_shares_of_committed_transitions(run) -> None:  # type: ignore[no-untyped-def]
    _, monitor, commits = run
    expected: dict[str, int] = {}
    for committed in commits:
        for validator, share in committed.execution.rewards.items():
            expected[validator] = expected.get(validator, 0) + share
    assert monitor.rewards == dict(sorted(expected.items())) and sum(expected.values()) > 0


@pytest.mark.req("R8.6")
def test_health_view_over_the_last_ten_heights(run) -> None:  # type: ignore[no-untyped-def]
    sim, monitor, _ = run
    health = monitor.get_health()
    recent = monitor.records[-HEALTH_HEIGHTS:]
    assert health.height == 12
    assert health.consensus_latency_ns == tuple(r.duration_ns for r in recent)
    proofs = sum(r.proof_count for r in recent)
    assert health.proof_throughput_per_s == pytest.approx(
        proofs / (sum(r.duration_ns for r in recent) / 1e9)
    )
    silent = {sim.ids[i] for i in sim.behaviours}
    voters = {c.validator for c in sim.engine.sent_log if isinstance(c, Prepare | Commit)}
    assert set(health.active_validators) == voters - silent == set(sim.ids) - silent
    assert all(stake == sim.validators.stake_of(v) for v, stake in health.active_validators.items())


def test_forged_and_foreign_votes_do_not_make_a_validator_active(run) -> None:  # type: ignore[no-untyped-def]
    sim, _, commits = run
    monitor = NodeMonitor("observer", sim.validators)
    silent = sim.ids[next(iter(sim.behaviours))]
    vote = next(m for m in sim.engine.sent_log if isinstance(m, Prepare) and m.height == 12)
    forged = Prepare(vote.height, vote.view, vote.digest, silent, vote.signature)
    foreign = Prepare(vote.height, vote.view, vote.digest, "stranger", vote.signature)
    for message in (forged, foreign):
        monitor.on_message(message)
    monitor.on_outputs(commits)
    assert silent not in monitor.get_health().active_validators
    assert "stranger" not in monitor.get_health().active_validators


@pytest.mark.req("R8.3", "R8.6", "V2.2", "V2.3")
def test_version_2_votes_count_by_their_bls_signature() -> None:
    """In version 2 a PREPARE or COMMIT is signed with the member's BLS key (V2.3): a node's
    monitor counts such a vote it receives, judged against the block (R8.3), and counts no
    vote in the member's name signed with another member's BLS key (V2.2: a vote's version is
    its signature's). Before, the monitor checked every vote with the Ed25519 key, so no direct
    version-2 vote was ever judged and a validator voting for invalid blocks kept a clean
    window."""
    sim = Simulation(
        SimConfig(
            validators=4, heights=2, seed=4, mode="broadcast", protocol_v2_height=1,
            record_messages=True,
        )
    )  # fmt: skip
    sim.run()
    votes = [m for m in sim.engine.sent_log or [] if isinstance(m, Prepare) and m.height == 2]
    vote = votes[0]
    other = next(m for m in votes if m.validator != vote.validator)
    forged = Prepare(vote.height, vote.view, vote.digest, vote.validator, other.signature)
    assert forged.version == 2
    monitor = NodeMonitor("observer", sim.validators)
    monitor.on_message(forged)
    monitor.on_block_verdict(vote.digest, vote.height, True)
    assert monitor.metrics.accuracy_tracker.windows() == {}
    monitor.on_message(vote)
    assert monitor.metrics.accuracy_tracker.windows() == {vote.validator: (1, 1)}
