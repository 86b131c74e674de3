"""Run the Z3 proofs of I1-I10: every obligation proved, every negative twin refuted."""

from __future__ import annotations

import pytest

from aethel.formal import INVARIANTS, Invariant
from aethel.formal.solver import Outcome, prove, refute

#: Per-query timeout in tests: every query takes well under a second; the slack absorbs a
#: loaded machine without letting a runaway query hang the run.
TIMEOUT_MS = 20_000


def _cases() -> list[object]:
    return [pytest.param(inv, marks=pytest.mark.req(inv.id), id=inv.id) for inv in INVARIANTS]


@pytest.mark.parametrize("invariant", _cases())
def test_invariant_is_proved(invariant: Invariant) -> None:
    verdicts = [prove(obligation, TIMEOUT_MS) for obligation in invariant.obligations]
    assert verdicts
    failed = [v for v in verdicts if v.outcome is not Outcome.PROVED]
    assert not failed, failed


@pytest.mark.parametrize("invariant", _cases())
def test_every_negative_twin_is_refuted(invariant: Invariant) -> None:
    assert invariant.twins, "an invariant without a negative twin is unchecked for vacuity"
    for twin in invariant.twins:
        verdict = refute(twin, TIMEOUT_MS)
        assert verdict.outcome is Outcome.REFUTED, verdict
        assert verdict.counterexample, f"{twin.name}: refuted without a shown counterexample"
