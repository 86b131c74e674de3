"""Effort known answers per formula family (N7, R1.4): conformance/vectors/verifier/effort.json.

Effort is the resource count of Z3 4.15.4 as built in the PyPI wheel, under the verification
procedure of spec/proofs.md; difficulty and rewards follow from it, so a verifier must report
exactly these numbers. The cases are defined once in :mod:`conformance.testvectors.effort` (the
standard mix's transfers, batches and reward splits, and obligations around integer division)
and committed with the reference's results. The npm build of the same Z3 (WebAssembly) reports
other efforts on 11 of them; ``effort.mjs`` beside the file checks a solver loaded from
JavaScript.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.adapters.api import VerifierAPI
from conformance.checks import expect_equal
from conformance.testvectors.effort import RULES, EffortCase, load

pytestmark = pytest.mark.capability("verifier")


def _params() -> list[Any]:
    return [pytest.param(case, id=case.case, marks=pytest.mark.req(*RULES)) for case in load()]


@pytest.mark.parametrize("case", _params())
def test_effort_known_answer(verifier_api: VerifierAPI, case: EffortCase) -> None:
    result = verifier_api.verify_proof(case.proof)
    expect_equal(
        {k: result.get(k) for k in case.expected},
        case.expected,
        f"{case.family} proof {case.case} (conformance/vectors/verifier/effort.json)",
    )
