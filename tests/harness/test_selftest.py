"""The self-test's judgement: a mutant is caught only by cases that pass on the reference."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance import selftest
from conformance.adapters.loader import load_implementation
from conformance.mutants import Mutant, registry
from conformance.report.model import Case, Report
from conformance.selftest import judge
from tests.harness.test_report import case, report_of


def mutant(breaks: tuple[str, ...]) -> Mutant:
    return Mutant("m", "defect", breaks, ("encoding",), build=lambda: None)  # type: ignore[arg-type,return-value]


def with_rules(c: Case, rules: list[str]) -> Case:
    return c.model_copy(update={"rules": rules})


def test_caught_when_every_broken_rule_has_a_trusted_failing_case() -> None:
    control = report_of([case("a", "pass"), case("b", "pass")])
    run = report_of([with_rules(case("a", "fail"), ["E1"]), with_rules(case("b", "error"), ["E2"])])
    verdict = judge(mutant(("E1", "E2")), control, run)
    assert verdict.caught and verdict.caught_rules == ("E1", "E2")


def test_not_caught_when_a_broken_rule_sees_no_failure() -> None:
    control = report_of([case("a", "pass"), case("b", "pass")])
    run = report_of([with_rules(case("a", "fail"), ["E1"]), with_rules(case("b", "pass"), ["E2"])])
    verdict = judge(mutant(("E1", "E2")), control, run)
    assert not verdict.caught and verdict.missed_rules == ("E2",)


def test_failures_shared_with_the_reference_do_not_count() -> None:
    control: Report = report_of([case("a", "fail")])
    run = report_of([with_rules(case("a", "fail"), ["E1"])])
    verdict = judge(mutant(("E1",)), control, run)
    assert not verdict.caught and "also fail on the reference" in verdict.problem


def test_a_run_stopped_early_keeps_the_verdicts_judged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """selftest.json is written after each mutant: a run of the whole set (hours) that is
    stopped keeps what it judged (the runs are the suite's; only which report each returns is
    scripted here)."""
    control = report_of([with_rules(case("a", "pass"), ["E1"])])
    caught = report_of([with_rules(case("a", "fail"), ["E1"])])
    runs = iter([control, caught])

    def run_suite(impl: str, report_dir: Path, **options: Any) -> tuple[Report, int]:
        report = next(runs, None)
        if report is None:
            raise KeyboardInterrupt  # the operator stops the run during the second mutant
        return report, 0

    monkeypatch.setattr(selftest, "run_suite", run_suite)
    first, second = (
        Mutant(name, "defect", ("E1",), ("encoding",), build=lambda: None)  # type: ignore[arg-type,return-value]
        for name in ("first", "second")
    )
    with pytest.raises(KeyboardInterrupt):
        selftest.run_selftest([first, second], tmp_path)
    kept = json.loads((tmp_path / "selftest.json").read_text(encoding="utf-8"))
    assert [(v["mutant"], v["caught"]) for v in kept] == [("first", True)]


def test_mutants_are_registered_with_loadable_specs() -> None:
    mutants = registry()
    assert len(mutants) >= 4
    for m in mutants.values():
        assert m.impl_spec.startswith("python:conformance.mutants.")
        assert m.breaks and m.capabilities
        implementation = m.build()
        assert set(m.capabilities) <= implementation.capabilities
        assert implementation.name.startswith("mutant-")
        # The spec printed for a rerun loads this very mutant (five version-2 mutants built by
        # a helper of another module once pointed at that module and did not load).
        loaded = load_implementation(m.impl_spec)
        assert type(loaded) is m.build, (m.name, m.impl_spec)


def test_selftest_command_catches_a_mutant_end_to_end(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance.cli",
            "selftest",
            "--mutant",
            "float-rewards",
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all 1 mutants caught" in done.stdout
    assert (tmp_path / "selftest.json").exists()
