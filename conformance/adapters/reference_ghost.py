"""The reference ghost identity (aethel.proofs.ghost) behind the ``ghost`` capability."""

from __future__ import annotations

from typing import Any

from aethel.encoding import parse_hex
from aethel.proofs.ghost import MIN_SECRET_BYTES, GhostHolder
from aethel.proofs.model import Outcome, ProofKind
from conformance.adapters.api import JSON, Hex
from conformance.adapters.errors import Rejected
from conformance.adapters.reference_errors import rejecting


class ReferenceGhostHolder:
    """One holder: signs each ghost proof with a fresh one-time key (R5.3)."""

    def __init__(self, secret: Hex) -> None:
        data = parse_hex(secret, rule_id="R5.3")
        if len(data) < MIN_SECRET_BYTES:
            raise Rejected(f"a ghost secret is at least {MIN_SECRET_BYTES} bytes", "R5.3")
        self.holder = GhostHolder(data)

    @rejecting
    def sign_proof(
        self, kind: str, smt: str, claimed: str, budget: int, subjects: list[Hex]
    ) -> JSON:
        try:
            proof_kind, outcome = ProofKind(kind), Outcome(claimed)
        except ValueError:
            raise Rejected(f"unknown kind {kind!r} or claimed outcome {claimed!r}") from None
        if not isinstance(subjects, list):
            raise Rejected("subjects must be a list of transaction ids")
        proof = self.holder.sign_proof(
            kind=proof_kind,
            smt=smt,
            claimed=outcome,
            budget=budget,
            subjects=[parse_hex(s, length=32, rule_id="E5") for s in subjects],
        )
        return proof.to_json()


class ReferenceGhost:
    """Capability ``ghost`` of the reference."""

    @rejecting
    def new(self, secret: Hex) -> Any:
        return ReferenceGhostHolder(secret)
