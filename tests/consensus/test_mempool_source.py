"""Blocks built from the real mempool: highest difficulty first, committed proofs leave (R6.3)."""

from __future__ import annotations

import random

import pytest

from aethel.consensus.events import Committed, Send, SetTimer
from aethel.consensus.ledger import LedgerExecutor, LedgerValidator, StateRepository, make_genesis
from aethel.consensus.replica import Replica
from aethel.consensus.replica_config import ReplicaConfig, Services
from aethel.consensus.signing import DirectSignatureChecker, KeySigner
from aethel.consensus.stores import MemoryChainStore
from aethel.consensus.validators import Validator, ValidatorSet, make_validator_keys
from aethel.encoding import KeyPair, to_hex
from aethel.monitoring.metrics import NodeMetrics
from aethel.node.mempool_source import MempoolSource
from aethel.proofs.judge import Account, Judge
from aethel.proofs.mempool import Mempool
from aethel.proofs.model import proof_from_json, sign_transfer


@pytest.mark.req("R5.1", "R6.3", "R8.2")
def test_a_leader_proposes_from_the_mempool_and_commits_drain_it() -> None:
    rng = random.Random(5)
    accounts = [KeyPair.generate(rng) for _ in range(6)]
    key = make_validator_keys(1, 5)[0]
    validators = ValidatorSet.create(0, bytes(32), [Validator("v0", key.public_key, 10_000)])
    balances = {to_hex(a.public_key): 1_000 for a in accounts}
    repository = StateRepository()
    executor = LedgerExecutor(repository, make_genesis(balances, validators))
    mempool = Mempool(judge=Judge(KeyPair.generate(rng)))
    nonces = {a.public_key: 0 for a in accounts}
    for index in range(18):
        sender, receiver = accounts[index % 6], accounts[(index + 1) % 6]
        tx = sign_transfer(
            sender,
            receiver=receiver.public_key,
            amount=1 + index * 7,
            nonce=nonces[sender.public_key],
        )
        mempool.add_transaction(tx, Account(1_000, 0))
        nonces[sender.public_key] += 1
    assert len(mempool) == 18  # every judge proof entered the mempool (R5.1)
    source = MempoolSource(mempool, max_proofs=6)
    services = Services(
        DirectSignatureChecker(), LedgerValidator(repository), executor, MemoryChainStore(), source
    )
    replica = Replica(KeySigner("v0", key), validators, services, ReplicaConfig())
    metrics = NodeMetrics("v0")
    expected_order = [p.proof.proof_id for p in mempool.pending()]
    committed: list[Committed] = []
    pending = replica.start(0)
    while len(committed) < 3:
        out = pending.pop(0)
        if isinstance(out, SetTimer) and out.timer.kind == "propose":
            pending += replica.on_timer(out.timer, 1)
        elif isinstance(out, Send):
            pending += replica.on_message(out.message, 1)
        elif isinstance(out, Committed):
            committed.append(out)
            stats = mempool.stats()
            metrics.observe_mempool(stats.size, stats.processing_rate)
    ids = [proof_from_json(p).proof_id for c in committed for p in c.block.proofs]
    assert len(ids) == 18 and len(mempool) == 0
    # Highest difficulty first, except where a sender's earlier nonce must come first.
    first_block = ids[:6]
    assert first_block[0] == expected_order[0]
    difficulties = [c.execution.total_difficulty for c in committed]
    assert all(d > 0 for d in difficulties)
    assert metrics.registry.get_sample_value("aethel_mempool_size") == 0  # R8.2
