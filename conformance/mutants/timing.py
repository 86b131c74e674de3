"""Mutants that only time can tell from the reference: a parallel mode that runs sequentially and
a result cache that counts hits but runs the solver anyway (T22.2a, T22.2d); and one of the
timeout rule's input (``timeout-clamps-negative-input``, R6.5, written from the module campaign
of aethel/consensus/timeouts.py: caught by suite/test_replica_rules.py::
test_a_negative_latency_or_view_has_no_timeout).

Their answers are exactly the reference's; the timing cases of conformance/suite/
test_performance.py catch them (median of interleaved samples against the catalog's margin).
"""

from __future__ import annotations

from aethel.consensus.timeouts import compute_timeout
from aethel.proofs.model import Proof
from aethel.proofs.parallel import Verifier
from aethel.proofs.verifier import VerificationResult, verify_proof
from conformance.adapters.api import JSON
from conformance.adapters.reference import ReferenceImplementation
from conformance.adapters.reference_errors import rejecting
from conformance.adapters.reference_proofs import ReferenceVerifier, ReferenceVerifierObject
from conformance.adapters.reference_replica import ReferenceReplica
from conformance.mutants import Mutant


class SequentialParallelVerifier(ReferenceVerifier):
    """Defect: ``parallel=True`` is accepted but the block is verified in this process, one
    proof after another (the pool is never used): same results, no speedup."""

    @rejecting
    def verify_block(self, proofs: list[JSON], parallel: bool) -> list[JSON]:
        return super().verify_block(proofs, False)


class SequentialParallelImplementation(ReferenceImplementation):
    name = "mutant-parallel-runs-sequentially"

    def make_verifier(self) -> object:
        return SequentialParallelVerifier()


class RecomputingVerifier(Verifier):
    """Defect: the cache is looked up (and counts the hit), but the lookup's result is dropped
    and the proof verified again: statistics and answers are right, the solver always runs."""

    def verify(self, proof: Proof) -> VerificationResult:
        self.cache.get(proof)
        result = verify_proof(proof)
        self.cache.put(proof, result)
        return result


class RecomputingVerifierObject(ReferenceVerifierObject):
    def __init__(self) -> None:
        self.verifier = RecomputingVerifier()


class RecomputingCacheVerifier(ReferenceVerifier):
    @rejecting
    def new(self) -> ReferenceVerifierObject:
        return RecomputingVerifierObject()


class RecomputingCacheImplementation(ReferenceImplementation):
    name = "mutant-cache-counts-hits-but-recomputes"

    def make_verifier(self) -> object:
        return RecomputingCacheVerifier()


class ClampedTimeoutReplica(ReferenceReplica):
    """Defect: ``timeout`` takes any latency and view, clamping a negative latency to the 4 s
    floor and a negative view to view 0, instead of refusing them (R6.5)."""

    def timeout(self, observed_latency_ns: int, view: int) -> int:
        return compute_timeout(max(observed_latency_ns, 0), max(view, 0))


class ClampedTimeoutImplementation(ReferenceImplementation):
    name = "mutant-timeout-clamps-negative-input"

    def make_replica(self) -> object:
        return ClampedTimeoutReplica()


MUTANTS = [
    Mutant(
        name="parallel-runs-sequentially",
        defect="verify_block(parallel=True) verifies the proofs one after another in-process",
        breaks=("T22.2a",),
        capabilities=("verifier",),
        build=SequentialParallelImplementation,
    ),
    Mutant(
        name="cache-counts-hits-but-recomputes",
        defect="the verification cache counts a hit but the solver runs again for every proof",
        breaks=("T22.2d",),
        capabilities=("verifier",),
        build=RecomputingCacheImplementation,
    ),
    Mutant(
        "timeout-clamps-negative-input",
        "replica.timeout answers a timeout for a negative latency or view (clamped to the floor "
        "and view 0) instead of refusing it",
        ("R6.5",),
        ("replica",),
        ClampedTimeoutImplementation,
    ),
]
