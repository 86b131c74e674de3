"""The reference replica with its storage on disk, behind the ``vote-journal`` capability.

A replica opened here keeps what a node keeps (:class:`aethel.consensus.persistent.
PersistentLedger`): the state store with blocks and certificates (``state.sqlite``) and the vote
journal with the locks (``votes.sqlite``), in the directory the harness names. Opened again on
that directory, by a new process after the old one was killed, it resumes from them: a vote it
journaled is never contradicted (R2.4), a committed height is never lost (R5.4).
"""

from __future__ import annotations

from pathlib import Path

from aethel.consensus.messages import CommitCertificate
from aethel.consensus.persistent import PersistentLedger
from aethel.consensus.replica_config import Services
from aethel.consensus.signing import DirectSignatureChecker, KeySigner
from aethel.consensus.validators import parse_validator_set
from aethel.encoding import KeyPair, parse_hex
from aethel.merkle.tree import StateTree
from aethel.state.store import StateStore
from conformance.adapters.api import JSON, Hex
from conformance.adapters.errors import Rejected
from conformance.adapters.reference_errors import rejecting
from conformance.adapters.reference_replica import ReferenceReplicaObject, genesis_from_json

STATE_FILE = "state.sqlite"
JOURNAL_FILE = "votes.sqlite"


class ReferenceJournaledReplicaObject(ReferenceReplicaObject):
    """A reference replica over a :class:`PersistentLedger` in ``journal`` (module docstring)."""

    def __init__(
        self,
        validator_set: JSON,
        validator_id: str,
        seed: Hex,
        mode: str,
        genesis: JSON,
        journal: str,
        lost_journal: bool = False,
    ) -> None:
        # The checks of replica.new (mode, membership, key) and the node's monitoring.
        super().__init__(validator_set, validator_id, seed, mode, genesis, lost_journal)
        if not isinstance(journal, str) or not journal:
            raise Rejected("journal is a directory path")
        directory = Path(journal)
        directory.mkdir(parents=True, exist_ok=True)
        store = StateStore(directory / STATE_FILE)
        try:
            self.ledger = self.open_ledger(store, genesis, directory / JOURNAL_FILE)
        except BaseException:
            store.close()
            raise
        services = Services(
            DirectSignatureChecker(),
            self.validator_class(self.ledger),
            self.ledger,
            self.ledger,
            self.source,
        )
        key = KeyPair.from_seed(parse_hex(seed, length=32))
        self.replica = self.replica_class(
            KeySigner(validator_id, key),
            parse_validator_set(validator_set),
            services,
            self.replica.config,  # the parent's, its mode checked
        )
        self.store = self.ledger  # type: ignore[assignment]

    def open_ledger(self, store: StateStore, genesis: JSON, journal: Path) -> PersistentLedger:
        """Return the node's ledger over ``store`` with its vote journal in ``journal``."""
        return PersistentLedger(store, genesis_from_json(genesis), journal)

    def _load_synced_state(self, state: JSON, certificate: CommitCertificate) -> None:
        super()._load_synced_state(state, certificate)
        assert isinstance(state, dict)
        tree = StateTree()
        tree.batch_update(list(state.items()))
        self.ledger.receive_snapshot(tree)

    def close(self) -> None:
        """Close the store and the journal (what they hold is already on disk)."""
        self.ledger.close()


class ReferenceVoteJournal:
    """Capability ``vote-journal`` of the reference."""

    object_class: type[ReferenceJournaledReplicaObject] = ReferenceJournaledReplicaObject
    #: Whether the replicas it opens restarted without their vote journal.
    lost_journal = False

    @rejecting
    def open(
        self,
        validator_set: JSON,
        validator_id: str,
        seed: Hex,
        mode: str,
        genesis: JSON,
        journal: str,
    ) -> ReferenceJournaledReplicaObject:
        return self.object_class(
            validator_set, validator_id, seed, mode, genesis, journal, self.lost_journal
        )


class ReferenceLostJournalOnDisk(ReferenceVoteJournal):
    """Capability ``lost-journal-on-disk`` of the reference: the replicas of the
    ``vote-journal`` capability given (so a mutant's replica is the one restarted), started
    without their vote journal, keeping the new one in ``journal``."""

    lost_journal = True

    def __init__(self, journals: ReferenceVoteJournal) -> None:
        self.object_class = journals.object_class
