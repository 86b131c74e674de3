"""Proposals: what the leader proposes, and whether a proposed block gets this validator's vote.

Owns: R1.1 and P1 (every proof of a block is verified, and every other block rule checked,
before any vote for it), R3.3 (a block extends the committed chain).

The leader of (height, view 0) builds a block from the mempool's selection and the pooled
evidence and sends PRE-PREPARE (:meth:`ProposalRules._propose`); after a view change the
proposal travels inside NEW-VIEW (:mod:`aethel.consensus.viewchange`). A validator takes the
first PRE-PREPARE of the view's leader for its view (a second one, different, is equivocation),
and then verifies it (:meth:`ProposalRules._accept_pre_prepare`, the round's *verifying* phase):
the block rules 1-3 of spec/consensus.md "Blocks" (:meth:`ProposalRules._check_block`, with the
limits, the last commit and the evidence shared with the history verifier in
:mod:`aethel.consensus.block_rules`), then every proof and the transition
(:class:`~aethel.consensus.interfaces.BlockValidator`,
:class:`~aethel.consensus.interfaces.Executor`).
A block that passes is accepted and PREPAREd; one with an intrinsically invalid proof makes its
signed proposal false-claim evidence.
"""

from __future__ import annotations

from aethel.consensus.block import ProofBlock
from aethel.consensus.block_rules import (
    check_block_evidence,
    check_block_limits,
    check_last_commit,
)
from aethel.consensus.events import Broadcast, Send, SetTimer, Timer
from aethel.consensus.evidence import Evidence
from aethel.consensus.messages import PrePrepare
from aethel.consensus.phases import RoundEvent
from aethel.consensus.replica_core import ReplicaCore
from aethel.consensus.replica_state import Proposal
from aethel.consensus.viewchange import check_fresh_proposer, check_leader, outside_new_view
from aethel.errors import ProtocolViolation


