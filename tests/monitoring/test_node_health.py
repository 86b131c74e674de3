"""One node's health view: height, active validators, latency, throughput, mempool and open
alerts, rendered for a person and as JSON (R8.6, R8.2, R8.3)."""

from __future__ import annotations

import io
import random

import pytest
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console

from aethel.consensus.events import Committed, Send, SetTimer
from aethel.consensus.ledger import LedgerExecutor, LedgerValidator, StateRepository, make_genesis
from aethel.consensus.messages import Prepare
from aethel.consensus.replica import Replica
from aethel.consensus.replica_config import ReplicaConfig, Services
from aethel.consensus.signing import DirectSignatureChecker, KeySigner
from aethel.consensus.stores import MemoryChainStore
from aethel.consensus.validators import Validator, ValidatorSet, make_validator_keys
from aethel.encoding import KeyPair, sha256, to_hex
from aethel.monitoring.accuracy import ACCURACY_MIN_VERDICTS
from aethel.monitoring.health import health_to_json, render_node_health
from aethel.monitoring.node import NodeMonitor
from aethel.node.mempool_source import MempoolSource
from aethel.proofs.judge import Account, Judge
from aethel.proofs.mempool import Mempool
from aethel.proofs.model import sign_transfer


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.req("R8.6", "R8.2", "R8.3")
def test_the_rendered_health_view_shows_mempool_rate_and_open_alerts() -> None:
    rng = random.Random(12)
    accounts = [KeyPair.generate(rng) for _ in range(3)]
    keys = make_validator_keys(2, 12)
    members = [Validator("v0", keys[0].public_key, 1_000_000)]
    members.append(Validator("v1", keys[1].public_key, 1_000))
    validators = ValidatorSet.create(0, bytes(32), members)
    assert validators.get_leader(1, 0).id == "v0"  # v0 alone holds a quorum and proposes
    repository, store = StateRepository(), MemoryChainStore()
    balances = {to_hex(a.public_key): 1_000 for a in accounts}
    executor = LedgerExecutor(repository, make_genesis(balances, validators))
    clock = Clock()
    mempool = Mempool(judge=Judge(KeyPair.generate(rng)), clock=clock, rate_window=10.0)
    for nonce in range(3):
        for index, sender in enumerate(accounts):
            receiver = accounts[(index + 1) % 3]
            tx = sign_transfer(sender, receiver=receiver.public_key, amount=5, nonce=nonce)
            mempool.add_transaction(tx, Account(1_000, 0))
        clock.now += 1.0
    source = MempoolSource(mempool, max_proofs=4, repository=repository, store=store)
    services = Services(
        DirectSignatureChecker(), LedgerValidator(repository), executor, store, source
    )
    replica = Replica(KeySigner("v0", keys[0]), validators, services, ReplicaConfig())
    monitor = NodeMonitor("v0", validators, mempool=mempool)
    pending = replica.start(0)
    monitor.on_outputs(pending)
    committed = 0
    while committed < 1:
        out = pending.pop(0)
        new = []
        if isinstance(out, SetTimer) and out.timer.kind == "propose":
            new = replica.on_timer(out.timer, 2_000_000)
        elif isinstance(out, Send):
            monitor.on_message(out.message)
            new = replica.on_message(out.message, 250_000_000)
        committed += sum(isinstance(o, Committed) for o in new)
        monitor.on_outputs(new)
        pending += new
    # Validator v1 voted for blocks this node found invalid, 20 times: an open alert (R8.3).
    liar = KeySigner("v1", keys[1])
    for height in range(2, 2 + ACCURACY_MIN_VERDICTS):
        digest = sha256(b"bad %d" % height)
        monitor.on_message(Prepare.create(liar, height, 0, digest))
        monitor.on_block_verdict(digest, height, False)
    clock.now += 1.0
    # Nine transfers admitted at t = 500, 501, 502 (s); four committed; now t = 504.
    stats = mempool.stats()
    assert (stats.size, stats.transactions, stats.processing_rate) == (5, 5, 0.9)
    health = monitor.get_health()
    assert (health.mempool_size, health.mempool_transactions) == (5, 5)
    assert health.mempool_processing_rate == 0.9
    assert [(a.validator, a.correct, a.claims) for a in health.open_alerts] == [("v1", 0, 20)]
    assert health.height == 1 and health.active_validators == {"v0": 1_000_000}
    out = io.StringIO()
    render_node_health(health, Console(file=out, width=120), node="v0", view=0)
    text = out.getvalue()
    latency_s = health.consensus_latency_ns[0] / 1e9
    for needle in (
        "Node health v0",
        "1 (view 0)",
        "1 (stake 1,000,000)",
        f"{latency_s:.3f} s mean",
        f"{health.proof_throughput_per_s:.1f} proofs/s",
        "5 proofs, 5 tx",
        "0.90 /s",
        "validator v1: verification accuracy 0.0% over the last 20 claims is below 95% (R8.3)",
    ):
        assert needle in text, needle
    assert health.proof_throughput_per_s == pytest.approx(4 / latency_s)
    data = health_to_json(health)
    assert data["mempool"] == {"size": 5, "transactions": 5, "processing_rate_per_s": 0.9}
    assert [a["validator"] for a in data["open_alerts"]] == ["v1"]
    # Prometheus reads the mempool at scrape time, with no explicit publish (R8.2).
    clock.now += 100.0
    samples = {
        s.name: s.value
        for family in text_string_to_metric_families(monitor.metrics.exposition().decode())
        for s in family.samples
        if not s.labels
    }
    assert samples["aethel_mempool_size"] == 5
    assert samples["aethel_mempool_processing_rate"] == 0.0
    assert samples["aethel_accuracy_alerts_open"] == 1


def test_a_view_without_mempool_or_heights_says_so() -> None:
    keys = make_validator_keys(1, 3)
    validators = ValidatorSet.create(0, bytes(32), [Validator("v0", keys[0].public_key, 10_000)])
    out = io.StringIO()
    render_node_health(NodeMonitor("v0", validators).get_health(), Console(file=out, width=100))
    assert "not attached" in out.getvalue() and "no height committed yet" in out.getvalue()
