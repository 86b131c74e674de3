"""Presented histories: the verifiable lineage is accepted, a tampered one rejected at the height
where it breaks, and of two conflicting histories the verifiable one is chosen (R3.3, P12, R7.4,
P29).

The valid history is a real chain: the reference simulator's 5 validators commit 4 heights of
signed transfers with Z3-checked proofs (conformance/histories.py). Each tampered copy carries
one defect at one height, re-signed with the validators' keys wherever the defect should be the
only thing wrong (a transition minting tokens certified by all 5 keys: only re-executing the
block shows it). The implementation gets the genesis, the validator set and the history; the
expected verdict (accepted and the tip, or the first height that does not verify) stays here.
"""

from __future__ import annotations

from typing import Any

import pytest

from aethel.encoding import to_hex
from conformance.adapters.api import HistoryAPI
from conformance.checks import expect_equal
from conformance.histories import TAMPERS, Chain, build_case, valid_case
from conformance.testvectors import history_cases

pytestmark = pytest.mark.capability("history")

#: Where each defect goes: height 3 of 4 (so the links around it are real), or the last height
#: the defect can take. The chain, the histories and the choices are the vectors' own
#: (conformance/testvectors/history_cases.py).
TAMPER_HEIGHT = history_cases.TAMPER_HEIGHT


@pytest.fixture(scope="module")
def chain() -> Chain:
    return history_cases.chain()


def _wire(chain: Chain) -> dict[str, Any]:
    return {"genesis": chain.genesis_json(), "validator_set": chain.validators.to_wire()}


#: The valid histories by name (history_cases.valid_histories).
VALID = history_cases.VALID_HISTORIES


def _valid_params() -> list[Any]:
    return [
        pytest.param(
            name,
            id=name,
            # A block is certified in a later view than its proposer led when re-proposed.
            marks=[pytest.mark.req("R2.6")] if name == history_cases.LATE_VIEW_HISTORY else [],
        )
        for name in VALID
    ]


@pytest.mark.req("R3.3")
@pytest.mark.parametrize("name", _valid_params())
def test_a_valid_history_is_accepted_with_its_tip(
    history_api: HistoryAPI, chain: Chain, name: str
) -> None:
    case = valid_case(chain, history_cases.valid_histories(chain)[name])
    answer = history_api.verify(**_wire(chain), history=case.history.to_wire())
    assert case.root is not None
    expected = {"accepted": True, "height": case.height, "root": to_hex(case.root)}
    expect_equal(answer, expected, "verdict on a valid history")


def _tamper_params() -> list[Any]:
    params = []
    for tamper in TAMPERS:
        height = history_cases.tamper_height(tamper.first, tamper.last_offset)
        params.append(
            pytest.param(
                tamper.kind,
                height,
                id=f"{tamper.kind}-at-{height}",
                marks=[pytest.mark.req(*tamper.cites), pytest.mark.rejects(*tamper.cites)],
            )
        )
    return params


@pytest.mark.parametrize(("kind", "height"), _tamper_params())
def test_a_tampered_history_is_rejected_at_the_height_it_breaks(
    history_api: HistoryAPI, chain: Chain, kind: str, height: int
) -> None:
    case = build_case(chain, kind, height)
    answer = history_api.verify(**_wire(chain), history=case.history.to_wire())
    if not isinstance(answer, dict):
        raise AssertionError(f"a verdict is an object, got {answer!r}")
    got = {"accepted": answer.get("accepted"), "height": answer.get("height")}
    expect_equal(got, {"accepted": False, "height": height}, f"verdict on {kind} at {height}")


#: The pairs of histories by name (history_cases.choices).
CHOICES = history_cases.CHOICES


@pytest.mark.req("R3.3", "P12")
@pytest.mark.rejects("R3.3", "P12")
@pytest.mark.parametrize("name", CHOICES, ids=str)
def test_of_two_histories_the_verifiable_one_is_chosen(
    history_api: HistoryAPI, chain: Chain, name: str
) -> None:
    first, second, chosen, conflict = history_cases.choices(chain)[name]
    answer = history_api.choose(**_wire(chain), first=first.to_wire(), second=second.to_wire())
    expect_equal(answer, {"chosen": chosen, "conflict": conflict}, f"choice in {name}")


@pytest.fixture(scope="module")
def chain_v2() -> Chain:
    return history_cases.chain_v2()


@pytest.mark.req("R3.3", "V2.2", "V2.8", "R2.3")
@pytest.mark.consensus_version(2)
@pytest.mark.parametrize("name", history_cases.VERSION_2_HISTORIES, ids=str)
def test_a_history_of_both_versions_is_checked_in_each_heights_version(
    history_api: HistoryAPI, chain_v2: Chain, name: str
) -> None:
    """A real chain whose heights 1 and 2 run version 1 and 3 and 4 version 2 (its validator
    set names the first height of version 2 and carries the BLS keys): it verifies whole, each
    certificate in its height's form (V2.2: a list of signed COMMITs, then a bitmap and an
    aggregate, V2.8); a version-1 height with a certificate below q(W) is refused at that height
    (R2.3); and a version-2 height certified in version 1's form, by every member, is refused at
    that height (V2.2).

    Written from the module campaign of aethel/consensus/history_verifier.py: no history held a
    version-2 height, so a verifier that checked every certificate by version 1's rules, or
    none at version-1 heights once a set named version 2, passed."""
    history, failing = history_cases.version_2_histories(chain_v2)[name]
    answer = history_api.verify(**_wire(chain_v2), history=history.to_wire())
    expected = history_cases.version_2_verdict(chain_v2, history, failing)
    if failing is not None and isinstance(answer, dict):
        answer = {"accepted": answer.get("accepted"), "height": answer.get("height")}
    expect_equal(answer, expected, f"verdict on the history {name} (version 2 from height 3)")
