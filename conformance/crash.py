"""Crash safety of any implementation: run it as a child process, SIGKILL it, start it again.

Spec: R5.4 (committed state survives a crash at any instant), R2.4 (a validator restarted on its
vote journal never signs a conflicting vote). The campaigns themselves are
:mod:`conformance.crash_store` and :mod:`conformance.crash_journal`; this module holds what they
share:

* :func:`child_command`: the command that runs an ``--impl`` as a process speaking the
  subprocess protocol (conformance/PROTOCOL.md): a ``stdio:`` command as given, the reference
  (``reference`` or ``stdio-reference``) through ``aethel-conformance serve-reference``, a
  ``python:`` implementation through ``aethel-conformance serve`` in a child process;
* :class:`Child`: one such process, spoken to one request at a time like the harness's own
  adapter, but never restarted or replayed behind the campaign's back: the campaign decides when
  it dies (:meth:`Child.kill`, SIGKILL at an instant it draws) and when it starts again;
* :class:`CrashFailure`: what a campaign raises when the implementation loses or half-writes
  something, carrying the seed and the kill that replay it;
* :func:`replay_hint`: the command that replays a campaign on its own, longer than the suite's
  case (``python -m conformance.crash_campaign store|journal``, :mod:`conformance.crash_campaign`);
* :class:`Campaign`: what both campaigns keep (command, seed, schedule, last kill) and how they
  fail; :func:`summary_json`: a campaign's summary as JSON.

A kill is drawn as a delay after the harness sent the request it interrupts; delays are drawn
from a seeded generator, scaled to the request's measured duration so most kills land while the
request is being handled (:func:`draw_delay`). The same seed replays the same schedule; where
the kill lands inside the request still depends on the machine's timing, so a failure also
prints the delay.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import random
import shlex
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any, ClassVar

import conformance
from conformance.adapters.errors import Rejected
from conformance.adapters.load_options import LoadOptions
from conformance.adapters.loader import check_spec
from conformance.protocol.schema import PROTOCOL_VERSION, MessageValidator

_EOF = object()


class CrashFailure(AssertionError):
    """The implementation lost or half-wrote something across a crash (the case fails)."""


class ChildFailure(Exception):
    """The child process did not answer as the protocol says (exited, timed out, garbled)."""


def child_command(spec: str) -> list[str]:
    """Return the argv that runs the implementation ``spec`` as a subprocess-protocol process."""
    check_spec(spec)
    cli = [sys.executable, "-P", "-m", "conformance.cli"]
    if spec in ("reference", "stdio-reference"):
        return [*cli, "serve-reference"]
    if spec.startswith("python:"):
        return [*cli, "serve", "--impl", spec]
    return shlex.split(spec.removeprefix("stdio:").strip())


@dataclass(frozen=True, slots=True)
class Kill:
    """One kill of a schedule: which request it interrupted and how long after sending it."""

    number: int
    request: str
    #: None: the kill came right after the request's answer, not at a drawn delay.
    delay_s: float | None
    answered: bool

    def describe(self) -> str:
        """Return the kill in words (for failure messages)."""
        if self.delay_s is None:
            return f"kill #{self.number}: SIGKILL right after the answer to {self.request}"
        answer = "after its answer arrived" if self.answered else "before it answered"
        return (
            f"kill #{self.number}: SIGKILL {self.delay_s * 1000:.2f} ms after sending "
            f"{self.request}, {answer}"
        )


class Child:
    """One implementation process: requests one at a time, SIGKILL on demand."""

    def __init__(
        self, argv: list[str], stderr_path: Path, options: LoadOptions | None = None
    ) -> None:
        self.options = options or LoadOptions()
        self.validator = MessageValidator() if self.options.validate_protocol else None
        self.stderr_path = stderr_path
        self._stderr: IO[bytes] = stderr_path.open("ab")
        self._lines: queue.Queue[object] = queue.Queue()
        self._ids = 0
        try:
            self.popen = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                # Its own process group: a kill takes the processes a wrapper script started.
                start_new_session=True,
            )
        except OSError as exc:
            self._stderr.close()
            raise ChildFailure(f"cannot start {shlex.join(argv)}: {exc}") from None
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.capabilities: frozenset[str] = frozenset()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for raw in self.popen.stdout:
            self._lines.put(raw)
        self._lines.put(_EOF)

    def hello(self) -> dict[str, Any]:
        """Say hello; return the answer and keep the declared capabilities."""
        params = {"protocol": [PROTOCOL_VERSION], "suite": conformance.__version__}
        answer = self.request("hello", params, timeout=self.options.startup_timeout_s)
        if not isinstance(answer, dict) or answer.get("protocol") != PROTOCOL_VERSION:
            raise ChildFailure(f"hello answered {answer!r}")
        self.capabilities = frozenset(str(c) for c in answer.get("capabilities", []))
        return answer

    def send(self, cmd: str, params: dict[str, Any], handle: str | None = None) -> int:
        """Write one request without waiting; return its id."""
        self._ids += 1
        request: dict[str, Any] = {"id": self._ids, "cmd": cmd, "params": params}
        if handle is not None:
            request["handle"] = handle
        if self.validator is not None:
            problems = self.validator.problems("request", cmd, request)
            if problems:
                raise ChildFailure(f"harness request for {cmd} breaks its schema: {problems}")
        line = json.dumps(request, ensure_ascii=True, separators=(",", ":")) + "\n"
        try:
            assert self.popen.stdin is not None
            self.popen.stdin.write(line.encode("ascii"))
            self.popen.stdin.flush()
        except OSError:
            raise ChildFailure(f"the process closed its input before {cmd}") from None
        return self._ids

    def receive(self, request_id: int, cmd: str, timeout: float | None = None) -> Any:
        """Wait for the answer to ``request_id``; return its result or raise."""
        limit = self.options.request_timeout_s if timeout is None else timeout
        deadline = time.monotonic() + limit
        while True:
            try:
                raw = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise ChildFailure(f"{cmd}: no answer within {limit:g} s") from None
            if raw is _EOF:
                self._lines.put(_EOF)
                raise ChildFailure(f"the process exited during {cmd}{self._stderr_tail()}")
            assert isinstance(raw, bytes)
            if not raw.strip():
                continue
            if self.validator is not None and cmd != "hello":
                problems = self.validator.problems("response", cmd, _parse(raw, cmd))
                if problems:
                    raise ChildFailure(f"response to {cmd} breaks its schema: {problems}")
            return _result(raw, request_id, cmd)

    def request(
        self,
        cmd: str,
        params: dict[str, Any],
        handle: str | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Send one request and return its result (raise :class:`Rejected` if refused)."""
        return self.receive(self.send(cmd, params, handle), cmd, timeout)

    def kill(self) -> list[bytes]:
        """SIGKILL the process, wait for it, and return the complete lines it wrote unread."""
        if self.popen.returncode is None:  # not reaped yet: its pid is still its group's
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=30)
        self._reader.join(timeout=10)
        left: list[bytes] = []
        while True:
            try:
                raw = self._lines.get_nowait()
            except queue.Empty:
                break
            if isinstance(raw, bytes) and raw.endswith(b"\n") and raw.strip():
                left.append(raw)
        self._close_pipes()
        return left

    def stop(self) -> None:
        """Shut the process down politely (or kill it if it does not go)."""
        if self.popen.poll() is None:
            try:
                self.send("shutdown", {})
                self.popen.wait(timeout=10)
            except (ChildFailure, subprocess.TimeoutExpired):
                self.kill()
                return
        self._reader.join(timeout=10)
        self._close_pipes()

    def _close_pipes(self) -> None:
        for pipe in (self.popen.stdin, self.popen.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        self._stderr.close()

    def _stderr_tail(self) -> str:
        try:
            text = self.stderr_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return f"; its stderr ends: {text[-600:]}" if text.strip() else ""


def answered(lines: list[bytes], request_id: int) -> Any:
    """Return the result of ``request_id`` among lines read after a kill, or raise KeyError."""
    for raw in lines:
        try:
            response = json.loads(raw)
        except ValueError:
            continue
        if isinstance(response, dict) and response.get("id") == request_id:
            return _result(raw, request_id, "the interrupted request")
    raise KeyError(request_id)


def _parse(raw: bytes, cmd: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        raise ChildFailure(f"{cmd}: answer is not JSON: {raw[:200]!r}") from None


def _result(raw: bytes, request_id: int, cmd: str) -> Any:
    response = _parse(raw, cmd)
    if not isinstance(response, dict) or response.get("id") != request_id:
        raise ChildFailure(f"{cmd}: expected the answer to request {request_id}: {raw[:200]!r}")
    if response.get("ok") is True:
        return response.get("result")
    error = response.get("error")
    if not isinstance(error, dict):
        raise ChildFailure(f"{cmd}: malformed error response {raw[:200]!r}")
    if error.get("kind") == "rejected":
        rule = error.get("rule")
        raise Rejected(str(error.get("message", "")), rule if isinstance(rule, str) else None)
    raise ChildFailure(f"{cmd}: {error.get('kind')}: {error.get('message')}")


def draw_delay(rng: random.Random, duration_s: float) -> float:
    """Return a kill delay for a request that usually takes ``duration_s``.

    Four kills in five land in the second half of the request (where an implementation writes
    what it computed) or just after it; the rest anywhere in its first part.
    """
    if rng.random() < 0.8:
        return duration_s * rng.uniform(0.6, 1.1)
    return duration_s * rng.uniform(0.0, 0.4)


def replay_hint(spec: str, campaign: str, seed: int, kills: int) -> str:
    """Return the command that replays a campaign."""
    return (
        f"replay: python -m conformance.crash_campaign {campaign} --impl {shlex.quote(spec)} "
        f"--seed {seed} --kills {kills} (or the suite with --seed {seed} --req R5.4)"
    )


class Campaign:
    """What both campaigns keep: the command that starts the implementation, the seed and the
    schedule it draws, and the last kill, which a failure names with the command replaying it.

    A subclass names its ``RULE`` (the rule a loss breaks) and its ``NAME`` (as
    ``python -m conformance.crash_campaign`` takes it).
    """

    RULE: ClassVar[str]
    NAME: ClassVar[str]

    def __init__(
        self,
        command: list[str],
        work: Path,
        seed: int,
        planned: int,
        *,
        spec: str,
        options: LoadOptions | None = None,
    ) -> None:
        self.command = command
        self.work = work
        work.mkdir(parents=True, exist_ok=True)
        self.seed = seed
        self.planned = planned
        self.spec = spec
        self.options = options or LoadOptions()
        self.rng = random.Random(seed)
        self.kill: Kill | None = None

    def fail(self, what: str) -> CrashFailure:
        """Return the failure: ``what`` went wrong, after which kill, and how to replay it."""
        kill = self.kill.describe() if self.kill else "before any kill"
        hint = replay_hint(self.spec, self.NAME, self.seed, self.planned)
        return CrashFailure(f"{self.RULE}: {what}\n  {kill} (seed {self.seed})\n  {hint}")


def summary_json(summary: Any) -> dict[str, Any]:
    """Return a campaign's summary (a dataclass with ``delays_ms``) as JSON, delays rounded."""
    data: dict[str, Any] = asdict(summary)
    data["delays_ms"] = [round(d, 3) for d in data["delays_ms"]]
    return data
