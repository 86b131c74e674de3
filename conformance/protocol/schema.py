"""JSON Schemas of every message of the subprocess protocol (conformance/PROTOCOL.md).

One line of JSON per message. The harness sends requests; the implementation answers each with
exactly one response carrying the same ``id``:

* request: ``{"id": int, "cmd": str, "params": object, "handle"?: str}``
* success: ``{"id": int, "ok": true, "result": <the command's result>}``
* failure: ``{"id": int, "ok": false, "error": {"kind": "rejected" | "unsupported" |
  "bad-request" | "internal", "message": str, "rule"?: str | null}}``

:func:`protocol_document` gathers all schemas into one JSON document (committed as
``conformance/protocol/schema.json`` for implementers; a harness test keeps it current), and
:class:`MessageValidator` checks messages against them in ``--validate-protocol`` mode.
"""

from __future__ import annotations

import functools
from typing import Any

import jsonschema

from conformance.capabilities import ALL as CAPABILITIES
from conformance.capabilities import CONSENSUS_VERSIONS
from conformance.protocol.commands import COMMANDS
from conformance.protocol.commands.model import Command, Schema

PROTOCOL_VERSION = 1
DRAFT = "https://json-schema.org/draft/2020-12/schema"
ERROR_KINDS = ("rejected", "unsupported", "bad-request", "internal")
HANDLE: Schema = {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,64}$"}
ID: Schema = {"type": "integer", "minimum": 0}

HELLO_PARAMS: Schema = {
    "type": "object",
    "properties": {
        "protocol": {"type": "array", "items": {"type": "integer"}, "minItems": 1},
        "suite": {"type": "string"},
    },
    "required": ["protocol"],
    "additionalProperties": False,
}
HELLO_RESULT: Schema = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "version": {"type": "string", "minLength": 1},
        "protocol": {"const": PROTOCOL_VERSION},
        "capabilities": {
            "type": "array",
            "items": {"enum": list(CAPABILITIES)},
            "uniqueItems": True,
        },
        "consensus_versions": {
            "type": "array",
            "items": {"enum": list(CONSENSUS_VERSIONS)},
            "minItems": 1,
            "uniqueItems": True,
        },
    },
    "required": ["name", "version", "protocol", "capabilities"],
    "additionalProperties": False,
}
#: Optional members of hello's answer added after version 1's first record: an implementation
#: that leaves one out means what that record meant (``consensus_versions``: version 1 only), so
#: adding one is compatible (conformance/protocol/versions.py).
HELLO_OPTIONAL_ADDED = ("consensus_versions",)
EMPTY: Schema = {"type": "object", "additionalProperties": False}
ERROR: Schema = {
    "type": "object",
    "properties": {
        "kind": {"enum": list(ERROR_KINDS)},
        "message": {"type": "string"},
        "rule": {"type": ["string", "null"]},
    },
    "required": ["kind", "message"],
    "additionalProperties": False,
}


def _request(cmd: str, params: Schema, *, handle: bool) -> Schema:
    properties: dict[str, Schema] = {"id": ID, "cmd": {"const": cmd}, "params": params}
    required = ["id", "cmd", "params"]
    if handle:
        properties["handle"] = HANDLE
        required.append("handle")
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def _response(result: Schema) -> Schema:
    return {
        "oneOf": [
            {
                "type": "object",
                "properties": {"id": ID, "ok": {"const": True}, "result": result},
                "required": ["id", "ok", "result"],
                "additionalProperties": False,
            },
            {
                "type": "object",
                "properties": {"id": ID, "ok": {"const": False}, "error": ERROR},
                "required": ["id", "ok", "error"],
                "additionalProperties": False,
            },
        ]
    }


def request_schema(cmd: str) -> Schema:
    """Return the schema of a request for ``cmd`` (a command or hello/close/shutdown)."""
    if cmd == "hello":
        return _request(cmd, HELLO_PARAMS, handle=False)
    if cmd == "shutdown":
        return _request(cmd, EMPTY, handle=False)
    if cmd == "close":
        return _request(cmd, EMPTY, handle=True)
    command: Command = COMMANDS[cmd]
    return _request(cmd, command.params_schema(), handle=command.kind != "function")


def response_schema(cmd: str) -> Schema:
    """Return the schema of a response to ``cmd``."""
    if cmd == "hello":
        return _response(HELLO_RESULT)
    if cmd in ("shutdown", "close"):
        return _response({"type": "null"})
    return _response(COMMANDS[cmd].result)


def protocol_document() -> dict[str, Any]:
    """Return every request and response schema as one JSON Schema document."""
    names = ["hello", "close", "shutdown", *sorted(COMMANDS)]
    defs: dict[str, Schema] = {}
    for name in names:
        defs[f"request:{name}"] = request_schema(name)
        defs[f"response:{name}"] = response_schema(name)
    return {
        "$schema": DRAFT,
        "$id": f"https://aethel.invalid/conformance/protocol/v{PROTOCOL_VERSION}",
        "title": f"Aethel conformance subprocess protocol, version {PROTOCOL_VERSION}",
        "description": "One JSON object per line; see conformance/PROTOCOL.md.",
        "$defs": defs,
        "commands": {
            name: {
                "capability": c.capability.value,
                "kind": c.kind,
                **({"object": c.target.value} if c.target is not None else {}),
                "mutates": c.mutates,
                "params": list(c.param_names),
                "doc": c.doc,
            }
            for name, c in sorted(COMMANDS.items())
        },
    }


class MessageValidator:
    """Check requests and responses against their schemas (``--validate-protocol``)."""

    @staticmethod
    @functools.cache
    def _validator(kind: str, cmd: str) -> jsonschema.Draft202012Validator:
        schema = request_schema(cmd) if kind == "request" else response_schema(cmd)
        return jsonschema.Draft202012Validator(schema)

    def problems(self, kind: str, cmd: str, message: object) -> list[str]:
        """Return what is wrong with ``message`` (empty if it is valid)."""
        if cmd not in COMMANDS and cmd not in ("hello", "close", "shutdown"):
            return [f"unknown command {cmd!r}"]
        validator = self._validator(kind, cmd)
        return [
            f"{'/'.join(map(str, e.absolute_path)) or '(message)'}: {e.message}"
            for e in sorted(validator.iter_errors(message), key=lambda e: list(e.absolute_path))
        ][:5]
