"""Mutants of the decoding of protocol objects: what E12 must catch (``suite/test_shapes.py``)."""

from __future__ import annotations

from typing import Any

from conformance.adapters.api import JSON
from conformance.adapters.errors import Rejected
from conformance.adapters.reference import ReferenceImplementation
from conformance.adapters.reference_proofs import ReferenceVerifier
from conformance.mutants import Mutant

#: The members of a proof object (spec/proofs.md, "The proof object").
PROOF_MEMBERS = ("budget", "claimed", "ghost", "kind", "signature", "smt", "subjects", "submitter")


class LenientProofVerifier(ReferenceVerifier):
    """Defect: proofs are decoded into a record that skips the members it does not know, as a
    JSON library does by default (serde without ``deny_unknown_fields``, a dataclass built from
    the known keys); the verdict is then about an object the signature does not cover."""

    def verify_proof(self, proof: JSON) -> JSON:
        if isinstance(proof, dict):
            proof = {k: v for k, v in proof.items() if k in PROOF_MEMBERS}
        return super().verify_proof(proof)


class LenientProofImplementation(ReferenceImplementation):
    name = "mutant-proof-unknown-members-ignored"

    def make_verifier(self) -> object:
        return LenientProofVerifier()


class ShapeNamedE4Verifier(ReferenceVerifier):
    """Defect: every refusal of a proof object that is not about a signature or a limit names
    E4, the decoder's catch-all, as the reference did before E12 (a refusal that does not say
    which rule the input broke)."""

    def verify_proof(self, proof: JSON) -> Any:
        try:
            return super().verify_proof(proof)
        except Rejected as exc:
            if exc.rule_id == "E12":
                raise Rejected(exc.message, "E4") from None
            raise


class ShapeNamedE4Implementation(ReferenceImplementation):
    name = "mutant-proof-shape-named-e4"

    def make_verifier(self) -> object:
        return ShapeNamedE4Verifier()


MUTANTS = [
    Mutant(
        "proof-unknown-members-ignored",
        "a proof's members the type does not define are skipped, not refused",
        ("E12",),
        ("verifier",),
        LenientProofImplementation,
    ),
    Mutant(
        "proof-shape-named-e4",
        "a proof of another shape is refused naming E4 instead of E12",
        ("E12",),
        ("verifier",),
        ShapeNamedE4Implementation,
    ),
]
