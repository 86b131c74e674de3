"""The observer's status reads (network/workload.py) against a real HTTP server on loopback.

The optional ``timeout_base_ms`` member of ``GET /status`` (NODE.md) feeds the liveness bound
(network/bound.py): a positive number is recorded with the read; anything else is an API
violation, not silently the 4 s floor.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from conformance.network.contract import HOST, REFERENCE_COMMAND, NodeSlot
from conformance.network.history import History
from conformance.network.workload import Api, ApiViolation, Observer

STATUS = {"height": 7, "digest": "ab" * 32, "root": "cd" * 32}


async def _poll(answer: dict[str, Any]) -> tuple[dict[str, Any] | None, list[ApiViolation]]:
    async def status(request: web.Request) -> web.Response:
        return web.json_response(answer)

    app = web.Application()
    app.router.add_get("/status", status)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, HOST, 0)
    await site.start()
    port = runner.addresses[0][1]
    violations: list[ApiViolation] = []
    slot = NodeSlot("v000", 0, Path("/nonexistent"), 0, port, {}, REFERENCE_COMMAND, "impl")
    try:
        async with aiohttp.ClientSession() as session:
            api = Api(session, History(started=0.0), violations.append)
            value = await Observer(api, [slot]).poll(slot)
    finally:
        await runner.cleanup()
    return value, violations


@pytest.mark.req("R6.5")
def test_a_reported_timeout_base_is_recorded_with_the_read() -> None:
    value, violations = asyncio.run(_poll({**STATUS, "timeout_base_ms": 8000.0}))
    assert violations == [] and value is not None
    assert value["height"] == 7 and value["timeout_base_ms"] == 8000.0
    value, violations = asyncio.run(_poll(STATUS))
    assert violations == [] and value is not None and "timeout_base_ms" not in value


@pytest.mark.parametrize("bad", ["8000", -1, 0, True, [8000], {"ms": 8000}])
def test_a_malformed_timeout_base_is_an_api_violation(bad: object) -> None:
    value, violations = asyncio.run(_poll({**STATUS, "timeout_base_ms": bad}))
    assert value is None
    assert len(violations) == 1 and "timeout_base_ms must be a positive number" in (
        violations[0].detail
    )
