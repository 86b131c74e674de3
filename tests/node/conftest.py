"""Fixtures of the node tests: a validator running in a background thread, and the long marker.

``solo`` is validator v000 of a two-validator chain where v000 holds enough stake to commit
alone (1,000,000 of 1,001,000; v001 leads one height in 1,001); the test holds v001's key, so
it can complete the peer handshake as a real validator and then misbehave. The node runs the
production runtime and API on its own event loop in a thread; the tests reach it only through
its sockets.

Tests marked ``long`` (multi-minute campaigns) run only with ``AETHEL_NODE_LONG=1``.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from aethel.economics import MIN_STAKE
from aethel.encoding import KeyPair
from aethel.node import testnet as nets
from aethel.node.api import Api
from aethel.node.home import load_home
from aethel.node.runtime import NodeRuntime


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "long: a multi-minute campaign (AETHEL_NODE_LONG=1)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if os.environ.get("AETHEL_NODE_LONG") == "1":
        return
    skip = pytest.mark.skip(reason="a long campaign: set AETHEL_NODE_LONG=1 to run it")
    for item in items:
        if "long" in item.keywords:
            item.add_marker(skip)


@dataclass
class Solo:
    """A running validator and what a test needs to reach it."""

    testnet: nets.Testnet
    runtime: NodeRuntime
    url: str
    peer: tuple[str, int]
    loop: asyncio.AbstractEventLoop
    peer_key: KeyPair

    def call(self, coroutine: Any, timeout: float = 30.0) -> Any:
        """Run ``coroutine`` on the node's loop and return its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def height(self) -> int:
        async def read() -> int:
            return self.runtime.node.height

        return int(self.call(read()))


@pytest.fixture(scope="module")
def solo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Solo]:
    directory = tmp_path_factory.mktemp("solo")
    testnet = nets.init_testnet(
        directory / "net",
        2,
        seed=1617,
        accounts=4,
        stakes=[1_000 * MIN_STAKE, MIN_STAKE],
        params={"idle_block_ms": 50},
    )
    home = load_home(testnet.nodes[0].home)
    peer_key = load_home(testnet.nodes[1].home).keys.validator
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    state: dict[str, Any] = {}

    async def start() -> None:
        runtime = NodeRuntime(home, durable=False)
        runtime.network.handshake_timeout = 1.0
        runtime.network.body_timeout = 1.0
        api = Api(runtime)
        await runtime.start()
        await api.start(home.config.api_listen)
        state.update(runtime=runtime, api=api)

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, name="solo-node", daemon=True)
    thread.start()
    assert ready.wait(30), "the node did not start"
    runtime: NodeRuntime = state["runtime"]
    assert runtime.network.bound is not None
    node = Solo(testnet, runtime, testnet.nodes[0].url, runtime.network.bound, loop, peer_key)
    deadline = time.monotonic() + 30
    while node.height() < 1:
        assert time.monotonic() < deadline, "the node did not commit height 1"
        time.sleep(0.05)
    try:
        yield node
    finally:

        async def stop() -> None:
            await state["api"].stop()
            await runtime.stop()

        node.call(stop())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
