"""The subprocess client: hello, timeouts, crash -> restart, protocol errors, stderr, schemas."""

from __future__ import annotations

import json
import shlex
import sys
import time
from pathlib import Path

import pytest

from conformance.adapters import (
    Crashed,
    LoadOptions,
    ProtocolError,
    Rejected,
    RequestTimeout,
    load_implementation,
)
from conformance.adapters.stdio import StdioImplementation
from conformance.protocol.cli import SCHEMA_FILE, render_schema
from conformance.protocol.schema import MessageValidator

FAULTY = (
    f"{shlex.quote(sys.executable)} {shlex.quote(str(Path(__file__).with_name('faulty_impl.py')))}"
)


@pytest.fixture
def faulty(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("FAULTY_LOG", str(tmp_path / "requests.log"))
    impl = StdioImplementation(FAULTY, LoadOptions(request_timeout_s=2, validate_protocol=True))
    yield impl
    impl.close()


def test_hello_declares_identity_and_capabilities(faulty: StdioImplementation) -> None:
    assert faulty.name == "aethel-reference"
    assert "encoding" in faulty.capabilities and faulty.protocol_version == 1
    assert faulty.api("encoding").canonical_json({"b": 1, "a": 2}) == b'{"a":2,"b":1}'.hex()


def test_rejection_carries_the_rule(faulty: StdioImplementation) -> None:
    with pytest.raises(Rejected) as caught:
        faulty.api("encoding").parse_canonical_json(b"1.5".hex())
    assert caught.value.rule_id == "E2"


def test_crash_restarts_and_keeps_stderr(faulty: StdioImplementation) -> None:
    encoding = faulty.api("encoding")
    with pytest.raises(Crashed):
        encoding.canonical_json("crash")
    assert faulty.restarts == 1
    assert encoding.canonical_json(1) == b"1".hex()  # the restarted process answers
    notes = faulty.drain_diagnostics()
    assert "about to crash" in notes["stderr"]
    assert any("restarted" in event for event in notes["events"])


def test_hang_times_out_and_restarts(faulty: StdioImplementation) -> None:
    started = time.monotonic()
    with pytest.raises(RequestTimeout):
        faulty.api("encoding").canonical_json("hang")
    assert time.monotonic() - started < 10
    assert faulty.api("encoding").canonical_json(True) == b"true".hex()


@pytest.mark.parametrize("fault", ["garbage", "wrong-id", "upper"])
def test_protocol_errors_are_reported_and_recovered(
    faulty: StdioImplementation, fault: str
) -> None:
    with pytest.raises(ProtocolError):
        faulty.api("encoding").canonical_json(fault)
    assert faulty.api("encoding").canonical_json([]) == b"[]".hex()


def test_stderr_is_attached_to_the_call_that_wrote_it(faulty: StdioImplementation) -> None:
    faulty.drain_diagnostics()
    faulty.api("encoding").canonical_json("stderr")
    time.sleep(0.2)  # stderr arrives on its own pipe
    assert "diagnostic line" in faulty.drain_diagnostics()["stderr"]
    assert faulty.drain_diagnostics()["stderr"] == ""


def test_requests_carry_inputs_only(faulty: StdioImplementation, tmp_path: Path) -> None:
    """Every request is exactly {id, cmd, params[, handle]}: no room for an expected answer."""
    faulty.api("encoding").hash_object({"x": 1})
    faulty.api("economics").reward_split(100, {"a": 1, "b": 2}, "a")
    validator = MessageValidator()
    lines = (tmp_path / "requests.log").read_text().splitlines()
    assert len(lines) >= 3
    for line in lines:
        request = json.loads(line)
        assert set(request) <= {"id", "cmd", "params", "handle"}
        assert validator.problems("request", request["cmd"], request) == []


def test_slow_hello_hits_the_startup_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAULTY_HELLO_DELAY", "5")
    with pytest.raises(RequestTimeout):
        StdioImplementation(FAULTY, LoadOptions(startup_timeout_s=0.5))


def test_missing_program_is_reported() -> None:
    with pytest.raises(Crashed):
        load_implementation("stdio:/nonexistent/implementation --serve")


def test_committed_schema_document_is_current() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == render_schema(), (
        "run `aethel-conformance protocol-schema --write`"
    )
