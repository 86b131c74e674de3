"""The one shell: routes a sans-IO replica's outputs to whatever environment runs it.

The consensus core (:mod:`aethel.consensus`) returns instructions (:mod:`aethel.consensus.events`)
and performs none of them. Every environment that runs replicas (the simulator's event loop, the
FIFO clusters of the tests and the suite, the Hypothesis state machines, the TCP node) carries
them out through this module: :class:`Shell` reads each output once, in order, and calls the
matching method of a :class:`Host`, which is the environment: its network, its clock's timers,
its sync service and the sinks for commits, evidence and logs.

What is the same everywhere lives here:

* a :class:`~aethel.consensus.events.Send` to the node's own id is a loopback (the leader's
  proposal to itself, spec/performance.md "a message to oneself"); any other goes to the peer;
* outputs are carried out in the order the replica produced them (a vote is journaled before
  the output that sends it exists, so no environment can send a vote the disk has not seen:
  R5.4, see :class:`aethel.consensus.interfaces.ChainStore.record_vote`);
* a finished state sync is adopted only after the replica accepts the certified chain
  (:func:`adopt_sync`, R3.1): the snapshot is installed in the store only then.

What differs (how a message travels, what a timer is, where a commit is recorded) is the host's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol

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
from aethel.consensus.interfaces import ChainStore
from aethel.consensus.messages import CommitCertificate, Message

ChainLinks = Sequence[tuple[ProofBlock, CommitCertificate]]


class Host(Protocol):
    """The environment one replica runs in, as its shell sees it."""

    def send(self, to: str, message: Message) -> None:
        """Send ``message`` to validator ``to`` (never this node itself)."""
        ...

    def loopback(self, message: Message) -> None:
        """Deliver ``message`` to this node's own replica."""
        ...

    def broadcast(self, message: Message) -> None:
        """Send ``message`` to every other validator."""
        ...

    def set_timer(self, timer: Timer, deadline: int) -> None:
        """Fire ``timer`` at ``deadline`` (ns of the host's clock)."""
        ...

    def committed(self, out: Committed) -> None:
        """Record a commit (already persisted by the replica's store, R5.4)."""
        ...

    def evidence(self, out: EvidenceFound) -> None:
        """Publish verified evidence of misbehaviour (R1.5, R8.5)."""
        ...

    def request_sync(self, out: RequestSync) -> None:
        """Start a verified state sync (R3.1, R3.5); answer with :func:`adopt_sync`."""
        ...

    def log(self, out: Log) -> None:
        """Record a structured log line."""
        ...


class Shell:
    """Routes one node's replica outputs to its :class:`Host`."""

    __slots__ = ("host", "name")

    def __init__(self, name: str, host: Host) -> None:
        self.name = name
        self.host = host

    def route(self, outputs: Iterable[Output]) -> None:
        """Carry out ``outputs`` in order."""
        host = self.host
        for out in outputs:
            if isinstance(out, Send):
                if out.to == self.name:
                    host.loopback(out.message)
                else:
                    host.send(out.to, out.message)
            elif isinstance(out, Broadcast):
                host.broadcast(out.message)
            elif isinstance(out, SetTimer):
                host.set_timer(out.timer, out.deadline)
            elif isinstance(out, Committed):
                host.committed(out)
            elif isinstance(out, EvidenceFound):
                host.evidence(out)
            elif isinstance(out, RequestSync):
                host.request_sync(out)
            else:
                host.log(out)


def adopt_sync(
    replica: Any,
    store: ChainStore,
    certificate: CommitCertificate,
    block: ProofBlock,
    links: ChainLinks,
    now: int,
) -> list[Output]:
    """Hand a fetched sync to ``replica``; install the snapshot only if it accepts (R3.1).

    The replica checks the certified chain up to ``certificate`` (:meth:`check_sync`) before
    anything is written: a refused sync leaves the store as it was. Returns the replica's
    outputs (a refused sync logs why and asks again later).
    """
    if not replica.check_sync(certificate, block, links):
        store.install_snapshot(certificate, block)
    outputs: list[Output] = replica.on_sync_completed(certificate, block, now, links)
    return outputs


def latest_certificate(stores: Iterable[ChainStore]) -> CommitCertificate | None:
    """Return the highest commit certificate any of ``stores`` holds (what peers answer a node
    that starts without state: the replica verifies it before it asks for the state)."""
    best: CommitCertificate | None = None
    for store in stores:
        certificate = store.latest()
        if certificate is not None and (best is None or certificate.height > best.height):
            best = certificate
    return best


def find_certified_block(
    stores: Iterable[ChainStore], certificate: CommitCertificate
) -> ProofBlock | None:
    """Return the block ``certificate`` certifies from the first store that holds it."""
    for store in stores:
        block = store.get_block(certificate.height)
        if block is not None and block.digest == certificate.digest:
            return block
    return None


__all__ = [
    "ChainLinks",
    "Host",
    "Shell",
    "adopt_sync",
    "find_certified_block",
    "latest_certificate",
]
