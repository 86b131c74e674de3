"""Replayable scenario files and generated Twins scenarios.

A scenario file is JSON: ``{"format": "aethel-sim-scenario/1", "config": {...}, "trace_hash",
"failed": [checker names]}``. ``aethel simulate --replay FILE`` (or :func:`replay`) runs it again
and must reproduce the same trace hash and the same failures: a failing seed is a bug report.

Twins (Bano et al., "Twins: BFT Systems Made Robust"): a validator's key runs on two nodes at
once. :func:`generate_twins` draws, from one seed, which validators get a twin (f of them, so
Byzantine stake stays < W/3) and a schedule of partitions that put each twin and its original on
different sides, so the two sign conflicting messages. Safety must hold in every scenario.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from aethel.consensus.quorum import compute_max_faulty
from aethel.errors import UsageError
from aethel.sim.faults import Partition
from aethel.sim.report import SimulationResult
from aethel.sim.simulator import SimConfig, run_simulation

FORMAT = "aethel-sim-scenario/1"


def config_to_json(config: SimConfig) -> dict[str, Any]:
    """Return everything needed to rebuild ``config``."""
    found = _config_to_json(config)
    if config.protocol_v2_height is not None:
        found["protocol_v2_height"] = config.protocol_v2_height
    return found


def _config_to_json(config: SimConfig) -> dict[str, Any]:
    return {
        "validators": config.validators,
        "mode": config.mode,
        "heights": config.heights,
        "seed": config.seed,
        "byzantine": [f"{kind}:{fraction}" for kind, fraction in config.byzantine],
        "faults": list(config.faults),
        "stakes": None if config.stakes is None else list(config.stakes),
        "transactions_per_block": config.per_block,
        "accounts": config.accounts,
        "latency_scale": config.latency_scale,
        "max_time_ns": config.max_time_ns,
        "partitions": [
            {"group": sorted(p.group), "start": p.start, "end": p.end, "oneway": p.oneway}
            for p in config.partitions
        ],
    }


def config_from_json(value: dict[str, Any]) -> SimConfig:
    """Rebuild a config written by :func:`config_to_json`."""
    byzantine = []
    for item in value.get("byzantine", []):
        kind, _, fraction = item.partition(":")
        byzantine.append((kind, float(fraction)))
    stakes = value.get("stakes")
    return SimConfig(
        validators=value["validators"],
        mode=value["mode"],
        heights=value["heights"],
        seed=value["seed"],
        byzantine=tuple(byzantine),
        faults=tuple(value.get("faults", [])),
        stakes=None if stakes is None else tuple(stakes),
        per_block=value.get("transactions_per_block", 4),
        accounts=value.get("accounts", 16),
        latency_scale=value.get("latency_scale", 1),
        max_time_ns=value.get("max_time_ns"),
        partitions=tuple(
            Partition(frozenset(p["group"]), p["start"], p["end"], p.get("oneway", False))
            for p in value.get("partitions", [])
        ),
        protocol_v2_height=value.get("protocol_v2_height"),
    )


def save_scenario(path: str | Path, config: SimConfig, result: SimulationResult) -> Path:
    """Write a replayable scenario file for ``config`` and what it produced."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "format": FORMAT,
        "config": config_to_json(config),
        "trace_hash": result.trace_hash,
        "failed": sorted(name for name, v in result.checkers.items() if not v["ok"]),
    }
    target.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return target


def load_scenario(path: str | Path) -> tuple[SimConfig, dict[str, Any]]:
    """Read a scenario file; return its config and the whole document."""
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise UsageError(f"{path} is not a {FORMAT} file")
    return config_from_json(document["config"]), document


def replay(path: str | Path) -> tuple[SimulationResult, dict[str, Any]]:
    """Run a saved scenario again; return the new result and the saved document."""
    config, document = load_scenario(path)
    return run_simulation(config), document


def generate_twins(
    seed: int, validators: int = 4, heights: int = 3, mode: str = "broadcast"
) -> SimConfig:
    """Return the Twins scenario of ``seed``: f twinned validators and a partition schedule."""
    if validators < 4:
        raise UsageError("Twins needs at least 4 validators (f >= 1)")
    rng = random.Random(f"aethel-twins/{seed}")
    faulty = compute_max_faulty(validators)
    order = list(range(validators))
    random.Random(f"aethel-sim/byzantine/{seed}").shuffle(order)
    originals = sorted(order[:faulty])
    twins = {original: validators + i for i, original in enumerate(originals)}
    nodes = validators + faulty
    partitions = []
    start = 0
    for _ in range(rng.randint(1, 4)):
        start += rng.randint(0, 1_500) * 1_000_000
        length = rng.randint(200, 3_000) * 1_000_000
        group = {i for i in range(validators) if i not in twins and rng.random() < 0.5}
        for original, twin in twins.items():
            group.add(original if rng.random() < 0.5 else twin)
        if group and len(group) < nodes:
            partitions.append(Partition(frozenset(group), start, start + length))
        start += length
    return SimConfig(
        validators=validators,
        mode="broadcast" if mode == "broadcast" else "collector",
        heights=heights,
        seed=seed,
        byzantine=(("twins", faulty / validators),),
        per_block=2,
        partitions=tuple(partitions),
    )
