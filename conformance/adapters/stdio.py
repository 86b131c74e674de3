"""Talk to an implementation in any language over the subprocess protocol (conformance/PROTOCOL.md).

:class:`StdioImplementation` starts the command, says ``hello`` within the start-up timeout, and
then offers the same Python API as the reference adapter: every call becomes one JSON-lines
request, answered within the per-request timeout. It never sends an expected answer: only the
inputs of a command.

When the process crashes or a request times out, the call fails (the case is reported as
``error`` or ``timeout``), the process is restarted, and the requests that built the objects
still in use (creates and mutating methods of live handles) are replayed in order, so later
cases run on a fresh process with the same state. Everything the process writes to stderr is
kept and attached to the case during which it was written, with the restart notes and the
request/response transcript of the case (capped).

A broken implementation cannot break the harness (PROTOCOL.md, "What the harness tolerates"):

* the implementation runs in its own process group, and the whole group (children it started,
  as under ``sh -c``, ``npm run`` or ``cargo run``) is killed at stop, at a restart and when
  ``hello`` fails;
* a process that exits while a child still holds its output pipe open is a crash, not a timeout;
* a response line longer than :data:`MAX_LINE_BYTES` is read in bounded pieces, discarded and
  reported as a protocol error; so is an answer nesting deeper than :data:`MAX_DEPTH`;
* a line that arrives while no request is pending is noted as such and never blamed on the next
  request; the late answer to a request abandoned by the case timeout is drained the same way.
"""

from __future__ import annotations

import codecs
import contextlib
import itertools
import json
import os
import queue
import select
import shlex
import signal
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import conformance
from aethel.encoding import too_deep_for_the_decoder
from conformance.adapters.errors import (
    Crashed,
    ImplementationError,
    ImplementationFailure,
    ProtocolError,
    Rejected,
    RequestTimeout,
    Unsupported,
)
from conformance.adapters.load_options import LoadOptions
from conformance.capabilities import parse_capabilities, parse_consensus_versions
from conformance.protocol.commands import COMMANDS, OBJECT_METHODS
from conformance.protocol.commands.consensus import OBJECT_CAPABILITY
from conformance.protocol.commands.model import Command
from conformance.protocol.schema import PROTOCOL_VERSION, MessageValidator

#: Most stderr text attached to one case (the rest is summarized).
STDERR_PER_CASE = 20_000
#: Most stderr text held between two cases (older text is dropped first, and counted).
STDERR_HELD = 4 * STDERR_PER_CASE
#: Longest response line the harness reads, newline included (PROTOCOL.md, Framing).
MAX_LINE_BYTES = 32 * 1024 * 1024
#: Deepest nesting of arrays and objects in a response line, the response object included.
MAX_DEPTH = 128
#: Transcript kept per case: the last lines, each cut to this many characters.
TRANSCRIPT_LINES = 40
TRANSCRIPT_LINE_CHARS = 2_000
#: Longest wait, at the end of a case, for stderr already written to reach its reader (seconds).
STDERR_SETTLE_S = 0.05
#: How often the stderr reader, waiting for data, looks whether its pipe was closed (seconds).
STDERR_POLL_S = 0.2
#: How often a wait for an answer checks that the process is still alive (seconds).
POLL_S = 0.1
#: After the process exited, how long lines it wrote before exiting may take to arrive.
EXIT_GRACE_S = 0.5
_EOF = object()


