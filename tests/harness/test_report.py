"""The run report: verdicts, reading back, Markdown/HTML/JUnit rendering and diff by case ID."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conformance.report.diff import compute_diff
from conformance.report.matrix import compute_matrix
from conformance.report.model import (
    Case,
    Filters,
    Header,
    ImplementationInfo,
    Measurement,
    Report,
    compute_footer,
    read_report,
    write_report,
)
from conformance.report.outcome import combined_code, outcome_of
from conformance.report.render import render_report


def make_header(
    full_run: bool = True, capabilities: tuple[str, ...] = ("encoding",), **options: object
) -> Header:
    return Header(
        suite={"version": "1", "hash": "ab" * 32, "files": 1},
        implementation=ImplementationInfo(
            spec="reference", name="impl", version="1", capabilities=list(capabilities)
        ),
        environment={"cpu": "x", "cores": 2},
        seed=0,
        filters=Filters() if full_run else Filters(req=["E1"]),
        full_run=full_run,
        workers=0,
        options=dict(options),
        started="2026-01-01T00:00:00Z",
    )


def case(case_id: str, status: str, level: str = "MUST", **extra: object) -> Case:
    return Case(
        case_id=case_id,
        nodeid=case_id,
        rules=["E1"],
        areas=["encoding"],
        level=level,
        status=status,
        duration_s=0.01,
        **extra,
    )  # type: ignore[arg-type]


def report_of(cases: list[Case], full_run: bool = True, **header: object) -> Report:
    header = make_header(full_run, **header)  # type: ignore[arg-type]
    footer = compute_footer(header, cases, duration_s=1.0, finished="2026-01-01T00:00:01Z")
    return Report(header=header, cases=cases, footer=footer)


SKIP = {"message": "impl does not declare capability encoding"}
SCALE = {"message": "scale: needs --scale full (10,000-validator runs)"}


@pytest.mark.parametrize(
    ("statuses", "full_run", "header", "verdict", "code"),
    [
        pytest.param(["pass", "pass"], True, {}, "conformant", 0, id="conformant"),
        pytest.param(
            ["pass", "fail"], True, {}, "non-conformant: 1 MUST case(s) failed", 1, id="fail"
        ),
        pytest.param(
            ["pass", "timeout"], True, {}, "non-conformant: 1 MUST case(s) failed", 1, id="timeout"
        ),
        pytest.param(
            ["pass", "error"],
            False,
            {},
            "non-conformant: 1 MUST case(s) failed",
            1,
            id="filtered-error",
        ),
        pytest.param(
            ["pass", "pass"],
            False,
            {},
            "partial: filtered run, not a conformance verdict",
            0,
            id="filtered",
        ),
        pytest.param(
            ["pass", "skip"],
            True,
            {},
            "conformant for the declared capabilities only",
            0,
            id="declared-only",
        ),
        pytest.param(
            ["pass", "skip"],
            True,
            {"strict": True},
            "non-conformant (--strict): 1 MUST case(s) skipped, 0 inconclusive",
            1,
            id="strict-skip",
        ),
        pytest.param(
            ["pass", "scale"],
            True,
            {"strict": True},
            "conformant at standard scale (1 full-scale case(s) not run: --scale full)",
            0,
            id="strict-scale-skip",
        ),
        pytest.param(
            ["pass", "unknown"],
            True,
            {},
            "inconclusive: some MUST cases reached no verdict",
            3,
            id="inconclusive",
        ),
        pytest.param(
            ["pass", "unknown"],
            False,
            {},
            "partial: filtered run, not a conformance verdict",
            3,
            id="filtered-inconclusive",
        ),
        pytest.param(
            ["pass", "unknown"],
            True,
            {"strict": True},
            "non-conformant (--strict): 0 MUST case(s) skipped, 1 inconclusive",
            1,
            id="strict-inconclusive",
        ),
        pytest.param(
            ["pass", "pass"],
            True,
            {"require_capabilities": ["encoding", "replica"]},
            "non-conformant: required capabilities not declared: replica",
            1,
            id="required",
        ),
        pytest.param(
            ["pass", "pass"],
            True,
            {"require_capabilities": ["encoding"]},
            "conformant",
            0,
            id="required-declared",
        ),
        pytest.param(
            ["skip", "skip"],
            True,
            {"capabilities": ()},
            "nothing checked: the implementation declares no capability",
            4,
            id="no-capability",
        ),
        pytest.param([], False, {}, "empty run: no case selected", 2, id="empty"),
    ],
)
def test_verdict_and_exit_code(
    statuses: list[str], full_run: bool, header: dict[str, object], verdict: str, code: int
) -> None:
    """Each outcome of README's exit-code table, decided from the report alone."""
    extra = {"scale": SCALE, "skip": SKIP}
    cases = [
        case(f"c{i}", "skip" if s == "scale" else s, **extra.get(s, {}))
        for i, s in enumerate(statuses)
    ]
    report = report_of(cases, full_run, **header)
    assert report.footer.verdict == verdict
    assert outcome_of(report).code == code
    assert report.footer.passed is (code == 0)
    assert report.footer.conformant is (verdict == "conformant")


