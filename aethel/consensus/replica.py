"""The sans-IO stake-weighted PBFT replica (spec/consensus.md): its entry points and routing.

Owns: N6 (messages of later heights and views are kept up to a bound, the rest dropped),
T22.2b (a batch of messages gives the outputs and state of processing them one at a time),
T22.2e (the counters of the work done).

Events in, outputs out (:mod:`aethel.consensus.events`); no clock, socket, thread or randomness.
:class:`Replica` combines one class per rule group, each in the module that owns its rules
(ARCHITECTURE.md, "The replica", maps every rule to its module):

* :mod:`aethel.consensus.proposals`: what the leader proposes and whether a block gets a vote;
* :mod:`aethel.consensus.voting`: PREPARE and COMMIT, certificates, committing;
  :mod:`aethel.consensus.journal` keeps this validator from signing twice;
* :mod:`aethel.consensus.certificates`: signature and certificate checks;
* :mod:`aethel.consensus.viewchange`: view changes and view synchronisation;
* :mod:`aethel.consensus.evidence_pool`: evidence found and gossiped;
* :mod:`aethel.consensus.timing`: latency samples and view timers;
* :mod:`aethel.consensus.syncing`: catching up by verified state sync.

Its state is :class:`aethel.consensus.replica_core.ReplicaCore`'s: the chain position, the
:class:`~aethel.consensus.replica_state.HeightState` of the height being decided (replaced when
the height closes) and the long-lived parts. The phases a height, its views and the replica go
through are the tables of :mod:`aethel.consensus.phases`; a step outside them raises.

This module routes messages by height and view: one for the current height and view is
dispatched to its rule group, one for an earlier height is stale (a VIEW-CHANGE from a validator
still there gets the height's certificate, :mod:`aethel.consensus.syncing`), and one for a later
height or view is buffered and replayed when the replica gets there, up to
:attr:`~aethel.consensus.replica_config.ReplicaConfig.max_heights_ahead`, ``max_views_ahead``
and ``max_buffered``.
"""

from __future__ import annotations

from collections.abc import Sequence

from aethel.consensus.certificates import CertificateChecks
from aethel.consensus.events import (
    Committed,
    Event,
    MessageReceived,
    Output,
    Start,
    SyncCompleted,
    Timer,
    TimerFired,
)
from aethel.consensus.evidence import Evidence
from aethel.consensus.evidence_pool import EvidenceRules
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
from aethel.consensus.phases import HeightEvent
from aethel.consensus.proposals import ProposalRules
from aethel.consensus.replica_state import Proposal
from aethel.consensus.signing import SignatureItem
from aethel.consensus.syncing import SyncRules
from aethel.consensus.timing import TimingRules
from aethel.consensus.viewchange import ViewChangeRules
from aethel.consensus.voting import VotingRules
from aethel.errors import UsageError

__all__ = ["Replica"]

#: The method of its rule group that each consensus message goes to, by the message's type.
#: Looked up on the replica, so a subclass that overrides a handler has its own called.
_HANDLERS: dict[type[Message], str] = {
    Prepare: "_on_prepare",
    Commit: "_on_commit",
    PrePrepare: "_on_pre_prepare",
    PrepareCertificate: "_on_prepare_certificate",
    CommitCertificate: "_on_commit_certificate",
    ViewChange: "_on_view_change",
    NewView: "_on_new_view",
    Evidence: "_on_evidence",
}


