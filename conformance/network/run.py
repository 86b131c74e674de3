"""One network run: nodes behind the proxy, a nemesis, a workload, then the checkers' inputs.

:func:`run_network` follows these steps, and whatever happens it leaves no process behind:

1. write a chain (seeded keys) and one home per validator; start the proxy (a listener per
   ordered pair of validators) and every node, each told its peers are at the proxy;
2. wait until every node is ready (NODE.md) and the chain commits;
3. run the workload, the observer and the nemesis's schedule for ``duration`` seconds;
4. heal everything (faults off, paused nodes continued, killed nodes restarted) and give the
   cluster the liveness bound to bring every node past the highest height seen at the heal
   (R2.5, R3.4): derived from the protocol's timeouts and this run's schedule
   (:mod:`conformance.network.bound`), or ``liveness_bound`` seconds if the run sets one;
5. collect what every node holds (headers, blocks, evidence, supply books), stop every node
   with SIGTERM (NODE.md: exit 0 within the grace) and the proxy.

A node that never becomes ready, crashes on start, answers garbage on its API or floods the
proxy stops the run at once; the record says why (:attr:`RunRecord.aborted`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import psutil

from conformance.network.bound import (
    SLACK_S,
    LivenessBound,
    Observed,
    derive_bound,
    override_bound,
)
from conformance.network.cluster import NodeFailure, NodeProcess, kill_all_groups, log_tail
from conformance.network.contract import (
    REFERENCE_COMMAND,
    ChainSetup,
    NodeSlot,
    check_template,
    make_chain,
    write_homes,
)
from conformance.network.history import History
from conformance.network.nemesis import Applied, Fault, Nemesis, make_schedule
from conformance.network.proxy import FLOOD_BYTES_PER_S, Proxy, Violation
from conformance.network.workload import Api, ApiViolation, Observer, Reader, TransferClient


@dataclass(frozen=True, slots=True)
class RunConfig:
    """Everything that decides a run (a replay file holds it)."""

    impl: str
    validators: int = 4
    #: How many of the validators run the reference node (``--mix reference:K``).
    mix: int = 0
    nemeses: tuple[str, ...] = ()
    seed: int = 0
    duration: float = 30.0
    clients: int = 4
    startup_timeout: float = 60.0
    #: Seconds every node has after the last heal; None: derived (:mod:`.bound`).
    liveness_bound: float | None = None
    stop_grace: float = 15.0
    #: Bytes one peer link may carry in a second before its sender floods (N6).
    flood_bytes_per_s: int = FLOOD_BYTES_PER_S
    #: A fixed schedule (replay); None: drawn from the seed.
    schedule: tuple[Fault, ...] | None = None

    def templates(self) -> list[str]:
        """The command template of each slot: the seed chooses which run the reference."""
        rng = random.Random(f"aethel-network-mix/{self.seed}")
        reference = set(rng.sample(range(self.validators), min(self.mix, self.validators)))
        return [
            REFERENCE_COMMAND if index in reference else self.impl
            for index in range(self.validators)
        ]


@dataclass
class FinalState:
    """What every node held at the end."""

    statuses: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    headers: dict[str, dict[int, tuple[str, str]]] = field(default_factory=dict)
    blocks: dict[int, dict[str, Any]] = field(default_factory=dict)
    evidence: dict[str, list[Any] | None] = field(default_factory=dict)
    supply: dict[str, dict[str, Any] | None] = field(default_factory=dict)


@dataclass
class RunRecord:
    """A finished run: its configuration, history, faults and final state."""

    config: RunConfig
    setup: ChainSetup
    slots: list[NodeSlot]
    history: History
    schedule: list[Fault] = field(default_factory=list)
    applied: list[Applied] = field(default_factory=list)
    heal_time: float | None = None
    heal_height: int = 0
    #: The liveness bound the run waited for and the checker judges by (set at the heal).
    liveness: LivenessBound | None = None
    final: FinalState = field(default_factory=FinalState)
    exits: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    restarts: dict[str, list[float]] = field(default_factory=dict)
    aborted: str | None = None
    #: The contract clause a bad node broke (start, api, wire, restart), if it aborted the run.
    abort_kind: str | None = None
    abort_node: str | None = None
    abort_log: str = ""
    api_violations: list[ApiViolation] = field(default_factory=list)
    wire_violations: list[Violation] = field(default_factory=list)
    proxy_stats: dict[str, Any] = field(default_factory=dict)
    ready_s: dict[str, float] = field(default_factory=dict)
    wall_s: float = 0.0
    leftover: list[int] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        return [slot.id for slot in self.slots]

    def kinds(self) -> dict[str, str]:
        return {slot.id: slot.kind for slot in self.slots}


#: Node ports are drawn below Linux's ephemeral range (32768-60999), where the OS hands out the
#: ports of outgoing connections and of listeners on port 0 (the proxy's): a port chosen here
#: and released until the node binds it cannot be taken by one of those in between.
PORT_RANGE = (20_000, 32_000)


def free_ports(count: int, rng: random.Random | None = None) -> list[int]:
    """``count`` distinct ports in :data:`PORT_RANGE` that bind now."""
    rng = rng or random.Random()
    ports: list[int] = []
    while len(ports) < count:
        port = rng.randrange(*PORT_RANGE)
        if port in ports:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        ports.append(port)
    return ports


class Run:
    """The state of a run in progress (see the module docstring)."""

    def __init__(self, config: RunConfig, work_dir: Path) -> None:
        for template in {config.impl, REFERENCE_COMMAND}:
            check_template(template)
        self.config = config
        self.work_dir = work_dir
        self.history = History()
        self.setup = make_chain(config.validators, max(2, config.clients), config.seed)
        self.ids = self.setup.ids
        self.stop = asyncio.Event()
        self.abort: tuple[str, str, str] | None = None
        ports = free_ports(2 * config.validators)
        self.proxy = Proxy(
            self.ids,
            {node: ports[2 * i] for i, node in enumerate(self.ids)},
            config.seed,
            clock=self.history.now,
            on_violation=self._wire_violation,
            flood_bytes_per_s=config.flood_bytes_per_s,
        )
        self._ports = ports
        self.slots: list[NodeSlot] = []
        self.processes: dict[str, NodeProcess] = {}
        self.api_violations: list[ApiViolation] = []
        self.restarts: dict[str, list[float]] = {node: [] for node in self.ids}

    # ------------------------------------------------------------------ aborting

    def _abort(self, kind: str, node: str, reason: str) -> None:
        if self.abort is None:
            self.abort = (kind, node, reason)
        self.stop.set()

    def _wire_violation(self, violation: Violation) -> None:
        self._abort("wire", violation.node, f"{violation.kind}: {violation.detail}")

    def _api_violation(self, violation: ApiViolation) -> None:
        self.api_violations.append(violation)
        self._abort("api", violation.node, violation.detail)

    # ------------------------------------------------------------------ setting up

    async def _prepare(self) -> None:
        await self.proxy.start()
        templates = self.config.templates()
        if self.work_dir.exists():
            shutil.rmtree(self.work_dir)
        for index, node in enumerate(self.ids):
            peers = {b: self.proxy.addresses[(node, b)] for b in self.ids if b != node}
            self.slots.append(
                NodeSlot(
                    id=node,
                    index=index,
                    home=(self.work_dir / f"node-{index}").resolve(),
                    peer_port=self._ports[2 * index],
                    api_port=self._ports[2 * index + 1],
                    peers=peers,
                    template=templates[index],
                    kind="reference" if templates[index] == REFERENCE_COMMAND else "impl",
                )
            )
        write_homes(self.setup, self.slots)
        self.processes = {slot.id: NodeProcess(slot) for slot in self.slots}

    async def _start_all(self, session: aiohttp.ClientSession, record: RunRecord) -> bool:
        for process in self.processes.values():
            try:
                await process.start()
            except NodeFailure as exc:
                self._abort("start", exc.node, f"{exc.kind}: {exc.detail}")
                return False
        waits = [
            process.wait_ready(session, self.config.startup_timeout)
            for process in self.processes.values()
        ]
        results = await asyncio.gather(*waits, return_exceptions=True)
        for process, result in zip(self.processes.values(), results, strict=True):
            if isinstance(result, NodeFailure):
                record.abort_log = result.log_tail
                self._abort("start", result.node, f"{result.kind}: {result.detail}")
                return False
            if isinstance(result, BaseException):
                raise result
            record.ready_s[process.id] = round(float(result), 3)
        return True

    async def _restart(self, node: str, session: aiohttp.ClientSession) -> None:
        process = self.processes[node]
        try:
            await process.start()
            await process.wait_ready(session, self.config.startup_timeout)
        except NodeFailure as exc:
            self._abort("restart", node, f"{exc.kind} after a restart: {exc.detail}")
            self.abort_log = exc.log_tail
            return
        self.restarts[node].append(self.history.now())

    # ------------------------------------------------------------------ the run

    async def execute(self) -> RunRecord:
        config = self.config
        record = RunRecord(config, self.setup, self.slots, self.history)
        began = time.monotonic()
        self.abort_log = ""
        connector = aiohttp.TCPConnector(limit=128, force_close=False)
        try:
            await self._prepare()
            record.slots = self.slots
            async with aiohttp.ClientSession(connector=connector) as session:
                if await self._start_all(session, record):
                    await self._main(session, record)
                if self.abort is None or self.abort[0] not in ("start",):
                    await self._collect(session, record)
                await self._stop_nodes(record)
        finally:
            for process in self.processes.values():
                with contextlib.suppress(Exception):
                    await process.kill()
            await self.proxy.stop()
            kill_all_groups()
        if self.abort is not None:
            record.abort_kind, record.abort_node, record.aborted = self.abort
            if self.abort_log and not record.abort_log:
                record.abort_log = self.abort_log
            if not record.abort_log and record.abort_node in self.processes:
                record.abort_log = log_tail(self.processes[record.abort_node].log_path)
        record.restarts = self.restarts
        record.api_violations = self.api_violations
        record.wire_violations = list(self.proxy.violations)
        stats = self.proxy.stats
        record.proxy_stats = {
            "frames": stats.frames,
            "bytes": stats.bytes,
            "dropped": stats.dropped,
            "duplicated": stats.duplicated,
            "reordered": stats.reordered,
            "refused": stats.refused,
            "cut_connections": stats.cut_connections,
        }
        record.leftover = leftover_processes(self.processes)
        record.wall_s = round(time.monotonic() - began, 2)
        return record

    async def _main(self, session: aiohttp.ClientSession, record: RunRecord) -> None:
        config = self.config
        api = Api(session, self.history, self._api_violation)
        observer = Observer(api, self.slots)
        if not await self._first_commit(observer):
            return
        schedule = (
            list(config.schedule)
            if config.schedule is not None
            else make_schedule(config.seed, self.ids, config.nemeses, config.duration)
        )
        record.schedule = schedule
        self.history.add("nemesis", "info", "phase", None, {"phase": "workload"})

        async def heights() -> dict[str, int]:
            answers = await asyncio.gather(*(observer.poll(slot) for slot in self.slots))
            return {
                slot.id: int(a["height"])
                for slot, a in zip(self.slots, answers, strict=True)
                if a is not None
            }

        async def leader() -> str | None:
            polled = await asyncio.gather(*(observer.poll(slot) for slot in self.slots))
            answers = [a for a in polled if a is not None and a.get("leader")]
            top = max((a["height"] for a in answers), default=0)
            leaders = [a["leader"] for a in answers if a["height"] == top]  # the live height
            return max(sorted(set(leaders)), key=leaders.count) if leaders else None

        async def restart(node: str) -> None:
            await self._restart(node, session)
            # The first status of a restarted node, at once: what its store kept (R5.4; the
            # durability checker compares it with the height it reported before the crash).
            await observer.poll(next(slot for slot in self.slots if slot.id == node))

        nemesis = Nemesis(
            schedule,
            self.ids,
            self.proxy,
            self.processes,
            self.history,
            leader=leader,
            heights=heights,
            restart=restart,
            progress=lambda: (observer.max_height, observer.max_height_at),
            anchored=config.schedule is not None,
        )
        accounts = list(self.setup.accounts)
        receivers = [key.public_key for key in accounts]
        validators = self.setup.chain.validators
        clients = [
            TransferClient(
                f"client-{i}",
                accounts[i],
                [r for r in receivers if r != accounts[i].public_key],
                self.slots,
                api,
                validators,
                config.seed,
            )
            for i in range(config.clients)
        ]
        reader = Reader(
            api,
            self.slots,
            [key.public_key.hex() for key in accounts],
            validators,
            config.seed,
            lambda: observer.max_height,
        )
        work_stop = asyncio.Event()
        tasks = [asyncio.create_task(client.run(work_stop)) for client in clients]
        tasks.append(asyncio.create_task(reader.run(work_stop)))
        tasks.append(asyncio.create_task(observer.run(work_stop)))
        nemesis_task = asyncio.create_task(nemesis.run(self.stop))
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), config.duration)
            self.stop.set()
            await nemesis_task
            await nemesis.heal()
            for process in self.processes.values():
                if not process.running and self.abort is None:
                    await self._restart(process.id, session)
                process.resume()
            record.heal_time = self.history.now()
            record.applied = nemesis.applied
            self.history.add("nemesis", "info", "phase", None, {"phase": "healed"})
            if self.abort is None:
                await self._await_liveness(observer, record)
        finally:
            record.applied = nemesis.applied
            work_stop.set()
            for task in tasks:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(task, 10.0)
                task.cancel()
            nemesis_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await nemesis_task

    async def _first_commit(self, observer: Observer) -> bool:
        deadline = time.monotonic() + self.config.startup_timeout
        while time.monotonic() < deadline and self.abort is None:
            answers = await asyncio.gather(*(observer.poll(slot) for slot in self.slots))
            if all(a is not None and a["height"] >= 1 for a in answers):
                return True
            await asyncio.sleep(0.25)
        if self.abort is None:
            self._abort(
                "liveness",
                "",
                f"the cluster did not commit height 1 within {self.config.startup_timeout:g} s "
                "of starting",
            )
        return False

    async def _await_liveness(self, observer: Observer, record: RunRecord) -> None:
        """Keep the workload going until every node passes the heal's height (or the bound)."""
        target = observer.max_height + 1
        record.heal_height = target
        record.liveness = liveness_bound(record, self.config.liveness_bound)
        seconds = record.liveness.seconds
        bound = {"phase": "liveness-bound", **record.liveness.to_json()}
        self.history.add("nemesis", "info", "phase", None, bound)
        deadline = time.monotonic() + (SLACK_S if seconds is None else seconds)
        while time.monotonic() < deadline and self.abort is None:
            latest = observer.latest
            if len(latest) == len(self.slots) and all(
                v["height"] >= target for v in latest.values()
            ):
                # Caught up: one more second of workload and polls for the history.
                await asyncio.sleep(1.0)
                return
            await asyncio.sleep(0.25)

    async def _collect(self, session: aiohttp.ClientSession, record: RunRecord) -> None:
        """Headers, evidence and supply from every node; each height's block from one holder."""
        final = record.final
        api = Api(session, self.history, lambda v: None)
        for slot in self.slots:
            if not self.processes[slot.id].running or self.processes[slot.id].paused:
                final.statuses[slot.id] = None
                continue
            status, answer = await api.call("GET", slot, "/status", timeout=5.0)
            final.statuses[slot.id] = answer if status == 200 and isinstance(answer, dict) else None
            top = answer.get("height") if isinstance(final.statuses[slot.id], dict) else None
            if type(top) is not int:
                continue
            held: dict[int, tuple[str, str]] = {}
            low = 1
            while low <= top:
                status, answer = await api.call(
                    "GET", slot, f"/headers?from={low}&to={top}", timeout=30.0
                )
                items = answer.get("headers") if isinstance(answer, dict) else None
                if status != 200 or not isinstance(items, list):
                    break
                for item in items:
                    if isinstance(item, dict) and type(item.get("height")) is int:
                        held[item["height"]] = (str(item.get("digest")), str(item.get("root")))
                low += 1_000
            final.headers[slot.id] = held
            status, answer = await api.call("GET", slot, "/evidence", timeout=5.0)
            items = answer.get("evidence") if isinstance(answer, dict) else None
            final.evidence[slot.id] = items if isinstance(items, list) else None
            status, answer = await api.call("GET", slot, "/supply", timeout=10.0)
            final.supply[slot.id] = answer if status == 200 and isinstance(answer, dict) else None
        heights = sorted({h for held in final.headers.values() for h in held})
        for height in heights:
            for slot in self.slots:
                if height not in final.headers.get(slot.id, {}):
                    continue
                status, answer = await api.call("GET", slot, f"/blocks/{height}", timeout=10.0)
                if status == 200 and isinstance(answer, dict):
                    final.blocks[height] = {**answer, "from": slot.id}
                    break

    async def _stop_nodes(self, record: RunRecord) -> None:
        exits = await asyncio.gather(
            *(p.terminate(self.config.stop_grace) for p in self.processes.values())
        )
        for process, last in zip(self.processes.values(), exits, strict=True):
            history = [{"code": e.code, "how": e.how} for e in process.exits[:-1]]
            history.append({"code": last.code, "how": last.how, "final": True})
            record.exits[process.id] = history


