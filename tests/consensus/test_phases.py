"""The replica's states (aethel/consensus/phases.py): the tables are the only steps it takes.

Every (state, event) pair outside a table raises IllegalTransition; a closed height and a view
going back raise too; the replica's own code goes through the tables (a run records the steps it
takes, and a subclass stepping twice is stopped); ARCHITECTURE.md draws exactly these tables.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aethel.consensus.events import Timer
from aethel.consensus.messages import PrePrepare
from aethel.consensus.phases import (
    HEIGHT,
    MACHINES,
    ROUND,
    SYNC,
    VIEW,
    HeightEvent,
    HeightPhase,
    IllegalTransition,
    Machine,
    RoundEvent,
    RoundPhase,
    SyncEvent,
    SyncPhase,
    ViewEvent,
    ViewPhase,
    render_mermaid,
    render_table,
)
from aethel.consensus.replica import Replica
from aethel.consensus.replica_state import HeightState, SyncState
from aethel.consensus.stores import MemoryChainStore
from aethel.errors import AethelError

from .cluster import Cluster, make_cluster

ARCHITECTURE = Path(__file__).resolve().parents[2] / "ARCHITECTURE.md"

STATES_AND_EVENTS: dict[str, tuple[type[Any], type[Any]]] = {
    "round": (RoundPhase, RoundEvent),
    "height": (HeightPhase, HeightEvent),
    "view": (ViewPhase, ViewEvent),
    "sync": (SyncPhase, SyncEvent),
}


def _pairs(machine: Machine[Any, Any]) -> Iterator[tuple[Any, Any]]:
    states, events = STATES_AND_EVENTS[machine.name]
    return itertools.product(list(states), list(events))


@pytest.mark.parametrize("machine", MACHINES, ids=lambda m: m.name)
def test_a_step_outside_the_table_raises_a_typed_error(machine: Machine[Any, Any]) -> None:
    table = {(row.source, row.event): row.target for row in machine.transitions}
    refused = 0
    for state, event in _pairs(machine):
        if (state, event) in table:
            assert machine.next(state, event) is table[(state, event)]
            continue
        with pytest.raises(IllegalTransition) as raised:
            machine.next(state, event)
        assert isinstance(raised.value, AethelError)
        assert (raised.value.state, raised.value.event) == (state, event)
        refused += 1
    assert refused > 0  # every machine forbids something


def test_the_tables_forbid_what_pbft_forbids() -> None:
    # No vote-less shortcuts: a round is prepared only from accepted, accepted only from
    # verifying; a waiting view is not timed out; a height closes once.
    assert not ROUND.allows(RoundPhase.AWAITING_PROPOSAL, RoundEvent.PREPARE_CERTIFICATE)
    assert not ROUND.allows(RoundPhase.AWAITING_PROPOSAL, RoundEvent.ACCEPT)
    assert not ROUND.allows(RoundPhase.PREPARED, RoundEvent.PROPOSAL)
    assert not VIEW.allows(ViewPhase.CHANGING, ViewEvent.TIMEOUT)
    assert not VIEW.allows(ViewPhase.ACTIVE, ViewEvent.QUORUM_ASKED)
    assert not VIEW.allows(ViewPhase.ACTIVE, ViewEvent.RESEND)
    assert not HEIGHT.allows(HeightPhase.COMMITTED, HeightEvent.COMMIT)
    assert not HEIGHT.allows(HeightPhase.SYNCED, HeightEvent.COMMIT)
    assert not SYNC.allows(SyncPhase.IN_STEP, SyncEvent.CAUGHT_UP)


def test_a_closed_height_takes_no_step() -> None:
    state = HeightState.open(3, MemoryChainStore())
    state.step_round(0, RoundEvent.PROPOSAL)
    state.close(HeightEvent.COMMIT)
    assert state.phase is HeightPhase.COMMITTED
    with pytest.raises(IllegalTransition):
        state.step_round(0, RoundEvent.ACCEPT)
    with pytest.raises(IllegalTransition):
        state.step_view(ViewEvent.TIMEOUT, 1)
    with pytest.raises(IllegalTransition):
        state.close(HeightEvent.SYNC)


def test_a_view_never_goes_back_and_stays_only_when_the_table_says() -> None:
    state = HeightState.open(1, MemoryChainStore())
    with pytest.raises(IllegalTransition):
        state.step_view(ViewEvent.TIMEOUT, 0)  # a timeout moves on
    state.step_view(ViewEvent.TIMEOUT, 1)
    assert (state.view, state.view_phase) == (1, ViewPhase.CHANGING)
    with pytest.raises(IllegalTransition):
        state.step_view(ViewEvent.RESEND, 2)  # a re-send stays in its view
    state.step_view(ViewEvent.JOIN, 3)
    with pytest.raises(IllegalTransition):
        state.step_view(ViewEvent.NEW_VIEW, 2)  # never back
    state.step_view(ViewEvent.QUORUM_ASKED, 3)
    assert state.established and state.view_phase is ViewPhase.AWAITING_NEW_VIEW
    state.step_view(ViewEvent.NEW_VIEW, 3)
    assert state.view_phase is ViewPhase.ACTIVE


def _record_steps(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str]]:
    steps: list[tuple[str, str, str]] = []
    original = Machine.next

    def recording(self: Machine[Any, Any], state: Any, event: Any) -> Any:
        found = original(self, state, event)
        steps.append((self.name, str(state), str(event)))
        return found

    monkeypatch.setattr(Machine, "next", recording)
    return steps


def _leader_down(mode: str) -> tuple[Cluster, str]:
    cluster = make_cluster(4, mode)  # type: ignore[arg-type]
    leader = cluster.validators.get_leader(1, 0).id
    cluster.down.add(leader)
    return cluster, leader


@pytest.mark.req("R2.6", "R2.3", "P10")
@pytest.mark.parametrize("mode", ["broadcast", "collector"])
def test_a_height_with_a_view_change_walks_the_tables(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = _record_steps(monkeypatch)
    cluster, leader = _leader_down(mode)
    name = next(n for n in sorted(cluster.replicas) if n != leader)
    replica = cluster.replicas[name]
    first = replica.current
    cluster.start()
    cluster.run()
    assert first.round_phase(0) is RoundPhase.AWAITING_PROPOSAL  # the leader is silent
    cluster.fire_timers()  # every live validator times view 0 out
    cluster.run()
    cluster.fire_timers()  # view 1 asked for: its timer (or re-send) if it did not commit yet
    cluster.run()
    assert cluster.committed_heights(name)[:1] == [1]
    assert first.phase is HeightPhase.COMMITTED and replica.current is not first
    assert replica.current.height > 1  # later heights went on while their leaders were up
    taken = set(steps)
    assert ("view", "active", "timeout") in taken
    assert ("view", "changing", "new-view") in taken or (
        "view",
        "awaiting-new-view",
        "new-view",
    ) in taken
    for step in ("proposal", "accept"):
        assert ("round", "awaiting-proposal", step) in taken or (
            "round",
            "verifying",
            step,
        ) in taken
    assert ("round", "accepted", "prepare-certificate") in taken
    assert ("height", "open", "commit") in taken
    # Every step taken is a row of its table (the recording wrapped the checked lookup).
    rows = {(m.name, str(r.source), str(r.event)) for m in MACHINES for r in m.transitions}
    assert taken <= rows


def test_a_refused_proposal_sends_its_round_back_to_awaiting_one() -> None:
    cluster = make_cluster(4, "broadcast")
    leader = cluster.validators.get_leader(1, 0).id
    replica = next(r for n, r in sorted(cluster.replicas.items()) if n != leader)
    proposer = cluster.replicas[leader]
    block = proposer._build_block()
    # A block that does not extend the chain (R3.3) is refused before any proof is verified.
    bad = type(block).create(
        proposer.signer,
        1,
        b"\x01" * 32,
        list(block.transactions),
        list(block.proofs),
        [],
        None,
    )
    replica.on_message(PrePrepare.create(proposer.signer, 0, bad), 1)
    assert replica.current.round_phase(0) is RoundPhase.AWAITING_PROPOSAL
    assert bad.digest in replica.current.refused and 0 not in replica.proposals
    good = PrePrepare.create(proposer.signer, 0, block)
    replica.on_message(good, 2)
    assert replica.current.round_phase(0) is RoundPhase.ACCEPTED
    assert replica.proposals[0].digest == good.digest


def test_a_replica_whose_code_prepares_a_view_twice_is_stopped() -> None:
    cluster = make_cluster(4, "broadcast")
    cluster.start()
    replica = cluster.replicas["v000"]
    while replica.current.round_phase(0) is not RoundPhase.PREPARED:
        cluster.step()
    cert = replica.prepared
    assert cert is not None
    with pytest.raises(IllegalTransition):
        replica._on_prepared(cert)  # prepared is not a state a prepare certificate leaves


def test_a_validator_timing_out_alone_resends_in_its_view(monkeypatch: pytest.MonkeyPatch) -> None:
    steps = _record_steps(monkeypatch)
    cluster = make_cluster(4, "collector")
    cluster.start()
    replica: Replica = cluster.replicas["v000"]
    replica.on_timer(Timer(1, 0), 60 * 10**9)
    assert replica.current.view_phase is ViewPhase.CHANGING
    replica.on_timer(Timer(1, 1), 10**12)
    assert ("view", "changing", "resend") in steps and replica.view == 1


def test_the_sync_phase_follows_requests_and_adoptions() -> None:
    sync = SyncState()
    sync.step(SyncEvent.REQUEST, 7)
    assert (sync.phase, sync.target) == (SyncPhase.SYNCING, 7)
    sync.step(SyncEvent.ADOPTED)
    assert (sync.phase, sync.target) == (SyncPhase.IN_STEP, 0)
    with pytest.raises(IllegalTransition):
        sync.step(SyncEvent.CAUGHT_UP)


def _between(text: str, start: str, end: str) -> str:
    head = text.index(start) + len(start)
    return text[head : text.index(end, head)].strip("\n")


def test_architecture_draws_exactly_the_tables_in_code() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    drawn = _between(text, "<!-- phases:mermaid -->", "<!-- /phases:mermaid -->")
    assert drawn == render_mermaid(), "regenerate with aethel.consensus.phases.render_mermaid()"
    table = _between(text, "<!-- phases:table -->", "<!-- /phases:table -->")
    assert table == render_table(), "regenerate with aethel.consensus.phases.render_table()"
