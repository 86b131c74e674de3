"""What a replica holds: one object per height, replaced when the height closes, and the
long-lived parts, each kept by one rule group.

Owns: no rule; the rule groups read and write it (ARCHITECTURE.md, "The replica").

* :class:`HeightState`: everything one height holds (its phases, views, proposals, votes, lock
  and view change). A replica opens one when it starts a height (on start, after a commit,
  after a state sync) and drops it when the height closes; nothing is reset field by field.
  The phases change only through :meth:`HeightState.step_round`, :meth:`HeightState.step_view`
  and :meth:`HeightState.close`, which follow the tables of :mod:`aethel.consensus.phases` and
  raise on any other step.
* :class:`SyncState` (kept by :mod:`aethel.consensus.syncing`): the sync phase and its target.
* :class:`EvidencePool` (kept by :mod:`aethel.consensus.evidence_pool`): evidence waiting for a
  block, and what blocks already applied.
* :class:`Inbox` (kept by :mod:`aethel.consensus.replica`): messages of later heights and views,
  with the transport peer each came from.
* :class:`aethel.consensus.journal.Amnesia` (kept by :mod:`aethel.consensus.journal`): whether
  the replica lost its vote journal, and from which height it may vote again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aethel.consensus.block import ProofBlock
from aethel.consensus.catchup import VerifiedChain
from aethel.consensus.evidence import Evidence
from aethel.consensus.interfaces import BlockVerdict, ChainStore, Execution
from aethel.consensus.messages import (
    Commit,
    Message,
    NewView,
    Prepare,
    PrepareCertificate,
    PrePrepare,
    ViewChange,
)
from aethel.consensus.phases import (
    HEIGHT,
    ROUND,
    SYNC,
    VIEW,
    HeightEvent,
    HeightPhase,
    IllegalTransition,
    RoundEvent,
    RoundPhase,
    SyncEvent,
    SyncPhase,
    ViewEvent,
    ViewPhase,
)
from aethel.consensus.viewsync import ViewTally
from aethel.consensus.votes import AggregateVotes, VoteCollector

#: Evidence is slashed once per (offence, offender, height of the offence).
SlashKey = tuple[str, str, int]

#: View steps that keep the replica in the view it is in.
_SAME_VIEW = (ViewEvent.RESEND, ViewEvent.QUORUM_ASKED)


@dataclass(slots=True)
class Proposal:
    """An accepted proposal of one view: the pre-prepare, its verdict and its execution."""

    pre_prepare: PrePrepare
    verdict: BlockVerdict
    execution: Execution

    @property
    def digest(self) -> bytes:
        return self.pre_prepare.digest

    @property
    def block(self) -> ProofBlock:
        return self.pre_prepare.block


@dataclass(slots=True)
class HeightState:
    """One height at one replica: its views, proposals, votes, lock and view change."""

    height: int
    #: This validator's votes at this height, from its journal: (view, kind) -> what it signed.
    journal: dict[tuple[int, str], bytes]
    #: The lock: the prepare certificate of the highest view this validator prepared in, and
    #: its block (kept across a restart).
    prepared: PrepareCertificate | None = None
    prepared_block: ProofBlock | None = None
    phase: HeightPhase = HEIGHT.initial
    view: int = 0
    view_phase: ViewPhase = VIEW.initial
    #: The phase of each view that got further than awaiting its proposal.
    rounds: dict[int, RoundPhase] = field(default_factory=dict)

    # proposals (aethel.consensus.proposals)
    #: view -> the accepted proposal.
    proposals: dict[int, Proposal] = field(default_factory=dict)
    #: digest -> the verdict and execution of a block that passed, kept for a re-proposal.
    executions: dict[bytes, tuple[BlockVerdict, Execution]] = field(default_factory=dict)
    #: Digests of blocks refused at this height.
    refused: set[bytes] = field(default_factory=set)
    #: Blocks with an intrinsically invalid proof: votes for them are false claims (R1.5).
    invalid_blocks: dict[bytes, tuple[ProofBlock, int]] = field(default_factory=dict)

    # votes (aethel.consensus.voting)
    #: view -> the votes of that view (version 2: aggregated, V2.9).
    prepares: dict[int, VoteCollector[Prepare] | AggregateVotes[Prepare]] = field(
        default_factory=dict
    )
    commits: dict[int, VoteCollector[Commit] | AggregateVotes[Commit]] = field(default_factory=dict)
    #: (view, kind) -> when this validator sent that vote (latency samples, R6.5).
    vote_sent_at: dict[tuple[int, str], int] = field(default_factory=dict)

    # view change (aethel.consensus.viewchange)
    view_changes: dict[int, VoteCollector[ViewChange]] = field(default_factory=dict)
    new_view_sent: set[int] = field(default_factory=set)
    #: view -> the NEW-VIEW this validator sent for it, sent again when it was lost.
    new_views: dict[int, NewView] = field(default_factory=dict)
    #: (view, validator) -> when that validator was last sent the view's NEW-VIEW again.
    new_view_resent_at: dict[tuple[int, str], int] = field(default_factory=dict)
    #: Who asked for which view of this height (view synchronisation).
    view_tally: ViewTally = field(default_factory=ViewTally)
    #: Deadline of the latest timer set for the current view: an earlier one is superseded.
    view_deadline: int = 0
    #: This validator's VIEW-CHANGE at this height (for the view it last asked for).
    own_view_change: ViewChange | None = None
    #: Whether every validator was sent (a copy of) it, not only the leader (collector mode).
    own_view_change_public: bool = False

    # catching up (aethel.consensus.syncing)
    #: validator -> when it was last sent a certificate of a height it lags at.
    helped: dict[str, int] = field(default_factory=dict)
    #: Validators seen at later heights.
    ahead: set[str] = field(default_factory=set)
    #: When this validator last asked those for the certificate of this height (None: never).
    asked_sync_at: int | None = None

    @classmethod
    def open(cls, height: int, store: ChainStore) -> HeightState:
        """Open ``height`` in view 0 with this validator's journal and lock from ``store``."""
        state = cls(height, dict(store.get_votes(height)))
        lock = store.get_lock(height)
        if lock is not None:  # a restart keeps the lock it voted COMMIT on
            state.prepared, state.prepared_block = lock
        return state

    @property
    def established(self) -> bool:
        """Return True if the current view's timer runs (it is not waiting to be asked for)."""
        return self.view_phase is not ViewPhase.CHANGING

    def round_phase(self, view: int) -> RoundPhase:
        """Return the phase of ``view`` at this height."""
        return self.rounds.get(view, ROUND.initial)

    def step_round(self, view: int, event: RoundEvent) -> None:
        """Move ``view``'s round by ``event`` (:data:`aethel.consensus.phases.ROUND`)."""
        self._require_open(event)
        self.rounds[view] = ROUND.next(self.round_phase(view), event)

    def step_view(self, event: ViewEvent, view: int) -> None:
        """Move the current view by ``event`` to ``view`` (:data:`aethel.consensus.phases.VIEW`).

        A resend and q(W) stake asking keep the replica in its view, a NEW-VIEW is for its view
        or a later one, and every other step moves it to a later view: a view never goes back.
        """
        self._require_open(event)
        phase = VIEW.next(self.view_phase, event)
        if event in _SAME_VIEW:
            allowed = view == self.view
        elif event is ViewEvent.NEW_VIEW:
            allowed = view >= self.view
        else:
            allowed = view > self.view
        if not allowed:
            raise IllegalTransition(VIEW.name, f"{self.view_phase} in view {self.view}", event)
        self.view = view
        self.view_phase = phase

    def close(self, event: HeightEvent) -> None:
        """Close the height (:data:`aethel.consensus.phases.HEIGHT`); it takes no other step."""
        self.phase = HEIGHT.next(self.phase, event)

    def _require_open(self, event: str) -> None:
        if self.phase is not HeightPhase.OPEN:
            raise IllegalTransition(HEIGHT.name, f"{self.phase} (height {self.height})", event)


