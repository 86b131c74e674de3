"""What a command of the adapter interface is, and the schema vocabulary its tables use.

Three kinds of command:

* ``function``: a pure function of its parameters (no handle).
* ``create``: makes a new stateful object (a state tree, a mempool, a replica...) under a handle
  the harness chooses; the object lives until ``close``.
* ``method``: runs on the object of a handle. ``mutates=True`` marks methods that change it: after
  a crash the harness restarts the implementation and replays the creates and mutating methods of
  the live handles, in order. A method whose ``target`` names another capability runs on that
  capability's objects (``monitoring.metrics`` on a replica's handle).

Parameter schemas are deliberately loose where the suite sends hostile input on purpose (a hex
string in upper case, a float where an integer belongs): the implementation must reject such
input itself. Result schemas are strict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from conformance.capabilities import Capability

Schema = dict[str, Any]

#: Any JSON value (the suite sends values without a canonical form on purpose).
ANY: Schema = {}
INT: Schema = {"type": "integer"}
NAT: Schema = {"type": "integer", "minimum": 0}
BOOL: Schema = {"type": "boolean"}
STR: Schema = {"type": "string"}
HEX: Schema = {"type": "string", "pattern": "^([0-9a-f]{2})*$"}
HASH: Schema = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
SIGNATURE: Schema = {"type": "string", "pattern": "^[0-9a-f]{128}$"}
NULL: Schema = {"type": "null"}
NULLABLE_NAT: Schema = {"type": ["integer", "null"], "minimum": 0}


def array(items: Schema) -> Schema:
    """Return the schema of a JSON array of ``items``."""
    return {"type": "array", "items": items}


def mapping(values: Schema) -> Schema:
    """Return the schema of a JSON object with arbitrary names and ``values``."""
    return {"type": "object", "additionalProperties": values}


def record(required: dict[str, Schema], optional: dict[str, Schema] | None = None) -> Schema:
    """Return the schema of a JSON object with exactly these members."""
    return {
        "type": "object",
        "properties": {**required, **(optional or {})},
        "required": sorted(required),
        "additionalProperties": False,
    }


Kind = Literal["function", "create", "method"]


@dataclass(frozen=True, slots=True)
class Command:
    """One operation of the adapter interface."""

    capability: Capability
    method: str
    kind: Kind
    params: tuple[tuple[str, Schema], ...]
    result: Schema
    doc: str
    mutates: bool = False
    optional_params: tuple[str, ...] = field(default=())
    #: The capability whose objects this method runs on (None: its own).
    target: Capability | None = None

    @property
    def name(self) -> str:
        """Return the wire name ``capability.method``."""
        return f"{self.capability.value}.{self.method}"

    @property
    def param_names(self) -> tuple[str, ...]:
        """Return the parameter names in call order."""
        return tuple(name for name, _ in self.params)

    def params_schema(self) -> Schema:
        """Return the JSON Schema of this command's ``params`` object."""
        properties = dict(self.params)
        return {
            "type": "object",
            "properties": properties,
            "required": [n for n in properties if n not in self.optional_params],
            "additionalProperties": False,
        }


def function(
    cap: Capability, method: str, params: dict[str, Schema], result: Schema, doc: str
) -> Command:
    """Return a pure-function command."""
    return Command(cap, method, "function", tuple(params.items()), result, doc)


def create(cap: Capability, method: str, params: dict[str, Schema], doc: str) -> Command:
    """Return a command that makes an object under the request's handle (answers null)."""
    return Command(cap, method, "create", tuple(params.items()), NULL, doc, mutates=True)


def method(
    cap: Capability,
    name: str,
    params: dict[str, Schema],
    result: Schema,
    doc: str,
    *,
    mutates: bool = False,
    target: Capability | None = None,
) -> Command:
    """Return a command on the object of the request's handle."""
    return Command(
        cap, name, "method", tuple(params.items()), result, doc, mutates=mutates, target=target
    )
