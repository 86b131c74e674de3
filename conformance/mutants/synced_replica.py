"""Mutants of a replica that adopts a synced state (R3.1, R3.3, R2.6, R2.3), written from the
module campaign of aethel/consensus/syncing.py; the first two are caught by
suite/test_synced_replica.py::test_a_replica_goes_on_from_the_state_it_adopted:

* ``sync-adopted-at-the-last-message-time``: the replica keeps its clock from the messages and
  timers it handles and ignores the time the shell hands with the synced state, so the next
  height's view timer and proposal timer run from the last message before the sync, which
  may be long past (a view-0 timeout that has already run out).
* ``sync-keeps-the-last-certificate-it-committed``: adopting a synced state moves the height,
  the parent and the root, but the certificate the next block carries as its last commit stays
  the one of the last height the replica committed itself (none after a start), so the block
  it proposes does not carry its parent's certificate.
* ``sync-keeps-the-parent-set-of-before``: after a sync across a slashing, the next block's
  last commit is checked by the set the replica had before the sync. Caught by
  suite/test_catch_up.py::
  test_a_replica_synced_past_a_slashing_checks_the_next_last_commit_by_the_slashed_set
  (survivor at line 103).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aethel.consensus.block import ProofBlock
from aethel.consensus.events import Output
from aethel.consensus.messages import CommitCertificate
from aethel.consensus.replica import Replica
from conformance.mutants import Mutant, replica_implementation


class AdoptedAtTheLastMessageTime(Replica):
    """Defect: the time handed with the synced state is not taken."""

    def on_sync_completed(
        self,
        certificate: CommitCertificate,
        block: ProofBlock,
        now: int,
        links: Sequence[Any] = (),
    ) -> list[Output]:
        return super().on_sync_completed(certificate, block, self._now, links)


class _KeepsThroughASync(Replica):
    """A replica whose attribute ``kept`` is what it was before a sync, after it."""

    kept = ""

    def on_sync_completed(
        self,
        certificate: CommitCertificate,
        block: ProofBlock,
        now: int,
        links: Sequence[Any] = (),
    ) -> list[Output]:
        before = getattr(self, self.kept)
        outputs = super().on_sync_completed(certificate, block, now, links)
        setattr(self, self.kept, before)
        return outputs


class KeepsItsLastCertificate(_KeepsThroughASync):
    """Defect: the synced certificate does not become the last commit of the next block."""

    kept = "last_certificate"


class KeepsTheParentSetOfBefore(_KeepsThroughASync):
    """Defect: after a sync the next block's last commit is checked by the set the replica had
    before it (the set of its old height), not by the set that signed the synced height."""

    kept = "parent_validators"


LastMessageTime = replica_implementation(
    "LastMessageTime", __name__, replica_class=AdoptedAtTheLastMessageTime
)
KeepsLastCertificate = replica_implementation(
    "KeepsLastCertificate", __name__, replica_class=KeepsItsLastCertificate
)

ParentSetOfBefore = replica_implementation(
    "ParentSetOfBefore", __name__, replica_class=KeepsTheParentSetOfBefore
)

MUTANTS = [
    Mutant(
        "sync-adopted-at-the-last-message-time",
        "a replica that adopts a synced state runs the next height's timers from the time of "
        "the last message before it, not from the adoption",
        ("R2.6",),
        ("replica",),
        LastMessageTime,
    ),
    Mutant(
        "sync-keeps-the-last-certificate-it-committed",
        "after a sync the block the replica proposes carries the certificate of the last height "
        "it committed itself, not the synced one, as its last commit",
        ("R3.3",),
        ("replica",),
        KeepsLastCertificate,
    ),
    Mutant(
        "sync-keeps-the-parent-set-of-before",
        "after a sync across a slashing the next block's last commit is checked by the set the "
        "replica had before the sync, not by the set that signed the synced height",
        ("R2.3",),
        ("replica", "catch-up"),
        ParentSetOfBefore,
    ),
]
