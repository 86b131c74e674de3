"""Mutants of a node's vote journal: it works within one run, not across a crash (R2.4)."""

from __future__ import annotations

from pathlib import Path

from aethel.consensus.persistent import PersistentLedger
from aethel.state.store import StateStore
from conformance.adapters.api import JSON
from conformance.adapters.reference import ReferenceImplementation
from conformance.adapters.reference_journal import (
    ReferenceJournaledReplicaObject,
    ReferenceVoteJournal,
)
from conformance.mutants import Mutant


class FreshJournalReplicaObject(ReferenceJournaledReplicaObject):
    """Defect: at start the node empties its vote journal ("votes of heights not committed are
    stale"), so a validator restarted mid-height has forgotten what it signed there."""

    def open_ledger(self, store: StateStore, genesis: JSON, journal: Path) -> PersistentLedger:
        ledger = super().open_ledger(store, genesis, journal)
        ledger._journal.execute("DELETE FROM votes")
        ledger._journal.execute("DELETE FROM locks")
        return ledger


class FreshJournal(ReferenceVoteJournal):
    object_class = FreshJournalReplicaObject


class FreshJournalImplementation(ReferenceImplementation):
    name = "mutant-journal-emptied-at-start"

    def make_vote_journal(self) -> object:
        return FreshJournal()


MUTANTS = [
    Mutant(
        name="journal-emptied-at-start",
        defect="a restarted node empties its vote journal of the heights not committed yet",
        breaks=("R2.4",),
        capabilities=("vote-journal",),
        build=FreshJournalImplementation,
    ),
]
