"""The subprocess client: hello, timeouts, crash -> restart, protocol errors, stderr, schemas."""

from __future__ import annotations

import hashlib
import json
import shlex
import sys
import time
from pathlib import Path

import pytest

from conformance.adapters.errors import Crashed, ProtocolError, Rejected, RequestTimeout
from conformance.adapters.load_options import LoadOptions
from conformance.adapters.loader import load_implementation
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


def test_stderr_read_but_not_yet_kept_stays_with_its_case(
    faulty: StdioImplementation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a busy machine the reader thread may have taken a stderr line out of the pipe and not
    yet kept it when the answer arrives (it waits for the interpreter): the end of the case waits
    for it, so the line is in this case's stderr, not the next one's. The keeping is slowed here
    to make that moment last."""
    process = faulty.process
    assert process is not None
    keep = process.add_stderr

    def slow_keep(text: str) -> None:
        time.sleep(0.3)
        keep(text)

    monkeypatch.setattr(process, "add_stderr", slow_keep)
    faulty.drain_diagnostics()
    faulty.api("encoding").canonical_json("stderr")  # stderr first, then the answer
    assert "diagnostic line" in faulty.drain_diagnostics()["stderr"]


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


# --------------------------------------------------------------------------- hazards, one call


def _alive(pids_file: Path) -> list[int]:
    """Return the pids written to ``pids_file`` that still run (zombies count as gone)."""
    import psutil

    alive = []
    for pid in map(int, pids_file.read_text().split()):
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.NoSuchProcess:
            pass
    return alive


def _gone(pids_file: Path, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while _alive(pids_file):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def pids(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    path = tmp_path / "pids"
    path.write_text("")
    monkeypatch.setenv("FAULTY_PIDS", str(path))
    monkeypatch.setenv("FAULTY_GRANDCHILD", "1")
    return path


def test_stop_kills_the_grandchild_holding_the_pipes(pids: Path) -> None:
    impl = StdioImplementation(f"sh -c '{FAULTY}; true'", LoadOptions(request_timeout_s=5))
    assert impl.api("encoding").canonical_json(1) == "31"
    assert len(_alive(pids)) == 2  # the implementation and its child (and sh above them)
    impl.close()
    assert _gone(pids)


@pytest.mark.parametrize("hello", ["garbage", "exit", "silent"])
def test_failed_hello_kills_the_group_and_says_why(
    pids: Path, monkeypatch: pytest.MonkeyPatch, hello: str
) -> None:
    monkeypatch.setenv("FAULTY_HELLO", hello)
    started = time.monotonic()
    with pytest.raises((ProtocolError, Crashed, RequestTimeout)) as caught:
        StdioImplementation(FAULTY, LoadOptions(startup_timeout_s=2))
    assert time.monotonic() - started < 8
    assert _gone(pids)
    if hello == "exit":  # the reason the program gave is in the message
        assert "No module named 'mynode'" in str(caught.value)
        assert isinstance(caught.value, Crashed)


def test_exit_with_the_pipe_held_open_is_a_crash_not_a_timeout(
    pids: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAULTY_ON", "encoding.hash_object=crash@1")
    impl = StdioImplementation(FAULTY, LoadOptions(request_timeout_s=30))
    started = time.monotonic()
    with pytest.raises(Crashed, match="still holds its output open"):
        impl.api("encoding").hash_object({})
    assert time.monotonic() - started < 5, "reported at once, not at the request timeout"
    assert impl.restarts == 1
    assert impl.api("encoding").canonical_json(2) == "32"  # the restarted process answers
    impl.close()
    assert _gone(pids)


def test_an_oversized_line_is_a_protocol_error_read_in_bounded_pieces(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("conformance.adapters.stdio.MAX_LINE_BYTES", 1024 * 1024)
    monkeypatch.setenv("FAULTY_ON", "encoding.hash_object=huge@1")
    monkeypatch.setenv("FAULTY_HUGE_MB", "5")
    impl = StdioImplementation(FAULTY, LoadOptions(request_timeout_s=30))
    with pytest.raises(ProtocolError, match=r"hash_object: the answer is a line of 524\d{4} bytes"):
        impl.api("encoding").hash_object({})
    assert impl.api("encoding").canonical_json(2) == "32"  # the restarted process answers
    impl.close()


def test_a_deeply_nested_answer_is_a_protocol_error_naming_the_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FAULTY_ON", "encoding.hash_object=nested@1")
    impl = StdioImplementation(FAULTY, LoadOptions(request_timeout_s=30))
    with pytest.raises(ProtocolError, match="hash_object: the line nests deeper than 128"):
        impl.api("encoding").hash_object({})
    assert impl.api("encoding").canonical_json(2) == "32"  # the restarted process answers
    impl.close()


def test_an_answer_while_no_request_is_pending_is_not_blamed_on_the_next(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FAULTY_ON", "encoding.hash_object=stale@1")
    impl = StdioImplementation(FAULTY, LoadOptions(request_timeout_s=30))
    encoding = impl.api("encoding")
    assert encoding.hash_object({}) == hashlib.sha256(b"{}").hexdigest()
    time.sleep(0.5)  # the duplicate arrives between the two requests
    assert encoding.hash_object({}) == hashlib.sha256(b"{}").hexdigest()
    assert impl.restarts == 0
    events = impl.drain_diagnostics()["events"]
    assert any("answering no pending request" in e for e in events), events
    impl.close()


def test_the_late_answer_to_an_abandoned_request_is_drained(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The case timeout interrupts a wait (here: an exception raised by a timer, as SIGALRM
    does); the next request gets its own answer, not the late one."""
    import signal

    monkeypatch.setenv("FAULTY_ON", "encoding.hash_object=slow@1")
    monkeypatch.setenv("FAULTY_SLOW", "1.5")
    impl = StdioImplementation(FAULTY, LoadOptions(request_timeout_s=30))
    encoding = impl.api("encoding")

    class CaseTimeout(Exception):
        pass

    def alarm(signum: int, frame: object) -> None:
        raise CaseTimeout

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, 0.5)
    try:
        with pytest.raises(CaseTimeout):
            encoding.hash_object({"abandoned": 1})
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert encoding.canonical_json(7) == "37"  # waits past the late answer, which is drained
    assert impl.restarts == 0
    events = impl.drain_diagnostics()["events"]
    assert any("late answer to request" in e for e in events), events
    impl.close()