def test_several_implementations_exit_with_the_most_severe_code() -> None:
    assert combined_code([0, 3, 4]) == 4
    assert combined_code([3, 1, 4]) == 1
    assert combined_code([1, 2]) == 2
    assert combined_code([0, 0]) == 0


def test_should_failure_does_not_fail_the_run() -> None:
    footer = report_of([case("a", "pass"), case("b", "fail", level="SHOULD")]).footer
    assert footer.passed and footer.should_failures == 1 and footer.must_failures == 0


def test_known_failure_does_not_fail_the_run_but_is_not_conformant() -> None:
    footer = report_of([case("a", "pass"), case("b", "fail", known_failure="tracked")]).footer
    assert footer.passed and not footer.conformant and footer.known_failures == 1
    fixed = report_of([case("a", "pass", known_failure="tracked")]).footer
    assert fixed.fixed_known_failures == ["a"]


def test_report_round_trips_sorted_by_case_id(tmp_path: Path) -> None:
    report = report_of([case("z", "pass"), case("a", "fail")])
    path = tmp_path / "report.jsonl"
    write_report(path, report.header, report.cases, report.footer)
    lines = path.read_text().splitlines()
    assert '"type":"header"' in lines[0] and '"type":"footer"' in lines[-1]
    back = read_report(path)
    assert [c.case_id for c in back.cases] == ["a", "z"]
    assert back.footer == report.footer


def test_malformed_report_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "report.jsonl"
    path.write_text('{"type": "case"}\n')
    with pytest.raises(ValueError, match=r"report\.jsonl:1"):
        read_report(path)


def test_diff_by_case_id() -> None:
    old = report_of([case("a", "pass"), case("b", "fail"), case("c", "fail"), case("gone", "pass")])
    new = report_of([case("a", "fail"), case("b", "pass"), case("c", "error"), case("new", "fail")])
    diff = compute_diff(old, new)
    assert [e[0] for e in diff.new_failures] == ["a", "new"]
    assert [e[0] for e in diff.fixed] == ["b"]
    assert [e[0] for e in diff.still_failing] == ["c"]
    assert diff.removed == [("gone", "pass")]


def test_matrix_takes_the_worst_status_and_the_measurements() -> None:
    measured = Measurement(
        metric="m", value=3.0, unit="s", rule="E1", comparison="<=", threshold=10, holds=True
    )
    report = report_of([case("a", "pass", measurements=[measured]), case("b", "timeout")])
    row = next(r for r in compute_matrix(report) if r.rule_id == "E1")
    assert row.status == "timeout"
    assert row.measurements == (measured,)
    assert next(r for r in compute_matrix(report) if r.rule_id == "E2").status == "no case"


def test_render_writes_every_format(tmp_path: Path) -> None:
    measured = Measurement(
        metric="finality",
        value=3.0,
        unit="s",
        rule="E1",
        comparison="<=",
        threshold=10,
        holds=True,
        x=1000,
        series="finality by validators",
    )
    bigger = measured.model_copy(update={"x": 2000, "value": 4.0})
    alone = measured.model_copy(update={"series": "one point only"})
    failing = case("enc::b", "fail", message="boom <b>", divergence={"path": "x"})
    measured_cases = [
        case(f"enc::a{i}", "pass", measurements=[m])
        for i, m in enumerate((measured, bigger, alone))
    ]
    report = report_of([*measured_cases, failing])
    path = tmp_path / "report.jsonl"
    write_report(path, report.header, report.cases, report.footer)
    render_report(path)
    html = (tmp_path / "report.html").read_text()
    assert "Requirement matrix" in html and "data:image/png;base64," in html
    assert "boom &lt;b&gt;" in html  # escaped
    assert "| E1 | MUST |" in (tmp_path / "summary.md").read_text()
    suite = ET.fromstring((tmp_path / "junit.xml").read_bytes())
    assert suite.get("tests") == "4" and suite.get("failures") == "1"
    # A series measured at one size only ("one point only") gets no chart.
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == [
        "scaling_finality_by_validators.png",
        "status_by_area.png",
        "threshold_margins.png",
    ]


