"""Talk to an implementation in any language over the subprocess protocol (conformance/PROTOCOL.md).

:class:`StdioImplementation` starts the command, says ``hello`` within the start-up timeout, and
then offers the same Python API as the reference adapter: every call becomes one JSON-lines
request, answered within the per-request timeout. It never sends an expected answer: only the
inputs of a command.

When the process crashes or a request times out, the call fails (the case is reported as
``error`` or ``timeout``), the process is restarted, and the requests that built the objects
still in use (creates and mutating methods of live handles) are replayed in order, so later
cases run on a fresh process with the same state. Everything the process writes to stderr is
kept and attached to the case during which it was written, with the restart notes.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import queue
import shlex
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import conformance
from conformance.adapters.errors import (
    Crashed,
    ImplementationError,
    ProtocolError,
    Rejected,
    RequestTimeout,
    Unsupported,
)
from conformance.adapters.loader import LoadOptions
from conformance.capabilities import parse_capabilities
from conformance.protocol.commands import COMMANDS, OBJECT_METHODS, Command
from conformance.protocol.schema import PROTOCOL_VERSION, MessageValidator

#: Most stderr text attached to one case (the rest is summarized).
STDERR_PER_CASE = 20_000
_EOF = object()


@dataclass
class _Entry:
    """A request that built or changed a live object: replayed after a restart."""

    handle: str
    cmd: str
    params: dict[str, Any]
    result: Any


@dataclass
class _Process:
    popen: subprocess.Popen[bytes]
    lines: queue.Queue[object] = field(default_factory=queue.Queue)
    stderr: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    readers: list[threading.Thread] = field(default_factory=list)


class StdioImplementation:
    """An implementation reached through a subprocess speaking the JSON-lines protocol."""

    def __init__(self, command: str, options: LoadOptions | None = None) -> None:
        self.command = command
        self.argv = shlex.split(command)
        self.options = options or LoadOptions()
        self.validator = MessageValidator() if self.options.validate_protocol else None
        self._ids = itertools.count(1)
        self._handles = itertools.count(1)
        self._journal: list[_Entry] = []
        self._lost: set[str] = set()
        self._events: list[str] = []
        self._old_stderr: list[str] = []
        self.restarts = 0
        #: When a list, every response line is appended to it (the ghost cases scan them, R5.3).
        self.transcript: list[str] | None = None
        self.process: _Process | None = None
        self.name = "?"
        self.version = "?"
        self.protocol_version = PROTOCOL_VERSION
        self.capabilities: frozenset[str] = frozenset()
        self._start()

    # ------------------------------------------------------------------ process

    def _start(self) -> None:
        try:
            popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        except OSError as exc:
            raise Crashed(f"cannot start {self.command!r}: {exc}") from None
        process = _Process(popen)
        for reader in (self._read_stdout, self._read_stderr):
            thread = threading.Thread(target=reader, args=(process,), daemon=True)
            thread.start()
            process.readers.append(thread)
        self.process = process
        params = {"protocol": [PROTOCOL_VERSION], "suite": conformance.__version__}
        # The version and the capabilities are checked first, so that a mismatch is reported
        # as such and not as a schema violation (PROTOCOL.md, Versions and capabilities).
        hello = self._exchange(
            "hello", params, None, self.options.startup_timeout_s, check_response=False
        )
        if not isinstance(hello, dict):
            raise ProtocolError(f"hello answered {hello!r}")
        if hello.get("protocol") != PROTOCOL_VERSION:
            raise ProtocolError(
                f"hello: the implementation speaks protocol {hello.get('protocol')!r}; "
                f"this suite offered {PROTOCOL_VERSION}"
            )
        try:
            capabilities = parse_capabilities(hello.get("capabilities", []))
        except ValueError as exc:
            raise ProtocolError(f"hello: {exc}") from None
        if self.validator:
            problems = self.validator.problems(
                "response", "hello", {"id": 1, "ok": True, "result": hello}
            )
            if problems:
                raise ProtocolError(f"response to hello breaks its schema: {problems}")
        self.name = str(hello.get("name", "?"))
        self.version = str(hello.get("version", "?"))
        self.capabilities = capabilities

    @staticmethod
    def _read_stdout(process: _Process) -> None:
        assert process.popen.stdout is not None
        for raw in process.popen.stdout:
            process.lines.put(raw)
        process.lines.put(_EOF)

    @staticmethod
    def _read_stderr(process: _Process) -> None:
        assert process.popen.stderr is not None
        for raw in process.popen.stderr:
            with process.lock:
                process.stderr.append(raw.decode("utf-8", errors="replace"))

    def _stop(self, *, kill: bool) -> int | None:
        process, self.process = self.process, None
        if process is None:
            return None
        popen = process.popen
        if not kill and popen.poll() is None:
            try:
                request = {"id": next(self._ids), "cmd": "shutdown", "params": {}}
                assert popen.stdin is not None
                popen.stdin.write((json.dumps(request) + "\n").encode())
                popen.stdin.flush()
                popen.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        if popen.poll() is None:
            popen.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(timeout=10)
        for thread in process.readers:  # they end at end of file, once the process is gone
            thread.join(timeout=2)
        if popen.stdin is not None:
            with contextlib.suppress(OSError):
                popen.stdin.close()
        with process.lock:
            self._old_stderr.extend(process.stderr)
            process.stderr.clear()
        return popen.returncode

    def _restart(self, reason: str) -> None:
        """Restart the process after ``reason`` and replay the requests of live handles."""
        code = self._stop(kill=True)
        self.restarts += 1
        self._events.append(f"{reason} (exit code {code}); restarted")
        self._start()
        replayed = 0
        for entry in list(self._journal):
            if entry.handle in self._lost:
                continue
            try:
                result = self._exchange(
                    entry.cmd, entry.params, entry.handle, self.options.request_timeout_s
                )
            except Exception as exc:  # the state behind this handle cannot be rebuilt
                self._lost.add(entry.handle)
                self._events.append(f"replay of {entry.cmd} on {entry.handle} failed: {exc}")
                if self.process is None or self.process.popen.poll() is not None:
                    self._restart_bare(f"crash while replaying {entry.cmd}")
                continue
            replayed += 1
            if result != entry.result:
                self._events.append(f"replayed {entry.cmd} on {entry.handle} answered differently")
        if replayed:
            self._events.append(f"replayed {replayed} request(s) of live objects")

    def _restart_bare(self, reason: str) -> None:
        code = self._stop(kill=True)
        self.restarts += 1
        self._events.append(f"{reason} (exit code {code}); restarted without replay")
        self._journal = [e for e in self._journal if e.handle not in self._lost]
        self._start()

    # ------------------------------------------------------------------ requests

    def _exchange(
        self,
        cmd: str,
        params: dict[str, Any],
        handle: str | None,
        timeout: float,
        *,
        check_response: bool = True,
    ) -> Any:
        """Send one request and return its result; raise the matching failure otherwise."""
        process = self.process
        if process is None:
            raise Crashed("the implementation is not running")
        request: dict[str, Any] = {"id": next(self._ids), "cmd": cmd, "params": params}
        if handle is not None:
            request["handle"] = handle
        if self.validator:
            problems = self.validator.problems("request", cmd, request)
            if problems:
                raise ProtocolError(f"harness request for {cmd} breaks its schema: {problems}")
        line = json.dumps(request, ensure_ascii=True, separators=(",", ":")) + "\n"
        try:
            assert process.popen.stdin is not None
            process.popen.stdin.write(line.encode("ascii"))
            process.popen.stdin.flush()
        except (BrokenPipeError, OSError):
            raise Crashed(f"the implementation closed its input before {cmd}") from None
        deadline = time.monotonic() + timeout
        while True:
            try:
                raw = process.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise RequestTimeout(f"{cmd}: no answer within {timeout:g} s") from None
            if raw is _EOF:
                raise Crashed(f"the implementation exited during {cmd}")
            assert isinstance(raw, bytes)
            if not raw.strip():
                continue
            if self.transcript is not None:
                self.transcript.append(raw.decode("utf-8", errors="replace"))
            try:
                response = json.loads(raw)
            except ValueError:
                raise ProtocolError(f"{cmd}: answer is not JSON: {raw[:200]!r}") from None
            if not isinstance(response, dict) or "id" not in response:
                raise ProtocolError(f"{cmd}: answer is not a response object: {raw[:200]!r}")
            if response["id"] != request["id"]:
                raise ProtocolError(
                    f"{cmd}: answer has id {response['id']!r}, expected {request['id']}"
                )
            break
        if self.validator and check_response:
            problems = self.validator.problems("response", cmd, response)
            if problems:
                raise ProtocolError(f"response to {cmd} breaks its schema: {problems}")
        if response.get("ok") is True:
            return response.get("result")
        error = response.get("error")
        if response.get("ok") is not False or not isinstance(error, dict):
            raise ProtocolError(f"{cmd}: response needs ok true with result or false with error")
        kind, message = error.get("kind"), str(error.get("message", ""))
        if kind == "rejected":
            rule = error.get("rule")
            raise Rejected(message, rule if isinstance(rule, str) else None)
        if kind == "unsupported":
            raise Unsupported(f"{cmd}: {message}")
        if kind == "bad-request":
            raise ProtocolError(f"{cmd}: the implementation calls the request malformed: {message}")
        raise ImplementationError(f"{cmd}: {kind}: {message}")

    def call(self, command: Command, params: dict[str, Any], handle: str | None = None) -> Any:
        """Run ``command``; on a crash or timeout restart, replay, and raise the failure."""
        if handle is not None and handle in self._lost:
            raise ImplementationError(
                f"object {handle} was lost in a restart of the implementation"
            )
        try:
            result = self._exchange(command.name, params, handle, self.options.request_timeout_s)
        except (Crashed, RequestTimeout) as exc:
            self._restart(f"{type(exc).__name__} during {command.name}: {exc}")
            raise
        except ProtocolError as exc:  # the stream may be out of step: start afresh
            self._restart(f"protocol error during {command.name}: {exc}")
            raise
        if command.mutates and handle is not None:
            self._journal.append(_Entry(handle, command.name, params, result))
        return result

    def new_handle(self) -> str:
        """Return a fresh handle name (the harness chooses handles, so replays reuse them)."""
        return f"h{next(self._handles)}"

    def close_handle(self, handle: str) -> None:
        """Forget a live object, on both sides."""
        self._journal = [e for e in self._journal if e.handle != handle]
        if handle in self._lost:
            self._lost.discard(handle)
            return
        try:
            self._exchange("close", {}, handle, self.options.request_timeout_s)
        except (Crashed, RequestTimeout, ProtocolError) as exc:
            self._restart(f"{type(exc).__name__} during close: {exc}")

    # ------------------------------------------------------------------ adapter interface

    def api(self, capability: str) -> Any:
        if capability not in self.capabilities:
            raise KeyError(f"{self.name} does not declare capability {capability!r}")
        return RemoteCapability(self, capability)

    def peek_stderr(self) -> str:
        """Return the stderr text not yet drained into a case, leaving it in place."""
        text = "".join(self._old_stderr)
        if self.process is not None:
            with self.process.lock:
                text += "".join(self.process.stderr)
        return text

    def drain_diagnostics(self) -> dict[str, Any]:
        """Return the stderr text and events since the last call (attached to the case)."""
        chunks, self._old_stderr = self._old_stderr, []
        if self.process is not None:
            with self.process.lock:
                chunks += self.process.stderr
                self.process.stderr.clear()
        text = "".join(chunks)
        if len(text) > STDERR_PER_CASE:
            text = f"[{len(text) - STDERR_PER_CASE} characters omitted]\n" + text[-STDERR_PER_CASE:]
        events, self._events = self._events, []
        return {"stderr": text, "events": events}

    def close(self) -> None:
        self._stop(kill=False)


def _params(command: Command, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    names = command.param_names
    if len(args) > len(names):
        raise TypeError(f"{command.name} takes {len(names)} arguments, got {len(args)}")
    params = dict(zip(names, args, strict=False))
    for key, value in kwargs.items():
        if key not in names or key in params:
            raise TypeError(f"{command.name}: unexpected or repeated argument {key!r}")
        params[key] = value
    return params


class RemoteCapability:
    """The API object of one capability of a subprocess implementation."""

    def __init__(self, owner: StdioImplementation, capability: str) -> None:
        self._owner = owner
        self._capability = capability

    def __getattr__(self, method: str) -> Any:
        command = COMMANDS.get(f"{self._capability}.{method}")
        if command is None or command.kind == "method":
            raise AttributeError(f"capability {self._capability} has no command {method!r}")
        owner = self._owner

        def call(*args: Any, **kwargs: Any) -> Any:
            params = _params(command, args, kwargs)
            if command.kind == "create":
                handle = owner.new_handle()
                owner.call(command, params, handle)
                return RemoteObject(owner, self._capability, handle)
            return owner.call(command, params)

        return call


class RemoteObject:
    """A stateful object (state tree, mempool, replica...) living in the subprocess."""

    def __init__(self, owner: StdioImplementation, capability: str, handle: str) -> None:
        self._owner = owner
        self._capability = capability
        self.handle = handle

    def __getattr__(self, method: str) -> Any:
        command = COMMANDS.get(f"{self._capability}.{method}")
        command = command or OBJECT_METHODS.get((self._capability, method))
        if command is None or command.kind != "method":
            raise AttributeError(f"{self._capability} objects have no method {method!r}")
        owner = self._owner

        def call(*args: Any, **kwargs: Any) -> Any:
            return owner.call(command, _params(command, args, kwargs), self.handle)

        return call

    def close(self) -> None:
        """Release the object in the subprocess."""
        self._owner.close_handle(self.handle)
