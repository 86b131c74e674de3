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
from conformance.histories import (
    TAMPERS,
    Chain,
    HistoryCase,
    all_validators,
    alternative_link,
    build_case,
    make_chain,
    valid_case,
)

pytestmark = pytest.mark.capability("history")

#: Where each defect goes: height 3 of 4 (so the links around it are real), or the last height
#: the defect can take.
TAMPER_HEIGHT = 3


@pytest.fixture(scope="module")
def chain() -> Chain:
    return make_chain()


def _wire(chain: Chain) -> dict[str, Any]:
    return {"genesis": chain.genesis_json(), "validator_set": chain.validators.to_wire()}


def _valid(chain: Chain, name: str) -> HistoryCase:
    from aethel.consensus.history import History, HistoryLink

    if name == "whole-chain":
        return valid_case(chain)
    if name == "roots-only":
        links = tuple(HistoryLink(x.block, x.certificate, None) for x in chain.history.links)
        return valid_case(chain, History(links))
    if name == "first-two-heights":
        return valid_case(chain, chain.history.prefix(2))
    return valid_case(chain, History(()))  # "empty": the genesis itself


VALID = ("whole-chain", "roots-only", "first-two-heights", "empty")


@pytest.mark.req("R3.3")
@pytest.mark.parametrize("name", VALID, ids=str)
def test_a_valid_history_is_accepted_with_its_tip(
    history_api: HistoryAPI, chain: Chain, name: str
) -> None:
    case = _valid(chain, name)
    answer = history_api.verify(**_wire(chain), history=case.history.to_wire())
    assert case.root is not None
    expected = {"accepted": True, "height": case.height, "root": to_hex(case.root)}
    expect_equal(answer, expected, "verdict on a valid history")


def _tamper_params() -> list[Any]:
    params = []
    for tamper in TAMPERS:
        height = max(tamper.first, min(TAMPER_HEIGHT, 4 - tamper.last_offset))
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


def _fork(chain: Chain, height: int) -> tuple[Any, list[str], int]:
    """Return a history forking at ``height`` (q(W) on both sides) and the expected evidence."""
    from aethel.consensus.history import History

    real = chain.link(height).certificate
    assert real is not None
    others = [v for v in all_validators(chain) if v != real.members[0]]
    link = alternative_link(chain, height, others)
    forked = History((*chain.history.links[: height - 1], link))
    both = [v for v in all_validators(chain) if v in real.members and v in others]
    return forked, both, sum(chain.validators.stake_of(v) for v in both)


CHOICES = (
    "valid-then-minted",
    "minted-then-valid",
    "both-tampered",
    "prefix-then-whole",
    "whole-then-prefix",
    "fork-at-3",
)


@pytest.mark.req("R3.3", "P12")
@pytest.mark.rejects("R3.3", "P12")
@pytest.mark.parametrize("name", CHOICES, ids=str)
def test_of_two_histories_the_verifiable_one_is_chosen(
    history_api: HistoryAPI, chain: Chain, name: str
) -> None:
    whole = chain.history
    minted = build_case(chain, "mint-quorum", TAMPER_HEIGHT).history
    conflict = None
    if name == "valid-then-minted":
        first, second, chosen = whole, minted, "first"
    elif name == "minted-then-valid":
        first, second, chosen = minted, whole, "second"
    elif name == "both-tampered":
        first, second, chosen = minted, build_case(chain, "under-quorum", 2).history, "neither"
    elif name == "prefix-then-whole":
        first, second, chosen = whole.prefix(2), whole, "second"
    elif name == "whole-then-prefix":
        first, second, chosen = whole, whole.prefix(2), "first"
    else:
        first, (second, signers, stake) = whole, _fork(chain, 3)
        chosen, conflict = "conflict", {"height": 3, "signers": signers, "stake": stake}
    answer = history_api.choose(**_wire(chain), first=first.to_wire(), second=second.to_wire())
    expect_equal(answer, {"chosen": chosen, "conflict": conflict}, f"choice in {name}")
