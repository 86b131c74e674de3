"""The replica's state: chain position, per-height state, stakes, vote journal on restart.

:class:`ReplicaState` is the root of the replica's classes. It sets up the state every rule
needs, on start and on a restart from the chain store: the chain position and the validator
sets (R2.3, R4.3), the lock kept across a restart (R2.6), the vote journal and the amnesia
record of a replica restarted without it (R2.4, R4.2; :data:`AMNESIA_HEIGHT`), and what one
height and view hold (:meth:`ReplicaState._reset_height`). It also declares the rules the
subclasses define, so that each concept class can call them.

The concept classes built on it, combined by :class:`aethel.consensus.replica_base.ReplicaBase`:

* :mod:`aethel.consensus.replica_checks`: signature and certificate checks (R2.3, R7.5);
* :mod:`aethel.consensus.replica_timing`: latency samples and the view timeout (R2.6, R6.5);
* :mod:`aethel.consensus.replica_evidence`: the evidence pool (R1.5, R4.2, R8.5);
* :mod:`aethel.consensus.replica_votes`: journaling, sending and counting votes (R2.4, R4.2);
* :mod:`aethel.consensus.replica_sync`: catching up and helping lagging validators (R3.1, R3.5).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from aethel.consensus.block import GENESIS_PARENT, ProofBlock
from aethel.consensus.catchup import VerifiedChain
from aethel.consensus.events import Log, Output
from aethel.consensus.evidence import Evidence
from aethel.consensus.interfaces import BlockVerdict, Execution
from aethel.consensus.messages import (
    Commit,
    CommitCertificate,
    Message,
    NewView,
    Prepare,
    PrepareCertificate,
    PrePrepare,
    ViewChange,
)
from aethel.consensus.replica_config import MODES, ReplicaConfig, Services
from aethel.consensus.signing import SignatureItem, Signer
from aethel.consensus.stats import ReplicaStats
from aethel.consensus.validators import ValidatorSet
from aethel.consensus.viewsync import ViewTally
from aethel.consensus.votes import VoteCollector
from aethel.errors import ProtocolViolation, UsageError

#: The vote journal holds, at this height (above any the chain reaches, so never pruned), the
#: amnesia record of a replica restarted without its journal: one entry per minimum vote height
#: it learned, as the view (0: none yet). A replica that crashes again before it catches up
#: finds it on restart and stays amnesic, instead of trusting a journal that misses the votes
#: signed before the first crash.
AMNESIA_HEIGHT = 2**62
AMNESIA_KIND = "min-vote-height"


@dataclass(slots=True)
class Proposal:
    """An accepted proposal of one view: the pre-prepare, its verdict and its execution."""

    pre_prepare: PrePrepare
    verdict: BlockVerdict
    execution: Execution

    @property
    def digest(self) -> bytes:
        return self.pre_prepare.digest

    @property
    def block(self) -> ProofBlock:
        return self.pre_prepare.block


class ReplicaState:
    """One validator's consensus state, set up from its chain store (see the module docstring)."""

    #: The time of the event being processed (set by every entry point).
    _now: int
    #: When this replica entered its current height (set on start, on a commit and on a sync).
    _height_started: int

    def __init__(
        self,
        signer: Signer,
        validators: ValidatorSet,
        services: Services,
        config: ReplicaConfig | None = None,
    ) -> None:
        if validators.get(signer.validator_id) is None and validators.total_stake <= 0:
            raise UsageError("empty validator set")
        self.config = config or ReplicaConfig()
        if self.config.mode not in MODES:
            raise UsageError(f"mode must be one of {MODES}, got {self.config.mode!r}")
        self.signer = signer
        self.id = signer.validator_id
        self.services = services
        self.validators = validators
        #: The epoch's signed set as it started: evidence is checked against it, so an offender
        #: slashed below the minimum stake (and out of ``validators``) stays accountable.
        self.epoch_validators = validators
        self.stats = ReplicaStats()
        self._out: list[Output] = []
        self._preverified: dict[SignatureItem, bool] = {}
        self._batch: list[tuple[Message, str]] = []
        self._latency: deque[int] = deque(maxlen=self.config.latency_window)
        self._verified_certs: set[bytes] = set()
        self._evidence_pool: dict[tuple[str, str, int], Evidence] = {}
        self._slashed_keys: set[tuple[str, str, int]] = set()
        self._future: dict[int, list[Message]] = {}
        self._buffered = 0
        self._sync_target = 0
        store = services.store
        marks = [v for v, kind in store.get_votes(AMNESIA_HEIGHT) if kind == AMNESIA_KIND]
        #: Restarted without its vote journal, now or before it caught up since (see above).
        self._lost_journal = self.config.lost_journal or bool(marks)
        self._min_vote_height = 0 if self.config.lost_journal else max(marks, default=0)
        if self.config.lost_journal:
            store.record_vote(AMNESIA_HEIGHT, 0, AMNESIA_KIND, b"")
        #: The catch-up chain verified by :meth:`check_sync`, kept for :meth:`on_sync_completed`.
        self._verified_sync: VerifiedChain | None = None
        latest = services.store.latest()
        #: The set of the parent height: the one that signed ``last_certificate`` (R2.3).
        self.parent_validators = validators
        if latest is None:
            self.height = 1
            self.parent = GENESIS_PARENT
            self.state_root = services.executor.genesis_root()
            self.last_certificate: CommitCertificate | None = None
        else:
            self.height = latest.height + 1
            self.parent = latest.digest
            self.state_root = latest.post_root
            self.last_certificate = latest.certificate
            self.parent_validators = self._get_set_of(latest.height)
            self._adopt_stakes()
        self._reset_height(0)

    @property
    def is_leader(self) -> bool:
        """Return True if this replica leads the current (height, view)."""
        return self.validators.get_leader(self.height, self.view).id == self.id

    def _flush(self) -> list[Output]:
        out, self._out = self._out, []
        return out

    def _log(self, level: str, event: str, detail: str = "") -> None:
        self._out.append(Log(level, event, detail))

    def _get_set_of(self, height: int) -> ValidatorSet:
        """Return the set of committed ``height`` from its pre-state (a restart, R2.3, R4.3).

        The pre-state of ``height`` is the post-state of the certificate before it (the genesis
        at height 1). A store that no longer holds it (a snapshot was installed at ``height``)
        leaves only the set after it, which differs only if block ``height`` slashed someone.
        """
        if height == 1:
            root: bytes | None = self.services.executor.genesis_root()
        else:
            previous = self.services.store.get_certificate(height - 1)
            root = None if previous is None else previous.post_root
        if root is None:
            return self._stakes_at(self.state_root)
        try:
            return self._stakes_at(root)
        except ProtocolViolation:
            return self._stakes_at(self.state_root)

    def _stakes_at(self, root: bytes) -> ValidatorSet:
        stakes = self.services.executor.get_stakes(root)
        base = self.epoch_validators
        return base.with_stakes({v: s for v, s in stakes.items() if base.stake_of(v) != s})

    def _leader_id(self, view: int) -> str:
        return self.validators.get_leader(self.height, view).id

    def _reset_height(self, view: int) -> None:
        self.view = view
        self.proposals: dict[int, Proposal] = {}
        self._executions: dict[bytes, tuple[BlockVerdict, Execution]] = {}
        self._rejected: set[bytes] = set()
        #: Blocks with an intrinsically invalid proof: votes for them are false claims (R1.5).
        self._invalid_blocks: dict[bytes, tuple[ProofBlock, int]] = {}
        self._prepares: dict[int, VoteCollector[Prepare]] = {}
        self._commits: dict[int, VoteCollector[Commit]] = {}
        self._view_changes: dict[int, VoteCollector[ViewChange]] = {}
        self._new_view_sent: set[int] = set()
        #: Who asked for which view of this height (view synchronisation, R2.5, R2.6).
        self._view_tally = ViewTally()
        #: The view's timer runs (view 0, or q(W) stake asked for it, or its NEW-VIEW came).
        self._established = view == 0
        #: Deadline of the latest timer set for this view: an earlier one is superseded.
        self._view_deadline = 0
        #: This validator's VIEW-CHANGE at this height (for the view it last asked for).
        self._own_view_change: ViewChange | None = None
        #: Whether every validator was sent (a copy of) it, not only the leader (collector mode).
        self._own_view_change_public = False
        self._prepared_views: set[int] = set()
        self.prepared: PrepareCertificate | None = None
        self._prepared_block: ProofBlock | None = None
        self._vote_sent_at: dict[tuple[int, str], int] = {}
        self._future_views: dict[int, list[Message]] = {}
        self._journal = dict(self.services.store.get_votes(self.height))
        #: validator -> when it was last sent a certificate of a height it lags at.
        self._helped: dict[str, int] = {}
        self._ahead: set[str] = set()
        self._asked_sync = False
        lock = self.services.store.get_lock(self.height)
        if lock is not None:  # a restart keeps the lock it voted COMMIT on (R2.6)
            self.prepared, self._prepared_block = lock

    def _adopt_stakes(self) -> None:
        stakes = self.services.executor.get_stakes(self.state_root)
        changed = {v: s for v, s in stakes.items() if self.validators.stake_of(v) != s}
        if changed:
            self.validators = self.validators.with_stakes(changed)

    def _reject(self, rule_id: str, reason: str) -> None:
        self.stats.rejected += 1
        self._log("warning", "rejected", f"[{rule_id}] {reason}")

    # ------------------------------------------------------------------ routing (ReplicaBase)

    def _replay_future(self) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ rules (subclasses)

    def _on_pre_prepare(self, pp: PrePrepare) -> None:
        raise NotImplementedError

    def _accept_pre_prepare(self, pp: PrePrepare, trusted: bool) -> None:
        raise NotImplementedError

    def _on_prepare(self, vote: Prepare, trusted: bool = False) -> None:
        raise NotImplementedError

    def _on_commit(self, vote: Commit, trusted: bool = False) -> None:
        raise NotImplementedError

    def _on_prepare_certificate(self, cert: PrepareCertificate) -> None:
        raise NotImplementedError

    def _on_commit_certificate(self, cert: CommitCertificate) -> None:
        raise NotImplementedError

    def _learn_commit(self, cert: CommitCertificate) -> None:
        raise NotImplementedError

    def _on_view_change(self, vc: ViewChange, trusted: bool = False) -> None:
        raise NotImplementedError

    def _on_new_view(self, nv: NewView, trusted: bool = False) -> None:
        raise NotImplementedError

    def _start_view_change(self, view: int) -> None:
        raise NotImplementedError

    def _on_view_timeout(self) -> None:
        raise NotImplementedError

    def _resend_view_change(self) -> None:
        raise NotImplementedError

    def _enter_view(self, view: int) -> None:
        raise NotImplementedError

    def _propose(self) -> None:
        raise NotImplementedError

    def _build_block(self) -> ProofBlock:
        raise NotImplementedError
