"""Keep the protocol version honest: what a version fixes, and the record that enforces it.

The rule (conformance/PROTOCOL.md, "Versions and capabilities"):

* A protocol version fixes the session (framing, ``hello``, ``close``, ``shutdown``, the error
  object) and, for every capability it has, that capability's commands: their names, kinds,
  parameter and result schemas, whether they mutate and which objects they run on.
* An optional member added to ``hello``'s answer (``HELLO_OPTIONAL_ADDED`` in
  :mod:`conformance.protocol.schema`) is compatible too: leaving it out means what the record
  meant (``consensus_versions`` absent: consensus version 1 only), so every implementation
  written against the record still answers a valid ``hello``.
* Adding a NEW capability, with new commands, is compatible and keeps the version: capabilities
  are negotiated in ``hello``, an implementation that does not declare one is never sent its
  commands, and its cases are skipped with the reason. An implementation written against an
  earlier list therefore still runs unchanged.
* Any change to the session or to a command of an existing capability (adding, removing or
  renaming a command, adding or retyping a parameter, changing a result's shape) breaks
  implementations that declare that capability, and needs the next protocol version. New
  commands for an existing area go under a new capability instead.

``versions.json`` records, per protocol version, a fingerprint of the session and of each
command of each capability (documentation text excluded: clarifying a doc is free).
``aethel-conformance protocol-schema --write`` adds new capabilities to the record of the
current version and refuses to record any other change without a version bump; a harness test
fails when the code and the record disagree.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aethel.encoding import sha256
from conformance.protocol.commands import COMMANDS
from conformance.protocol.commands.model import Command
from conformance.protocol.schema import (
    HELLO_OPTIONAL_ADDED,
    PROTOCOL_VERSION,
    request_schema,
    response_schema,
)

VERSIONS_FILE = Path(__file__).resolve().parent / "versions.json"
#: The pseudo-capability holding the session messages in the record.
SESSION = "(session)"

Fingerprints = dict[str, dict[str, str]]


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return sha256(text.encode("ascii")).hex()[:16]


def _command_shape(command: Command) -> dict[str, Any]:
    return {
        "kind": command.kind,
        "mutates": command.mutates,
        "target": command.target.value if command.target is not None else None,
        "request": request_schema(command.name),
        "response": response_schema(command.name),
    }


def _session_shape(cmd: str) -> dict[str, Any]:
    shape = copy.deepcopy({"request": request_schema(cmd), "response": response_schema(cmd)})
    if cmd == "hello":
        # The names in hello's capability list grow with every (compatible) new capability;
        # the version fixes the message's shape, not the list.
        result = shape["response"]["oneOf"][0]["properties"]["result"]
        result["properties"]["capabilities"]["items"] = {"type": "string"}
        # Optional members added to hello's answer since the record: one that an implementation
        # leaves out means what the record meant, so the shape it fixes is the one without them.
        for name in HELLO_OPTIONAL_ADDED:
            if name not in result["required"]:
                result["properties"].pop(name, None)
    return shape


def current_fingerprints() -> Fingerprints:
    """Return the fingerprints of the session and of every command, grouped by capability."""
    record: Fingerprints = {
        SESSION: {cmd: _digest(_session_shape(cmd)) for cmd in ("hello", "close", "shutdown")}
    }
    for name, command in sorted(COMMANDS.items()):
        record.setdefault(command.capability.value, {})[name] = _digest(_command_shape(command))
    return record


@dataclass(frozen=True, slots=True)
class Comparison:
    """How the code's protocol differs from the record of its version."""

    #: Changes that need a new protocol version.
    breaking: tuple[str, ...]
    #: Capabilities the code has and the record lacks (compatible; to be recorded).
    new_capabilities: tuple[str, ...]


def compare(recorded: Fingerprints, current: Fingerprints) -> Comparison:
    """Return how ``current`` differs from ``recorded`` (both of the same protocol version)."""
    breaking: list[str] = []
    for capability, commands in sorted(recorded.items()):
        now = current.get(capability)
        if now is None:
            breaking.append(f"capability {capability} was removed")
            continue
        for name in sorted(set(commands) - set(now)):
            breaking.append(f"{name} was removed from capability {capability}")
        for name in sorted(set(now) - set(commands)):
            breaking.append(
                f"{name} was added to the existing capability {capability} "
                "(put new commands under a new capability)"
            )
        for name in sorted(set(now) & set(commands)):
            if now[name] != commands[name]:
                breaking.append(f"the request or response of {name} changed shape")
    new = tuple(sorted(set(current) - set(recorded)))
    return Comparison(tuple(breaking), new)


def read_record(path: Path = VERSIONS_FILE) -> dict[str, Fingerprints]:
    """Return ``{version: fingerprints}`` from the committed record (empty if absent)."""
    if not path.exists():
        return {}
    data: dict[str, Fingerprints] = json.loads(path.read_text(encoding="utf-8"))
    return data


def check_current(path: Path = VERSIONS_FILE) -> Comparison:
    """Compare the code with the record of :data:`PROTOCOL_VERSION`."""
    recorded = read_record(path).get(str(PROTOCOL_VERSION), {})
    return compare(recorded, current_fingerprints())


class VersionBumpNeeded(Exception):
    """The protocol changed in a way its version number does not allow."""


def update_record(path: Path = VERSIONS_FILE) -> tuple[str, ...]:
    """Record new capabilities under the current version; return them.

    Raise :class:`VersionBumpNeeded` listing every change that needs a new protocol version: it
    is recorded only once :data:`PROTOCOL_VERSION` is raised (a new version starts a new record,
    the earlier ones are kept).
    """
    record = read_record(path)
    key = str(PROTOCOL_VERSION)
    current = current_fingerprints()
    comparison = compare(record.get(key, {}), current)
    if comparison.breaking:
        raise VersionBumpNeeded(
            f"protocol version {PROTOCOL_VERSION} is fixed; these changes need version "
            f"{PROTOCOL_VERSION + 1} (raise PROTOCOL_VERSION in conformance/protocol/schema.py; "
            "see PROTOCOL.md, Versions and capabilities): " + "; ".join(comparison.breaking)
        )
    if key not in record or comparison.new_capabilities:
        record[key] = current
        path.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return comparison.new_capabilities
