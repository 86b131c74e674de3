"""Protocol objects of another shape are refused naming E12 (spec/encoding.md, the data model).

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
from conformance.testvectors.verifier_cases import MALFORMED_PROOFS as MALFORMED
from conformance.testvectors.verifier_cases import SHAPE_BODY, signed_as_sent

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
