"""The JSON form of the sans-IO replica's outputs, both ways (capability ``replica``).

An implementation's replica answers each event with a list of outputs::

    {"type": "send", "to": ID, "message": M}          {"type": "broadcast", "message": M}
    {"type": "set_timer", "height": H, "view": V, "kind": "view" | "propose", "deadline": NS}
    {"type": "committed", "height": H, "view": V, "block": B, "certificate": C,
     "execution": E, "now": NS, "started": NS}
    {"type": "evidence", "evidence": X, "offender": ID, "offence": O, "height": H}
    {"type": "request_sync", "certificate": C or null, "height": H}
    {"type": "log", "level": L, "event": EV, "detail": D}

``M``, ``B``, ``C`` and ``X`` are the canonical wire forms of spec/consensus.md (messages, blocks,
commit certificates, evidence); ``E`` is the execution summary of :data:`EXECUTION_FIELDS`
(roots in hex). :func:`outputs_from_json` parses them strictly into the reference's types so the
simulator and the checkers can use an implementation's replica like a reference one.
"""

from __future__ import annotations

from typing import Any

from aethel.consensus.block import ProofBlock
from aethel.consensus.events import (
    Broadcast,
    Committed,
    EvidenceFound,
    Log,
    Output,
    RequestSync,
    Send,
    SetTimer,
    Timer,
)
from aethel.consensus.evidence import Evidence
from aethel.consensus.interfaces import Execution
from aethel.consensus.messages import Message
from aethel.consensus.wire import parse_block, parse_commit_certificate, parse_message
from aethel.encoding import parse_hex
from aethel.errors import ProtocolViolation

EXECUTION_FIELDS = (
    "height",
    "pre_root",
    "post_root",
    "rewards",
    "slashed",
    "stakes",
    "minted",
    "burned",
    "minted_total",
    "burned_total",
    "total_supply",
    "genesis_supply",
    "pending_reward",
    "proof_count",
    "total_difficulty",
    "transfers",
)
OUTPUT_TYPES = ("send", "broadcast", "set_timer", "committed", "evidence", "request_sync", "log")


class BadOutput(ProtocolViolation):
    """An implementation's replica output that is not well formed (E12) or not valid."""


def execution_to_json(execution: Execution) -> dict[str, Any]:
    """Return the JSON summary of an execution."""
    out: dict[str, Any] = {}
    for name in EXECUTION_FIELDS:
        value = getattr(execution, name)
        if isinstance(value, bytes):
            value = value.hex()
        elif not isinstance(value, int):
            value = dict(sorted(value.items()))
        out[name] = value
    return out


def execution_from_json(value: Any) -> Execution:
    """Parse an execution summary strictly."""
    if not isinstance(value, dict) or set(value) != set(EXECUTION_FIELDS):
        raise BadOutput("E12", f"an execution has exactly {list(EXECUTION_FIELDS)}")
    args: dict[str, Any] = {}
    for name in EXECUTION_FIELDS:
        item = value[name]
        if name in ("pre_root", "post_root"):
            args[name] = parse_hex(item, length=32)
        elif name in ("rewards", "slashed", "stakes"):
            if not isinstance(item, dict) or any(type(v) is not int for v in item.values()):
                raise BadOutput("E2", f"execution {name} maps ids to integers")
            args[name] = dict(item)
        else:
            if type(item) is not int:
                raise BadOutput("E2", f"execution {name} must be an integer, got {item!r}")
            args[name] = item
    return Execution(**args)


def output_to_json(out: Output) -> dict[str, Any]:
    """Return the JSON form of one reference output."""
    if isinstance(out, Send):
        return {"type": "send", "to": out.to, "message": out.message.to_wire()}
    if isinstance(out, Broadcast):
        return {"type": "broadcast", "message": out.message.to_wire()}
    if isinstance(out, SetTimer):
        t = out.timer
        return {
            "type": "set_timer",
            "height": t.height,
            "view": t.view,
            "kind": t.kind,
            "deadline": out.deadline,
        }
    if isinstance(out, Committed):
        return {
            "type": "committed",
            "height": out.height,
            "view": out.view,
            "block": out.block.to_wire(),
            "certificate": out.certificate.to_wire(),
            "execution": execution_to_json(out.execution),
            "now": out.now,
            "started": out.started,
        }
    if isinstance(out, EvidenceFound):
        return {
            "type": "evidence",
            "evidence": out.evidence.to_wire(),
            "offender": out.offender,
            "offence": out.offence,
            "height": out.height,
        }
    if isinstance(out, RequestSync):
        return {
            "type": "request_sync",
            # null: a node starting without state asks for the peers' latest certificate first.
            "certificate": None if out.certificate is None else out.certificate.to_wire(),
            "height": out.height,
        }
    return {"type": "log", "level": out.level, "event": out.event, "detail": out.detail}


def _int(item: dict[str, Any], name: str) -> int:
    value = item.get(name)
    if type(value) is not int or value < 0:
        raise BadOutput("E2", f"{item.get('type')} output: {name} must be a natural number")
    return value


def _message(value: Any) -> Message:
    message = parse_message(value)
    return message


def output_from_json(item: Any) -> Output:
    """Parse one output strictly; raise :class:`BadOutput` (or the parser's error) if malformed."""
    if not isinstance(item, dict) or item.get("type") not in OUTPUT_TYPES:
        raise BadOutput(
            "E12", f"an output is an object with type in {OUTPUT_TYPES}, got {item!r}"[:300]
        )
    kind = item["type"]
    if kind == "send":
        if not isinstance(item.get("to"), str):
            raise BadOutput("E12", "send output: 'to' must be a validator id")
        return Send(item["to"], _message(item.get("message")))
    if kind == "broadcast":
        return Broadcast(_message(item.get("message")))
    if kind == "set_timer":
        timer_kind = item.get("kind")
        if timer_kind not in ("view", "propose"):
            raise BadOutput(
                "E12", f"set_timer output: kind must be view or propose, got {timer_kind!r}"
            )
        timer = Timer(_int(item, "height"), _int(item, "view"), timer_kind)
        return SetTimer(timer, _int(item, "deadline"))
    if kind == "committed":
        block: ProofBlock = parse_block(item.get("block"))
        certificate = parse_commit_certificate(item.get("certificate"))
        return Committed(
            _int(item, "height"),
            _int(item, "view"),
            block,
            certificate,
            execution_from_json(item.get("execution")),
            _int(item, "now"),
            _int(item, "started"),
        )
    if kind == "evidence":
        evidence = parse_message(item.get("evidence"))
        if not isinstance(evidence, Evidence):
            raise BadOutput("E12", "evidence output: 'evidence' is not evidence")
        return EvidenceFound(
            evidence, str(item.get("offender")), str(item.get("offence")), _int(item, "height")
        )
    if kind == "request_sync":
        wanted = item.get("certificate")
        return RequestSync(
            None if wanted is None else parse_commit_certificate(wanted),
            _int(item, "height"),
        )
    return Log(str(item.get("level", "")), str(item.get("event", "")), str(item.get("detail", "")))


def outputs_from_json(items: Any) -> list[Output]:
    """Parse a list of outputs."""
    if not isinstance(items, list):
        raise BadOutput("E12", f"a replica answers a list of outputs, got {type(items).__name__}")
    return [output_from_json(item) for item in items]
