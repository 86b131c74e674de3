"""A collector that forwards each certificate only to the validators whose votes it holds
(spec/consensus.md, "Dissemination modes": the leader "forwards each certificate ... to every
validator").

``certificates-forwarded-to-their-voters``: in collector mode the leader sends its prepared and
commit certificates to the members that voted in them, as if only they were waiting. A member
whose vote arrived too late, or was not needed for q(W), never gets them: it cannot vote COMMIT
and commits only by catching up, a timeout later. Lossless mixed clusters still commit.

Caught by conformance/suite/test_collector_forwards.py.
"""

from __future__ import annotations

from aethel.consensus.events import Broadcast, Output, Send
from aethel.consensus.messages import CommitCertificate, PrepareCertificate
from conformance.adapters.api import JSON
from conformance.adapters.reference_replica import ReferenceReplicaObject
from conformance.mutants import Mutant, replica_implementation


class VotersOnlyObject(ReferenceReplicaObject):
    """Defect: a certificate the replica broadcasts goes to the validators of its votes only."""

    def _json(self, outputs: list[Output]) -> list[JSON]:
        changed: list[Output] = []
        for out in outputs:
            message = out.message if isinstance(out, Broadcast) else None
            if isinstance(message, PrepareCertificate | CommitCertificate):
                me = self.replica.id
                changed += [Send(v.validator, message) for v in message.votes if v.validator != me]
            else:
                changed.append(out)
        return super()._json(changed)


VotersOnly = replica_implementation("VotersOnly", __name__, base=VotersOnlyObject)

MUTANTS = [
    Mutant(
        name="certificates-forwarded-to-their-voters",
        defect="collector mode: the leader sends each certificate only to the members whose "
        "votes it holds, not to every validator",
        breaks=("R2.5",),
        capabilities=("replica",),
        build=VotersOnly,
    ),
]
