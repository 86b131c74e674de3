"""Tests of the prover runner and `aethel prove` (the tooling, not the proofs)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import z3
from typer.testing import CliRunner

from aethel.cli import app
from aethel.formal import INVARIANTS, Invariant
from aethel.formal.prove import report_json, report_text, run_proofs
from aethel.formal.solver import Formula, Obligation, Outcome, Twin
from conformance.cli import app as conformance_app
from conformance.spec_cli import proof_citations

runner = CliRunner()


def _x_formula(goal_of: object) -> Formula:
    x = z3.Int("x")
    assert callable(goal_of)
    return Formula(x >= 0, goal_of(x), {"x": x})


TRUE_CLAIM = Obligation("x + 1 > x", lambda: _x_formula(lambda x: x + 1 > x))
FALSE_CLAIM = Obligation("x > 5", lambda: _x_formula(lambda x: x > 5))
VACUOUS_CLAIM = Obligation(
    "x < 0 from x >= 0 and x < 0",
    lambda: Formula(z3.And(z3.Int("x") >= 0, z3.Int("x") < 0), z3.Int("x") < -10),
)
GOOD_TWIN = Twin("x > 5", "drops the bound", lambda: _x_formula(lambda x: x > 5))
PROVING_TWIN = Twin("not broken", "a twin that is really correct", TRUE_CLAIM.build)


def _hard_claim() -> Formula:
    # The whole reward split for five members: nonlinear, far beyond a 1 ms budget.
    reward = z3.Int("R")
    stakes = z3.Ints("s0 s1 s2 s3 s4")
    total = z3.Sum(stakes)
    shares = z3.Sum([reward * s / total for s in stakes])
    premise = z3.And(reward >= 0, total > 0, *[s >= 0 for s in stakes])
    return Formula(premise, z3.And(reward - shares >= 0, reward - shares <= 4))


def _fake(obligations: tuple[Obligation, ...], twins: tuple[Twin, ...]) -> Invariant:
    return Invariant("I1", "fake", "test", obligations, twins)


def test_all_true_and_all_twins_refuted_is_ok() -> None:
    report = run_proofs([_fake((TRUE_CLAIM,), (GOOD_TWIN,))], expected=["I1"])
    assert report.ok
    result = report.results[0]
    assert result.status is Outcome.PROVED
    assert result.twins[0].verdict.counterexample["x"] in {str(i) for i in range(6)}


@pytest.mark.parametrize(
    ("obligations", "twins", "status"),
    [
        ((FALSE_CLAIM,), (GOOD_TWIN,), Outcome.REFUTED),
        ((VACUOUS_CLAIM,), (GOOD_TWIN,), Outcome.VACUOUS),
        ((TRUE_CLAIM,), (PROVING_TWIN,), Outcome.PROVED),
        ((TRUE_CLAIM,), (), Outcome.PROVED),
    ],
    ids=["false-claim", "vacuous-claim", "twin-proves", "no-twin"],
)
def test_a_failing_invariant_fails_the_report(
    obligations: tuple[Obligation, ...], twins: tuple[Twin, ...], status: Outcome
) -> None:
    report = run_proofs([_fake(obligations, twins)], expected=["I1"])
    assert report.results[0].status is status
    assert not report.ok
    assert report_text(report).endswith("FAILED")
    assert report_json(report)["ok"] is False


def test_a_timeout_is_unknown_not_proved() -> None:
    hard = Obligation("split of five", _hard_claim)
    report = run_proofs([_fake((hard,), (GOOD_TWIN,))], timeout_ms=1, expected=["I1"])
    assert report.results[0].status is Outcome.UNKNOWN
    assert not report.ok


def test_a_catalog_invariant_without_proof_fails_the_report() -> None:
    report = run_proofs([_fake((TRUE_CLAIM,), (GOOD_TWIN,))], expected=["I1", "I2"])
    assert report.missing == ("I2",)
    assert not report.ok
    assert "I2   MISSING" in report_text(report)


def test_registry_covers_every_catalog_invariant() -> None:
    report = run_proofs(INVARIANTS, only=["I8"])
    assert report.ok
    assert {inv.id for inv in INVARIANTS} == {f"I{i}" for i in range(1, 11)}


def test_prove_command_json_lists_every_invariant_and_exits_zero() -> None:
    result = runner.invoke(app, ["prove", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["ok"] is True
    assert [inv["id"] for inv in data["invariants"]] == [f"I{i}" for i in range(1, 11)]
    for inv in data["invariants"]:
        assert inv["status"] == "proved"
        assert inv["twins"]
        for twin in inv["twins"]:
            assert twin["status"] == "refuted"
            assert twin["counterexample"]


def test_prove_command_text_and_only() -> None:
    result = runner.invoke(app, ["prove", "--only", "I2", "--only", "I10"])
    assert result.exit_code == 0, result.output
    assert "I2   proved" in result.output
    assert "counterexample:" in result.output
    assert "I1 " not in result.output
    assert "2/2 invariants proved" in result.output


def test_prove_command_exits_non_zero_when_a_query_times_out() -> None:
    # 1 ms is too short for the bounded Merkle proofs: they end unknown, and the run fails.
    result = runner.invoke(app, ["prove", "--only", "I3", "--timeout-ms", "1"])
    assert result.exit_code == 1, result.output
    assert "FAILED" in result.output


def test_prove_command_rejects_an_unknown_invariant() -> None:
    result = runner.invoke(app, ["prove", "--only", "I99"])
    assert result.exit_code == 2


def test_the_conformance_tools_neither_offer_nor_import_the_proofs() -> None:
    """`prove` is the reference's command (`aethel prove`): the proofs are facts about the spec's
    formulas, not cases against an implementation, so `aethel-conformance` has no `prove` or
    `spec prove`, and neither its suite, runner, self-test nor spec tooling (`spec coverage`
    reads from the catalog which IDs are invariants) imports the formal layer."""
    assert runner.invoke(conformance_app, ["prove"]).exit_code == 2
    assert runner.invoke(conformance_app, ["spec", "prove"]).exit_code == 2
    probe = (
        "import sys, conformance.cli, conformance.spec_cli, conformance.runner, "
        "conformance.plugin, conformance.selftest\n"
        "conformance.spec_cli.proof_citations()\n"
        "print(sorted(m for m in sys.modules if m.startswith('aethel.formal')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "[]", done.stdout


def test_coverage_credits_exactly_the_invariants_the_prover_proves() -> None:
    """`spec coverage` credits each catalog invariant with its Z3 proof without importing it;
    the credit is true only if the prover has a proof for exactly those IDs."""
    assert set(proof_citations()) == {inv.id for inv in INVARIANTS}
