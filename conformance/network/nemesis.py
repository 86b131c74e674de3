"""The nemesis: a seeded schedule of faults, and the task that carries it out.

One seed fixes the schedule (:func:`make_schedule`): which faults, in which order, when, for how
long and against whom. Faults come one after another (a short calm between two), each healed
before the next, so at most one node is down, paused or wiped at a time (f >= 1 from 4
validators). The first round of the schedule holds every nemesis asked for, in an order the seed
shuffles; later rounds draw at random. Kinds:

* ``partition-halves``: two halves (neither holds q(W) with equal stakes);
* ``partition-majority``: a side with q(W) and a minority without;
* ``partition-one-way``: one node's frames to every other node are dropped (it still hears them);
* ``partition-bridge``: two sides that reach each other only through one bridge node;
* ``delay``, ``loss``, ``duplicate``, ``reorder``: on every link, at the fault's rate;
* ``kill``: SIGKILL of one node (the current leader with probability 0.4), restarted later;
* ``pause``: SIGSTOP of one node, SIGCONT at the end;
* ``wipe``: SIGKILL, the node's data directory deleted, restarted later (it lost its journal).

Processes and timing are real, so a seed gives the same schedule, not the same interleaving. A
target chosen at run time (``@leader``) is resolved when the fault starts and the resolved
schedule is what a replay file keeps (:mod:`conformance.network.replay`).

**Anchored to heights.** Each fault as carried out also records the highest height a node had
committed when it started (``at_height``) and how long after that height was first seen
(``after_height_s``). A replay starts a fault that carries them when the cluster is there, not at
the second it started before, sooner or later: when the highest height reaches ``at_height`` and
``after_height_s`` have passed since it was first seen (at once if the cluster is already past
it; near it the nemesis asks every node's height itself, every few milliseconds, instead of
reading the observer's polls), after the calm that follows the previous fault; if the cluster
has not got there
:data:`ANCHOR_SLACK_S` after the recorded start time, the fault starts anyway and its record
says so. What a fault meets (which height, whose leadership, a barred leader's views) decides
the failures that are about time, so a replay that repeats the seconds but not the heights does
not repeat them (seeds 1028, 3017, 3027 of reports/network/README.md replayed "not reproduced").
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from conformance.network.history import History
from conformance.network.proxy import LinkFaults, Proxy

NEMESES = (
    "partition-halves",
    "partition-majority",
    "partition-one-way",
    "partition-bridge",
    "delay",
    "loss",
    "duplicate",
    "reorder",
    "kill",
    "pause",
    "wipe",
)
PARTITIONS = frozenset(n for n in NEMESES if n.startswith("partition-"))
PROCESS_FAULTS = frozenset({"kill", "pause", "wipe"})
LEADER = "@leader"
#: Calm before the first fault (the workload gets going) and between faults (seconds).
WARMUP_S = 3.0
GAP_S = (1.0, 2.5)
#: Least calm after a fault ends (a restart may take longer than the schedule's gap).
MIN_CALM_S = 1.0
#: An anchored fault starts by time this long after its recorded start if the cluster has not
#: reached its height by then (module docstring).
ANCHOR_SLACK_S = 30.0
#: How often an anchored fault looks at the cluster's height while it waits.
ANCHOR_POLL_S = 0.05
#: Within this many heights of its anchor a waiting fault asks the nodes' heights itself, at
#: once and again every ANCHOR_NEAR_POLL_S, instead of reading the observer's (every 0.25 s a
#: node: at 25 heights a second that overshoots by several heights).
ANCHOR_NEAR = 20
ANCHOR_NEAR_POLL_S = 0.005


@dataclass(frozen=True, slots=True)
class Fault:
    """One fault of the schedule: ``kind`` from ``start_s`` for ``duration_s`` seconds."""

    index: int
    kind: str
    start_s: float
    duration_s: float
    #: Nodes it acts on (kill, pause, wipe, one-way: one node; bridge: the bridge).
    targets: tuple[str, ...] = ()
    #: Sides of a partition (each a tuple of node ids).
    sides: tuple[tuple[str, ...], ...] = ()
    params: dict[str, Any] = field(default_factory=dict)
    #: As carried out: the highest committed height when it started, and the seconds since that
    #: height was first seen (None in a schedule not yet run; module docstring).
    at_height: int | None = None
    after_height_s: float | None = None

    def to_json(self) -> dict[str, Any]:
        value = asdict(self)
        value["targets"] = list(self.targets)
        value["sides"] = [list(side) for side in self.sides]
        return value

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Fault:
        return cls(
            index=int(value["index"]),
            kind=str(value["kind"]),
            start_s=float(value["start_s"]),
            duration_s=float(value["duration_s"]),
            targets=tuple(value.get("targets", ())),
            sides=tuple(tuple(side) for side in value.get("sides", ())),
            params=dict(value.get("params", {})),
            at_height=None if value.get("at_height") is None else int(value["at_height"]),
            after_height_s=None
            if value.get("after_height_s") is None
            else float(value["after_height_s"]),
        )


def parse_nemeses(text: list[str] | None) -> tuple[str, ...]:
    """``--nemesis`` values (repeatable, comma lists, ``all``/``none``) -> kinds, in order."""
    chosen: list[str] = []
    for item in text or ["all"]:
        for name in (part.strip() for part in item.split(",")):
            if not name:
                continue
            if name == "all":
                chosen.extend(NEMESES)
            elif name == "none":
                continue
            elif name == "partition":
                chosen.extend(sorted(PARTITIONS))
            elif name in NEMESES:
                chosen.append(name)
            else:
                raise ValueError(
                    f"unknown nemesis {name!r}; choose from {', '.join(NEMESES)}, partition, "
                    "all, none"
                )
    return tuple(dict.fromkeys(chosen))


def _fault(rng: random.Random, index: int, kind: str, start: float, ids: list[str]) -> Fault:
    n = len(ids)
    shuffled = list(ids)
    rng.shuffle(shuffled)
    quorum_count = (2 * n) // 3 + 1  # equal stakes: q(W) as a count
    duration = round(rng.uniform(2.0, 5.0), 2)
    if kind == "partition-halves":
        half = n // 2
        return Fault(
            index, kind, start, duration, (), (tuple(shuffled[:half]), tuple(shuffled[half:]))
        )
    if kind == "partition-majority":
        return Fault(
            index,
            kind,
            start,
            duration,
            (),
            (tuple(shuffled[:quorum_count]), tuple(shuffled[quorum_count:])),
        )
    if kind == "partition-one-way":
        return Fault(index, kind, start, duration, (shuffled[0],))
    if kind == "partition-bridge":
        rest = shuffled[1:]
        half = len(rest) // 2
        return Fault(
            index, kind, start, duration, (shuffled[0],), (tuple(rest[:half]), tuple(rest[half:]))
        )
    if kind == "delay":
        params: dict[str, Any] = {
            "delay_ms": rng.randrange(20, 200),
            "jitter_ms": rng.randrange(0, 60),
        }
        return Fault(index, kind, start, duration, params=params)
    if kind == "loss":
        return Fault(
            index, kind, start, duration, params={"loss": round(rng.uniform(0.05, 0.2), 3)}
        )
    if kind == "duplicate":
        params = {"duplicate": round(rng.uniform(0.1, 0.3), 3)}
        return Fault(index, kind, start, duration, params=params)
    if kind == "reorder":
        return Fault(
            index, kind, start, duration, params={"reorder": round(rng.uniform(0.1, 0.3), 3)}
        )
    if kind in ("kill", "wipe"):
        target = LEADER if rng.random() < 0.4 else shuffled[0]
        down = round(rng.uniform(0.3, 3.0), 2)
        return Fault(index, kind, start, down, (target,))
    if kind == "pause":
        return Fault(index, kind, start, round(rng.uniform(1.0, 4.0), 2), (shuffled[0],))
    raise ValueError(f"unknown nemesis {kind!r}")


def make_schedule(
    seed: int, ids: list[str], nemeses: tuple[str, ...], duration: float
) -> list[Fault]:
    """The faults of ``seed`` (see the module docstring); none start after ``duration - 2``."""
    rng = random.Random(f"aethel-nemesis/{seed}")
    kinds = [k for k in nemeses if not (k in PARTITIONS and len(ids) < 2)]
    if len(ids) < 3:
        kinds = [k for k in kinds if k != "partition-bridge"]
    if not kinds:
        return []
    order = list(kinds)
    rng.shuffle(order)
    faults: list[Fault] = []
    t = WARMUP_S
    while True:
        kind = order[len(faults)] if len(faults) < len(order) else rng.choice(kinds)
        fault = _fault(rng, len(faults), kind, round(t, 2), ids)
        if t + fault.duration_s > duration - 1.0:
            break
        faults.append(fault)
        t += fault.duration_s + rng.uniform(*GAP_S)
    return faults


def lacks_quorum(side: tuple[str, ...], total: int) -> bool:
    """True if ``side`` holds less than q(W) (equal stakes: a count)."""
    return len(side) < (2 * total) // 3 + 1


@dataclass
class Applied:
    """A fault as it happened: resolved targets, real start and end (run seconds)."""

    fault: Fault
    started: float
    ended: float | None = None
    #: Heights every node answered right after a partition started (R7.6 bound).
    cut_heights: dict[str, int] = field(default_factory=dict)
    note: str = ""


class Nemesis:
    """Carries a schedule out on the proxy and the node processes."""

    def __init__(
        self,
        schedule: list[Fault],
        ids: list[str],
        proxy: Proxy,
        processes: dict[str, Any],
        history: History,
        *,
        leader: Callable[[], Awaitable[str | None]],
        heights: Callable[[], Awaitable[dict[str, int]]],
        restart: Callable[[str], Awaitable[None]],
        progress: Callable[[], tuple[int, float]] = lambda: (0, 0.0),
        anchored: bool = False,
    ) -> None:
        """``progress`` says the highest height committed so far and when (run seconds) it was
        first seen; ``anchored`` starts faults that recorded a height when the cluster is there
        (a replay; module docstring)."""
        self.schedule = schedule
        self.ids = ids
        self.proxy = proxy
        self.processes = processes
        self.history = history
        self.leader = leader
        self.heights = heights
        self.restart = restart
        self.progress = progress
        self.anchored = anchored
        self.applied: list[Applied] = []
        self._active: Applied | None = None
        self._note = ""

    async def run(self, stop: asyncio.Event) -> None:
        """Carry the schedule out; fault times count from the call (the workload's start)."""
        origin = self.history.now()
        for fault in self.schedule:
            if await self._until_start(fault, origin, stop):
                return
            applied = await self._start(fault)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), applied.fault.duration_s)
            await self._end(applied)
            if stop.is_set():
                return

    async def _until_start(self, fault: Fault, origin: float, stop: asyncio.Event) -> bool:
        """Wait until ``fault`` is due (module docstring); True if the run stopped first."""
        anchor = fault.at_height if self.anchored else None
        # An anchored fault waits for its height, not its second (sooner or later than it).
        delay = 0.0 if anchor is not None else origin + fault.start_s - self.history.now()
        if self.applied:  # a fault whose end took long (a restart) still gets its calm
            delay = max(delay, MIN_CALM_S)
        if await _wait(stop, delay):
            return True
        if anchor is None:
            return False
        latest = origin + fault.start_s + ANCHOR_SLACK_S
        while True:
            height, reached = self.progress()
            near = anchor - height <= ANCHOR_NEAR
            if near:
                await self.heights()  # polls every node: the observer's progress is fresh
                height, reached = self.progress()
            now = self.history.now()
            if height > anchor or (
                height == anchor and now - reached >= (fault.after_height_s or 0.0)
            ):
                return False
            if now >= latest:
                value = {"index": fault.index, "at_height": anchor, "height": height}
                self.history.add("nemesis", "info", "anchor-missed", None, value)
                self._note = f"height {anchor} not reached ({height}): started by time"
                return False
            if await _wait(stop, ANCHOR_NEAR_POLL_S if near else ANCHOR_POLL_S):
                return True

    async def heal(self) -> None:
        """End the active fault, if any (the run's end)."""
        if self._active is not None:
            await self._end(self._active)

    async def _start(self, fault: Fault) -> Applied:
        if LEADER in fault.targets:
            leader = await self.leader()  # asked now: the leader changes every height
            target = leader if leader in self.ids else self.ids[fault.index % len(self.ids)]
            fault = replace(fault, targets=(target,), params={**fault.params, "leader": True})
        if fault.kind == "kill":
            # Every node's height just before the SIGKILL: what the durability checker holds
            # the restarted node to (R5.4). The observer's last poll may be 0.25 s old, heights
            # behind, and a store that loses its last few heights would go unseen.
            await self.heights()
        height, reached = self.progress()
        now = self.history.now()
        fault = replace(fault, at_height=height, after_height_s=round(max(0.0, now - reached), 2))
        applied = Applied(fault, now, note=self._note)
        self._note = ""
        self._active = applied
        self.applied.append(applied)
        value = {"kind": fault.kind, "phase": "start", **fault.to_json()}
        self.history.add("nemesis", "info", "nemesis", None, value)
        kind = fault.kind
        if kind in PARTITIONS:
            self._partition(fault)
            if kind in ("partition-halves", "partition-majority"):
                applied.cut_heights = await self.heights()
        elif kind in ("delay", "loss", "duplicate", "reorder"):
            faults = LinkFaults(
                delay_ms=int(fault.params.get("delay_ms", 0)),
                jitter_ms=int(fault.params.get("jitter_ms", 0)),
                loss=float(fault.params.get("loss", 0.0)),
                duplicate=float(fault.params.get("duplicate", 0.0)),
                reorder=float(fault.params.get("reorder", 0.0)),
            )
            for a in self.ids:
                for b in self.ids:
                    if a != b:
                        self.proxy.set_faults((a, b), faults)
        elif kind in ("kill", "wipe"):
            process = self.processes[fault.targets[0]]
            await process.kill()
            if kind == "wipe":
                process.wipe()
        elif kind == "pause":
            self.processes[fault.targets[0]].pause()
        return applied

    def _partition(self, fault: Fault) -> None:
        proxy = self.proxy
        if fault.kind == "partition-one-way":
            source = fault.targets[0]
            for other in self.ids:
                if other != source:
                    proxy.set_faults((source, other), LinkFaults(drop=True))
            return
        first, second = fault.sides
        for a in first:
            for b in second:
                proxy.cut(a, b)

    async def _end(self, applied: Applied) -> None:
        if applied.ended is not None:
            return
        fault = applied.fault
        if fault.kind in PARTITIONS:
            self.proxy.heal_cuts()
            self.proxy.clear_faults()
        elif fault.kind in ("delay", "loss", "duplicate", "reorder"):
            self.proxy.clear_faults()
        elif fault.kind in ("kill", "wipe"):
            await self.restart(fault.targets[0])
        elif fault.kind == "pause":
            self.processes[fault.targets[0]].resume()
        applied.ended = self.history.now()
        self._active = None
        value = {"kind": fault.kind, "phase": "end", "index": fault.index}
        self.history.add("nemesis", "info", "nemesis", None, value)


async def _wait(stop: asyncio.Event, seconds: float) -> bool:
    """Wait ``seconds`` (nothing if <= 0) or until ``stop``; True if it stopped."""
    if seconds > 0:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)
    return stop.is_set()


__all__ = [
    "ANCHOR_SLACK_S",
    "LEADER",
    "NEMESES",
    "PARTITIONS",
    "Applied",
    "Fault",
    "Nemesis",
    "lacks_quorum",
    "make_schedule",
    "parse_nemeses",
]
