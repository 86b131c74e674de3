"""The discrete-event loop: nodes, WAN-7 links and uplinks, CPU queues, dissemination, sync.

Events live in one heap keyed by (virtual time ns, sequence number). A node processes its events
in arrival order on one virtual CPU: an event arriving at t starts at max(t, cpu_free), the
replica sees that start as ``now``, its work is charged as CPU time by
:class:`aethel.sim.cpu.CpuModel` (each signature it checks or makes, each proof it verifies, by
effort; hashing, parsing and state updates are not charged), and its outputs leave when the work
ends. Sends queue on the sender's 1 Gbit/s uplink and arrive after the WAN-7 latency with jitter.

Collector-mode broadcasts in view 0 that would hold the sender's uplink for 20 ms or more go
through relay trees, shuffled per (seed, height, view): the sender sends one copy to the first
node of each region, nearest region first, and a binomial tree inside each region carries it on,
so no uplink carries n copies of a certificate. Every other broadcast, and every broadcast in a
later view (the fallback when a relay fails), goes directly to each node in validator-set order.
A relay forwards when its CPU reaches the message, before working on it (a zero-cost step:
forwarding checks no signature); a crashed, cut off or silent relay forwards nothing.
"""

from __future__ import annotations

import hashlib
import heapq
import random
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aethel.consensus.block import ProofBlock
from aethel.consensus.events import (
    Committed,
    EvidenceFound,
    Log,
    Output,
    RequestSync,
    Timer,
)
from aethel.consensus.interfaces import ChainStore
from aethel.consensus.messages import CommitCertificate, Message, NewView, PrePrepare
from aethel.consensus.replica import Replica
from aethel.consensus.stores import MemoryChainStore
from aethel.node.shell import Shell, adopt_sync, latest_certificate
from aethel.sim.cpu import CpuModel
from aethel.sim.faults import FaultPlan
from aethel.sim.network import NetworkModel

DELIVER, TIMER, CONTROL, SYNC = 0, 1, 2, 3
#: Collector-mode broadcasts go through relay trees (view 0) once sending a copy to every node
#: directly would keep the sender's uplink busy for at least this long.
RELAY_MIN_UPLINK_NS = 20_000_000
_PACK = struct.Struct(">qiBQ")


@dataclass(slots=True)
class CommitRecord:
    """One commit at one node."""

    node: int
    height: int
    view: int
    digest: bytes
    post_root: bytes
    time: int
    started: int
    committed: Committed = field(repr=False)


class SimNode:
    """One simulated validator process (or a twin sharing a validator's key)."""

    __slots__ = (
        "behaviour",
        "cpu_free",
        "epoch",
        "honest",
        "host",
        "index",
        "make_replica",
        "region",
        "replica",
        "rng",
        "shell",
        "store",
        "up",
        "up_free",
        "validator_id",
    )

    def __init__(self, index: int, validator_id: str, region: int, rng: random.Random) -> None:
        self.index = index
        self.validator_id = validator_id
        self.region = region
        self.rng = rng
        self.up = False
        self.cpu_free = 0
        self.up_free = 0
        self.epoch = 0
        self.honest = True
        self.behaviour: Any = None
        self.replica: Replica | None = None
        self.store: ChainStore = MemoryChainStore()
        self.make_replica: Callable[[ChainStore, bool, bool], Replica] | None = None
        #: Set by the engine: this node's host and the shell that routes its outputs.
        self.host: SimHost
        self.shell: Shell


