"""Events into the replica and outputs out of it: the whole interface of the sans-IO core.

Inputs carry the current (virtual) time ``now`` in integer nanoseconds; the core reads no clock.
Outputs are instructions for the shell (simulator or network node): send, broadcast, set a
timer, persist-and-announce a commit, publish evidence, start a sync, log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from aethel.consensus.block import ProofBlock
    from aethel.consensus.evidence import Evidence
    from aethel.consensus.interfaces import Execution
    from aethel.consensus.messages import CommitCertificate, Message


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True)
class Timer:
    """A timer of (height, view): ``view`` expires a view (R2.6); ``propose`` lets the leader
    propose (a separate event, so a lone validator's chain of heights is not one deep call)."""

    height: int
    view: int
    kind: str = "view"


@dataclass(frozen=True, slots=True)
class Start:
    """Start (or restart) the replica at ``now``."""

    now: int


@dataclass(frozen=True, slots=True)
class MessageReceived:
    """A message arrived; ``sender`` is the transport's peer (informational: messages are
    authenticated by their signatures, not by who relayed them)."""

    message: Message
    now: int
    sender: str = ""


@dataclass(frozen=True, slots=True)
class TimerFired:
    """A timer the replica set has expired."""

    timer: Timer
    now: int


@dataclass(frozen=True, slots=True)
class SyncCompleted:
    """The shell installed the state vouched for by ``certificate`` (R3.1, R3.5)."""

    certificate: CommitCertificate
    block: ProofBlock
    now: int
    #: The certified heights from the replica's height up to the one before ``certificate``'s,
    #: in order: the chain that gives the validator set of ``certificate``'s height (R2.3).
    links: tuple[tuple[ProofBlock, CommitCertificate], ...] = ()


Event: TypeAlias = Start | MessageReceived | TimerFired | SyncCompleted


# --------------------------------------------------------------------------- outputs


@dataclass(frozen=True, slots=True)
class Send:
    """Send ``message`` to validator ``to``."""

    to: str
    message: Message


@dataclass(frozen=True, slots=True)
class Broadcast:
    """Send ``message`` to every other validator."""

    message: Message


@dataclass(frozen=True, slots=True)
class SetTimer:
    """Fire ``timer`` at virtual time ``deadline`` (an earlier timer of the replica stays set;
    the replica ignores timers that no longer match its state)."""

    timer: Timer
    deadline: int


@dataclass(frozen=True, slots=True)
class Committed:
    """Height ``height`` committed: already persisted through the ChainStore (R5.4)."""

    height: int
    view: int
    block: ProofBlock = field(repr=False)
    certificate: CommitCertificate = field(repr=False)
    execution: Execution = field(repr=False)
    now: int
    #: Virtual time the replica first saw a proposal for this height (for metrics, R8.1).
    started: int


@dataclass(frozen=True, slots=True)
class EvidenceFound:
    """The replica detected and verified misbehaviour (R1.5, R8.5)."""

    evidence: Evidence = field(repr=False)
    offender: str
    offence: str
    height: int


@dataclass(frozen=True, slots=True)
class RequestSync:
    """The replica is behind: fetch the state ``certificate`` vouches for (R3.1, R3.5); with
    no certificate, fetch the latest one the peers hold first (a node starting without state).

    The shell answers with :class:`SyncCompleted`, whose ``links`` hold the certified blocks
    from the replica's next height (its store's latest + 1) up to the one before the target:
    the replica verifies each certificate by the set of its own height before adopting.
    """

    certificate: CommitCertificate | None = field(repr=False)
    height: int


@dataclass(frozen=True, slots=True)
class Log:
    """A structured log line."""

    level: str
    event: str
    detail: str = ""


Output: TypeAlias = Send | Broadcast | SetTimer | Committed | EvidenceFound | RequestSync | Log
