"""Parallel block verification, batch signatures and the result cache (T22.2a, T22.2c, T22.2d)."""

from __future__ import annotations

import random
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest

from aethel.encoding import Domain, KeyPair, signing_bytes
from aethel.errors import UsageError
from aethel.proofs.model import Proof, sign_transfer
from aethel.proofs.parallel import (
    ResultCache,
    Verifier,
    default_chunk_size,
    split_chunks,
    verify_proof_block,
)
from aethel.proofs.verifier import (
    InvalidReason,
    SignedMessage,
    Verdict,
    batch_verify_signatures,
    verify_proof,
    verify_proofs,
)

KEY = KeyPair.generate(random.Random(5))
OTHER = KeyPair.generate(random.Random(6))


def flip(proof: Proof, bit: int = 3) -> Proof:
    signature = bytearray(proof.signature)
    signature[bit // 8] ^= 1 << (bit % 8)
    return Proof(
        proof.kind,
        proof.smt,
        proof.claimed,
        proof.budget,
        proof.submitter,
        bytes(signature),
        proof.subjects,
        proof.ghost,
    )


@dataclass(frozen=True)
class Block:
    proofs: tuple[Proof, ...]


class CountingExecutor(ThreadPoolExecutor):
    """A real thread pool that records the size of every task it is given."""

    def __init__(self) -> None:
        super().__init__(max_workers=2)
        self.task_sizes: list[int] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.task_sizes.append(len(args[0]))
        return super().submit(fn, *args, **kwargs)


@pytest.fixture(scope="module")
def sequential(mix: list[Proof]) -> list[Any]:
    return verify_proofs(mix)


@pytest.mark.req("T22.2a")
def test_parallel_results_equal_sequential_in_block_order(
    mix: list[Proof], sequential: list[Any]
) -> None:
    assert verify_proof_block(Block(tuple(mix))) == sequential
    assert verify_proof_block(mix, parallel=True) == sequential  # the shared process pool
    assert verify_proof_block(Block(tuple(mix)), parallel=True, chunk_size=7) == sequential


@pytest.mark.req("T22.2a")
def test_any_executor_gets_chunks_not_single_proofs(
    mix: list[Proof], sequential: list[Any]
) -> None:
    with CountingExecutor() as executor:
        assert verify_proof_block(mix, executor=executor, chunk_size=16) == sequential
        assert executor.task_sizes == [16, 16, 8]
    assert default_chunk_size(10_000, 2) == 512
    assert default_chunk_size(1_000, 2) == 125
    assert default_chunk_size(10, 2) == 16
    assert [len(c) for c in split_chunks(list(range(10)), 4)] == [4, 4, 2]
    with pytest.raises(UsageError):
        split_chunks([1], 0)
    with pytest.raises(UsageError):
        verify_proof_block([mix[0], "not a proof"])  # type: ignore[list-item]


@pytest.mark.req("T22.2a")
def test_a_dask_local_cluster_works_as_the_executor(
    mix: list[Proof], sequential: list[Any]
) -> None:
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=40,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        assert verify_proof_block(mix, executor=client, chunk_size=20) == sequential
        with client.get_executor() as executor:
            assert verify_proof_block(mix, executor=executor, chunk_size=20) == sequential


@pytest.mark.req("T22.2c", "R7.5")
def test_batch_signature_verdicts_match_single_verdicts(mix: list[Proof]) -> None:
    tx = sign_transfer(KEY, receiver=OTHER.public_key, amount=9, nonce=0)
    forged_tx = type(tx)(tx.sender, tx.receiver, 10, tx.nonce, tx.signature)
    message = signing_bytes(Domain.PREPARE, {"height": 1})
    raw_good = SignedMessage(KEY.public_key, message, KEY.sign_bytes(message))
    raw_bad = SignedMessage(OTHER.public_key, message, KEY.sign_bytes(message))
    items: list[Any] = [
        mix[0],
        flip(mix[1]),
        tx,
        forged_tx,
        raw_good,
        raw_bad,
        mix[0],  # a repeat is verified once and gets the same verdict
        SignedMessage(b"short", message, bytes(64)),
        "not signed",
    ]
    verdicts = batch_verify_signatures(items)
    assert verdicts == [True, False, True, False, True, False, True, False, False]
    singles = [
        item.is_signature_valid() if hasattr(item, "is_signature_valid") else None for item in items
    ]
    for verdict, single in zip(verdicts, singles, strict=True):
        if single is not None:
            assert verdict == single
    assert batch_verify_signatures([]) == []


@pytest.mark.req("T22.2d")
def test_reverification_is_served_from_the_cache_with_true_statistics(mix: list[Proof]) -> None:
    verifier = Verifier(cache=ResultCache(max_size=1_000))
    first = verifier.verify_block(mix)
    stats = verifier.cache_stats()
    assert (stats.hits, stats.misses, stats.size) == (0, len(mix), len(mix))
    second = verifier.verify_block(mix, parallel=True)
    stats = verifier.cache_stats()
    assert (stats.hits, stats.misses, stats.size) == (len(mix), len(mix), len(mix))
    assert second == first == verify_proofs(mix)
    assert [verifier.verify(p) for p in mix[:3]] == first[:3]
    assert verifier.cache_stats().hits == len(mix) + 3
    assert verifier.cache_stats().hit_rate == (len(mix) + 3) / (2 * len(mix) + 3)


@pytest.mark.req("T22.2d", "R7.5", "P30")
def test_a_flipped_signature_never_inherits_a_cached_valid_result(mix: list[Proof]) -> None:
    verifier = Verifier()
    assert verifier.verify(mix[0]).is_valid
    forged = flip(mix[0])
    assert forged.proof_id == mix[0].proof_id  # the id does not cover the signature
    result = verifier.verify(forged)
    assert (result.verdict, result.reason) == (Verdict.INVALID, InvalidReason.BAD_SIGNATURE)
    assert verifier.cache_stats().misses == 2
    assert verify_proof_block([mix[0], forged], cache=verifier.cache) == [
        verify_proof(mix[0]),
        result,
    ]


@pytest.mark.req("T22.2d")
def test_the_cache_is_a_bounded_lru(mix: list[Proof]) -> None:
    cache = ResultCache(max_size=2)
    results = verify_proofs(mix[:3])
    for proof, result in zip(mix[:3], results, strict=True):
        cache.put(proof, result)
    stats = cache.stats()
    assert (stats.size, stats.max_size, stats.evictions) == (2, 2, 1)
    assert cache.get(mix[0]) is None
    assert cache.get(mix[2]) == results[2]
    with pytest.raises(UsageError):
        cache.put(mix[0], results[1])
    with pytest.raises(UsageError):
        ResultCache(max_size=0)
    cache.clear()
    assert (cache.stats().hits, len(cache)) == (0, 0)
