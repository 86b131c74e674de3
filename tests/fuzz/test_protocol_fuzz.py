"""Grammar-based fuzzing of the subprocess protocol server's request lines (PROTOCOL.md).

Requests are built from the commands' own table (:data:`conformance.protocol.commands.COMMANDS`)
with parameters taken from the generated test vectors' inputs and real proofs, then changed at
the value level (a parameter replaced by arbitrary JSON, removed or added) or the text level
(bytes spliced, removed, repeated). Every line gets exactly one JSON response line that echoes
the request's id when there is one, and the server keeps serving: a malformed line is a
``bad-request``, a refused input ``rejected`` or ``unsupported``. An ``internal`` error means the
reference raised an untyped exception on input a harness (or a peer) can send: a crash.

The stateful commands run on objects made by earlier lines of the same session; commands that
touch the file system (``state-store.open``) or start worker pools (``verifier.verify_block``)
are left out.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aethel.proofs.judge import generate_standard_mix
from conformance.adapters.reference import ReferenceImplementation
from conformance.protocol.commands import COMMANDS
from conformance.protocol.server import Server
from conformance.testvectors.model import load_vectors

from .strategies import json_values, mutated_bytes, replaced

LEFT_OUT = {"state-store.open", "verifier.verify_block"}
SESSION = ("hello", "close", "shutdown")


@functools.cache
def _samples() -> dict[str, list[dict[str, Any]]]:
    """Valid parameters of each command: vector inputs, real proofs and a few by hand."""
    samples: dict[str, list[dict[str, Any]]] = {}
    for vector in load_vectors():
        name = f"{vector.runner}.{vector.handler}"
        if name in COMMANDS:
            samples.setdefault(name, []).append(vector.input)
    proof = generate_standard_mix(1, seed=2)[0].to_json()
    samples.setdefault("verifier.verify_proof", []).append({"proof": proof})
    samples.setdefault("verifier.verify", []).append({"proof": proof})
    samples.setdefault("mempool.add_proof", []).append({"proof": proof})
    samples.setdefault("mempool.new", []).append({"capacity": 4, "judge_seed": "07" * 32})
    samples.setdefault("state-tree.new", []).append({"cache_size": 16})
    samples.setdefault("state-tree.update", []).append({"key": "a", "value": {"b": 1}})
    samples.setdefault("state-tree.prove", []).append({"key": "a"})
    samples.setdefault("ghost.new", []).append({"secret": "01" * 32})
    samples.setdefault("verifier.difficulty", []).append({"effort": 5, "size": 300})
    for name, command in COMMANDS.items():
        if name not in samples and not command.param_names:
            samples[name] = [{}]
    return {name: found for name, found in samples.items() if name not in LEFT_OUT}


@st.composite
def requests(draw: st.DrawFn, request_id: int) -> dict[str, Any]:
    name = draw(st.sampled_from(sorted(_samples()) + list(SESSION)))
    params: Any = draw(st.sampled_from(_samples().get(name, [{}])))
    if draw(st.integers(0, 2)) > 0:
        params = draw(replaced(params))
    request: dict[str, Any] = {"id": request_id, "cmd": name, "params": params}
    if (name in COMMANDS and COMMANDS[name].kind in ("create", "method")) or name == "close":
        request["handle"] = draw(st.sampled_from(["h1", "h2", "", 5]))
    if draw(st.integers(0, 9)) == 0:
        request = draw(replaced(request))
    return request


@st.composite
def lines(draw: st.DrawFn, request_id: int) -> tuple[str, bool]:
    """A request line and whether it is JSON with its id intact (so the id must come back)."""
    request = draw(requests(request_id))
    line = json.dumps(request)
    if draw(st.integers(0, 3)) > 0:
        return line, request.get("id") == request_id
    raw = draw(mutated_bytes(line.encode()))
    return raw.decode("utf-8", "replace").replace("\n", " ").replace("\r", " "), False


def _samples_of_mempool() -> dict[str, Any]:
    return {"capacity": 4, "judge_seed": "07" * 32}


HELLO = json.dumps({"id": 0, "cmd": "hello", "params": {"protocol": [1]}})
MAKE = [
    {"id": -1, "cmd": "state-tree.new", "handle": "h1", "params": {"cache_size": 8}},
    {"id": -2, "cmd": "mempool.new", "handle": "h2", "params": _samples_of_mempool()},
]


@pytest.mark.req("N6")
@given(data=st.data())
def test_every_request_line_gets_one_typed_response(data: st.DataObject) -> None:
    server = Server(ReferenceImplementation())
    for line in [HELLO, *map(json.dumps, MAKE)]:
        server.respond(line)
    for request_id in range(1, data.draw(st.integers(1, 6)) + 1):
        line, intact = data.draw(lines(request_id))
        text, keep = server.respond(line)
        response = json.loads(text)
        if response["ok"] is False:
            error = response["error"]
            assert error["kind"] in ("bad-request", "rejected", "unsupported"), (line, error)
        if intact:
            assert response["id"] == request_id, (line, response)
        if not keep:
            break


@pytest.mark.req("N6")
@given(value=json_values)
def test_a_line_of_any_json_gets_a_typed_response(value: Any) -> None:
    server = Server(ReferenceImplementation())
    response = json.loads(server.respond(json.dumps(value))[0])
    assert response["ok"] is False, response
    assert response["error"]["kind"] in ("bad-request", "unsupported"), response
