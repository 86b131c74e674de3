"""Mutants of a validator restarted without its vote journal (R2.4, R2.5; spec/consensus.md,
votes: "a validator that lost that record ... signs nothing below h + 2 ...; from h + 2 on it
votes as any validator").

Each is a replica written by someone who read that sentence another way; every one behaves
exactly as the reference while the journal is kept, so only a replica of capability
``lost-journal`` can show the defect:

* ``lost-journal-waits-a-height-more``: to be safe, it waits one height more than the spec asks
  (from h + 3); a network that lost more than a third of its stake's journals at once stalls a
  height longer. The mechanical campaign's survivor ``cert.height + 2`` -> ``+ 3`` is this one.
* ``lost-journal-votes-at-the-next-height``: it reads "the peers' latest certified height" as
  the last height it may have voted at and votes from h + 1, where it may have voted before.
* ``lost-journal-ignored``: it restarts as a new validator, voting at once.
* ``lost-journal-learns-only-from-certificates``: it learns h from a commit certificate that
  arrives as a message, not from the certified state it adopts on a sync, so a shell that answers
  its start with the synced state makes it wait for the next commit (from h + 3). The
  reference had this defect until the case was written.

* ``lost-journal-learns-nothing-from-a-hint``: the opposite: a later height's certificate that
  arrives as a message starts a sync but teaches it nothing; the first height it commits
  itself does, so it votes from that height + 2, below the hint's height + 2. Caught by
  suite/test_lost_journal.py::
  test_a_validator_without_its_journal_keeps_the_minimum_a_later_certificate_taught_it
  (written from the syncing.py campaign's survivor at line 126).

* ``lost-journal-assumes-its-view-change``: seeing more than W/3 of the stake ahead, it starts a
  view change and sends its VIEW-CHANGE, which a validator that may not sign does not have:
  it fails on the message. Caught by suite/test_lost_journal.py::
  test_a_validator_without_its_journal_that_sees_others_ahead_signs_nothing (written from the
  syncing.py survivor at line 183).

The first four are caught by suite/test_lost_journal.py::
test_a_validator_without_its_journal_votes_again_from_two_heights_past_the_latest.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from aethel.consensus.block import ProofBlock
from aethel.consensus.events import Output, Send
from aethel.consensus.messages import CommitCertificate
from aethel.consensus.phases import ViewEvent
from aethel.consensus.replica import Replica
from aethel.consensus.replica_config import ReplicaConfig
from aethel.consensus.timeouts import compute_timeout
from conformance.mutants import Mutant, replica_implementation


class WaitsAHeightMore(Replica):
    """Defect: votes again from h + 3."""

    def _set_min_vote_height(self, height: int) -> None:
        super()._set_min_vote_height(height + 1)


class VotesAtTheNextHeight(Replica):
    """Defect: votes again from h + 1."""

    def _set_min_vote_height(self, height: int) -> None:
        super()._set_min_vote_height(height - 1)


class JournalLossIgnored(Replica):
    """Defect: a restart without the journal is a start like any other."""

    def __init__(self, signer: Any, validators: Any, services: Any, config: ReplicaConfig) -> None:
        forgotten = dataclasses.replace(config, lost_journal=False)
        super().__init__(signer, validators, services, forgotten)


class LearnsOnlyFromCertificates(Replica):
    """Defect: adopting a synced certified state does not tell it where the chain is."""

    _adopting = False

    def on_sync_completed(
        self,
        certificate: CommitCertificate,
        block: ProofBlock,
        now: int,
        links: Sequence[Any] = (),
    ) -> list[Output]:
        self._adopting = True
        try:
            return super().on_sync_completed(certificate, block, now, links)
        finally:
            self._adopting = False

    def _set_min_vote_height(self, height: int) -> None:
        if not self._adopting:
            super()._set_min_vote_height(height)


class LearnsNothingFromAHint(Replica):
    """Defect: a later height's certificate that arrives as a message starts a sync, but the
    height it names is not learned; the first height the replica commits or adopts is."""

    _hinted = False

    def _request_sync(self, cert: CommitCertificate) -> None:
        self._hinted = True
        try:
            super()._request_sync(cert)
        finally:
            self._hinted = False

    def _set_min_vote_height(self, height: int) -> None:
        if not self._hinted:
            super()._set_min_vote_height(height)


class AssumesItsViewChange(Replica):
    """Defect: seeing more than W/3 ahead, it starts a view change and sends its VIEW-CHANGE,
    taking for granted that starting one always makes one (a replica that may not sign has
    none)."""

    def _note_ahead(self, message: Any, height: int) -> None:
        validator = self._signed_sender(message, self.current.ahead)
        if validator is None:
            return
        self.current.ahead.add(validator)
        asked = self.current.asked_sync_at
        if asked is not None and self._now - asked < compute_timeout(self.observed_latency(), 0):
            return
        stake = sum(self.validators.stake_of(v) for v in self.current.ahead)
        if 3 * stake <= self.validators.total_stake:
            return
        self.current.asked_sync_at = self._now
        if self.current.own_view_change is None:
            self._start_view_change(self.view + 1, ViewEvent.CATCH_UP)
        change: Any = self.current.own_view_change
        for peer in sorted(self.current.ahead - {self.id}):
            self._out.append(Send(peer, change))


WaitsMore = replica_implementation("WaitsMore", __name__, replica_class=WaitsAHeightMore)
NextHeight = replica_implementation("NextHeight", __name__, replica_class=VotesAtTheNextHeight)
Ignored = replica_implementation("Ignored", __name__, replica_class=JournalLossIgnored)
CertificatesOnly = replica_implementation(
    "CertificatesOnly", __name__, replica_class=LearnsOnlyFromCertificates
)

AssumesViewChange = replica_implementation(
    "AssumesViewChange", __name__, replica_class=AssumesItsViewChange
)
NothingFromAHint = replica_implementation(
    "NothingFromAHint", __name__, replica_class=LearnsNothingFromAHint
)

CAPABILITIES = ("replica", "lost-journal")

MUTANTS = [
    Mutant(
        "lost-journal-waits-a-height-more",
        "a validator restarted without its vote journal votes again only from h + 3",
        ("R2.5",),
        CAPABILITIES,
        WaitsMore,
    ),
    Mutant(
        "lost-journal-votes-at-the-next-height",
        "a validator restarted without its vote journal votes again from h + 1, where it may "
        "have voted before the restart",
        ("R2.4",),
        CAPABILITIES,
        NextHeight,
    ),
    Mutant(
        "lost-journal-ignored",
        "a validator restarted without its vote journal votes at once, as a new validator",
        ("R2.4",),
        CAPABILITIES,
        Ignored,
    ),
    Mutant(
        "lost-journal-learns-only-from-certificates",
        "a validator restarted without its vote journal does not learn the chain's height from "
        "the certified state it adopts, and votes again only from h + 3",
        ("R2.5",),
        CAPABILITIES,
        CertificatesOnly,
    ),
    Mutant(
        "lost-journal-learns-nothing-from-a-hint",
        "a validator restarted without its vote journal does not learn the height a later "
        "certificate names, only the first height it commits: it votes below that height + 2",
        ("R2.4",),
        CAPABILITIES,
        NothingFromAHint,
    ),
    Mutant(
        "lost-journal-assumes-its-view-change",
        "a validator restarted without its vote journal that sees more than W/3 ahead sends the "
        "VIEW-CHANGE it may not sign, which does not exist: it fails on the message",
        ("R3.5",),
        CAPABILITIES,
        AssumesViewChange,
    ),
]