@dataclass(slots=True)
class SyncState:
    """The sync phase (:data:`aethel.consensus.phases.SYNC`) and what it waits for."""

    phase: SyncPhase = SYNC.initial
    #: The height of the certificate the last sync was requested for (0: none known).
    target: int = 0
    #: The catch-up chain :meth:`aethel.consensus.syncing.SyncRules.check_sync` verified, kept
    #: for :meth:`aethel.consensus.syncing.SyncRules.on_sync_completed`.
    verified: VerifiedChain | None = None

    def step(self, event: SyncEvent, target: int = 0) -> None:
        """Move by ``event``; a request waits for ``target``, any other step forgets it."""
        self.phase = SYNC.next(self.phase, event)
        self.target = target


@dataclass(slots=True)
class EvidencePool:
    """Checked evidence waiting for a block, and the offences blocks already slashed."""

    pending: dict[SlashKey, Evidence] = field(default_factory=dict)
    slashed: set[SlashKey] = field(default_factory=set)

    def knows(self, key: SlashKey) -> bool:
        """Return True if ``key`` is pending or already slashed."""
        return key in self.pending or key in self.slashed


#: A message kept for a later height or view, with the transport peer it came from ("" when the
#: environment does not say).
Kept = tuple[str, Message]


@dataclass(slots=True)
class Inbox:
    """Messages of later heights, and of later views of the current height, kept until the
    replica gets there; bounded in all and per transport peer (N6).

    A peer's share is counted by the connection a message came over, not by the validator it
    names: a forger can name anyone, so a share by name would let it fill an honest validator's.
    Messages from an unnamed peer ("") count against the whole bound only (drivers that hand a
    replica messages without a transport, and the simulator, whose broadcasts are relayed).
    """

    later_heights: dict[int, list[Kept]] = field(default_factory=dict)
    #: view -> messages of the current height for that later view (dropped with the height).
    later_views: dict[int, list[Kept]] = field(default_factory=dict)
    count: int = 0
    by_peer: dict[str, int] = field(default_factory=dict)

    def keep(
        self, peer: str, message: Message, height: int, view: int | None, bound: int, share: int
    ) -> bool:
        """Keep ``message`` for ``height`` (or for ``view`` of the current height); return
        False, keeping nothing, when the bound or ``peer``'s share is full."""
        if self.count >= bound:
            return False
        if peer and self.by_peer.get(peer, 0) >= share:
            return False
        self.count += 1
        if peer:
            self.by_peer[peer] = self.by_peer.get(peer, 0) + 1
        kept = self.later_heights if view is None else self.later_views
        kept.setdefault(height if view is None else view, []).append((peer, message))
        return True

    def take_height(self, height: int) -> list[Kept]:
        """Remove and return what was kept for ``height``; drop what was kept for earlier ones."""
        for earlier in [h for h in self.later_heights if h < height]:
            self._release(self.later_heights.pop(earlier))
        return self._release(self.later_heights.pop(height, []))

    def take_view(self, view: int) -> list[Kept]:
        """Remove and return what was kept for ``view`` of the current height."""
        return self._release(self.later_views.pop(view, []))

    def drop_views(self, below: int | None = None) -> None:
        """Drop what was kept for the views below ``below`` (every view: the height closed)."""
        for view in [v for v in self.later_views if below is None or v < below]:
            self._release(self.later_views.pop(view))

    def _release(self, kept: list[Kept]) -> list[Kept]:
        self.count -= len(kept)
        by_peer = self.by_peer
        for peer, _ in kept:
            if peer:
                left = by_peer[peer] - 1
                if left:
                    by_peer[peer] = left
                else:
                    del by_peer[peer]
        return kept
