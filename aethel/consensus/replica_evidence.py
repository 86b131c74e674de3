"""The evidence pool of a replica: misbehaviour it found or was sent (R1.5, R4.2, R8.5).

Evidence found here (an equivocation, a vote for a block with an invalid proof) is broadcast and
reported to the shell; gossiped evidence is checked against the epoch's set before it is pooled.
The next leader includes pooled evidence in its block (:mod:`aethel.consensus.replica`).
"""

from __future__ import annotations

from aethel.consensus.events import Broadcast, EvidenceFound
from aethel.consensus.evidence import Evidence, check_evidence
from aethel.consensus.replica_state import ReplicaState
from aethel.errors import ProtocolViolation


class EvidencePool(ReplicaState):
    """Pool checked evidence for the next block (Spec: R1.5, R4.2, R8.5)."""

    def _on_evidence(self, evidence: Evidence) -> None:
        """Adopt gossiped evidence after checking it (R1.5, R8.5): the next leader includes it."""
        key = evidence.slash_key
        if key in self._evidence_pool or key in self._slashed_keys:
            return
        try:
            check_evidence(
                evidence,
                self.epoch_validators,
                self.services.checker,
                self.services.validator.is_proof_invalid,
            )
        except ProtocolViolation as exc:
            self._reject(exc.rule_id, f"invalid evidence: {exc.detail}")
            return
        self._evidence_pool[key] = evidence

    def _report(self, evidence: Evidence) -> None:
        key = evidence.slash_key
        if key in self._evidence_pool or key in self._slashed_keys:
            return
        self._evidence_pool[key] = evidence
        self._out.append(Broadcast(evidence))
        self.stats.evidence_found += 1
        self._out.append(
            EvidenceFound(evidence, evidence.offender, evidence.offence.value, evidence.height)
        )
        self._log("warning", "evidence", f"{evidence.offence.value} by {evidence.offender}")
