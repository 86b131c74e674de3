"""Verifier mutants: a result cache and an effort measurement, each with one defect.

Each is also an implementation under test (the reference adapter with the defect), so the
verifier machine reaches it through the adapter like any other implementation.
"""

from __future__ import annotations

import dataclasses

import z3

from aethel.proofs.difficulty import compute_difficulty
from aethel.proofs.model import Proof, proof_from_json
from aethel.proofs.parallel import ResultCache, Verifier
from aethel.proofs.verifier import Verdict, VerificationResult, verify_proof
from conformance.adapters.api import JSON
from conformance.adapters.reference import ReferenceImplementation
from conformance.adapters.reference_proofs import (
    ReferenceVerifier,
    ReferenceVerifierObject,
    result_to_json,
)


class SignatureBlindCache(ResultCache):
    """Defect: the cache is keyed by proof id alone, so a proof with a forged signature
    inherits the result of the genuine one (the id does not cover the signature)."""

    def get(self, proof: Proof) -> VerificationResult | None:
        with self._lock:
            entry = self._entries.get(proof.proof_id)
            if entry is None:
                self._misses += 1
                return None
            self._entries.move_to_end(proof.proof_id)
            self._hits += 1
            return entry[1]


#: One context for every proof: the first design (ARCHITECTURE.md, "Proofs and the verifier").
_SHARED_CONTEXT = z3.Context()


def verify_in_shared_context(proof: Proof) -> VerificationResult:
    """Defect: effort measured with a fresh solver in one long-lived context.

    Z3 numbers terms per context and orders them by number, so the effort of a proof depends on
    what the context solved before: two honest nodes disagree on difficulty and rewards.
    """
    result = verify_proof(proof)
    if result.solver_outcome is None:
        return result
    solver = z3.SimpleSolver(ctx=_SHARED_CONTEXT)
    solver.set("rlimit", proof.budget)
    solver.from_string(proof.smt)
    before = _rlimit(solver)
    solver.check()
    effort = _rlimit(solver) - before
    difficulty = compute_difficulty(effort, proof.size) if result.verdict is Verdict.VALID else 0
    return dataclasses.replace(result, effort=effort, difficulty=difficulty)


def _rlimit(solver: z3.Solver) -> int:
    stats = solver.statistics()
    return int(stats.get_key_value("rlimit count")) if "rlimit count" in stats.keys() else 0  # noqa: SIM118 (z3 Statistics has no __contains__)


# The mutants as implementations under test (``--impl python:properties.mutants.verifier:...``).


class _SignatureBlindObject(ReferenceVerifierObject):
    def __init__(self) -> None:
        self.verifier = Verifier(cache=SignatureBlindCache())


class _SignatureBlindVerifier(ReferenceVerifier):
    def new(self) -> ReferenceVerifierObject:
        return _SignatureBlindObject()


class SignatureBlindImplementation(ReferenceImplementation):
    """The reference with :class:`SignatureBlindCache` in every verifier."""

    name = "mutant-signature-blind-cache"

    def make_verifier(self) -> object:
        return _SignatureBlindVerifier()


class _SharedContextObject(ReferenceVerifierObject):
    def __init__(self) -> None:
        self.verifier = Verifier()

    def verify(self, proof: JSON) -> JSON:
        parsed = proof_from_json(proof)
        cached = self.verifier.cache.get(parsed)
        if cached is None:
            cached = verify_in_shared_context(parsed)
            self.verifier.cache.put(parsed, cached)
        return result_to_json(cached)


class _SharedContextVerifier(ReferenceVerifier):
    def verify_proof(self, proof: JSON) -> JSON:
        return result_to_json(verify_in_shared_context(proof_from_json(proof)))

    def new(self) -> ReferenceVerifierObject:
        return _SharedContextObject()


class SharedContextImplementation(ReferenceImplementation):
    """The reference measuring effort with :func:`verify_in_shared_context`."""

    name = "mutant-shared-solver-context"

    def make_verifier(self) -> object:
        return _SharedContextVerifier()
