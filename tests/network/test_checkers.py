"""Each checker fails on a history that breaks its rules and passes on one that keeps them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conformance.network.checkers import (
    ChainCheck,
    check_accusation,
    check_agreement,
    check_durability,
    check_liveness,
    check_partition,
)
from conformance.network.contract import REFERENCE_COMMAND, NodeSlot, make_chain
from conformance.network.history import History
from conformance.network.nemesis import Applied, Fault
from conformance.network.run import RunConfig, RunRecord

IDS = ["v000", "v001", "v002", "v003"]
D = {h: f"{h:064x}" for h in range(50)}
R = {h: f"{h + 1000:064x}" for h in range(50)}


def record(*statuses: tuple[float, str, int]) -> RunRecord:
    """A run whose observer saw ``(time, node, height)`` with the canonical digests and roots."""
    setup = make_chain(4, 2, seed=1)
    slots = [
        NodeSlot(n, i, Path("/nonexistent"), 0, 0, {}, REFERENCE_COMMAND, "reference")
        for i, n in enumerate(IDS)
    ]
    history = History(started=0.0)
    for time, node, height in statuses:
        value = {"invoked": time - 0.01, "height": height, "digest": D[height], "root": R[height]}
        history.add("observer", "ok", "status", node, value, at=time)
    return RunRecord(RunConfig(impl=REFERENCE_COMMAND, liveness_bound=10.0), setup, slots, history)


def chain_of(rec: RunRecord, heights: dict[int, list[str]]) -> ChainCheck:
    """Final blocks holding the given transfer ids (as a node would serve them)."""
    for height, ids in heights.items():
        rec.final.blocks[height] = {"block": {"transactions": ids}, "digest": D[height]}
    return ChainCheck(verified_to=max(heights, default=0))


@pytest.mark.req("R2.4", "P8")
def test_agreement_fails_on_two_roots_at_one_height() -> None:
    rec = record((1.0, "v000", 3), (1.1, "v001", 3))
    assert check_agreement(rec).status == "pass"
    rec.history.add("reader", "ok", "balance", "v002", {"height": 3, "root": R[4]}, at=2.0)
    verdict = check_agreement(rec)
    assert verdict.failed and "height 3: 2 roots" in verdict.message


@pytest.mark.req("R5.4")
def test_durability_holds_a_node_to_its_acknowledgement(monkeypatch: pytest.MonkeyPatch) -> None:
    rec = record((1.0, "v000", 5))
    monkeypatch.setattr(
        "conformance.network.checkers.transfer_from_json",
        lambda tx: type("T", (), {"transaction_id": bytes.fromhex(tx)})(),
    )
    chain = chain_of(rec, {5: ["aa" * 32]})
    rec.history.add("client-0", "ok", "confirm", "v001", {"id": "aa" * 32, "height": 5})
    assert check_durability(rec, chain).status == "pass"
    rec.history.add("client-0", "ok", "confirm", "v002", {"id": "bb" * 32, "height": 5})
    verdict = check_durability(rec, chain)
    assert verdict.failed and "v002 acknowledged transfer bbbb" in verdict.message


@pytest.mark.req("R5.4")
def test_durability_fails_when_a_crash_loses_committed_heights() -> None:
    rec = record((1.0, "v001", 9), (3.0, "v001", 4), (3.5, "v001", 12))
    rec.applied.append(Applied(Fault(0, "kill", 1.5, 1.0, ("v001",)), 1.5, 2.5))
    verdict = check_durability(rec, ChainCheck())
    assert verdict.failed and "height 9 before its SIGKILL" in verdict.message
    rec.applied[0] = Applied(Fault(0, "wipe", 1.5, 1.0, ("v001",)), 1.5, 2.5)
    assert check_durability(rec, ChainCheck()).status == "pass"  # a wipe loses data on purpose


@pytest.mark.req("R5.4")
def test_durability_reads_the_first_status_after_the_restart_not_after_the_fault() -> None:
    """The node was ready again at 2.0 s and said height 4 (its store lost 5-9); by the fault's
    end (2.5 s, when the harness had polled it too) it had caught up to 12. The read at
    readiness is the one that shows the loss (mutant ack-before-durable, 952cb74)."""
    rec = record((1.0, "v001", 9), (2.1, "v001", 4), (2.7, "v001", 12))
    rec.applied.append(Applied(Fault(0, "kill", 1.5, 1.0, ("v001",)), 1.5, 2.5))
    rec.restarts["v001"] = [2.0]
    verdict = check_durability(rec, ChainCheck())
    assert verdict.failed and "height 4 after its restart" in verdict.message


@pytest.mark.req("R5.4")
def test_durability_does_not_count_heights_seen_before_a_wipe() -> None:
    """A node wiped, restarted and killed before it caught up may come back at height 0; a
    height it synced to after the wipe is held against it (campaign seed 3005 found this)."""
    rec = record((1.0, "v001", 9), (3.0, "v001", 0), (5.5, "v001", 0), (6.0, "v001", 12))
    rec.applied.append(Applied(Fault(0, "wipe", 1.5, 1.0, ("v001",)), 1.5, 2.5))
    rec.applied.append(Applied(Fault(1, "kill", 3.5, 1.0, ("v001",)), 3.5, 5.0))
    assert check_durability(rec, ChainCheck()).status == "pass"
    rec.history.add("observer", "ok", "status", "v001", {"invoked": 3.1, "height": 7}, at=3.2)
    verdict = check_durability(rec, ChainCheck())
    assert verdict.failed and "height 7 before its SIGKILL" in verdict.message


@pytest.mark.req("R7.6", "P31")
def test_partition_fails_when_a_side_without_quorum_commits() -> None:
    halves = Fault(0, "partition-halves", 2.0, 4.0, (), (("v000", "v001"), ("v002", "v003")))
    rec = record((1.0, "v000", 7), (3.0, "v000", 8), (4.0, "v003", 8))
    rec.applied.append(Applied(halves, 2.0, 6.0, {n: 7 for n in IDS}))
    assert check_partition(rec).status == "pass"  # one height certified before the cut
    rec.history.add("observer", "ok", "status", "v002", {"invoked": 5.0, "height": 10}, at=5.1)
    verdict = check_partition(rec)
    assert verdict.failed and "v002 committed height 10" in verdict.message


@pytest.mark.req("R2.5", "R3.4", "P11")
def test_liveness_fails_when_a_node_stays_behind_after_the_heal() -> None:
    rec = record((20.0, "v000", 11), (21.0, "v001", 11), (22.0, "v002", 11), (23.0, "v003", 9))
    rec.heal_time, rec.heal_height = 19.0, 11
    verdict = check_liveness(rec)
    assert verdict.failed and "v003 did not reach height 11" in verdict.message
    rec.history.add("observer", "ok", "status", "v003", {"invoked": 24.0, "height": 11}, at=24.0)
    assert check_liveness(rec).status == "pass"
    rec.history.add("observer", "ok", "status", "v000", {"invoked": 1, "height": 1}, at=1.0)
    rec.heal_time = None
    assert check_liveness(rec).status == "unknown"


@pytest.mark.req("R4.6", "R4.2")
def test_accusation_fails_on_evidence_against_an_honest_node() -> None:
    rec = record((1.0, "v000", 1))
    rec.final.evidence = {n: [] for n in IDS}
    assert check_accusation(rec).status == "pass"
    found: list[Any] = [{"offender": "v001", "offence": "equivocation", "height": 4}]
    rec.final.evidence["v002"] = found
    verdict = check_accusation(rec)
    assert verdict.failed and "v002 found evidence against v001" in verdict.message
    assert check_accusation(rec, byzantine=frozenset({"v001"})).status == "pass"