class SimHost:
    """The simulated environment of one node, as its :class:`~aethel.node.shell.Shell` sees it.

    ``time`` is when the node's CPU finished the work whose outputs are being routed; sends
    queue on the node's uplink from then, timers are set no earlier.
    """

    __slots__ = ("engine", "node", "time")

    def __init__(self, engine: Engine, node: SimNode) -> None:
        self.engine = engine
        self.node = node
        self.time = 0

    def send(self, to: str, message: Message) -> None:
        """Send to every node holding validator id ``to`` (a twin shares its validator's)."""
        node = self.node
        for target in self.engine.addresses.get(to, ()):
            if target != node.index:
                self.engine.send(node, target, message, self.time)

    def loopback(self, message: Message) -> None:
        """A message to oneself arrives at once, at no cost (spec/performance.md)."""
        self.engine.push(self.time, DELIVER, self.node.index, message, None)

    def broadcast(self, message: Message) -> None:
        """Send to every other node (directly or through relay trees)."""
        self.engine.broadcast(self.node, message, self.time)

    def set_timer(self, timer: Timer, deadline: int) -> None:
        """Fire ``timer`` at ``deadline`` unless the node restarts first (its epoch changes)."""
        node = self.node
        self.engine.push(max(deadline, self.time), TIMER, node.index, timer, node.epoch)

    def committed(self, out: Committed) -> None:
        """Record the commit."""
        self.engine._record_commit(self.node, out, self.time)

    def evidence(self, out: EvidenceFound) -> None:
        """Record the evidence (and count it in the node's metrics, if observed)."""
        engine = self.engine
        engine.evidence.append((self.node.index, out))
        observer = engine.metrics.get(self.node.index)
        if observer is not None:
            observer.on_evidence(out)

    def request_sync(self, out: RequestSync) -> None:
        """Start fetching the state the certificate vouches for."""
        self.engine._start_sync(self.node, out.certificate, self.time)

    def log(self, out: Log) -> None:
        """Count the log line by level and event."""
        logs = self.engine.logs
        key = f"{out.level}:{out.event}"
        logs[key] = logs.get(key, 0) + 1


