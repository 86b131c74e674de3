"""What a run prints at its end and the index of a run over several implementations."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from conformance import runner
from tests.harness.test_report import case, report_of


@pytest.fixture
def printed(monkeypatch: pytest.MonkeyPatch) -> Console:
    console = Console(record=True, width=200)
    monkeypatch.setattr(runner, "console", console)
    return console


def test_summary_lists_the_unsettled_cases_with_their_first_line(
    printed: Console, tmp_path: Path
) -> None:
    cases = [case("a::ok", "pass")]
    cases += [case(f"a::bad{i}", "fail", message=f"diverged at {i}\ndetail") for i in range(12)]
    cases.append(case("a::slow", "unknown", message="inconclusive: overloaded"))
    runner._print_summary("impl", report_of(cases), tmp_path)
    text = printed.export_text()
    assert "non-conformant: 12 MUST case(s) failed" in text
    assert "fail: a::bad0: diverged at 0" in text and "detail" not in text
    assert "and 3 more" in text  # 13 unsettled, 10 shown
    assert str(tmp_path / "report.html") in text


def test_index_and_recap_count_every_status(printed: Console, tmp_path: Path) -> None:
    passing = report_of([case("a::ok", "pass")])
    unsettled = report_of([case("a::ok", "pass"), case("a::t", "timeout"), case("a::u", "unknown")])
    results = [
        ("reference", "reference", passing),
        ("stdio", "stdio:x", unsettled),
        ("y", "y", None),
    ]
    runner.write_index(tmp_path, results)
    index = (tmp_path / "index.md").read_text()
    assert "| pass | fail | error | timeout | skip | unknown |" in index
    assert "| `stdio:x` | non-conformant: 1 MUST case(s) failed | 1 | 0 | 0 | 1 | 0 | 1 |" in index
    assert (
        "run did not complete" in index
        and "stdio/report.html" in (tmp_path / "index.html").read_text()
    )
    runner._print_recap(results)
    assert "run did not complete" in printed.export_text()
