"""The recorded history of a run: every client operation, poll and fault, with its times.

Like a Jepsen history, an operation is an invocation and a completion: ``invoke`` then ``ok``
(it happened), ``fail`` (it certainly did not) or ``info`` (unknown: a timeout, an unreachable
node). Times are seconds since the run started (monotonic clock). Each record names the client
process, the function (``transfer``, ``confirm``, ``balance``, ``block``, ``status``,
``nemesis``), the node asked and a value. The checkers (:mod:`conformance.network.checkers`)
read nothing else about the run's middle.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class Op:
    """One record of the history."""

    index: int
    time: float
    process: str
    type: str
    f: str
    node: str | None
    value: dict[str, Any]
    #: For a completion: the index of its invocation.
    invoke: int | None = None


@dataclass
class History:
    """An append-only list of :class:`Op` with the run's clock."""

    started: float = field(default_factory=time.monotonic)
    ops: list[Op] = field(default_factory=list)

    def now(self) -> float:
        return round(time.monotonic() - self.started, 4)

    def add(
        self,
        process: str,
        type_: str,
        f: str,
        node: str | None,
        value: dict[str, Any] | None = None,
        invoke: int | None = None,
        at: float | None = None,
    ) -> Op:
        op = Op(
            len(self.ops),
            self.now() if at is None else at,
            process,
            type_,
            f,
            node,
            dict(value or {}),
            invoke,
        )
        self.ops.append(op)
        return op

    def invoke(self, process: str, f: str, node: str | None, value: dict[str, Any]) -> Op:
        return self.add(process, "invoke", f, node, value)

    def complete(self, invocation: Op, type_: str, value: dict[str, Any] | None = None) -> Op:
        return self.add(
            invocation.process, type_, invocation.f, invocation.node, value, invocation.index
        )

    def select(self, f: str, type_: str | None = None) -> list[Op]:
        return [o for o in self.ops if o.f == f and (type_ is None or o.type == type_)]

    def invocation_time(self, op: Op) -> float:
        return self.ops[op.invoke].time if op.invoke is not None else op.time

    def write(self, path: Path) -> None:
        with path.open("w", encoding="utf-8") as handle:
            for op in self.ops:
                handle.write(json.dumps(asdict(op), sort_keys=True) + "\n")


def read_history(path: Path) -> History:
    """Read a history written by :meth:`History.write`."""
    history = History(started=0.0)
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            history.ops.append(Op(**json.loads(line)))
    return history


__all__ = ["History", "Op", "read_history"]
