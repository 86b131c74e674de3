"""The collector of a height and view (V2.10, V2.11) and the zero-CPU floors it gives under the
WAN-7 matrix (aethel/sim/network.py)."""

from __future__ import annotations

import statistics
from collections import Counter

import pytest

from aethel.consensus.quorum import compute_quorum
from aethel.consensus.v2.collector import (
    RegionTable,
    choose_collector,
    collector_region,
    floor_table,
    region_stakes,
)
from aethel.errors import ProtocolViolation
from aethel.sim.network import LATENCY_MS, REGIONS
from tests.v2.conftest import make_roster

WAN7 = RegionTable(REGIONS, LATENCY_MS)


def _equal_stakes(n: int) -> list[int]:
    stakes = [0] * len(REGIONS)
    for i in range(n):
        stakes[i % len(REGIONS)] += 1
    return stakes


@pytest.mark.req("V2.10")
def test_wan7_floors_at_1000_validators() -> None:
    """The issue's numbers: 350-590 ms with the leader collecting (494 ms average), 374 ms with
    a collector in us-east; the latency-aware rule picks us-east for every leader here."""
    rows = floor_table(WAN7, _equal_stakes(1000), compute_quorum(1000), "us-east")
    leader = {r.leader: r.leader_collects_ms for r in rows}
    assert leader == {
        "us-east": 350,
        "us-west": 390,
        "eu-west": 490,
        "eu-central": 520,
        "ap-northeast": 590,
        "ap-southeast": 550,
        "sa-east": 570,
    }
    assert round(statistics.mean(leader.values()), 1) == 494.3
    assert round(statistics.mean(r.fixed_ms for r in rows), 1) == 374.3
    assert [r.aware_ms for r in rows] == [r.fixed_ms for r in rows]
    assert {r.aware_region for r in rows} == {"us-east"}


@pytest.mark.req("V2.10")
def test_the_aware_collector_is_never_worse_and_follows_the_stake() -> None:
    """With nearly all the stake in Asia, the collector moves there for every leader."""
    stakes = [1, 1, 1, 1, 300, 300, 1]
    quorum = compute_quorum(sum(stakes))
    rows = floor_table(WAN7, stakes, quorum, "us-east")
    assert all(r.aware_ms <= min(r.fixed_ms, r.leader_collects_ms) for r in rows)
    assert {r.aware_region for r in rows} == {"ap-northeast", "ap-southeast"}
    # A leader in ap-northeast: relaying the proposal through ap-southeast (2 + 35 ms) beats
    # the round trip to it (2 x 35 ms), so the collector is the other Asian region.
    assert collector_region(WAN7, stakes, quorum, REGIONS.index("ap-northeast")) == 5
    assert rows[4].leader_collects_ms == 290 and rows[4].aware_ms == 257


@pytest.mark.req("V2.10")
def test_the_choice_is_deterministic_by_stake_within_the_region() -> None:
    roster = make_roster([1000 + 10 * i for i in range(70)])
    seed = b"\x05" * 32
    east = [i for i, m in enumerate(roster.members) if m.region == "us-east"]
    leader_east, leader_west = east[3], 1  # member 1 is in us-west
    drawn = Counter()
    for height in range(1, 1401):
        assert choose_collector(roster, WAN7, seed, height, 0, leader_east) == leader_east
        chosen = choose_collector(roster, WAN7, seed, height, 0, leader_west)
        assert chosen == choose_collector(roster, WAN7, seed, height, 0, leader_west)
        drawn[chosen] += 1
        # A view after the first: the leader collects.
        assert choose_collector(roster, WAN7, seed, height, 1, leader_west) == leader_west
    assert set(drawn) <= set(east) and len(drawn) == len(east)
    total = sum(roster.members[i].stake for i in east)
    for i in east:
        share = roster.members[i].stake / total
        assert abs(drawn[i] / 1400 - share) < 0.05, (i, drawn[i], share)
    assert region_stakes(roster, WAN7)[0] == total


@pytest.mark.req("V2.10")
@pytest.mark.rejects("V2.10")
@pytest.mark.parametrize(
    ("names", "table", "reason"),
    [
        (("a", "b"), ((2, 30), (31, 2)), "symmetric"),
        (("a", "b"), ((2, -1), (-1, 2)), "int >= 0"),
        (("a", "b"), ((2, 30),), "2 x 2"),
        (("a", "a"), ((2, 30), (30, 2)), "distinct"),
        ((), (), "non-empty"),
    ],
)
def test_a_bad_region_table_is_refused(
    names: tuple[str, ...], table: tuple[tuple[int, ...], ...], reason: str
) -> None:
    with pytest.raises(ProtocolViolation, match=reason) as refused:
        RegionTable(names, table)
    assert refused.value.rule_id == "V2.10"


@pytest.mark.req("V2.10")
@pytest.mark.rejects("V2.10")
def test_a_member_in_an_undeclared_region_is_refused() -> None:
    roster = make_roster([1000] * 3)
    with pytest.raises(ProtocolViolation, match="unknown region") as refused:
        region_stakes(roster, RegionTable(("us-east",), ((2,),)))
    assert refused.value.rule_id == "V2.10"


@pytest.mark.req("V2.10")
def test_the_benchmark_prints_the_computed_floors() -> None:
    from aethel.bench.consensus import collector_floor_rows

    rows = {r.name: r for r in collector_floor_rows(10_000)}
    assert round(rows["collector_10000_floor_leader_collects_s"].value, 4) == 0.4943
    assert round(rows["collector_10000_floor_us_east_collector_s"].value, 4) == 0.3743
    assert round(rows["collector_10000_floor_aware_collector_s"].value, 4) == 0.3743
    assert rows["collector_10000_floor_physical_s"].value == 0.12
    assert all("not a simulation" in r.note for r in rows.values())
