"""Check a testnet's chain from outside, over the client API of every node.

:func:`audit_chain` asks every node that answers for its height, the digest and post-state root
of every height it holds (``GET /headers``), the evidence it found (``GET /evidence``) and its
supply books (``GET /supply``), and checks:

* agreement: at every height, every node that holds it holds the same block and root (R2.4,
  R3.2); a height below the lowest node height that no node holds is reported missing;
* no accusation: no node found evidence (every validator is honest here; R4.2, R1.5);
* the supply books balance at every node: balances + stakes = genesis + minted - burned (R3.6).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from aethel.node.testnet import Testnet, fetch_json


@dataclass
class ChainAudit:
    """The verdicts of :func:`audit_chain` (``ok`` when every check passed)."""

    heights: dict[str, int | None] = field(default_factory=dict)
    held: dict[str, dict[int, tuple[str, str]]] = field(default_factory=dict)
    disagreements: list[str] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)
    evidence: dict[str, list[Any]] = field(default_factory=dict)
    supply: dict[str, dict[str, Any] | None] = field(default_factory=dict)

    @property
    def accused(self) -> dict[str, list[Any]]:
        return {node: found for node, found in self.evidence.items() if found}

    @property
    def unbalanced(self) -> list[str]:
        return [n for n, s in self.supply.items() if s is not None and not s["balanced"]]

    @property
    def ok(self) -> bool:
        return not (self.disagreements or self.missing or self.accused or self.unbalanced)

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "heights": self.heights,
            "heights_checked": len({h for held in self.held.values() for h in held}),
            "disagreements": self.disagreements[:20],
            "missing": self.missing[:20],
            "accused": self.accused,
            "unbalanced": self.unbalanced,
            "supply": self.supply,
        }


async def _headers(
    session: aiohttp.ClientSession, url: str, top: int
) -> dict[int, tuple[str, str]]:
    held: dict[int, tuple[str, str]] = {}
    low = 1
    while low <= top:
        answer = await fetch_json(session, f"{url}/headers?from={low}&to={top}", 30.0)
        if answer is None:
            break
        for item in answer["headers"]:
            held[int(item["height"])] = (str(item["digest"]), str(item["root"]))
        low += 1_000
    return held


async def audit_chain(testnet: Testnet) -> ChainAudit:
    """Audit the chain every answering node holds (see the module docstring)."""
    audit = ChainAudit()
    async with aiohttp.ClientSession() as session:
        statuses = await asyncio.gather(
            *(fetch_json(session, f"{node.url}/status", 5.0) for node in testnet.nodes)
        )
        for node, status in zip(testnet.nodes, statuses, strict=True):
            audit.heights[node.id] = None if status is None else int(status["height"])
        for node in testnet.nodes:
            top = audit.heights[node.id]
            if top is None:
                continue
            audit.held[node.id] = await _headers(session, node.url, top)
            evidence = await fetch_json(session, f"{node.url}/evidence", 5.0)
            audit.evidence[node.id] = [] if evidence is None else list(evidence["evidence"])
            audit.supply[node.id] = await fetch_json(session, f"{node.url}/supply", 10.0)
    seen: dict[int, tuple[str, tuple[str, str]]] = {}
    for node_id, held in sorted(audit.held.items()):
        for height, header in sorted(held.items()):
            first = seen.setdefault(height, (node_id, header))
            if first[1] != header:
                theirs, ours = first[1][0][:16], header[0][:16]
                audit.disagreements.append(
                    f"height {height}: {first[0]} holds {theirs}, {node_id} {ours}"
                )
    answered = [h for h in audit.heights.values() if h is not None]
    if answered:
        audit.missing = [h for h in range(1, min(answered) + 1) if h not in seen]
    return audit


__all__ = ["ChainAudit", "audit_chain"]
