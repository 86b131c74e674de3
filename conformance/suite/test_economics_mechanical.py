"""Economics cases written from the survivors of the mechanical campaign (R1.2, R4.2, R4.4, R4.7).

A slash is defined for stakes s >= 0 (I8); spec/economics.md's R4.2 says a negative stake is
refused naming R4.2. Before this case, an implementation that burned a share of a negative stake
(``floor(-1000 * 20 / 100) = -200``, minting tokens from nothing) passed the suite: the mutant
that drops the reference's stake check survived every case.
"""

from __future__ import annotations

import pytest

from conformance.adapters.api import EconomicsAPI
from conformance.checks import expect_equal, expect_rejected

pytestmark = pytest.mark.capability("economics")


@pytest.mark.req("R4.2")
@pytest.mark.rejects("R4.2")
@pytest.mark.parametrize("offence", ["false-claim", "equivocation"])
@pytest.mark.parametrize("stake", [-1, -1000, -(2**63)], ids=lambda s: f"stake{s}")
def test_a_negative_stake_is_not_slashed(
    economics_api: EconomicsAPI, stake: int, offence: str
) -> None:
    expect_equal(economics_api.slash_amount(0, offence), 0, "control: a stake of 0 loses 0")
    expect_rejected(
        lambda: economics_api.slash_amount(stake, offence),
        f"slashing a stake of {stake} for {offence}",
        rule="R4.2",
    )


#: The formulas of one amount, the rule that defines each, and its command.
FORMULAS = {
    "proof_reward": "R1.2",
    "block_reward": "R4.4",
    "emission_limit": "R4.7",
}


def _formula_params() -> list[object]:
    return [
        pytest.param(
            command,
            value,
            id=f"{command}{value}",
            marks=[pytest.mark.req(rule), pytest.mark.rejects(rule)],
        )
        for command, rule in FORMULAS.items()
        for value in (-1, -(2**63))
    ]


@pytest.mark.parametrize(("command", "value"), _formula_params())
def test_a_negative_difficulty_or_height_is_refused(
    economics_api: EconomicsAPI, command: str, value: int
) -> None:
    """A proof's difficulty, a block's total difficulty and a height are natural numbers: the
    reward of difficulty -1 is not -10 and E(-1) is not -5,000,000 (spec/economics.md R1.2,
    R4.4, R4.7). Written from the campaign's survivor that dropped the reference's difficulty
    check (``compute_proof_reward``); the same defect in the other two formulas is alike."""
    formula = getattr(economics_api, command)
    rule = FORMULAS[command]
    expect_equal(formula(0), 0, f"control: {command}(0)")
    expect_rejected(lambda: formula(value), f"{command}({value})", rule=rule)
