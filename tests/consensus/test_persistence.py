"""Consensus state persisted through the aethel.state StateStore (R5.4)."""

from __future__ import annotations

import pytest

from aethel.consensus.events import Committed, Send, SetTimer
from aethel.consensus.ledger import LedgerValidator, make_genesis
from aethel.consensus.persistent import PersistentLedger
from aethel.consensus.replica import Replica
from aethel.consensus.replica_config import ReplicaConfig, Services
from aethel.consensus.signing import DirectSignatureChecker, KeySigner
from aethel.consensus.validators import Validator, ValidatorSet, make_validator_keys
from aethel.consensus.workload import TransferWorkload
from aethel.sim.simulator import SimConfig, Simulation
from aethel.state.store import StateStore


def _commit(replica: Replica, outputs, count: int) -> list[Committed]:  # type: ignore[no-untyped-def]
    """Drive a lone validator: its proposal timers and the messages it sends itself."""
    committed: list[Committed] = []
    pending = list(outputs)
    while len(committed) < count:
        out = pending.pop(0)
        if isinstance(out, SetTimer) and out.timer.kind == "propose":
            pending += replica.on_timer(out.timer, 1)
        elif isinstance(out, Send) and out.to == replica.id:
            pending += replica.on_message(out.message, 1)
        elif isinstance(out, Committed):
            committed.append(out)
    return committed


@pytest.mark.req("R5.4", "R5.6", "R3.2")
def test_a_validator_restarted_from_its_state_store_resumes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    key = make_validator_keys(1, 4)[0]
    validators = ValidatorSet.create(0, bytes(32), [Validator("v0", key.public_key, 10_000)])
    path = tmp_path / "node.sqlite"
    ledger, replica = _make(path, key, validators)
    committed = _commit(replica, replica.start(0), 4)
    assert [c.height for c in committed] == [1, 2, 3, 4]
    assert ledger.store.height == 4 and ledger.store.root == committed[-1].certificate.post_root
    ledger.close()
    # A new process: everything comes back from disk, nothing committed is lost.
    again, resumed = _make(path, key, validators)
    assert resumed.height == 5 and resumed.state_root == committed[-1].certificate.post_root
    assert again.get_block(2).digest == committed[1].block.digest  # type: ignore[union-attr]
    assert again.get_certificate(4) == committed[-1].certificate
    more = _commit(resumed, resumed.start(2), 1)
    assert more[0].height == 5 and more[0].block.parent == committed[-1].block.digest
    again.close()


def _make(path, key, validators):  # type: ignore[no-untyped-def]
    from aethel.consensus.ledger import StateRepository

    workload = TransferWorkload(StateRepository(), 4, accounts=4, per_block=2)
    ledger = PersistentLedger(
        StateStore(path), make_genesis(workload.genesis_balances, validators), f"{path}.votes"
    )
    workload.repository = ledger  # type: ignore[assignment]
    services = Services(DirectSignatureChecker(), LedgerValidator(ledger), ledger, ledger, workload)  # type: ignore[arg-type]
    return ledger, Replica(KeySigner("v0", key), validators, services, ReplicaConfig())


@pytest.mark.req("R5.4", "R3.1", "R3.5")
@pytest.mark.parametrize("fault", ["crash:1@400ms-2s", "crash:1@400ms-2500ms:fresh"])
def test_simulated_nodes_persist_in_state_stores_and_survive_restarts(tmp_path, fault) -> None:  # type: ignore[no-untyped-def]
    sim = Simulation(
        SimConfig(validators=4, heights=8, seed=2, faults=(fault,), storage_dir=str(tmp_path))
    )
    result = sim.run()
    assert result.ok, {k: v for k, v in result.checkers.items() if not v["ok"]}
    ledgers = [node.store for node in sim.honest_nodes()]
    assert all(isinstance(ledger, PersistentLedger) for ledger in ledgers)
    for ledger in ledgers:  # each node's own StateStore holds the certified state (R3.2)
        top = ledger.store.height
        assert ledger.store.root == ledger.get_certificate(top).post_root  # type: ignore[union-attr]
    common = set.intersection(*(set(ledger.store.get_heights()) for ledger in ledgers))
    assert len({ledger.store.get_root(max(common)) for ledger in ledgers}) == 1
    if "fresh" in fault:
        assert any(index == 1 for index, *_ in sim.syncs)
