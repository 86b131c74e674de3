"""The simulator running protocol version 2 (spec/consensus-v2.md): a cluster that starts in
version 2 and one that moves from version 1 to version 2 at a height keep committing under
WAN-7, with every checker passing (V2.1, V2.2, V2.7, V2.8), faults and Byzantine validators
included, and the same seed gives the same trace."""

from __future__ import annotations

import pytest

from aethel.consensus.history import HistoryAnchor, get_history
from aethel.consensus.history_verifier import HistoryVerifier
from aethel.proofs.verifier import verify_proof
from aethel.sim.scenarios import config_from_json, config_to_json
from aethel.sim.simulator import SimConfig, Simulation


def _run(config: SimConfig) -> tuple[Simulation, object]:
    sim = Simulation(config)
    return sim, sim.run()


@pytest.mark.req("V2.1", "V2.7", "V2.8", "P8", "P9")
@pytest.mark.parametrize("mode", ["collector", "broadcast"])
@pytest.mark.parametrize("activation", [1, 3])
def test_a_cluster_commits_in_the_version_of_each_height(mode: str, activation: int) -> None:
    config = SimConfig(
        validators=7,
        mode=mode,
        heights=5,
        seed=4,
        protocol_v2_height=activation,  # type: ignore[arg-type]
    )
    sim, result = _run(config)
    assert result.ok, result.checkers  # type: ignore[attr-defined]
    assert result.heights_committed >= 5  # type: ignore[attr-defined]
    versions = {
        record.height: record.committed.certificate.version for record in sim.engine.commits
    }
    assert versions == {h: 2 if h >= activation else 1 for h in versions}
    assert result.to_json()["config"]["protocol_v2_height"] == activation  # type: ignore[attr-defined]


@pytest.mark.req("V2.1", "P8")
def test_the_same_seed_gives_the_same_trace_and_replays_from_its_file() -> None:
    config = SimConfig(validators=4, heights=3, seed=9, protocol_v2_height=2)
    first = _run(config)[1]
    again = _run(config_from_json(config_to_json(config)))[1]
    assert first.trace_hash == again.trace_hash  # type: ignore[attr-defined]


@pytest.mark.req("V2.8", "R4.2", "P7", "P8")
@pytest.mark.parametrize(
    ("behaviour", "fault"),
    [
        ("double-vote", None),
        ("forge-certificate", None),
        ("silent", "crash:2@700ms-3500ms:fresh"),
        (None, "late:3@2s"),
    ],
)
def test_byzantine_validators_and_faults_across_the_switch(
    behaviour: str | None, fault: str | None
) -> None:
    config = SimConfig(
        validators=7,
        heights=5,
        seed=3,
        byzantine=() if behaviour is None else ((behaviour, 2 / 7),),
        faults=() if fault is None else (fault,),
        per_block=2,
        protocol_v2_height=2,
    )
    result = _run(config)[1]
    assert result.ok, result.checkers  # type: ignore[attr-defined]


def test_a_version_1_run_says_nothing_of_version_2() -> None:
    result = _run(SimConfig(validators=4, heights=2, seed=1))[1]
    document = result.to_json()  # type: ignore[attr-defined]
    assert "protocol_v2_height" not in document["config"]
    assert "bls" not in document["memoization"]


@pytest.mark.req("V2.2", "V2.8", "R3.3")
@pytest.mark.parametrize("activation", [1, 3])
def test_every_honest_history_across_the_switch_verifies_height_by_height(
    activation: int,
) -> None:
    """A history verifier checks each block, certificate and evidence record in its height's
    version (V2.2): every honest node's whole history verifies; read with the other activation
    height, the same history is refused naming V2.2."""
    config = SimConfig(
        validators=5,
        heights=4,
        seed=0,
        per_block=2,
        accounts=8,
        byzantine=(("double-vote", 0.2),),
        protocol_v2_height=activation,
    )
    sim, result = _run(config)
    assert result.ok, result.checkers  # type: ignore[attr-defined]
    anchor = HistoryAnchor.genesis(sim.genesis)
    genesis_root = sim.ledger_executor.genesis_root()
    checked = 0
    for node in sim.engine.nodes:
        latest = node.store.latest()
        if not node.honest or latest is None:
            continue
        history = get_history(node.store, 1, latest.height, sim.repository, genesis_root)
        verdict = HistoryVerifier(sim.validators, verify=verify_proof).check(anchor, history)
        assert verdict.accepted, (node.index, verdict.rule_id, verdict.reason)
        assert verdict.root == latest.post_root
        other = 5 - activation  # 1 <-> 4, 3 <-> 2: some height changes version
        wrong = HistoryVerifier(sim.validators, verify=verify_proof, activation=other)
        refused = wrong.check(anchor, history)
        assert not refused.accepted and refused.rule_id == "V2.2", refused
        checked += 1
    assert checked >= 3
