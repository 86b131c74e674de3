"""Proof parsers more lenient than the data model (spec/encoding.md, the table of rules named;
spec/proofs.md, the proof object and its limits), each the way a hand-written parser drifts:

* ``budget-coerced``: ``int(budget)``: a budget sent as a string ("10000"), a boolean or ``null``
  is read as a number (or 0), instead of being refused naming E12;
* ``hex-read-in-any-case``: byte strings are read with a permissive hex decoder: uppercase
  digits and a ``0x`` prefix pass (E5);
* ``subjects-unbounded``: any number of subjects is taken (N6: at most 256).

Caught by conformance/suite/test_shapes.py and the ``shape-*`` / ``member-*`` verifier vectors
made from the same inputs.
"""

from __future__ import annotations

from typing import Any
from unittest import mock

import aethel.proofs.model
from conformance.adapters.api import JSON
from conformance.adapters.reference import ReferenceImplementation
from conformance.adapters.reference_errors import rejecting
from conformance.adapters.reference_proofs import ReferenceVerifier
from conformance.mutants import Mutant


def _hex(value: Any) -> Any:
    return value.lower().removeprefix("0x") if isinstance(value, str) else value


class _LenientVerifier(ReferenceVerifier):
    """Reads a proof after ``relax`` has changed its members, then as the reference does."""

    def relax(self, proof: dict[str, Any]) -> dict[str, Any]:
        return proof

    @rejecting
    def verify_proof(self, proof: JSON) -> JSON:
        if isinstance(proof, dict):
            proof = self.relax(dict(proof))
        return super().verify_proof(proof)


class BudgetCoercedVerifier(_LenientVerifier):
    def relax(self, proof: dict[str, Any]) -> dict[str, Any]:
        budget = proof.get("budget")
        if isinstance(budget, str | bool) or budget is None:
            proof["budget"] = int(budget or 0) or 1
        return proof


class AnyCaseHexVerifier(_LenientVerifier):
    def relax(self, proof: dict[str, Any]) -> dict[str, Any]:
        for name in ("submitter", "signature"):
            proof[name] = _hex(proof.get(name))
        if isinstance(proof.get("subjects"), list):
            proof["subjects"] = [_hex(s) for s in proof["subjects"]]
        return proof


class UnboundedSubjectsVerifier(ReferenceVerifier):
    @rejecting
    def verify_proof(self, proof: JSON) -> JSON:
        with mock.patch.object(aethel.proofs.model, "MAX_SUBJECTS", 1 << 62):
            return super().verify_proof(proof)


class BudgetCoerced(ReferenceImplementation):
    name = "mutant-budget-coerced"

    def make_verifier(self) -> object:
        return BudgetCoercedVerifier()


class AnyCaseHex(ReferenceImplementation):
    name = "mutant-hex-read-in-any-case"

    def make_verifier(self) -> object:
        return AnyCaseHexVerifier()


class UnboundedSubjects(ReferenceImplementation):
    name = "mutant-subjects-unbounded"

    def make_verifier(self) -> object:
        return UnboundedSubjectsVerifier()


MUTANTS = [
    Mutant(
        name="budget-coerced",
        defect="a proof's budget sent as a string, a boolean or null is read as a number, not "
        "refused naming E12",
        breaks=("E12",),
        capabilities=("verifier",),
        build=BudgetCoerced,
    ),
    Mutant(
        name="hex-read-in-any-case",
        defect="a proof's byte strings are read by a permissive hex decoder: uppercase digits "
        "and a 0x prefix pass instead of being refused naming E5",
        breaks=("E5",),
        capabilities=("verifier",),
        build=AnyCaseHex,
    ),
    Mutant(
        name="subjects-unbounded",
        defect="a proof may list any number of subjects: 257 are taken instead of refused "
        "naming N6",
        breaks=("N6",),
        capabilities=("verifier",),
        build=UnboundedSubjects,
    ),
]