def leftover_processes(processes: dict[str, NodeProcess]) -> list[int]:
    """Pids still alive in any group the run started (must be none)."""
    groups = {p.group for p in processes.values() if p.group is not None}
    alive = []
    for proc in psutil.process_iter(["pid"]):
        with contextlib.suppress(psutil.Error, OSError):
            if os.getpgid(proc.pid) in groups and proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(proc.pid)
    return alive


def observed_of(record: RunRecord) -> Observed:
    """What the bound's derivation reads from a run healed at ``record.heal_time``."""
    heal = record.heal_time if record.heal_time is not None else 0.0
    statuses = tuple(
        (op.time, str(op.node), int(op.value["height"]), float(op.value["invoked"]))
        for op in record.history.ops
        if op.f == "status" and op.type == "ok" and op.node is not None
    )
    wipes = tuple(
        (a.fault.targets[0], a.ended)
        for a in record.applied
        if a.fault.kind == "wipe" and a.ended is not None and a.fault.targets
    )
    bases = tuple(
        (op.time, str(op.node), float(op.value["timeout_base_ms"]) / 1000)
        for op in record.history.ops
        if op.f == "status"
        and op.type == "ok"
        and op.node is not None
        and "timeout_base_ms" in op.value
    )
    return Observed(heal, record.heal_height, statuses, wipes, bases)


def liveness_bound(record: RunRecord, override: float | None) -> LivenessBound:
    """The run's liveness bound: ``override`` seconds, or derived from what it observed."""
    if override is not None:
        return override_bound(override, record.heal_height)
    return derive_bound(record.setup.chain.validators, observed_of(record))


async def run_network(config: RunConfig, work_dir: Path) -> RunRecord:
    """Run the network test of ``config`` with its nodes under ``work_dir``."""
    return await Run(config, work_dir).execute()


__all__ = [
    "FinalState",
    "RunConfig",
    "RunRecord",
    "liveness_bound",
    "observed_of",
    "run_network",
]
