"""State tree and store: build, batched update, proofs, verified sync, node cache (T22.3 B4, B5).

Every number is measured at the size its name states (``--quick`` drops the million-key sizes).
Trees are built with ``StateTree.batch_update`` on an empty in-memory tree; updates are batches
of 1,000 random existing keys (mean of 50 batches after 2 warm-up batches); sync fetches and
verifies every chunk from three in-process peers sharing one snapshot prepared beforehand (its
preparation is timed separately), then joins the verified subtrees; the cache
workload reads hot keys from a store on disk reopened cold. Notes give the CPU time of timed
sections: on a shared machine, wall time well above CPU time means other processes took the
cores. Spec: N2, N5, T22.1a, T22.1b.
"""

from __future__ import annotations

import gc
import random
import statistics
import tempfile
import time
from pathlib import Path

from aethel.bench import Result, timed
from aethel.encoding import canonical_json
from aethel.merkle.proofs import parse_proof, verify_proof
from aethel.merkle.tree import StateTree
from aethel.state.store import StateStore
from aethel.state.sync import InProcessPeer, run_sync

DESCRIPTION = "state tree build/update/proofs, verified sync from 3 peers, node cache on disk"

#: Goals of the reference on the 2-core reference machine; the N5 threshold is the spec's.
GOAL_BUILD_1M_S = 8.0
GOAL_UPDATE_US_PER_KEY = 30.0
GOAL_PROOF_VERIFY_US = 30.0
GOAL_SYNC_1M_S = 15.0
THRESHOLD_SYNC_S = 60.0


def _state(size: int) -> dict[str, int]:
    return {f"balance:acct{i:07d}": i for i in range(size)}


def _label(size: int) -> str:
    return {10_000: "10k", 100_000: "100k", 1_000_000: "1m"}[size]


def _build(size: int) -> tuple[StateTree, float, float]:
    """Return a tree of ``size`` keys, and the wall and CPU seconds its build took."""
    state = _state(size)
    gc.collect()
    tree = StateTree()
    start, cpu = time.perf_counter(), time.process_time()
    tree.batch_update(state)
    return tree, time.perf_counter() - start, time.process_time() - cpu


def _measure_updates(tree: StateTree, size: int, rng: random.Random) -> tuple[float, float]:
    """Return the mean wall and CPU microseconds per key of 50 batches of 1,000 keys.

    Two warm-up batches run first (the first batches after a million-key build pay for the
    allocator returning memory the build's temporaries used).
    """
    gc.collect()
    per_key = []
    cpu_per_key = []
    for batch in range(52):
        chosen = rng.sample(range(size), 1_000)
        updates = {f"balance:acct{i:07d}": rng.randrange(10**9) for i in chosen}
        start, cpu = time.perf_counter(), time.process_time()
        tree.batch_update(updates)
        elapsed, cpu_elapsed = time.perf_counter() - start, time.process_time() - cpu
        if batch >= 2:
            per_key.append(elapsed / 1_000 * 1e6)
            cpu_per_key.append(cpu_elapsed / 1_000 * 1e6)
    return statistics.fmean(per_key), statistics.fmean(cpu_per_key)


def _measure_proofs(tree: StateTree, size: int, rng: random.Random) -> list[Result]:
    keys = [f"balance:acct{rng.randrange(size):07d}" for _ in range(1_000)]
    keys += [f"missing{i}" for i in range(1_000)]
    root = tree.root()
    proofs = [tree.prove(key) for key in keys]
    encoded = [proof.to_json() for proof in proofs]

    def prove_all() -> None:
        for key in keys:
            tree.prove(key)

    def verify_all() -> None:
        for proof in proofs:
            if not verify_proof(proof, root):
                raise AssertionError("a valid proof failed to verify")

    def parse_verify_all() -> None:
        for data in encoded:
            if not verify_proof(parse_proof(data), root):
                raise AssertionError("a valid proof failed to verify")

    count = len(keys)
    label = _label(size)
    mean_siblings = statistics.fmean(len(proof.siblings) for proof in proofs)
    mean_bytes = statistics.fmean(len(data) for data in encoded)
    return [
        Result(f"proof_prove_{label}_us", timed(prove_all, repeat=3) / count * 1e6, "us"),
        Result(
            "proof_verify_us",
            timed(verify_all, repeat=3) / count * 1e6,
            "us",
            goal=GOAL_PROOF_VERIFY_US,
            note=f"{label}-key tree, parsed proofs, half inclusion half absence",
        ),
        Result(
            "proof_parse_verify_us",
            timed(parse_verify_all, repeat=3) / count * 1e6,
            "us",
            note="strict E9 parse of the JSON bytes, then verify",
        ),
        Result(f"proof_siblings_{label}", mean_siblings, "hashes", note="mean proof length (N2)"),
        Result(f"proof_json_{label}_bytes", mean_bytes, "bytes", note="mean proof size (N2)"),
    ]