class Engine:
    """The event loop and network of one simulation (built by :mod:`aethel.sim.simulator`)."""

    def __init__(
        self,
        nodes: list[SimNode],
        mode: str,
        network: NetworkModel,
        cpu: CpuModel,
        faults: FaultPlan,
        meter: Any,
        seed: int,
        record_messages: bool,
    ) -> None:
        self.nodes = nodes
        self.mode = mode
        self.network = network
        self.cpu = cpu
        self.faults = faults
        self.meter = meter
        self.seed = seed
        self.latency = network.latency_table()
        self.jitter = network.jitter_max
        self.ns_per_byte = network.ns_per_byte
        self.fault_rng = random.Random(f"aethel-sim/faults/{seed}")
        self.heap: list[tuple[Any, ...]] = []
        self.seq = 0
        self.now = 0
        self.events = 0
        self.messages = 0
        self.bytes_sent = 0
        self.addresses: dict[str, list[int]] = {}
        for node in nodes:
            self.addresses.setdefault(node.validator_id, []).append(node.index)
            node.host = SimHost(self, node)
            node.shell = Shell(node.validator_id, node.host)
        self.commits: list[CommitRecord] = []
        self.evidence: list[tuple[int, EvidenceFound]] = []
        self.proposals: dict[int, int] = {}
        self.logs: dict[str, int] = {}
        self.sent_log: list[Message] | None = [] if record_messages else None
        self._trace = hashlib.sha256()
        self._trace_buffer: list[bytes] = []
        self._trees: dict[tuple[int, int], list[list[int]]] = {}
        self.on_commit: Callable[[CommitRecord], None] | None = None
        #: Per-node Prometheus metrics of the observed nodes (see SimConfig.metrics_nodes).
        self.metrics: dict[int, Any] = {}
        #: Fetches a sync: (the certified block, the chain links before it, bytes received).
        self.sync_provider: Callable[
            [SimNode, CommitCertificate],
            tuple[ProofBlock, tuple[tuple[ProofBlock, CommitCertificate], ...], int] | None,
        ]
        self.stopped = False

    # ------------------------------------------------------------------ scheduling

    def push(self, time: int, kind: int, node: int, a: Any = None, b: Any = None) -> None:
        """Schedule an event."""
        self.seq += 1
        heapq.heappush(self.heap, (time, self.seq, kind, node, a, b))

    def trace(self, time: int, node: int, kind: int, tag: int) -> None:
        """Add one processed event to the trace hash."""
        buffer = self._trace_buffer
        buffer.append(_PACK.pack(time, node, kind, tag))
        if len(buffer) >= 65_536:
            self._trace.update(b"".join(buffer))
            buffer.clear()

    def trace_hash(self) -> str:
        """Return the hex SHA-256 of every processed event so far."""
        if self._trace_buffer:
            self._trace.update(b"".join(self._trace_buffer))
            self._trace_buffer.clear()
        return self._trace.hexdigest()

    # ------------------------------------------------------------------ the loop

    def run(self, until: int, stop: Callable[[], bool], progress: Callable[[], None]) -> None:
        """Process events until ``until`` ns, the heap empties or ``stop()`` holds."""
        heap = self.heap
        nodes = self.nodes
        meter = self.meter
        pop = heapq.heappop
        next_progress = 0
        while heap and not self.stopped:
            time, _, kind, index, a, b = pop(heap)
            if time > until:
                heapq.heappush(heap, (time, 0, kind, index, a, b))
                break
            self.now = time
            node = nodes[index]
            if kind == DELIVER:
                if not node.up:
                    continue
                message: Message = a
                self.events += 1
                self.trace(time, index, kind, _tag(message))
                start = time if time > node.cpu_free else node.cpu_free
                if b is not None:
                    # Relaying is its own zero-cost step, taken when the CPU reaches the message.
                    self._relay(node, message, b, start)
                meter.ns = 0
                behaviour = node.behaviour
                replica = node.replica
                assert replica is not None
                if behaviour is not None:
                    outputs = behaviour.on_message(self, node, message, start)
                else:
                    outputs = replica.on_message(message, start)
                end = start + meter.ns
                node.cpu_free = end
                if outputs:
                    self.emit(node, outputs, end)
            elif kind == TIMER:
                if not node.up or b != node.epoch:
                    continue
                self.events += 1
                timer: Timer = a
                self.trace(time, index, kind, timer.height * 1024 + timer.view)
                start = time if time > node.cpu_free else node.cpu_free
                meter.ns = 0
                assert node.replica is not None
                if node.behaviour is not None:
                    outputs = node.behaviour.on_timer(self, node, timer, start)
                else:
                    outputs = node.replica.on_timer(timer, start)
                end = start + meter.ns
                node.cpu_free = end
                if outputs:
                    self.emit(node, outputs, end)
            elif kind == CONTROL:
                self.events += 1
                self.trace(time, index, kind, 0)
                a(self, node, time)
            elif kind == SYNC:
                if not node.up or b[2] != node.epoch:
                    continue
                self.events += 1
                self.trace(time, index, kind, a.height)
                self._finish_sync(node, a, b[0], b[3], time)
            if self.events >= next_progress:
                next_progress = self.events + 20_000
                progress()
                if stop():
                    break

    # ------------------------------------------------------------------ outputs

    def emit(self, node: SimNode, outputs: list[Output], time: int) -> None:
        """Carry out a node's outputs at ``time`` (when its CPU finished the work)."""
        behaviour = node.behaviour
        if behaviour is not None:
            outputs = behaviour.filter_outputs(self, node, outputs, time)
        node.host.time = time
        node.shell.route(outputs)

    def _record_commit(self, node: SimNode, out: Committed, time: int) -> None:
        record = CommitRecord(
            node.index,
            out.height,
            out.view,
            out.block.digest,
            out.certificate.post_root,
            time,
            out.started,
            out,
        )
        self.commits.append(record)
        observer = self.metrics.get(node.index)
        if observer is not None:
            observer.on_commit(out)
        if self.on_commit is not None:
            self.on_commit(record)

    def _note_proposal(self, message: Message, time: int) -> None:
        if isinstance(message, PrePrepare | NewView):
            height = message.height
            if height not in self.proposals:
                self.proposals[height] = time

    def send(
        self, node: SimNode, target: int, message: Message, time: int, relay: Any = None
    ) -> None:
        """Queue ``message`` on ``node``'s uplink to ``target`` (WAN-7 latency and jitter)."""
        size = message.wire_size
        start = time if time > node.up_free else node.up_free
        done = start + size * self.ns_per_byte
        node.up_free = done
        self.messages += 1
        self.bytes_sent += size
        if self.sent_log is not None and relay is None:
            self.sent_log.append(message)
        peer = self.nodes[target]
        base = self.latency[node.region][peer.region]
        arrival = done + base + int(base * self.jitter * node.rng.random())
        if self.faults.has_link_faults:
            arrival = self._apply_link_faults(node.index, target, message, arrival, done, relay)
            if arrival < 0:
                return
        self.push(arrival, DELIVER, target, message, relay)

    def _apply_link_faults(
        self, source: int, target: int, message: Message, arrival: int, sent: int, relay: Any
    ) -> int:
        for partition in self.faults.partitions:
            if partition.blocks(source, target, sent):
                return -1
        rng = self.fault_rng
        for fault in self.faults.link:
            if not fault.start <= sent < fault.end or rng.random() >= fault.probability:
                continue
            if fault.kind == "loss":
                return -1
            if fault.kind == "dup":
                self.push(arrival + 1, DELIVER, target, message, relay)
            elif fault.kind == "reorder":
                arrival += int(rng.random() * fault.delay)
            else:
                arrival += fault.delay
        return arrival

    def broadcast(self, node: SimNode, message: Message, time: int) -> None:
        """Send ``message`` to every other node: directly, or through relay trees."""
        self._note_proposal(message, time)
        view = getattr(message, "view", 1)
        direct_ns = message.wire_size * self.ns_per_byte * (len(self.nodes) - 1)
        if self.mode == "collector" and view == 0 and direct_ns >= RELAY_MIN_UPLINK_NS:
            height = getattr(message, "height", 0)
            trees = self._region_trees(height, view)
            origin_row = self.latency[node.region]
            for region in sorted(range(len(trees)), key=lambda r: (origin_row[r], r)):
                order = [i for i in trees[region] if i != node.index]
                if order:
                    self.send(node, order[0], message, time, (order, 0))
            return
        for target in range(len(self.nodes)):  # validator-set order (spec/performance.md)
            if target != node.index:
                self.send(node, target, message, time)

    def _region_trees(self, height: int, view: int) -> list[list[int]]:
        key = (height, view)
        trees = self._trees.get(key)
        if trees is None:
            rng = random.Random(f"aethel-sim/relay/{self.seed}/{height}/{view}")
            regions: list[list[int]] = [[] for _ in range(len(self.latency))]
            for node in self.nodes:
                regions[node.region].append(node.index)
            for members in regions:
                rng.shuffle(members)
            trees = self._trees[key] = regions
            if len(self._trees) > 64:
                self._trees.pop(next(iter(self._trees)))
        return trees

    def _relay(self, node: SimNode, message: Message, relay: Any, time: int) -> None:
        if node.behaviour is not None and not node.behaviour.relays:
            return
        order, position = relay
        step = position.bit_length()
        while True:
            child = position + (1 << step)
            if child >= len(order):
                break
            self.send(node, order[child], message, time, (order, child))
            step += 1

    # ------------------------------------------------------------------ sync (R3.1, R3.5)

    def _latest_certificate(self, node: SimNode) -> CommitCertificate | None:
        """Return the highest commit certificate a live peer holds (what a starting node asks
        its peers for; the replica verifies it before adopting anything)."""
        return latest_certificate(peer.store for peer in self.nodes if peer is not node and peer.up)

    def _start_sync(self, node: SimNode, certificate: CommitCertificate | None, time: int) -> None:
        if certificate is None:
            # Peers answer a starting node with their latest certificate; the replica checks it
            # before asking for the state it vouches for.
            latest = self._latest_certificate(node)
            own = node.store.latest()
            if latest is not None and (own is None or own.height < latest.height):
                arrival = time + max(self.latency[node.region])
                self.push(arrival, DELIVER, node.index, latest, None)
            return
        found = self.sync_provider(node, certificate)
        if found is None:
            # Nobody serves that height yet: ask again in a second.
            wanted = certificate

            def retry(engine: Engine, target: SimNode, at: int) -> None:
                if target.up:
                    engine._start_sync(target, wanted, at)

            self.push(time + 1_000_000_000, CONTROL, node.index, retry)
            return
        block, links, size = found
        peer_latency = max(self.latency[node.region])
        arrival = time + size * self.ns_per_byte + peer_latency
        self.push(arrival, SYNC, node.index, certificate, (block, size, node.epoch, links))

    def _finish_sync(
        self,
        node: SimNode,
        certificate: CommitCertificate,
        block: ProofBlock,
        links: tuple[tuple[ProofBlock, CommitCertificate], ...],
        time: int,
    ) -> None:
        latest = node.store.latest()
        if latest is not None and latest.height >= certificate.height:
            return
        start = time if time > node.cpu_free else node.cpu_free
        self.meter.ns = 0
        assert node.replica is not None
        # The replica checks the chain to the certificate before the snapshot is installed
        # (R3.1): a refused sync leaves the store as it was.
        outputs = adopt_sync(node.replica, node.store, certificate, block, links, start)
        end = start + self.meter.ns
        node.cpu_free = end
        self.emit(node, outputs, end)


def _tag(message: Message) -> int:
    signature = getattr(message, "signature", None)
    if signature:
        return int.from_bytes(signature[:8], "big")
    return int.from_bytes(message.digest[:7], "big") ^ (message.height << 8)  # type: ignore[union-attr]


__all__ = [
    "CONTROL",
    "DELIVER",
    "SYNC",
    "TIMER",
    "CommitRecord",
    "Engine",
    "SimHost",
    "SimNode",
]
