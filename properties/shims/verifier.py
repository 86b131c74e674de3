"""LOCAL SHIM: the verifier driver over :class:`aethel.proofs.parallel.Verifier`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aethel.proofs.model import Proof, proof_from_json
from aethel.proofs.parallel import ResultCache, Verifier
from aethel.proofs.verifier import VerificationResult

JSON = Any


class ReferenceVerifierDriver:
    """The verifier driver over :class:`aethel.proofs.parallel.Verifier` and its result cache.

    ``parallel=True`` blocks go to the reference's shared process pool (real processes).
    """

    def __init__(
        self,
        *,
        cache_size: int = 4,
        cache_class: type[ResultCache] = ResultCache,
        verify_one: Callable[[Proof], VerificationResult] | None = None,
    ) -> None:
        self._verifier = Verifier(cache=cache_class(cache_size))
        self._verify_one = verify_one

    def verify(self, proof: JSON) -> JSON:
        parsed = proof_from_json(proof)
        if self._verify_one is None:
            return self._verifier.verify(parsed).to_json()
        cached = self._verifier.cache.get(parsed)
        if cached is None:
            cached = self._verify_one(parsed)
            self._verifier.cache.put(parsed, cached)
        return cached.to_json()

    def verify_block(self, proofs: list[JSON], parallel: bool) -> list[JSON]:
        parsed = [proof_from_json(proof) for proof in proofs]
        return [r.to_json() for r in self._verifier.verify_block(parsed, parallel=parallel)]

    def cache_stats(self) -> JSON:
        stats = self._verifier.cache_stats()
        return {
            "hits": stats.hits,
            "misses": stats.misses,
            "size": stats.size,
            "max_size": stats.max_size,
        }
