"""End to end: ``aethel-conformance run`` on the reference and on a mutant, through a subprocess.

Each run starts pytest (and the implementation) for real, so these are the slowest harness tests;
they select a few rules to stay quick.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.report.model import read_report

ODD_LEAF = "python:conformance.mutants.list_hash:OddLeafImplementation"


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "conformance.cli", *args]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    return subprocess.run(
        command, capture_output=True, text=True, check=False, env=env, cwd=cwd, timeout=300
    )


def test_filtered_reference_run_passes_but_says_it_is_partial(tmp_path: Path) -> None:
    done = run_cli(
        "run", "--impl", "reference", "--report-dir", str(tmp_path), "--req", "E10", "--no-progress"
    )
    assert done.returncode == 0, done.stderr
    report = read_report(tmp_path / "report.jsonl")
    assert not report.header.full_run and report.header.filters.req == ["E10"]
    assert report.footer.verdict.startswith("partial") and not report.footer.conformant
    assert report.cases and all("E10" in c.rules for c in report.cases)
    assert all(c.status == "pass" for c in report.cases)
    for name in ("summary.md", "report.html", "junit.xml"):
        assert (tmp_path / name).stat().st_size > 0


def test_mutant_fails_with_first_divergence_and_exit_code(tmp_path: Path) -> None:
    done = run_cli(
        "run",
        "--impl",
        ODD_LEAF,
        "--report-dir",
        str(tmp_path),
        "--capability",
        "list-hash",
        "--no-progress",
    )
    assert done.returncode == 1, done.stderr
    report = read_report(tmp_path / "report.jsonl")
    assert report.header.implementation.name == "mutant-odd-leaf-duplication"
    failed = [c for c in report.cases if c.status == "fail"]
    assert failed and {"E10"} <= {r for c in failed for r in c.rules}
    assert all(c.divergence for c in failed)
    assert any(c.divergence and c.divergence["what"] == "list root" for c in failed)


def test_expectations_turn_known_failures_into_a_passing_exit(tmp_path: Path) -> None:
    first = tmp_path / "first"
    run_cli("run", "--impl", ODD_LEAF, "--report-dir", str(first), "--req", "E10", "--no-progress")
    failed = [c.case_id for c in read_report(first / "report.jsonl").cases if c.status == "fail"]
    expectations = tmp_path / "known.toml"
    lines = ['implementation = "mutant-odd-leaf-duplication"', "[known_failures]"]
    lines += [f'{json.dumps(case_id)} = "odd leaves are duplicated"' for case_id in failed]
    expectations.write_text("\n".join(lines) + "\n")
    second = tmp_path / "second"
    done = run_cli(
        "run",
        "--impl",
        ODD_LEAF,
        "--report-dir",
        str(second),
        "--req",
        "E10",
        "--expectations",
        str(expectations),
        "--no-progress",
    )
    assert done.returncode == 0, done.stderr
    footer = read_report(second / "report.jsonl").footer
    assert footer.known_failures == len(failed) and footer.must_failures == 0
    diff = run_cli("diff", str(first), str(second))
    assert diff.returncode == 0 and "new failures: 0" in diff.stdout


def test_workers_give_the_same_cases_as_one_process(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    for out, workers in ((one, "0"), (two, "2")):
        done = run_cli(
            "run",
            "--report-dir",
            str(out),
            "--capability",
            "economics",
            "-n",
            workers,
            "--no-progress",
        )
        assert done.returncode == 0, done.stderr
    a, b = read_report(one / "report.jsonl"), read_report(two / "report.jsonl")
    assert [(c.case_id, c.status) for c in a.cases] == [(c.case_id, c.status) for c in b.cases]
    assert b.header.workers == 2


@pytest.mark.parametrize(
    "bad", ["nonsense", "python:no.such.module:f", "python:conformance:nothing"]
)
def test_unloadable_implementation_is_a_usage_error(tmp_path: Path, bad: str) -> None:
    done = run_cli(
        "run", "--impl", bad, "--report-dir", str(tmp_path), "--req", "E1", "--no-progress"
    )
    assert done.returncode != 0


def test_reference_passes_through_the_subprocess_path_with_stderr_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    faulty = Path(__file__).with_name("faulty_impl.py")
    monkeypatch.setenv("FAULTY_STDERR_EVERY", "1")
    done = run_cli(
        "run",
        "--impl",
        f"stdio:{sys.executable} {faulty}",
        "--report-dir",
        str(tmp_path),
        "--req",
        "E6",
        "--validate-protocol",
        "--no-progress",
    )
    assert done.returncode == 0, done.stderr
    report = read_report(tmp_path / "report.jsonl")
    assert report.header.implementation.protocol == 1
    assert report.header.options["validate_protocol"] is True
    assert report.cases and all(c.status == "pass" for c in report.cases)
    assert all("request encoding.hash_object" in (c.impl_stderr or "") for c in report.cases)


def test_html_puts_failures_before_the_charts_and_its_rerun_command_reruns_that_case(
    tmp_path: Path,
) -> None:
    """No screenshot: the HTML's order is read from the file, and the rerun command of the
    first failure is run as printed (in a shell, from another directory)."""
    import html as html_module
    import re

    done = run_cli(
        "run",
        "--impl",
        ODD_LEAF,
        "--report-dir",
        str(tmp_path / "run"),
        "--req",
        "E10",
        "--no-progress",
    )
    assert done.returncode == 1, done.stderr
    page = (tmp_path / "run" / "report.html").read_text()
    failures, matrix, charts = (
        page.index('<section class="unsettled" id="failures">'),
        page.index("<h2>Requirement matrix</h2>"),
        page.index("<h2>Charts</h2>"),
    )
    assert failures < matrix < charts
    first = re.search(r'<code class="case-id">(.*?)</code>', page[failures:])
    command = re.search(r'<pre class="rerun">(.*?)</pre>', page[failures:], re.S)
    assert first and command
    case_id, command_line = html_module.unescape(first[1]), html_module.unescape(command[1])
    assert command_line.startswith("aethel-conformance run ") and "--case" in command_line
    here = tmp_path / "elsewhere"
    here.mkdir()
    bin_dir = os.path.dirname(sys.executable)  # where aethel-conformance is installed
    rerun = subprocess.run(
        command_line,
        shell=True,
        cwd=here,
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": bin_dir + os.pathsep + os.environ["PATH"]},
        timeout=300,
        check=False,
    )
    assert rerun.returncode == 1, rerun.stderr
    again = read_report(here / "reports" / "rerun" / "report.jsonl")
    assert [(c.case_id, c.status) for c in again.cases] == [(case_id, "fail")]
    assert again.header.filters.case == [case_id] and again.header.seed == 0
