"""Verify many proofs: result cache, chunked parallel verification on any Executor.

Spec: T22.2a (parallel verification of a block's proofs), T22.2d (result cache), R1.1 (every
proof verified). Results are deterministic per proof (:mod:`aethel.proofs.verifier`), so
parallel, sequential and cached verification give identical results in the block's order.

* Executors: anything with ``submit(fn, *args)`` returning a future with ``result()``: a
  ``concurrent.futures.ProcessPoolExecutor`` (the default for ``parallel=True``: one shared pool
  of ``os.cpu_count()`` workers, started on first use), a ``ThreadPoolExecutor``, or a
  ``dask.distributed.Client`` (or its ``get_executor()``). Proofs travel in CHUNKS, one task per
  chunk: a dask task costs milliseconds of scheduling, a proof about one. Workers need no
  special settings: :mod:`aethel.proofs.solver` fixes the malloc thresholds that dask's nanny
  would otherwise leave slow for fresh Z3 contexts.
* The cache maps proof id -> (signature, result), bounded LRU. A hit needs the same id AND the
  same signature (the id does not cover the signature, and a proof with a flipped signature bit
  must not inherit a valid result). Statistics are counted where lookups happen, so they are
  true: hits, misses, evictions, size, max size, hit rate.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from aethel.errors import UsageError
from aethel.proofs.model import Proof
from aethel.proofs.verifier import VerificationResult, verify_proof, verify_proofs

T = TypeVar("T")

#: Default chunk bounds: a chunk is big enough to hide scheduling cost, small enough to balance.
MIN_CHUNK = 16
MAX_CHUNK = 512


class HasProofs(Protocol):
    """Anything carrying an ordered ``proofs`` sequence (a proof block)."""

    @property
    def proofs(self) -> Sequence[Proof]: ...


class SubmitsTasks(Protocol):
    """The part of ``concurrent.futures.Executor`` (and ``dask.distributed.Client``) used here."""

    def submit(self, fn: Callable[..., T], /, *args: Any) -> Any: ...


@dataclass(frozen=True, slots=True)
class CacheStats:
    """True statistics of a :class:`ResultCache` (T22.2d)."""

    hits: int
    misses: int
    evictions: int
    size: int
    max_size: int

    @property
    def hit_rate(self) -> float:
        """Return hits / lookups (0.0 before the first lookup)."""
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else 0.0


class ResultCache:
    """A bounded LRU of verification results keyed by proof id (T22.2d). Thread-safe."""

    def __init__(self, max_size: int = 10_000) -> None:
        if type(max_size) is not int or max_size < 1:
            raise UsageError(f"cache max_size must be a positive int, got {max_size!r}")
        self._max_size = max_size
        self._entries: OrderedDict[bytes, tuple[bytes, VerificationResult]] = OrderedDict()
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0
        self._evictions = 0

    def get(self, proof: Proof) -> VerificationResult | None:
        """Return the cached result of this exact proof (id and signature), counting the lookup."""
        with self._lock:
            entry = self._entries.get(proof.proof_id)
            if entry is None or entry[0] != proof.signature:
                self._misses += 1
                return None
            self._entries.move_to_end(proof.proof_id)
            self._hits += 1
            return entry[1]

    def put(self, proof: Proof, result: VerificationResult) -> None:
        """Store ``result`` for ``proof``, evicting the least recently used entry when full."""
        if result.proof_id != proof.proof_id:
            raise UsageError("result does not belong to this proof")
        with self._lock:
            self._entries[proof.proof_id] = (proof.signature, result)
            self._entries.move_to_end(proof.proof_id)
            while len(self._entries) > self._max_size:
                self._entries.popitem(last=False)
                self._evictions += 1

    def __len__(self) -> int:
        return len(self._entries)

    def stats(self) -> CacheStats:
        """Return the statistics counted so far."""
        with self._lock:
            return CacheStats(
                self._hits, self._misses, self._evictions, len(self._entries), self._max_size
            )

    def clear(self) -> None:
        """Drop every entry and reset the statistics."""
        with self._lock:
            self._entries.clear()
            self._hits = self._misses = self._evictions = 0


# --------------------------------------------------------------------------- default pool

_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def get_default_executor() -> ProcessPoolExecutor:
    """Return the shared process pool (``os.cpu_count()`` workers, forkserver), started once."""
    global _pool
    with _pool_lock:
        if _pool is None:
            # forkserver: workers do not inherit the parent's threads (dask, executors) or locks.
            context = multiprocessing.get_context("forkserver")
            _pool = ProcessPoolExecutor(max_workers=os.cpu_count() or 1, mp_context=context)
            atexit.register(shutdown_default_executor)
        return _pool


def shutdown_default_executor() -> None:
    """Stop the shared process pool if it was started."""
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown(wait=True, cancel_futures=True)
            _pool = None


# --------------------------------------------------------------------------- block verification


def split_chunks(items: Sequence[T], chunk_size: int) -> list[Sequence[T]]:
    """Split ``items`` into consecutive chunks of at most ``chunk_size``."""
    if type(chunk_size) is not int or chunk_size < 1:
        raise UsageError(f"chunk_size must be a positive int, got {chunk_size!r}")
    return [items[start : start + chunk_size] for start in range(0, len(items), chunk_size)]


def default_chunk_size(count: int, workers: int) -> int:
    """Return a chunk size giving each worker about four chunks, within the default bounds."""
    return max(MIN_CHUNK, min(MAX_CHUNK, -(-count // (4 * max(workers, 1)))))


def _workers_of(executor: object) -> int:
    for attribute in ("_max_workers",):
        value = getattr(executor, attribute, None)
        if isinstance(value, int) and value > 0:
            return value
    return os.cpu_count() or 1


def _proofs_of(block_or_proofs: HasProofs | Iterable[Proof]) -> list[Proof]:
    source: Any = getattr(block_or_proofs, "proofs", block_or_proofs)
    items = list(source)
    checked: list[Proof] = []
    for item in items:
        if not isinstance(item, Proof):
            raise UsageError(f"expected proofs, got {type(item).__name__}")
        checked.append(item)
    return checked


def verify_proof_block(
    block_or_proofs: HasProofs | Iterable[Proof],
    *,
    parallel: bool = False,
    executor: SubmitsTasks | Executor | None = None,
    chunk_size: int | None = None,
    cache: ResultCache | None = None,
) -> list[VerificationResult]:
    """Verify every proof of a block (or a list of proofs); return results in the same order.

    Spec: T22.2a, R1.1. ``parallel=True`` without ``executor`` uses the shared process pool;
    passing ``executor`` implies parallel. With ``cache``, cached results are served and new
    ones stored (T22.2d). The results are identical in every mode.
    """
    proofs = _proofs_of(block_or_proofs)
    results: list[VerificationResult | None] = [None] * len(proofs)
    pending: list[int] = []
    for index, proof in enumerate(proofs):
        cached = cache.get(proof) if cache is not None else None
        if cached is None:
            pending.append(index)
        else:
            results[index] = cached
    todo = [proofs[index] for index in pending]
    if executor is None and parallel and len(todo) > 1:
        executor = get_default_executor()
    if executor is None or len(todo) <= 1:
        fresh = verify_proofs(todo)
    else:
        size = chunk_size or default_chunk_size(len(todo), _workers_of(executor))
        futures = [
            executor.submit(verify_proofs, list(chunk)) for chunk in split_chunks(todo, size)
        ]
        fresh = [result for future in futures for result in future.result()]
    for index, result in zip(pending, fresh, strict=True):
        if cache is not None:
            cache.put(proofs[index], result)
        results[index] = result
    return [result for result in results if result is not None]


class Verifier:
    """A verifier with a result cache and an optional executor: what a node holds (T22.2a/d)."""

    def __init__(
        self,
        *,
        cache: ResultCache | None = None,
        executor: SubmitsTasks | Executor | None = None,
        chunk_size: int | None = None,
    ) -> None:
        self.cache = cache if cache is not None else ResultCache()
        self.executor = executor
        self.chunk_size = chunk_size

    def verify(self, proof: Proof) -> VerificationResult:
        """Verify one proof in this process, through the cache."""
        cached = self.cache.get(proof)
        if cached is not None:
            return cached
        result = verify_proof(proof)
        self.cache.put(proof, result)
        return result

    def verify_block(
        self, block_or_proofs: HasProofs | Iterable[Proof], *, parallel: bool = False
    ) -> list[VerificationResult]:
        """Verify a block's proofs through the cache, in parallel if asked (T22.2a)."""
        return verify_proof_block(
            block_or_proofs,
            parallel=parallel,
            executor=self.executor if parallel else None,
            chunk_size=self.chunk_size,
            cache=self.cache,
        )

    def cache_stats(self) -> CacheStats:
        """Return the cache statistics (T22.2d)."""
        return self.cache.stats()
