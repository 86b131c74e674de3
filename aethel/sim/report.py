"""Turn a finished simulation into its result: per-height finality, evidence, memo statistics."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aethel.consensus.messages import Commit, NewView, Prepare, PrePrepare
from aethel.monitoring.accuracy import AccuracyAlert
from aethel.sim.health import build_health
from aethel.sim.services import describe_memoization

if TYPE_CHECKING:
    from aethel.sim.simulator import SimConfig, Simulation


@dataclass(slots=True)
class SimulationResult:
    """What a run produced; ``to_json`` gives the ``--json`` output."""

    config: SimConfig
    network: dict[str, Any]
    heights: list[dict[str, Any]]
    heights_committed: int
    wall_s: float
    virtual_s: float
    events: int
    messages: int
    bytes_sent: int
    checkers: dict[str, dict[str, Any]]
    trace_hash: str
    evidence: list[dict[str, Any]]
    byzantine_nodes: dict[str, str]
    byzantine_stake_fraction: float
    memo: dict[str, int]
    logs: dict[str, int]
    health: dict[str, Any] = field(default_factory=dict)
    accuracy_alerts: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Return True if every checker passed."""
        return all(c["ok"] for c in self.checkers.values())

    def to_json(self) -> dict[str, Any]:
        """Return the result as one JSON object."""
        return {
            "config": self.config.describe(),
            "network_model": self.network,
            "cpu_model": self.config.cpu.describe(),
            "memoization": describe_memoization(self.config.protocol_v2_height is not None),
            "heights_committed": self.heights_committed,
            "heights": self.heights,
            "wall_s": round(self.wall_s, 3),
            "virtual_s": round(self.virtual_s, 6),
            "events": self.events,
            "events_per_s": round(self.events / self.wall_s) if self.wall_s else None,
            "messages": self.messages,
            "bytes_sent": self.bytes_sent,
            "checkers": self.checkers,
            "ok": self.ok,
            "trace_hash": self.trace_hash,
            "evidence": self.evidence,
            "byzantine_nodes": self.byzantine_nodes,
            "byzantine_stake_fraction": round(self.byzantine_stake_fraction, 4),
            "memo": self.memo,
            "logs": self.logs,
            "accuracy_alerts": self.accuracy_alerts,
            "health": self.health,
        }


def height_rows(sim: Simulation) -> list[dict[str, Any]]:
    """Return one row per committed height with its finality (spec/performance.md).

    A height starts when the leader of its view 0 committed the previous height (height 1: when
    the validators started, which in version 2 is once each has registered the genesis set,
    ``sim.registration_ns``; 0 in version 1); its finality is the time until the last honest
    validator commits it. The first honest commit and the commit by q(W) honest stake are given
    from the same start.
    """
    honest = {n.index: n for n in sim.honest_nodes()}
    per_height: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    commit_time: dict[tuple[int, int], int] = {}
    for record in sim.engine.commits:
        commit_time.setdefault((record.node, record.height), record.time)
        node = honest.get(record.node)
        if node is not None:
            stake = sim.validators.stake_of(node.validator_id)
            per_height[record.height].append((record.time, stake, record.view))
    rows = []
    quorum = sim.validators.quorum
    for height in sorted(per_height):
        commits = sorted(per_height[height])
        leader = sim.ids.index(sim.validators.get_leader(height, 0).id)
        if height == 1:
            start = sim.registration_ns
        else:
            previous = per_height.get(height - 1)
            fallback = previous[0][0] if previous else commits[0][0]
            start = min(commit_time.get((leader, height - 1), fallback), commits[0][0])
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
                "started_at_s": start / 1e9,
                "finality_s": (last - start) / 1e9,
                "first_commit_s": (first - start) / 1e9,
                "quorum_commit_s": None if quorum_time is None else (quorum_time - start) / 1e9,
                "honest_commits": len(commits),
            }
        )
    return rows


def summarize(
    sim: Simulation, wall: float, checkers: dict[str, dict[str, Any]]
) -> SimulationResult:
    """Build the :class:`SimulationResult` of a finished run."""
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
    result.accuracy_alerts = [a.message() for a in accuracy_alerts(sim)]
    result.health = build_health(sim, result)
    return result


def accuracy_alerts(sim: Simulation) -> list[AccuracyAlert]:
    """Replay every recorded vote as a verification claim into the observers' trackers (R8.3).

    A PREPARE or COMMIT for a block claims all its proofs valid; it is correct when the block
    re-verifies. Only runs that record messages (small ones) can be checked.
    """
    sent = sim.engine.sent_log
    if sent is None or not sim.engine.metrics:
        return []
    blocks: dict[bytes, bool] = {}
    roots: dict[bytes, bytes] = {}
    for message in sent:
        pre_prepare = message.pre_prepare if isinstance(message, NewView) else message
        if isinstance(pre_prepare, PrePrepare) and pre_prepare.digest not in blocks:
            block = pre_prepare.block
            parent = (
                block.last_commit.post_root if block.last_commit else sim.executor.genesis_root()
            )
            roots[block.digest] = parent
            blocks[block.digest] = sim.ledger_validator.validate_block(block, parent).valid
    observer = sim.engine.metrics[min(sim.engine.metrics)]
    alerts = []
    seen: set[tuple[str, int, int, str]] = set()
    for message in sent:
        if isinstance(message, Prepare | Commit) and message.digest in blocks:
            claim = (message.validator, message.height, message.view, message.TYPE)
            if claim in seen:
                continue
            seen.add(claim)
            alert = observer.observe_claim(message.validator, blocks[message.digest])
            if alert is not None:
                alerts.append(alert)
    return alerts


def vars_of(obj: object) -> dict[str, int]:
    """Return the int fields of a slots dataclass."""
    return {name: getattr(obj, name) for name in getattr(obj, "__slots__", ())}
