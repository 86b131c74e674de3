"""Who collects the votes of a height and view in version 2, and the zero-CPU floor it gives
(V2.10, V2.11).

Inputs come from the validator set alone: each member's declared region, the set's nominal
latency table between regions (one-way, integer milliseconds) and the stakes; never a node's own
measurements, which differ between nodes. The leader (consensus.md, unchanged) still proposes.

The floor of the three-phase collector pattern with leader region ``L`` and collector region
``c`` is ``prepare + commit + spread`` (all in the table's milliseconds):

* prepare: the proposal goes from L to every region r and r's PREPARE votes to c; the least t by
  which the regions with lat(L, r) + lat(r, c) <= t hold q(W) stake;
* commit: the prepared certificate goes from c to every region and the COMMIT votes return; the
  least t by which the regions with 2 lat(c, r) <= t hold q(W);
* spread: the commit certificate reaches the farthest region with stake, max lat(c, r).

With the leader collecting (version 1) c = L. No CPU time, jitter, uplink or relay hop is
counted: it is the latency floor, below which no implementation can finish.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aethel.consensus.v2.roster import Roster
from aethel.encoding import sha256
from aethel.errors import ProtocolViolation

COLLECTOR_RULE = "V2.10"
#: The prefix of the collector's draw, so it is independent of the leader's.
COLLECTOR_DRAW_TAG = b"aethel/collector/v2"


@dataclass(frozen=True, slots=True)
class RegionTable:
    """The regions of a validator set and the nominal one-way latency between them (ms)."""

    names: tuple[str, ...]
    latency_ms: tuple[tuple[int, ...], ...]

    def __post_init__(self) -> None:
        n = len(self.names)
        if n == 0 or len(set(self.names)) != n:
            raise ProtocolViolation(COLLECTOR_RULE, "regions must be non-empty and distinct")
        if len(self.latency_ms) != n or any(len(row) != n for row in self.latency_ms):
            raise ProtocolViolation(COLLECTOR_RULE, f"the latency table must be {n} x {n}")
        for i, row in enumerate(self.latency_ms):
            for j, value in enumerate(row):
                if type(value) is not int or value < 0:
                    raise ProtocolViolation(
                        COLLECTOR_RULE, f"latency [{i}][{j}] is not an int >= 0"
                    )
                if value != self.latency_ms[j][i]:
                    raise ProtocolViolation(COLLECTOR_RULE, f"latency [{i}][{j}] is not symmetric")

    def index(self, name: str) -> int:
        """Return the position of region ``name``; refuse an unknown region."""
        try:
            return self.names.index(name)
        except ValueError:
            raise ProtocolViolation(COLLECTOR_RULE, f"unknown region {name!r}") from None


def region_stakes(roster: Roster, table: RegionTable) -> list[int]:
    """Return the stake of the roster's members in each region of ``table``."""
    stakes = [0] * len(table.names)
    for member in roster.members:
        stakes[table.index(member.region)] += member.stake
    return stakes


def _least_time(arrivals: Sequence[tuple[int, int]], quorum: int) -> int:
    """Return the least t by which the (time, stake) arrivals hold ``quorum`` stake."""
    held = 0
    for time, stake in sorted(arrivals):
        held += stake
        if held >= quorum:
            return time
    raise ProtocolViolation(COLLECTOR_RULE, "the regions hold less than q(W) stake")


def floor_ms(
    table: RegionTable, stakes: Sequence[int], quorum: int, leader: int, collector: int
) -> tuple[int, int, int]:
    """Return (prepare, commit, spread) of the pattern with these leader and collector regions."""
    lat = table.latency_ms
    live = [r for r, stake in enumerate(stakes) if stake > 0]
    prepare = _least_time([(lat[leader][r] + lat[r][collector], stakes[r]) for r in live], quorum)
    commit = _least_time([(2 * lat[collector][r], stakes[r]) for r in live], quorum)
    spread = max(lat[collector][r] for r in live)
    return prepare, commit, spread


def collector_region(table: RegionTable, stakes: Sequence[int], quorum: int, leader: int) -> int:
    """Return the region whose collector gives the least floor for a leader in ``leader``;
    ties go to the leader's region, then to the earlier region of the table (V2.10)."""
    candidates = [r for r, stake in enumerate(stakes) if stake > 0]
    return min(
        candidates,
        key=lambda c: (sum(floor_ms(table, stakes, quorum, leader, c)), c != leader, c),
    )


def choose_collector(
    roster: Roster,
    table: RegionTable,
    epoch_seed: bytes,
    height: int,
    view: int,
    leader: int,
) -> int:
    """Return the index (set order) of the collector of (height, view) (V2.10, V2.11).

    In a view after the first the leader collects. In view 0, the collector region is chosen as
    :func:`collector_region` says; the leader collects if it is in that region, otherwise the
    region's members are drawn by stake with ticket SHA-256(tag || epoch seed || height || view)
    mod their stake (8-byte big-endian height and view).
    """
    if view > 0:
        return leader
    stakes = region_stakes(roster, table)
    leader_region = table.index(roster.members[leader].region)
    chosen = collector_region(table, stakes, roster.quorum, leader_region)
    if chosen == leader_region:
        return leader
    draw = sha256(
        COLLECTOR_DRAW_TAG + epoch_seed + height.to_bytes(8, "big") + view.to_bytes(8, "big")
    )
    ticket = int.from_bytes(draw, "big") % stakes[chosen]
    running = 0
    for index, member in enumerate(roster.members):
        if table.index(member.region) != chosen:
            continue
        running += member.stake
        if running > ticket:
            return index
    raise AssertionError("the draw ends inside the region")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class FloorRow:
    """The floor of one leader region under each collector choice (ms)."""

    leader: str
    leader_collects_ms: int
    fixed_ms: int
    aware_ms: int
    aware_region: str


def floor_table(
    table: RegionTable, stakes: Sequence[int], quorum: int, fixed: str
) -> list[FloorRow]:
    """Return, for each leader region with stake, the floor with the leader collecting (version
    1), with a collector fixed in region ``fixed``, and with the latency-aware collector."""
    fixed_index = table.index(fixed)
    rows = []
    for leader, stake in enumerate(stakes):
        if stake == 0:
            continue
        aware = collector_region(table, stakes, quorum, leader)
        rows.append(
            FloorRow(
                table.names[leader],
                sum(floor_ms(table, stakes, quorum, leader, leader)),
                sum(floor_ms(table, stakes, quorum, leader, fixed_index)),
                sum(floor_ms(table, stakes, quorum, leader, aware)),
                table.names[aware],
            )
        )
    return rows
