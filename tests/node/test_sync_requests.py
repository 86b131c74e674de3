"""A sync the replica asks for is carried out even while the last one's follow-up runs (R3.5).

Network campaign seed 3005 at 650d756 (reports/network/README.md): v000 synced, then asked its
peers for their pending transfers, one at a time with 10 s each; a peer did not answer. Meanwhile
its replica asked for the next sync. The sync task was still running (waiting on that answer), so
the request was only stored; the task then ended without looking at it, and the replica, which
asks once per target, waited at its height for the rest of the run (70 s, liveness failed).

Here the node's runtime is the real one (:class:`aethel.node.runtime.NodeRuntime`, not started:
no sockets); what is replaced is the network side of a sync (the fetch, counted) and of the
pending-transfer pull (it hangs, as the silent peer did), so what is under test is the runtime's
handling of its sync requests.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from aethel.consensus.events import RequestSync
from aethel.node import testnet as nets
from aethel.node.home import load_home
from aethel.node.runtime import NodeRuntime


@pytest.mark.req("R3.5")
def test_a_sync_asked_for_while_pending_transfers_are_pulled_is_carried_out(
    tmp_path: Path,
) -> None:
    testnet = nets.init_testnet(tmp_path / "net", 4, seed=3005, accounts=4)
    runtime = NodeRuntime(load_home(testnet.node("v000").home), durable=False)
    fetched: list[float] = []
    pulling = asyncio.Event()
    silent_peer = asyncio.Event()  # never set: the peer that does not answer "pending"

    async def fetch_latest(wait: float) -> None:
        fetched.append(wait)
        runtime.syncs_completed += 1

    async def pull_pending() -> None:
        pulling.set()
        await silent_peer.wait()

    runtime._ask_latest = fetch_latest  # type: ignore[method-assign]
    runtime._pull_pending = pull_pending  # type: ignore[method-assign]

    async def scenario() -> None:
        runtime.request_sync(RequestSync(None, 5))
        await asyncio.wait_for(pulling.wait(), 5.0)
        assert len(fetched) == 1
        runtime.request_sync(RequestSync(None, 9))  # the replica's next request, once
        for _ in range(100):
            if len(fetched) == 2:
                break
            await asyncio.sleep(0.01)
        try:
            assert len(fetched) == 2, "the sync asked for during the pull was never started"
        finally:
            await runtime.stop()

    try:
        asyncio.run(scenario())
    finally:
        runtime.node.close()
