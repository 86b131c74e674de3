"""Casting and counting PREPARE and COMMIT votes, and committing on a commit certificate.

Owns: R3.2 (a validator commits a block only if the root a certificate vouches for is the one
its own execution gave).

A validator sends PREPARE for the proposal it accepted in its view, and COMMIT with its post-state
root once it holds a prepare certificate for it; it signs nothing the vote journal does not allow
(:func:`aethel.consensus.journal.may_sign`). Votes go to everyone (``broadcast`` mode) or to the
view's leader (``collector`` mode), which assembles the certificates from the fewest counted votes
that reach q(W) and forwards them (:func:`aethel.consensus.votes.minimal_quorum`). Counting is
:class:`aethel.consensus.votes.VoteCollector`'s (one vote per validator and phase, by stake);
counting finds equivocations and votes for blocks with an invalid proof, which become evidence.
A commit certificate for a block this replica holds commits it
(:meth:`aethel.consensus.replica.Replica._commit`); one for a later height, or for a block it
does not hold, is a reason to ask for a state sync (:mod:`aethel.consensus.syncing`).

At a height of protocol version 2 (spec/consensus-v2.md) the votes are BLS signatures (V2.3),
a vote of the other version is refused naming V2.2, and in collector mode they go to the
collector of the view (V2.10), which aggregates them
(:class:`aethel.consensus.votes.AggregateVotes`, V2.9) and broadcasts a certificate of a signer
bitmap and one aggregate (V2.7).
"""

from __future__ import annotations

from typing import Any

from aethel.consensus.events import Broadcast, Send
from aethel.consensus.evidence import Evidence
from aethel.consensus.journal import may_sign
from aethel.consensus.messages import (
    Commit,
    CommitCertificate,
    Prepare,
    PrepareCertificate,
    SignedMessage,
    ViewChange,
)
from aethel.consensus.phases import RoundEvent, RoundPhase
from aethel.consensus.replica_core import ReplicaCore
from aethel.consensus.replica_state import Proposal
from aethel.consensus.votes import AddResult, AggregateVotes, VoteCollector, minimal_quorum

#: The vote tables of a height: version 1's collectors or version 2's aggregating ones.
VoteTable = dict[int, Any]


