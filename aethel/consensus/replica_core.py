"""What every rule group of the replica shares: its chain position, its state objects, its
outputs; and the validator set of each height on a restart.

Owns: no rule; it sets up the state every rule group reads (the validator set of each height
from the committed state, as :mod:`aethel.consensus.validators` keeps R4.3).

:class:`ReplicaCore` is the root of the replica's classes. It builds the state on start and on a
restart from the chain store:

* the chain position: ``height`` (the height being decided), ``parent``, ``state_root`` and
  ``last_certificate`` of the height before, the validator sets (``validators`` of this height,
  ``parent_validators`` of the height before, which signed ``last_certificate``, and
  ``epoch_validators`` as the epoch started);
* ``current``, the :class:`~aethel.consensus.replica_state.HeightState` of the height being
  decided, replaced when it closes;
* the long-lived state, each part kept by one rule group (``sync``, ``evidence``, ``inbox``,
  ``amnesia``, the latency samples and the certificate cache).

The rule groups are its subclasses, one module each, combined by
:class:`aethel.consensus.replica.Replica`; ARCHITECTURE.md ("The replica") maps every rule to
its module. It declares the steps one group asks of another, so that each can call them.

It also knows which protocol version each height runs (spec/consensus-v2.md, V2.1):
:attr:`ReplicaCore.activation`, the height version 2 starts at, comes from the genesis
(:attr:`~aethel.consensus.replica_config.ReplicaConfig.protocol_v2_height`) or else from a
version-2 validator set's ``first_height``; :meth:`ReplicaCore._version_of` applies
:func:`aethel.consensus.v2.version.version_of_height`, and :meth:`ReplicaCore._collector_id`
names who collects the votes of a view (the leader, or in version 2 the collector of V2.10).
"""

from __future__ import annotations

from collections import deque
from typing import Any

from aethel.consensus.block import GENESIS_PARENT, ProofBlock
from aethel.consensus.events import Log, Output
from aethel.consensus.evidence import Evidence
from aethel.consensus.journal import Amnesia
from aethel.consensus.messages import (
    CommitCertificate,
    Message,
    PrepareCertificate,
    PrePrepare,
    SignedMessage,
    ViewChange,
)
from aethel.consensus.phases import ViewEvent
from aethel.consensus.replica_config import MODES, ReplicaConfig, Services
from aethel.consensus.replica_state import (
    EvidencePool,
    HeightState,
    Inbox,
    Proposal,
    SyncState,
)
from aethel.consensus.signing import SignatureItem, Signed, Signer
from aethel.consensus.stats import ReplicaStats
from aethel.consensus.v2.checks import DIRECT
from aethel.consensus.v2.version import VERSION_RULE, version_of_height
from aethel.consensus.validators import ValidatorSet
from aethel.consensus.votes import AddResult, Certificate, CertificateCheck, VoteCollector
from aethel.errors import ProtocolViolation, UsageError


