"""Mutant nodes: the reference validator process with one node-level defect each.

These are not suite mutants (no ``MUTANTS`` list: the suite's self-test runs implementations
over the subprocess protocol). Each is a node command for ``aethel-conformance network``
(``python -m conformance.mutants.nodes NAME --home DIR``: the reference node with one patch
applied in its own process), with the faults that expose its defect, and the rules the defect
breaks. ``aethel-conformance selftest --network`` runs each against its schedule, and the
reference against the same schedule as the control: the mutant is caught when a checker citing
a rule it breaks fails on the mutant and passes on the reference
(:mod:`conformance.network.selftest`).

The defects are the kind a node implementer writes:

* ``ack-before-durable``: group commit. The state store writes its SQLite transaction every 8th
  height; the node announces every height at once (R5.4: a SIGKILL loses announced heights).
* ``vote-journal-unwritten``: votes and proposals are kept in memory only; the vote journal is
  never written (R4.6: a restarted leader proposes again in the same view, an equivocation that
  gets an honest node accused).
* ``wipe-ignored``: the node does not notice that its data directory was wiped, so it votes and
  proposes at once, as if it had its journal (R4.6).
* ``no-catch-up``: state sync runs only while the node boots (its first 5 s); a node left behind
  later, by a partition or a pause, waits for the chain to come to it (R3.4, R2.5).
* ``stale-root-after-sync``: the API's chain head is cached when the node boots and advanced one
  height at a time on commits; after a state sync jumps heights (a restarted node catching up)
  it never advances again, so status and balance answers carry a stale root (R3.2).
* ``quorum-majority``: q(W) computed as a simple stake majority, floor(W/2) + 1, instead of
  floor(2W/3) + 1 (R7.6, R2.3: with 7 validators a side of 4 commits while cut off).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from aethel.consensus import validators as consensus_validators
from aethel.consensus.persistent import PersistentLedger
from aethel.encoding import to_hex
from aethel.node import api, assembly
from aethel.node.process import run_node
from aethel.node.runtime import NodeRuntime
from aethel.state.store import StateStore
from conformance.network.nemesis import LEADER, Fault

COMMAND = "{python} -m conformance.mutants.nodes NAME --home {home}"


@dataclass(frozen=True, slots=True)
class NodeMutant:
    """One node-level defect, the rules it breaks and the faults that expose it."""

    name: str
    defect: str
    breaks: tuple[str, ...]
    patch: Callable[[], None]
    schedule: tuple[Fault, ...]
    validators: int = 4
    duration: float = 24.0
    #: None: the bound each run derives (conformance/network/bound.py); seconds: an override.
    liveness_bound: float | None = None

    @property
    def command(self) -> str:
        """The node command template of this mutant (NODE.md)."""
        return COMMAND.replace("NAME", self.name)


# ---------------------------------------------------------------------- the patches


class _GroupCommit:
    """A SQLite connection whose COMMIT reaches the file only every ``group`` transactions."""

    def __init__(self, db: sqlite3.Connection, group: int = 8) -> None:
        self._db = db
        self._group = group
        self._pending = 0

    def execute(self, sql: str, *args: Any) -> Any:
        if sql == "BEGIN IMMEDIATE" and self._db.in_transaction:
            return None  # the group's transaction is still open
        if sql == "COMMIT":
            self._pending += 1
            if self._pending < self._group:
                return None  # announced, not yet written
            self._pending = 0
        return self._db.execute(sql, *args)

    def close(self) -> None:
        if self._db.in_transaction:
            self._db.execute("COMMIT")
        self._db.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


def _ack_before_durable() -> None:
    original = StateStore._open

    def _open(self: Any, cache_size: int, durable: bool) -> None:
        original(self, cache_size, durable)
        self._db = _GroupCommit(self._db)

    StateStore._open = _open  # type: ignore[method-assign]


def _vote_journal_unwritten() -> None:
    def record_vote(self: Any, height: int, view: int, kind: str, key: bytes) -> None:
        return None

    PersistentLedger.record_vote = record_vote  # type: ignore[method-assign]


def _wipe_ignored() -> None:
    original = assembly.ValidatorNode.__init__

    def __init__(self: Any, home: Any, *, durable: bool = True) -> None:
        (home.path / "ran").unlink(missing_ok=True)  # the marker is not consulted
        original(self, home, durable=durable)

    assembly.ValidatorNode.__init__ = __init__  # type: ignore[method-assign]


def _no_catch_up() -> None:
    original = NodeRuntime.request_sync

    def request_sync(self: Any, out: Any) -> None:
        if time.monotonic() - self._booted > 5.0:
            return  # past the boot: the node follows consensus only
        original(self, out)

    original_init = NodeRuntime.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self._booted = time.monotonic()

    NodeRuntime.__init__ = __init__  # type: ignore[method-assign]
    NodeRuntime.request_sync = request_sync  # type: ignore[method-assign]


def _stale_root_after_sync() -> None:
    original_init = NodeRuntime.__init__
    original_committed = NodeRuntime.committed

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        latest = self.node.latest()  # the head, cached when the node boots
        digest = None if latest is None else latest.digest
        self._head = (self.node.height, digest, self.node.ledger.store.root)

    def committed(self: Any, out: Any) -> None:
        original_committed(self, out)
        if out.height == self._head[0] + 1:  # advanced one height at a time
            self._head = (out.height, out.block.digest, out.certificate.post_root)

    NodeRuntime.__init__ = __init__  # type: ignore[method-assign]
    NodeRuntime.committed = committed  # type: ignore[method-assign]

    def head_of(runtime: Any) -> tuple[int, bytes | None, bytes]:
        head: tuple[int, bytes | None, bytes] = runtime._head
        return head

    original_status = api.Api.get_status
    original_account = api.Api.get_account

    async def get_status(self: Any, request: Any) -> Any:
        answer = await original_status(self, request)
        body = json.loads(answer.text or "{}")
        _, digest, root = head_of(self.runtime)
        body["digest"] = None if digest is None else to_hex(digest)
        body["root"] = to_hex(root)
        return web.json_response(body)

    async def get_account(self: Any, request: Any) -> Any:
        answer = await original_account(self, request)
        if answer.status != 200:
            return answer
        body = json.loads(answer.text or "{}")
        height, _, root = head_of(self.runtime)
        body["height"], body["root"] = height, to_hex(root)
        return web.json_response(body)

    api.Api.get_status = get_status  # type: ignore[method-assign]
    api.Api.get_account = get_account  # type: ignore[method-assign]


def _quorum_majority() -> None:
    def compute_quorum(total_stake: int) -> int:
        return total_stake // 2 + 1

    setattr(consensus_validators, "compute_quorum", compute_quorum)  # noqa: B010 - the patch


# ---------------------------------------------------------------------- the mutants


def _faults(
    kind: str, targets: tuple[str, ...], starts: list[float], length: float
) -> tuple[Fault, ...]:
    return tuple(Fault(i, kind, start, length, targets) for i, start in enumerate(starts))


def _partition(kind: str, sides: tuple[tuple[str, ...], ...], start: float, length: float) -> Fault:
    return Fault(0, kind, start, length, (), sides)


NODE_MUTANTS = (
    NodeMutant(
        "ack-before-durable",
        "the store writes every 8th height; heights are announced before they are written",
        ("R5.4",),
        _ack_before_durable,
        _faults("kill", ("v001",), [4.0, 10.0, 16.0], 1.0),
    ),
    NodeMutant(
        "vote-journal-unwritten",
        "votes and proposals are journaled in memory only",
        ("R4.6",),
        _vote_journal_unwritten,
        _faults("kill", (LEADER,), [4.0, 9.0, 14.0, 19.0], 0.2),
    ),
    NodeMutant(
        "wipe-ignored",
        "a node whose data directory was wiped votes as if it had its journal",
        ("R4.6",),
        _wipe_ignored,
        _faults("wipe", (LEADER,), [4.0, 9.0, 14.0, 19.0], 0.2),
    ),
    NodeMutant(
        "no-catch-up",
        "state sync only while booting; a node left behind later never catches up",
        ("R3.4", "R2.5"),
        _no_catch_up,
        (_partition("partition-majority", (("v000", "v001", "v002"), ("v003",)), 8.0, 8.0),),
    ),
    NodeMutant(
        "stale-root-after-sync",
        "the API's cached head advances one height at a time and sticks after a state sync",
        ("R3.2",),
        _stale_root_after_sync,
        _faults("kill", ("v002",), [4.0, 12.0], 2.5),
    ),
    NodeMutant(
        "quorum-majority",
        "q(W) is a simple stake majority, floor(W/2) + 1",
        ("R7.6", "R2.3"),
        _quorum_majority,
        # Two long cuts: the side of 4 commits once a view's leader is on its side (4 of 7
        # leaders; views time out after 4 s, then 8 s), so each cut exposes it with
        # probability about 1 - (3/7)^2.
        (
            _partition(
                "partition-halves",
                (("v000", "v001", "v002"), ("v003", "v004", "v005", "v006")),
                6.0,
                12.0,
            ),
            Fault(
                1,
                "partition-halves",
                21.0,
                12.0,
                (),
                (("v000", "v003", "v005"), ("v001", "v002", "v004", "v006")),
            ),
        ),
        validators=7,
        duration=36.0,
    ),
)


def node_mutants() -> dict[str, NodeMutant]:
    """Every mutant node by name."""
    return {m.name: m for m in NODE_MUTANTS}


def main(argv: list[str] | None = None) -> int:
    """Run the reference node with mutant ``NAME``'s patch (the node command of a mutant)."""
    parser = argparse.ArgumentParser(prog="python -m conformance.mutants.nodes")
    parser.add_argument("name", choices=sorted(node_mutants()))
    parser.add_argument("--home", required=True)
    args = parser.parse_args(argv)
    node_mutants()[args.name].patch()
    return run_node(args.home)


if __name__ == "__main__":
    sys.exit(main())
