"""A replay's verdict: the recorded defect (failures of what the nodes said) must fail again;
missed deadlines (liveness) are compared apart, since a replay fixes the faults, not the timing.

The end-to-end replay of a mutant node is in test_mutant_nodes.py; here the comparison itself,
the ``--replay`` command's exit code and line on given verdicts, and the replay file's record.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from conformance.network import cli
from conformance.network.checkers import FAIL, PASS, UNKNOWN, Verdict, check_contract
from conformance.network.contract import REFERENCE_COMMAND, NodeSlot, make_chain
from conformance.network.history import History
from conformance.network.replay import (
    REPLAY_OUTCOMES,
    RecordedFailure,
    compare,
    read_replay,
    write_replay,
)
from conformance.network.run import RunConfig, RunRecord

CHECKERS = ("agreement", "validity", "durability", "reads", "liveness")
SEED_1028 = Path(__file__).parents[2] / "reports/network/earlier/seed-1028-replay.json"


def verdicts(*failing: str, unknown: tuple[str, ...] = ()) -> list[Verdict]:
    """One verdict per checker: those named fail (liveness is a deadline), the rest pass."""
    out = []
    for name in CHECKERS:
        status = FAIL if name in failing else UNKNOWN if name in unknown else PASS
        out.append(Verdict(name, ("R0",), status, name, timing=name == "liveness"))
    return out


def recorded(*checkers: str) -> RecordedFailure:
    return RecordedFailure(checkers, tuple(c for c in checkers if c == "liveness"))


@pytest.mark.parametrize(
    ("before", "now", "outcome"),
    [
        (("reads",), ("reads",), "reproduced"),
        (("reads", "liveness"), ("reads", "liveness"), "reproduced"),
        # The CI run of 672b0f0: liveness failed first, not in the replay; reads both times.
        (("agreement", "reads", "liveness"), ("agreement", "reads"), "reproduced (timing differs)"),
        (("reads",), ("reads", "liveness"), "reproduced (timing differs)"),
        (("reads",), ("reads", "durability"), "reproduced (more failed)"),
        (("agreement", "reads"), ("reads",), "partly reproduced"),
        (("reads",), ("liveness",), "different failure"),
        (("reads",), (), "not reproduced"),
        # Seed 1028: a stall (deadline only) reproduces only when it is missed again.
        (("liveness",), ("liveness",), "reproduced"),
        (("liveness",), (), "not reproduced"),
        (("liveness",), ("agreement",), "different failure"),
        (("liveness",), ("agreement", "liveness"), "reproduced (more failed)"),
        ((), ("reads",), "different failure"),
        ((), (), "not reproduced"),
    ],
)
def test_replay_outcomes(before: tuple[str, ...], now: tuple[str, ...], outcome: str) -> None:
    result = compare(recorded(*before), verdicts(*now))
    assert result.name == outcome, result.line
    assert result.code == REPLAY_OUTCOMES[outcome]
    assert result.line.startswith(f"{outcome}: ")


def test_a_defect_checker_without_verdict_is_inconclusive() -> None:
    result = compare(recorded("validity"), verdicts(unknown=("validity",)))
    assert (result.name, result.code) == ("inconclusive", 3)
    result = compare(recorded("liveness"), verdicts(unknown=("liveness",)))
    assert (result.name, result.code) == ("inconclusive", 3)


def test_exit_codes_per_outcome() -> None:
    assert {name: code for name, code in REPLAY_OUTCOMES.items()} == {
        "reproduced": 1,
        "reproduced (timing differs)": 1,
        "reproduced (more failed)": 1,
        "not reproduced": 0,
        "partly reproduced": 5,
        "different failure": 5,
        "inconclusive": 3,
    }


def _replay_file(tmp_path: Path, failing: list[str], timing: list[str] | None) -> Path:
    value = json.loads(SEED_1028.read_text())
    value["failure"] = {"checkers": failing, "rules": [], "messages": {}}
    if timing is not None:
        value["failure"]["timing"] = timing
    path = tmp_path / "replay.json"
    path.write_text(json.dumps(value))
    return path


def _run_replay(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, file: Path, now: list[Verdict]
) -> tuple[int, str]:
    """``network --replay FILE`` with the run itself replaced by ``now`` (its checkers' verdicts:
    the comparison is under test here; a real replay runs in test_mutant_nodes.py)."""
    seen: list[RunConfig] = []

    def fake_execute(config: RunConfig, out_dir: Path) -> tuple[list[Verdict], int, Path]:
        seen.append(config)
        return now, 1 if any(v.failed for v in now) else 0, out_dir / "replay.json"

    monkeypatch.setattr(cli, "execute", fake_execute)
    app = typer.Typer()
    app.command()(cli.network_command)
    result = CliRunner().invoke(
        app, ["--replay", str(file), "--report-dir", str(tmp_path / "r")], catch_exceptions=False
    )
    assert seen and seen[0].seed == 1028 and seen[0].schedule is not None
    return result.exit_code, " ".join(result.output.split())


@pytest.mark.req("R3.2", "R2.5")
def test_the_replay_command_reproduces_a_defect_whose_timing_differs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Before this change the command called this "a different outcome" (liveness failed first
    and not in the replay); the defect (agreement, reads) failed both times."""
    file = _replay_file(tmp_path, ["agreement", "reads", "liveness"], ["liveness"])
    code, out = _run_replay(monkeypatch, tmp_path, file, verdicts("agreement", "reads"))
    assert code == 1 and "reproduced (timing differs)" in out, out
    assert "a different outcome" not in out


