"""The running validator: one asyncio process around the assembled node.

:class:`NodeRuntime` is the :class:`~aethel.node.shell.Host` of a real node. It feeds the replica
the messages its peers send (:mod:`aethel.node.peers`), the timers it set (on the process's
monotonic clock) and the syncs it asked for, and carries out the replica's outputs through the one
:class:`~aethel.node.shell.Shell`:

* send and broadcast: a consensus frame to the peer(s); the vote in it is already in the vote
  journal on disk, written when the replica decided to vote (R2.4, R5.4);
* loopback: the message is handled next, after the current outputs (spec/performance.md);
* set timer: ``loop.call_at`` on the same monotonic clock. A leader's propose timer is held
  while the mempool is empty, for at most ``idle_block_ms`` after the last commit, and released
  as soon as a transfer arrives (no stream of empty blocks on an idle chain; the view timeout is
  4 s, R2.6, so the wait never costs a view);
* committed: the commit is already persisted; it is indexed for the API and wakes its waiters;
* request sync: the chain links and the certified block are fetched from peers, the snapshot of
  the certified root with :func:`aethel.state.sync.sync_state` (verified against the root,
  R3.1, R3.5), and the replica decides whether to adopt it (:func:`~aethel.node.shell.adopt_sync`).

Everything the replica and the mempool do runs on the event loop thread, one event at a time.

A node configured to run protocol version 1 only, on a chain that moves to version 2 at height H2,
stops at H2 - 1 (spec/consensus-v2.md, V2.2: such a node cannot start the heights of version 2
and must be upgraded): from that height on it hands its replica no message, timer or sync and
sends nothing of a later height, so it never votes or proposes in a version it does not run.
It keeps serving its peers and clients the heights it holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from aethel.consensus.block import ProofBlock
from aethel.consensus.events import (
    Broadcast,
    Committed,
    EvidenceFound,
    Log,
    Output,
    RequestSync,
    Send,
    SetTimer,
    Timer,
)
from aethel.consensus.messages import CommitCertificate, Message, NewView, PrePrepare
from aethel.consensus.wire import parse_block, parse_commit_certificate
from aethel.encoding import JSONValue, canonical_json, parse_canonical_json, parse_hex
from aethel.errors import AethelError, ProtocolViolation
from aethel.merkle.tree import StateTree
from aethel.node.assembly import ValidatorNode
from aethel.node.home import Home
from aethel.node.peer_wire import consensus_frame, transfer_frame
from aethel.node.peers import PeerNetwork, PeerUnavailable
from aethel.node.shell import Shell, adopt_sync
from aethel.proofs.errors import MempoolFull
from aethel.proofs.items import decode_block_items
from aethel.proofs.model import Proof, Transfer, proof_from_json, transfer_from_json
from aethel.state.snapshot import build_chunk, build_manifest
from aethel.state.sync import sync_state

logger = logging.getLogger("aethel.node")

#: Most certified blocks one ``blocks`` answer carries.
MAX_LINKS_PER_ANSWER = 32
#: Committed transfer ids remembered for ``GET /transactions`` (oldest forgotten first).
MAX_INDEXED_TRANSFERS = 500_000
#: Gossiped transfers waiting for admission, at most (N6); more are dropped and counted.
MAX_ADMISSION_BACKLOG = 10_000
#: Longest stretch of gossip admission between two turns of the event loop (seconds).
ADMISSION_SLICE_S = 0.01
#: Above this backlog the node refuses new client transfers (429, N6): it is saturated.
BUSY_BACKLOG = 256
#: Most pending transfers sent to a peer that (re)connects.
MAX_RESENT_TRANSFERS = 2_000
#: Prefix bits of snapshot parts asked in a sync (16 parts: testnet states are small).
SYNC_PREFIX_BITS = 4
#: How long a sync first waits for one peer's answer to one request (s). A working peer answers
#: in milliseconds; before GST a request or its answer may be lost (R2.5) and is never sent
#: again, so the wait is time the chain moves on without this node (network seed 3017: 20 s
#: on one lost frame, and the node missed the view it led). After it the request goes to the
#: next peer; each failed attempt of a sync doubles the wait, up to SYNC_WAIT_MAX_S, so a slow
#: but working peer is still heard (R3.4, R3.5).
SYNC_WAIT_S = 2.0
SYNC_WAIT_MAX_S = 20.0


class CatchingUp(ProtocolViolation):
    """The node is syncing to the chain (R3.5): it cannot judge transfers yet; try again."""


def monotonic_ns() -> int:
    """The node's clock: the loop's monotonic clock in integer ns."""
    return time.monotonic_ns()


class RemoteSnapshotPeer:
    """A peer's snapshot service over its connection (:class:`aethel.state.sync.SnapshotPeer`)."""

    def __init__(self, network: PeerNetwork, peer: str) -> None:
        self.network = network
        self._name = peer

    @property
    def name(self) -> str:
        return self._name

    async def get_manifest(self, root: bytes, prefix_bits: int) -> bytes:
        args: dict[str, JSONValue] = {"root": root.hex(), "prefix_bits": prefix_bits}
        body = await self.network.request(self._name, "manifest", args, timeout=20.0)
        return canonical_json(body)

    async def get_chunk(self, root: bytes, prefix_bits: int, prefix: int) -> bytes:
        args: dict[str, JSONValue] = {
            "root": root.hex(),
            "prefix_bits": prefix_bits,
            "prefix": prefix,
        }
        body = await self.network.request(self._name, "chunk", args, timeout=20.0)
        return canonical_json(body)


