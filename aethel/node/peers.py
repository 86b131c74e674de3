"""Peer connections over TCP (asyncio): handshake, framed messages, bounded queues, reconnects.

Each pair of validators keeps one connection: the one with the lower id dials (and re-dials with
exponential backoff from 50 ms to 2 s, with jitter, whenever the connection is lost), the other
accepts. Every connection starts with the handshake of :mod:`aethel.node.handshake`; until it
completes (within ``handshake_timeout``) nothing else is read, and at most
``max_pending_connections`` unauthenticated connections are held at once.

After the handshake, frames (:mod:`aethel.node.peer_wire`) are read one at a time: a header
announcing more than MAX_FRAME_BYTES, a body that does not arrive within ``body_timeout``, or a
frame that does not parse ends the connection (N6: a peer cannot make this node buffer without
bound or wait forever on half a frame). A peer that connects and stays silent is dropped by the
handshake timeout; a silent authenticated peer costs one idle connection.

Sending never blocks the node: each connection has a bounded queue (``max_queue_frames`` frames
and ``max_queue_bytes`` bytes, N6); a frame that does not fit is dropped and counted (consensus
recovers lost messages by its timeouts and retransmissions, R2.5, R2.6).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from aethel.consensus.messages import Message
from aethel.consensus.validators import ValidatorSet
from aethel.encoding import JSONValue, KeyPair
from aethel.errors import AethelError, ProtocolViolation
from aethel.node.handshake import check_auth, check_hello, sign_handshake
from aethel.node.home import parse_address
from aethel.node.peer_wire import (
    HEADER,
    Auth,
    ConsensusFrame,
    Frame,
    Hello,
    Request,
    Response,
    TransferFrame,
    auth_frame,
    frame_length,
    hello_frame,
    parse_frame,
    request_frame,
    response_frame,
)
from aethel.proofs.model import Proof, Transfer

logger = logging.getLogger("aethel.node.peers")

#: Reconnect backoff bounds (seconds).
BACKOFF_MIN = 0.05
BACKOFF_MAX = 2.0


class PeerUnavailable(AethelError):
    """A request could not be answered: no connection, the connection dropped, or a timeout."""


class PeerHandler(Protocol):
    """What the node does with what its peers send."""

    def on_consensus(self, peer: str, message: Message) -> None: ...

    def on_transfer(self, peer: str, transfer: Transfer, proof: Proof) -> None: ...

    def on_request(self, peer: str, what: str, args: dict[str, Any]) -> Any: ...

    def on_peer_up(self, peer: str) -> None: ...


@dataclass
class PeerStats:
    """Counters of the peer layer (exposed in /metrics)."""

    frames_in: int = 0
    frames_out: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    dropped_frames: int = 0
    handshakes_failed: int = 0
    connections_dropped: Counter[str] = field(default_factory=Counter)
    handler_errors: int = 0


class Link:
    """One authenticated connection to ``peer``."""

    def __init__(
        self,
        network: PeerNetwork,
        peer: str,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.network = network
        self.peer = peer
        self.reader = reader
        self.writer = writer
        self.queue: deque[bytes] = deque()
        self.queued_bytes = 0
        self.wake = asyncio.Event()
        self.closed = False
        self.requests: dict[int, asyncio.Future[Any]] = {}
        self._next_id = 0

    def enqueue(self, frame: bytes) -> bool:
        """Queue ``frame``; False (and dropped) if the queue is full or the link closed (N6)."""
        network = self.network
        if (
            self.closed
            or len(self.queue) >= network.max_queue_frames
            or self.queued_bytes + len(frame) > network.max_queue_bytes
        ):
            network.stats.dropped_frames += 1
            return False
        self.queue.append(frame)
        self.queued_bytes += len(frame)
        self.wake.set()
        return True

    async def request(self, what: str, args: dict[str, JSONValue], timeout: float) -> Any:
        """Ask the peer ``what``; return the answer's body or raise."""
        self._next_id += 1
        request_id = self._next_id
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.requests[request_id] = future
        try:
            if not self.enqueue(request_frame(request_id, what, args)):
                raise PeerUnavailable(f"cannot queue a request to {self.peer}")
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise PeerUnavailable(f"{self.peer} did not answer {what} in {timeout} s") from None
        finally:
            self.requests.pop(request_id, None)

    async def run(self) -> None:
        """Read and write until the connection ends."""
        writer_task = asyncio.create_task(self._write_loop())
        try:
            await self._read_loop()
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            self.network.stats.connections_dropped["closed"] += 1
        except TimeoutError:
            self.network.stats.connections_dropped["body-timeout"] += 1
            logger.warning("peer %s: a frame body did not arrive in time; dropped", self.peer)
        except ProtocolViolation as exc:
            self.network.stats.connections_dropped[exc.rule_id] += 1
            logger.warning("peer %s sent a bad frame (%s); dropped", self.peer, exc)
        finally:
            self.close()
            writer_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer_task

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.wake.set()
        for future in self.requests.values():
            if not future.done():
                future.set_exception(PeerUnavailable(f"the connection to {self.peer} closed"))
        self.writer.close()
        self.network._unregister(self)

    async def _write_loop(self) -> None:
        stats = self.network.stats
        while not self.closed:
            if not self.queue:
                self.wake.clear()
                await self.wake.wait()
                continue
            batch = []
            size = 0
            while self.queue and size < 1 << 20:
                frame = self.queue.popleft()
                batch.append(frame)
                size += len(frame)
            self.queued_bytes -= size
            self.writer.write(b"".join(batch))
            stats.frames_out += len(batch)
            stats.bytes_out += size
            await self.writer.drain()

    async def _read_loop(self) -> None:
        network = self.network
        frames = 0
        while not self.closed:
            body = await network.read_frame_body(self.reader)
            frame = parse_frame(body)
            network.stats.frames_in += 1
            network.stats.bytes_in += len(body) + HEADER.size
            self._dispatch(frame)
            frames += 1
            if frames % 64 == 0:
                # Buffered frames are read without yielding; let the other peers have a turn.
                await asyncio.sleep(0)

    def _dispatch(self, frame: Frame) -> None:
        handler = self.network.handler
        try:
            if isinstance(frame, ConsensusFrame):
                handler.on_consensus(self.peer, frame.message)
            elif isinstance(frame, TransferFrame):
                handler.on_transfer(self.peer, frame.transfer, frame.proof)
            elif isinstance(frame, Request):
                try:
                    body = handler.on_request(self.peer, frame.what, frame.args)
                except AethelError as exc:
                    rule = getattr(exc, "rule_id", "")
                    self.enqueue(
                        response_frame(frame.id, False, {"rule": rule, "detail": str(exc)})
                    )
                else:
                    self.enqueue(response_frame(frame.id, True, body))
            elif isinstance(frame, Response):
                future = self.requests.get(frame.id)
                if future is not None and not future.done():
                    if frame.ok:
                        future.set_result(frame.body)
                    else:
                        future.set_exception(PeerUnavailable(f"{self.peer}: {frame.body}"))
            else:  # hello or auth after the handshake
                raise ProtocolViolation("E12", f"unexpected {type(frame).__name__} frame")
        except ProtocolViolation:
            raise
        except Exception:  # a defect of this node, not the peer's: keep the connection
            self.network.stats.handler_errors += 1
            logger.exception("peer %s: handling a %s frame failed", self.peer, type(frame).__name__)


