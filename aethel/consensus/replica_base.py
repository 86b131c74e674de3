"""The replica's state, plumbing and public API; the protocol rules live in subclasses.

:class:`ReplicaBase` holds what every rule needs: the chain position, the vote collectors, the
buffers, the signature and certificate checks, the vote journal and the evidence pool, and the
sans-IO entry points. :class:`aethel.consensus.viewchange.ViewChangeRules` adds view changes
and :class:`aethel.consensus.replica.Replica` the normal case (spec/consensus.md).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from aethel.consensus.block import GENESIS_PARENT, ProofBlock
from aethel.consensus.block_rules import MAX_BLOCK_EVIDENCE
from aethel.consensus.catchup import ChainLink, VerifiedChain, verify_certified_chain
from aethel.consensus.events import (
    Broadcast,
    Event,
    EvidenceFound,
    Log,
    MessageReceived,
    Output,
    RequestSync,
    Send,
    Start,
    SyncCompleted,
    Timer,
    TimerFired,
)
from aethel.consensus.evidence import Evidence, check_evidence
from aethel.consensus.interfaces import (
    BlockSource,
    BlockValidator,
    BlockVerdict,
    ChainStore,
    Execution,
    Executor,
)
from aethel.consensus.messages import (
    Commit,
    CommitCertificate,
    Message,
    NewView,
    Prepare,
    PrepareCertificate,
    PrePrepare,
    SignedMessage,
    ViewChange,
)
from aethel.consensus.signing import SignatureChecker, SignatureItem, Signer
from aethel.consensus.stats import ReplicaStats
from aethel.consensus.timeouts import compute_timeout
from aethel.consensus.validators import ValidatorSet
from aethel.consensus.viewsync import ViewTally
from aethel.consensus.votes import AddResult, VoteCollector, check_certificate
from aethel.errors import ProtocolViolation, UsageError

#: The vote journal holds, at this height (above any the chain reaches, so never pruned), the
#: amnesia record of a replica restarted without its journal: one entry per minimum vote height
#: it learned, as the view (0: none yet). A replica that crashes again before it catches up
#: finds it on restart and stays amnesic, instead of trusting a journal that misses the votes
#: signed before the first crash.
AMNESIA_HEIGHT = 2**62
AMNESIA_KIND = "min-vote-height"

Mode = Literal["broadcast", "collector"]
MODES: tuple[Mode, ...] = ("broadcast", "collector")


@dataclass(frozen=True, slots=True)
class ReplicaConfig:
    """Tunables of one replica (all protocol constants live in the spec modules)."""

    mode: Mode = "collector"
    #: Heights ahead of the current one whose messages are buffered.
    max_heights_ahead: int = 2
    #: Views ahead of the current one whose messages are buffered.
    max_views_ahead: int = 8
    #: Most buffered messages (bounded memory under flooding, N6).
    max_buffered: int = 100_000
    #: Most evidence items one block carries (at most MAX_BLOCK_EVIDENCE).
    max_block_evidence: int = MAX_BLOCK_EVIDENCE
    #: Latency samples kept for the adaptive timeout (R6.5).
    latency_window: int = 8
    #: The replica restarted without its vote journal: it votes only at heights it cannot have
    #: voted at before (the first certified height it learns of + 2).
    lost_journal: bool = False
    #: Ask the shell to sync to the peers' latest certified height on start (a node joining
    #: late or restarted without its state).
    sync_on_start: bool = False
    #: Least time between a commit and the next proposal (0: propose at once).
    block_interval_ns: int = 0


@dataclass(frozen=True, slots=True)
class Services:
    """The node services the core calls (see :mod:`aethel.consensus.interfaces`).

    ``certificates`` checks a whole certificate (defaults to
    :func:`aethel.consensus.votes.check_certificate` over ``checker``); a simulator passes one
    that memoizes the verdict on identical certificates and charges each node the CPU time.
    """

    checker: SignatureChecker
    validator: BlockValidator
    executor: Executor
    store: ChainStore
    source: BlockSource
    certificates: Callable[[PrepareCertificate | CommitCertificate, ValidatorSet], str] | None = (
        None
    )


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


class ReplicaBase:
    """One validator's consensus state (see :mod:`aethel.consensus.replica`)."""

    def __init__(
        self,
        signer: Signer,
        validators: ValidatorSet,
        services: Services,
        config: ReplicaConfig | None = None,
    ) -> None:
        if validators.get(signer.validator_id) is None and validators.total_stake <= 0:
            raise UsageError("empty validator set")
        self.config = config or ReplicaConfig()
        if self.config.mode not in MODES:
            raise UsageError(f"mode must be one of {MODES}, got {self.config.mode!r}")
        self.signer = signer
        self.id = signer.validator_id
        self.services = services
        self.validators = validators
        #: The epoch's signed set as it started: evidence is checked against it, so an offender
        #: slashed below the minimum stake (and out of ``validators``) stays accountable.
        self.epoch_validators = validators
        self.stats = ReplicaStats()
        self._out: list[Output] = []
        self._preverified: dict[SignatureItem, bool] = {}
        self._batch: list[tuple[Message, str]] = []
        self._latency: deque[int] = deque(maxlen=self.config.latency_window)
        self._verified_certs: set[bytes] = set()
        self._evidence_pool: dict[tuple[str, str, int], Evidence] = {}
        self._slashed_keys: set[tuple[str, str, int]] = set()
        self._future: dict[int, list[Message]] = {}
        self._buffered = 0
        self._sync_target = 0
        store = services.store
        marks = [v for v, kind in store.get_votes(AMNESIA_HEIGHT) if kind == AMNESIA_KIND]
        #: Restarted without its vote journal, now or before it caught up since (see above).
        self._lost_journal = self.config.lost_journal or bool(marks)
        self._min_vote_height = 0 if self.config.lost_journal else max(marks, default=0)
        if self.config.lost_journal:
            store.record_vote(AMNESIA_HEIGHT, 0, AMNESIA_KIND, b"")
        #: The catch-up chain verified by :meth:`check_sync`, kept for :meth:`on_sync_completed`.
        self._verified_sync: VerifiedChain | None = None
        latest = services.store.latest()
        #: The set of the parent height: the one that signed ``last_certificate`` (R2.3).
        self.parent_validators = validators
        if latest is None:
            self.height = 1
            self.parent = GENESIS_PARENT
            self.state_root = services.executor.genesis_root()
            self.last_certificate: CommitCertificate | None = None
        else:
            self.height = latest.height + 1
            self.parent = latest.digest
            self.state_root = latest.post_root
            self.last_certificate = latest.certificate
            self.parent_validators = self._get_set_of(latest.height)
            self._adopt_stakes()
        self._reset_height(0)

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

    def check_sync(
        self,
        certificate: CommitCertificate,
        block: ProofBlock,
        links: Sequence[ChainLink] = (),
    ) -> str:
        """Return "" if the state ``certificate`` vouches for may be adopted, else why (R3.1).

        ``links`` are the certified heights from this replica's height up to the one before
        ``certificate``'s (none when that is this height): each certificate is checked by the
        validator set of its own height, derived along the chain
        (:func:`aethel.consensus.catchup.verify_certified_chain`). A certificate of a later
        height is never trusted by the stakes known here. A shell calls this before it installs
        the snapshot; nothing changes here but the cached verdict.
        """
        if certificate.height < self.height:
            return "R3.1: the certified height is not after this replica's"
        chain = [(b, c) for b, c in links if self.height <= b.height < certificate.height]
        chain.append((block, certificate))
        try:
            verified = verify_certified_chain(
                self.validators, self.height, self.parent, chain, self._check_cert_by
            )
        except ProtocolViolation as exc:
            return f"{exc.rule_id}: {exc.detail}"
        self._verified_sync = verified
        return ""

    def on_sync_completed(
        self,
        certificate: CommitCertificate,
        block: ProofBlock,
        now: int,
        links: Sequence[ChainLink] = (),
    ) -> list[Output]:
        """Adopt the state the shell synced, once the chain to ``certificate`` verifies (R3.1).

        See :meth:`check_sync` for ``links``; without them only a certificate of this very
        height can be verified.
        """
        self._now = now
        if certificate.height < self.height or block.digest != certificate.digest:
            return self._flush()
        verified = self._verified_sync
        if verified is None or verified.certificate is not certificate:
            reason = self.check_sync(certificate, block, links)
            verified = self._verified_sync
            if reason or verified is None:
                self._log("warning", "sync-rejected", reason)
                self._sync_target = 0  # ask again on the next certificate of a later height
                return self._flush()
        self._verified_sync = None
        self.height = certificate.height + 1
        self.parent = certificate.digest
        self.state_root = certificate.post_root
        self.last_certificate = certificate
        self.parent_validators = verified.certifiers
        self._adopt_stakes()
        if self.validators.to_wire() != verified.validators.to_wire():
            self._log(
                "error", "state-divergence", "R4.3: the synced stakes differ from the chain's"
            )
        self._sync_target = 0
        self.stats.syncs += 1
        self._log("info", "synced", f"height {certificate.height}")
        self._reset_height(0)
        self._height_started = now
        self._enter_view(0)
        self._replay_future()
        return self._flush()

    # -- message batching (T22.2b): exactly the results of one-at-a-time processing.

    def get_performance_stats(self) -> dict[str, object]:
        """Return counters of the work done (T22.2e)."""
        return self.stats.as_dict(
            height=self.height,
            view=self.view,
            observed_latency_ns=self.observed_latency(),
            buffered=self._buffered,
            evidence_pending=len(self._evidence_pool),
        )

    def observed_latency(self) -> int:
        """Return the observed one-way latency estimate in ns (max of recent samples, R6.5)."""
        return max(self._latency, default=0)

    def current_timeout(self) -> int:
        """Return the timeout of the current view (R2.6, R6.5)."""
        return compute_timeout(self.observed_latency(), self.view)

    @property
    def is_leader(self) -> bool:
        """Return True if this replica leads the current (height, view)."""
        return self.validators.get_leader(self.height, self.view).id == self.id

    def _flush(self) -> list[Output]:
        out, self._out = self._out, []
        return out

    def _log(self, level: str, event: str, detail: str = "") -> None:
        self._out.append(Log(level, event, detail))

    def _verify(self, public_key: bytes, payload: bytes, signature: bytes) -> bool:
        item = (public_key, payload, signature)
        cached = self._preverified.get(item)
        if cached is not None:
            return cached
        self.stats.signatures_checked += 1
        return self.services.checker.verify(public_key, payload, signature)

    def _signed_by_member(self, message: SignedMessage) -> bool:
        member = self.validators.get(message.validator)
        return member is not None and self._verify(
            member.public_key, message.payload, message.signature
        )

    def _signature_items(self, message: Message) -> Iterable[SignatureItem]:
        if isinstance(message, Prepare | Commit | PrePrepare | ViewChange | NewView):
            member = self.validators.get(message.validator)
            if member is not None:
                yield (member.public_key, message.payload, message.signature)

    def _check_cert(
        self,
        cert: PrepareCertificate | CommitCertificate,
        validators: ValidatorSet | None = None,
    ) -> str:
        """Return "" if ``cert`` is valid by ``validators`` (default: this height's set), else why.

        Callers pass the set of the certificate's own height (R2.3), so a verdict cached by
        content stays the verdict of that set.
        """
        key = cert.content_hash
        if key in self._verified_certs:
            return ""
        reason = self._check_cert_by(cert, validators or self.validators)
        if not reason:
            self._verified_certs.add(key)
        return reason

    def _check_cert_by(
        self, cert: PrepareCertificate | CommitCertificate, validators: ValidatorSet
    ) -> str:
        self.stats.certificates_checked += 1
        self.stats.signatures_checked += len(cert.votes)
        certificates = self.services.certificates
        if certificates is not None:
            return certificates(cert, validators)
        return check_certificate(cert, validators, self.services.checker)

    def _is_catch_up_hint(self, cert: CommitCertificate) -> str:
        """Return "" if a later height's certificate is worth a sync request, else why (R3.1).

        A hint, never trust: validators holding more than a third of the stake known here
        signed COMMITs at that height, so one of them is honest and the height before it
        committed. Whether the certificate itself is valid is decided by the set of its own
        height, which only the chain up to it tells (:meth:`check_sync`).
        """
        seen: set[str] = set()
        items: list[SignatureItem] = []
        stake = 0
        for vote in cert.votes:
            member = self.validators.get(vote.validator)
            if (
                member is None
                or vote.validator in seen
                or (vote.height, vote.view, vote.digest, vote.post_root)
                != (cert.height, cert.view, cert.digest, cert.post_root)
            ):
                continue
            seen.add(vote.validator)
            stake += member.stake
            items.append((member.public_key, vote.payload, vote.signature))
        if 3 * stake <= self.validators.total_stake:
            return f"R3.1: signers of height {cert.height} hold {stake}, not over a third"
        self.stats.signatures_checked += len(items)
        if not all(self.services.checker.verify_batch(items, None)):
            return "R7.5: a certificate vote has a bad signature"
        return ""

    def _get_set_of(self, height: int) -> ValidatorSet:
        """Return the set of committed ``height`` from its pre-state (a restart, R2.3, R4.3).

        The pre-state of ``height`` is the post-state of the certificate before it (the genesis
        at height 1). A store that no longer holds it (a snapshot was installed at ``height``)
        leaves only the set after it, which differs only if block ``height`` slashed someone.
        """
        if height == 1:
            root: bytes | None = self.services.executor.genesis_root()
        else:
            previous = self.services.store.get_certificate(height - 1)
            root = None if previous is None else previous.post_root
        if root is None:
            return self._stakes_at(self.state_root)
        try:
            return self._stakes_at(root)
        except ProtocolViolation:
            return self._stakes_at(self.state_root)

    def _stakes_at(self, root: bytes) -> ValidatorSet:
        stakes = self.services.executor.get_stakes(root)
        base = self.epoch_validators
        return base.with_stakes({v: s for v, s in stakes.items() if base.stake_of(v) != s})

    def _leader_id(self, view: int) -> str:
        return self.validators.get_leader(self.height, view).id

    def _reset_height(self, view: int) -> None:
        self.view = view
        self.proposals: dict[int, Proposal] = {}
        self._executions: dict[bytes, tuple[BlockVerdict, Execution]] = {}
        self._rejected: set[bytes] = set()
        #: Blocks with an intrinsically invalid proof: votes for them are false claims (R1.5).
        self._invalid_blocks: dict[bytes, tuple[ProofBlock, int]] = {}
        self._prepares: dict[int, VoteCollector[Prepare]] = {}
        self._commits: dict[int, VoteCollector[Commit]] = {}
        self._view_changes: dict[int, VoteCollector[ViewChange]] = {}
        self._new_view_sent: set[int] = set()
        #: Who asked for which view of this height (view synchronisation, R2.5, R2.6).
        self._view_tally = ViewTally()
        #: The view's timer runs (view 0, or q(W) stake asked for it, or its NEW-VIEW came).
        self._established = view == 0
        #: Deadline of the latest timer set for this view: an earlier one is superseded.
        self._view_deadline = 0
        #: This validator's VIEW-CHANGE at this height (for the view it last asked for).
        self._own_view_change: ViewChange | None = None
        #: Whether every validator was sent (a copy of) it, not only the leader (collector mode).
        self._own_view_change_public = False
        self._prepared_views: set[int] = set()
        self.prepared: PrepareCertificate | None = None
        self._prepared_block: ProofBlock | None = None
        self._vote_sent_at: dict[tuple[int, str], int] = {}
        self._future_views: dict[int, list[Message]] = {}
        self._journal = dict(self.services.store.get_votes(self.height))
        #: validator -> when it was last sent a certificate of a height it lags at.
        self._helped: dict[str, int] = {}
        self._ahead: set[str] = set()
        self._asked_sync = False
        lock = self.services.store.get_lock(self.height)
        if lock is not None:  # a restart keeps the lock it voted COMMIT on (R2.6)
            self.prepared, self._prepared_block = lock

    def _adopt_stakes(self) -> None:
        stakes = self.services.executor.get_stakes(self.state_root)
        changed = {v: s for v, s in stakes.items() if self.validators.stake_of(v) != s}
        if changed:
            self.validators = self.validators.with_stakes(changed)

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

    def _note_ahead(self, message: Message, height: int) -> None:
        """Ask to be caught up once validators holding > W/3 stake are seen at later heights.

        More than a third of the stake includes an honest validator, so this height committed;
        if this replica missed the certificate (down, cut off), nobody may send it otherwise.
        It sends its VIEW-CHANGE of this height to those validators: a validator past a height
        answers a view change at that height with the height's certificate. It gives up its
        view for one only if it has not asked for a view yet (so this never runs views ahead
        of the others: R2.6's view synchronisation).
        """
        validator = getattr(message, "validator", None)
        if not isinstance(validator, str) or self._asked_sync:
            return
        self._ahead.add(validator)
        stake = sum(self.validators.stake_of(v) for v in self._ahead)
        if 3 * stake <= self.validators.total_stake:
            return
        self._asked_sync = True
        if self._own_view_change is None:
            self._start_view_change(self.view + 1)
        change = self._own_view_change
        if change is not None and change.height == self.height:
            for peer in sorted(self._ahead):
                if peer != self.id:
                    self._out.append(Send(peer, change))

    def _help_lagging(self, validator: str, height: int) -> None:
        """Send a validator still changing views at a committed height that height's commit
        certificate: it commits or syncs from it (R3.5). Without this, nodes that missed a
        commit while down would wait for a height that needs their votes.

        The lagging validator re-sends its VIEW-CHANGE while it waits (R2.6), so a certificate
        lost before GST is sent again; at most once per view-0 timeout per validator, so a
        Byzantine one flooding old VIEW-CHANGEs gets few certificates (N6).
        """
        if validator == self.id or self.validators.get(validator) is None:
            return
        last = self._helped.get(validator)
        if last is not None and self._now - last < compute_timeout(self.observed_latency(), 0):
            return
        certificate = self.services.store.get_certificate(height)
        if certificate is not None:
            self._helped[validator] = self._now
            self._out.append(Send(validator, certificate))

    def _set_min_vote_height(self, height: int) -> None:
        """Vote again only from ``height`` on (a replica without its journal), durably."""
        if self._lost_journal and self._min_vote_height == 0:
            self._min_vote_height = height
            self.services.store.record_vote(AMNESIA_HEIGHT, height, AMNESIA_KIND, b"")

    def _reject(self, rule_id: str, reason: str) -> None:
        self.stats.rejected += 1
        self._log("warning", "rejected", f"[{rule_id}] {reason}")

    def _may_vote(self, view: int, kind: str, key: bytes) -> bool:
        if self._lost_journal and self._min_vote_height == 0:
            return False  # until we learn where the chain is, any height may hold old votes
        if self.height < self._min_vote_height:
            return False
        prior = self._journal.get((view, kind))
        if prior is not None:
            return prior == key
        self._journal[(view, kind)] = key
        self.services.store.record_vote(self.height, view, kind, key)
        return True

    def _send_vote(self, vote: Prepare | Commit | ViewChange, leader: str) -> None:
        if self.config.mode == "broadcast":
            self._out.append(Broadcast(vote))
        elif leader != self.id:
            self._out.append(Send(leader, vote))
        self._vote_sent_at[(vote.view, vote.TYPE)] = self._now
        self.stats.votes_sent += 1
        if self.config.mode == "broadcast" or leader == self.id:
            self._dispatch_own(vote)

    def _dispatch_own(self, vote: Prepare | Commit | ViewChange) -> None:
        if isinstance(vote, Prepare):
            self._on_prepare(vote, trusted=True)
        elif isinstance(vote, Commit):
            self._on_commit(vote, trusted=True)
        else:
            self._on_view_change(vote, trusted=True)

    def _collector(self, table: dict[int, VoteCollector[Any]], view: int) -> VoteCollector[Any]:
        collector = table.get(view)
        if collector is None:
            collector = table[view] = VoteCollector(self.validators)
        return collector

    def _add_vote(
        self, table: dict[int, VoteCollector[Any]], vote: SignedMessage, trusted: bool
    ) -> AddResult:
        invalid = self._invalid_blocks.get(getattr(vote, "digest", b""))
        if invalid is not None and not trusted and self._signed_by_member(vote):
            self._report(Evidence.false_claim(self.signer, vote, *invalid))
        result: AddResult = self._collector(table, vote.view).add(vote, self._verify, trusted)
        if result.conflict is not None:
            self._report(Evidence.equivocation(self.signer, *result.conflict))
        elif result.reason.startswith("R"):
            self._reject(result.reason[:4], result.reason)
        return result

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

    def _on_evidence(self, evidence: Evidence) -> None:
        """Adopt gossiped evidence after checking it (R1.5, R8.5): the next leader includes it."""
        key = evidence.slash_key
        if key in self._evidence_pool or key in self._slashed_keys:
            return
        try:
            check_evidence(
                evidence,
                self.epoch_validators,
                self.services.checker,
                self.services.validator.is_proof_invalid,
            )
        except ProtocolViolation as exc:
            self._reject(exc.rule_id, f"invalid evidence: {exc.detail}")
            return
        self._evidence_pool[key] = evidence

    def _report(self, evidence: Evidence) -> None:
        key = evidence.slash_key
        if key in self._evidence_pool or key in self._slashed_keys:
            return
        self._evidence_pool[key] = evidence
        self._out.append(Broadcast(evidence))
        self.stats.evidence_found += 1
        self._out.append(
            EvidenceFound(evidence, evidence.offender, evidence.offence.value, evidence.height)
        )
        self._log("warning", "evidence", f"{evidence.offence.value} by {evidence.offender}")

    def _sample_latency(self, view: int, kind: str) -> None:
        """Record half the round trip from a vote to its certificate as a latency sample.

        A round trip longer than the view's timeout measured a failure (a partition, a view
        change), not the network: it is ignored, or timeouts would grow without bound (R6.5).
        """
        sent = self._vote_sent_at.get((view, kind))
        if sent is not None:
            round_trip = self._now - sent
            if round_trip < compute_timeout(self.observed_latency(), view):
                self._latency.append(round_trip // 2)

    # ------------------------------------------------------------------ rules (subclasses)

    def _on_pre_prepare(self, pp: PrePrepare) -> None:
        raise NotImplementedError

    def _accept_pre_prepare(self, pp: PrePrepare, trusted: bool) -> None:
        raise NotImplementedError

    def _on_prepare(self, vote: Prepare, trusted: bool = False) -> None:
        raise NotImplementedError

    def _on_commit(self, vote: Commit, trusted: bool = False) -> None:
        raise NotImplementedError

    def _on_prepare_certificate(self, cert: PrepareCertificate) -> None:
        raise NotImplementedError

    def _on_commit_certificate(self, cert: CommitCertificate) -> None:
        raise NotImplementedError

    def _learn_commit(self, cert: CommitCertificate) -> None:
        raise NotImplementedError

    def _on_view_change(self, vc: ViewChange, trusted: bool = False) -> None:
        raise NotImplementedError

    def _on_new_view(self, nv: NewView, trusted: bool = False) -> None:
        raise NotImplementedError

    def _start_view_change(self, view: int) -> None:
        raise NotImplementedError

    def _on_view_timeout(self) -> None:
        raise NotImplementedError

    def _resend_view_change(self) -> None:
        raise NotImplementedError

    def _enter_view(self, view: int) -> None:
        raise NotImplementedError

    def _propose(self) -> None:
        raise NotImplementedError

    def _build_block(self) -> ProofBlock:
        raise NotImplementedError
