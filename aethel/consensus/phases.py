"""The replica's states and the only transitions between them (spec/consensus.md, "Phases",
"View change", "Catching up").

Owns: no rule; it keeps the order of the phases. Each row of the tables below names the rules
that allow the step, which are checked in the modules that own them (ARCHITECTURE.md, "The
replica").

Four small machines, each a table of (state, event) -> state:

* :data:`ROUND`: one view of a height, PBFT's normal case. A round awaits its proposal, verifies
  it (signatures, block rules, every proof, the execution), accepts it (PREPARE sent), and is
  prepared on a prepare certificate (the lock taken, COMMIT sent). A refused proposal sends the
  round back to awaiting one.
* :data:`HEIGHT`: the height as a whole. It is open until a commit certificate for a block it
  holds commits it, or a verified state sync takes the replica past it; then the replica opens
  the next height with a new :class:`aethel.consensus.height.HeightState`, so a closed height
  takes no further step.
* :data:`VIEW`: the replica's current view of the height. *active*: its timer runs and its
  proposal came or may come (view 0, or a view whose NEW-VIEW was accepted); *changing*: the
  replica asked for the view and waits for q(W) stake to ask for it too (the timer only re-sends
  its VIEW-CHANGE); *awaiting new-view*: q(W) stake asked for the view, its timer runs, its
  NEW-VIEW has not come.
* :data:`SYNC`: whether the replica has asked the shell for a verified state sync it still waits
  for (*syncing*) or follows the chain by itself (*in step*).

:meth:`Machine.next` is the one way a state changes: a step that is not in the table raises
:class:`IllegalTransition`. No input can cause one (a message either takes a step of the table
or is refused); raising means the replica's own code, or a subclass of it, is wrong.
:func:`render_mermaid` draws the tables for ARCHITECTURE.md, and a test keeps the drawing equal
to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar

from aethel.errors import UsageError


class RoundPhase(StrEnum):
    """Where one view of a height stands (PBFT's normal case)."""

    AWAITING_PROPOSAL = "awaiting-proposal"
    VERIFYING = "verifying"
    #: PBFT's pre-prepared: the proposal passed every check; this validator sent its PREPARE.
    ACCEPTED = "accepted"
    #: A prepare certificate holds for the proposal: this validator is locked on it.
    PREPARED = "prepared"


class RoundEvent(StrEnum):
    """What moves a round."""

    PROPOSAL = "proposal"
    REFUSE = "refuse"
    ACCEPT = "accept"
    PREPARE_CERTIFICATE = "prepare-certificate"


class HeightPhase(StrEnum):
    """Whether a height is still being decided."""

    OPEN = "open"
    COMMITTED = "committed"
    SYNCED = "synced"


class HeightEvent(StrEnum):
    """What closes a height."""

    COMMIT = "commit"
    SYNC = "sync"


class ViewPhase(StrEnum):
    """Where the replica's current view stands (view synchronisation)."""

    ACTIVE = "active"
    CHANGING = "changing"
    AWAITING_NEW_VIEW = "awaiting-new-view"


class ViewEvent(StrEnum):
    """What moves the current view."""

    TIMEOUT = "timeout"
    JOIN = "join"
    CATCH_UP = "catch-up"
    RESEND = "resend"
    QUORUM_ASKED = "quorum-asked"
    NEW_VIEW = "new-view"


class SyncPhase(StrEnum):
    """Whether the replica waits for a state sync it asked for."""

    IN_STEP = "in-step"
    SYNCING = "syncing"


class SyncEvent(StrEnum):
    """What moves the sync phase."""

    REQUEST = "request"
    CAUGHT_UP = "caught-up"
    ADOPTED = "adopted"
    REFUSED = "refused"


S = TypeVar("S", RoundPhase, HeightPhase, ViewPhase, SyncPhase)
E = TypeVar("E", RoundEvent, HeightEvent, ViewEvent, SyncEvent)


class IllegalTransition(UsageError):
    """A step that is not in its machine's table: a defect of the replica, never of its input."""

    def __init__(self, machine: str, state: str, event: str) -> None:
        self.machine = machine
        self.state = state
        self.event = event
        super().__init__(f"{machine}: no transition from {state!r} on {event!r}")


@dataclass(frozen=True, slots=True)
class Transition(Generic[S, E]):
    """One row of a table: in ``source``, ``event`` leads to ``target``."""

    source: S
    event: E
    target: S
    #: The rules that allow the step (checked where they are owned).
    rules: tuple[str, ...]
    #: What happens, in the words of spec/consensus.md.
    meaning: str


class Machine(Generic[S, E]):
    """A named transition table with its initial state."""

    __slots__ = ("_next", "initial", "name", "transitions")

    def __init__(self, name: str, initial: S, transitions: tuple[Transition[S, E], ...]) -> None:
        self.name = name
        self.initial: S = initial
        self.transitions: tuple[Transition[S, E], ...] = transitions
        self._next: dict[tuple[S, E], S] = {}
        for row in transitions:
            key = (row.source, row.event)
            if key in self._next:
                raise UsageError(f"{name}: two rows for {row.source} on {row.event}")
            self._next[key] = row.target

    def next(self, state: S, event: E) -> S:
        """Return the state ``event`` leads to from ``state``; raise :class:`IllegalTransition`
        if the table has no such step."""
        found = self._next.get((state, event))
        if found is None:
            raise IllegalTransition(self.name, state, event)
        return found

    def allows(self, state: S, event: E) -> bool:
        """Return True if the table has a step for ``event`` from ``state``."""
        return (state, event) in self._next


def _rows(
    sources: tuple[S, ...], event: E, target: S, rules: tuple[str, ...], meaning: str
) -> tuple[Transition[S, E], ...]:
    return tuple(Transition(source, event, target, rules, meaning) for source in sources)


R, H, V, Y = RoundPhase, HeightPhase, ViewPhase, SyncPhase

ROUND: Machine[RoundPhase, RoundEvent] = Machine(
    "round",
    R.AWAITING_PROPOSAL,
    (
        Transition(
            R.AWAITING_PROPOSAL,
            RoundEvent.PROPOSAL,
            R.VERIFYING,
            ("R2.6", "R7.5"),
            "a PRE-PREPARE from the view's leader, signed by it, for a block not refused before",
        ),
        Transition(
            R.VERIFYING,
            RoundEvent.REFUSE,
            R.AWAITING_PROPOSAL,
            ("R1.1",),
            "the block breaks a block rule, holds a proof that is not valid, or its "
            "transition breaks the books: no vote",
        ),
        Transition(
            R.VERIFYING,
            RoundEvent.ACCEPT,
            R.ACCEPTED,
            ("R1.1", "R3.2"),
            "every proof verified and the block executed: PREPARE sent",
        ),
        Transition(
            R.ACCEPTED,
            RoundEvent.PREPARE_CERTIFICATE,
            R.PREPARED,
            ("R2.3",),
            "PREPAREs of q(W) stake, or a valid prepare certificate: locked, COMMIT sent",
        ),
    ),
)

HEIGHT: Machine[HeightPhase, HeightEvent] = Machine(
    "height",
    H.OPEN,
    (
        Transition(
            H.OPEN,
            HeightEvent.COMMIT,
            H.COMMITTED,
            ("R2.3", "R3.2"),
            "a commit certificate for a block this validator holds, for the root its "
            "execution gave: stored atomically, the next height opens",
        ),
        Transition(
            H.OPEN,
            HeightEvent.SYNC,
            H.SYNCED,
            ("R3.1",),
            "a verified state sync to this height or a later one: the height after it opens",
        ),
    ),
)

_ANY_VIEW = (V.ACTIVE, V.CHANGING, V.AWAITING_NEW_VIEW)

VIEW: Machine[ViewPhase, ViewEvent] = Machine(
    "view",
    V.ACTIVE,
    (
        *_rows(
            (V.ACTIVE, V.AWAITING_NEW_VIEW),
            ViewEvent.TIMEOUT,
            V.CHANGING,
            ("R2.6",),
            "the view's timer expired: VIEW-CHANGE for the next view",
        ),
        *_rows(
            _ANY_VIEW,
            ViewEvent.JOIN,
            V.CHANGING,
            ("R2.6",),
            "validators holding more than W/3 stake asked for later views: join the smallest",
        ),
        *_rows(
            _ANY_VIEW,
            ViewEvent.CATCH_UP,
            V.CHANGING,
            ("R3.5",),
            "more than W/3 stake is at later heights: ask for the next view, so a validator "
            "past this height answers with its certificate",
        ),
        Transition(
            V.CHANGING,
            ViewEvent.RESEND,
            V.CHANGING,
            ("R2.6",),
            "the re-send timer of a waiting view: the same VIEW-CHANGE again",
        ),
        Transition(
            V.CHANGING,
            ViewEvent.QUORUM_ASKED,
            V.AWAITING_NEW_VIEW,
            ("R2.6",),
            "validators holding q(W) stake asked for this view or a later one: its timer starts",
        ),
        *_rows(
            _ANY_VIEW,
            ViewEvent.NEW_VIEW,
            V.ACTIVE,
            ("R2.6",),
            "a valid NEW-VIEW for this view or a later one: enter it, its timer running",
        ),
    ),
)

SYNC: Machine[SyncPhase, SyncEvent] = Machine(
    "sync",
    Y.IN_STEP,
    (
        *_rows(
            (Y.IN_STEP, Y.SYNCING),
            SyncEvent.REQUEST,
            Y.SYNCING,
            ("R3.1", "R3.5"),
            "a later height's certificate signed by more than W/3 stake (or a start without "
            "state): state sync requested",
        ),
        Transition(
            Y.SYNCING,
            SyncEvent.CAUGHT_UP,
            Y.IN_STEP,
            ("R3.5",),
            "commits took this validator past the height it asked to sync to",
        ),
        *_rows(
            (Y.IN_STEP, Y.SYNCING),
            SyncEvent.ADOPTED,
            Y.IN_STEP,
            ("R3.1",),
            "the certified chain to the synced state verified: state adopted",
        ),
        *_rows(
            (Y.IN_STEP, Y.SYNCING),
            SyncEvent.REFUSED,
            Y.IN_STEP,
            ("R3.1",),
            "the certified chain did not verify: nothing adopted, ask again later",
        ),
    ),
)

MACHINES = (ROUND, HEIGHT, VIEW, SYNC)


def _node(state: str) -> str:
    return state.replace("-", "_")


def _edges(machine: Machine[S, E], indent: str) -> list[str]:
    """One arrow per (from, to) pair, labelled with its events and their rules."""
    arrows: dict[tuple[str, str], tuple[list[str], list[str]]] = {}
    for row in machine.transitions:
        events, rules = arrows.setdefault((row.source, row.target), ([], []))
        events.append(row.event)
        rules.extend(rule for rule in row.rules if rule not in rules)
    lines = [f"{indent}[*] --> {_node(machine.initial)}"]
    for (source, target), (events, rules) in arrows.items():
        label = f"{' / '.join(events)} ({', '.join(rules)})"
        lines.append(f"{indent}{_node(source)} --> {_node(target)}: {label}")
    return lines


def render_mermaid() -> str:
    """Return the Mermaid drawing of the tables (ARCHITECTURE.md, "The replica").

    The first diagram is a height: its rounds inside *open*, one per view; the second the view
    machine, the third the sync machine.
    """
    height = ["stateDiagram-v2", "    state open {", *_edges(ROUND, "        "), "    }"]
    height += _edges(HEIGHT, "    ")
    blocks = [height, ["stateDiagram-v2", *_edges(VIEW, "    ")]]
    blocks.append(["stateDiagram-v2", *_edges(SYNC, "    ")])
    return "\n\n".join("```mermaid\n" + "\n".join(lines) + "\n```" for lines in blocks)


def render_table() -> str:
    """Return every transition as one Markdown table (ARCHITECTURE.md, "The replica"); rows
    that differ only in their source state share a line."""
    lines = ["| machine | from | event | to | rules | what happens |", "|---|---|---|---|---|---|"]
    for machine in MACHINES:
        grouped: dict[tuple[str, str], list[Transition[Any, Any]]] = {}
        for row in machine.transitions:
            grouped.setdefault((row.event, row.target), []).append(row)
        for (event, target), rows in grouped.items():
            sources = ", ".join(str(row.source) for row in rows)
            first = rows[0]
            lines.append(
                f"| {machine.name} | {sources} | {event} | {target} | "
                f"{', '.join(first.rules)} | {first.meaning} |"
            )
    return "\n".join(lines)