class _NodeCollector(Collector):
    """Node-level Prometheus metrics, read from the runtime at scrape time."""

    def __init__(self, runtime: NodeRuntime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Metric]:
        runtime = self.runtime
        stats = runtime.network.stats
        yield GaugeMetricFamily(
            "aethel_node_peers_connected", "Authenticated peer connections", len(runtime.peers)
        )
        yield GaugeMetricFamily(
            "aethel_node_replica_height", "Height the replica works on", runtime.replica.height
        )
        yield GaugeMetricFamily(
            "aethel_node_view", "View of the current height", runtime.replica.view
        )
        if runtime.last_finality_ns is not None:
            yield GaugeMetricFamily(
                "aethel_node_finality_seconds",
                "Proposal-to-commit time of the latest height committed here",
                runtime.last_finality_ns / 1e9,
            )
        yield GaugeMetricFamily(
            "aethel_node_syncing", "1 while a state sync runs", int(runtime.syncing)
        )
        yield CounterMetricFamily(
            "aethel_node_syncs", "State syncs completed", runtime.syncs_completed
        )
        yield CounterMetricFamily("aethel_node_peer_frames_in", "Frames read", stats.frames_in)
        yield CounterMetricFamily("aethel_node_peer_frames_out", "Frames written", stats.frames_out)
        yield CounterMetricFamily(
            "aethel_node_peer_frames_dropped",
            "Frames dropped: queue full (N6)",
            stats.dropped_frames,
        )
        yield CounterMetricFamily(
            "aethel_node_handshakes_failed", "Peer handshakes refused", stats.handshakes_failed
        )
        dropped = CounterMetricFamily(
            "aethel_node_peer_connections_dropped", "Peer connections ended", labels=["reason"]
        )
        for reason, count in sorted(stats.connections_dropped.items()):
            dropped.add_metric([reason], count)
        yield dropped
        yield CounterMetricFamily(
            "aethel_node_transfers_gossip_dropped",
            "Gossiped transfers dropped: admission backlog full (N6)",
            runtime.gossip_dropped,
        )
        yield GaugeMetricFamily(
            "aethel_node_loop_lag_seconds",
            "How late the event loop runs",
            runtime.loop_lag_ns / 1e9,
        )
        yield GaugeMetricFamily(
            "aethel_node_admission_backlog", "Gossiped transfers waiting", len(runtime._admissions)
        )
        yield CounterMetricFamily(
            "aethel_node_transfers_gossiped_rejected",
            "Gossiped transfers this node refused",
            runtime.gossip_rejected,
        )
        yield GaugeMetricFamily(
            "aethel_node_protocol_version",
            "Protocol version of the height the replica works on (V2.1)",
            runtime.home.chain.version_of(runtime.replica.height),
        )
        yield CounterMetricFamily(
            "aethel_node_held_back",
            "Events and outputs of heights this node does not run (version 1 only, V2.2)",
            runtime.held_back,
        )