class PeerNetwork:
    """The peer connections of one validator (see the module docstring)."""

    def __init__(
        self,
        *,
        node_id: str,
        chain_id: bytes,
        key: KeyPair,
        validators: ValidatorSet,
        listen: str,
        peers: dict[str, str],
        handler: PeerHandler,
        max_queue_frames: int = 4_096,
        max_queue_bytes: int = 64 << 20,
        handshake_timeout: float = 5.0,
        body_timeout: float = 30.0,
        max_pending_connections: int = 64,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.node_id = node_id
        self.chain_id = chain_id
        self.key = key
        self.validators = validators
        self.listen = listen
        self.peers = dict(peers)
        self.handler = handler
        self.max_queue_frames = max_queue_frames
        self.max_queue_bytes = max_queue_bytes
        self.handshake_timeout = handshake_timeout
        self.body_timeout = body_timeout
        self.max_pending_connections = max_pending_connections
        self.stats = PeerStats()
        self.links: dict[str, Link] = {}
        self._rng = rng
        self._pending = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopping = False
        #: The address the peer port is bound to (the port is chosen by the OS if 0).
        self.bound: tuple[str, int] | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Listen on the peer port and start dialing the peers this node dials."""
        host, port = parse_address(self.listen)
        self._server = await asyncio.start_server(self._accept, host, port)
        sockname = self._server.sockets[0].getsockname()
        self.bound = (str(sockname[0]), int(sockname[1]))
        for peer, address in sorted(self.peers.items()):
            if peer > self.node_id and self.validators.get(peer) is not None:
                self._spawn(self._dial_loop(peer, address))

    async def stop(self) -> None:
        """Close every connection and stop listening."""
        self._stopping = True
        if self._server is not None:
            self._server.close()
        for link in list(self.links.values()):
            link.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------ sending

    @property
    def connected(self) -> list[str]:
        """The peers with a live, authenticated connection."""
        return sorted(self.links)

    def send(self, peer: str, frame: bytes) -> bool:
        """Queue ``frame`` to ``peer``; False if there is no connection or no room."""
        link = self.links.get(peer)
        if link is None:
            self.stats.dropped_frames += 1
            return False
        return link.enqueue(frame)

    def broadcast(self, frame: bytes) -> None:
        """Queue ``frame`` to every connected peer."""
        for link in list(self.links.values()):
            link.enqueue(frame)

    async def request(
        self, peer: str, what: str, args: dict[str, JSONValue], timeout: float = 10.0
    ) -> Any:
        """Ask ``peer`` ``what``; raise :class:`PeerUnavailable` if it cannot answer."""
        link = self.links.get(peer)
        if link is None:
            raise PeerUnavailable(f"no connection to {peer}")
        return await link.request(what, args, timeout)

    # ------------------------------------------------------------------ connections

    async def read_frame_body(self, reader: asyncio.StreamReader) -> bytes:
        """Read one frame: its header (waiting as long as it takes), then its body in time."""
        length = frame_length(await reader.readexactly(HEADER.size))
        # asyncio.timeout, not wait_for: no task per frame, so buffered frames are read at once.
        async with asyncio.timeout(self.body_timeout):
            return await reader.readexactly(length)

    async def _read_handshake_frame(self, reader: asyncio.StreamReader) -> Frame:
        length = frame_length(await reader.readexactly(HEADER.size))
        return parse_frame(await reader.readexactly(length))

    async def _handshake(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, expected: str | None
    ) -> str:
        challenge = os.urandom(32)
        writer.write(hello_frame(self.chain_id, self.node_id, challenge))
        await writer.drain()
        hello = await self._read_handshake_frame(reader)
        if not isinstance(hello, Hello):
            raise ProtocolViolation("R7.5", "the first frame of a peer is its hello")
        check_hello(
            self.validators, self.node_id, self.chain_id, hello.chain, hello.validator, expected
        )
        signature = sign_handshake(
            self.key, self.chain_id, hello.challenge, self.node_id, hello.validator
        )
        writer.write(auth_frame(signature))
        await writer.drain()
        auth = await self._read_handshake_frame(reader)
        if not isinstance(auth, Auth):
            raise ProtocolViolation("R7.5", "the second frame of a peer is its auth")
        check_auth(
            self.validators, self.chain_id, challenge, self.node_id, hello.validator, auth.signature
        )
        return hello.validator

    async def _authenticate(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, expected: str | None
    ) -> str | None:
        try:
            return await asyncio.wait_for(
                self._handshake(reader, writer, expected), self.handshake_timeout
            )
        except (ProtocolViolation, TimeoutError, asyncio.IncompleteReadError, OSError) as exc:
            self.stats.handshakes_failed += 1
            rule = getattr(exc, "rule_id", type(exc).__name__)
            logger.info("handshake with %s failed (%s): %s", expected or "a peer", rule, exc)
            writer.close()
            return None

    def _register(
        self, peer: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> Link:
        old = self.links.get(peer)
        link = Link(self, peer, reader, writer)
        self.links[peer] = link
        if old is not None:  # the newer connection wins (the peer restarted or re-dialed)
            old.close()
        logger.info("peer %s connected", peer)
        try:
            self.handler.on_peer_up(peer)
        except Exception:
            logger.exception("on_peer_up(%s) failed", peer)
        return link

    def _unregister(self, link: Link) -> None:
        if self.links.get(link.peer) is link:
            del self.links[link.peer]
            logger.info("peer %s disconnected", link.peer)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._stopping or self._pending >= self.max_pending_connections:
            writer.close()
            return
        self._pending += 1
        try:
            peer = await self._authenticate(reader, writer, None)
        finally:
            self._pending -= 1
        if peer is None or self._stopping:
            writer.close()
            return
        await self._register(peer, reader, writer).run()

    async def _dial_loop(self, peer: str, address: str) -> None:
        host, port = parse_address(address)
        delay = BACKOFF_MIN
        while not self._stopping:
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(host, port), self.handshake_timeout
                )
            except (OSError, TimeoutError):
                pass
            else:
                authenticated = await self._authenticate(reader, writer, peer)
                if authenticated is not None and not self._stopping:
                    delay = BACKOFF_MIN
                    await self._register(peer, reader, writer).run()
                    continue
            await asyncio.sleep(delay * (1 + self._rng()))
            delay = min(delay * 2, BACKOFF_MAX)


__all__ = ["Link", "PeerHandler", "PeerNetwork", "PeerStats", "PeerUnavailable"]
