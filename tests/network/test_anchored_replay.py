"""A replayed fault starts at the height it met before, not at the same second.

The nemesis runs here against a proxy that only records what it is told and a height the test
moves by hand (no node processes: what is under test is when each fault starts). The real-process
side is reports/network/README.md's replays of seeds whose failure was a deadline.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from conformance.network import nemesis as nemesis_module
from conformance.network.history import History
from conformance.network.nemesis import MIN_CALM_S, Fault, Nemesis

IDS = ["v000", "v001", "v002", "v003"]


class RecordingProxy:
    """Records link faults set and cleared (all the nemesis asks of a proxy for ``delay``)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def set_faults(self, link: tuple[str, str], faults: Any) -> None:
        self.calls.append("set")

    def clear_faults(self) -> None:
        self.calls.append("clear")


class Chain:
    """The cluster's progress as the observer reports it: (highest height, when first seen)."""

    def __init__(self, history: History) -> None:
        self.history = history
        self.height, self.at = 1, 0.0

    def commit(self, height: int) -> None:
        self.height, self.at = height, self.history.now()

    def progress(self) -> tuple[int, float]:
        return self.height, self.at


async def _nothing(*_: Any) -> Any:
    return {}


def _nemesis(schedule: list[Fault], chain: Chain, *, anchored: bool) -> Nemesis:
    return Nemesis(
        schedule,
        IDS,
        RecordingProxy(),  # type: ignore[arg-type]
        {},
        chain.history,
        leader=_nothing,
        heights=_nothing,
        restart=_nothing,
        progress=chain.progress,
        anchored=anchored,
    )


def _delay(start_s: float, at_height: int | None = None, after_s: float | None = None) -> Fault:
    params = {"delay_ms": 5}
    return Fault(
        0, "delay", start_s, 0.05, params=params, at_height=at_height, after_height_s=after_s
    )


async def _run(nemesis: Nemesis, chain: Chain, moves: list[tuple[float, int]]) -> None:
    """Run ``nemesis`` while the chain commits ``moves`` (at run second, height)."""
    stop = asyncio.Event()

    async def chain_moves() -> None:
        for at, height in moves:
            await asyncio.sleep(max(0.0, at - chain.history.now()))
            chain.commit(height)

    mover = asyncio.create_task(chain_moves())
    await asyncio.wait_for(nemesis.run(stop), 10.0)
    mover.cancel()


def test_a_fault_records_the_height_it_met() -> None:
    history = History()
    chain = Chain(history)
    nemesis = _nemesis([_delay(0.3)], chain, anchored=False)
    asyncio.run(_run(nemesis, chain, [(0.1, 7)]))
    (applied,) = nemesis.applied
    assert applied.fault.at_height == 7
    assert applied.fault.after_height_s is not None
    assert 0.1 <= applied.fault.after_height_s <= 0.4
    # A replay file keeps the faults as carried out (replay.resolved_schedule): the height too.
    assert applied.fault.to_json()["at_height"] == 7
    assert Fault.from_json(applied.fault.to_json()) == applied.fault


def test_a_replayed_fault_waits_for_its_height() -> None:
    """Recorded at 0.1 s on height 9: the replay's chain gets to 9 at 0.6 s; the fault starts
    then, not at 0.1 s."""
    history = History()
    chain = Chain(history)
    nemesis = _nemesis([_delay(0.1, at_height=9, after_s=0.0)], chain, anchored=True)
    asyncio.run(_run(nemesis, chain, [(0.3, 8), (0.6, 9)]))
    (applied,) = nemesis.applied
    assert 0.6 <= applied.started < 0.9
    assert applied.fault.at_height == 9 and not applied.note


def test_a_replayed_fault_keeps_its_offset_within_the_height() -> None:
    history = History()
    chain = Chain(history)
    nemesis = _nemesis([_delay(0.0, at_height=3, after_s=0.5)], chain, anchored=True)
    asyncio.run(_run(nemesis, chain, [(0.2, 3)]))
    assert 0.7 <= nemesis.applied[0].started < 1.0


