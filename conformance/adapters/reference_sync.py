"""The reference state sync (aethel.state.sync) behind the ``sync`` capability.

The reference's :func:`~aethel.state.sync.sync_state` is a coroutine that asks
:class:`~aethel.state.sync.SnapshotPeer` objects for manifests and chunks. Under this capability
the peers live in the harness: each ``poll`` hands over the harness's answers to earlier
requests and returns the new ones. A session therefore runs ``sync_state`` on an event loop of
its own, a little at a time: a peer's request becomes a future that a later ``poll`` resolves,
and each poll runs the loop until it has gone quiet (no new request for a few iterations) or the
sync has concluded. What is verified, rejected and assembled is exactly what ``aethel.state``
does; this module only carries bytes.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from aethel.encoding import parse_hex
from aethel.merkle.tree import MAX_PREFIX_BITS
from aethel.state.errors import SyncError
from aethel.state.snapshot import build_chunk, build_manifest
from aethel.state.sync import SyncResult, sync_state
from conformance.adapters.api import JSON, Hex
from conformance.adapters.errors import Rejected
from conformance.adapters.reference_errors import rejecting

#: Loop iterations without a new request after which a poll answers (the sync is waiting).
QUIET_ITERATIONS = 32
#: The harness answers at its own pace, so the reference's per-request timer must never fire.
REQUEST_TIMEOUT_S = 24 * 3600.0
_RESPONSE_DATA = frozenset({"peer", "prefix", "data"})
_RESPONSE_ERROR = frozenset({"peer", "prefix", "error"})


class PeerFailed(Exception):
    """A harness peer answered a request with an error."""


def _prefix_bits(value: object) -> int:
    if type(value) is not int or not 0 <= value <= MAX_PREFIX_BITS:
        raise Rejected(f"prefix_bits must be an integer in [0, {MAX_PREFIX_BITS}], got {value!r}")
    return value


class _HarnessPeer:
    """A peer whose answers arrive through the session's polls."""

    def __init__(self, name: str, session: ReferenceSyncSession) -> None:
        self._name = name
        self._session = session

    @property
    def name(self) -> str:
        return self._name

    async def get_manifest(self, root: bytes, prefix_bits: int) -> bytes:
        return await self._session.fetch(self._name, None)

    async def get_chunk(self, root: bytes, prefix_bits: int, prefix: int) -> bytes:
        return await self._session.fetch(self._name, prefix)


