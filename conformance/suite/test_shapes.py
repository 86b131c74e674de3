"""Protocol objects of another shape are refused naming E12 (spec/encoding.md, the data model),
and a member out of its form names the rule the data model's table gives it (E5, N6).

Each input is a proof whose only fault is its shape: a member missing, a member its type does not
define, a member of another JSON type, or a value outside its member's set. The object is signed
over its members as sent, so its signature verifies (E7) and its bytes are canonical (E4); the
spec names E12 for each of these refusals, not E4, and an implementation must neither answer a
verdict (an ignored member is data the verdict never read) nor name another rule. The inputs are
the verifier vectors' shape cases (conformance/testvectors/verifier_cases.py, one source).
"""

from __future__ import annotations

import pytest

from conformance.adapters.api import VerifierAPI
from conformance.checks import expect_equal, expect_rejected
from conformance.testvectors.verifier_cases import (
    AT_THE_SUBJECT_LIMIT,
    MEMBER_FAULTS,
    SHAPE_BODY,
    signed_as_sent,
)
from conformance.testvectors.verifier_cases import MALFORMED_PROOFS as MALFORMED

pytestmark = pytest.mark.capability("verifier")


@pytest.mark.req("E12", "E7")
def test_the_well_formed_proof_gets_a_verdict(verifier_api: VerifierAPI) -> None:
    """The control: the object every case below changes is a proof, and a valid one."""
    result = verifier_api.verify_proof(signed_as_sent(SHAPE_BODY))
    expect_equal(result.get("verdict"), "valid", "the verdict of the unchanged proof")


@pytest.mark.req("E12")
@pytest.mark.rejects("E12")
@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_proof_of_another_shape_is_refused_naming_e12(
    verifier_api: VerifierAPI, case: str
) -> None:
    expect_rejected(
        lambda: verifier_api.verify_proof(MALFORMED[case]), f"a proof ({case})", rule="E12"
    )


def _member_params() -> list[object]:
    return [
        pytest.param(case, id=case, marks=[pytest.mark.req(rule), pytest.mark.rejects(rule)])
        for case, (rule, _) in MEMBER_FAULTS.items()
    ]


@pytest.mark.parametrize("case", _member_params())
def test_a_proof_member_out_of_its_form_names_its_rule(
    verifier_api: VerifierAPI, case: str
) -> None:
    """A byte string of another length or case, or with a prefix, is refused naming E5; one
    subject more than MAX_PROOF_SUBJECTS names N6 (the data model's table). The limit itself,
    256 subjects, is a proof and gets its verdict."""
    rule, proof = MEMBER_FAULTS[case]
    expect_rejected(lambda: verifier_api.verify_proof(proof), f"a proof ({case})", rule=rule)
    if case == "subjects-past-the-limit":
        result = verifier_api.verify_proof(AT_THE_SUBJECT_LIMIT)
        expect_equal(result.get("verdict"), "valid", "the verdict with 256 subjects")
