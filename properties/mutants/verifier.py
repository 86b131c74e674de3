"""Verifier mutants: a result cache and an effort measurement, each with one defect."""

from __future__ import annotations

import dataclasses

import z3

from aethel.proofs.difficulty import compute_difficulty
from aethel.proofs.model import Proof
from aethel.proofs.parallel import ResultCache
from aethel.proofs.verifier import Verdict, VerificationResult, verify_proof


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


#: One context for every proof: what DESIGN.md first proposed, before effort was measured.
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