class NodeRuntime:
    """One validator process's event handling (see the module docstring)."""

    def __init__(self, home: Home, *, durable: bool = True) -> None:
        self.home = home
        self.node = ValidatorNode(home, durable=durable)
        self.replica = self.node.replica
        self.id = self.node.id
        self.shell = Shell(self.id, self)
        chain = home.chain
        self.network = PeerNetwork(
            node_id=self.id,
            chain_id=chain.chain_id,
            key=home.keys.validator,
            validators=chain.validators,
            listen=home.config.peer_listen,
            peers=home.config.peers,
            handler=self,
        )
        self.idle_ns = chain.params["idle_block_ms"] * 1_000_000
        self.node.monitor.metrics.registry.register(_NodeCollector(self))
        self.evidence_found: list[EvidenceFound] = []
        self.committed_transfers: OrderedDict[bytes, int] = OrderedDict()
        self.syncs_completed = 0
        self.gossip_rejected = 0
        self.gossip_dropped = 0
        #: When this node first saw a proposal of each uncommitted height (finality metric).
        self._proposed_at: dict[int, int] = {}
        #: Proposal-to-commit time of the latest height this node committed itself.
        self.last_finality_ns: int | None = None
        self._admissions: deque[tuple[str, Transfer, Proof]] = deque()
        self._admission_ready = asyncio.Event()
        self._admission_task: asyncio.Task[None] | None = None
        self._lag_task: asyncio.Task[None] | None = None
        #: How late the event loop ran a 100 ms sleep, recently (ns): how busy the node is.
        self.loop_lag_ns = 0
        self.started_ns = monotonic_ns()
        self._last_commit_ns = self.started_ns
        self._parked: Timer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timers: set[asyncio.TimerHandle] = set()
        self._commit_event = asyncio.Event()
        self._sync_task: asyncio.Task[None] | None = None
        self._pending_task: asyncio.Task[None] | None = None
        self._wanted_sync: RequestSync | None = None
        self._fetching = False
        self._serving: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self._stopped = False
        #: The last height this node runs (None: all); see the module docstring (V2.2).
        self.last_height = self.node.last_height
        #: Events and outputs of heights past ``last_height`` this node held back.
        self.held_back = 0

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Listen for peers, dial them, and start the replica."""
        self._loop = asyncio.get_running_loop()
        self._admission_task = asyncio.create_task(self._admit_gossip())
        self._lag_task = asyncio.create_task(self._measure_lag())
        await self.network.start()
        self.started_ns = self._last_commit_ns = monotonic_ns()
        if self.stopped_at is not None:
            self._log_stopped()
        self._process(self.replica.start(self.started_ns))

    async def stop(self) -> None:
        """Stop: no new events, connections closed, files closed (all commits are on disk)."""
        self._stopped = True
        for handle in list(self._timers):
            handle.cancel()
        tasks = (self._sync_task, self._pending_task, self._admission_task, self._lag_task)
        for task in tasks:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await self.network.stop()
        self.node.close()

    @property
    def peers(self) -> list[str]:
        """Connected peers."""
        return self.network.connected

    @property
    def syncing(self) -> bool:
        """True while a state sync is fetched and adopted (the committed state is behind)."""
        return self._fetching

    # ------------------------------------------------------------------ events in

    @property
    def stopped_at(self) -> int | None:
        """The height this node stopped at for want of protocol version 2 (V2.2), once it is
        there; None while it runs."""
        last = self.last_height
        return last if last is not None and self.node.height >= last else None

    def _beyond(self, height: int) -> bool:
        """True for a height this node does not run (it runs version 1 only, V2.2)."""
        if self.last_height is None or height <= self.last_height:
            return False
        self.held_back += 1
        return True

    def _runnable(self, out: Output) -> bool:
        """False for an output of a height this node does not run (V2.2)."""
        if isinstance(out, Send | Broadcast):
            return not self._beyond(out.message.height)
        if isinstance(out, SetTimer):
            return not self._beyond(out.timer.height)
        if isinstance(out, RequestSync):
            return not self._beyond(out.height)
        return True

    def _process(self, outputs: list[Output]) -> None:
        if self._stopped:
            return
        if self.last_height is not None:
            outputs = [out for out in outputs if self._runnable(out)]
        self.node.monitor.on_outputs(outputs)
        self.shell.route(outputs)

    def deliver(self, message: Message, sender: str) -> None:
        """Hand the replica a message (from a peer, or from itself)."""
        if self._stopped or self._beyond(message.height):
            return
        now = monotonic_ns()
        if sender != self.id:
            self.node.monitor.on_message(message)
        if isinstance(message, PrePrepare | NewView) and message.height > self.node.height:
            self._proposed_at.setdefault(message.height, now)
        self._process(self.replica.on_message(message, now, sender))

    def _fire(self, timer: Timer) -> None:
        if self._beyond(timer.height):
            return
        now = monotonic_ns()
        if timer.kind == "propose" and len(self.node.mempool) == 0:
            release = self._last_commit_ns + self.idle_ns
            if now < release:
                logger.debug("height %d: no transfers pending; proposal held", timer.height)
                self._parked = timer
                self._call_at(release, self._release_parked)
                return
        self._process(self.replica.on_timer(timer, now))

    def _release_parked(self) -> None:
        timer, self._parked = self._parked, None
        if timer is not None:
            self._process(self.replica.on_timer(timer, monotonic_ns()))

    def _call_at(self, deadline_ns: int, callback: Any, *args: Any) -> None:
        """Run ``callback(*args)`` at ``deadline_ns`` of the monotonic clock (not after stop)."""
        assert self._loop is not None

        def run() -> None:
            self._timers.discard(handle)
            if not self._stopped:
                callback(*args)

        handle = self._loop.call_at(deadline_ns / 1e9, run)
        self._timers.add(handle)

    # ------------------------------------------------------------------ the host (shell)

    def send(self, to: str, message: Message) -> None:
        logger.debug("send %s h%d to %s", type(message).__name__, message.height, to)
        self.network.send(to, consensus_frame(message))

    def loopback(self, message: Message) -> None:
        assert self._loop is not None
        self._loop.call_soon(self.deliver, message, self.id)

    def broadcast(self, message: Message) -> None:
        logger.debug("broadcast %s h%d", type(message).__name__, message.height)
        if isinstance(message, PrePrepare):
            logger.info(
                "proposing height %d view %d: %d transfers",
                message.height,
                message.view,
                len(message.block.transactions),
            )
        self.network.broadcast(consensus_frame(message))

    def set_timer(self, timer: Timer, deadline: int) -> None:
        self._call_at(deadline, self._fire, timer)

    def committed(self, out: Committed) -> None:
        self._last_commit_ns = now = monotonic_ns()
        proposed = self._proposed_at.pop(out.height, None)
        if proposed is not None:
            self.last_finality_ns = now - proposed
        for height in [h for h in self._proposed_at if h <= out.height]:
            del self._proposed_at[height]
        index = self.committed_transfers
        # The typed items the block was checked and executed with (decoded once, R1.1).
        block = out.block
        for tx in decode_block_items(block.digest, block.transactions, block.proofs).transfers:
            index[tx.transaction_id] = out.height
        while len(index) > MAX_INDEXED_TRANSFERS:
            index.popitem(last=False)
        logger.info(
            "committed height %d view %d: %d transfers, root %s",
            out.height,
            out.view,
            len(out.block.transactions),
            out.certificate.post_root.hex()[:16],
        )
        self._wake_commit_waiters()
        if self.last_height is not None and out.height >= self.last_height:
            self._log_stopped()

    def _log_stopped(self) -> None:
        logger.warning(
            "stopped at height %d: height %d runs protocol version 2, which this node is "
            "configured not to run (V2.2); upgrade it to go on",
            self.last_height,
            (self.last_height or 0) + 1,
        )

    def evidence(self, out: EvidenceFound) -> None:
        self.evidence_found.append(out)
        logger.warning("evidence: %s by %s at height %d", out.offence, out.offender, out.height)

    def request_sync(self, out: RequestSync) -> None:
        self._wanted_sync = out
        if self._sync_task is None and not self._stopped:
            self._sync_task = asyncio.create_task(self._run_syncs())

    def log(self, out: Log) -> None:
        levels = {"error": logging.ERROR, "warning": logging.WARNING, "info": logging.INFO}
        level = levels.get(out.level, logging.DEBUG)
        logger.log(level, "%s %s", out.event, out.detail)

    def _wake_commit_waiters(self) -> None:
        event, self._commit_event = self._commit_event, asyncio.Event()
        event.set()

    async def wait_for_height(self, height: int, timeout: float) -> bool:
        """Wait until ``height`` is committed here (or ``timeout`` s pass); True if it is."""
        deadline = time.monotonic() + timeout
        while self.node.height < height:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._commit_event.wait(), remaining)
        return True

    async def wait_for_transfer(self, transaction_id: bytes, timeout: float) -> int | None:
        """Wait until the transfer is committed (or ``timeout`` s pass); return its height."""
        deadline = time.monotonic() + timeout
        while transaction_id not in self.committed_transfers:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._commit_event.wait(), remaining)
        return self.committed_transfers[transaction_id]

    def uptime_ns(self) -> int:
        """Time since the runtime started."""
        return monotonic_ns() - self.started_ns

    # ------------------------------------------------------------------ peers (PeerHandler)

    def on_consensus(self, peer: str, message: Message) -> None:
        logger.debug("got %s h%d from %s", type(message).__name__, message.height, peer)
        self.deliver(message, peer)

    def on_transfer(self, peer: str, transfer: Transfer, proof: Proof) -> None:
        """Queue a gossiped transfer for admission (bounded, N6; consensus goes first)."""
        if len(self._admissions) >= MAX_ADMISSION_BACKLOG:
            self.gossip_dropped += 1
            return
        self._admissions.append((peer, transfer, proof))
        self._admission_ready.set()

    async def _measure_lag(self) -> None:
        while not self._stopped:
            before = monotonic_ns()
            await asyncio.sleep(0.1)
            late = monotonic_ns() - before - 100_000_000
            self.loop_lag_ns = max(late, (self.loop_lag_ns * 7 + late) // 8)

    async def _admit_gossip(self) -> None:
        """Admit queued gossip in slices of :data:`ADMISSION_SLICE_S`, yielding to the loop
        between slices, so a consensus message waits behind one slice at most (R2.6 timing)."""
        while not self._stopped:
            if not self._admissions:
                self._admission_ready.clear()
                await self._admission_ready.wait()
                continue
            deadline = time.monotonic() + ADMISSION_SLICE_S
            while self._admissions and time.monotonic() < deadline:
                peer, transfer, proof = self._admissions.popleft()
                try:
                    self.node.submit_transfer(transfer, proof)
                except AethelError as exc:
                    self.gossip_rejected += 1
                    logger.debug("gossiped transfer from %s refused: %s", peer, exc)
                else:
                    self._release_if_parked()
            await asyncio.sleep(0)

    def on_peer_up(self, peer: str) -> None:
        """A peer (re)connected: send it the pending transfers with their proofs (in block
        order, so nonces arrive in order, R7.1); a restarted peer lost its mempool."""
        contents = self.node.mempool.select_for_block(MAX_RESENT_TRANSFERS, transfers_only=True)
        for transfer, proof in zip(contents.transactions, contents.proofs, strict=True):
            self.network.send(peer, transfer_frame(transfer, proof))

    def _release_if_parked(self) -> None:
        if self._parked is not None and self._loop is not None:
            self._loop.call_soon(self._release_parked)

    def check_admission(self) -> None:
        """Raise unless the node takes client transfers now (see :meth:`submit_transfer`)."""
        if len(self._admissions) > BUSY_BACKLOG:
            raise MempoolFull("N6", f"{len(self._admissions)} gossiped transfers wait; try later")
        if self.syncing:
            raise CatchingUp("R3.5", "this node is catching up; send again shortly")

    def submit_transfer(self, transfer: Transfer, proof: Proof | None) -> Proof:
        """Admit a client's transfer, gossip it with its proof; return the proof.

        Refused with MempoolFull (N6) while gossip waits for admission beyond
        :data:`BUSY_BACKLOG`: the node is saturated and says so instead of queueing more; and
        with CatchingUp (R3.5) while it syncs: its committed state is behind the chain, so it
        would judge nonces and balances on a stale state.
        """
        self.check_admission()
        pending = self.node.submit_transfer(transfer, proof)
        self.network.broadcast(transfer_frame(transfer, pending.proof))
        self._release_if_parked()
        return pending.proof

    def submit_proof(self, proof: Proof) -> Proof:
        """Admit a client's proof on its own."""
        return self.node.submit_proof(proof).proof

    # ------------------------------------------------------------------ serving peers' syncs

    def on_request(self, peer: str, what: str, args: dict[str, Any]) -> Any:
        ledger = self.node.ledger
        if what == "latest":
            certificate = ledger.latest()
            return {"certificate": None if certificate is None else certificate.to_wire()}
        if what == "blocks":
            first, last = args.get("from"), args.get("to")
            if type(first) is not int or type(last) is not int or not 1 <= first <= last:
                raise ProtocolViolation("E2", "blocks asks from <= to, both heights >= 1")
            links: list[Any] = []
            for height in range(first, min(last, first + MAX_LINKS_PER_ANSWER - 1) + 1):
                block = ledger.get_block(height)
                certificate = ledger.get_certificate(height)
                if block is None or certificate is None:
                    break
                links.append({"block": block.to_wire(), "certificate": certificate.to_wire()})
            return {"links": links}
        if what in ("manifest", "chunk"):
            return parse_canonical_json(self._serve_snapshot(what, args))
        if what == "pending":
            contents = self.node.mempool.select_for_block(MAX_RESENT_TRANSFERS, transfers_only=True)
            return {
                "transfers": [
                    {"transfer": transfer.to_json(), "proof": proof.to_json()}
                    for transfer, proof in zip(contents.transactions, contents.proofs, strict=True)
                ]
            }
        raise ProtocolViolation("E12", f"unknown request {what!r}")

    def _serve_snapshot(self, what: str, args: dict[str, Any]) -> bytes:
        bits = args.get("prefix_bits")
        if type(bits) is not int or not 0 <= bits <= 16:
            raise ProtocolViolation("E2", "prefix_bits is an integer from 0 to 16")
        root = parse_hex(args.get("root"), length=32)
        prefix = args.get("prefix", 0) if what == "chunk" else -1
        if what == "chunk" and (type(prefix) is not int or not 0 <= prefix < 1 << bits):
            raise ProtocolViolation("E2", "prefix is an integer below 2**prefix_bits")
        if set(args) != (
            {"root", "prefix_bits", "prefix"} if what == "chunk" else {"root", "prefix_bits"}
        ):
            raise ProtocolViolation("E12", f"a {what} request holds exactly its arguments")
        key = (what, root, bits, prefix)
        data = self._serving.get(key)
        if data is None:
            store = self.node.ledger.store
            height = store.find_height(root)
            if height is None:
                raise ProtocolViolation("R3.1", "no committed state with that root here")
            tree = store.tree(height)
            data = (
                build_manifest(tree, bits).to_json()
                if what == "manifest"
                else build_chunk(tree, bits, int(prefix))
            )
            self._serving[key] = data
            while len(self._serving) > 256:
                self._serving.popitem(last=False)
        return data

    # ------------------------------------------------------------------ syncing (R3.1, R3.5)

    async def _run_syncs(self) -> None:
        """Carry out the replica's sync requests, the latest first, until none is left.

        After a completed sync the peers' pending transfers are fetched by a task of its own
        (:meth:`_pull_pending`, up to 10 s a peer): waited for here, a sync the replica asked
        for meanwhile found this task still running, was never started, and the replica, which
        asks once per target, waited for it for good (network campaign seed 3005, v000 at a
        height for 70 s; tests/node/test_sync_requests.py).
        """
        synced = self.syncs_completed
        failures = 0  # failed attempts in a row: each doubles the wait for an answer
        try:
            while self._wanted_sync is not None and not self._stopped:
                wanted, self._wanted_sync = self._wanted_sync, None
                wait = min(SYNC_WAIT_MAX_S, SYNC_WAIT_S * 2**failures)
                try:
                    if wanted.certificate is None:
                        await self._ask_latest(wait)
                    else:
                        await self._sync_to(wanted.certificate, wait)
                    failures = 0
                except (AethelError, TimeoutError) as exc:
                    failures += 1
                    logger.warning("sync failed (%s); retrying in 1 s", exc)
                    if self._wanted_sync is None:
                        self._wanted_sync = wanted
                    await asyncio.sleep(1.0)
            if self.syncs_completed > synced and (
                self._pending_task is None or self._pending_task.done()
            ):
                self._pending_task = asyncio.create_task(self._pull_pending())
        finally:
            self._sync_task = None

    async def _pull_pending(self) -> None:
        """Ask the peers for their pending transfers (missed while behind: gossip was judged
        on a stale state, R7.1) and queue them for admission."""
        for peer in self.peers:
            try:
                body = await self.network.request(peer, "pending", {}, timeout=10.0)
            except (AethelError, TimeoutError) as exc:
                logger.info("pending transfers from %s: %s", peer, exc)
                continue
            items = body.get("transfers") if isinstance(body, dict) else None
            for item in items if isinstance(items, list) else []:
                try:
                    if not isinstance(item, dict) or set(item) != {"transfer", "proof"}:
                        raise ProtocolViolation("E12", "a pending item is {transfer, proof}")
                    pair = transfer_from_json(item["transfer"]), proof_from_json(item["proof"])
                except AethelError as exc:
                    logger.info("pending transfer from %s: %s", peer, exc)
                    break
                self.on_transfer(peer, *pair)

    async def _ask_latest(self, wait: float) -> None:
        """Ask the peers at once for their latest certificate (``wait`` s each); hand the
        replica the highest (it checks it and asks for the sync it vouches for if it is
        ahead). A lost answer costs nothing while another peer answers."""
        best: CommitCertificate | None = None
        sender = ""
        for _ in range(50):  # wait up to ~5 s for the first connections
            if self.peers:
                break
            await asyncio.sleep(0.1)

        async def ask(peer: str) -> CommitCertificate | None:
            try:
                body = await self.network.request(peer, "latest", {}, timeout=wait)
                wire = body.get("certificate") if isinstance(body, dict) else None
                return None if wire is None else parse_commit_certificate(wire)
            except (AethelError, TimeoutError) as exc:
                logger.info("latest certificate from %s: %s", peer, exc)
                return None

        peers = self.peers
        answers = await asyncio.gather(*(ask(peer) for peer in peers))
        for peer, certificate in zip(peers, answers, strict=True):
            if certificate is not None and (best is None or certificate.height > best.height):
                best, sender = certificate, peer
        if best is not None and best.height > self.node.height:
            self.deliver(best, sender)

    async def _fetch_links(
        self, first: int, certificate: CommitCertificate, wait: float
    ) -> tuple[ProofBlock, tuple[tuple[ProofBlock, CommitCertificate], ...]]:
        """Fetch the certified blocks from ``first`` up to ``certificate``'s height (R2.3).

        Heights come from whichever peer holds them: a peer that caught up by state sync does
        not hold the heights it skipped, so one peer may serve a stretch and another the next.
        A peer that does not answer within ``wait`` s is passed over for the next one. The
        replica verifies the whole chain before anything is adopted (R3.1).
        """
        peers = self.peers
        links: list[tuple[ProofBlock, CommitCertificate]] = []
        height = first
        current = 0
        misses = 0
        while height <= certificate.height:
            if not peers or misses >= len(peers):
                raise PeerUnavailable(
                    f"no peer serves height {height} (up to {certificate.height})"
                )
            peer = peers[current % len(peers)]
            try:
                args: dict[str, JSONValue] = {"from": height, "to": certificate.height}
                body = await self.network.request(peer, "blocks", args, timeout=wait)
                items = body.get("links") if isinstance(body, dict) else None
                if not isinstance(items, list) or not items:
                    raise PeerUnavailable(f"{peer} lacks height {height}")
                for item in items:
                    if not isinstance(item, dict) or set(item) != {"block", "certificate"}:
                        raise ProtocolViolation("R3.1", "a link is {block, certificate}")
                    block = parse_block(item["block"])
                    link_certificate = parse_commit_certificate(item["certificate"])
                    if block.height != height or link_certificate.height != height:
                        raise ProtocolViolation("R3.3", "links out of order")
                    links.append((block, link_certificate))
                    height += 1
                misses = 0
            except (AethelError, TimeoutError) as exc:
                logger.info("chain links from %s: %s", peer, exc)
                current += 1
                misses += 1
        block, last = links[-1]
        if last.digest != certificate.digest or block.digest != certificate.digest:
            raise PeerUnavailable(f"the peers hold another block at {certificate.height}")
        return block, tuple(links[:-1])

    async def _sync_to(self, certificate: CommitCertificate, wait: float) -> None:
        if certificate.height < self.node.height + 1:
            return
        self._fetching = True
        try:
            await self._fetch_and_adopt(certificate, wait)
        finally:
            self._fetching = False

    async def _fetch_and_adopt(self, certificate: CommitCertificate, wait: float) -> None:
        """Fetch the chain links and the snapshot ``certificate`` vouches for, waiting ``wait``
        s for each answer (an unanswered part goes to another peer, R3.5), and adopt them."""
        first = self.node.height + 1
        block, links = await self._fetch_links(first, certificate, wait)
        peers = [RemoteSnapshotPeer(self.network, peer) for peer in self.peers]
        if not peers:
            raise PeerUnavailable("no peer to sync from")
        result = await sync_state(
            certificate.post_root, peers, prefix_bits=SYNC_PREFIX_BITS, request_timeout=wait
        )
        if self._stopped or self.node.height >= certificate.height:
            return
        tree: StateTree = result.tree
        self.node.ledger.receive_snapshot(tree)
        outputs = adopt_sync(
            self.replica, self.node.ledger, certificate, block, links, monotonic_ns()
        )
        if self.node.height >= certificate.height:
            self.syncs_completed += 1
            logger.info(
                "synced to height %d (%d keys, %d bytes; %d snapshot requests unanswered or "
                "refused, asked again elsewhere)",
                certificate.height,
                result.keys,
                result.bytes_received,
                len(result.rejections),
            )
            self._wake_commit_waiters()
        self._process(outputs)


__all__ = ["NodeRuntime", "RemoteSnapshotPeer", "monotonic_ns"]
