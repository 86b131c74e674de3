"""A replica whose message decoder coerces members to the type it expects (E12; spec/encoding.md:
"a member of another JSON type" is refused naming E12), as a lenient JSON binding does.

``message-integers-coerced``: a height or view sent as a string of digits ("1") is read as the
number; a message of another form passes for a valid one, and its signature (over the canonical
body with the number) still verifies, so the sender's message is honoured in a form no other
implementation accepts.

Caught by conformance/suite/test_message_shapes.py (height-as-string).
"""

from __future__ import annotations

from typing import Any

from conformance.adapters.api import JSON
from conformance.adapters.reference_errors import rejecting
from conformance.adapters.reference_replica import ReferenceReplicaObject
from conformance.mutants import Mutant, replica_implementation


def _coerced(message: Any) -> Any:
    if not isinstance(message, dict):
        return message
    out = dict(message)
    for member in ("height", "view"):
        value = out.get(member)
        if isinstance(value, str) and value.isdigit():
            out[member] = int(value)
    return out


class CoercingObject(ReferenceReplicaObject):
    """Defect: integer members sent as digit strings are read as integers."""

    @rejecting
    def on_message(self, message: JSON, now: int) -> list[JSON]:
        return super().on_message(_coerced(message), now)


IntegersCoerced = replica_implementation("IntegersCoerced", __name__, base=CoercingObject)

MUTANTS = [
    Mutant(
        name="message-integers-coerced",
        defect="a consensus message's height or view sent as a string of digits is read as a "
        "number instead of being refused naming E12",
        breaks=("E12",),
        capabilities=("replica",),
        build=IntegersCoerced,
    ),
]
