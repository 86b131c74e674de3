"""The replica's evidence pool: misbehaviour it found or was sent, until a block slashes it.

Owns: R8.5 (Byzantine behaviour is logged with its evidence, and the evidence gossiped).

Evidence this replica finds (an equivocation, a vote or proposal for a block with an invalid
proof) is pooled, broadcast and reported to the shell (:meth:`EvidenceRules._report`); gossiped
evidence is pooled once it proves its offence by the epoch's set
(:func:`aethel.consensus.evidence.check_evidence`). A leader puts pooled evidence for earlier
heights, not yet applied, into its block (:meth:`EvidenceRules._evidence_for_block`); once a
block commits, its evidence is applied and leaves the pool (:meth:`EvidenceRules._applied`).
"""

from __future__ import annotations

from aethel.consensus.block import ProofBlock
from aethel.consensus.certificates import CertificateChecks
from aethel.consensus.events import Broadcast, EvidenceFound
from aethel.consensus.evidence import Evidence, check_evidence
from aethel.errors import ProtocolViolation


class EvidenceRules(CertificateChecks):
    """Pool checked evidence for the next block (see the module docstring)."""

    def _on_evidence(self, evidence: Evidence) -> None:
        """Adopt gossiped evidence after checking it: the next leader includes it."""
        key = evidence.slash_key
        if self.evidence.knows(key):
            return
        try:
            check_evidence(
                evidence,
                self.epoch_validators,
                self.services.checker,
                self.services.validator.is_proof_invalid,
                self.activation,
            )
        except ProtocolViolation as exc:
            self._reject(exc.rule_id, f"invalid evidence: {exc.detail}")
            return
        self.evidence.pending[key] = evidence

    def _report(self, evidence: Evidence) -> None:
        """Pool evidence this replica found, gossip it and report it to the shell."""
        key = evidence.slash_key
        if self.evidence.knows(key):
            return
        self.evidence.pending[key] = evidence
        self._out.append(Broadcast(evidence))
        self.stats.evidence_found += 1
        self._out.append(
            EvidenceFound(evidence, evidence.offender, evidence.offence.value, evidence.height)
        )
        self._log("warning", "evidence", f"{evidence.offence.value} by {evidence.offender}")

    def _evidence_for_block(self) -> list[Evidence]:
        """Return the pooled evidence a block of this height carries: offences at earlier
        heights that the pre-state has not applied, in key order, up to the block's limit."""
        slashed = self.services.executor.is_slashed
        return [
            e
            for key, e in sorted(self.evidence.pending.items())
            if key not in self.evidence.slashed
            and e.height < self.height
            and not slashed(self.state_root, key)
        ][: self.config.max_block_evidence]

    def _applied(self, block: ProofBlock) -> None:
        """Forget the evidence a committed ``block`` applied: it is never slashed again."""
        for evidence in block.evidence:
            self.evidence.slashed.add(evidence.slash_key)
            self.evidence.pending.pop(evidence.slash_key, None)
