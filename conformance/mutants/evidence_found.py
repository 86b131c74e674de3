"""Replicas that mishandle the Byzantine acts they detect: one reports an act every time it sees
it (R8.5, P36: "each Byzantine act that an honest node detects appears in its log once"), one
never puts what it holds into the blocks it leads (R4.2).

``evidence-reported-per-sighting``: the replica broadcasts (and reports to its shell) evidence each
time it detects an act, with no memory of what it reported: a PREPARE repeated by a validator
that voted for a block with a false proof, or a false-claim proposal delivered again, makes a
new record each time. Nothing is wrong in any single record; the log, the gossip and the
blocks' evidence lists fill with copies.

``leader-carries-no-evidence``: the replica gossips the evidence it finds but builds its blocks
without any: offenders are slashed only when a leader of another implementation carries the
record, and a network of such nodes never slashes anyone.

Caught by conformance/suite/test_evidence_found.py.
"""

from __future__ import annotations

from aethel.consensus.events import Broadcast, EvidenceFound
from aethel.consensus.evidence import Evidence
from aethel.consensus.replica import Replica
from conformance.mutants import Mutant, replica_implementation


class ReportsEverySightingReplica(Replica):
    """Defect: evidence is pooled, gossiped and reported on every detection."""

    def _report(self, evidence: Evidence) -> None:
        self.evidence.pending[evidence.slash_key] = evidence
        self._out.append(Broadcast(evidence))
        self.stats.evidence_found += 1
        self._out.append(
            EvidenceFound(evidence, evidence.offender, evidence.offence.value, evidence.height)
        )


class CarriesNoEvidenceReplica(Replica):
    """Defect: the blocks this replica builds carry no evidence."""

    def _evidence_for_block(self) -> list[Evidence]:
        return []


CarriesNoEvidence = replica_implementation(
    "CarriesNoEvidence", __name__, replica_class=CarriesNoEvidenceReplica
)
ReportsEverySighting = replica_implementation(
    "ReportsEverySighting", __name__, replica_class=ReportsEverySightingReplica
)

MUTANTS = [
    Mutant(
        name="evidence-reported-per-sighting",
        defect="a replica reports a Byzantine act each time it detects it (a repeated vote for "
        "a block with a false proof makes a new record), not once",
        breaks=("R8.5", "P36"),
        capabilities=("replica",),
        build=ReportsEverySighting,
    ),
    Mutant(
        name="leader-carries-no-evidence",
        defect="a replica gossips the evidence it finds but builds its blocks without any, so "
        "nobody is slashed for what it detected while it leads",
        breaks=("R4.2",),
        capabilities=("replica",),
        build=CarriesNoEvidence,
    ),
]
