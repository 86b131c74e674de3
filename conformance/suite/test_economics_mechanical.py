"""Economics cases written from the survivors of the mechanical campaign (R4.2, I8).

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
