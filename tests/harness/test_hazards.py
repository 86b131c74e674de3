"""A broken implementation cannot break the harness: one end-to-end run per hazard.

Each test runs ``aethel-conformance run`` for real against ``faulty_impl.py`` with one hazard
switched on and a child process (``sleep``) that holds the implementation's pipes unless its whole
process group is killed. Each checks that the run finishes, that no process it started is left
behind, that the report says what happened, and that ``junit.xml`` parses.
"""

from __future__ import annotations

import os
import resource
import shlex
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import psutil
import pytest

from conformance.report.model import Report, read_report

FAULTY = Path(__file__).with_name("faulty_impl.py")
IMPL = f"stdio:{shlex.quote(sys.executable)} {shlex.quote(str(FAULTY))}"
#: The hash_object cases: eleven, one request each.
SELECTION = ("--req", "E6")


def alive(pids_file: Path) -> list[int]:
    """Return the pids listed in ``pids_file`` that still run (zombies count as gone)."""
    found = []
    for pid in map(int, pids_file.read_text().split()):
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                found.append(pid)
        except psutil.NoSuchProcess:
            pass
    return found


def run(
    tmp_path: Path, env: dict[str, str], *args: str, impl: str = IMPL, timeout: float = 240
) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run the suite with a hazard; return the finished process and its wall time."""
    pids = tmp_path / "pids"
    pids.write_text("")
    environment = {
        **os.environ,
        "PYTHONHASHSEED": "0",
        "FAULTY_PIDS": str(pids),
        "FAULTY_GRANDCHILD": "1",
        **env,
    }
    command = [sys.executable, "-m", "conformance.cli", "run", "--impl", impl]
    command += ["--report-dir", str(tmp_path / "report"), "--no-progress", *args]
    started = time.monotonic()
    done = subprocess.run(
        command, capture_output=True, text=True, env=environment, timeout=timeout, check=False
    )
    elapsed = time.monotonic() - started
    time.sleep(0.3)  # a killed process may take a moment to be reaped by its parent
    left = alive(pids)
    assert not left, f"processes left behind: {left}"
    assert pids.read_text().split(), "the implementation never started"
    return done, elapsed


def report_and_junit(tmp_path: Path) -> Report:
    report = read_report(tmp_path / "report" / "report.jsonl")
    suite = ET.parse(tmp_path / "report" / "junit.xml").getroot()
    assert suite.get("tests") == str(len(report.cases))
    return report


def statuses(report: Report) -> dict[str, int]:
    return {s: n for s, n in report.footer.totals.items() if n}


@pytest.mark.parametrize("hello", ["garbage", "exit"])
def test_a_failed_hello_stops_the_run_at_once_and_kills_the_group(
    tmp_path: Path, hello: str
) -> None:
    done, elapsed = run(tmp_path, {"FAULTY_HELLO": hello}, *SELECTION)
    assert done.returncode == 2, done.stderr
    assert elapsed < 30, "fail fast: no case runs"
    assert "cannot start" in done.stderr
    assert not (tmp_path / "report").exists(), "no report for a run that never started"


def test_a_grandchild_under_sh_holding_the_pipes_is_killed_and_its_exit_is_a_crash(
    tmp_path: Path,
) -> None:
    """`sh -c` starts the implementation, which starts a child; the implementation crashes on
    its third hash_object while the child holds the pipe: a crash, reported at once."""
    impl = f"stdio:sh -c {shlex.quote(f'{shlex.quote(sys.executable)} {FAULTY}; true')}"
    done, elapsed = run(
        tmp_path,
        {"FAULTY_ON": "encoding.hash_object=crash@3"},
        *SELECTION,
        "--request-timeout",
        "60",
        impl=impl,
    )
    assert done.returncode == 1, done.stderr
    report = report_and_junit(tmp_path)
    errors = [c for c in report.cases if c.status == "error"]
    assert errors and len(errors) + statuses(report)["pass"] == len(report.cases)
    for case in errors:
        assert "Crashed" in (case.message or "") and "still holds its output open" in (
            case.message or ""
        )
    assert elapsed < 60, "each crash is seen at once, not after the 60 s request timeout"


def test_a_huge_answer_is_refused_with_bounded_harness_memory(tmp_path: Path) -> None:
    """A 200 MiB answer line: one protocol error; the harness's peak memory stays far below the
    gigabytes reading it whole would cost (peak RSS of the run's process tree, measured)."""
    measure = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:]);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    pids = tmp_path / "pids"
    pids.write_text("")
    env = {
        **os.environ,
        "FAULTY_PIDS": str(pids),
        "FAULTY_GRANDCHILD": "1",
        "FAULTY_ON": "encoding.hash_object=huge@2",
        "FAULTY_HUGE_MB": "200",
    }
    command = [sys.executable, "-c", measure, sys.executable, "-m", "conformance.cli", "run"]
    command += ["--impl", IMPL, "--report-dir", str(tmp_path / "report"), "--no-progress"]
    done = subprocess.run(
        [*command, *SELECTION], capture_output=True, text=True, env=env, timeout=300, check=False
    )
    time.sleep(0.3)
    assert not alive(pids)
    peak_mib = int(done.stdout.split()[-1]) / 1024  # ru_maxrss is in KiB on Linux
    assert peak_mib < 700, f"the harness held {peak_mib:.0f} MiB"
    report = report_and_junit(tmp_path)
    errors = [c for c in report.cases if c.status == "error"]
    assert len(errors) >= 1 and statuses(report)["pass"] >= 5
    assert all("over the protocol's maximum of 33554432 bytes" in (c.message or "") for c in errors)
    assert resource  # the measuring process uses it


