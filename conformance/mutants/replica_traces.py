"""Mutants caught by the replica traces (conformance/suite/test_replica_traces.py).

An implementation that finds misbehaviour but keeps the evidence to itself: it reports the
offence to its operator (the ``evidence`` output) and pools it for its own next block, but never
gossips it (R8.5). In a cluster the offence is still slashed when another node saw it too, so
only a scripted trace, where this replica alone holds both conflicting votes, shows the missing
broadcast.
"""

from __future__ import annotations

from aethel.consensus.events import EvidenceFound
from aethel.consensus.evidence import Evidence
from aethel.consensus.replica import Replica
from conformance.mutants import Mutant, replica_implementation


class SilentEvidenceReplica(Replica):
    """Defect: evidence the replica finds is pooled and reported, never broadcast."""

    def _report(self, evidence: Evidence) -> None:
        key = evidence.slash_key
        if self.evidence.knows(key):
            return
        self.evidence.pending[key] = evidence
        self.stats.evidence_found += 1
        self._out.append(
            EvidenceFound(evidence, evidence.offender, evidence.offence.value, evidence.height)
        )


SilentEvidence = replica_implementation(
    "SilentEvidence", __name__, replica_class=SilentEvidenceReplica
)

MUTANTS = [
    Mutant(
        "evidence-not-gossiped",
        "evidence the replica finds is reported to its operator but never broadcast",
        ("R8.5",),
        ("replica",),
        SilentEvidence,
    ),
]
