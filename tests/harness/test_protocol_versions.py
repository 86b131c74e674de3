"""Protocol versioning: new capabilities are compatible, changes to existing ones need a bump.

The rule is in conformance/PROTOCOL.md ("Versions and capabilities"); these tests hold the code,
the committed record (conformance/protocol/versions.json) and the hello negotiation to it.
"""

from __future__ import annotations

import dataclasses
import json
import shlex
import sys
from pathlib import Path

import pytest

from conformance.adapters.errors import ProtocolError
from conformance.adapters.load_options import LoadOptions
from conformance.adapters.stdio import StdioImplementation
from conformance.capabilities import ALL, parse_capabilities
from conformance.protocol import versions
from conformance.protocol.commands import COMMANDS
from conformance.protocol.versions import (
    VersionBumpNeeded,
    check_current,
    compare,
    current_fingerprints,
    update_record,
)
from conformance.report.model import read_report
from tests.harness.test_runner import run_cli

FAULTY = (
    f"{shlex.quote(sys.executable)} {shlex.quote(str(Path(__file__).with_name('faulty_impl.py')))}"
)


def test_the_committed_record_matches_the_code() -> None:
    comparison = check_current()
    assert comparison.breaking == (), (
        "these changes need a new protocol version (PROTOCOL.md, Versions and capabilities)"
    )
    assert comparison.new_capabilities == (), "run `aethel-conformance protocol-schema --write`"


def test_every_capability_and_the_session_are_recorded() -> None:
    assert set(current_fingerprints()) == {versions.SESSION, *ALL}


RECORDED = {"a": {"a.f": "1", "a.g": "2"}, "b": {"b.f": "3"}}


@pytest.mark.parametrize(
    ("current", "breaking", "new"),
    [
        pytest.param(RECORDED, [], [], id="unchanged"),
        pytest.param({**RECORDED, "c": {"c.f": "4"}}, [], ["c"], id="new-capability"),
        pytest.param({**RECORDED, "a": {"a.f": "1", "a.g": "9"}}, ["a.g"], [], id="shape"),
        pytest.param(
            {**RECORDED, "a": {"a.f": "1", "a.g": "2", "a.h": "5"}}, ["a.h"], [], id="added"
        ),
        pytest.param({**RECORDED, "a": {"a.f": "1"}}, ["a.g"], [], id="removed"),
        pytest.param({"a": RECORDED["a"]}, ["capability b"], [], id="capability-removed"),
    ],
)
def test_compare_tells_compatible_from_breaking(
    current: dict[str, dict[str, str]], breaking: list[str], new: list[str]
) -> None:
    comparison = compare(RECORDED, current)
    assert len(comparison.breaking) == len(breaking)
    for problem, name in zip(comparison.breaking, breaking, strict=True):
        assert name in problem
    assert list(comparison.new_capabilities) == new


def test_fingerprints_follow_the_shape_not_the_documentation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    name = "economics.proof_reward"
    before = current_fingerprints()["economics"][name]
    command = COMMANDS[name]
    monkeypatch.setitem(COMMANDS, name, dataclasses.replace(command, doc="Clearer words."))
    assert current_fingerprints()["economics"][name] == before
    wider = dataclasses.replace(command, params=(*command.params, ("precision", {})))
    monkeypatch.setitem(COMMANDS, name, wider)
    assert current_fingerprints()["economics"][name] != before


