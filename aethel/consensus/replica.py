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
* When the timer of an established view expires: VIEW-CHANGE to the next view with the highest
  prepare certificate; timeouts come from :func:`~aethel.consensus.timeouts.compute_timeout` of
  the observed latency with exponential backoff per view (R2.6, R6.5). The next view's timer
  starts only once it is established (q(W) stake asked for it, or its NEW-VIEW came); until
  then the validator re-sends its VIEW-CHANGE, and VIEW-CHANGEs from > W/3 stake for higher
  views pull it along (view synchronisation, :mod:`aethel.consensus.viewchange`).
* Messages from later heights are buffered (bounded); a commit certificate for a height the
  replica cannot apply makes it ask the shell for a verified state sync (R3.1, R3.5). Every
  certificate is checked by the validator set of its own height: a block's last commit by the
  set of the parent height, and a later height's by the set the certified chain up to it gives
  (:mod:`aethel.consensus.catchup`; never by the stakes known here, nor by a third of them).
"""

from __future__ import annotations

from collections.abc import Sequence

from aethel.consensus.block import ProofBlock
from aethel.consensus.block_rules import (
    check_block_evidence,
    check_block_limits,
    check_last_commit,
)
from aethel.consensus.events import (
    Broadcast,
    Committed,
    Output,
    RequestSync,
    Send,
    SetTimer,
    Timer,
)
from aethel.consensus.evidence import Evidence
from aethel.consensus.messages import (
    Commit,
    CommitCertificate,
    Message,
    Prepare,
    PrepareCertificate,
    PrePrepare,
)
from aethel.consensus.replica_base import (
    MODES,
    Mode,
    Proposal,
    ReplicaBase,
    ReplicaConfig,
    Services,
)
from aethel.consensus.signing import SignatureItem
from aethel.consensus.viewchange import (
    ViewChangeRules,
)
from aethel.consensus.votes import minimal_quorum
from aethel.errors import ProtocolViolation

__all__ = ["MODES", "Mode", "Proposal", "Replica", "ReplicaBase", "ReplicaConfig", "Services"]


class Replica(ViewChangeRules):
    """One validator's consensus state machine (see the module docstring)."""

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

    def _enter_view(self, view: int) -> None:
        self.view = view
        self._establish()
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
        if (self.view, "pre-prepare") in self._journal:
            return  # proposed in this view already (perhaps before a restart)
        block = self._build_block()
        pre_prepare = PrePrepare.create(self.signer, self.view, block)
        if not self._may_vote(self.view, "pre-prepare", pre_prepare.digest):
            return  # a proposal is a signed statement too: never two in one view
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
        """Return "" if the proposed block passes rules 1-3 of "Blocks", else the reason.

        The limits, the last commit and the evidence are the checks a history verifier runs
        too (:mod:`aethel.consensus.block_rules`); all run before any proof is verified.
        """
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
        # The parent certificate was signed by the set of the parent height, before the
        # parent block's slashing changed the stakes (R2.3, R4.3).
        certifiers = None if self.height == 1 else self.parent_validators
        try:
            check_block_limits(block)
            check_last_commit(
                block,
                self.parent,
                self.state_root,
                certifiers,
                lambda cert: self._check_cert(cert, certifiers),
            )
            check_block_evidence(
                block,
                lambda key: self.services.executor.is_slashed(self.state_root, key),
                self.epoch_validators,
                self.services.checker,
                self.services.validator.is_proof_invalid,
            )
        except ProtocolViolation as exc:
            return f"{exc.rule_id}: {exc.detail}"
        return ""

    def _send_prepare(self, view: int, digest: bytes) -> None:
        if self._may_vote(view, "prepare", digest):
            self._send_vote(
                Prepare.create(self.signer, self.height, view, digest), self._leader_id(view)
            )

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
            self.services.store.record_lock(cert, proposal.block)
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
        if cert.height <= self._sync_target or self._is_catch_up_hint(cert):
            return
        self._set_min_vote_height(cert.height + 2)
        self._sync_target = cert.height
        self._out.append(RequestSync(cert, cert.height))

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
        self._set_min_vote_height(self.height + 2)
        self.parent = cert.digest
        self.state_root = cert.post_root
        self.last_certificate = cert
        self.parent_validators = self.validators
        if execution.stakes:
            self.validators = self.validators.with_stakes(execution.stakes)
        self.height += 1
        self._reset_height(0)
        self._height_started = self._now
        self._enter_view(0)
        self._replay_future()
