"""A virtual network for exact tests: FIFO delivery under the caller's control, timers on demand.

The simulator (:mod:`aethel.sim`) runs realistic networks; :class:`FifoCluster` runs the
scenarios that need a precise interleaving (lose the leader after everyone prepared, feed one
replica a chosen message sequence). Each node is anything with the replica's entry points
(``start``, ``on_message``, ``on_timer``): a reference :class:`~aethel.consensus.replica.Replica`
or an implementation's replica behind the conformance adapter. Their outputs go through the one
:class:`~aethel.node.shell.Shell`; the host here queues messages, keeps the latest view timer of
each node (fired by :meth:`FifoCluster.fire_timers`) and records commits, evidence and sync
requests (a test serves those itself).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aethel.consensus.events import (
    Committed,
    EvidenceFound,
    Log,
    Output,
    RequestSync,
    SetTimer,
    Timer,
)
from aethel.consensus.messages import Message
from aethel.node.shell import Shell


class _FifoHost:
    """One node's side of a :class:`FifoCluster` (what its shell routes to)."""

    __slots__ = ("cluster", "name")

    def __init__(self, cluster: FifoCluster, name: str) -> None:
        self.cluster = cluster
        self.name = name

    def _enqueue(self, target: str, message: Message) -> None:
        copies = 2 if self.cluster.duplicate else 1
        self.cluster.queue.extend([(self.name, target, message)] * copies)

    def send(self, to: str, message: Message) -> None:
        self._enqueue(to, message)

    def loopback(self, message: Message) -> None:
        self._enqueue(self.name, message)

    def broadcast(self, message: Message) -> None:
        for target in self.cluster.nodes:
            if target != self.name:
                self._enqueue(target, message)

    def set_timer(self, timer: Timer, deadline: int) -> None:
        if timer.kind == "propose":  # a proposal waits behind what is already queued
            self.cluster.queue.append((self.name, self.name, timer))
        else:  # the latest view timer replaces the earlier one (the replica ignores stale ones)
            self.cluster.timers[self.name] = SetTimer(timer, deadline)

    def committed(self, out: Committed) -> None:
        self.cluster.commits.setdefault(self.name, []).append(out)

    def evidence(self, out: EvidenceFound) -> None:
        self.cluster.evidence.append((self.name, out))

    def request_sync(self, out: RequestSync) -> None:
        self.cluster.syncs.append((self.name, out))

    def log(self, out: Log) -> None:
        self.cluster.logs.append((self.name, out))


@dataclass
class FifoCluster:
    """Nodes joined by an in-memory FIFO network (see the module docstring).

    ``hop_ns`` is how far the clock moves per delivery; ``duplicate`` delivers every message
    twice (a duplicating network). A delivery names its source as the transport's sender
    (informational: messages are authenticated by their signatures).
    """

    nodes: dict[str, Any]
    hop_ns: int = 1_000
    duplicate: bool = False
    queue: deque[tuple[str, str, Message | Timer]] = field(default_factory=deque)
    commits: dict[str, list[Committed]] = field(default_factory=dict)
    #: (node, evidence) in the order the nodes reported them.
    evidence: list[tuple[str, EvidenceFound]] = field(default_factory=list)
    timers: dict[str, SetTimer] = field(default_factory=dict)
    syncs: list[tuple[str, RequestSync]] = field(default_factory=list)
    logs: list[tuple[str, Log]] = field(default_factory=list)
    down: set[str] = field(default_factory=set)
    now: int = 0
    shells: dict[str, Shell] = field(default_factory=dict, repr=False)

    def shell(self, name: str) -> Shell:
        """Return the shell of node ``name``."""
        shell = self.shells.get(name)
        if shell is None:
            shell = self.shells[name] = Shell(name, _FifoHost(self, name))
        return shell

    def route(self, source: str, outputs: list[Output]) -> None:
        """Carry out ``source``'s outputs (tests may wrap this to watch them)."""
        self.shell(source).route(outputs)

    def start(self) -> None:
        """Start every node at the current time."""
        for name, node in self.nodes.items():
            self.route(name, node.start(self.now))

    def step(self) -> None:
        """Deliver the first queued message (or propose timer); a down end loses it."""
        source, target, item = self.queue.popleft()
        if target in self.down or source in self.down:
            return
        self.now += self.hop_ns
        node = self.nodes[target]
        if isinstance(item, Timer):
            self.route(target, node.on_timer(item, self.now))
        else:
            self.route(target, node.on_message(item, self.now, source))

    def run(self, max_steps: int = 1_000_000) -> int:
        """Deliver queued messages until none is left or ``max_steps``; return the steps."""
        steps = 0
        while self.queue and steps < max_steps:
            self.step()
            steps += 1
        return steps

    def fire_timers(self) -> None:
        """Fire every pending view timer (a view timeout at every live node), by name."""
        pending, self.timers = self.timers, {}
        for name, timer in sorted(pending.items()):
            if name in self.down:
                continue
            self.now = max(self.now, timer.deadline)
            self.route(name, self.nodes[name].on_timer(timer.timer, self.now))

    def heights(self) -> dict[str, int]:
        """Return how many heights each node committed."""
        return {name: len(self.commits.get(name, [])) for name in self.nodes}

    def committed_heights(self, name: str) -> list[int]:
        """Return the heights ``name`` committed, in order."""
        return [c.height for c in self.commits.get(name, [])]


__all__ = ["FifoCluster"]
