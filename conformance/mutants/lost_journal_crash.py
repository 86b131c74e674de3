"""Mutants of a validator restarted without its vote journal that crashes again (R2.4, R2.5;
spec/consensus.md, votes: "It records this durably too, so a further crash before it gets there
leaves it as careful, not trusting the partial record it kept since").

Each keeps part of what the restart taught it in memory only, as a node would that takes "I lost
my journal" from the operator's flag or from its missing data directory and never writes it
down. Each behaves exactly as the reference until the further crash, so only a replica of
``lost-journal-on-disk``, opened again with ``vote-journal``, can show the defect
(suite/test_lost_journal_crash.py):

* ``lost-journal-kept-in-memory``: neither that it lost its journal nor the height it learned
  is on disk; opened again on the journal it kept since, it votes as any validator, at heights
  where it may have voted before the first restart. Caught by both cases.
* ``lost-journal-minimum-kept-in-memory``: the loss is on disk, the height it learned is not;
  after a further crash it asks its peers again and waits for a commit it sees, so it votes
  only from the next commit's height + 2. Caught by ..._that_crashes_after_it_learned_....
* ``lost-journal-written-once-learned``: nothing is written until it learns the chain's height
  (then the minimum is); a crash before that and a restart with the journal it kept since make
  it a validator like any other. Caught by ..._that_crashes_before_it_learns_still_waits.
* ``lost-journal-record-pruned-with-the-votes``: it is written, among the votes of height 0,
  which the journal drops with every height's votes when a height commits; learning from a
  later height's certificate, committing a lower height and crashing make it vote below its
  minimum. Caught by ..._that_learned_from_a_later_certificate_holds_back.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from aethel.consensus.journal import AMNESIA_HEIGHT, AMNESIA_KIND, Amnesia
from aethel.consensus.replica import Replica
from aethel.consensus.replica_config import ReplicaConfig
from conformance.mutants import Mutant, restarting_implementation


class AmnesiaInMemory(Replica):
    """Defect: what the restart without the journal taught it lives in memory only."""

    def __init__(self, signer: Any, validators: Any, services: Any, config: ReplicaConfig) -> None:
        super().__init__(signer, validators, services, config)
        self.amnesia = Amnesia(lost_journal=config.lost_journal)

    def _set_min_vote_height(self, height: int) -> None:
        if self.amnesia.waiting:
            self.amnesia.min_vote_height = height


class MinimumInMemory(Replica):
    """Defect: the learned minimum vote height is never written down."""

    def _set_min_vote_height(self, height: int) -> None:
        if self.amnesia.waiting:
            self.amnesia.min_vote_height = height


class WrittenOnceLearned(Replica):
    """Defect: nothing about the lost journal is written until the chain's height is learned."""

    def __init__(self, signer: Any, validators: Any, services: Any, config: ReplicaConfig) -> None:
        unwritten = dataclasses.replace(config, lost_journal=False)
        super().__init__(signer, validators, services, unwritten)
        self.config = config
        if config.lost_journal:
            self.amnesia = Amnesia(lost_journal=True)


class _VotesOfHeightZero:
    """A chain store that keeps the lost-journal record among the votes of height 0, which the
    journal drops, with every height's votes, when a height commits."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def record_vote(self, height: int, view: int, kind: str, key: bytes) -> None:
        self._inner.record_vote(0 if kind == AMNESIA_KIND else height, view, kind, key)

    def get_votes(self, height: int) -> Any:
        return self._inner.get_votes(0 if height == AMNESIA_HEIGHT else height)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class RecordPrunedWithVotes(Replica):
    """Defect: the lost-journal record is pruned with the votes of committed heights."""

    def __init__(self, signer: Any, validators: Any, services: Any, config: ReplicaConfig) -> None:
        pruned = dataclasses.replace(services, store=_VotesOfHeightZero(services.store))
        super().__init__(signer, validators, pruned, config)


KeptInMemory = restarting_implementation("KeptInMemory", __name__, AmnesiaInMemory)
MinimumKeptInMemory = restarting_implementation("MinimumKeptInMemory", __name__, MinimumInMemory)
WrittenOnce = restarting_implementation("WrittenOnce", __name__, WrittenOnceLearned)
PrunedWithVotes = restarting_implementation("PrunedWithVotes", __name__, RecordPrunedWithVotes)

CAPABILITIES = ("replica", "vote-journal", "lost-journal-on-disk")

MUTANTS = [
    Mutant(
        "lost-journal-kept-in-memory",
        "a validator restarted without its vote journal keeps that, and the height it learns, in "
        "memory only: after a further crash it votes where it may have voted before",
        ("R2.4",),
        CAPABILITIES,
        KeptInMemory,
    ),
    Mutant(
        "lost-journal-minimum-kept-in-memory",
        "a validator restarted without its vote journal writes down the loss but not the height "
        "it learns: after a further crash it votes again only from the next commit it sees + 2",
        ("R2.5",),
        CAPABILITIES,
        MinimumKeptInMemory,
    ),
    Mutant(
        "lost-journal-written-once-learned",
        "a validator restarted without its vote journal writes nothing until it learns the "
        "chain's height: a further crash before that makes it vote as any validator",
        ("R2.4",),
        CAPABILITIES,
        WrittenOnce,
    ),
    Mutant(
        "lost-journal-record-pruned-with-the-votes",
        "a validator restarted without its vote journal keeps what it learned among the votes "
        "of height 0, which the journal drops at every commit: a commit below its minimum vote "
        "height and a further crash make it vote there",
        ("R2.4",),
        CAPABILITIES,
        PrunedWithVotes,
    ),
]