class ReplicaCore:
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
        #: The height protocol version 2 starts at (V2.1), or None: version 1 at every height.
        self.activation = self.config.protocol_v2_height
        if self.activation is None and validators.v2 is not None:
            self.activation = validators.v2.first_height
        if self.activation is not None:
            version_of_height(1, self.activation)  # refuses an activation height below 1
            if validators.v2 is None:
                raise ProtocolViolation(
                    VERSION_RULE, "version 2 is named but the validator set has no BLS keys"
                )
        self._collectors: dict[tuple[int, int], str] = {}
        #: The BLS operations on version-2 votes and certificates.
        self.aggregates = services.aggregates or DIRECT
        self.stats = ReplicaStats()
        self._out: list[Output] = []
        self._preverified: dict[SignatureItem, bool] = {}
        self._batch: list[tuple[Message, str]] = []
        #: The transport peer of the message being handled ("" if unknown; N6's shares).
        self._peer = ""
        self._latency: deque[int] = deque(maxlen=self.config.latency_window)
        self._verified_certs: set[bytes] = set()
        self.evidence = EvidencePool()
        self.inbox = Inbox()
        self.sync = SyncState()
        store = services.store
        self.amnesia = Amnesia.load(store, self.config.lost_journal)
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
            self.last_certificate = latest
            self.parent_validators = self._get_set_of(latest.height)
            self._adopt_stakes()
        self.current = self._height_state()

    def _height_state(self) -> HeightState:
        """Return a new state for the height the chain position names (in view 0, with this
        validator's journal and lock): the one place a height is opened."""
        return HeightState.open(self.height, self.services.store)

    @property
    def view(self) -> int:
        """Return the view this replica is in at its height."""
        return self.current.view

    @property
    def proposals(self) -> dict[int, Proposal]:
        """Return the proposals accepted at this height, by view."""
        return self.current.proposals

    @property
    def prepared(self) -> PrepareCertificate | None:
        """Return the prepare certificate this replica is locked on at its height, if any."""
        return self.current.prepared

    @property
    def is_leader(self) -> bool:
        """Return True if this replica leads the current (height, view)."""
        return self.validators.get_leader(self.height, self.view).id == self.id

    def _flush(self) -> list[Output]:
        out, self._out = self._out, []
        return out

    def _log(self, level: str, event: str, detail: str = "") -> None:
        self._out.append(Log(level, event, detail))

    def _reject(self, rule_id: str, reason: str) -> None:
        self.stats.rejected += 1
        self._log("warning", "rejected", f"[{rule_id}] {reason}")

    def _leader_id(self, view: int) -> str:
        return self.validators.get_leader(self.height, view).id

    def _version_of(self, height: int) -> int:
        """Return the protocol version ``height`` runs (V2.1)."""
        return 1 if self.activation is None else version_of_height(height, self.activation)

    def version_of(self, height: int) -> int:
        """Return the protocol version ``height`` runs (V2.1)."""
        return self._version_of(height)

    def collector_of(self, view: int) -> str:
        """Return who collects the votes of ``view`` at this height (collector mode, V2.10)."""
        return self._collector_id(view)

    def _collector_id(self, view: int) -> str:
        """Return who collects the PREPARE and COMMIT votes of ``view`` at this height in
        collector mode: the leader in version 1, the collector of V2.10 in version 2."""
        if self.activation is None or self._version_of(self.height) == 1:
            return self._leader_id(view)
        key = (self.height, view)
        chosen = self._collectors.get(key)
        if chosen is None:
            v2 = self.validators.v2
            assert v2 is not None  # checked on start: a version-2 height has a version-2 set
            roster = v2.roster
            leader = roster.index[self._leader_id(view)]
            index = v2.collector(self.validators.seed, *key, leader)
            if len(self._collectors) >= 64:
                self._collectors.clear()
            chosen = self._collectors[key] = roster.members[index].id
        return chosen

    def _get_set_of(self, height: int) -> ValidatorSet:
        """Return the set of committed ``height`` from its pre-state (a restart, R4.3).

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

    def _adopt_stakes(self) -> None:
        stakes = self.services.executor.get_stakes(self.state_root)
        changed = {v: s for v, s in stakes.items() if self.validators.stake_of(v) != s}
        if changed:
            self.validators = self.validators.with_stakes(changed)

    # ----------------------------------------------------- steps one group asks of another
    # Each is defined by the rule group named above it; the stubs let the others call them.

    # aethel.consensus.replica: routing, and opening and committing heights
    def _dispatch(self, message: Message) -> None:
        raise NotImplementedError

    def _route(self, message: Message, height: int, view: int | None) -> bool:
        raise NotImplementedError

    def _dispatch_from(self, peer: str, message: Message, *, route_only: bool = False) -> None:
        raise NotImplementedError

    def _open_height(self) -> None:
        raise NotImplementedError

    def _commit(self, cert: CommitCertificate, proposal: Proposal) -> None:
        raise NotImplementedError

    # aethel.consensus.certificates
    def _verify(self, public_key: bytes, payload: bytes, signature: bytes) -> bool:
        raise NotImplementedError

    def _signed_by_member(self, message: SignedMessage) -> bool:
        raise NotImplementedError

    def _signature_reason(self, public_key: bytes, signed: Signed, what: str) -> str:
        raise NotImplementedError

    def _signature_fails(self, public_key: bytes, signed: Signed, what: str) -> bool:
        raise NotImplementedError

    def _check_cert(self, cert: Certificate, validators: ValidatorSet | None = None) -> str:
        raise NotImplementedError

    def _check_cert_by(self, cert: Certificate, validators: ValidatorSet) -> str:
        raise NotImplementedError

    def _wrong_version(self, message: Any) -> bool:
        raise NotImplementedError

    def _version_reason(self, cert: Certificate) -> str:
        raise NotImplementedError

    def _embedded_certificates(self) -> CertificateCheck:
        raise NotImplementedError

    # aethel.consensus.timing
    def observed_latency(self) -> int:
        raise NotImplementedError

    def _sample_latency(self, view: int, kind: str) -> None:
        raise NotImplementedError

    def _arm_view_timer(self) -> None:
        raise NotImplementedError

    def _arm_resend_timer(self) -> None:
        raise NotImplementedError

    def _timer_superseded(self) -> bool:
        raise NotImplementedError

    # aethel.consensus.evidence_pool
    def _report(self, evidence: Evidence) -> None:
        raise NotImplementedError

    def _evidence_for_block(self) -> list[Evidence]:
        raise NotImplementedError

    # aethel.consensus.proposals
    def _build_block(self) -> ProofBlock:
        raise NotImplementedError

    def _accept_pre_prepare(self, pp: PrePrepare, trusted: bool) -> None:
        raise NotImplementedError

    # aethel.consensus.voting
    def _may_vote(self, view: int, kind: str, key: bytes) -> bool:
        raise NotImplementedError

    def _set_min_vote_height(self, height: int) -> None:
        raise NotImplementedError

    def _add_vote(
        self, table: dict[int, VoteCollector[Any]], vote: SignedMessage, trusted: bool
    ) -> AddResult:
        raise NotImplementedError

    def _send_prepare(self, view: int, digest: bytes) -> None:
        raise NotImplementedError

    def _check_prepare_quorum(self, view: int) -> None:
        raise NotImplementedError

    def _check_commit_quorums(self) -> None:
        raise NotImplementedError

    def _learn_commit(self, cert: CommitCertificate) -> None:
        raise NotImplementedError

    # aethel.consensus.viewchange
    def _on_view_change(self, vc: ViewChange, trusted: bool = False) -> None:
        raise NotImplementedError

    def _start_view_change(self, view: int, event: ViewEvent = ViewEvent.TIMEOUT) -> None:
        raise NotImplementedError

    # aethel.consensus.syncing
    def _request_sync(self, cert: CommitCertificate) -> None:
        raise NotImplementedError

    def _on_stale_view_change(self, vc: ViewChange) -> None:
        raise NotImplementedError

    def _share_latest_commit(self) -> None:
        raise NotImplementedError

    def _help_lagging(self, validator: str, height: int) -> None:
        raise NotImplementedError
