"""Mutants of a node's vote journal: one works within a run, not across a crash (R2.4); one
treats every restart as a lost journal, so a node holding its journal holds back as if it had
lost it (spec/consensus.md, "Votes": only a validator that lost its record signs nothing below
h + 2) and a lone validator never votes again.

``journal-restart-taken-for-a-lost-journal`` is caught by conformance/suite/
test_journaled_replica_commits.py::test_a_lone_journaled_validator_reopened_on_its_journal_
commits_on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest import mock

from aethel.consensus.journal import Amnesia
from aethel.consensus.persistent import PersistentLedger
from aethel.state.store import StateStore
from conformance.adapters.api import JSON
from conformance.adapters.reference import ReferenceImplementation
from conformance.adapters.reference_journal import (
    JOURNAL_FILE,
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


_load_amnesia = Amnesia.load.__func__  # type: ignore[attr-defined]


class RestartAsLostReplicaObject(ReferenceJournaledReplicaObject):
    """Defect: a journal found at start is taken for one that cannot be trusted: the node starts
    as a validator that lost its journal."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        journal = kwargs.get("journal", args[5] if len(args) > 5 else "")
        restarted = bool(journal) and (Path(str(journal)) / JOURNAL_FILE).exists()

        def load(cls: type[Amnesia], store: Any, lost_journal: bool) -> Amnesia:
            amnesia: Amnesia = _load_amnesia(cls, store, lost_journal or restarted)
            return amnesia

        with mock.patch.object(Amnesia, "load", classmethod(load)):
            super().__init__(*args, **kwargs)


class RestartAsLost(ReferenceVoteJournal):
    object_class = RestartAsLostReplicaObject


class RestartAsLostImplementation(ReferenceImplementation):
    name = "mutant-journal-restart-taken-for-a-lost-journal"

    def make_vote_journal(self) -> object:
        return RestartAsLost()


MUTANTS = [
    Mutant(
        name="journal-emptied-at-start",
        defect="a restarted node empties its vote journal of the heights not committed yet",
        breaks=("R2.4",),
        capabilities=("vote-journal",),
        build=FreshJournalImplementation,
    ),
    Mutant(
        name="journal-restart-taken-for-a-lost-journal",
        defect="a node that finds its vote journal at start treats it as lost: it holds back "
        "from voting as a validator without its journal does",
        breaks=("R2.4",),
        capabilities=("vote-journal",),
        build=RestartAsLostImplementation,
    ),
]
