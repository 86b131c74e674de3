"""Commands of what a node reveals: monitoring (R8: metrics, rewards, health, alerts) and ghost
(R5.3: ghost proofs, which must reveal nothing of their holder).
"""

from __future__ import annotations

from conformance.capabilities import Capability
from conformance.protocol.commands.model import (
    ANY,
    INT,
    NAT,
    STR,
    Command,
    Schema,
    array,
    create,
    function,
    mapping,
    method,
    record,
)

MON = Capability.MONITORING
LIVE = Capability.LIVE_ACCURACY
GHO = Capability.GHOST
REP = Capability.REPLICA

#: A node's monitoring view (spec/monitoring.md; PROTOCOL.md names the exposition's metrics).
NODE_METRICS: Schema = record(
    {
        "heights": array(
            record(
                {
                    "height": NAT,
                    "view": NAT,
                    "duration_ns": NAT,
                    "participants": NAT,
                    "proof_count": NAT,
                    "total_difficulty": NAT,
                }
            )
        ),
        "rewards": mapping(NAT),
        "health": record(
            {
                "height": NAT,
                "view": NAT,
                "active_validators": mapping(NAT),
                "consensus_latency_ns": array(NAT),
                "proof_throughput_per_s": {"type": "number", "minimum": 0},
            }
        ),
        "exposition": STR,
    }
)

MONITORING: tuple[Command, ...] = (
    function(
        MON,
        "accuracy_alerts",
        {"verdicts": array(ANY)},
        array(record({"index": NAT, "validator": STR, "correct": NAT, "verdicts": NAT})),
        "Feed [{validator, correct: bool}...] in order to a fresh accuracy tracker; return each "
        "alert as raised: the index of the verdict that raised it, the validator, and the "
        "correct and total verdicts of its window (R8.3).",
    ),
    method(
        MON,
        "metrics",
        {},
        NODE_METRICS,
        "On a replica's handle: return the node's per-height records, cumulative rewards per "
        "validator, health view and Prometheus text exposition (R8.1, R8.4, R8.6).",
        target=REP,
    ),
)

#: One accuracy window or open alert (R8.3): the correct verdicts and the verdicts it holds.
WINDOW: Schema = record({"correct": NAT, "verdicts": NAT})

LIVE_ACCURACY: tuple[Command, ...] = (
    method(
        LIVE,
        "accuracy",
        {},
        record(
            {
                "windows": mapping(WINDOW),
                "alerts": array(record({"validator": STR, "correct": NAT, "verdicts": NAT})),
            }
        ),
        "On a replica's handle: the node's live verification accuracy (R8.3) as it stands: for "
        "each validator with a judged verdict, its window (the correct verdicts and the "
        "verdicts among the last 100 judged), and the open alerts, in validator order, each with "
        "its window's current numbers (R8.6: the health view lists them).",
        target=REP,
    ),
)

GHOST: tuple[Command, ...] = (
    create(
        GHO,
        "new",
        {"secret": STR},
        "Create a ghost holder with this secret (hex, at least 32 bytes: reject a shorter one).",
    ),
    method(
        GHO,
        "sign_proof",
        {"kind": STR, "smt": STR, "claimed": STR, "budget": INT, "subjects": array(STR)},
        {"type": "object"},
        "Return a proof of this obligation (canonical JSON form) with ghost true, signed by a "
        "fresh one-time key derived from the secret, and nothing else derived from the holder.",
        mutates=True,
    ),
)

#: The commands of each capability of this module.
TABLE: dict[Capability, tuple[Command, ...]] = {
    MON: MONITORING,
    LIVE: LIVE_ACCURACY,
    GHO: GHOST,
}
