"""Replica traces: events into one sans-IO replica, the outputs and status expected out.

In the manner of the fork-choice tests of Ethereum's consensus-spec-tests, a trace builds one
replica (``replica.new``) and feeds it a fixed list of steps, each one call of the ``replica``
or ``catch-up`` capability (``offer``, ``start``, ``on_message``, ``on_timer``,
``on_sync_completed``, ``on_sync_completed_with_chain``, ``batch_process_messages``). Some
steps are checkpoints: there the runner compares what the replica produced since the previous
checkpoint, and its status, with the expected record. The input of a trace is JSON only::

    {"replica": {"validator_set": ..., "validator_id": "v001", "seed": HEX, "mode": "collector",
                 "genesis": {"balances": {...}, "stakes": {...}}},
     "steps": [{"call": "start", "params": {"now": 0}, "check": true}, ...]}

and the outcome (:func:`run_trace`) is ``{"checks": [{"step", "outputs", "status",
"refused"}]}``. Outputs are compared in a normal form (:func:`normalize_outputs`) that keeps
what the spec fixes and drops what it leaves to the implementation: log lines, timer deadlines
(the latency estimate is the node's own affair, R6.5), the ``propose`` timer (when a leader
proposes within its view is the shell's pacing), sends addressed to the replica itself (the
loopback: the trace delivers them as the next steps), the metrics-only ``started`` of a commit,
and the order of outputs between two checkpoints; evidence is compared by its offence, offender,
reporter and the set of signed messages, not the order of the pair or the reporter's signature.
A step marked ``refusal_allowed`` may be refused with an error or ignored (the spec allows
both); only the status after it counts. A refusal of any other step is recorded in
``refused`` (the indexes of the steps refused since the previous checkpoint).

Spec: R2.3, R2.6, R3.1, R4.2, R5.6, R7.5, R8.5 (see each case's rules).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from conformance.adapters.api import Implementation
from conformance.adapters.errors import Rejected

#: The calls a step may make, with the capability each needs beyond ``replica``.
CALLS: dict[str, str] = {
    "offer": "replica",
    "start": "replica",
    "on_message": "replica",
    "on_timer": "replica",
    "on_sync_completed": "replica",
    "batch_process_messages": "replica",
    "on_sync_completed_with_chain": "catch-up",
}


def _sort_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=True, separators=(",", ":"))


def _normal_message(message: Any) -> Any:
    """Return a message in its compared form (evidence without pair order and signature)."""
    if not isinstance(message, dict) or message.get("type") != "evidence":
        return message
    pair = [message.get("first"), message.get("second")]
    return {
        "type": "evidence",
        "offence": message.get("offence"),
        "offender": message.get("offender"),
        "reporter": message.get("reporter"),
        "messages": sorted((m for m in pair if m is not None), key=_sort_key),
        "block": message.get("block"),
        "proof_index": message.get("proof_index"),
    }


def normalize_output(output: Any, own_id: str) -> Any | None:
    """Return one output in its compared form, or None if it is not compared."""
    if not isinstance(output, dict):
        return output
    kind = output.get("type")
    if kind == "log":
        return None
    if kind == "set_timer":
        if output.get("kind") == "propose":
            return None
        return {k: output.get(k) for k in ("type", "height", "view", "kind")}
    if kind == "send":
        if output.get("to") == own_id:
            return None
        return {**output, "message": _normal_message(output.get("message"))}
    if kind == "broadcast":
        return {**output, "message": _normal_message(output.get("message"))}
    if kind == "committed":
        return {k: v for k, v in output.items() if k != "started"}
    if kind == "evidence":
        return {**output, "evidence": _normal_message(output.get("evidence"))}
    return output


def normalize_outputs(outputs: Any, own_id: str) -> list[Any]:
    """Return the compared forms of a list of outputs (see the module docstring)."""
    if not isinstance(outputs, list):
        return [{"not-a-list-of-outputs": outputs}]
    kept = [normalize_output(o, own_id) for o in outputs]
    return [o for o in kept if o is not None]


def run_trace(impl: Implementation, data: dict[str, Any]) -> dict[str, Any]:
    """Replay a trace on ``impl``'s replica; return ``{"result": {"checks": [...]}}``."""
    setup = data["replica"]
    replica = impl.api("replica").new(**setup)
    own_id = setup["validator_id"]
    checks: list[dict[str, Any]] = []
    pending: list[Any] = []
    refused: list[int] = []
    try:
        for index, step in enumerate(data["steps"]):
            call: Callable[..., Any] = getattr(replica, step["call"])
            allowed = bool(step.get("refusal_allowed"))
            try:
                outputs = call(**step["params"])
            except Rejected:
                outputs = None
                if not allowed:
                    refused.append(index)
            if outputs is not None and not allowed:
                pending.extend(normalize_outputs(outputs, own_id))
            if step.get("check"):
                checks.append(
                    {
                        "step": index,
                        "outputs": sorted(pending, key=_sort_key),
                        "status": replica.status(),
                        "refused": refused,
                    }
                )
                pending, refused = [], []
    finally:
        getattr(replica, "close", lambda: None)()
    return {"result": {"checks": checks}}


def required_capabilities(data: dict[str, Any]) -> tuple[str, ...]:
    """Return the capabilities a trace needs (``replica``, plus ``catch-up`` if it uses it)."""
    needed = {"replica"} | {CALLS[step["call"]] for step in data["steps"]}
    return tuple(sorted(needed, key=lambda c: (c != "replica", c)))


def iter_checks(outcome: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Yield the checkpoint records of a trace outcome."""
    yield from outcome.get("result", {}).get("checks", [])