class Replica(
    ProposalRules,
    VotingRules,
    ViewChangeRules,
    SyncRules,
    EvidenceRules,
    TimingRules,
    CertificateChecks,
):
    """One validator's consensus state machine (see the module docstring)."""

    # ------------------------------------------------------------------ entry points

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
        if self.config.sync_on_start or self.amnesia.waiting:
            # An amnesic replica learns where the chain is from the peers' latest certificate:
            # an old one (a helper's) would set its minimum vote height too low.
            self._request_start_sync()
        if self.current.established:
            self._enter_view()
        else:  # resumed while waiting for a view: keep waiting, re-send the request
            self._resend_view_change()
        return self._flush()

    def on_message(self, message: Message, now: int, sender: str = "") -> list[Output]:
        """Process one received message (invalid signatures are dropped).

        ``sender`` is the transport peer it came over ("" if the environment does not say):
        what this replica keeps for later heights and views is shared out by it (N6).
        """
        self._now = now
        self.stats.count_message(message)
        self._dispatch_from(sender, message)
        return self._flush()

    def on_timer(self, timer: Timer, now: int) -> list[Output]:
        """Process an expired timer: propose, or time the current view out.

        A view timer of the current view starts a view change if the view is established,
        and re-sends this validator's VIEW-CHANGE if it is still waiting for it
        (:meth:`aethel.consensus.viewchange.ViewChangeRules._on_view_timeout`).
        """
        self._now = now
        if timer.kind == "propose":
            self._on_propose_timer(timer)
        elif timer.height == self.height and timer.view == self.view:
            self._on_view_timeout()
        return self._flush()

    def get_performance_stats(self) -> dict[str, object]:
        """Return counters of the work done (T22.2e)."""
        return self.stats.as_dict(
            height=self.height,
            view=self.view,
            observed_latency_ns=self.observed_latency(),
            buffered=self.inbox.count,
            evidence_pending=len(self.evidence.pending),
        )

    # ------------------------------------------------------------------ batches (T22.2b)

    def add_message_to_batch(self, message: Message, sender: str = "") -> None:
        """Queue ``message`` for the next :meth:`flush_message_batch`."""
        self._batch.append((message, sender))

    def flush_message_batch(self, now: int) -> list[Output]:
        """Process every queued message in order and return all outputs."""
        batch, self._batch = self._batch, []
        return self.batch_process_messages([m for m, _ in batch], now, [s for _, s in batch])

    def batch_process_messages(
        self, messages: Sequence[Message], now: int, senders: Sequence[str] | None = None
    ) -> list[Output]:
        """Process ``messages`` in order (``senders``: the transport peer of each, as for
        :meth:`on_message`), checking their signatures in one batch first.

        The outputs and the final state equal those of calling :meth:`on_message` on each in
        turn: the batch check only precomputes a pure function. Signatures of messages that
        one-at-a-time processing would skip are checked too (the cost of batching), and every
        signature the batch checked counts in ``signatures_checked`` (T22.2e).
        """
        items: list[SignatureItem] = []
        for message in messages:
            items.extend(self._signature_items(message))
        unique = list(dict.fromkeys(items))
        verdicts = self.services.checker.verify_batch(unique, None)
        self._preverified = dict(zip(unique, verdicts, strict=True))
        self.stats.signatures_checked += len(unique)
        self.stats.batches += 1
        self.stats.batched_messages += len(messages)
        outputs: list[Output] = []
        try:
            for message, sender in zip(messages, senders or [""] * len(messages), strict=True):
                outputs.extend(self.on_message(message, now, sender))
        finally:
            self._preverified = {}
        return outputs

    # ------------------------------------------------------------------ routing (N6)

    def _dispatch(self, message: Message) -> None:
        handler = _HANDLERS.get(type(message))
        if handler is None:  # an object that is no consensus message (unreachable when typed)
            self.stats.rejected += 1
            return
        getattr(self, handler)(message)

    def _dispatch_from(self, peer: str, message: Message, *, route_only: bool = False) -> None:
        """Dispatch ``message`` (or, with ``route_only``, only route it by its height) as having
        come over ``peer``: kept again for later, it counts against that peer's share (N6)."""
        outer, self._peer = self._peer, peer
        try:
            if route_only:
                self._route(message, message.height, None)
            else:
                self._dispatch(message)
        finally:
            self._peer = outer

    def _route(self, message: Message, height: int, view: int | None) -> bool:
        """Return True if ``message`` is for now; buffer or drop it otherwise."""
        if height < self.height:
            self.stats.stale += 1
            if isinstance(message, ViewChange):
                self._on_stale_view_change(message)
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

    def _buffer(self, message: Message, height: int, view: int | None = None) -> None:
        config = self.config
        if not self.inbox.keep(
            self._peer, message, height, view, config.max_buffered, config.max_buffered_per_peer
        ):
            self.stats.dropped += 1

    def _replay_future(self) -> None:
        for peer, message in self.inbox.take_height(self.height):
            # A commit above may have moved us on: the rest is routed by its height again.
            self._dispatch_from(peer, message, route_only=message.height != self.height)

    # ------------------------------------------------------------------ heights

    def _enter_view(self) -> None:
        """Start the current view's timer (and the leader's proposal timer in view 0); replay
        the messages that waited for the view."""
        self._arm_view_timer()
        self._arm_propose_timer()
        for peer, message in self.inbox.take_view(self.view):
            self._dispatch_from(peer, message)

    def _open_height(self) -> None:
        """Open the height the chain position names, in view 0; replay what waited for it.

        The closed height's messages for its later views go with it, and leave the bound of
        buffered messages (N6): they would otherwise hold places in it for ever.
        """
        self.inbox.drop_views()
        self.current = self._height_state()
        self._height_started = self._now
        self._enter_view()
        self._replay_future()

    def _commit(self, cert: CommitCertificate, proposal: Proposal) -> None:
        """Commit ``proposal`` on ``cert``: persist it (one atomic write), announce it, and open
        the next height with the stakes the block's transition left."""
        block, execution = proposal.block, proposal.execution
        self.services.store.commit_height(block, cert, execution)
        self.services.source.on_commit(block)
        self._sample_latency(cert.view, "commit")
        self.stats.commits += 1
        self._out.append(
            Committed(
                self.height, cert.view, block, cert, execution, self._now, self._height_started
            )
        )
        self._applied(block)
        self._set_min_vote_height(self.height + 2)
        self.current.close(HeightEvent.COMMIT)
        self.parent = cert.digest
        self.state_root = cert.post_root
        self.last_certificate = cert
        self.parent_validators = self.validators
        if execution.stakes:
            self.validators = self.validators.with_stakes(execution.stakes)
        self.height += 1
        self._caught_up()
        self._open_height()
