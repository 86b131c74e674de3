"""A subprocess implementation with injectable faults, for testing the harness's stdio client.

It is the reference served over the protocol, except that ``encoding.canonical_json`` misbehaves
for a few magic string values: ``"crash"`` exits, ``"hang"`` never answers, ``"garbage"`` writes
a line that is not JSON, ``"wrong-id"`` answers with another id, ``"upper"`` answers in upper-case
hex (breaks the result schema), ``"stderr"`` writes a diagnostic line to stderr first.
``FAULTY_STDERR_EVERY`` logs every request to stderr; ``FAULTY_HELLO_DELAY`` (seconds) delays
the hello answer; ``FAULTY_CAPABILITIES`` (comma-separated) replaces the capabilities hello
declares and ``FAULTY_PROTOCOL`` the protocol version; ``FAULTY_LOG`` names a file that gets every
request line.
"""

from __future__ import annotations

import json
import os
import sys
import time

from conformance.adapters.reference import ReferenceImplementation
from conformance.protocol.server import Server


def main() -> None:
    server = Server(ReferenceImplementation())
    log = open(os.environ["FAULTY_LOG"], "a") if os.environ.get("FAULTY_LOG") else None  # noqa: SIM115
    for line in sys.stdin:
        if log:
            log.write(line)
            log.flush()
        request = json.loads(line)
        if os.environ.get("FAULTY_STDERR_EVERY"):
            print(f"request {request.get('cmd')}", file=sys.stderr, flush=True)
        if request.get("cmd") == "hello":
            time.sleep(float(os.environ.get("FAULTY_HELLO_DELAY", "0")))
        value = request.get("params", {}).get("value")
        if request.get("cmd") == "encoding.canonical_json" and isinstance(value, str):
            if value == "crash":
                print("about to crash", file=sys.stderr, flush=True)
                os._exit(3)
            if value == "hang":
                time.sleep(3600)
            if value == "garbage":
                sys.stdout.write("this is not json\n")
                sys.stdout.flush()
                continue
            if value == "wrong-id":
                sys.stdout.write(
                    json.dumps({"id": request["id"] + 1000, "ok": True, "result": ""}) + "\n"
                )
                sys.stdout.flush()
                continue
            if value == "upper":
                sys.stdout.write(
                    json.dumps({"id": request["id"], "ok": True, "result": "AB"}) + "\n"
                )
                sys.stdout.flush()
                continue
            if value == "stderr":
                print("diagnostic line from the implementation", file=sys.stderr, flush=True)
        text, keep = server.respond(line)
        if request.get("cmd") == "hello":
            text = _edit_hello(text)
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
        if not keep:
            break


def _edit_hello(text: str) -> str:
    response = json.loads(text)
    declared = os.environ.get("FAULTY_CAPABILITIES")
    if declared is not None:
        response["result"]["capabilities"] = [c for c in declared.split(",") if c]
    if os.environ.get("FAULTY_PROTOCOL"):
        response["result"]["protocol"] = int(os.environ["FAULTY_PROTOCOL"])
    return json.dumps(response)


if __name__ == "__main__":
    main()
