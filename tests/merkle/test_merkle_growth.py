"""Proof size and tree depth grow logarithmically with the number of keys (N2), measured."""

from __future__ import annotations

import math
import random

import pytest

from aethel.merkle.tree import StateTree

SIZES = [2**exponent for exponent in range(6, 16)]


def measure(size: int) -> tuple[float, int, float]:
    """Return (mean siblings, max siblings, mean JSON bytes) over sampled keys of a tree."""
    tree = StateTree()
    tree.batch_update({f"account{i}": i for i in range(size)})
    rng = random.Random(size)
    sample = [f"account{rng.randrange(size)}" for _ in range(200)]
    sample += [f"missing{i}" for i in range(200)]
    lengths = [len(tree.prove(key).siblings) for key in sample]
    sizes = [len(tree.prove(key).to_json()) for key in sample[:50]]
    return sum(lengths) / len(lengths), max(lengths), sum(sizes) / len(sizes)


@pytest.mark.req("N2")
def test_proof_size_and_depth_grow_logarithmically() -> None:
    results = {size: measure(size) for size in SIZES}
    for size, (mean, deepest, _) in results.items():
        log_n = math.log2(size)
        # A random path meets about log2(n) branchings. Two of n random paths share about
        # 2 log2(n) leading bits at most; sharing t bits more has odds of about 2**-t.
        assert log_n - 1 <= mean <= log_n + 2, (size, mean)
        assert deepest <= 2 * log_n + 10, (size, deepest)
    # Doubling the keys adds about one sibling (32 bytes of hash, 66 of hex JSON), not a factor.
    smallest, largest = SIZES[0], SIZES[-1]
    doublings = math.log2(largest / smallest)
    slope = (results[largest][0] - results[smallest][0]) / doublings
    assert 0.8 <= slope <= 1.2, slope
    byte_slope = (results[largest][2] - results[smallest][2]) / doublings
    assert 50 <= byte_slope <= 85, byte_slope
    # 512 times more keys, proofs about 1.6 times larger.
    assert results[largest][2] < 2 * results[smallest][2]
