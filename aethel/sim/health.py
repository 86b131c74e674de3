"""The operator health view of a finished simulation (R8.6): active validators, consensus
latency, proof throughput, evidence, rewards and the accuracy alerts (R8.3).

:func:`build_health` condenses a simulation into the numbers an operator looks at first;
:func:`render_health` prints them as rich tables (``aethel simulate --health``). One node's
view is :mod:`aethel.monitoring.health`.
"""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from aethel.sim.report import SimulationResult
    from aethel.sim.simulator import Simulation


def build_health(sim: Simulation, result: SimulationResult) -> dict[str, Any]:
    """Return the health summary of a finished simulation (R8.6)."""
    nodes = sim.engine.nodes
    up = [n for n in nodes if n.up]
    honest_up = [n for n in up if n.honest]
    rows = result.heights
    latencies = [r["finality_s"] for r in rows]
    proofs = 0
    rewards: dict[str, int] = {}
    slashed: dict[str, int] = {}
    seen: set[bytes] = set()
    for record in sim.engine.commits:
        if record.digest in seen:
            continue
        seen.add(record.digest)
        execution = record.committed.execution
        proofs += execution.proof_count
        for validator, amount in execution.rewards.items():
            rewards[validator] = rewards.get(validator, 0) + amount
        for validator, amount in execution.slashed.items():
            slashed[validator] = slashed.get(validator, 0) + amount
    span = max(result.virtual_s, 1e-9)
    views = sum(n.replica.stats.view_changes for n in nodes if n.replica is not None)
    top = sorted(rewards.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    observers = sim.engine.metrics
    tracked = observers[min(observers)].reward_tracker.report()[:5] if observers else []
    return {
        "active_validators": len(up),
        "honest_active_validators": len(honest_up),
        "validators": len(sim.validators),
        "heights": len(rows),
        "consensus_latency_s": {
            "mean": statistics.fmean(latencies) if latencies else None,
            "max": max(latencies) if latencies else None,
        },
        "proof_throughput_per_s": proofs / span,
        "proofs_committed": proofs,
        "view_changes": views,
        "evidence": len(result.evidence),
        "slashed": dict(sorted(slashed.items())),
        "top_rewards": dict(top),
        "tracked_rewards": dict(tracked),
        "accuracy_alerts": len(result.accuracy_alerts),
    }


def render_health(result: SimulationResult, console: Console | None = None) -> None:
    """Print the health view of ``result`` as tables."""
    console = console or Console()
    health = result.health
    latency = health["consensus_latency_s"]
    summary = Table(title="Validator network health", show_header=False)
    summary.add_column("metric", style="bold")
    summary.add_column("value", justify="right")
    summary.add_row(
        "active validators",
        f"{health['active_validators']} / {health['validators']} "
        f"({health['honest_active_validators']} honest)",
    )
    summary.add_row("heights committed", str(result.heights_committed))
    if latency["mean"] is not None:
        summary.add_row(
            "consensus latency (quorum)",
            f"{latency['mean']:.3f} s mean, {latency['max']:.3f} s max",
        )
    summary.add_row(
        "proof throughput", f"{health['proof_throughput_per_s']:.1f} proofs/s (virtual)"
    )
    summary.add_row("view changes", str(health["view_changes"]))
    summary.add_row("evidence recorded", str(health["evidence"]))
    summary.add_row("slashed validators", str(len(health["slashed"])))
    summary.add_row("accuracy alerts (< 95%)", str(health["accuracy_alerts"]))
    console.print(summary)
    if health["top_rewards"]:
        rewards = Table(title="Cumulative rewards (top 5, base units)")
        rewards.add_column("validator")
        rewards.add_column("rewards", justify="right")
        rewards.add_column("slashed", justify="right")
        for validator, amount in health["top_rewards"].items():
            rewards.add_row(validator, f"{amount:,}", f"{health['slashed'].get(validator, 0):,}")
        console.print(rewards)
    for line in result.accuracy_alerts[:10]:
        console.print(f"[yellow]alert[/yellow] {line}")
    heights = Table(title="Per-height finality (virtual seconds)")
    for column in ("height", "view", "first commit", "quorum commit", "finality", "commits"):
        heights.add_column(column, justify="right")
    for row in result.heights[-12:]:
        quorum = row["quorum_commit_s"]
        heights.add_row(
            str(row["height"]),
            str(row["view"]),
            f"{row['first_commit_s']:.3f}",
            "-" if quorum is None else f"{quorum:.3f}",
            f"{row['finality_s']:.3f}",
            str(row["honest_commits"]),
        )
    console.print(heights)
    checks = Table(title="Checkers")
    checks.add_column("checker")
    checks.add_column("verdict")
    checks.add_column("detail")
    for name, verdict in result.checkers.items():
        mark = "[green]ok[/green]" if verdict["ok"] else "[red]FAILED[/red]"
        checks.add_row(name, mark, verdict["detail"])
    console.print(checks)
