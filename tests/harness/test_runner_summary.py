"""What a run prints at its end and the index of a run over several implementations."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from conformance import runner
from conformance.cli import app
from conformance.report.model import Case, write_report
from conformance.report.outcome import Outcome
from tests.harness.test_report import case, report_of


@pytest.fixture
def printed(monkeypatch: pytest.MonkeyPatch) -> Console:
    console = Console(record=True, width=200)
    monkeypatch.setattr(runner, "console", console)
    return console


def test_summary_lists_failures_first_then_inconclusive_then_known(
    printed: Console, tmp_path: Path
) -> None:
    cases = [case("a::ok", "pass"), case("a::known", "fail", known_failure="tracked in #1")]
    cases.append(case("a::slow", "unknown", message="inconclusive: overloaded"))
    cases += [case(f"a::bad{i}", "fail", message=f"diverged at {i}\ndetail") for i in range(12)]
    runner._print_summary("impl", report_of(cases), tmp_path)
    text = printed.export_text()
    assert "non-conformant: 12 MUST case(s) failed" in text and "exit code 1" in text
    assert "fail: a::bad0 [E1]: diverged at 0" in text and "detail" not in text
    assert "rerun: aethel-conformance run --impl reference --case a::bad0 --seed 0" in text
    assert "and 4 more" in text  # 14 unsettled, 10 shown: the 12 failures come first
    assert text.index("failures (12)") < text.index("a::bad0") and "a::slow" not in text
    assert str(tmp_path / "report.html") in text


def test_summary_shows_the_reason_of_an_inconclusive_case_before_known_failures(
    printed: Console, tmp_path: Path
) -> None:
    cases = [case("a::known", "fail", known_failure="tracked in #1")]
    cases.append(case("a::slow", "unknown", message="measured while other processes used 80%"))
    runner._print_summary("impl", report_of(cases), tmp_path)
    text = printed.export_text()
    assert text.index("inconclusive (1)") < text.index("known failures (1)")
    assert "unknown: a::slow [E1]: measured while other processes used 80%" in text
    assert "fail (known: tracked in #1): a::known" in text


def test_the_console_never_prints_control_characters(printed: Console, tmp_path: Path) -> None:
    hostile = "\x1b[2J\x1b]0;pwned\x07 cleared \x00 \x9b1m"
    report = report_of([case("a::x", "error", message=hostile, impl_stderr=hostile)])
    runner._print_summary(hostile, report, tmp_path)
    runner.error(f"cannot start: {hostile}")
    text = printed.export_text()
    assert not any(ch in text for ch in "\x1b\x07\x00\x9b")
    assert "\\x1b[2J\\x1b]0;pwned\\x07 cleared \\x00 \\x9b1m" in text


def _result(label: str, spec: str, report: object) -> runner.RunResult:
    from conformance.report.outcome import outcome_of

    if report is None:
        return runner.RunResult(label, spec, None, Outcome("unusable", 2, "did not complete"))
    return runner.RunResult(label, spec, report, outcome_of(report))  # type: ignore[arg-type]


def test_index_has_a_row_per_rule_and_a_column_per_implementation(
    printed: Console, tmp_path: Path
) -> None:
    passing = report_of([case("a::ok", "pass")])
    unsettled = report_of([case("a::ok", "pass"), case("a::t", "timeout"), case("a::u", "unknown")])
    results = [
        _result("reference", "reference", passing),
        _result("stdio", "stdio:x", unsettled),
        _result("y", "y", None),
    ]
    runner.write_index(tmp_path, results)
    index = (tmp_path / "index.md").read_text()
    assert "| pass | fail | error | timeout | skip | unknown |" in index
    assert (
        "| `stdio:x` | non-conformant: 1 MUST case(s) failed | 1 | 1 | 0 | 0 | 1 | 0 | 1 |" in index
    )
    assert "| ID | level | title | reference | stdio | y |" in index
    assert "| E1 | MUST | Canonical JSON is RFC 8785 | pass | timeout | not run |" in index
    assert (
        "| E2 | MUST | Numbers are 64-bit signed integers | no case | no case | not run |" in index
    )
    page = (tmp_path / "index.html").read_text()
    assert "did not complete" in index and "stdio/report.html" in page
    assert "<td class='st-timeout'>timeout</td>" in page
    runner._print_recap(results)
    assert "did not complete" in printed.export_text()


def _write(path: Path, cases: list[Case], full_run: bool = True) -> None:
    report = report_of(cases, full_run)
    write_report(path / "report.jsonl", report.header, report.cases, report.footer)


def test_diff_of_two_runs_over_several_implementations(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    for run in (old, new):
        _write(run / "reference", [case("a::x", "pass"), case("a::y", "pass")])
    _write(old / "stdio", [case("a::x", "pass"), case("a::y", "fail")])
    _write(new / "stdio", [case("a::x", "error"), case("a::y", "pass")])
    _write(new / "python-other", [case("a::x", "pass")])
    done = CliRunner().invoke(app, ["diff", str(old), str(new)])
    assert done.exit_code == 1  # a new failure in stdio
    assert "== reference" in done.output and "== stdio" in done.output
    assert "a::x: pass -> error" in done.output and "a::y: fail -> pass" in done.output
    assert "python-other: only in the new run" in done.output


def test_diff_against_a_filtered_run_counts_the_unselected_cases(tmp_path: Path) -> None:
    _write(tmp_path / "full", [case(f"a::{i}", "pass") for i in range(5)])
    _write(tmp_path / "some", [case("a::1", "pass")], full_run=False)
    done = CliRunner().invoke(app, ["diff", str(tmp_path / "full"), str(tmp_path / "some")])
    assert done.exit_code == 0
    assert "the new run is filtered (--req E1)" in done.output
    assert "removed cases: 4 (outside the filtered run's selection)" in done.output
    assert "a::3" not in done.output


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        pytest.param("nope", "unknown implementation 'nope'", id="unknown-kind"),
        pytest.param("python:pkg", "expected python:package.module:factory", id="no-factory"),
        pytest.param("stdio:  ", "stdio: needs a command", id="empty-command"),
    ],
)
def test_a_malformed_impl_is_refused_before_any_case_runs(
    tmp_path: Path, spec: str, message: str
) -> None:
    done = CliRunner().invoke(
        app, ["run", "--impl", spec, "--report-dir", str(tmp_path)], env={"COLUMNS": "300"}
    )
    assert done.exit_code == 2, done.output
    assert message in done.output
    assert not any(tmp_path.iterdir()), "no report for a run that never started"
