"""The command table: every operation the suite may ask of an implementation, with JSON Schemas.

This table is the single definition of the adapter interface. The Python adapter classes in
:mod:`conformance.adapters.api` mirror it (a harness test checks they agree), the subprocess
protocol sends exactly these commands (conformance/PROTOCOL.md), and ``--validate-protocol``
checks every request and response against the schemas built from it.

What a command is (kinds, mutation, targets) is in :mod:`.model`; the commands themselves are in
one module per group of capabilities, each with a ``TABLE`` of its capabilities' commands:

* :mod:`.encoding`: encoding, list-hash
* :mod:`.state`: state-tree, state-store, sync
* :mod:`.proofs`: verifier, mempool
* :mod:`.economics`: economics
* :mod:`.consensus`: replica, history, catch-up, vote-journal, lost-journal, lost-journal-on-disk
* :mod:`.consensus_v2`: consensus-v2
* :mod:`.monitoring`: monitoring, ghost
"""

from __future__ import annotations

from conformance.capabilities import Capability
from conformance.protocol.commands import (
    consensus,
    consensus_v2,
    economics,
    encoding,
    monitoring,
    proofs,
    state,
)
from conformance.protocol.commands.model import Command

__all__ = ["COMMANDS", "OBJECT_METHODS", "TABLE", "commands_of"]

#: The commands of every capability, in the order of the capability list.
TABLE: dict[Capability, tuple[Command, ...]] = {
    **encoding.TABLE,
    **state.TABLE,
    **proofs.TABLE,
    **economics.TABLE,
    **consensus.TABLE,
    **consensus_v2.TABLE,
    **monitoring.TABLE,
}
TABLE = {capability: TABLE[capability] for capability in Capability}

#: Every command by its wire name ``capability.method``: what the server dispatches on.
COMMANDS: dict[str, Command] = {c.name: c for commands in TABLE.values() for c in commands}


def commands_of(capability: Capability | str) -> dict[str, Command]:
    """Return ``{method: command}`` of one capability."""
    return {c.method: c for c in TABLE[Capability(capability)]}


#: Methods other capabilities add to a capability's objects: {(object capability, method): command}.
OBJECT_METHODS: dict[tuple[str, str], Command] = {
    (c.target.value, c.method): c for c in COMMANDS.values() if c.target is not None
}
