"""The reference's protocol server answers every line by the protocol (conformance/PROTOCOL.md).

A request it cannot read, or one that breaks its schema, gets a ``bad-request`` error on one valid
JSON line and never reaches the implementation; the implementation's own refusals stay
``rejected``.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conformance.adapters.reference import ReferenceImplementation
from conformance.protocol.server import Server


@pytest.fixture(scope="module")
def server() -> Server:
    return Server(ReferenceImplementation())


def answer(server: Server, line: str) -> dict[str, object]:
    text, keep = server.respond(line)
    assert keep
    response = json.loads(text, parse_constant=_not_json)
    assert isinstance(response, dict)
    assert set(response) in ({"id", "ok", "error"}, {"id", "ok", "result"}), response
    return response


def _not_json(name: str) -> object:
    raise AssertionError(f"the server wrote {name}, which is not JSON")


@pytest.mark.parametrize(
    "line",
    [
        pytest.param('{"id": NaN, "cmd": "list-hash.root", "params": {"entries": []}}', id="nan"),
        pytest.param(
            '{"id": Infinity, "cmd": "list-hash.root", "params": {"entries": []}}', id="inf"
        ),
        pytest.param(
            '{"id": 1e400, "cmd": "list-hash.root", "params": {"entries": []}}', id="1e400"
        ),
        pytest.param(
            '{"id": -1, "cmd": "list-hash.root", "params": {"entries": []}}', id="negative"
        ),
        pytest.param('{"id": true, "cmd": "list-hash.root", "params": {"entries": []}}', id="bool"),
        pytest.param('{"id": 1.5, "cmd": "list-hash.root", "params": {"entries": []}}', id="float"),
        pytest.param('{"cmd": "list-hash.root", "params": {"entries": []}}', id="missing"),
        pytest.param('{"id": 1, "cmd": "list-hash.root", "params": {"entries": []', id="cut"),
        pytest.param("[" * 100_000, id="deep"),
    ],
)
def test_a_request_without_a_usable_id_gets_a_json_error_line_with_id_null(
    server: Server, line: str
) -> None:
    response = answer(server, line)
    assert response["id"] is None and response["ok"] is False
    assert response["error"]["kind"] == "bad-request"  # type: ignore[index]


@pytest.mark.parametrize(
    ("request_", "problem"),
    [
        pytest.param(
            {"id": 7, "cmd": "list-hash.root", "params": {"entries": []}, "expected": "x"},
            "'expected' was unexpected",
            id="unknown-member",
        ),
        pytest.param({"id": 7, "cmd": "list-hash.root"}, "'params' is a required", id="no-params"),
        pytest.param(
            {"id": 7, "cmd": "list-hash.root", "params": {"entries": "abc"}},
            "'abc' is not of type 'array'",
            id="string-for-list",
        ),
        pytest.param(
            {"id": 7, "cmd": "list-hash.prove_inclusion", "params": {"entries": [], "index": "0"}},
            "'0' is not of type 'integer'",
            id="string-for-int",
        ),
        pytest.param(
            {"id": 7, "cmd": "list-hash.root", "params": {"entries": [], "size": 1}},
            "'size' was unexpected",
            id="unknown-param",
        ),
        pytest.param(
            {"id": 7, "cmd": "state-tree.get", "handle": "", "params": {"key": "00"}},
            "handle",
            id="empty-handle",
        ),
    ],
)
def test_a_request_breaking_its_schema_is_a_bad_request_naming_the_problem(
    server: Server, request_: dict[str, object], problem: str
) -> None:
    response = answer(server, json.dumps(request_))
    assert response["id"] == 7 and response["ok"] is False
    error = response["error"]
    assert isinstance(error, dict) and error["kind"] == "bad-request", error
    assert problem in error["message"]


def test_list_hash_root_of_a_string_is_refused_not_hashed_as_a_list(server: Server) -> None:
    """Before: the string "abc" was iterated and hashed as ["a", "b", "c"]."""
    refused = answer(server, '{"id": 1, "cmd": "list-hash.root", "params": {"entries": "abc"}}')
    listed = answer(
        server, '{"id": 2, "cmd": "list-hash.root", "params": {"entries": ["a","b","c"]}}'
    )
    assert refused["ok"] is False and listed["ok"] is True


def test_an_unknown_command_is_unsupported_and_a_refusal_stays_rejected(server: Server) -> None:
    unknown = answer(server, '{"id": 3, "cmd": "list-hash.nope", "params": {}}')
    assert unknown["error"]["kind"] == "unsupported"  # type: ignore[index]
    rejected = answer(
        server, '{"id": 4, "cmd": "encoding.parse_canonical_json", "params": {"data": "312e35"}}'
    )
    assert rejected["error"] == {
        "kind": "rejected",
        "message": rejected["error"]["message"],
        "rule": "E2",
    }  # type: ignore[index]


def test_the_served_reference_answers_garbage_line_by_line() -> None:
    """The real process: every line in, one valid JSON line out, and it keeps serving."""
    lines = [
        '{"id": NaN, "cmd": "hello", "params": {"protocol": [1]}}',
        "not json at all",
        '{"id": 2, "cmd": "hello", "params": {"protocol": [1]}}',
        '{"id": 3, "cmd": "shutdown", "params": {}}',
    ]
    done = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "serve-reference"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert [a["id"] for a in answers] == [None, None, 2, 3]
    assert answers[2]["ok"] is True and answers[2]["result"]["protocol"] == 1
