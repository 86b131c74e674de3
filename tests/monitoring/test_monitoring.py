"""Metrics per height, mempool metrics, accuracy alerts, reward tracking, health view (R8)."""

from __future__ import annotations

import io

import pytest
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console

from aethel.encoding import KeyPair
from aethel.monitoring.accuracy import AccuracyTracker
from aethel.monitoring.metrics import NodeMetrics
from aethel.proofs.judge import Account, Judge
from aethel.proofs.mempool import Mempool
from aethel.proofs.model import sign_transfer
from aethel.sim.health import render_health
from aethel.sim.simulator import SimConfig, Simulation


def _samples(metrics: NodeMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = metrics.exposition().decode()
    values = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return values


@pytest.fixture(scope="module")
def run():  # type: ignore[no-untyped-def]
    sim = Simulation(
        SimConfig(
            validators=7, heights=12, seed=3, byzantine=(("invalid-vote", 2 / 7),), mode="broadcast"
        )
    )
    return sim, sim.run()


@pytest.mark.req("R8.1", "P32")
def test_each_finalized_height_emits_its_metrics(run) -> None:  # type: ignore[no-untyped-def]
    sim, _ = run
    observer = sim.engine.metrics[min(i for i in sim.engine.metrics if sim.engine.nodes[i].honest)]
    commits = [r for r in sim.engine.commits if r.node == int(observer.node[1:])]
    assert [m.height for m in observer.history] == [r.height for r in commits]
    for metrics, record in zip(observer.history, commits, strict=True):
        execution = record.committed.execution
        assert metrics.participants == len(record.committed.certificate.votes)
        assert metrics.proof_count == execution.proof_count == len(record.committed.block.proofs)
        assert metrics.total_difficulty == execution.total_difficulty > 0
        committed = record.committed
        assert metrics.duration_s == (committed.now - committed.started) / 1e9 > 0
    samples = _samples(observer)
    last = observer.history[-1]
    assert samples[("aethel_height", ())] == last.height
    assert samples[("aethel_height_participants", ())] == last.participants
    assert samples[("aethel_height_total_difficulty", ())] == last.total_difficulty
    assert samples[("aethel_height_duration_seconds_count", ())] == len(observer.history)
    assert samples[("aethel_heights_committed_total", ())] == len(observer.history)


@pytest.mark.req("R8.4", "P35")
def test_cumulative_rewards_are_tracked_exactly(run) -> None:  # type: ignore[no-untyped-def]
    sim, _ = run
    observer = sim.engine.metrics[1]
    expected: dict[str, int] = {}
    for record in {r.height: r for r in sim.engine.commits if r.node == 1}.values():
        for validator, amount in record.committed.execution.rewards.items():
            expected[validator] = expected.get(validator, 0) + amount
    assert observer.reward_tracker.totals == expected and expected
    samples = _samples(observer)
    for validator, total in expected.items():
        if total:
            assert samples[("aethel_validator_rewards_total", (("validator", validator),))] == total
    # The state agrees: each validator's account grew by exactly its tracked rewards.
    top = max(r.height for r in sim.engine.commits if r.node == 1)
    last = next(r for r in sim.engine.commits if r.node == 1 and r.height == top)
    paid_now = last.committed.execution.rewards
    state = sim.repository.get(last.committed.execution.post_root)
    for validator, total in expected.items():
        key = sim.validators.get(validator).public_key.hex()  # type: ignore[union-attr]
        assert state.balances.get(key, 0) == total
        assert paid_now.get(validator, 0) <= total


@pytest.mark.req("R8.3", "P34")
def test_accuracy_below_95_percent_raises_an_alert(run) -> None:  # type: ignore[no-untyped-def]
    sim, result = run
    liars = {sim.ids[i] for i, kind in sim.behaviours.items() if kind == "invalid-vote"}
    assert result.accuracy_alerts
    assert all(any(v in line for v in liars) for line in result.accuracy_alerts)
    tracker = AccuracyTracker(window=100, min_claims=20)
    assert all(tracker.record("a", True) is None for _ in range(95))
    assert all(tracker.record("a", False) is None for _ in range(5))  # 95/100: not below
    alert = tracker.record("a", False)  # 94/100
    assert alert is not None and alert.claims == 100 and alert.correct == 94
    assert tracker.record("a", False) is None  # no storm while it stays low


@pytest.mark.req("R8.2")
def test_mempool_size_and_rate_are_exported() -> None:
    clock = [0.0]
    rng_key = KeyPair.from_seed(bytes(32))
    mempool = Mempool(judge=Judge(rng_key), clock=lambda: clock[0], rate_window=10.0)
    sender, receiver = KeyPair.from_seed(bytes([1]) * 32), KeyPair.from_seed(bytes([2]) * 32)
    for nonce in range(3):
        tx = sign_transfer(sender, receiver=receiver.public_key, amount=5, nonce=nonce)
        mempool.add_transaction(tx, Account(1_000, 0))
        clock[0] += 1.0
    metrics = NodeMetrics("v0")
    stats = mempool.stats()
    metrics.observe_mempool(stats.size, stats.processing_rate)
    samples = _samples(metrics)
    assert samples[("aethel_mempool_size", ())] == len(mempool) == stats.size
    assert samples[("aethel_mempool_processing_rate", ())] == stats.processing_rate > 0


@pytest.mark.req("R8.5", "P36", "R8.6")
def test_evidence_is_counted_and_the_health_view_renders(run) -> None:  # type: ignore[no-untyped-def]
    sim, result = run
    counted = sum(
        v
        for m in sim.engine.metrics.values()
        for (name, labels), v in _samples(m).items()
        if name == "aethel_byzantine_evidence_total"
    )
    assert counted >= len(result.evidence) >= 1
    health = result.health
    assert health["active_validators"] == 7 and health["honest_active_validators"] == 5
    assert health["consensus_latency_s"]["mean"] > 0 and health["proof_throughput_per_s"] > 0
    out = io.StringIO()
    render_health(result, Console(file=out, width=120))
    text = out.getvalue()
    for needle in ("active validators", "consensus latency", "proof throughput", "Checkers"):
        assert needle in text
