"""The vote journal: what a validator signed, kept so that it never signs a conflicting vote.

Owns: R2.4 (safety: an honest validator signs at most one proposal, PREPARE, COMMIT and
VIEW-CHANGE per height and view, across restarts, so no two certificates of one height can
both hold its vote).

Every proposal and vote is recorded in the chain store before the output that sends it exists
(:func:`may_sign`; the shell carries outputs out in order, so nothing leaves that the disk has
not seen). A restarted validator reads its votes back with the height
(:meth:`aethel.consensus.replica_state.HeightState.open`) and signs again only what it signed
before.

A validator restarted without its journal (``ReplicaConfig.lost_journal``) may have voted at
any height it has not seen committed. It signs nothing until it learns the peers' latest
certified height h, and then nothing below h + 2 (:meth:`Amnesia.learn`). That minimum is an
*amnesia record* in the journal itself, at :data:`AMNESIA_HEIGHT`, so a validator that crashes
again before it gets there stays as careful instead of trusting the partial journal it kept
since.
"""

from __future__ import annotations

from dataclasses import dataclass

from aethel.consensus.interfaces import ChainStore

#: The height of the amnesia record: above any the chain reaches, so never pruned. One entry
#: per minimum vote height learned, as the view (0: none yet).
AMNESIA_HEIGHT = 2**62
AMNESIA_KIND = "min-vote-height"


@dataclass(slots=True)
class Amnesia:
    """Whether the validator lost its journal, and from which height it may vote again."""

    #: Restarted without its vote journal, now or before it caught up since.
    lost_journal: bool = False
    #: The least height it may vote at (0: not known yet, so it votes nowhere).
    min_vote_height: int = 0

    @classmethod
    def load(cls, store: ChainStore, lost_journal: bool) -> Amnesia:
        """Read the amnesia record; a validator that lost its journal now starts a new one."""
        marks = [v for v, kind in store.get_votes(AMNESIA_HEIGHT) if kind == AMNESIA_KIND]
        amnesia = cls(lost_journal or bool(marks), 0 if lost_journal else max(marks, default=0))
        if lost_journal:
            store.record_vote(AMNESIA_HEIGHT, 0, AMNESIA_KIND, b"")
        return amnesia

    @property
    def waiting(self) -> bool:
        """Return True while the validator lost its journal and has not learned where the
        chain is (it must ask its peers)."""
        return self.lost_journal and self.min_vote_height == 0

    def learn(self, height: int, store: ChainStore) -> None:
        """Vote again only from ``height`` on, durably (the first height learned counts)."""
        if self.waiting:
            self.min_vote_height = height
            store.record_vote(AMNESIA_HEIGHT, height, AMNESIA_KIND, b"")


def may_sign(
    amnesia: Amnesia,
    journal: dict[tuple[int, str], bytes],
    store: ChainStore,
    height: int,
    view: int,
    kind: str,
    key: bytes,
) -> bool:
    """Return True if the validator may sign ``kind`` with content ``key`` at (height, view),
    recording it in ``journal`` and durably in ``store`` first (R2.4).

    It may if it signed nothing of that kind there yet, or exactly ``key`` (the same message
    again); never while it waits to learn where the chain is, nor below its minimum vote height.
    """
    if amnesia.waiting:
        return False  # until it learns where the chain is, any height may hold old votes
    if height < amnesia.min_vote_height:
        return False
    prior = journal.get((view, kind))
    if prior is not None:
        return prior == key
    journal[(view, kind)] = key
    store.record_vote(height, view, kind, key)
    return True
