"""Live verification accuracy at a node: its own validations judge the votes it sees (R8.3, P34)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from aethel.consensus.events import Broadcast, Output
from aethel.consensus.messages import Commit, Message, Prepare
from aethel.consensus.signing import KeySigner
from aethel.consensus.validators import Validator, ValidatorSet, make_validator_keys
from aethel.encoding import sha256
from aethel.monitoring.accuracy import ACCURACY_MIN_VERDICTS, ACCURACY_THRESHOLD
from aethel.monitoring.node import NodeMonitor
from aethel.sim.simulator import SimConfig, Simulation


def _samples(monitor: NodeMonitor) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = monitor.metrics.exposition().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


class MonitoredReplica:
    """A node shell's wiring: every message in and every output out also reaches the monitor."""

    def __init__(self, replica: Any, monitor: NodeMonitor) -> None:
        self._replica = replica
        self._monitor = monitor

    def _out(self, outputs: list[Output]) -> list[Output]:
        self._monitor.on_outputs(outputs)
        return outputs

    def start(self, now: int) -> list[Output]:
        return self._out(self._replica.start(now))

    def on_message(self, message: Message, now: int) -> list[Output]:
        self._monitor.on_message(message)
        return self._out(self._replica.on_message(message, now))

    def on_timer(self, timer: Any, now: int) -> list[Output]:
        return self._out(self._replica.on_timer(timer, now))

    def on_sync_completed(self, *args: Any) -> list[Output]:
        return self._out(self._replica.on_sync_completed(*args))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._replica, name)


@pytest.fixture(scope="module")
def live() -> tuple[Simulation, dict[int, NodeMonitor], list[str]]:
    """Seven validators, two of which vote for every block, invalid ones included."""
    sim = Simulation(
        SimConfig(
            validators=7, heights=12, seed=3, byzantine=(("invalid-vote", 2 / 7),), mode="broadcast"
        )
    )
    monitors: dict[int, NodeMonitor] = {}
    for node in sim.engine.nodes:
        if not node.honest:
            continue
        monitor = monitors[node.index] = NodeMonitor(node.validator_id, sim.validators)
        make = node.make_replica
        assert make is not None

        def wrapped(*args: Any, make: Any = make, monitor: NodeMonitor = monitor) -> Any:
            return MonitoredReplica(make(*args), monitor)

        node.make_replica = wrapped
    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger("aethel.monitoring")
    logger.addHandler(handler)
    try:
        sim.run()
    finally:
        logger.removeHandler(handler)
    return sim, monitors, records


@pytest.mark.req("R8.3", "P34")
def test_a_node_alerts_live_on_validators_that_vote_for_invalid_blocks(live) -> None:  # type: ignore[no-untyped-def]
    sim, monitors, logged = live
    liars = {sim.ids[i] for i, kind in sim.behaviours.items() if kind == "invalid-vote"}
    assert len(liars) == 2 and len(monitors) == 5
    for monitor in monitors.values():
        tracker = monitor.metrics.accuracy_tracker
        alerted = {alert.validator for alert in monitor.alerts}
        assert alerted == liars, monitor.node
        for alert in monitor.alerts:
            assert alert.claims >= ACCURACY_MIN_VERDICTS
            assert alert.correct / alert.claims < ACCURACY_THRESHOLD
            assert alert.correct > 0  # the liars also voted for valid blocks, judged correct
        # Honest validators (the node itself included) are judged right every time.
        for validator in sorted(set(sim.ids) - liars):
            assert tracker.verdicts(validator) >= ACCURACY_MIN_VERDICTS
            assert monitor.get_accuracy(validator) == 1.0
        samples = _samples(monitor)
        for liar in liars:
            labels = (("validator", liar),)
            assert samples[("aethel_validator_accuracy", labels)] < 0.95
            assert samples[("aethel_accuracy_alerts_total", labels)] == 1
            assert samples[("aethel_accuracy_verdicts", labels)] == tracker.verdicts(liar)
        assert samples[("aethel_accuracy_alerts_open", ())] == len(tracker.open_alerts())
        health = monitor.get_health()
        assert {alert.validator for alert in health.open_alerts} <= liars
    assert sum("(R8.3)" in line for line in logged) == 2 * len(monitors)


def _signed_votes(count: int) -> tuple[ValidatorSet, list[KeySigner]]:
    keys = make_validator_keys(count, 11)
    members = [Validator(f"v{i}", key.public_key, 10_000) for i, key in enumerate(keys)]
    validators = ValidatorSet.create(0, bytes(32), members)
    return validators, [KeySigner(f"v{i}", key) for i, key in enumerate(keys)]


@pytest.mark.req("R8.3", "P34")
def test_no_alert_before_the_minimum_number_of_verdicts(caplog: pytest.LogCaptureFixture) -> None:
    validators, (_node, liar) = _signed_votes(2)
    monitor = NodeMonitor("v0", validators)
    for height in range(1, ACCURACY_MIN_VERDICTS + 1):
        digest = sha256(b"invalid block %d" % height)
        # The liar's vote arrives before the node's own validation of the block is known.
        monitor.on_message(Prepare.create(liar, height, 0, digest))
        assert monitor.metrics.accuracy_tracker.verdicts("v1") == height - 1
        monitor.on_block_verdict(digest, height, False)
        if height < ACCURACY_MIN_VERDICTS:
            assert monitor.alerts == [] and monitor.get_health().open_alerts == ()
    assert [a.claims for a in monitor.alerts] == [ACCURACY_MIN_VERDICTS]
    assert "v1" in caplog.text and "R8.3" in caplog.text
    # A vote counts once, however often it arrives; a forged one never counts.
    again = Prepare.create(liar, 1, 0, sha256(b"invalid block 1"))
    monitor.on_message(again)
    forged = Commit(1, 0, again.digest, bytes(32), "v1", again.signature)
    monitor.on_message(forged)
    assert monitor.metrics.accuracy_tracker.verdicts("v1") == ACCURACY_MIN_VERDICTS


@pytest.mark.req("R8.3")
def test_own_votes_settle_a_blocks_validity() -> None:
    validators, (node, peer) = _signed_votes(2)
    monitor = NodeMonitor("v0", validators)
    digest = sha256(b"a valid block")
    monitor.on_message(Commit.create(peer, 1, 0, digest, bytes(32)))
    assert monitor.get_accuracy("v1") is None  # waits for the node's own validation
    monitor.on_outputs([Broadcast(Prepare.create(node, 1, 0, digest))])
    assert monitor.get_accuracy("v1") == 1.0 and monitor.get_accuracy("v0") == 1.0
