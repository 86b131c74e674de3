"""Consensus at scale: real replicas exchanging real signed messages in the WAN-7 simulator.

Spec: R6.1 (10 s finality at 1,000 validators), R6.2 and P24 (30 s up to 10,000), T22.3 B1
(1,000 validators) and B2 (scaling 10 -> 100 -> 1,000 -> 10,000). Every size is simulated for
real at that size (never extrapolated): each validator is a full replica that verifies the
block's Z3 proofs (memoized across simulated nodes, CPU time charged to each), signs its own
votes with Ed25519 and checks the signatures it receives (memoized, charged).

Measured as spec/performance.md says: no faults, blocks of 100 judge-generated proofs, at least
3 consecutive heights, the largest value reported. Finality of a height = virtual time from the
moment the leader of its view 0 committed the previous height to the commit of the last honest
validator; the first commit and the commit by q(W) stake are reported beside it. Wall time is
the host's time to simulate one height (the machine is shared: noisy).

For the sizes with a finality goal, the same run is repeated under two models that are NOT
WAN-7, to show where the time goes: every CPU cost set to 0 (``..._zero_cpu_floor_s``: latency,
jitter, uplinks and relay trees only, so no CPU optimization of any kind can finish below it),
and signature checks and signing free with proofs still charged (``..._free_signatures_s``:
what a certificate that costs nothing to check, such as an aggregate signature, could buy at
best). They are labelled as models, never as results of WAN-7.
"""

from __future__ import annotations

import json
import statistics

from aethel.bench import Result
from aethel.consensus.quorum import compute_quorum
from aethel.consensus.v2.collector import RegionTable, floor_ms, floor_table
from aethel.sim.cpu import CpuModel, calibrate
from aethel.sim.network import LATENCY_MS, REGIONS, NetworkModel
from aethel.sim.report import SimulationResult
from aethel.sim.simulator import SimConfig, run_simulation

DESCRIPTION = (
    "consensus scaling 10 -> 10,000 validators (collector) and 1,000 broadcast under WAN-7: "
    "virtual finality and wall time per height"
)

#: Validator counts simulated in collector mode; quick mode stops at 1,000.
SCALING = (10, 100, 1_000, 10_000)
HEIGHTS = 3
PROOFS_PER_BLOCK = 100
FINALITY_GOALS = {1_000: 0.6, 10_000: 1.5}
FINALITY_THRESHOLDS = {1_000: 10.0, 10_000: 30.0}
WALL_GOALS = {1_000: 5.0, 10_000: 60.0}


def _rows(result: SimulationResult) -> tuple[float, float, float]:
    quorum = [r["quorum_commit_s"] for r in result.heights if r["quorum_commit_s"] is not None]
    first = [r["first_commit_s"] for r in result.heights]
    final = [r["finality_s"] for r in result.heights]
    return max(final), max(first), max(quorum, default=float("nan"))


def _simulate(
    validators: int, mode: str, heights: int, cpu: CpuModel | None = None
) -> SimulationResult:
    """Run the measured configuration; fail the benchmark if a checker fails or it stalls."""
    config = SimConfig(
        validators=validators,
        mode=mode,  # type: ignore[arg-type]
        heights=heights,
        seed=1,
        per_block=PROOFS_PER_BLOCK,
        accounts=256,
        cpu=cpu or CpuModel(),
    )
    result = run_simulation(config)
    if not result.ok or result.heights_committed < heights:
        failed = [n for n, v in result.checkers.items() if not v["ok"]]
        raise AssertionError(f"{validators} {mode}: checkers failed {failed}")
    return result


def _measure(validators: int, mode: str, heights: int = HEIGHTS) -> list[Result]:
    result = _simulate(validators, mode, heights)
    final, first, quorum = _rows(result)
    prefix = f"{mode}_{validators}"
    note = (
        f"{heights} heights, {result.events:,} events ({result.events / result.wall_s:,.0f}/s), "
        f"{result.messages:,} messages, {result.bytes_sent / 1e6:,.1f} MB; finality per height "
        f"{[round(r['finality_s'], 3) for r in result.heights]}"
    )
    return [
        Result(
            f"{prefix}_finality_s",
            final,
            "s",
            goal=FINALITY_GOALS.get(validators) if mode == "collector" else None,
            threshold=FINALITY_THRESHOLDS.get(validators),
            note=note,
        ),
        Result(f"{prefix}_first_commit_s", first, "s"),
        Result(f"{prefix}_quorum_commit_s", quorum, "s"),
        Result(
            f"{prefix}_wall_per_height_s",
            result.wall_s / heights,
            "s",
            goal=WALL_GOALS.get(validators) if mode == "collector" else 120.0,
        ),
        Result(f"{prefix}_messages_per_height", result.messages / heights, "messages"),
    ]


