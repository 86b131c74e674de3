"""A state sync does not wait long on an answer the network lost (R3.4, R3.5, R2.5).

Network campaign seed 3017 (reports/network/README.md): a node behind the chain asked a peer for
part of a sync, the proxy's loss fault dropped the frame, and the node waited its whole 20 s
request timeout before asking anyone else; meanwhile it was the next view-0 leader and missed
its view. Here four validators run in this process over real TCP. v001, v002 and v003 commit
some heights; then v000 starts from nothing and catches up by state sync (chain links, then the
snapshot). It dials each peer through a frame proxy, and the proxies drop the answer to the
first sync request of one kind (blocks, manifest or chunk) that v000 sends, whichever peer it
asked (the frame is lost: no error, no answer). The node must ask again soon: v000 is in step
within 10 s of its start, well under the old 20 s wait, and the answer was dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import struct
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from aethel.node import testnet as nets
from aethel.node.home import NODE_FILE
from aethel.node.runtime import NodeRuntime

from .inprocess import running, wait_for

HEADER = struct.Struct(">I")
#: v000 must be in step this soon after it starts (the old wait for a lost answer was 20 s).
IN_STEP_S = 10.0
PEERS = ("v001", "v002", "v003")


class Dropper:
    """Drops the answer to the first request of kind ``what`` the joining node sends on any of
    its proxied links (one lost frame, whichever peer it asked first)."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.asked: tuple[str, int] | None = None
        self.dropped: list[str] = []

    def request(self, peer: str, frame: dict[str, object]) -> bool:
        if self.asked is None and frame.get("kind") == "request" and frame.get("what") == self.what:
            self.asked = (peer, int(str(frame["id"])))
        return True

    def answer(self, peer: str, frame: dict[str, object]) -> bool:
        mine = frame.get("kind") == "response" and (peer, frame.get("id")) == self.asked
        if mine and not self.dropped:
            self.dropped.append(f"{peer}'s answer to {self.what} request {frame['id']}")
            return False
        return True


class FrameProxy:
    """Forwards the connections the joining node dials to ``peer`` (whole frames, the
    handshake untouched), letting ``dropper`` drop one of the peer's answers."""

    def __init__(self, peer: str, upstream: tuple[str, int], dropper: Dropper) -> None:
        self.peer = peer
        self.upstream = upstream
        self.dropper = dropper
        self.server: asyncio.Server | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
        for task in list(self.tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.close()
            return
        for task in (
            asyncio.create_task(self._pump(reader, up_writer, self.dropper.request)),
            asyncio.create_task(self._pump(up_reader, writer, self.dropper.answer)),
        ):
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _pump(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        keep: Callable[[str, dict[str, object]], bool],
    ) -> None:
        try:
            while True:
                header = await reader.readexactly(HEADER.size)
                body = await reader.readexactly(HEADER.unpack(header)[0])
                if keep(self.peer, json.loads(body)):
                    writer.write(header + body)
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            writer.close()


def _listen_address(testnet: nets.Testnet, node: str) -> tuple[str, int]:
    config = json.loads((testnet.node(node).home / NODE_FILE).read_text())
    host, port = str(config["peer_listen"]).rsplit(":", 1)
    return host, int(port)


async def _catch_up(testnet: nets.Testnet, what: str) -> tuple[float, list[str], int]:
    """v001-v003 commit 5 heights; then v000 (the dialer of all its links) joins through the
    proxies; how long until it is in step, what was dropped, and how many syncs it made."""
    dropper = Dropper(what)
    proxies = [FrameProxy(peer, _listen_address(testnet, peer), dropper) for peer in PEERS]
    path = testnet.node("v000").home / NODE_FILE
    config = json.loads(path.read_text())
    for proxy in proxies:
        config["peers"][proxy.peer] = f"127.0.0.1:{await proxy.start()}"
    path.write_text(json.dumps(config))
    try:
        async with running(testnet, list(PEERS)) as first:
            runtimes: list[NodeRuntime] = [runtime for runtime, _ in first.values()]
            await wait_for(lambda: min(r.node.height for r in runtimes) >= 5, 60, "height 5")
            began = time.monotonic()
            async with running(testnet, ["v000"]) as late:
                joining = late["v000"][0]
                target = min(r.node.height for r in runtimes)
                with contextlib.suppress(AssertionError):
                    await wait_for(lambda: joining.node.height >= target, IN_STEP_S, "v000")
                took = time.monotonic() - began
                syncs = joining.syncs_completed
    finally:
        for proxy in proxies:
            await proxy.stop()
    return took, dropper.dropped, syncs


@pytest.fixture
def testnet(tmp_path: Path) -> nets.Testnet:
    return nets.init_testnet(
        tmp_path / "net", 4, seed=3017, accounts=4, params={"idle_block_ms": 200}
    )


@pytest.mark.req("R3.4", "R3.5", "R2.5")
@pytest.mark.parametrize("what", ["blocks", "manifest", "chunk"])
def test_a_lost_sync_answer_is_asked_again_of_another_peer_soon(
    testnet: nets.Testnet, what: str
) -> None:
    took, dropped, syncs = asyncio.run(_catch_up(testnet, what))
    assert dropped, f"the proxy dropped no {what} answer: the test exercised nothing"
    assert syncs >= 1, "v000 did not catch up by state sync"
    assert took < IN_STEP_S, f"v000 was in step only after {took:.1f} s ({dropped[0]})"