@dataclass(frozen=True, slots=True)
class _Oversize:
    """A response line longer than MAX_LINE_BYTES, read and discarded: only its size is kept."""

    size: int


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
    stderr: deque[str] = field(default_factory=deque)
    stderr_chars: int = 0
    stderr_dropped: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: Held while the stderr reader reads the pipe and keeps what it read, and while the end of
    #: a case checks the pipe is empty (:func:`_settle_stderr`).
    stderr_read_lock: threading.Lock = field(default_factory=threading.Lock)
    readers: list[threading.Thread] = field(default_factory=list)

    def add_stderr(self, text: str) -> None:
        """Keep ``text``, dropping the oldest text beyond STDERR_HELD (counted)."""
        with self.lock:
            self.stderr.append(text)
            self.stderr_chars += len(text)
            while self.stderr_chars > STDERR_HELD and len(self.stderr) > 1:
                dropped = self.stderr.popleft()
                self.stderr_chars -= len(dropped)
                self.stderr_dropped += len(dropped)

    def take_stderr(self) -> list[str]:
        """Return the kept stderr text (with a note of what was dropped) and clear it."""
        with self.lock:
            chunks = list(self.stderr)
            if self.stderr_dropped:
                chunks.insert(0, f"[{self.stderr_dropped} characters of stderr dropped]\n")
            self.stderr.clear()
            self.stderr_chars = self.stderr_dropped = 0
        return chunks

    def peek_stderr(self) -> str:
        with self.lock:
            return "".join(self.stderr)


def kill_group(popen: subprocess.Popen[bytes]) -> None:
    """Kill the process and every process of its group (it leads its own group)."""
    if hasattr(os, "killpg"):
        # ProcessLookupError: the group is already empty.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(popen.pid, signal.SIGKILL)
    if popen.poll() is None:
        popen.kill()


def _settle_stderr(process: _Process, limit_s: float = STDERR_SETTLE_S) -> None:
    """Wait (briefly) until the stderr reader has taken and kept what is already in the pipe.

    The answer and the stderr lines written before it travel on two pipes read by two threads:
    without this, a line written just before the answer can land in the next case's report. The
    pipe is checked under the lock the reader holds from its read to keeping what it read, so an
    empty pipe means every byte written before is kept (a read done but not yet kept, the reader
    waiting for the interpreter, is waited for).
    """
    stream = process.popen.stderr
    if stream is None or stream.closed:
        return
    deadline = time.monotonic() + limit_s
    while True:
        with process.stderr_read_lock:
            try:
                readable, _, _ = select.select([stream.fileno()], [], [], 0)
            except (OSError, ValueError):
                return
        if not readable or time.monotonic() >= deadline:
            return
        time.sleep(0.001)