def test_the_transcript_of_a_call_is_kept_for_its_case(faulty: StdioImplementation) -> None:
    faulty.drain_diagnostics()
    faulty.api("encoding").hash_object({"x": 1})
    lines = faulty.drain_diagnostics()["transcript"]
    assert lines[0].startswith('-> {"id":') and '"cmd":"encoding.hash_object"' in lines[0]
    assert lines[1].startswith('<- {"id":') and len(lines) == 2


def test_a_vote_journal_object_answers_the_replica_commands(
    faulty: StdioImplementation, tmp_path: Path
) -> None:
    """vote-journal.open makes a replica (its journal in a directory the harness chooses): over
    stdio the object answers the replica commands on its handle, journal kept on disk."""
    from conformance.crash_journal import make_scene

    scene = make_scene(3)
    journal = tmp_path / "journal"
    replica = faulty.api("vote-journal").open(**scene.open_params(journal))
    try:
        replica.start(0)
        assert replica.status()["height"] == 1
        outputs = replica.on_message(scene.pre_prepare(scene.blocks[0]), 10**9)
        assert any(o.get("message", {}).get("type") == "prepare" for o in outputs), outputs
        assert journal.is_dir() and any(journal.iterdir())
        with pytest.raises(AttributeError):
            replica.open  # noqa: B018 - a create command is no method of the object
    finally:
        replica.close()