class ReferenceSyncSession:
    """One sync of the reference to a trusted root, from peers played by the harness."""

    def __init__(self, root: Hex, prefix_bits: int, peers: list[str]) -> None:
        trusted = parse_hex(root, length=32, rule_id="R3.1")
        bits = _prefix_bits(prefix_bits)
        if (
            not isinstance(peers, list)
            or not peers
            or any(not isinstance(p, str) or not p for p in peers)
            or len(set(peers)) != len(peers)
        ):
            raise Rejected(f"peers must be distinct non-empty names, got {peers!r}"[:200])
        self.prefix_bits = bits
        self._loop = asyncio.new_event_loop()
        self._pending: dict[tuple[str, int | None], deque[asyncio.Future[bytes]]] = {}
        self._new: list[JSON] = []
        self._requests_made = 0
        self._result: SyncResult | None = None
        self._failure: SyncError | None = None
        coroutine = sync_state(
            trusted,
            [_HarnessPeer(name, self) for name in peers],
            prefix_bits=bits,
            request_timeout=REQUEST_TIMEOUT_S,
        )
        self._task = self._loop.create_task(coroutine)

    async def fetch(self, peer: str, prefix: int | None) -> bytes:
        """Ask the harness for a manifest (``prefix`` None) or a chunk; wait for a poll."""
        future: asyncio.Future[bytes] = self._loop.create_future()
        self._pending.setdefault((peer, prefix), deque()).append(future)
        self._new.append({"peer": peer, "prefix": prefix})
        self._requests_made += 1
        return await future

    async def _settle(self) -> None:
        quiet = 0
        while not self._task.done() and quiet < QUIET_ITERATIONS:
            before = self._requests_made
            await asyncio.sleep(0)
            quiet = quiet + 1 if self._requests_made == before else 0

    def _parse(self, responses: object) -> list[tuple[tuple[str, int | None], bytes | None, str]]:
        """Match every response to an outstanding request; change nothing."""
        if not isinstance(responses, list):
            raise Rejected("responses must be a list")
        taken: dict[tuple[str, int | None], int] = {}
        matched = []
        for item in responses:
            if not isinstance(item, dict) or set(item) not in (_RESPONSE_DATA, _RESPONSE_ERROR):
                raise Rejected(f"a response is {{peer, prefix, data | error}}, got {item!r}"[:200])
            key = (item["peer"], item["prefix"])
            queue = self._pending.get(key, deque())
            index = taken.get(key, 0)
            if index >= len(queue):
                raise Rejected(f"a response to no outstanding request: {key!r}"[:200])
            taken[key] = index + 1
            if "data" in item:
                data: bytes | None = parse_hex(item["data"], rule_id="R3.5")
                matched.append((key, data, ""))
            else:
                matched.append((key, None, str(item["error"])))
        return matched

    @rejecting
    def poll(self, responses: list[JSON]) -> JSON:
        matched = self._parse(responses)
        for key, data, error in matched:  # in order: each takes the oldest request of its key
            future = self._pending[key].popleft()
            if future.cancelled():
                continue
            if data is None:
                future.set_exception(PeerFailed(error))
            else:
                future.set_result(data)
        if not self._task.done():
            self._loop.run_until_complete(self._settle())
        if self._task.done() and self._result is None and self._failure is None:
            self._conclude()
        state = self._state()
        requests, self._new = self._new, []
        return {
            "state": state,
            "requests": requests if state == "running" else [],
            "rule": self._failure.rule_id if self._failure else None,
        }

    def _conclude(self) -> None:
        try:
            self._result = self._task.result()
        except SyncError as exc:
            self._failure = exc

    def _state(self) -> str:
        if self._result is not None:
            return "done"
        return "failed" if self._failure is not None else "running"

    def outcome(self) -> JSON:
        result = self._result
        if result is None:
            return {
                "state": self._state(),
                "rule": self._failure.rule_id if self._failure else None,
                "root": None,
                "keys": 0,
                "rejected": None,
            }
        return {
            "state": "done",
            "rule": None,
            "root": result.tree.root().hex(),
            "keys": result.keys,
            "rejected": [
                {"peer": r.peer, "prefix": r.prefix, "rule": r.rule_id} for r in result.rejections
            ],
        }

    def _synced(self) -> SyncResult:
        if self._result is None:
            raise Rejected(f"the sync is {self._state()}: no synced state to read", "R3.1")
        return self._result

    @rejecting
    def get(self, keys: list[str]) -> list[JSON]:
        tree = self._synced().tree
        if not isinstance(keys, list):
            raise Rejected("keys must be a list")
        missing = object()
        out: list[JSON] = []
        for key in keys:
            value = tree.get(key, missing)
            out.append({"found": False} if value is missing else {"found": True, "value": value})
        return out

    @rejecting
    def get_manifest(self, prefix_bits: int) -> Hex:
        tree = self._synced().tree
        return build_manifest(tree, _prefix_bits(prefix_bits)).to_json().hex()

    @rejecting
    def get_chunk(self, prefix_bits: int, prefix: int) -> Hex:
        tree = self._synced().tree
        bits = _prefix_bits(prefix_bits)
        if type(prefix) is not int or not 0 <= prefix < 1 << bits:
            raise Rejected(f"prefix must be an integer in [0, {1 << bits}), got {prefix!r}")
        return build_chunk(tree, bits, prefix).hex()

    def close(self) -> None:
        """Stop an unfinished sync (its garbage-collector pause ends with it) and the loop."""
        if not self._task.done():
            self._task.cancel()
            self._loop.run_until_complete(asyncio.gather(self._task, return_exceptions=True))
        self._loop.close()


class ReferenceSync:
    """Capability ``sync`` of the reference."""

    session_class: type[ReferenceSyncSession] = ReferenceSyncSession

    @rejecting
    def new(self, root: Hex, prefix_bits: int, peers: list[str]) -> Any:
        return self.session_class(root, prefix_bits, peers)
