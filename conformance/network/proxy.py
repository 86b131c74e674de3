"""The harness's proxy: every peer link between two nodes passes through it (asyncio, loopback).

Each node is told that validator ``b`` lives at the proxy's address for the ordered pair
``(a, b)``; a connection accepted there is forwarded to ``b``'s real peer port. The proxy reads
the peer wire's frames (a 4-byte big-endian length, then the body: NODE.md) and forwards whole
frames, so faults act on messages, never on half a frame:

* a **cut** between two nodes closes their connections and refuses new ones (partitions);
* on a directed link ``a -> b``: **drop** every frame (one-way partition), **loss** (each frame
  dropped with a probability), **delay** (plus jitter), **duplicate** (a frame sent twice) and
  **reorder** (a frame held back so the next ones overtake it).

The first two frames of each direction (the handshake: ``hello``, ``auth``) are never touched.
A frame length outside 1..32 MiB, or more than :data:`FLOOD_BYTES_PER_S` bytes or
:data:`FLOOD_FRAMES_PER_S` frames in one second on a link, is a violation by the sender (N6: the
wire is bounded); the connection is closed and the run is told (:attr:`Proxy.violations`).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import random
import struct
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

HEADER = struct.Struct(">I")
MAX_FRAME_BYTES = 32 << 20
HANDSHAKE_FRAMES = 2
#: Most bytes one directed link may carry in one second before the sender is called a flooder.
FLOOD_BYTES_PER_S = 96 << 20
#: Most frames one directed link may carry in one second.
FLOOD_FRAMES_PER_S = 50_000
HOST = "127.0.0.1"
Link = tuple[str, str]


@dataclass(frozen=True, slots=True)
class LinkFaults:
    """What the proxy does to the frames of one directed link (after the handshake)."""

    drop: bool = False
    delay_ms: int = 0
    jitter_ms: int = 0
    loss: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0


@dataclass(frozen=True, slots=True)
class Violation:
    """A sender broke the wire's bounds (NODE.md, N6)."""

    time: float
    node: str
    kind: str
    detail: str


@dataclass
class ProxyStats:
    """Counters over every link."""

    frames: int = 0
    bytes: int = 0
    dropped: int = 0
    duplicated: int = 0
    reordered: int = 0
    refused: int = 0
    cut_connections: int = 0
    #: Bytes forwarded per second of the run (for the timeline).
    per_second: Counter[int] = field(default_factory=Counter)


