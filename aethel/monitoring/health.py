"""The operator health view (R8.6): active validators, consensus latency, proof throughput,
the mempool (R8.2) and the open accuracy alerts (R8.3).

One node's view (:meth:`aethel.monitoring.node.NodeMonitor.get_health`) is offered to tools as
JSON by :func:`health_to_json` and to a person by :func:`render_node_health`. The same view of a
whole simulation is :mod:`aethel.sim.health` (the simulator is a layer above this one).
"""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from aethel.monitoring.node import HealthView


def health_to_json(health: HealthView) -> dict[str, Any]:
    """Return one node's health view as JSON for tools (R8.6)."""
    return {
        "height": health.height,
        "active_validators": dict(health.active_validators),
        "active_stake": sum(health.active_validators.values()),
        "consensus_latency_ns": list(health.consensus_latency_ns),
        "proof_throughput_per_s": health.proof_throughput_per_s,
        "mempool": None
        if health.mempool_size is None
        else {
            "size": health.mempool_size,
            "transactions": health.mempool_transactions,
            "processing_rate_per_s": health.mempool_processing_rate,
        },
        "open_alerts": [
            {
                "validator": alert.validator,
                "correct": alert.correct,
                "verdicts": alert.claims,
                "message": alert.message(),
            }
            for alert in health.open_alerts
        ],
    }


def render_node_health(
    health: HealthView, console: Console | None = None, *, node: str = "", view: int | None = None
) -> None:
    """Print one node's health view as a table, then its open alerts (R8.6)."""
    console = console or Console()
    title = f"Node health {node}".strip()
    table = Table(title=title, show_header=False)
    table.add_column("metric", style="bold")
    table.add_column("value", justify="right")
    where = f"{health.height}" if view is None else f"{health.height} (view {view})"
    table.add_row("committed height", where)
    stake = sum(health.active_validators.values())
    table.add_row("active validators", f"{len(health.active_validators)} (stake {stake:,})")
    latencies = [ns / 1e9 for ns in health.consensus_latency_ns]
    if latencies:
        table.add_row(
            "consensus latency",
            f"{statistics.fmean(latencies):.3f} s mean, {max(latencies):.3f} s max "
            f"(last {len(latencies)} heights)",
        )
    else:
        table.add_row("consensus latency", "no height committed yet")
    table.add_row("proof throughput", f"{health.proof_throughput_per_s:.1f} proofs/s")
    if health.mempool_size is None:
        table.add_row("mempool", "not attached")
    else:
        table.add_row(
            "mempool size", f"{health.mempool_size:,} proofs, {health.mempool_transactions:,} tx"
        )
        table.add_row("mempool processing rate", f"{health.mempool_processing_rate:.2f} /s")
    table.add_row("open alerts", str(len(health.open_alerts)))
    console.print(table)
    for alert in health.open_alerts:
        console.print(f"[yellow]alert[/yellow] {alert.message()}")