class VotingRules(ReplicaCore):
    """Journal, send and count this validator's votes; commit on certificates."""

    # ------------------------------------------------------------------ casting

    def _set_min_vote_height(self, height: int) -> None:
        """Vote again only from ``height`` on (a replica without its journal), durably."""
        self.amnesia.learn(height, self.services.store)

    def _may_vote(self, view: int, kind: str, key: bytes) -> bool:
        return may_sign(
            self.amnesia,
            self.current.journal,
            self.services.store,
            self.height,
            view,
            kind,
            key,
        )

    def _send_vote(self, vote: Prepare | Commit | ViewChange, leader: str) -> None:
        """Send ``vote`` to everyone (broadcast mode) or to ``leader``, who collects it."""
        if self.config.mode == "broadcast":
            self._out.append(Broadcast(vote))
        elif leader != self.id:
            self._out.append(Send(leader, vote))
        self.current.vote_sent_at[(vote.view, vote.TYPE)] = self._now
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
            version = self._version_of(self.height)
            self._send_vote(
                Prepare.create(self.signer, self.height, view, digest, version),
                self._collector_id(view),
            )

    # ------------------------------------------------------------------ counting

    def _collector(self, table: VoteTable, view: int, aggregate: bool = False) -> Any:
        collector = table.get(view)
        if collector is None:
            version = self._version_of(self.height)
            if aggregate:
                collector = table[view] = AggregateVotes(self.validators, self.aggregates)
            elif version == 1:
                collector = table[view] = VoteCollector(self.validators)
            else:
                collector = table[view] = VoteCollector(self.validators, version)
        return collector

    def _add_vote(self, table: VoteTable, vote: SignedMessage, trusted: bool) -> AddResult:
        version = self._version_of(vote.height)
        invalid = self.current.invalid_blocks.get(getattr(vote, "digest", b""))
        if invalid is not None and not trusted and self._signed_by_member(vote):
            self._report(Evidence.false_claim(self.signer, vote, *invalid, version=version))
        if isinstance(vote, Prepare | Commit) and vote.version == 2:
            result: AddResult = self._collector(table, vote.view, aggregate=True).add(vote, trusted)
        else:
            result = self._collector(table, vote.view).add(vote, self._verify, trusted)
            if result.reason.startswith("R7.5") and self.activation is not None:
                # Signed in the other version's domain: refused naming V2.2 (V2.2).
                result.reason = self._signature_reason(
                    self.validators.get(vote.validator).public_key,  # type: ignore[union-attr]
                    vote,
                    vote.TYPE,
                )
        if result.conflict is not None:
            self._report(Evidence.equivocation(self.signer, *result.conflict, version=version))
        elif result.reason.startswith(("R", "V")):
            self._reject(result.reason.split(":", 1)[0], result.reason)
        return result

    # ------------------------------------------------------------------ prepare phase

    def _on_prepare(self, vote: Prepare, trusted: bool = False) -> None:
        if not self._route(vote, vote.height, vote.view):
            return
        if self._wrong_version(vote):  # a version-2 vote reaches a version-1 network too
            return
        if vote.view < self.view:
            self.stats.stale += 1
            return
        if self.config.mode == "collector" and self._collector_id(vote.view) != self.id:
            return
        if self._add_vote(self.current.prepares, vote, trusted).counted:
            self._check_prepare_quorum(vote.view)

    def _check_prepare_quorum(self, view: int) -> None:
        proposal = self.proposals.get(view)
        collector = self.current.prepares.get(view)
        if proposal is None or collector is None or self._is_prepared(view):
            return
        if not collector.has_quorum((proposal.digest,)):
            return
        if isinstance(collector, AggregateVotes):
            aggregate = collector.certificate((proposal.digest,))
            if aggregate is None:
                return
            cert = PrepareCertificate.of_aggregate(aggregate)
        else:
            votes = minimal_quorum(collector.votes_for((proposal.digest,)), self.validators)
            cert = PrepareCertificate(self.height, view, proposal.digest, votes)
        self._verified_certs.add(cert.content_hash)
        if self.config.mode == "collector":
            self._out.append(Broadcast(cert))
        self._on_prepared(cert)

    def _is_prepared(self, view: int) -> bool:
        return self.current.round_phase(view) is RoundPhase.PREPARED

    def _on_prepare_certificate(self, cert: PrepareCertificate) -> None:
        if not self._route(cert, cert.height, cert.view):
            return
        if self.activation is not None and self._wrong_version(cert):
            return
        if cert.view != self.view or self._is_prepared(cert.view):
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
        current = self.current
        current.step_round(cert.view, RoundEvent.PREPARE_CERTIFICATE)
        proposal = current.proposals[cert.view]
        if current.prepared is None or cert.view > current.prepared.view:
            current.prepared = cert
            current.prepared_block = proposal.block
            self.services.store.record_lock(cert, proposal.block)
        self._sample_latency(cert.view, "prepare")
        if cert.view == self.view and self._may_vote(
            cert.view, "commit", cert.digest + proposal.execution.post_root
        ):
            vote = Commit.create(
                self.signer,
                self.height,
                cert.view,
                cert.digest,
                proposal.execution.post_root,
                self._version_of(self.height),
            )
            self._send_vote(vote, self._collector_id(cert.view))

    # ------------------------------------------------------------------ commit phase

    def _on_commit(self, vote: Commit, trusted: bool = False) -> None:
        if not self._route(vote, vote.height, vote.view):
            return
        if self._wrong_version(vote):  # a version-2 vote reaches a version-1 network too
            return
        if self.config.mode == "collector" and self._collector_id(vote.view) != self.id:
            return
        if self._add_vote(self.current.commits, vote, trusted).counted:
            self._check_commit_quorum(vote.view, vote.key)

    def _check_commit_quorums(self) -> None:
        for view, collector in list(self.current.commits.items()):
            for key in list(collector.quorum_keys):
                self._check_commit_quorum(view, key)

    def _check_commit_quorum(self, view: int, key: tuple[bytes, ...]) -> None:
        collector = self.current.commits.get(view)
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
        if isinstance(collector, AggregateVotes):
            aggregate = collector.certificate(key)
            if aggregate is None:
                return
            cert = CommitCertificate.of_aggregate(aggregate)
        else:
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
        if self._wrong_version(cert):
            return
        if cert.height == self.height:
            proposal = self._proposal_for(cert.digest)
            if proposal is not None:
                # The certificate first: a forged one must not raise the divergence alarm.
                if self._check_cert(cert):
                    return
                if proposal.execution.post_root != cert.post_root:
                    self._log("error", "state-divergence", "R3.2: certificate root differs")
                    return
                self._commit(cert, proposal)
                return
        self._request_sync(cert)
