"""The sans-IO stake-weighted PBFT replica (spec/consensus.md).

Events in, outputs out (:mod:`aethel.consensus.events`); no clock, socket, thread or randomness.

Rules the replica keeps, per height h and view v:

* The leader of (h, v) is drawn by stake (:meth:`ValidatorSet.get_leader`). At v = 0 it sends
  PRE-PREPARE(block); at v > 0 it sends NEW-VIEW, which carries the PRE-PREPARE (R2.6).
* A validator verifies the proposer's signature, the parent certificate, the evidence and every
  proof of the block (BlockValidator) before it votes (R1.1, P1); it executes the block to learn
  the post-state root. A block with an invalid proof gets no vote; the signed proposal of it is
  false-claim evidence (R1.5).
* PREPARE for the accepted digest; on q(W) PREPARE stake (a prepare certificate) the validator is
  *prepared* and locks on (v, digest); then COMMIT(digest, post_root). q(W) COMMIT stake for one
  (digest, root) is a commit certificate: the height commits, is persisted atomically through the
  ChainStore (R5.4), and the next height starts (R2.3, R2.4, R3.2).
* ``broadcast`` mode sends votes to everyone and each validator assembles its own certificates;
  ``collector`` mode sends votes to the leader of the view, which broadcasts the certificates
  (linear message count). The safety rules are identical.
* One vote per (h, v, phase) per validator counts; a conflicting signed vote is equivocation
  evidence (R4.2). Every vote is journaled in the store before it is sent, so a restarted
  validator never signs a conflicting one.
* When the view timer expires: VIEW-CHANGE to the next view with the highest prepare certificate;
  timeouts come from :func:`compute_timeout` of the observed latency with exponential backoff per
  view (R2.6, R6.5). In broadcast mode, VIEW-CHANGEs from > W/3 stake for higher views pull a
  validator along (PBFT's join rule).
* Messages from later heights are buffered (bounded); a commit certificate for a height the
  replica cannot apply makes it ask the shell for a verified state sync (R3.1, R3.5).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from aethel.consensus.block import GENESIS_PARENT, ProofBlock
from aethel.consensus.events import (
    Broadcast,
    Committed,
    Event,
    EvidenceFound,
    Log,
    MessageReceived,
    Output,
    RequestSync,
    Send,
    SetTimer,
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
from aethel.consensus.viewchange import check_new_view, check_view_change_claim, select_view_changes
from aethel.consensus.votes import AddResult, VoteCollector, check_certificate, minimal_quorum
from aethel.errors import ProtocolViolation, UsageError

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
    #: Most evidence items one block carries.
    max_block_evidence: int = 16
    #: Latency samples kept for the adaptive timeout (R6.5).
    latency_window: int = 8
    #: The replica restarted without its vote journal: it votes only at heights it cannot have
    #: voted at before (the first certified height it learns of + 2).
    lost_journal: bool = False
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


class Replica:
    """One validator's consensus state machine (see the module docstring)."""

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
        self._min_vote_height = 0
        latest = services.store.latest()
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
            self._adopt_stakes()
        self._reset_height(0)

    # ------------------------------------------------------------------ public API

    def handle(self, event: Event) -> list[Output]:
        """Process one event and return the outputs it produced."""
        if isinstance(event, MessageReceived):
            return self.on_message(event.message, event.now, event.sender)
        if isinstance(event, TimerFired):
            return self.on_timer(event.timer, event.now)
        if isinstance(event, Start):
            return self.start(event.now)
        if isinstance(event, SyncCompleted):
            return self.on_sync_completed(event.certificate, event.block, event.now)
        raise UsageError(f"unknown event {event!r}")

    def start(self, now: int) -> list[Output]:
        """Start (or restart) at ``now``: set the view timer; propose if leader."""
        self._now = now
        self._height_started = now
        self._enter_view(self.view)
        return self._flush()

    def on_message(self, message: Message, now: int, sender: str = "") -> list[Output]:
        """Process one received message (R7.5: invalid signatures are dropped)."""
        self._now = now
        self.stats.count_message(message)
        self._dispatch(message)
        return self._flush()

    def on_timer(self, timer: Timer, now: int) -> list[Output]:
        """Process an expired view timer: start a view change if still in that view (R2.6)."""
        self._now = now
        if timer.kind == "propose":
            current = (timer.height, timer.view) == (self.height, self.view)
            if current and self.is_leader and self.view not in self.proposals:
                self._propose()
        elif timer.height == self.height and timer.view == self.view:
            self.stats.timeouts += 1
            self._start_view_change(self.view + 1)
        return self._flush()

    def on_sync_completed(
        self, certificate: CommitCertificate, block: ProofBlock, now: int
    ) -> list[Output]:
        """Adopt the state the shell synced (verified against ``certificate``, R3.1)."""
        self._now = now
        if certificate.height < self.height or block.digest != certificate.digest:
            return self._flush()
        reason = self._check_cert(certificate)
        if reason:
            self._log("warning", "sync-rejected", reason)
            return self._flush()
        self.height = certificate.height + 1
        self.parent = certificate.digest
        self.state_root = certificate.post_root
        self.last_certificate = certificate
        self._adopt_stakes()
        self._sync_target = 0
        self.stats.syncs += 1
        self._log("info", "synced", f"height {certificate.height}")
        self._reset_height(0)
        self._height_started = now
        self._enter_view(0)
        self._replay_future()
        return self._flush()

    # -- message batching (T22.2b): exactly the results of one-at-a-time processing.

    def add_message_to_batch(self, message: Message, sender: str = "") -> None:
        """Queue ``message`` for the next :meth:`flush_message_batch`."""
        self._batch.append((message, sender))

    def flush_message_batch(self, now: int) -> list[Output]:
        """Process every queued message in order and return all outputs."""
        batch, self._batch = self._batch, []
        return self.batch_process_messages([m for m, _ in batch], now)

    def batch_process_messages(self, messages: Sequence[Message], now: int) -> list[Output]:
        """Process ``messages`` in order, checking their signatures in one batch first.

        The outputs and the final state equal those of calling :meth:`on_message` on each in
        turn: the batch check only precomputes a pure function. Signatures of messages that
        one-at-a-time processing would skip are checked too (the cost of batching).
        """
        items: list[SignatureItem] = []
        for message in messages:
            items.extend(self._signature_items(message))
        unique = list(dict.fromkeys(items))
        verdicts = self.services.checker.verify_batch(unique, None)
        self._preverified = dict(zip(unique, verdicts, strict=True))
        self.stats.batches += 1
        self.stats.batched_messages += len(messages)
        outputs: list[Output] = []
        try:
            for message in messages:
                outputs.extend(self.on_message(message, now))
        finally:
            self._preverified = {}
        return outputs

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

    # ------------------------------------------------------------------ plumbing

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

    def _check_cert(self, cert: PrepareCertificate | CommitCertificate) -> str:
        key = cert.content_hash
        if key in self._verified_certs:
            return ""
        self.stats.certificates_checked += 1
        self.stats.signatures_checked += len(cert.votes)
        certificates = self.services.certificates
        if certificates is not None:
            reason = certificates(cert, self.validators)
        else:
            reason = check_certificate(cert, self.validators, self.services.checker)
        if not reason:
            self._verified_certs.add(key)
        return reason

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
        self._prepared_views: set[int] = set()
        self.prepared: PrepareCertificate | None = None
        self._prepared_block: ProofBlock | None = None
        self._vote_sent_at: dict[tuple[int, str], int] = {}
        self._future_views: dict[int, list[Message]] = {}
        self._journal = dict(self.services.store.get_votes(self.height))

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

    # ------------------------------------------------------------------ dispatch

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
            return False
        if height > self.height:
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

    # ------------------------------------------------------------------ proposals

    def _enter_view(self, view: int) -> None:
        self.view = view
        deadline = self._now + compute_timeout(self.observed_latency(), view)
        self._out.append(SetTimer(Timer(self.height, view), deadline))
        if view == 0 and self.is_leader and 0 not in self.proposals:
            proposal_at = self._now + self.config.block_interval_ns
            self._out.append(SetTimer(Timer(self.height, 0, "propose"), proposal_at))
        for message in self._future_views.pop(view, []):
            self._buffered -= 1
            self._dispatch(message)

    def _build_block(self) -> ProofBlock:
        transactions, proofs = self.services.source.select(self.height, self.state_root)
        slashed = self.services.executor.is_slashed
        evidence = [
            e
            for key, e in sorted(self._evidence_pool.items())
            if key not in self._slashed_keys
            and e.height < self.height
            and not slashed(self.state_root, key)
        ][: self.config.max_block_evidence]
        return ProofBlock.create(
            self.signer,
            self.height,
            self.parent,
            transactions,
            proofs,
            evidence,
            self.last_certificate,
        )

    def _propose(self) -> None:
        block = self._build_block()
        pre_prepare = PrePrepare.create(self.signer, self.view, block)
        self.stats.proposals += 1
        self._out.append(Broadcast(pre_prepare))
        # The leader checks its own block like everyone else, as a message to itself (handled
        # after the broadcast has left: spec/performance.md, "a message to oneself").
        self._out.append(Send(self.id, pre_prepare))

    def _on_pre_prepare(self, pp: PrePrepare) -> None:
        if pp.height > self.height and pp.block.last_commit is not None:
            self._learn_commit(pp.block.last_commit)
        if not self._route(pp, pp.height, pp.view):
            return
        if pp.view < self.view:
            self.stats.stale += 1
            return
        if pp.view > 0:
            # A proposal after a view change is valid only inside its NEW-VIEW (R2.6).
            self.stats.rejected += 1
            return
        self._accept_pre_prepare(pp, trusted=False)

    def _accept_pre_prepare(self, pp: PrePrepare, trusted: bool) -> None:
        leader = self.validators.get_leader(self.height, pp.view)
        if pp.leader != leader.id:
            self._reject("R2.6", f"pre-prepare from {pp.leader}, leader is {leader.id}")
            return
        existing = self.proposals.get(pp.view)
        if existing is not None or pp.digest in self._rejected:
            if existing is not None and existing.digest != pp.digest and self._signed_by_member(pp):
                self._report(Evidence.equivocation(self.signer, existing.pre_prepare, pp))
            return
        if not trusted and not self._verify(leader.public_key, pp.payload, pp.signature):
            self._reject("R7.5", "bad pre-prepare signature")
            return
        reason = self._check_block(pp)
        if reason:
            self._rejected.add(pp.digest)
            self._reject(reason.split(":", 1)[0], reason)
            return
        cached = self._executions.get(pp.digest)
        if cached is None:
            # R1.1: every proof is verified before this validator votes for the block.
            verdict = self.services.validator.validate_block(pp.block, self.state_root)
            self.stats.blocks_validated += 1
            self.stats.proofs_checked += len(verdict.checks)
            if not verdict.valid:
                self._rejected.add(pp.digest)
                index = verdict.invalid_proof
                if index is not None:
                    self._invalid_blocks[pp.digest] = (pp.block, index)
                    self._report(Evidence.false_claim(self.signer, pp, pp.block, index))
                self._reject(verdict.rule_id or "R1.1", verdict.reason)
                return
            try:
                execution = self.services.executor.execute(
                    pp.block, verdict, self.state_root, self.validators
                )
            except ProtocolViolation as exc:  # the transition breaks a book: reject the block
                self._rejected.add(pp.digest)
                self._reject(exc.rule_id, exc.detail)
                return
            cached = (verdict, execution)
            self._executions[pp.digest] = cached
        self.proposals[pp.view] = Proposal(pp, cached[0], cached[1])
        if pp.view == self.view:
            self._send_prepare(pp.view, pp.digest)
        self._check_prepare_quorum(pp.view)
        self._check_commit_quorums()

    def _check_block(self, pp: PrePrepare) -> str:
        block = pp.block
        if block.digest != pp.digest or block.height != self.height:
            return "R2.3: the block does not match the pre-prepare"
        if block.parent != self.parent:
            return "R3.3: the block does not extend the committed chain"
        proposer = self.validators.get(block.proposer)
        if proposer is None:
            return f"R4.3: proposer {block.proposer} is not a validator"
        if pp.view == 0 and block.proposer != pp.leader:
            return "R2.6: a fresh block is proposed by its own proposer"
        if not self._verify(proposer.public_key, block.payload, block.signature):
            return "R7.5: bad block signature"
        cert = block.last_commit
        if self.height == 1:
            if cert is not None:
                return "R2.3: the first block has no parent certificate"
        else:
            if cert is None or cert.height != self.height - 1 or cert.digest != self.parent:
                return "R2.3: the block lacks the parent's commit certificate"
            if cert.post_root != self.state_root:
                return "R3.2: the parent certificate vouches for another state root"
            reason = self._check_cert(cert)
            if reason:
                return reason
        keys = set()
        for evidence in block.evidence:
            if evidence.slash_key in keys or self.services.executor.is_slashed(
                self.state_root, evidence.slash_key
            ):
                return "R4.2: evidence already slashed or repeated"
            keys.add(evidence.slash_key)
            if evidence.height >= self.height:
                return "R4.2: evidence from the current height or later"
            try:
                check_evidence(
                    evidence,
                    self.validators,
                    self.services.checker,
                    self.services.validator.is_proof_invalid,
                )
            except ProtocolViolation as exc:
                return f"{exc.rule_id}: invalid evidence ({exc.detail})"
        return ""

    def _reject(self, rule_id: str, reason: str) -> None:
        self.stats.rejected += 1
        self._log("warning", "rejected", f"[{rule_id}] {reason}")

    # ------------------------------------------------------------------ votes

    def _may_vote(self, view: int, kind: str, key: bytes) -> bool:
        if self.config.lost_journal and self._min_vote_height == 0:
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

    def _send_prepare(self, view: int, digest: bytes) -> None:
        if self._may_vote(view, "prepare", digest):
            self._send_vote(
                Prepare.create(self.signer, self.height, view, digest), self._leader_id(view)
            )

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

    def _on_prepare(self, vote: Prepare, trusted: bool = False) -> None:
        if not self._route(vote, vote.height, vote.view):
            return
        if vote.view < self.view:
            self.stats.stale += 1
            return
        if self.config.mode == "collector" and self._leader_id(vote.view) != self.id:
            return
        if self._add_vote(self._prepares, vote, trusted).counted:
            self._check_prepare_quorum(vote.view)

    def _check_prepare_quorum(self, view: int) -> None:
        proposal = self.proposals.get(view)
        collector = self._prepares.get(view)
        if proposal is None or collector is None or view in self._prepared_views:
            return
        if not collector.has_quorum((proposal.digest,)):
            return
        votes = minimal_quorum(collector.votes_for((proposal.digest,)), self.validators)
        cert = PrepareCertificate(self.height, view, proposal.digest, votes)
        self._verified_certs.add(cert.content_hash)
        if self.config.mode == "collector":
            self._out.append(Broadcast(cert))
        self._on_prepared(cert)

    def _on_prepare_certificate(self, cert: PrepareCertificate) -> None:
        if not self._route(cert, cert.height, cert.view):
            return
        if cert.view != self.view or cert.view in self._prepared_views:
            return
        proposal = self.proposals.get(cert.view)
        if proposal is None or proposal.digest != cert.digest:
            return
        reason = self._check_cert(cert)
        if reason:
            self._reject(reason[:4], reason)
            return
        self._on_prepared(cert)

    def _on_prepared(self, cert: PrepareCertificate) -> None:
        self._prepared_views.add(cert.view)
        proposal = self.proposals[cert.view]
        if self.prepared is None or cert.view > self.prepared.view:
            self.prepared = cert
            self._prepared_block = proposal.block
        self._sample_latency(cert.view, "prepare")
        if cert.view == self.view and self._may_vote(
            cert.view, "commit", cert.digest + proposal.execution.post_root
        ):
            vote = Commit.create(
                self.signer, self.height, cert.view, cert.digest, proposal.execution.post_root
            )
            self._send_vote(vote, self._leader_id(cert.view))

    def _on_commit(self, vote: Commit, trusted: bool = False) -> None:
        if not self._route(vote, vote.height, vote.view):
            return
        if self.config.mode == "collector" and self._leader_id(vote.view) != self.id:
            return
        if self._add_vote(self._commits, vote, trusted).counted:
            self._check_commit_quorum(vote.view, vote.key)

    def _check_commit_quorums(self) -> None:
        for view, collector in list(self._commits.items()):
            for key in list(collector.quorum_keys):
                self._check_commit_quorum(view, key)

    def _check_commit_quorum(self, view: int, key: tuple[bytes, ...]) -> None:
        collector = self._commits.get(view)
        if collector is None or not collector.has_quorum(key):
            return
        digest, root = key
        proposal = self._proposal_for(digest)
        if proposal is None:
            return
        if proposal.execution.post_root != root:
            self._log(
                "error", "state-divergence", "R3.2: a quorum certifies another post-state root"
            )
            return
        votes = minimal_quorum(collector.votes_for(key), self.validators)
        cert = CommitCertificate(self.height, view, digest, root, votes)
        self._verified_certs.add(cert.content_hash)
        if self.config.mode == "collector":
            self._out.append(Broadcast(cert))
        self._commit(cert, proposal)

    def _proposal_for(self, digest: bytes) -> Proposal | None:
        for proposal in self.proposals.values():
            if proposal.digest == digest:
                return proposal
        return None

    def _on_commit_certificate(self, cert: CommitCertificate) -> None:
        if cert.height > self.height:
            self._learn_commit(cert)
            return
        if cert.height < self.height:
            self.stats.stale += 1
            return
        self._learn_commit(cert)

    def _learn_commit(self, cert: CommitCertificate) -> None:
        """Commit ``cert``'s block if it is for this height and known; else ask for a sync."""
        if cert.height < self.height:
            return
        if cert.height == self.height:
            proposal = self._proposal_for(cert.digest)
            if proposal is not None:
                if proposal.execution.post_root != cert.post_root:
                    self._log("error", "state-divergence", "R3.2: certificate root differs")
                    return
                if self._check_cert(cert):
                    return
                self._commit(cert, proposal)
                return
        if cert.height <= self._sync_target or self._check_cert(cert):
            return
        if self._min_vote_height == 0 and self.config.lost_journal:
            self._min_vote_height = cert.height + 2
        self._sync_target = cert.height
        self._out.append(RequestSync(cert, cert.height))

    def _sample_latency(self, view: int, kind: str) -> None:
        sent = self._vote_sent_at.get((view, kind))
        if sent is not None:
            self._latency.append((self._now - sent) // 2)

    # ------------------------------------------------------------------ commit

    def _commit(self, cert: CommitCertificate, proposal: Proposal) -> None:
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
        for evidence in block.evidence:
            self._slashed_keys.add(evidence.slash_key)
            self._evidence_pool.pop(evidence.slash_key, None)
        if self._min_vote_height == 0 and self.config.lost_journal:
            self._min_vote_height = self.height + 2
        self.parent = cert.digest
        self.state_root = cert.post_root
        self.last_certificate = cert
        if execution.stakes:
            self.validators = self.validators.with_stakes(execution.stakes)
        self.height += 1
        self._reset_height(0)
        self._height_started = self._now
        self._enter_view(0)
        self._replay_future()

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
                self.validators,
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

    # ------------------------------------------------------------------ view change

    def _start_view_change(self, view: int) -> None:
        self.stats.view_changes += 1
        self._log("info", "view-change", f"height {self.height} to view {view}")
        self._enter_view_change(view)

    def _enter_view_change(self, view: int) -> None:
        previous = self.view
        self.view = view
        prepared = self.prepared
        if self._may_vote(view, "view-change", b"%d" % (prepared.view if prepared else -1)):
            vc = ViewChange.create(
                self.signer,
                self.height,
                view,
                prepared,
                self._prepared_block if prepared else None,
            )
            self._send_vote(vc, self._leader_id(view))
        if self.view == view:  # sending may have completed a NEW-VIEW that moved us on
            deadline = self._now + compute_timeout(self.observed_latency(), view)
            self._out.append(SetTimer(Timer(self.height, view), deadline))
            for v in range(previous + 1, view + 1):
                for message in self._future_views.pop(v, []):
                    self._buffered -= 1
                    self._dispatch(message)

    def _on_view_change(self, vc: ViewChange, trusted: bool = False) -> None:
        if vc.height > self.height:
            self._route(vc, vc.height, None)
            return
        if vc.height < self.height or vc.view < 1:
            self.stats.stale += 1
            return
        if vc.view > self.view + self.config.max_views_ahead:
            self.stats.dropped += 1
            return
        is_leader = self.validators.get_leader(self.height, vc.view).id == self.id
        if self.config.mode == "collector" and not is_leader:
            return
        if vc.view in self._new_view_sent or vc.view < self.view:
            return
        if not trusted:
            reason = check_view_change_claim(vc, self.validators, self.services.checker)
            if reason:
                self._reject(reason[:4], reason)
                return
        if not self._add_vote(self._view_changes, vc, trusted).counted:
            return
        collector = self._view_changes[vc.view]
        if is_leader and collector.stake() >= self.validators.quorum:
            self._send_new_view(vc.view, collector)
        elif self.config.mode == "broadcast" and not is_leader:
            self._join_rule()

    def _join_rule(self) -> None:
        """Follow > W/3 stake of VIEW-CHANGEs for higher views (PBFT's join rule)."""
        higher = {v: c for v, c in self._view_changes.items() if v > self.view}
        voters: dict[str, int] = {}
        for view, collector in sorted(higher.items()):
            for validator in collector.first:
                voters.setdefault(validator, view)
        stake = sum(self.validators.stake_of(v) for v in voters)
        if 3 * stake > self.validators.total_stake:
            self.stats.view_changes += 1
            self._enter_view_change(min(voters.values()))

    def _send_new_view(self, view: int, collector: VoteCollector[ViewChange]) -> None:
        self._new_view_sent.add(view)
        changes, top = select_view_changes(list(collector.first.values()), self.validators)
        if top is not None and top.block is not None:
            block = top.block  # R2.6: re-propose the highest prepared block
            prepared = top.prepared
        else:
            saved, self.view = self.view, view
            block = self._build_block()
            self.view = saved
            prepared = None
        pre_prepare = PrePrepare.create(self.signer, view, block)
        new_view = NewView.create(self.signer, changes, prepared, pre_prepare)
        self.stats.new_views += 1
        self._out.append(Broadcast(new_view))
        self._on_new_view(new_view, trusted=True)

    def _on_new_view(self, nv: NewView, trusted: bool = False) -> None:
        if nv.height > self.height:
            self._route(nv, nv.height, None)
            if nv.pre_prepare.block.last_commit is not None:
                self._learn_commit(nv.pre_prepare.block.last_commit)
            return
        if nv.height < self.height or nv.view < self.view or nv.view in self.proposals:
            return
        if not trusted:
            self.stats.signatures_checked += 1 + len(nv.view_changes)
            reason = check_new_view(nv, self.validators, self.services.checker)
            if reason:
                self._reject(reason[:4], reason)
                return
        if nv.view > self.view:
            previous = self.view
            self.view = nv.view
            deadline = self._now + compute_timeout(self.observed_latency(), nv.view)
            self._out.append(SetTimer(Timer(self.height, nv.view), deadline))
            for v in range(previous + 1, nv.view):
                self._buffered -= len(self._future_views.pop(v, []))
        self._accept_pre_prepare(nv.pre_prepare, trusted=trusted)
        for message in self._future_views.pop(nv.view, []):
            self._buffered -= 1
            self._dispatch(message)