def test_suite_hash_covers_every_module_the_suite_imports() -> None:
    """A change to any module the cases run must change the suite hash in the report header."""
    import os
    import subprocess
    import sys

    from conformance.report.environment import CONFORMANCE_DIR, suite_files

    # The suite's own modules carry markers registered only in a suite run: import what they
    # import (and so everything below it) instead, in a fresh interpreter, so that modules other
    # tests of this process imported do not count as used by the suite.
    probe = (
        "import ast, importlib, pathlib, sys\n"
        f"suite = pathlib.Path({str(CONFORMANCE_DIR / 'suite')!r})\n"
        "for path in sorted(suite.glob('*.py')):\n"
        "    for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):\n"
        "        module = node.module if isinstance(node, ast.ImportFrom) else None\n"
        "        if module and module.startswith('conformance.') and '.suite' not in module:\n"
        "            importlib.import_module(module)\n"
        "for name, module in sorted(sys.modules.items()):\n"
        "    if name.startswith('conformance.') and getattr(module, '__file__', None):\n"
        "        print(module.__file__)\n"
    )
    # -P and PYTHONPATH: the child imports the same copy of the package as this process.
    env = {**os.environ, "PYTHONPATH": str(CONFORMANCE_DIR.parent)}
    listed = subprocess.run(
        [sys.executable, "-P", "-c", probe], capture_output=True, text=True, check=True, env=env
    ).stdout.split()
    used = {Path(file).resolve().relative_to(CONFORMANCE_DIR) for file in listed}
    hashed = set(suite_files())
    missing = sorted(str(p) for p in used - hashed if p.parts[0] not in ("report", "mutants"))
    assert not missing, f"add these to SUITE_GLOBS: {missing}"
    assert {Path("mixed.py"), Path("protocol/commands/state.py")} <= hashed


def test_a_missed_threshold_is_coloured_by_its_cases_status_not_always_as_a_failure() -> None:
    from conformance.report.plots import COLORS, margin_rows

    def measured(value: float) -> Measurement:
        return Measurement(
            metric="rate", value=value, unit="/s", rule="E1", comparison=">=", threshold=10,
            holds=value >= 10,
        )  # fmt: skip

    report = report_of(
        [
            case("a::met", "pass", measurements=[measured(20)]),
            case("a::busy", "unknown", measurements=[measured(5)]),
            case("a::slow", "fail", measurements=[measured(4)]),
        ]
    )
    assert [status for _, _, status in margin_rows(report)] == ["pass", "unknown", "fail"]
    assert COLORS["unknown"] != COLORS["fail"]


def test_failures_come_before_the_matrix_and_the_charts_in_summary_md(tmp_path: Path) -> None:
    failing = case("enc::bad", "fail", message="boom", impl_transcript=["-> {}", "<- {}"])
    known = case("enc::known", "error", message="crash", known_failure="tracked")
    busy = case("enc::busy", "unknown", message="busy machine")
    report = report_of([case("enc::ok", "pass"), known, busy, failing])
    path = tmp_path / "report.jsonl"
    write_report(path, report.header, report.cases, report.footer)
    render_report(path)
    text = (tmp_path / "summary.md").read_text()
    order = [
        text.index("## Failures (1)"),
        text.index("## Inconclusive (1)"),
        text.index("## Known failures (1)"),
        text.index("## Requirement matrix"),
        text.index("## Charts"),
    ]
    assert order == sorted(order)
    assert "- **E1** (MUST) Canonical JSON is RFC 8785: Every protocol object" in text
    assert "aethel-conformance run --impl reference --case enc::bad --seed 0" in text
    assert "-> {}\n<- {}" in text