class ProposalRules(ReplicaCore):
    """Propose blocks and decide whether a proposal gets a vote (see the module docstring)."""

    # ------------------------------------------------------------------ proposing

    def _arm_propose_timer(self) -> None:
        """The leader of view 0 proposes after the block interval (a timer of its own)."""
        if self.view == 0 and self.is_leader and 0 not in self.proposals:
            proposal_at = self._now + self.config.block_interval_ns
            self._out.append(SetTimer(Timer(self.height, 0, "propose"), proposal_at))

    def _on_propose_timer(self, timer: Timer) -> None:
        current = (timer.height, timer.view) == (self.height, self.view)
        if current and self.is_leader and self.view not in self.proposals:
            self._propose()

    def _build_block(self) -> ProofBlock:
        transactions, proofs = self.services.source.select(self.height, self.state_root)
        return ProofBlock.create(
            self.signer,
            self.height,
            self.parent,
            transactions,
            proofs,
            self._evidence_for_block(),
            self.last_certificate,
            self._version_of(self.height),
        )

    def _propose(self) -> None:
        if (self.view, "pre-prepare") in self.current.journal:
            return  # proposed in this view already (perhaps before a restart)
        block = self._build_block()
        pre_prepare = PrePrepare.create(
            self.signer, self.view, block, self._version_of(self.height)
        )
        if not self._may_vote(self.view, "pre-prepare", pre_prepare.digest):
            return  # a proposal is a signed statement too: never two in one view
        self.stats.proposals += 1
        self._out.append(Broadcast(pre_prepare))
        # The leader checks its own block like everyone else, as a message to itself (handled
        # after the broadcast has left: spec/performance.md, "a message to oneself").
        self._out.append(Send(self.id, pre_prepare))

    # ------------------------------------------------------------------ voting on proposals

    def _on_pre_prepare(self, pp: PrePrepare) -> None:
        if pp.height > self.height and pp.block.last_commit is not None:
            self._learn_commit(pp.block.last_commit)
        if not self._route(pp, pp.height, pp.view):
            return
        if pp.view < self.view:
            self.stats.stale += 1
            return
        if outside_new_view(pp):
            self.stats.rejected += 1
            return
        self._accept_pre_prepare(pp, trusted=False)

    def _accept_pre_prepare(self, pp: PrePrepare, trusted: bool) -> None:
        """Take ``pp`` as the proposal of its view if its leader signed it, then verify it."""
        leader = self.validators.get_leader(self.height, pp.view)
        reason = check_leader(pp, leader.id)
        if reason:
            self._reject(reason[:4], reason[6:])
            return
        if self._known_proposal(pp):
            return
        if not trusted and self._signature_fails(leader.public_key, pp, "pre-prepare"):
            return
        self._verify_proposal(pp)

    def _known_proposal(self, pp: PrePrepare) -> bool:
        """Return True if the view has a proposal already or ``pp``'s block was refused; a
        second, different proposal signed by the view's leader is equivocation evidence."""
        existing = self.proposals.get(pp.view)
        if existing is None and pp.digest not in self.current.refused:
            return False
        if existing is not None and existing.digest != pp.digest and self._signed_by_member(pp):
            self._report(
                Evidence.equivocation(
                    self.signer, existing.pre_prepare, pp, self._version_of(pp.height)
                )
            )
        return True

    def _carries_its_block(self, pp: PrePrepare) -> bool:
        """Return True if ``pp`` carries the block of its digest, signed by its proposer: only
        then does a refusal speak of the digest and stand for the height (R7.5).

        The leader's signature covers the digest, not the block sent with it, and the digest
        leaves out the block's signature: a copy of a real PRE-PREPARE with another block, or
        with the block's signature changed, is refused as a copy and leaves the real one
        welcome (audit of 2026-12-06: a refused digest was ignored for the rest of the height).
        """
        block = pp.block
        proposer = self.validators.get(block.proposer)
        return (
            block.digest == pp.digest
            and proposer is not None
            and not self._signature_reason(proposer.public_key, block, "block")
        )

    def _verify_proposal(self, pp: PrePrepare) -> None:
        """The round's *verifying* phase: the block rules, every proof, the transition (R1.1);
        then the proposal is accepted, or refused (nothing changes but the refusal)."""
        current = self.current
        current.step_round(pp.view, RoundEvent.PROPOSAL)
        try:
            proposal = self._verified(pp)
        except BaseException:
            current.step_round(pp.view, RoundEvent.REFUSE)
            raise
        if proposal is None:
            current.step_round(pp.view, RoundEvent.REFUSE)
            return
        current.step_round(pp.view, RoundEvent.ACCEPT)
        current.proposals[pp.view] = proposal
        self._after_accepting(pp)

    def _verified(self, pp: PrePrepare) -> Proposal | None:
        """Return ``pp`` as an accepted proposal, or None after refusing it."""
        current = self.current
        reason = self._check_block(pp)
        if reason:
            if self._carries_its_block(pp):
                current.refused.add(pp.digest)
            self._reject(reason.split(":", 1)[0], reason)
            return None
        cached = current.executions.get(pp.digest)
        if cached is None:
            # R1.1: every proof is verified before this validator votes for the block.
            verdict = self.services.validator.validate_block(pp.block, self.state_root)
            self.stats.blocks_validated += 1
            self.stats.proofs_checked += len(verdict.checks)
            if not verdict.valid:
                current.refused.add(pp.digest)
                index = verdict.invalid_proof
                if index is not None:
                    current.invalid_blocks[pp.digest] = (pp.block, index)
                    self._report(
                        Evidence.false_claim(
                            self.signer, pp, pp.block, index, self._version_of(pp.height)
                        )
                    )
                self._reject(verdict.rule_id or "R1.1", verdict.reason)
                return None
            try:
                execution = self.services.executor.execute(
                    pp.block, verdict, self.state_root, self.validators
                )
            except ProtocolViolation as exc:  # the transition breaks a book: reject the block
                current.refused.add(pp.digest)
                self._reject(exc.rule_id, exc.detail)
                return None
            cached = (verdict, execution)
            current.executions[pp.digest] = cached
        return Proposal(pp, cached[0], cached[1])

    def _after_accepting(self, pp: PrePrepare) -> None:
        """PREPARE the proposal of this validator's view; count what waited for it."""
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
        reason = check_fresh_proposer(pp) or self._signature_reason(
            proposer.public_key, block, "block"
        )
        if reason:
            return reason
        return self._limits_and_last_commit_reason(block) or self._evidence_reason(block)

    def _limits_and_last_commit_reason(self, block: ProofBlock) -> str:
        """Return why ``block`` breaks its limits (N6, R7.1, R1.1) or carries a wrong last commit
        (R2.3), or "" (:mod:`aethel.consensus.block_rules`)."""
        # The parent certificate was signed by the set of the parent height, before the
        # parent block's slashing changed the stakes.
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
        except ProtocolViolation as exc:
            return f"{exc.rule_id}: {exc.detail}"
        return ""

    def _evidence_reason(self, block: ProofBlock) -> str:
        """Return why an evidence record of ``block`` is not admissible (R4.2, R1.5, R7.5), or
        "" (:func:`aethel.consensus.block_rules.check_block_evidence`)."""
        try:
            check_block_evidence(
                block,
                lambda key: self.services.executor.is_slashed(self.state_root, key),
                self.epoch_validators,
                self.services.checker,
                self.services.validator.is_proof_invalid,
                self.activation,
            )
        except ProtocolViolation as exc:
            return f"{exc.rule_id}: {exc.detail}"
        return ""
