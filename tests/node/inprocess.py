"""Run validators of a testnet directory inside the test process (real TCP on loopback).

The runtimes are the ones ``aethel node run`` runs (:class:`aethel.node.runtime.NodeRuntime` and
:class:`aethel.node.api.Api`), on one event loop; only the process boundary is missing, so a
test can look inside a node while it talks to its peers over real sockets.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from aethel.node import testnet as nets
from aethel.node.api import Api
from aethel.node.home import load_home
from aethel.node.runtime import NodeRuntime


@asynccontextmanager
async def running(
    testnet: nets.Testnet, ids: list[str] | None = None
) -> AsyncIterator[dict[str, tuple[NodeRuntime, Api]]]:
    """Start the chosen nodes (default: all); stop them on exit."""
    started: dict[str, tuple[NodeRuntime, Api]] = {}
    try:
        for node in testnet.nodes:
            if ids is not None and node.id not in ids:
                continue
            home = load_home(node.home)
            runtime = NodeRuntime(home, durable=False)
            api = Api(runtime)
            started[node.id] = (runtime, api)
            await runtime.start()
            await api.start(home.config.api_listen)
        yield started
    finally:
        for runtime, api in started.values():
            await api.stop()
            await runtime.stop()


async def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Wait until ``check()`` holds; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.02)


def api_url(testnet: nets.Testnet, node_id: str) -> str:
    return testnet.node(node_id).url


def home_of(testnet: nets.Testnet, node_id: str) -> Path:
    return testnet.node(node_id).home
