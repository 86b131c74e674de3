"""The node processes of a run: start, readiness, SIGKILL, SIGSTOP/SIGCONT, wipe, SIGTERM.

Every node runs in its own session (its own process group), so a signal reaches the node and
anything it started, and nothing outlives the run: every group the harness started is killed
with SIGKILL when the run ends, whatever happened, at interpreter exit, and by the reaper
(:mod:`conformance.network.reaper`) when the interpreter dies without either.

Readiness (NODE.md): a node is ready when it prints a line starting with ``ready`` on standard
output or when ``GET /status`` answers 200 with a JSON object holding an integer ``height``. A
node whose process exits before it is ready crashed on start; one not ready within the startup
timeout never became ready. Both end the run with that verdict and the end of the node's log.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import shutil
import signal
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import aiohttp

from aethel.errors import AethelError
from conformance.network.contract import NodeSlot
from conformance.network.reaper import Reaper, kill_group

#: Process groups started by this interpreter and not yet known dead.
_GROUPS: set[int] = set()
#: Kills them if this interpreter dies without its cleanup (conformance/network/reaper.py).
_REAPER = Reaper()


def _track(group: int) -> None:
    _GROUPS.add(group)
    _REAPER.started(group)


def _untrack(group: int) -> None:
    _GROUPS.discard(group)
    _REAPER.gone(group)


def kill_all_groups() -> None:
    """SIGKILL every process group this interpreter started (idempotent)."""
    for group in list(_GROUPS):
        kill_group(group)
        _untrack(group)


atexit.register(kill_all_groups)


class NodeFailure(AethelError):
    """A node broke the contract's lifecycle: it crashed on start or never became ready."""

    def __init__(self, node: str, kind: str, detail: str, log_tail: str = "") -> None:
        super().__init__(f"{node}: {kind}: {detail}")
        self.node = node
        self.kind = kind
        self.detail = detail
        self.log_tail = log_tail


def log_tail(path: Any, limit: int = 2_000) -> str:
    """The last ``limit`` bytes of a log file (decoded leniently)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - limit))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""


@dataclass
class Exit:
    """How a node process ended."""

    code: int | None
    how: str


class NodeProcess:
    """One node's process across its restarts."""

    def __init__(self, slot: NodeSlot) -> None:
        self.slot = slot
        self.process: asyncio.subprocess.Process | None = None
        self.group: int | None = None
        self.paused = False
        self.ready = asyncio.Event()
        self.stdout_tail: deque[str] = deque(maxlen=20)
        self.exits: list[Exit] = []
        self._reader: asyncio.Task[None] | None = None
        self._log: Any = None

    @property
    def id(self) -> str:
        return self.slot.id

    @property
    def log_path(self) -> Any:
        return self.slot.home / "node.log"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def start(self) -> None:
        """Start the node's command (its own session; stderr to ``home/node.log``)."""
        if self.running:
            return
        self.ready = asyncio.Event()
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in _reap
        try:
            self.process = await asyncio.create_subprocess_exec(
                *self.slot.command(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=self._log,
                start_new_session=True,
                cwd=self.slot.home,
                limit=1 << 16,
            )
        except OSError as exc:
            self._log.close()
            raise NodeFailure(self.id, "crashed on start", f"cannot execute: {exc}") from None
        self.group = self.process.pid
        _track(self.group)
        self.paused = False
        self._reader = asyncio.create_task(self._read_stdout(self.process))

    async def _read_stdout(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        while True:
            try:
                line = await process.stdout.readline()
            except (ValueError, asyncio.LimitOverrunError):
                continue  # an overlong line: not a ready line
            except Exception:
                return
            if not line:
                return
            text = line.decode("utf-8", "replace").rstrip()
            self.stdout_tail.append(text[:400])
            if text.startswith("ready"):
                self.ready.set()

    async def wait_ready(self, session: aiohttp.ClientSession, timeout: float) -> float:
        """Wait until the node is ready (NODE.md); return the seconds it took, or raise."""
        began = time.monotonic()
        deadline = began + timeout
        while True:
            if self.ready.is_set():
                return time.monotonic() - began
            if not self.running:
                code = None if self.process is None else self.process.returncode
                await self._reap(f"exited with {code} before it was ready")
                raise NodeFailure(
                    self.id,
                    "crashed on start",
                    f"exit status {code} before it was ready",
                    log_tail(self.log_path),
                )
            if await status_ok(session, self.slot.url):
                return time.monotonic() - began
            if time.monotonic() > deadline:
                raise NodeFailure(
                    self.id,
                    "never ready",
                    f"no ready line and no /status answer within {timeout:g} s",
                    log_tail(self.log_path),
                )
            await asyncio.sleep(0.1)

    def signal(self, signum: int) -> None:
        if self.group is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.group, signum)

    async def kill(self) -> None:
        """SIGKILL the node's process group and wait for it (a crash)."""
        if not self.running:
            return
        self.signal(signal.SIGKILL)
        await self._wait(5.0)
        await self._reap("SIGKILL")

    def pause(self) -> None:
        """SIGSTOP the node's process group."""
        if self.running:
            self.signal(signal.SIGSTOP)
            self.paused = True

    def resume(self) -> None:
        """SIGCONT the node's process group."""
        if self.paused:
            self.signal(signal.SIGCONT)
            self.paused = False

    def wipe(self) -> None:
        """Delete the node's data directory (the node must be down)."""
        shutil.rmtree(self.slot.data, ignore_errors=True)

    async def terminate(self, grace: float) -> Exit:
        """SIGTERM (after SIGCONT); SIGKILL the group if it has not exited after ``grace`` s."""
        if not self.running:
            await self._reap("not running")
            return self.exits[-1] if self.exits else Exit(None, "never started")
        self.resume()
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        if await self._wait(grace):
            exit_ = Exit(self.process.returncode, "SIGTERM")
        else:
            self.signal(signal.SIGKILL)
            await self._wait(5.0)
            exit_ = Exit(self.process.returncode, f"did not exit within {grace:g} s of SIGTERM")
        await self._reap(exit_.how)
        self.exits[-1] = exit_
        return exit_

    async def _wait(self, timeout: float) -> bool:
        assert self.process is not None
        try:
            await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def _reap(self, how: str) -> None:
        """After the leader exited: kill what is left of its group, close the log."""
        if self.group is not None:
            kill_group(self.group)
            _untrack(self.group)
        if self.process is not None and self.process.returncode is None:
            await self._wait(5.0)
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
            self._reader = None
        if self._log is not None:
            self._log.close()
            self._log = None
        code = None if self.process is None else self.process.returncode
        self.exits.append(Exit(code, how))
        self.paused = False


async def status_ok(session: aiohttp.ClientSession, url: str) -> bool:
    """True if ``GET /status`` answers 200 with an object holding an integer height."""
    try:
        async with session.get(f"{url}/status", timeout=aiohttp.ClientTimeout(total=1.0)) as r:
            if r.status != 200:
                return False
            value = await r.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return False
    return isinstance(value, dict) and type(value.get("height")) is int


__all__ = ["Exit", "NodeFailure", "NodeProcess", "kill_all_groups", "log_tail", "status_ok"]
