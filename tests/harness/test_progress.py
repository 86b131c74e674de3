"""Progress lines for CI logs: a line every interval while a long command runs off a terminal."""

from __future__ import annotations

import io
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aethel.progress import Heartbeat

FAULTY = Path(__file__).with_name("faulty_impl.py")


def test_a_heartbeat_prints_what_it_is_doing_until_stopped() -> None:
    stream = io.StringIO()
    count = [0]

    def describe() -> str:
        count[0] += 1
        return f"step {count[0]}"

    with Heartbeat("job", describe, interval=0.05, stream=stream, enabled=True):
        time.sleep(0.4)
    lines = stream.getvalue().splitlines()
    assert len(lines) >= 3 and lines[0].startswith("job: step 1, ") and "elapsed" in lines[0]
    time.sleep(0.2)
    assert len(stream.getvalue().splitlines()) == len(lines), "no line after the job ended"


def test_a_heartbeat_on_a_terminal_or_at_interval_zero_prints_nothing() -> None:
    stream = io.StringIO()
    with Heartbeat("job", lambda: "x", interval=0.01, stream=stream, enabled=False):
        time.sleep(0.1)
    with Heartbeat("job", lambda: "x", interval=0, stream=stream, enabled=True):
        time.sleep(0.1)
    assert stream.getvalue() == ""


def test_a_run_in_a_ci_log_says_how_far_it_is(tmp_path: Path) -> None:
    """stdout is a pipe here, as in CI: the run prints progress lines (every 0.5 s for the test);
    the first hash_object answers after 2 s, so lines come while a case runs."""
    impl = f"stdio:{shlex.quote(sys.executable)} {shlex.quote(str(FAULTY))}"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance.cli",
            "run",
            "--impl",
            impl,
            "--req",
            "E6",
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={
            **os.environ,
            "AETHEL_PROGRESS_INTERVAL": "0.5",
            "FAULTY_ON": "encoding.hash_object=slow@1",
            "FAULTY_SLOW": "2",
        },
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("progress of stdio:")]
    assert len(lines) >= 2, done.stderr
    assert re.search(r": \d+/\d+ cases \(.*\), now encoding::object_hash_is_sha256", lines[0])
    assert lines[-1].endswith(" elapsed")


def test_prove_and_bench_print_progress_lines(capsys: pytest.CaptureFixture[str]) -> None:
    """Off a terminal (pytest captures stdout), with a short interval."""
    from aethel.bench import run_benchmark
    from aethel.formal.prove import run_proofs

    os.environ["AETHEL_PROGRESS_INTERVAL"] = "0.02"
    try:
        report = run_proofs()
        run_benchmark("encoding", quick=True)
    finally:
        del os.environ["AETHEL_PROGRESS_INTERVAL"]
    assert report.ok
    err = capsys.readouterr().err
    assert re.search(r"prove: \d+/10 invariants done, now I\d+, \d+s elapsed", err)
    assert "aethel bench encoding --quick: running" in err
