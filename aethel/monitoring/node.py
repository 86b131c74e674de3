"""One node's monitoring: its metrics and its health view, fed by its replica's events.

Spec: R8.1 (per-height metrics), R8.2 (mempool), R8.3 (accuracy alerts), R8.4 (cumulative
rewards), R8.5 (evidence counted), R8.6 (health view). A node shell (the simulator, a network
shell, the conformance adapter) hands the monitor the messages its replica receives and the
outputs it returns; the monitor keeps

* one :class:`HeightRecord` per committed height (duration in integer nanoseconds of the node's
  time, from the replica entering the height to its commit: ``Committed.now - started``);
* the node's Prometheus metrics (:class:`~aethel.monitoring.metrics.NodeMetrics`);
* the votes it saw: validly signed PREPAREs and COMMITs it received, and the COMMITs inside the
  certificates it committed with, by height; at heights of protocol version 2, whose votes go to
  a collector and travel on as aggregate certificates (V2.7, V2.10), the members of the signer
  bitmap of every valid certificate it received (the aggregate checked against the members'
  registered BLS keys, V2.8), broadcast itself as the collector, or committed with;
* live verification accuracy (R8.3): every validly signed PREPARE or COMMIT it receives, and each
  one it sends itself, is a verdict that the block is valid, judged against the node's own
  validation of that block, as its outputs show it: its own PREPARE or COMMIT for a block or its
  commit of it means valid, false-claim evidence it found against a block means invalid (a shell
  that sees the validation directly can call :meth:`NodeMonitor.on_block_verdict`). Judged
  verdicts feed :class:`~aethel.monitoring.accuracy.AccuracyTracker`; an alert is logged as a
  warning on ``aethel.monitoring``, counted in Prometheus and shown in the health view while open.

The health view (:meth:`NodeMonitor.get_health`) follows spec/monitoring.md: a validator is
active when the node saw a vote from it in any of the last 10 committed heights; consensus
latency is the per-height duration over those heights; proof throughput is the proofs they
committed divided by the sum of their durations. With the node's mempool attached, the view and
the Prometheus gauges read its size and processing rate at the moment they are asked (R8.2).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from aethel.consensus.events import Broadcast, Committed, EvidenceFound, Output, Send
from aethel.consensus.evidence import signed_by
from aethel.consensus.messages import (
    Commit,
    CommitCertificate,
    Message,
    Prepare,
    PrepareCertificate,
)
from aethel.consensus.signing import DirectSignatureChecker
from aethel.consensus.v2.version import version_of_height
from aethel.consensus.validators import ValidatorSet
from aethel.consensus.votes import CertificateCheck, aggregate_certificates, certificate_members
from aethel.monitoring.accuracy import AccuracyAlert, VerdictBook
from aethel.monitoring.metrics import NodeMetrics
from aethel.proofs.mempool import Mempool

logger = logging.getLogger("aethel.monitoring")

#: The health view looks at this many of the latest committed heights (spec/monitoring.md).
HEALTH_HEIGHTS = 10


@dataclass(frozen=True, slots=True)
class HeightRecord:
    """The metrics one committed height emits at one node (R8.1)."""

    height: int
    view: int
    duration_ns: int
    participants: int
    proof_count: int
    total_difficulty: int


@dataclass(frozen=True, slots=True)
class HealthView:
    """What an operator sees first (R8.6)."""

    height: int
    active_validators: dict[str, int]
    consensus_latency_ns: tuple[int, ...]
    proof_throughput_per_s: float
    #: Pending proofs and transfers and admission decisions per second; None without a mempool.
    mempool_size: int | None = None
    mempool_transactions: int | None = None
    mempool_processing_rate: float | None = None
    #: Accuracy alerts open now (R8.3), with the window's current numbers.
    open_alerts: tuple[AccuracyAlert, ...] = ()


class NodeMonitor:
    """The monitoring of one node, fed with its replica's messages and outputs."""

    def __init__(
        self,
        node: str,
        validators: ValidatorSet,
        *,
        mempool: Mempool | None = None,
        certificates: CertificateCheck | None = None,
        activation: int | None = None,
    ) -> None:
        """``certificates``: the check of version-2 certificates (default: the aggregate check,
        :func:`~aethel.consensus.votes.aggregate_certificates`); a node shares its replica's.
        ``activation``: the first height of version 2 (V2.1; default: a version-2 set's
        ``first_height``): a certificate counts only in its height's form (V2.2)."""
        self.node = node
        self.metrics = NodeMetrics(node)
        self.records: list[HeightRecord] = []
        self.mempool = mempool
        self._validators = validators
        self._stakes = {member.id: member.stake for member in validators.validators}
        self._voters: dict[int, set[str]] = {}
        self._checker = DirectSignatureChecker()
        self._check_aggregate = certificates or aggregate_certificates()
        if activation is None and validators.v2 is not None:
            activation = validators.v2.first_height
        self._activation = activation
        self._verdicts = VerdictBook()
        if mempool is not None:
            self.metrics.follow_mempool(
                lambda: mempool.stats().size, lambda: mempool.stats().processing_rate
            )

    def on_message(self, message: Message) -> None:
        """Note a vote the replica received, if it is of its height's version and validly
        signed by a member (R8.3, R8.6; a version-2 vote with the member's BLS key, V2.3);
        in protocol version 2, also the votes of a valid aggregate certificate (V2.8)."""
        if isinstance(message, Prepare | Commit):
            version = version_of_height(message.height, self._activation)
            if message.version == version and signed_by(
                message, self._validators, self._checker, version
            ):
                self._voters.setdefault(message.height, set()).add(message.validator)
                self._on_vote(message)
        elif (
            isinstance(message, PrepareCertificate | CommitCertificate)
            and message.v2 is not None
            and version_of_height(message.height, self._activation) == 2
            and self._check_aggregate(message, self._validators) == ""
        ):
            self._on_certificate(message)

    def _on_certificate(self, certificate: PrepareCertificate | CommitCertificate) -> None:
        """Count each member of a version-2 certificate's bitmap as a vote (V2.7)."""
        phase = "prepare" if isinstance(certificate, PrepareCertificate) else "commit"
        voters = certificate_members(certificate, self._validators)
        self._voters.setdefault(certificate.height, set()).update(voters)
        for validator in voters:
            key = (validator, certificate.height, certificate.view, phase)
            self._judge(self._verdicts.on_vote(key, certificate.digest))

    def on_outputs(self, outputs: Iterable[Output]) -> None:
        """Record the commits, evidence and the node's own votes among a replica's outputs."""
        for out in outputs:
            if isinstance(out, Committed):
                self.on_block_verdict(out.block.digest, out.height, True)
                self.on_commit(out)
            elif isinstance(out, EvidenceFound):
                self.metrics.on_evidence(out)
                block = out.evidence.block
                if out.offence == "false-claim" and block is not None:
                    self.on_block_verdict(block.digest, block.height, False)
            elif isinstance(out, Broadcast | Send):
                vote = out.message
                if isinstance(vote, Prepare | Commit) and vote.validator == self.node:
                    # The node votes for a block only after validating it (R1.1).
                    self.on_block_verdict(vote.digest, vote.height, True)
                    self._on_vote(vote)
                elif isinstance(vote, PrepareCertificate | CommitCertificate) and vote.v2:
                    # The collector's own certificate: it aggregated votes it checked (V2.9).
                    self._on_certificate(vote)

    def on_block_verdict(self, digest: bytes, height: int, valid: bool) -> None:
        """Record the node's own validation of the block ``digest``; judge the votes for it."""
        self._judge(self._verdicts.on_outcome(digest, height, valid))

    def _on_vote(self, vote: Prepare | Commit) -> None:
        key = (vote.validator, vote.height, vote.view, vote.TYPE)
        self._judge(self._verdicts.on_vote(key, vote.digest))

    def _judge(self, verdicts: list[tuple[str, bool]]) -> None:
        for validator, correct in verdicts:
            alert = self.metrics.observe_claim(validator, correct)
            if alert is not None:
                logger.warning("node %s: %s", self.node, alert.message())

    @property
    def alerts(self) -> list[AccuracyAlert]:
        """Return every accuracy alert raised so far, in order (R8.3)."""
        return list(self.metrics.accuracy_tracker.alerts)

    def get_accuracy(self, validator: str) -> float | None:
        """Return ``validator``'s accuracy over its window, or None before any verdict (R8.3)."""
        return self.metrics.accuracy_tracker.accuracy(validator)

    def on_commit(self, committed: Committed) -> HeightRecord:
        """Record a committed height (R8.1) and the rewards its transition paid (R8.4)."""
        self.metrics.on_commit(committed)
        execution = committed.execution
        record = HeightRecord(
            height=committed.height,
            view=committed.view,
            duration_ns=committed.now - committed.started,
            participants=committed.certificate.signer_count,
            proof_count=execution.proof_count,
            total_difficulty=execution.total_difficulty,
        )
        self.records.append(record)
        if committed.certificate.v2 is not None:
            # A version-2 certificate names its voters by the set's bitmap (V2.8); the replica
            # committed by it, so its members' COMMITs count (in broadcast mode too, where no
            # collector sends the node a certificate).
            self._on_certificate(committed.certificate)
        else:
            voters = certificate_members(committed.certificate, self._validators)
            self._voters.setdefault(committed.height, set()).update(voters)
        self._verdicts.on_commit(committed.height)
        self._stakes.update(execution.stakes)
        return record

    @property
    def rewards(self) -> dict[str, int]:
        """Return each validator's cumulative rewards since genesis (R8.4)."""
        return dict(sorted(self.metrics.reward_tracker.totals.items()))

    def get_health(self) -> HealthView:
        """Return the health view over the last :data:`HEALTH_HEIGHTS` committed heights."""
        recent = self.records[-HEALTH_HEIGHTS:]
        active: set[str] = set()
        for record in recent:
            active |= self._voters.get(record.height, set())
        total_ns = sum(r.duration_ns for r in recent)
        proofs = sum(r.proof_count for r in recent)
        stats = None if self.mempool is None else self.mempool.stats()
        return HealthView(
            height=self.records[-1].height if self.records else 0,
            active_validators={v: self._stakes.get(v, 0) for v in sorted(active)},
            consensus_latency_ns=tuple(r.duration_ns for r in recent),
            proof_throughput_per_s=proofs / (total_ns / 1e9) if total_ns > 0 else 0.0,
            mempool_size=None if stats is None else stats.size,
            mempool_transactions=None if stats is None else stats.transactions,
            mempool_processing_rate=None if stats is None else stats.processing_rate,
            open_alerts=tuple(self.metrics.accuracy_tracker.open_alerts()),
        )
