"""Turn a finished simulation into its result: per-height finality, evidence, memo statistics."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aethel.sim.simulator import Simulation, SimulationResult


def height_rows(sim: Simulation) -> list[dict[str, Any]]:
    """Return one row per committed height: proposal time, first/quorum/all honest commit."""
    honest = {n.index: n for n in sim.honest_nodes()}
    per_height: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for record in sim.engine.commits:
        node = honest.get(record.node)
        if node is not None:
            stake = sim.validators.stake_of(node.validator_id)
            per_height[record.height].append((record.time, stake, record.view))
    rows = []
    quorum = sim.validators.quorum
    for height in sorted(per_height):
        commits = sorted(per_height[height])
        proposed = sim.engine.proposals.get(height, commits[0][0])
        stake = 0
        quorum_time = None
        for at, weight, _ in commits:
            stake += weight
            if stake >= quorum:
                quorum_time = at
                break
        first, last = commits[0][0], commits[-1][0]
        rows.append(
            {
                "height": height,
                "view": max(view for _, _, view in commits),
                "proposed_at_s": proposed / 1e9,
                "first_commit_s": (first - proposed) / 1e9,
                "quorum_commit_s": None if quorum_time is None else (quorum_time - proposed) / 1e9,
                "all_honest_commit_s": (last - proposed) / 1e9,
                "honest_commits": len(commits),
            }
        )
    return rows


def summarize(
    sim: Simulation, wall: float, checkers: dict[str, dict[str, Any]]
) -> SimulationResult:
    """Build the :class:`SimulationResult` of a finished run."""
    from aethel.monitoring.health import build_health
    from aethel.sim.simulator import SimulationResult

    engine = sim.engine
    honest = [n for n in sim.honest_nodes() if n.store.latest() is not None]
    committed = min(
        (n.store.latest().height for n in honest),  # type: ignore[union-attr]
        default=0,
    )
    evidence: dict[tuple[str, str, int], dict[str, Any]] = {}
    for _, found in engine.evidence:
        key = found.evidence.slash_key
        entry = evidence.setdefault(
            key,
            {
                "offender": found.offender,
                "offence": found.offence,
                "height": found.height,
                "reported_by": 0,
            },
        )
        entry["reported_by"] += 1
    byzantine = {sim.ids[i]: kind for i, kind in sorted(sim.behaviours.items())}
    byzantine_stake = sum(sim.validators.stake_of(v) for v in byzantine)
    result = SimulationResult(
        config=sim.config,
        network=sim.network.describe(),
        heights=height_rows(sim),
        heights_committed=committed,
        wall_s=wall,
        virtual_s=engine.now / 1e9,
        events=engine.events,
        messages=engine.messages,
        bytes_sent=engine.bytes_sent,
        checkers=checkers,
        trace_hash=engine.trace_hash(),
        evidence=[evidence[k] for k in sorted(evidence)],
        byzantine_nodes=byzantine,
        byzantine_stake_fraction=byzantine_stake / sim.validators.total_stake,
        memo={k: v for k, v in vars_of(sim.memo).items()},
        logs=dict(sorted(engine.logs.items())),
    )
    result.health = build_health(sim, result)
    return result


def vars_of(obj: object) -> dict[str, int]:
    """Return the int fields of a slots dataclass."""
    return {name: getattr(obj, name) for name in getattr(obj, "__slots__", ())}
