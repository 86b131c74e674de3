"""Trace hashes of a fixed matrix of seeded simulations, to compare two versions of the replica.

``python reports/replica/trace_matrix.py OUT.json`` runs every scenario of :func:`scenarios` as
``Simulation(config).run()``, which is what ``aethel simulate`` runs (through
:func:`aethel.sim.simulator.run_simulation`), so each hash is the one ``aethel simulate`` prints
for the same options. It writes, per scenario, the trace hash, whether every checker passed,
the heights committed, a digest of the whole result as ``aethel simulate --json`` prints it
(wall-clock fields left out) and a digest of every node's final height, view and work counters
(``get_performance_stats``). The trace hash covers the events each node processed and when;
the two digests also cover what it does not (rejections, stale and dropped messages, signatures
checked, log counts, evidence).
``--compare A.json B.json`` prints the scenarios whose results differ and exits 1 if any does.

The matrix: seeds 0-19 in broadcast and collector mode, each as a plain run of 4 validators, 7
validators with 2/7 Byzantine stake of every kind that acts alone, 7 validators under two faults
from the simulator tests' list (crashes, fresh restarts and late joiners included: state sync),
a Byzantine kind and a fault together, and the Twins scenario of the seed.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

from aethel.sim.byzantine import KINDS
from aethel.sim.scenarios import generate_twins
from aethel.sim.simulator import SimConfig, Simulation

#: Fields of the result that measure the machine, not the run.
WALL_CLOCK = ("wall_s", "events_per_s")

SEEDS = range(20)
MODES = ("broadcast", "collector")
BYZANTINE = [kind for kind in KINDS if kind not in ("twins", "fork")]
#: The fault list of tests/sim/test_simulator.py.
FAULTS = [
    "loss:0.1@0s-4s",
    "dup:0.2@0s-4s",
    "reorder:0.3@0s-4s",
    "spike:0.1:400ms@0s-4s",
    "partition:1s-4s:0.5",
    "oneway:1s-4s:0.3",
    "crash:1@500ms-3s",
    "crash:2@700ms-3500ms:fresh",
    "late:3@2s",
]


def scenarios() -> dict[str, SimConfig]:
    """Return the matrix, by a name that says what each run is."""
    found: dict[str, SimConfig] = {}
    for seed in SEEDS:
        for mode in MODES:
            tag = f"{mode}/seed={seed}"
            found[f"{tag}/plain"] = SimConfig(validators=4, mode=mode, heights=3, seed=seed)
            for kind in BYZANTINE:
                found[f"{tag}/byzantine={kind}"] = SimConfig(
                    validators=7,
                    mode=mode,
                    heights=3,
                    seed=seed,
                    byzantine=((kind, 2 / 7),),
                    per_block=2,
                )
            faults = (FAULTS[seed % len(FAULTS)], FAULTS[(seed + 4) % len(FAULTS)])
            found[f"{tag}/faults={'+'.join(faults)}"] = SimConfig(
                validators=7, mode=mode, heights=3, seed=seed, faults=faults, per_block=2
            )
            kind = BYZANTINE[seed % len(BYZANTINE)]
            fault = FAULTS[(seed + 2) % len(FAULTS)]
            found[f"{tag}/byzantine={kind}/fault={fault}"] = SimConfig(
                validators=7,
                mode=mode,
                heights=3,
                seed=seed,
                byzantine=((kind, 2 / 7),),
                faults=(fault,),
                per_block=2,
            )
            found[f"{tag}/twins"] = generate_twins(seed, 4, 3, mode)
    return found


def _digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def run(out: Path) -> None:
    """Run the matrix and write the results to ``out``."""
    results: dict[str, dict[str, object]] = {}
    started = time.perf_counter()
    for name, config in scenarios().items():
        sim = Simulation(config)
        result = sim.run()
        document = {k: v for k, v in result.to_json().items() if k not in WALL_CLOCK}
        counters = [
            None if node.replica is None else node.replica.get_performance_stats()
            for node in sim.engine.nodes
        ]
        results[name] = {
            "trace_hash": result.trace_hash,
            "ok": result.ok,
            "heights_committed": result.heights_committed,
            "result_digest": _digest(document),
            "replicas_digest": _digest(counters),
        }
    out.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    print(f"{len(results)} runs in {time.perf_counter() - started:.0f} s -> {out}")


def compare(first: Path, second: Path) -> int:
    """Print the scenarios whose results differ; return 1 if any does."""
    a, b = json.loads(first.read_text()), json.loads(second.read_text())
    differ = sorted(name for name in a.keys() | b.keys() if a.get(name) != b.get(name))
    for name in differ:
        print(f"{name}: {a.get(name)} != {b.get(name)}")
    print(f"{len(a.keys() & b.keys())} scenarios in both, {len(differ)} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--compare"]:
        sys.exit(compare(Path(sys.argv[2]), Path(sys.argv[3])))
    run(Path(sys.argv[1]))