#: The two diagnostic CPU models (module docstring); neither is WAN-7.
DIAGNOSTIC_MODELS = {
    "zero_cpu_floor_s": CpuModel(verify_ns=0, sign_ns=0, proof_base_ns=0, proof_ns_per_effort=0),
    "free_signatures_s": CpuModel(verify_ns=0, sign_ns=0),
}


def _diagnose(validators: int, heights: int = HEIGHTS) -> list[Result]:
    """Rerun the collector measurement of ``validators`` under each diagnostic CPU model."""
    results = []
    for suffix, cpu in DIAGNOSTIC_MODELS.items():
        result = _simulate(validators, "collector", heights, cpu)
        final = [r["finality_s"] for r in result.heights]
        results.append(
            Result(
                f"collector_{validators}_{suffix}",
                max(final),
                "s",
                note=(
                    f"NOT WAN-7: CPU model {json.dumps(cpu.describe())}, network as WAN-7; "
                    f"finality per height {[round(f, 3) for f in final]}"
                    + (
                        f"; the WAN-7 goal is {FINALITY_GOALS[validators]} s"
                        if validators in FINALITY_GOALS
                        else ""
                    )
                ),
            )
        )
    return results


def collector_floor_rows(validators: int) -> list[Result]:
    """Return the zero-CPU floors of the 3-phase collector pattern computed from the WAN-7 matrix
    for ``validators`` of equal stake (validator i in region i mod 7): averages over the seven
    leader regions with the leader collecting (version 1), a collector fixed in us-east, and the
    latency-aware collector of version 2 (V2.10); and the physical floor, one round trip from the
    best-placed leader to the region that completes q(W). Computed, not simulated: base latency
    only, no jitter, uplink or relay hop."""
    table = RegionTable(REGIONS, LATENCY_MS)
    stakes = [0] * len(REGIONS)
    for i in range(validators):
        stakes[i % len(REGIONS)] += 1
    quorum = compute_quorum(validators)
    rows = floor_table(table, stakes, quorum, "us-east")
    prefix = f"collector_{validators}_floor"
    label = "COMPUTED from the WAN-7 matrix (base latency, zero CPU; not a simulation)"

    def mean(values: list[int]) -> float:
        return statistics.mean(values) / 1000

    physical = min(floor_ms(table, stakes, quorum, r, r)[1] for r, _ in enumerate(REGIONS))
    return [
        Result(
            f"{prefix}_leader_collects_s",
            mean([r.leader_collects_ms for r in rows]),
            "s",
            note=f"{label}; version 1, per leader region (ms) "
            + json.dumps({r.leader: r.leader_collects_ms for r in rows}),
        ),
        Result(
            f"{prefix}_us_east_collector_s",
            mean([r.fixed_ms for r in rows]),
            "s",
            note=f"{label}; per leader region (ms) "
            + json.dumps({r.leader: r.fixed_ms for r in rows}),
        ),
        Result(
            f"{prefix}_aware_collector_s",
            mean([r.aware_ms for r in rows]),
            "s",
            note=f"{label}; version 2 (V2.10), collector region per leader region "
            + json.dumps({r.leader: r.aware_region for r in rows}),
        ),
        Result(
            f"{prefix}_physical_s",
            physical / 1000,
            "s",
            note=f"{label}; a round trip from the best-placed leader to the region completing q(W)",
        ),
    ]


def run(quick: bool) -> list[Result]:
    """Run the scaling table (and 1,000 broadcast unless quick)."""
    cpu = CpuModel()
    measured = calibrate(samples=500, repeat=3)
    results = [
        Result(
            "cpu_verify_us",
            cpu.verify_ns / 1000,
            "us",
            note=(
                f"simulator constants {json.dumps(cpu.describe())}; measured now "
                f"{json.dumps({k: round(v) for k, v in measured.items()})} (ns); network "
                f"{NetworkModel().name}: 7 regions, latency 2-150 ms one way, jitter +0-10%, "
                "1 Gbit/s uplinks"
            ),
        ),
        Result("measured_verify_us", measured["verify_ns"] / 1000, "us"),
        Result("measured_proof_verify_us", measured["proof_ns"] / 1000, "us"),
        Result(
            "model_proof_verify_us",
            cpu.proof_ns(round(measured["mean_proof_effort"])) / 1000,
            "us",
            note="1 ms + 130 ns per unit of effort at the judge transfer proofs' mean effort",
        ),
    ]
    for validators in SCALING:
        if quick and validators > 1_000:
            continue
        if validators in FINALITY_GOALS:
            results.extend(collector_floor_rows(validators))
        results.extend(_measure(validators, "collector"))
        if validators in FINALITY_GOALS:
            results.extend(_diagnose(validators))
    if not quick:
        results.extend(_measure(1_000, "broadcast"))
    finality = [r.value for r in results if r.name.endswith("_finality_s")]
    results.append(Result("finality_median_s", statistics.median(finality), "s"))
    return results