def _record(tmp_path: Path) -> Path:
    path = tmp_path / "versions.json"
    path.write_text(versions.VERSIONS_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    return path


def test_update_records_a_new_capability_under_the_same_version(tmp_path: Path) -> None:
    path = _record(tmp_path)
    data = json.loads(path.read_text())
    del data["1"]["history"]  # as if history were added after the record was written
    path.write_text(json.dumps(data))
    assert update_record(path) == ("history",)
    assert json.loads(path.read_text())["1"] == current_fingerprints()


def test_update_refuses_a_changed_command_without_a_bump(tmp_path: Path) -> None:
    path = _record(tmp_path)
    data = json.loads(path.read_text())
    data["1"]["state-tree"]["state-tree.get"] = "0" * 16
    path.write_text(json.dumps(data))
    with pytest.raises(VersionBumpNeeded, match=r"need version 2.*state-tree\.get changed shape"):
        update_record(path)
    assert json.loads(path.read_text()) == data  # nothing recorded


def test_a_new_version_starts_a_new_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _record(tmp_path)
    data = json.loads(path.read_text())
    data["1"]["state-tree"]["state-tree.get"] = "0" * 16
    path.write_text(json.dumps(data))
    monkeypatch.setattr(versions, "PROTOCOL_VERSION", 2)
    update_record(path)
    written = json.loads(path.read_text())
    assert written["1"] == data["1"] and written["2"] == current_fingerprints()


def test_unknown_capability_is_named_with_the_known_list() -> None:
    with pytest.raises(ValueError, match=r"unknown capabilities \['teleport'\].*encoding"):
        parse_capabilities(["encoding", "teleport"])


def _start(monkeypatch: pytest.MonkeyPatch, **env: str) -> StdioImplementation:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return StdioImplementation(FAULTY, LoadOptions(validate_protocol=True))


def test_hello_with_an_unknown_capability_is_refused_clearly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Checked before the schema, so the message names the capability, not a schema path.
    with pytest.raises(ProtocolError, match=r"hello: unknown capabilities \['teleport'\]"):
        _start(monkeypatch, FAULTY_CAPABILITIES="encoding,teleport")


def test_hello_with_another_protocol_version_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ProtocolError, match="speaks protocol 2; this suite offered 1"):
        _start(monkeypatch, FAULTY_PROTOCOL="2")


def test_an_implementation_older_than_new_capabilities_still_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An implementation declaring only the first capabilities is served; the rest is absent."""
    impl = _start(monkeypatch, FAULTY_CAPABILITIES="encoding,list-hash")
    try:
        assert impl.capabilities == {"encoding", "list-hash"}
        assert impl.api("list-hash").root([]) == "e3b0c44298fc1c149afbf4c8996fb924" + (
            "27ae41e4649b934ca495991b7852b855"
        )
        with pytest.raises(KeyError, match="does not declare capability 'history'"):
            impl.api("history")
    finally:
        impl.close()


def test_a_run_of_an_older_implementation_skips_what_it_does_not_declare(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAULTY_CAPABILITIES", "encoding,list-hash")
    done = run_cli(
        "run",
        "--impl",
        f"stdio:{FAULTY}",
        "--validate-protocol",
        "--req",
        "E10",
        "--req",
        "R7.4",
        "--report-dir",
        str(tmp_path),
        "--no-progress",
    )
    assert done.returncode == 0, done.stderr
    report = read_report(tmp_path / "report.jsonl")
    assert report.header.implementation.capabilities == ["encoding", "list-hash"]
    list_hash = [c for c in report.cases if "list-hash" in c.capabilities]
    history = [c for c in report.cases if "history" in c.capabilities]
    assert list_hash and all(c.status == "pass" for c in list_hash)
    assert history and all(c.status == "skip" for c in history)
    assert all("does not declare capability history" in (c.message or "") for c in history)


def test_a_run_refused_at_hello_says_why_and_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Refused before any case runs: one message naming the capability, exit 2, no report."""
    monkeypatch.setenv("FAULTY_CAPABILITIES", "encoding,teleport")
    done = run_cli(
        "run",
        "--impl",
        f"stdio:{FAULTY}",
        "--req",
        "E6",
        "--report-dir",
        str(tmp_path),
        "--no-progress",
    )
    assert done.returncode == 2
    why = "unknown capabilities ['teleport']"
    assert why in " ".join(done.stderr.split())  # the console (wrapped by rich)
    assert not any(tmp_path.iterdir()), "no report for a run that never started"