def _measure_sync(tree: StateTree, size: int) -> tuple[list[Result], StateTree]:
    label = _label(size)
    prefix_bits = 8 if size >= 100_000 else 6
    first = InProcessPeer.serving("peer0", tree)
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    first.prepare(tree.root(), prefix_bits)
    prepare_s, prepare_cpu = time.perf_counter() - start, time.process_time() - cpu
    peers = [first, first.clone("peer1"), first.clone("peer2")]  # the same prepared snapshot
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    result = run_sync(tree.root(), peers, prefix_bits=prefix_bits)
    sync_s, sync_cpu = time.perf_counter() - start, time.process_time() - cpu
    if result.tree.root() != tree.root() or result.keys != size:
        raise AssertionError("the synced tree differs from the source")
    goal = GOAL_SYNC_1M_S if size == 1_000_000 else None
    return [
        Result(
            f"sync_{label}_s",
            sync_s,
            "s",
            goal=goal,
            threshold=THRESHOLD_SYNC_S,
            note=f"{result.chunks} chunks from 3 peers, {result.bytes_received // 2**20} MiB, "
            f"each verified, tree assembled in memory; cpu {sync_cpu:.2f} s",
        ),
        Result(
            f"snapshot_prepare_{label}_s",
            prepare_s,
            "s",
            note=f"manifest and all chunks, once, shared by the 3 peers; cpu {prepare_cpu:.2f} s",
        ),
    ], result.tree


def _measure_store(tree: StateTree, size: int, workdir: Path, rng: random.Random) -> list[Result]:
    """Persist the synced tree, then time commits and a hot-key read workload on disk."""
    label = _label(size)
    path = workdir / f"state-{label}.db"
    results = []
    with StateStore(path) as store:
        start, cpu = time.perf_counter(), time.process_time()
        store.import_snapshot(1, tree, {"certificate": canonical_json({"height": 1})})
        results.append(
            Result(
                f"store_import_{label}_s",
                time.perf_counter() - start,
                "s",
                note=f"the synced tree into SQLite, one durable commit; cpu "
                f"{time.process_time() - cpu:.2f} s",
            )
        )
    hot = [f"balance:acct{rng.randrange(size):07d}" for _ in range(100)]
    workload = [
        hot[rng.randrange(len(hot))]
        if rng.random() < 0.9
        else f"balance:acct{rng.randrange(size):07d}"
        for _ in range(20_000)
    ]
    per_read = {}
    for cache_size in (0, 1_000):
        with StateStore(path, cache_size=cache_size) as store:  # reopened: a cold cache
            start = time.perf_counter()
            for key in workload:
                store.get(key)
            per_read[cache_size] = (time.perf_counter() - start) / len(workload) * 1e6
            if cache_size:
                stats = store.get_cache_stats()
    results += [
        Result(
            "cache_hit_rate",
            stats.hit_rate,
            "ratio",
            better="higher",
            note=f"{stats.hits} hits, {stats.misses} misses, size {stats.size}/{stats.max_size}; "
            f"reads of a {label}-key store on disk, 90% on 100 hot keys",
        ),
        Result("cache_read_us", per_read[1_000], "us", note="per get(), default cache (1,000)"),
        Result("uncached_read_us", per_read[0], "us", note="per get(), cache disabled"),
    ]
    return results


def run(quick: bool) -> list[Result]:
    """Run the benchmark (see the module docstring)."""
    sizes = [10_000, 100_000] if quick else [10_000, 100_000, 1_000_000]
    rng = random.Random(2026)
    results: list[Result] = []
    trees: dict[int, StateTree] = {}
    for size in sizes:
        tree, seconds, cpu = _build(size)
        goal = GOAL_BUILD_1M_S if size == 1_000_000 else None
        results.append(
            Result(f"build_{_label(size)}_s", seconds, "s", goal=goal, note=f"cpu {cpu:.2f} s")
        )
        trees[size] = tree
        if size != sizes[-1]:
            del trees[size]
    largest = sizes[-1]
    tree = trees[largest]
    label = _label(largest)
    update_us, update_cpu_us = _measure_updates(tree, largest, rng)
    results.append(
        Result(
            f"update_in_{label}_us_per_key",
            update_us,
            "us",
            goal=GOAL_UPDATE_US_PER_KEY if largest == 1_000_000 else None,
            note=f"batches of 1,000 random keys, mean of 50; cpu {update_cpu_us:.1f} us",
        )
    )
    results += _measure_proofs(tree, largest, rng)
    small, _, _ = _build(10_000)
    sync_results, _ = _measure_sync(small, 10_000)
    results += sync_results
    sync_results, synced = _measure_sync(tree, largest)
    results += sync_results
    del tree, trees
    with tempfile.TemporaryDirectory(prefix="aethel-bench-state-") as workdir:
        results += _measure_store(synced, largest, Path(workdir), rng)
    return results
