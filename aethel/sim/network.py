"""The WAN-7 reference network model (decided by the lead; /work/notes/WAN7.md).

* 7 regions in this order: us-east, us-west, eu-west, eu-central, ap-northeast, ap-southeast,
  sa-east; validator i (0-based, validator-set order) lives in region i mod 7.
* One-way base latency between regions: :data:`LATENCY_MS` (symmetric).
* Jitter: each message's latency is multiplied by (1 + u), u uniform in [0, 0.10], drawn by the
  seeded RNG of the sending node's link; integer ns, rounded down.
* Uplink 1 Gbit/s per node: a node's outgoing messages leave one after another; b bytes occupy
  the uplink for b * 8 ns. Size = length of the canonical encoding, signature included.
* CPU: see :mod:`aethel.sim.cpu`. Virtual time is integer nanoseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

REGIONS = (
    "us-east",
    "us-west",
    "eu-west",
    "eu-central",
    "ap-northeast",
    "ap-southeast",
    "sa-east",
)
LATENCY_MS = (
    (2, 35, 40, 45, 80, 110, 60),
    (35, 2, 70, 75, 55, 85, 90),
    (40, 70, 2, 20, 110, 95, 95),
    (45, 75, 20, 2, 120, 100, 105),
    (80, 55, 110, 120, 2, 35, 150),
    (110, 85, 95, 100, 35, 2, 150),
    (60, 90, 95, 105, 150, 150, 2),
)
MS = 1_000_000


@dataclass(frozen=True, slots=True)
class NetworkModel:
    """WAN-7 with its parameters; ``latency_scale`` > 1 gives a slower variant for tests."""

    jitter_max: float = 0.10
    ns_per_byte: int = 8
    latency_scale: int = 1

    @property
    def name(self) -> str:
        """Return the model's name as printed in results."""
        return "WAN-7" if self.latency_scale == 1 else f"WAN-7 x{self.latency_scale}"

    def latency_table(self) -> list[list[int]]:
        """Return the base one-way latency in ns between regions (row: sender)."""
        return [[ms * MS * self.latency_scale for ms in row] for row in LATENCY_MS]

    @staticmethod
    def region_of(index: int) -> int:
        """Return the region of validator ``index``."""
        return index % len(REGIONS)

    def describe(self) -> dict[str, Any]:
        """Return the model as JSON for results and benchmarks."""
        return {
            "name": self.name,
            "regions": list(REGIONS),
            "placement": "validator i in region i mod 7",
            "latency_ms": [[ms * self.latency_scale for ms in row] for row in LATENCY_MS],
            "jitter": f"latency * (1 + u), u ~ U[0, {self.jitter_max}] per message",
            "uplink_bits_per_s": 8 * 1_000_000_000 // self.ns_per_byte,
            "message_size": "length of the canonical encoding, signature included",
        }
