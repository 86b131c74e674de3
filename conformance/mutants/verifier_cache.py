"""Verification caches that break T22.2d's contract (keyed by proof id and signature; bounded,
LRU), each the way a hand-written cache goes wrong.

``cache-keyed-by-text``: the verifier checks a proof's signature, then looks the solver's run up
by the proof's text and claimed outcome, and reuses its verdict and effort for any proof of the
same text and claim, with the proof's own id, size and difficulty. The solver's answer does not
depend on anything else, but the verdict does: a budget smaller than the effort makes the
outcome ``unknown`` (spec/proofs.md, "Verification and outcomes"), and a run that ran out of
budget says nothing of a proof with more. A cache must serve a proof only its own result
(spec/performance.md, T22.2d: keyed by proof id).

Caught by conformance/suite/test_verifier.py::test_the_cache_serves_a_proof_only_its_own_result.

``result-cache-unbounded``: a plain dictionary that reports a bound and never evicts (N6: every
cache is bounded). ``result-cache-fifo``: the bound holds, but the entry evicted is the oldest
stored, not the least recently used, so the hottest proofs are verified again as the cache
turns over. Both caught by test_the_result_cache_is_a_bounded_lru.
"""

from __future__ import annotations

from dataclasses import replace

from aethel.proofs.difficulty import compute_difficulty
from aethel.proofs.model import Outcome, Proof
from aethel.proofs.parallel import ResultCache, Verifier
from aethel.proofs.verifier import VerificationResult
from conformance.adapters.reference import ReferenceImplementation
from conformance.adapters.reference_errors import rejecting
from conformance.adapters.reference_proofs import ReferenceVerifier, ReferenceVerifierObject
from conformance.mutants import Mutant


class TextKeyedCache(ResultCache):
    """Defect: entries are found by (text, claimed outcome), once the signature is checked; a
    hit is the stored run's verdict and effort with the proof's own id, size and difficulty."""

    def __init__(self) -> None:
        super().__init__()
        self.by_text: dict[tuple[str, Outcome], VerificationResult] = {}

    def get(self, proof: Proof) -> VerificationResult | None:
        known = self.by_text.get((proof.smt, proof.claimed))
        if known is None or not proof.is_signature_valid():
            return super().get(proof)
        super().put(proof, self._as_own(known, proof))
        return super().get(proof)

    def put(self, proof: Proof, result: VerificationResult) -> None:
        super().put(proof, result)
        if proof.is_signature_valid():
            self.by_text.setdefault((proof.smt, proof.claimed), result)

    @staticmethod
    def _as_own(known: VerificationResult, proof: Proof) -> VerificationResult:
        difficulty = compute_difficulty(known.effort, proof.size) if known.is_valid else 0
        return replace(known, proof_id=proof.proof_id, size=proof.size, difficulty=difficulty)


class UnboundedCache(ResultCache):
    """Defect: entries are never evicted (the bound is reported, not kept)."""

    def put(self, proof: Proof, result: VerificationResult) -> None:
        with self._lock:
            self._entries[proof.proof_id] = (proof.signature, result)


class FifoCache(ResultCache):
    """Defect: a hit does not make an entry recent: the oldest stored entry is evicted."""

    def get(self, proof: Proof) -> VerificationResult | None:
        with self._lock:
            entry = self._entries.get(proof.proof_id)
            if entry is None or entry[0] != proof.signature:
                self._misses += 1
                return None
            self._hits += 1
            return entry[1]


class TextKeyedVerifierObject(ReferenceVerifierObject):
    def __init__(self) -> None:
        self.verifier = Verifier(cache=TextKeyedCache())


class TextKeyedCacheVerifier(ReferenceVerifier):
    @rejecting
    def new(self) -> ReferenceVerifierObject:
        return TextKeyedVerifierObject()


class _CacheOfKind(ReferenceVerifier):
    cache_class: type[ResultCache] = ResultCache

    @rejecting
    def new(self) -> ReferenceVerifierObject:
        made = ReferenceVerifierObject()
        made.verifier = Verifier(cache=self.cache_class())
        return made


class UnboundedCacheImplementation(ReferenceImplementation):
    name = "mutant-result-cache-unbounded"

    def make_verifier(self) -> object:
        return type("V", (_CacheOfKind,), {"cache_class": UnboundedCache})()


class FifoCacheImplementation(ReferenceImplementation):
    name = "mutant-result-cache-fifo"

    def make_verifier(self) -> object:
        return type("V", (_CacheOfKind,), {"cache_class": FifoCache})()


class TextKeyedCacheImplementation(ReferenceImplementation):
    name = "mutant-cache-keyed-by-text"

    def make_verifier(self) -> object:
        return TextKeyedCacheVerifier()


MUTANTS = [
    Mutant(
        name="cache-keyed-by-text",
        defect="the verifier's result cache is keyed by a proof's text and claimed outcome, so "
        "a proof of the same text with a smaller or larger budget gets the first one's verdict",
        breaks=("T22.2d", "R1.1"),
        capabilities=("verifier",),
        build=TextKeyedCacheImplementation,
    ),
    Mutant(
        name="result-cache-unbounded",
        defect="the verifier's result cache reports a bound but never evicts: it grows with "
        "every distinct proof",
        breaks=("T22.2d", "N6"),
        capabilities=("verifier",),
        build=UnboundedCacheImplementation,
    ),
    Mutant(
        name="result-cache-fifo",
        defect="the verifier's result cache evicts the oldest stored result, not the least "
        "recently used one",
        breaks=("T22.2d",),
        capabilities=("verifier",),
        build=FifoCacheImplementation,
    ),
]