def test_a_replayed_fault_starts_sooner_when_the_chain_gets_there_sooner() -> None:
    """Recorded at 0.8 s on height 4; the replay's chain is there at 0.2 s."""
    history = History()
    chain = Chain(history)
    nemesis = _nemesis([_delay(0.8, at_height=4, after_s=0.0)], chain, anchored=True)
    asyncio.run(_run(nemesis, chain, [(0.2, 4)]))
    assert 0.2 <= nemesis.applied[0].started < 0.5


def test_a_replayed_fault_starts_at_once_when_the_chain_is_past_its_height() -> None:
    history = History()
    chain = Chain(history)
    chain.height = 12
    schedule = [_delay(0.5, at_height=9, after_s=3.0), replace(_delay(0.9, at_height=10), index=1)]
    nemesis = _nemesis(schedule, chain, anchored=True)
    asyncio.run(_run(nemesis, chain, []))
    first, second = nemesis.applied
    assert first.started < 0.2
    # The second after the first's end and the calm between faults, nothing more.
    assert first.ended is not None
    assert MIN_CALM_S <= second.started - first.ended < MIN_CALM_S + 0.3


def test_a_replayed_fault_starts_by_time_when_its_height_never_comes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(nemesis_module, "ANCHOR_SLACK_S", 0.4)
    history = History()
    chain = Chain(history)
    nemesis = _nemesis([_delay(0.1, at_height=50)], chain, anchored=True)
    asyncio.run(_run(nemesis, chain, []))
    (applied,) = nemesis.applied
    assert 0.5 <= applied.started < 0.8
    assert "height 50 not reached" in applied.note
    assert [op.f for op in history.ops].count("anchor-missed") == 1


def test_a_run_that_is_not_a_replay_keeps_the_schedules_seconds() -> None:
    history = History()
    chain = Chain(history)
    nemesis = _nemesis([_delay(0.2, at_height=50)], chain, anchored=False)
    asyncio.run(_run(nemesis, chain, []))
    assert 0.2 <= nemesis.applied[0].started < 0.4


def test_near_its_height_a_replayed_fault_asks_the_nodes_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The observer reads each node every 0.25 s; at 25 heights a second that overshoots an
    anchor by several heights (seed 502: recorded at 82, replayed at 86). Within ANCHOR_NEAR
    heights the nemesis polls the nodes itself: here only its own poll sees height 82."""
    monkeypatch.setattr(nemesis_module, "ANCHOR_SLACK_S", 1.0)
    history = History()
    chain = Chain(history)
    chain.height = 80
    polls: list[float] = []

    async def poll_nodes() -> dict[str, int]:
        polls.append(history.now())
        if len(polls) == 3:
            chain.commit(82)
        return {}

    nemesis = _nemesis([_delay(0.0, at_height=82, after_s=0.0)], chain, anchored=True)
    nemesis.heights = poll_nodes
    asyncio.run(_run(nemesis, chain, []))
    (applied,) = nemesis.applied
    assert len(polls) == 3 and applied.started < 0.5 and not applied.note


def test_the_nodes_heights_are_read_just_before_a_kill() -> None:
    """The durability checker holds a restarted node to the height it reported before its
    SIGKILL (R5.4); the observer's last read may be 0.25 s old, so the nemesis reads every
    node's height itself right before the kill (mutant ack-before-durable escaped without)."""
    history = History()
    chain = Chain(history)
    polls: list[float] = []
    events: list[str] = []

    async def poll_nodes() -> dict[str, int]:
        polls.append(history.now())
        events.append("poll")
        return {}

    class Process:
        async def kill(self) -> None:
            events.append("kill")

    async def restart(node: str) -> None:
        events.append(f"restart {node}")

    nemesis = _nemesis([Fault(0, "kill", 0.1, 0.05, ("v001",))], chain, anchored=False)
    nemesis.heights, nemesis.restart = poll_nodes, restart
    nemesis.processes = {"v001": Process()}
    asyncio.run(_run(nemesis, chain, []))
    (applied,) = nemesis.applied
    assert events == ["poll", "kill", "restart v001"]
    assert polls[0] <= applied.started