class _Outbox:
    """Frames due at times, written in due order (ties in arrival order) by one task."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.heap: list[tuple[float, int, bytes]] = []
        self.sequence = 0
        self.last_due = 0.0
        self.wake = asyncio.Event()
        self.task = asyncio.create_task(self._run())

    def put(self, frame: bytes, delay_s: float, overtakable: bool = False) -> None:
        due = time.monotonic() + delay_s
        if not overtakable:
            due = max(due, self.last_due)  # a stream keeps its order unless reordered
            self.last_due = due
        self.sequence += 1
        heapq.heappush(self.heap, (due, self.sequence, frame))
        self.wake.set()

    async def _run(self) -> None:
        with contextlib.suppress(ConnectionError, OSError, RuntimeError):
            await self._loop()

    async def _loop(self) -> None:
        while True:
            if not self.heap:
                self.wake.clear()
                await self.wake.wait()
                continue
            due = self.heap[0][0]
            wait = due - time.monotonic()
            if wait > 0:
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), wait)
                continue
            _, _, frame = heapq.heappop(self.heap)
            self.writer.write(frame)
            await self.writer.drain()

    def close(self) -> None:
        self.task.cancel()


class Proxy:
    """Listeners for every ordered pair of ``ids``, forwarding to ``targets`` (real peer ports)."""

    def __init__(
        self,
        ids: list[str],
        targets: dict[str, int],
        seed: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_violation: Callable[[Violation], None] | None = None,
        flood_bytes_per_s: int = FLOOD_BYTES_PER_S,
        flood_frames_per_s: int = FLOOD_FRAMES_PER_S,
    ) -> None:
        self.flood_bytes_per_s = flood_bytes_per_s
        self.flood_frames_per_s = flood_frames_per_s
        self.ids = list(ids)
        self.targets = dict(targets)
        self.rng = random.Random(f"aethel-network-proxy/{seed}")
        self.clock = clock
        self.on_violation = on_violation
        self.addresses: dict[Link, str] = {}
        self.faults: dict[Link, LinkFaults] = {}
        self.cuts: set[frozenset[str]] = set()
        self.stats = ProxyStats()
        self.violations: list[Violation] = []
        self._servers: list[asyncio.Server] = []
        self._connections: dict[frozenset[str], set[tuple[asyncio.StreamWriter, ...]]] = {}
        self._windows: dict[Link, tuple[int, int, int]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False

    async def start(self) -> None:
        """Listen on a free loopback port for every ordered pair."""
        for a in self.ids:
            for b in self.ids:
                if a == b:
                    continue
                server = await asyncio.start_server(self._acceptor(a, b), HOST, 0)
                port = server.sockets[0].getsockname()[1]
                self.addresses[(a, b)] = f"{HOST}:{port}"
                self._servers.append(server)

    def _acceptor(
        self, a: str, b: str
    ) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
        async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            if task is not None:
                self._tasks.add(task)
            try:
                await self._accept(a, b, reader, writer)
            finally:
                if task is not None:
                    self._tasks.discard(task)

        return accept

    async def stop(self) -> None:
        """Close every listener and connection."""
        self._stopping = True
        for server in self._servers:
            server.close()
        for pair in list(self._connections):
            self._close_pair(pair)
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for server in self._servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2.0)

    # ------------------------------------------------------------------ faults

    def set_faults(self, link: Link, faults: LinkFaults) -> None:
        self.faults[link] = faults

    def clear_faults(self) -> None:
        self.faults.clear()

    def cut(self, a: str, b: str) -> None:
        """Cut the link between ``a`` and ``b`` both ways: close and refuse connections."""
        pair = frozenset((a, b))
        self.cuts.add(pair)
        self._close_pair(pair)

    def heal_cuts(self) -> None:
        self.cuts.clear()

    def _close_pair(self, pair: frozenset[str]) -> None:
        for writers in list(self._connections.get(pair, ())):
            self.stats.cut_connections += 1
            for writer in writers:
                with contextlib.suppress(Exception):
                    writer.transport.abort()

    # ------------------------------------------------------------------ forwarding

    async def _accept(
        self, a: str, b: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        pair = frozenset((a, b))
        if self._stopping or pair in self.cuts:
            self.stats.refused += 1
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.wait_for(
                asyncio.open_connection(HOST, self.targets[b]), 2.0
            )
        except (OSError, TimeoutError):
            writer.transport.abort()
            return
        writers = (writer, up_writer)
        self._connections.setdefault(pair, set()).add(writers)
        if pair in self.cuts:  # cut while connecting
            self._close_pair(pair)
        down, up = _Outbox(writer), _Outbox(up_writer)
        try:
            pumps = [
                asyncio.create_task(self._pump(reader, up, a, b)),
                asyncio.create_task(self._pump(up_reader, down, b, a)),
            ]
            _, pending = await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        finally:
            self._connections.get(pair, set()).discard(writers)
            down.close()
            up.close()
            for w in writers:
                with contextlib.suppress(Exception):
                    w.transport.abort()

    def _violation(self, node: str, kind: str, detail: str) -> None:
        violation = Violation(self.clock(), node, kind, detail)
        self.violations.append(violation)
        if self.on_violation is not None:
            self.on_violation(violation)

    def _account(self, link: Link, size: int) -> bool:
        """Count a frame on ``link``; False (and a violation) if the link floods."""
        second = int(time.monotonic())
        start, count, total = self._windows.get(link, (second, 0, 0))
        if start != second:
            start, count, total = second, 0, 0
        count, total = count + 1, total + size
        self._windows[link] = (start, count, total)
        self.stats.per_second[int(self.clock())] += size
        if total > self.flood_bytes_per_s or count > self.flood_frames_per_s:
            self._violation(
                link[0],
                "flood",
                f"{link[0]} sent {total} bytes in {count} frames to {link[1]} within one "
                f"second (limits {self.flood_bytes_per_s} bytes, {self.flood_frames_per_s} "
                "frames: N6)",
            )
            return False
        return True

    async def _pump(
        self, reader: asyncio.StreamReader, outbox: _Outbox, src: str, dst: str
    ) -> None:
        link = (src, dst)
        count = 0
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError, OSError):
            while True:
                header = await reader.readexactly(HEADER.size)
                (length,) = HEADER.unpack(header)
                if not 1 <= length <= MAX_FRAME_BYTES:
                    self._violation(
                        src,
                        "frame-length",
                        f"{src} sent a frame header of {length} bytes to {dst} "
                        f"(a frame is 1..{MAX_FRAME_BYTES} bytes: N6)",
                    )
                    return
                frame = header + await reader.readexactly(length)
                if not self._account(link, len(frame)):
                    return
                self.stats.frames += 1
                self.stats.bytes += len(frame)
                count += 1
                faults = self.faults.get(link)
                if count <= HANDSHAKE_FRAMES or faults is None:
                    outbox.put(frame, 0.0)
                    continue
                self._forward(outbox, frame, faults)

    def _forward(self, outbox: _Outbox, frame: bytes, faults: LinkFaults) -> None:
        rng = self.rng
        if faults.drop or (faults.loss and rng.random() < faults.loss):
            self.stats.dropped += 1
            return
        delay = (faults.delay_ms + rng.uniform(0, faults.jitter_ms)) / 1000
        if faults.reorder and rng.random() < faults.reorder:
            self.stats.reordered += 1
            outbox.put(frame, delay + 0.02 + rng.uniform(0, 0.05), overtakable=True)
        else:
            outbox.put(frame, delay)
        if faults.duplicate and rng.random() < faults.duplicate:
            self.stats.duplicated += 1
            outbox.put(frame, delay + rng.uniform(0, 0.01))


__all__ = ["LinkFaults", "Proxy", "ProxyStats", "Violation"]