def test_control_characters_reach_neither_the_console_nor_a_broken_junit(tmp_path: Path) -> None:
    done, _ = run(
        tmp_path,
        {"FAULTY_ON": "encoding.hash_object=ansi@2", "FAULTY_NAME": "evil\x1b[2Jname"},
        *SELECTION,
    )
    assert done.returncode == 1
    for text in (done.stdout, done.stderr, (tmp_path / "report" / "summary.md").read_text()):
        assert not any(ch in text for ch in "\x1b\x07\x00\x9b"), "a raw control character"
    assert "\\x1b[2J\\x1b[31mred" in done.stderr  # shown, escaped
    report = report_and_junit(tmp_path)
    (error,) = [c for c in report.cases if c.status == "error"]
    assert "\x1b[2J" in (error.message or "")  # the report keeps the original text
    junit = (tmp_path / "report" / "junit.xml").read_text()
    assert "\\x07bel" in junit and "\\x00nul" in junit


def test_an_answer_while_no_request_is_pending_is_not_blamed_on_the_next_case(
    tmp_path: Path,
) -> None:
    done, _ = run(tmp_path, {"FAULTY_ON": "encoding.hash_object=stale@1"}, *SELECTION)
    assert done.returncode == 0, done.stderr
    report = report_and_junit(tmp_path)
    assert statuses(report) == {"pass": len(report.cases)}
    noted = [e for c in report.cases for e in c.impl_events if "answering no pending request" in e]
    assert len(noted) == 1


def test_the_late_answer_after_a_case_timeout_is_drained_not_blamed(tmp_path: Path) -> None:
    """The first hash_object answers after 4 s; the case timeout is 2 s. That case times out;
    the late answer is drained, and every later case passes (none is a protocol error)."""
    done, _ = run(
        tmp_path,
        {"FAULTY_ON": "encoding.hash_object=slow@1", "FAULTY_SLOW": "4"},
        *SELECTION,
        "--case-timeout",
        "2",
    )
    assert done.returncode == 1, done.stderr
    report = report_and_junit(tmp_path)
    assert statuses(report) == {"pass": len(report.cases) - 1, "timeout": 1}
    events = [e for c in report.cases for e in c.impl_events]
    assert any("late answer to request" in e and "drained" in e for e in events), events


def test_a_deeply_nested_answer_is_a_protocol_error_naming_the_command(tmp_path: Path) -> None:
    """The second hash_object of each process answers 100,000 arrays deep (so after each
    restart, again): those cases are protocol errors naming the command, the others pass."""
    done, _ = run(tmp_path, {"FAULTY_ON": "encoding.hash_object=nested@2"}, *SELECTION)
    assert done.returncode == 1, done.stderr
    assert "RecursionError" not in done.stderr
    report = report_and_junit(tmp_path)
    errors = [c for c in report.cases if c.status == "error"]
    assert errors and len(errors) + statuses(report)["pass"] == len(report.cases)
    for case in errors:
        assert "encoding.hash_object: the line nests deeper than 128 levels" in (case.message or "")