@pytest.mark.req("R3.2", "R2.5")
def test_the_replay_command_tells_a_deadline_from_the_defect(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The defect (reads) passes and only liveness fails now: not the recorded failure (the old
    command exited 1 here, like a reproduction)."""
    file = _replay_file(tmp_path, ["reads"], [])
    code, out = _run_replay(monkeypatch, tmp_path, file, verdicts("liveness"))
    assert code == 5 and "different failure" in out, out
    code, out = _run_replay(monkeypatch, tmp_path, file, verdicts())
    assert code == 0 and "not reproduced" in out, out


def test_an_old_replay_file_counts_liveness_as_a_deadline(tmp_path: Path) -> None:
    """Seed 1028's file predates ``failure.timing``: liveness is a deadline all the same."""
    config, before = read_replay(SEED_1028)
    assert config.seed == 1028 and before == RecordedFailure(("liveness",), ("liveness",))
    assert before.defect == ()
    _, before = read_replay(_replay_file(tmp_path, ["reads", "liveness"], None))
    assert before.defect == ("reads",)


def _record(**abort: str) -> RunRecord:
    setup = make_chain(4, 2, seed=1)
    slots = [
        NodeSlot(f"v00{i}", i, Path("/nonexistent"), 0, 0, {}, REFERENCE_COMMAND, "reference")
        for i in range(4)
    ]
    record = RunRecord(RunConfig(impl=REFERENCE_COMMAND), setup, slots, History(started=0.0))
    for name, value in abort.items():
        setattr(record, name, value)
    return record


def test_contract_verdicts_say_when_they_judge_a_deadline(tmp_path: Path) -> None:
    late = _record(abort_kind="start", abort_node="v001", aborted="never ready: no /status")
    start = {v.checker: v for v in check_contract(late)}["contract-start"]
    assert start.failed and start.timing
    crashed = _record(abort_kind="start", abort_node="v001", aborted="crashed on start: exit 3")
    start = {v.checker: v for v in check_contract(crashed)}["contract-start"]
    assert start.failed and not start.timing
    first = _record(abort_kind="liveness", abort_node="", aborted="no height 1 within 60 s")
    assert {v.checker: v for v in check_contract(first)}["contract-first-commit"].timing
    stuck = _record()
    stuck.exits = {"v000": [{"how": "did not exit within 15 s of SIGTERM", "code": -9}]}
    stop = {v.checker: v for v in check_contract(stuck)}["contract-stop"]
    assert stop.failed and stop.timing
    stuck.exits["v001"] = [{"how": "SIGTERM", "code": 1}]
    stop = {v.checker: v for v in check_contract(stuck)}["contract-stop"]
    assert stop.failed and not stop.timing


def test_the_replay_file_records_which_failures_were_deadlines(tmp_path: Path) -> None:
    record = _record()
    path = tmp_path / "replay.json"
    write_replay(path, record, verdicts("reads", "liveness"))
    value = json.loads(path.read_text())
    assert value["failure"]["checkers"] == ["reads", "liveness"]
    assert value["failure"]["timing"] == ["liveness"]
    _, before = read_replay(path)
    assert before.defect == ("reads",) and before.timing == ("liveness",)
