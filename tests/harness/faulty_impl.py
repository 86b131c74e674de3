"""A subprocess implementation with injectable faults, for testing the harness's stdio client.

It is the reference served over the protocol, except that ``encoding.canonical_json`` misbehaves
for a few magic string values: ``"crash"`` exits, ``"hang"`` never answers, ``"garbage"`` writes
a line that is not JSON, ``"wrong-id"`` answers with another id, ``"upper"`` answers in upper-case
hex (breaks the result schema), ``"stderr"`` writes a diagnostic line to stderr first.
``FAULTY_STDERR_EVERY`` logs every request to stderr; ``FAULTY_HELLO_DELAY`` (seconds) delays
the hello answer; ``FAULTY_CAPABILITIES`` (comma-separated) replaces the capabilities hello
declares and ``FAULTY_PROTOCOL`` the protocol version; ``FAULTY_LOG`` names a file that gets every
request line.

The hazards a harness must survive (tests/harness/test_hazards.py) are switched on by:

* ``FAULTY_PIDS``: a file that gets the pid of this process and of every child it starts;
* ``FAULTY_GRANDCHILD``: start a child (``sleep``) that inherits stdout and stderr and outlives
  this process unless its whole process group is killed;
* ``FAULTY_HELLO``: ``garbage`` (answer hello with a line that is not JSON), ``exit`` (write a
  traceback-like line to stderr and exit 7 before answering) or ``silent`` (never answer);
* ``FAULTY_ON``: ``cmd=fault[@n]`` items, comma-separated: on the n-th call of ``cmd`` (every
  call without ``@n``) ``crash`` (exit 3), ``huge`` (answer with a line of ``FAULTY_HUGE_MB``
  MiB, written in pieces), ``nested`` (an answer nesting 100,000 arrays deep), ``ansi`` (an
  internal error whose message, and a stderr line, carry ANSI escapes, NUL and BEL), ``stale``
  (answer, then write the same answer again), ``slow`` (sleep ``FAULTY_SLOW`` seconds, then
  answer).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter

from conformance.adapters.reference import ReferenceImplementation
from conformance.protocol.server import Server

CONTROL = "\x1b[2J\x1b[31mred\x1b[0m \x00nul \x07bel \x1b]0;title\x07 \x9b1m"


def _note_pid(pid: int) -> None:
    path = os.environ.get("FAULTY_PIDS")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(f"{pid}\n")


def _faults() -> dict[str, tuple[str, int | None]]:
    found: dict[str, tuple[str, int | None]] = {}
    for item in filter(None, os.environ.get("FAULTY_ON", "").split(",")):
        cmd, _, fault = item.partition("=")
        name, _, nth = fault.partition("@")
        found[cmd] = (name, int(nth) if nth else None)
    return found


def _write(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _huge(request_id: object) -> None:
    """Write one line of FAULTY_HUGE_MB MiB without ever holding it in memory."""
    size = int(float(os.environ.get("FAULTY_HUGE_MB", "64")) * 1024 * 1024)
    piece = "0" * (1024 * 1024)
    sys.stdout.write(f'{{"id":{json.dumps(request_id)},"ok":true,"result":"')
    for _ in range(size // len(piece)):
        sys.stdout.write(piece)
    _write('"}')


def _inject(fault: str, request: dict[str, object], line: str, server: Server) -> bool:
    """Misbehave as ``fault`` says; return True if the request is answered (or never will be)."""
    request_id = request.get("id")
    if fault == "crash":
        print("about to crash", file=sys.stderr, flush=True)
        os._exit(3)
    if fault == "huge":
        _huge(request_id)
        return True
    if fault == "nested":
        depth = 100_000
        result = "[" * depth + "]" * depth
        _write(f'{{"id":{json.dumps(request_id)},"ok":true,"result":{result}}}')
        return True
    if fault == "ansi":
        print(f"stderr with {CONTROL}", file=sys.stderr, flush=True)
        error = {"kind": "internal", "message": f"broken {CONTROL}", "rule": None}
        _write(json.dumps({"id": request_id, "ok": False, "error": error}))
        return True
    if fault == "stale":
        text, _ = server.respond(line)
        _write(text)
        time.sleep(0.2)
        _write(text)
        return True
    if fault == "slow":
        time.sleep(float(os.environ.get("FAULTY_SLOW", "3")))
    return False


def main() -> None:
    _note_pid(os.getpid())
    if os.environ.get("FAULTY_GRANDCHILD"):
        child = subprocess.Popen(["sleep", "600"])  # inherits stdin, stdout and stderr
        _note_pid(child.pid)
    server = Server(ReferenceImplementation())
    log = open(os.environ["FAULTY_LOG"], "a") if os.environ.get("FAULTY_LOG") else None  # noqa: SIM115
    faults = _faults()
    calls: Counter[str] = Counter()
    for line in sys.stdin:
        if log:
            log.write(line)
            log.flush()
        request = json.loads(line)
        cmd = request.get("cmd")
        calls[cmd] += 1
        if os.environ.get("FAULTY_STDERR_EVERY"):
            print(f"request {cmd}", file=sys.stderr, flush=True)
        if cmd == "hello":
            time.sleep(float(os.environ.get("FAULTY_HELLO_DELAY", "0")))
            hello = os.environ.get("FAULTY_HELLO")
            if hello == "garbage":
                _write("Listening on port 8080")
                continue
            if hello == "exit":
                print("ModuleNotFoundError: No module named 'mynode'", file=sys.stderr, flush=True)
                sys.exit(7)
            if hello == "silent":
                continue
        fault, nth = faults.get(cmd, ("", None))
        if fault and (nth is None or nth == calls[cmd]) and _inject(fault, request, line, server):
            continue
        value = request.get("params", {}).get("value")
        if cmd == "encoding.canonical_json" and isinstance(value, str):
            if value == "crash":
                print("about to crash", file=sys.stderr, flush=True)
                os._exit(3)
            if value == "hang":
                time.sleep(3600)
            if value == "garbage":
                _write("this is not json")
                continue
            if value == "wrong-id":
                _write(json.dumps({"id": request["id"] + 1000, "ok": True, "result": ""}))
                continue
            if value == "upper":
                _write(json.dumps({"id": request["id"], "ok": True, "result": "AB"}))
                continue
            if value == "stderr":
                print("diagnostic line from the implementation", file=sys.stderr, flush=True)
        text, keep = server.respond(line)
        if cmd == "hello":
            text = _edit_hello(text)
        _write(text)
        if not keep:
            break


def _edit_hello(text: str) -> str:
    response = json.loads(text)
    declared = os.environ.get("FAULTY_CAPABILITIES")
    if declared is not None:
        response["result"]["capabilities"] = [c for c in declared.split(",") if c]
    if os.environ.get("FAULTY_PROTOCOL"):
        response["result"]["protocol"] = int(os.environ["FAULTY_PROTOCOL"])
    if os.environ.get("FAULTY_NAME"):
        response["result"]["name"] = os.environ["FAULTY_NAME"]
    return json.dumps(response)


if __name__ == "__main__":
    main()
