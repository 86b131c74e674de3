"""README's table of outcomes and exit codes, end to end through ``aethel-conformance run``.

The inconclusive outcome (exit 3) needs a timing threshold missed on a busy machine, which a test
cannot arrange honestly; it is decided from the report alone and tested there
(tests/harness/test_report.py::test_verdict_and_exit_code), like every other row.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conformance.report.model import read_report

FAULTY = Path(__file__).with_name("faulty_impl.py")
IMPL = f"stdio:{shlex.quote(sys.executable)} {shlex.quote(str(FAULTY))}"
ODD_LEAF = "python:conformance.mutants.list_hash:OddLeafImplementation"


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "conformance.cli", "run", "--no-progress"]
    command += ["--report-dir", str(tmp_path / "out"), *args]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0", **env},
        timeout=300,
        check=False,
    )


def test_conformant_for_its_capabilities_exits_0(tmp_path: Path) -> None:
    """A full run of an implementation declaring list-hash only: every case it can run passes."""
    done = run(tmp_path, "--impl", IMPL, FAULTY_CAPABILITIES="list-hash")
    assert done.returncode == 0, done.stderr
    report = read_report(tmp_path / "out" / "report.jsonl")
    assert report.header.full_run
    assert report.footer.verdict == "conformant for the declared capabilities only"


def test_strict_turns_the_skips_of_that_run_into_exit_1(tmp_path: Path) -> None:
    done = run(tmp_path, "--impl", IMPL, "--strict", FAULTY_CAPABILITIES="list-hash")
    assert done.returncode == 1, done.stderr
    assert "non-conformant (--strict)" in done.stderr


def test_a_required_capability_not_declared_exits_1(tmp_path: Path) -> None:
    done = run(
        tmp_path,
        "--impl",
        IMPL,
        "--req",
        "E10",
        "--require-capability",
        "replica",
        FAULTY_CAPABILITIES="list-hash",
    )
    assert done.returncode == 1, done.stderr
    assert "required capabilities not declared: replica" in done.stderr


def test_a_must_failure_exits_1(tmp_path: Path) -> None:
    done = run(tmp_path, "--impl", ODD_LEAF, "--req", "E10")
    assert done.returncode == 1, done.stderr
    assert read_report(tmp_path / "out" / "report.jsonl").footer.must_failures > 0


def test_a_filtered_run_that_passes_exits_0_and_is_no_verdict(tmp_path: Path) -> None:
    done = run(tmp_path, "--impl", "reference", "--req", "E10")
    assert done.returncode == 0, done.stderr
    assert read_report(tmp_path / "out" / "report.jsonl").footer.verdict.startswith("partial")


def test_no_capability_exits_4_without_running(tmp_path: Path) -> None:
    done = run(tmp_path, "--impl", IMPL, FAULTY_CAPABILITIES="")
    assert done.returncode == 4, done.stderr
    assert "declares no capability" in done.stderr
    assert not (tmp_path / "out" / "report.jsonl").exists()


@pytest.mark.parametrize(
    ("impl", "env", "message"),
    [
        pytest.param("stdio:/nonexistent/node --serve", {}, "No such file", id="no-command"),
        pytest.param(
            f"stdio:{shlex.quote(sys.executable)} -c 'import no_such_module_x'",
            {},
            "No module named 'no_such_module_x'",
            id="import-error",
        ),
        pytest.param("python:no.such.module:factory", {}, "cannot import", id="python-import"),
        pytest.param(IMPL, {"FAULTY_HELLO": "exit"}, "exited", id="hello-missing"),
        pytest.param(IMPL, {"FAULTY_HELLO": "garbage"}, "not JSON", id="hello-not-json"),
        pytest.param(IMPL, {"FAULTY_PROTOCOL": "2"}, "speaks protocol 2", id="wrong-protocol"),
        pytest.param(
            IMPL, {"FAULTY_CAPABILITIES": "encoding,teleport"}, "teleport", id="unknown-capability"
        ),
        pytest.param(IMPL, {"FAULTY_HELLO": "silent"}, "no answer within 2 s", id="hello-timeout"),
    ],
)
def test_an_implementation_that_cannot_start_exits_2_at_once_without_a_report(
    tmp_path: Path, impl: str, env: dict[str, str], message: str
) -> None:
    started = time.monotonic()
    done = run(tmp_path, "--impl", impl, "--startup-timeout", "2", **env)
    assert done.returncode == 2, done.stderr
    assert time.monotonic() - started < 30
    assert message in done.stderr
    assert done.stderr.count("error:") == 1, "one clear message"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(("--area", "consensys"), "did you mean consensus", id="area"),
        pytest.param(("--req", "R2.99"), "valid: E1, E2", id="req"),
        pytest.param(("--capability", "teleport"), "valid: encoding, list-hash", id="capability"),
        pytest.param(("--require-capability", "x"), "valid: encoding", id="require-capability"),
        pytest.param(("--scale", "huge"), "is not one of standard, full", id="scale"),
        pytest.param(("--case", "nope"), "is not a case ID", id="case-form"),
        pytest.param(("--expectations", "/nonexistent.toml"), "no such file", id="no-file"),
        pytest.param(("--case-timeout", "0"), "not a positive number", id="timeout"),
    ],
)
def test_a_bad_option_exits_2_in_one_line_and_writes_nothing(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    done = run(tmp_path, "--impl", "reference", *args)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "content",
    [
        pytest.param("not toml at all", id="not-toml"),
        pytest.param('[known_failures]\n"a::b" = ""\n', id="no-reason"),
        pytest.param("surprise = 1\n", id="unknown-key"),
    ],
)
def test_a_bad_expectation_file_exits_2_in_one_line(tmp_path: Path, content: str) -> None:
    path = tmp_path / "known.toml"
    path.write_text(content)
    done = run(tmp_path, "--impl", "reference", "--expectations", str(path))
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert str(path) in done.stderr


def test_a_case_id_that_selects_nothing_exits_2(tmp_path: Path) -> None:
    done = run(tmp_path, "--impl", "reference", "--case", "encoding::no_such_case")
    assert done.returncode == 2, done.stderr