def json_depth_exceeds(value: Any, limit: int) -> bool:
    """Return whether ``value`` nests arrays and objects more than ``limit`` deep (iteratively)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            items: Any = item.values()
        elif isinstance(item, list):
            items = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in items)
    return False


def parse_line(raw: bytes) -> tuple[Any, str | None]:
    """Parse one response line; return ``(value, None)`` or ``(None, what is wrong with it)``."""
    if too_deep_for_the_decoder(raw, MAX_DEPTH):  # see too_deep_for_the_decoder
        return None, f"the line nests deeper than {MAX_DEPTH} levels"
    try:
        value = json.loads(raw)
    except RecursionError:
        return None, f"the line nests deeper than {MAX_DEPTH} levels"
    except ValueError:
        return None, f"the line is not JSON: {raw[:200]!r}"
    # Only a line with enough brackets can be too deep: count them in C before walking.
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and json_depth_exceeds(value, MAX_DEPTH):
        return None, f"the line nests deeper than {MAX_DEPTH} levels"
    return value, None


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
        #: Ids of requests given up while pending (case timeout): their late answers are drained.
        self._abandoned: set[int] = set()
        #: A request was cut off while being written: the stream is out of step until a restart.
        self._torn = False
        self._case_lines: deque[str] = deque(maxlen=TRANSCRIPT_LINES)
        self._case_lines_total = 0
        self.restarts = 0
        #: When a list, every response line is appended to it (the ghost cases scan them, R5.3).
        self.transcript: list[str] | None = None
        self.process: _Process | None = None
        self.name = "?"
        self.version = "?"
        self.protocol_version = PROTOCOL_VERSION
        self.capabilities: frozenset[str] = frozenset()
        self.consensus_versions: frozenset[int] = frozenset({1})
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
                start_new_session=True,  # its own process group: killed as a whole
            )
        except OSError as exc:
            raise Crashed(f"cannot start {self.command!r}: {exc}") from None
        process = _Process(popen)
        for reader in (self._read_stdout, self._read_stderr):
            thread = threading.Thread(target=reader, args=(process,), daemon=True)
            thread.start()
            process.readers.append(thread)
        self.process = process
        try:
            self._hello()
        except BaseException as exc:
            # A process that fails hello is killed with its group, and what it wrote on stderr
            # ends the message: that is usually why it failed (a traceback, "not found").
            self._stop(kill=True)
            if isinstance(exc, ImplementationFailure):
                tail = self._stderr_tail()
                if tail:
                    raise type(exc)(f"{exc}\nits stderr ends with:\n{tail}") from None
            raise

    def _hello(self) -> None:
        params = {"protocol": [PROTOCOL_VERSION], "suite": conformance.__version__}
        # The version and the capabilities are checked first, so that a mismatch is reported
        # as such and not as a schema violation (PROTOCOL.md, Versions and capabilities).
        hello = self._exchange(
            "hello", params, None, self.options.startup_timeout_s, check_response=False
        )
        if not isinstance(hello, dict):
            raise ProtocolError(f"hello answered {hello!r:.200}")
        if hello.get("protocol") != PROTOCOL_VERSION:
            raise ProtocolError(
                f"hello: the implementation speaks protocol {hello.get('protocol')!r:.50}; "
                f"this suite offered {PROTOCOL_VERSION}"
            )
        try:
            capabilities = parse_capabilities(hello.get("capabilities", []))
            consensus_versions = parse_consensus_versions(hello.get("consensus_versions"))
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
        #: The consensus protocol versions it declares (absent from hello: version 1 only).
        self.consensus_versions = consensus_versions

    def _stderr_tail(self, lines: int = 15) -> str:
        text = "".join(self._old_stderr[-200:])
        return "\n".join(text.rstrip().splitlines()[-lines:])[-3000:]

    @staticmethod
    def _read_stdout(process: _Process) -> None:
        stream = process.popen.stdout
        assert stream is not None
        limit = MAX_LINE_BYTES
        while True:
            raw = stream.readline(limit)
            if not raw:
                break
            if len(raw) == limit and not raw.endswith(b"\n"):
                size = len(raw)
                del raw  # never hold more than one bounded piece of an oversized line
                while True:
                    piece = stream.readline(1 << 20)
                    size += len(piece)
                    if not piece or piece.endswith(b"\n"):
                        break
                process.lines.put(_Oversize(size))
                continue
            process.lines.put(raw)
        process.lines.put(_EOF)

    @staticmethod
    def _read_stderr(process: _Process) -> None:
        """Keep what the process writes on stderr, until end of file or the pipe is closed.

        Each read and the keeping of what it read happen under ``stderr_read_lock``
        (:func:`_settle_stderr`); the wait for data does not, and wakes every STDERR_POLL_S
        to notice a pipe closed under it.
        """
        stream = process.popen.stderr
        assert stream is not None
        fd = stream.fileno()
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        while True:
            try:
                ready, _, _ = select.select([fd], [], [], STDERR_POLL_S)
            except (OSError, ValueError):
                return
            if not ready and not stream.closed:
                continue
            with process.stderr_read_lock:
                if stream.closed:
                    return
                try:
                    raw = os.read(fd, STDERR_PER_CASE)
                except OSError:
                    return
                text = decoder.decode(raw, final=not raw)
                if text:
                    process.add_stderr(text)
            if not raw:
                return

    def _stop(self, *, kill: bool) -> int | None:
        process, self.process = self.process, None
        if process is None:
            return None
        popen = process.popen
        if not kill and popen.poll() is None and not self._torn:
            try:
                request = {"id": next(self._ids), "cmd": "shutdown", "params": {}}
                assert popen.stdin is not None
                popen.stdin.write((json.dumps(request) + "\n").encode())
                popen.stdin.flush()
                popen.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        # Always: whatever the implementation started (a child under `sh -c`, a worker it
        # forgot) goes with it, so nothing is left behind holding the pipes.
        kill_group(popen)
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(timeout=10)
        for thread in process.readers:  # they end at end of file, once the group is gone
            thread.join(timeout=2)
        for pipe in (popen.stdin, popen.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError, ValueError):
                    pipe.close()
        if popen.stderr is not None:
            with process.stderr_read_lock, contextlib.suppress(OSError, ValueError):
                popen.stderr.close()  # never under a read: the reader sees it closed
        self._old_stderr.extend(process.take_stderr())
        self._abandoned.clear()
        self._torn = False
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

    def _note_line(self, text: str) -> None:
        """Keep one line of the case's transcript (the last TRANSCRIPT_LINES, each cut)."""
        if len(text) > TRANSCRIPT_LINE_CHARS:
            text = f"{text[:TRANSCRIPT_LINE_CHARS]}... [{len(text)} characters]"
        self._case_lines.append(text)
        self._case_lines_total += 1

    def _stray(self, item: object, where: str) -> None:
        """Note a line that answers no pending request: a late answer or an unsolicited line."""
        if isinstance(item, _Oversize):
            self._events.append(f"{where}: a line of {item.size} bytes arrived (discarded)")
            return
        assert isinstance(item, bytes)
        text = item.decode("utf-8", errors="replace").rstrip("\n")
        value, _ = parse_line(item)
        answered = value.get("id") if isinstance(value, dict) else None
        if isinstance(answered, int) and answered in self._abandoned:
            self._abandoned.discard(answered)
            self._events.append(
                f"late answer to request {answered}, abandoned when its case timed out: drained"
            )
            self._note_line(f"<- (late, drained) {text}")
            return
        self._events.append(
            f"protocol: the implementation wrote a line answering no pending request "
            f"({where}; ignored): {text[:200]!r}"
        )
        self._note_line(f"<- (no request pending) {text}")

    def _drain_stray(self, process: _Process) -> None:
        """Take every line already queued before a request is sent: none of them answers it."""
        while True:
            try:
                item = process.lines.get_nowait()
            except queue.Empty:
                return
            if item is _EOF:
                process.lines.put(_EOF)  # the next read sees the end of file
                return
            self._stray(item, "between requests")

    def _next_item(self, process: _Process, cmd: str, deadline: float, timeout: float) -> object:
        """Return the next line (or end of file) within the deadline; detect a silent exit."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RequestTimeout(f"{cmd}: no answer within {timeout:g} s")
            try:
                return process.lines.get(timeout=min(remaining, POLL_S))
            except queue.Empty:
                code = process.popen.poll()
                if code is None:
                    continue
            # The process exited but its output is still open: a child it started holds it.
            try:
                return process.lines.get(timeout=EXIT_GRACE_S)
            except queue.Empty:
                raise Crashed(
                    f"the implementation exited (code {code}) during {cmd}; another process "
                    "(a child it started) still holds its output open"
                ) from None

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
        self._drain_stray(process)
        request_id = next(self._ids)
        request: dict[str, Any] = {"id": request_id, "cmd": cmd, "params": params}
        if handle is not None:
            request["handle"] = handle
        if self.validator:
            problems = self.validator.problems("request", cmd, request)
            if problems:
                raise ProtocolError(f"harness request for {cmd} breaks its schema: {problems}")
        line = json.dumps(request, ensure_ascii=True, separators=(",", ":")) + "\n"
        self._note_line(f"-> {line.rstrip()}")
        try:
            assert process.popen.stdin is not None
            process.popen.stdin.write(line.encode("ascii"))
            process.popen.stdin.flush()
        except (BrokenPipeError, OSError):
            code = None
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = process.popen.wait(timeout=1)
            if code is not None:
                raise Crashed(f"the implementation exited (code {code}) before {cmd}") from None
            raise Crashed(f"the implementation closed its input before {cmd}") from None
        except BaseException:  # e.g. the case timeout, mid-line: the stream is out of step
            self._torn = True
            raise
        try:
            response = self._await(process, cmd, request_id, timeout)
        except BaseException:
            # Given up while pending (the case timeout fired, or a failure): its late answer,
            # if it ever comes, is drained instead of being read as the next request's answer.
            self._abandoned.add(request_id)
            raise
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
        raise ImplementationError(f"{cmd}: {kind!r:.50}: {message}")

    def _await(
        self, process: _Process, cmd: str, request_id: int, timeout: float
    ) -> dict[str, Any]:
        """Return the response to ``request_id``, draining late answers to abandoned requests."""
        deadline = time.monotonic() + timeout
        strays: list[int] = []
        while True:
            try:
                raw = self._next_item(process, cmd, deadline, timeout)
            except RequestTimeout as exc:
                if strays:  # say what came instead of the answer
                    raise RequestTimeout(
                        f"{exc}; lines answering earlier requests {strays} came"
                    ) from None
                raise
            if raw is _EOF:
                code = process.popen.poll()
                raise Crashed(f"the implementation exited during {cmd} (exit code {code})")
            if isinstance(raw, _Oversize):
                self._note_line(f"<- [a line of {raw.size} bytes, discarded]")
                raise ProtocolError(
                    f"{cmd}: the answer is a line of {raw.size} bytes, over the protocol's "
                    f"maximum of {MAX_LINE_BYTES} bytes (PROTOCOL.md, Framing)"
                )
            assert isinstance(raw, bytes)
            if not raw.strip():
                continue
            text = raw.decode("utf-8", errors="replace")
            if self.transcript is not None:
                self.transcript.append(text)
            response, problem = parse_line(raw)
            if problem is not None:
                self._note_line(f"<- {text.rstrip()}")
                raise ProtocolError(f"{cmd}: {problem}")
            answered = response.get("id") if isinstance(response, dict) else None
            if (
                isinstance(answered, int)
                and not isinstance(answered, bool)
                and answered < request_id
            ):
                # Requests go one at a time: an earlier id answers a request already answered
                # (a duplicate) or abandoned (a late answer). Note it; it is not this answer.
                self._stray(raw, f"while waiting for {cmd}")
                strays.append(answered)
                continue
            self._note_line(f"<- {text.rstrip()}")
            if not isinstance(response, dict) or "id" not in response:
                raise ProtocolError(f"{cmd}: answer is not a response object: {raw[:200]!r}")
            if answered != request_id:
                raise ProtocolError(f"{cmd}: answer has id {answered!r:.50}, expected {request_id}")
            return response

    def call(self, command: Command, params: dict[str, Any], handle: str | None = None) -> Any:
        """Run ``command``; on a crash or timeout restart, replay, and raise the failure."""
        if handle is not None and handle in self._lost:
            raise ImplementationError(
                f"object {handle} was lost in a restart of the implementation"
            )
        if self._torn:
            self._restart("a request was cut off while being written")
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
            text += self.process.peek_stderr()
        return text

    def drain_diagnostics(self) -> dict[str, Any]:
        """Return the stderr text, events and transcript since the last call (for the case)."""
        if self.process is not None and not self._torn:
            self._drain_stray(self.process)
        if self.process is not None:
            _settle_stderr(self.process)
        chunks, self._old_stderr = self._old_stderr, []
        if self.process is not None:
            chunks += self.process.take_stderr()
        text = "".join(chunks)
        if len(text) > STDERR_PER_CASE:
            text = f"[{len(text) - STDERR_PER_CASE} characters omitted]\n" + text[-STDERR_PER_CASE:]
        events, self._events = self._events, []
        lines = list(self._case_lines)
        omitted = self._case_lines_total - len(lines)
        if omitted:
            lines.insert(0, f"[{omitted} earlier line(s) omitted]")
        self._case_lines.clear()
        self._case_lines_total = 0
        return {"stderr": text, "events": events, "transcript": lines}

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
                made = OBJECT_CAPABILITY.get(command.name, command.capability)
                return RemoteObject(owner, made.value, handle)
            return owner.call(command, params)

        return call


class RemoteObject:
    """A stateful object (state tree, mempool, replica...) living in the subprocess.

    ``capability`` is the capability whose objects it is: that of the command that made it, or
    the one :data:`~conformance.protocol.commands.consensus.OBJECT_CAPABILITY` names (a
    ``vote-journal.open`` object is a replica and answers the replica commands).
    """

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
