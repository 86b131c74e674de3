"""Casting and counting votes: the vote journal, sending votes, collecting them (R2.4, R4.2).

Every vote is journaled in the chain store before it is sent, so a restarted validator never
signs a conflicting one (:meth:`VoteRules._may_vote`); a replica restarted without its journal
votes only from the first certified height it learns + 2 (:meth:`VoteRules._set_min_vote_height`,
the amnesia record :data:`aethel.consensus.replica_state.AMNESIA_HEIGHT`). Votes go to everyone
(``broadcast`` mode) or to the view's leader (``collector`` mode). Collecting them yields
equivocation evidence (R4.2) and false-claim evidence for votes on blocks with an invalid proof
(R1.5).
"""

from __future__ import annotations

from typing import Any

from aethel.consensus.events import Broadcast, Send
from aethel.consensus.evidence import Evidence
from aethel.consensus.messages import Commit, Prepare, SignedMessage, ViewChange
from aethel.consensus.replica_checks import CertificateChecks
from aethel.consensus.replica_evidence import EvidencePool
from aethel.consensus.replica_state import AMNESIA_HEIGHT, AMNESIA_KIND
from aethel.consensus.votes import AddResult, VoteCollector


class VoteRules(EvidencePool, CertificateChecks):
    """Journal, send and collect this validator's votes (Spec: R1.5, R2.4, R4.2)."""

    def _set_min_vote_height(self, height: int) -> None:
        """Vote again only from ``height`` on (a replica without its journal), durably."""
        if self._lost_journal and self._min_vote_height == 0:
            self._min_vote_height = height
            self.services.store.record_vote(AMNESIA_HEIGHT, height, AMNESIA_KIND, b"")

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
