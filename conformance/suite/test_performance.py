"""Finality, throughput and scale under WAN-7 in virtual time, with the implementation's replicas
in the cluster (R2.1, R4.5, R6.1, R6.2, R6.4, N4, P18, P24, T22.3.B1, T22.3.B2).

Conditions are the catalog's: WAN-7, no faults, blocks of 100 judge-generated proofs, the
maximum over the heights of one run. The implementation hosts a handful of the validators
(hosting 1,000 of them through the adapter would measure the pipe, not the protocol); the
finality of each height is the time until the last honest validator, the implementation's
included, committed it. Runs of 10,000 validators take tens of minutes on two cores, so they
run only with ``--scale full``; a standard run reports them as not run, never as passed.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from aethel.sim.simulator import SimConfig
from conformance.adapters import Implementation
from conformance.adapters.api import ReplicaAPI
from conformance.mixed import MixedResult, run_mixed
from conformance.plugin import Measure
from conformance.suite.test_consensus import require_clean

pytestmark = [pytest.mark.capability("replica"), pytest.mark.performance]
IMPL_NODES = 4
SECOND = 1e9


def run_at_scale(impl: Implementation, validators: int, heights: int, seed: int) -> MixedResult:
    config = SimConfig(validators=validators, heights=heights, mode="collector", seed=seed,
                       per_block=100, accounts=256)  # fmt: skip
    mixed = run_mixed(impl, config, IMPL_NODES)
    require_clean(mixed, heights)
    return mixed


def max_finality(mixed: MixedResult) -> float:
    return float(max(row["finality_s"] for row in mixed.result.heights))


def max_reward_delay(mixed: MixedResult) -> float:
    """Virtual seconds from a validator's commit of h to its commit of h + 1, which credits h's
    reward (the reference pays in the next transition), maximum over validators and heights."""
    times: dict[int, dict[int, int]] = defaultdict(dict)
    for record in mixed.commits:
        times[record.node].setdefault(record.height, record.time)
    delays = [
        (by_height[h + 1] - by_height[h]) / SECOND
        for by_height in times.values()
        for h in by_height
        if h + 1 in by_height
    ]
    return max(delays)


@pytest.mark.req("R6.1", "T22.3.B1", "R6.4", "R2.1", "R4.5", "P18")
def test_one_thousand_validators(
    impl: Implementation, replica_api: ReplicaAPI, measure: Measure, seed: int
) -> None:
    """1,000 validators, 5 heights of 100 proofs: finality, network throughput, reward delay."""
    heights = 5
    mixed = run_at_scale(impl, 1_000, heights, seed)
    finality = max_finality(mixed)
    measure.check("R6.1", "finality_virtual_s", finality, x=1_000, series="finality by validators")
    measure.check("T22.3.B1", "finality_virtual_s", finality)
    blocks = {r.height: r.committed.block for r in mixed.commits}
    proofs = sum(len(block.proofs) for block in blocks.values())
    span = (max(r.time for r in mixed.commits) - min(mixed.sim.engine.proposals.values())) / SECOND
    measure.check("R6.4", "proofs_per_s", proofs / span, note=f"{proofs} proofs in {span:.2f} s")
    measure.check("R2.1", "validators", 1_000)
    delay = max_reward_delay(mixed)
    measure.check("R4.5", "reward_delay_virtual_s", delay)
    measure.check("P18", "reward_delay_virtual_s", delay)


@pytest.mark.req("R6.2", "P24", "N4", "T22.3.B2")
@pytest.mark.scale("full")
@pytest.mark.parametrize(
    "validators",
    [
        pytest.param(1_000, id="validators-1000"),
        pytest.param(10_000, id="validators-10000", marks=pytest.mark.req("N4")),
    ],
)
def test_finality_up_to_ten_thousand_validators(
    impl: Implementation, replica_api: ReplicaAPI, measure: Measure, seed: int, validators: int
) -> None:
    mixed = run_at_scale(impl, validators, 3, seed)
    finality = max_finality(mixed)
    measure.check(
        "R6.2", "finality_virtual_s", finality, x=validators, series="finality by validators"
    )
    measure.check("P24", "finality_virtual_s", finality, x=validators)
    measure.check("T22.3.B2", "finality_virtual_s", finality, x=validators)
    if validators >= 10_000:
        measure.check("N4", "validators", validators)
