"""Mutants of the replica's protocol version 2: a height takes a message of the other version
(V2.2), the collector of V2.10 collects in later views, a collector's forged certificate counts
(V2.8, V2.11). Each is the reference replica with one plausible mistake of an implementation
moving from version 1 to version 2; conformance/suite/test_replica_v2.py must catch it.
"""

from __future__ import annotations

from typing import Any

from aethel.consensus.messages import CommitCertificate, Prepare, PrepareCertificate
from aethel.consensus.replica import Replica
from aethel.consensus.signing import Signed
from aethel.consensus.v2.certificate import Certificate as AggregateCertificate
from aethel.consensus.v2.certificate import bitmap
from aethel.consensus.v2.collector import choose_collector
from aethel.consensus.validators import ValidatorSet
from aethel.consensus.votes import (
    AggregateVotes,
    Certificate,
    VoteCollector,
    aggregate_certificates,
    signature_certificates,
)
from conformance.mutants import Mutant, replica_implementation


class EitherDomainReplica(Replica):
    """Defect: once version 2 is named, an Ed25519 signature is taken if it verifies under the
    height's tag or the other version's (a lenient upgrade: "nodes may still sign /v1"), so a
    version-1 proposal counts at a version-2 height and the other way round."""

    def _signature_reason(self, public_key: bytes, signed: Signed, what: str) -> str:
        if self.activation is None:
            return super()._signature_reason(public_key, signed, what)
        for version in (self.version_of(signed.height), 3 - self.version_of(signed.height)):
            if self._verify(public_key, signed.payload_for(version), signed.signature):
                return ""
        return f"R7.5: bad {what} signature"


class CertificateByItsFormReplica(Replica):
    """Defect: a certificate is checked in the form it arrives in, votes or bitmap and
    aggregate, whatever version its height runs (the version of votes is checked, that of
    certificates is not)."""

    def _wrong_version(self, message: Any) -> bool:
        if isinstance(message, PrepareCertificate | CommitCertificate):
            return False
        return super()._wrong_version(message)

    def _check_cert_by(self, cert: Certificate, validators: ValidatorSet) -> str:
        self.stats.certificates_checked += 1
        if cert.v2 is not None:
            return aggregate_certificates(self.aggregates)(cert, validators)
        return signature_certificates(self.services.checker)(cert, validators)


class EitherVoteReplica(Replica):
    """Defect: at a version-2 height a PREPARE whose Ed25519 signature verifies counts too; the
    replica prepares once the PREPAREs it verified, of either scheme, hold q(W), and certifies
    with the aggregate of the BLS ones."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ed25519_prepares: dict[tuple[int, int], VoteCollector[Prepare]] = {}

    def _on_prepare(self, vote: Prepare, trusted: bool = False) -> None:
        if (
            vote.version == 1
            and self.version_of(vote.height) == 2
            and (vote.height, vote.view) == (self.height, self.view)
        ):
            key = (vote.height, vote.view)
            collector = self.ed25519_prepares.setdefault(key, VoteCollector(self.validators))
            if collector.add(vote, self._verify).counted:
                self._check_prepare_quorum(vote.view)
            return
        super()._on_prepare(vote, trusted)

    def _check_prepare_quorum(self, view: int) -> None:
        super()._check_prepare_quorum(view)
        proposal = self.proposals.get(view)
        votes = self.current.prepares.get(view)
        extra = self.ed25519_prepares.get((self.height, view))
        if proposal is None or extra is None or not isinstance(votes, AggregateVotes):
            return
        aggregator = votes.aggregators.get((proposal.digest,))
        if aggregator is None or self._is_prepared(view):
            return
        if aggregator.stake() + extra.stake() < self.validators.quorum:
            return
        held = {**aggregator.pending, **aggregator.kept}
        members = sorted(held)
        signature = self.aggregates.aggregate([held[i] for i in members])
        aggregate = AggregateCertificate(
            aggregator.target, bitmap(members, len(aggregator.roster)), signature
        )
        self._on_prepared(PrepareCertificate.of_aggregate(aggregate))


EitherDomain = replica_implementation("EitherDomain", __name__, replica_class=EitherDomainReplica)
CertificateByItsForm = replica_implementation(
    "CertificateByItsForm", __name__, replica_class=CertificateByItsFormReplica
)


class CollectorInEveryViewReplica(Replica):
    """Defect: the collector of V2.10's region rule collects in every view (the view left out
    of the rule), not only in view 0: after a view change the votes still go to a collector
    of the leader's region choice, which may be the one that withheld."""

    def _collector_id(self, view: int) -> str:
        v2 = self.validators.v2
        if v2 is None or self.version_of(self.height) == 1:
            return super()._collector_id(view)
        roster = v2.roster
        leader = roster.index[self._leader_id(view)]
        index = choose_collector(roster, v2.table, self.validators.seed, self.height, 0, leader)
        return roster.members[index].id


class AggregateTrustedReplica(Replica):
    """Defect: a version-2 certificate counts once its bitmap's members hold q(W) stake; its
    aggregate is never verified (the collector is trusted to have checked the votes)."""

    def _check_cert_by(self, cert: Certificate, validators: ValidatorSet) -> str:
        if cert.v2 is None or validators.v2 is None:
            return super()._check_cert_by(cert, validators)
        reason = self._version_reason(cert)
        if reason:
            return reason
        roster = validators.v2.roster
        stake = roster.stake_of([i for i in cert.v2.members() if i < len(roster)])
        return "" if stake >= roster.quorum else f"V2.8: signers hold {stake} < q(W)"


EitherVote = replica_implementation("EitherVote", __name__, replica_class=EitherVoteReplica)
CollectorInEveryView = replica_implementation(
    "CollectorInEveryView", __name__, replica_class=CollectorInEveryViewReplica
)
AggregateTrusted = replica_implementation(
    "AggregateTrusted", __name__, replica_class=AggregateTrustedReplica
)

MUTANTS = [
    Mutant(
        "either-version-domain-accepted",
        "once version 2 is named, a PRE-PREPARE or block signed under either version's tag is "
        "taken, so a version-1 proposal gets a vote at a version-2 height",
        ("V2.2",),
        ("replica",),
        EitherDomain,
    ),
    Mutant(
        "certificate-of-either-version-accepted",
        "a certificate is checked in the form it arrives in: a list of Ed25519 votes commits "
        "a version-2 height",
        ("V2.2",),
        ("replica",),
        CertificateByItsForm,
    ),
    Mutant(
        "vote-of-either-version-counted",
        "at a version-2 height an Ed25519 PREPARE that verifies counts towards q(W), so the "
        "replica prepares and COMMITs on votes of two versions",
        ("V2.2",),
        ("replica",),
        EitherVote,
    ),
    Mutant(
        "collector-of-view-0-in-every-view",
        "the collector of V2.10's region rule collects in every view, so after a withheld "
        "view the votes go to a region collector again instead of the leader",
        ("V2.10", "V2.11"),
        ("replica",),
        CollectorInEveryView,
    ),
    Mutant(
        "replica-trusts-the-aggregate",
        "a replica counts a version-2 certificate by its bitmap's stake and never verifies the "
        "aggregate, so a collector's forged certificate makes it COMMIT",
        ("V2.8", "V2.11"),
        ("replica",),
        AggregateTrusted,
    ),
]
