"""The replica's public API and message routing; the rest lives in one module per concept.

:class:`ReplicaBase` combines the concept classes below and adds the sans-IO entry points
(:meth:`ReplicaBase.handle`), the routing of messages by height and view with bounded buffers
for later ones (N6), and the dispatch to the rules.
:class:`aethel.consensus.viewchange.ViewChangeRules` adds view changes and
:class:`aethel.consensus.replica.Replica` the normal case (spec/consensus.md).

Where a rule lives:

* :mod:`aethel.consensus.replica_config`: :class:`ReplicaConfig` and :class:`Services`;
* :mod:`aethel.consensus.replica_state`: the state, its setup on (re)start from the chain store,
  the validator set of each height (R2.3, R4.3), the lock kept across a restart (R2.6) and the
  amnesia record of a replica restarted without its vote journal (R2.4, R4.2);
* :mod:`aethel.consensus.replica_checks`: signature and certificate checks (R2.3, R7.5);
* :mod:`aethel.consensus.replica_timing`: latency samples and the view timeout (R2.6, R6.5);
* :mod:`aethel.consensus.replica_evidence`: the evidence pool (R1.5, R4.2, R8.5);
* :mod:`aethel.consensus.replica_votes`: the vote journal, sending and collecting votes, and the
  evidence collecting finds (R1.5, R2.4, R4.2);
* :mod:`aethel.consensus.replica_sync`: catching up by verified state sync, and sending
  lagging validators the certificate they miss (R3.1, R3.5);
* :mod:`aethel.consensus.viewchange` and :mod:`aethel.consensus.viewsync`: view changes and
  view synchronisation (R2.5, R2.6);
* :mod:`aethel.consensus.replica`: proposals, PREPARE/COMMIT and commits (R1.1, R2.3, R3.2).
"""

from __future__ import annotations

from aethel.consensus.events import (
    Event,
    MessageReceived,
    Output,
    RequestSync,
    Start,
    SyncCompleted,
    Timer,
    TimerFired,
)
from aethel.consensus.evidence import Evidence
from aethel.consensus.messages import (
    Commit,
    CommitCertificate,
    Message,
    NewView,
    Prepare,
    PrepareCertificate,
    PrePrepare,
    ViewChange,
)
from aethel.consensus.replica_checks import CertificateChecks
from aethel.consensus.replica_config import MODES, Mode, ReplicaConfig, Services
from aethel.consensus.replica_evidence import EvidencePool
from aethel.consensus.replica_state import Proposal
from aethel.consensus.replica_sync import SyncRules
from aethel.consensus.replica_timing import LatencyTracker
from aethel.consensus.replica_votes import VoteRules
from aethel.errors import UsageError

__all__ = ["MODES", "Mode", "Proposal", "ReplicaBase", "ReplicaConfig", "Services"]


class ReplicaBase(SyncRules, VoteRules, EvidencePool, CertificateChecks, LatencyTracker):
    """One validator's consensus state (see :mod:`aethel.consensus.replica`)."""

    def handle(self, event: Event) -> list[Output]:
        """Process one event and return the outputs it produced."""
        if isinstance(event, MessageReceived):
            return self.on_message(event.message, event.now, event.sender)
        if isinstance(event, TimerFired):
            return self.on_timer(event.timer, event.now)
        if isinstance(event, Start):
            return self.start(event.now)
        if isinstance(event, SyncCompleted):
            return self.on_sync_completed(event.certificate, event.block, event.now, event.links)
        raise UsageError(f"unknown event {event!r}")

    def start(self, now: int) -> list[Output]:
        """Start (or restart) at ``now``: set the view timer; propose if leader."""
        self._now = now
        self._height_started = now
        if self.config.sync_on_start or (self._lost_journal and self._min_vote_height == 0):
            # An amnesic replica learns where the chain is from the peers' latest certificate:
            # an old one (a helper's) would set its minimum vote height too low.
            self._out.append(RequestSync(None, self.height))
        if self._established:
            self._enter_view(self.view)
        else:  # resumed while waiting for a view (R2.6): keep waiting, re-send the request
            self._resend_view_change()
        return self._flush()

    def on_message(self, message: Message, now: int, sender: str = "") -> list[Output]:
        """Process one received message (R7.5: invalid signatures are dropped)."""
        self._now = now
        self.stats.count_message(message)
        self._dispatch(message)
        return self._flush()

    def on_timer(self, timer: Timer, now: int) -> list[Output]:
        """Process an expired timer: propose, or time the current view out (R2.6).

        A view timer of the current view starts a view change if the view is established,
        and re-sends this validator's VIEW-CHANGE if it is still waiting for it
        (:meth:`aethel.consensus.viewchange.ViewChangeRules._on_view_timeout`).
        """
        self._now = now
        if timer.kind == "propose":
            current = (timer.height, timer.view) == (self.height, self.view)
            if current and self.is_leader and self.view not in self.proposals:
                self._propose()
        elif timer.height == self.height and timer.view == self.view:
            self._on_view_timeout()
        return self._flush()

    def get_performance_stats(self) -> dict[str, object]:
        """Return counters of the work done (T22.2e)."""
        return self.stats.as_dict(
            height=self.height,
            view=self.view,
            observed_latency_ns=self.observed_latency(),
            buffered=self._buffered,
            evidence_pending=len(self._evidence_pool),
        )

    def _buffer(self, message: Message, height: int, view: int | None = None) -> None:
        if self._buffered >= self.config.max_buffered:
            self.stats.dropped += 1
            return
        self._buffered += 1
        if view is None:
            self._future.setdefault(height, []).append(message)
        else:
            self._future_views.setdefault(view, []).append(message)

    def _dispatch(self, message: Message) -> None:
        if isinstance(message, Prepare):
            self._on_prepare(message)
        elif isinstance(message, Commit):
            self._on_commit(message)
        elif isinstance(message, PrePrepare):
            self._on_pre_prepare(message)
        elif isinstance(message, PrepareCertificate):
            self._on_prepare_certificate(message)
        elif isinstance(message, CommitCertificate):
            self._on_commit_certificate(message)
        elif isinstance(message, ViewChange):
            self._on_view_change(message)
        elif isinstance(message, NewView):
            self._on_new_view(message)
        elif isinstance(message, Evidence):
            self._on_evidence(message)
        else:  # an object that is no consensus message (unreachable for typed callers)
            self.stats.rejected += 1  # type: ignore[unreachable]

    def _route(self, message: Message, height: int, view: int | None) -> bool:
        """Return True if ``message`` is for now; buffer or drop it otherwise."""
        if height < self.height:
            self.stats.stale += 1
            if isinstance(message, ViewChange):
                self._help_lagging(message.validator, height)
            return False
        if height > self.height:
            self._note_ahead(message, height)
            if height <= self.height + self.config.max_heights_ahead:
                self._buffer(message, height)
            else:
                self.stats.dropped += 1
            return False
        if view is not None and view > self.view:
            if view <= self.view + self.config.max_views_ahead:
                self._buffer(message, height, view)
            else:
                self.stats.dropped += 1
            return False
        return True

    def _replay_future(self) -> None:
        for height in sorted(self._future):
            if height < self.height:
                self._buffered -= len(self._future.pop(height))
        messages = self._future.pop(self.height, [])
        self._buffered -= len(messages)
        for message in messages:
            if message.height != self.height:  # a commit above moved us on
                self._route(message, message.height, None)
                continue
            self._dispatch(message)
