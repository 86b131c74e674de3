"""Mutants of the height at which protocol version 2 starts (V2.1: "version 1 at every height
below its activation height H2 and version 2 at H2 and every later height").

Each is a replica that reads the activation height one off, the mistake of an implementer who
takes H2 for the last height of the old version, or for the first height built on a block of the
new one:

* ``version-2-a-height-early``: version 2 from H2 - 1 (a network starting in version 2, H2 = 1,
  is still right, so only a case that crosses an activation above 1 sees it);
* ``version-2-a-height-late``: version 2 from H2 + 1.

Caught by suite/test_replica_v2.py::test_the_version_changes_at_the_activation_height (the late
one also by every case whose genesis starts the network in version 2).
"""

from __future__ import annotations

from aethel.consensus.replica import Replica
from conformance.mutants import Mutant, replica_implementation


class EarlyReplica(Replica):
    """Defect: version 2 starts at the height before H2."""

    def _version_of(self, height: int) -> int:
        if self.activation is None:
            return 1
        return 2 if height + 1 >= self.activation else 1


class LateReplica(Replica):
    """Defect: version 2 starts at the first height after H2."""

    def _version_of(self, height: int) -> int:
        if self.activation is None:
            return 1
        return 2 if height > self.activation else 1


Early = replica_implementation("Early", __name__, replica_class=EarlyReplica)
Late = replica_implementation("Late", __name__, replica_class=LateReplica)

MUTANTS = [
    Mutant(
        "version-2-a-height-early",
        "protocol version 2 runs from the height before the activation height",
        ("V2.1",),
        ("replica",),
        Early,
    ),
    Mutant(
        "version-2-a-height-late",
        "protocol version 2 runs from the height after the activation height",
        ("V2.1",),
        ("replica",),
        Late,
    ),
]
