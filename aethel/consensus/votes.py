"""Vote collection and certificate checks.

Owns: R2.3 (a certificate is votes for one height, view, digest and root from distinct members
holding at least q(W) stake; conflicting votes never count), R7.2 (voting power is stake).

Votes are tracked per (height, view, phase) and tallied per digest (and post-state root for
COMMIT): one :class:`VoteCollector` per (height, view, phase). The first verified vote of a
validator counts; a second one with different content is equivocation and never counts. Power
is the voter's stake, never a count of nodes (R7.2). A signature is checked only when the vote
could still matter (so a collector stops checking once it holds a quorum).

Protocol version 2 (spec/consensus-v2.md) counts BLS votes with :class:`AggregateVotes`: one
:class:`aethel.consensus.v2.aggregation.VoteAggregator` per target, which counts a vote before
checking it and checks the aggregate once q(W) is held (V2.9); a certificate is a signer bitmap
and one aggregate (V2.7), checked by :func:`aggregate_certificates` (V2.8).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from aethel.consensus.messages import (
    Commit,
    CommitCertificate,
    Prepare,
    PrepareCertificate,
    SignedMessage,
    ViewChange,
)
from aethel.consensus.signing import SignatureChecker, SignatureItem
from aethel.consensus.v2.aggregation import VoteAggregator
from aethel.consensus.v2.certificate import Certificate as AggregateCertificate
from aethel.consensus.v2.certificate import check_certificate as check_aggregate
from aethel.consensus.v2.checks import DIRECT, AggregateChecker
from aethel.consensus.validators import ValidatorSet
from aethel.crypto import bls
from aethel.errors import ProtocolViolation

V = TypeVar("V", Prepare, Commit, ViewChange)

#: verify(public_key, payload, signature) -> bool, the replica's (memoizing) signature check.
VerifyFn = Callable[[bytes, bytes, bytes], bool]

Certificate = PrepareCertificate | CommitCertificate


class CertificateCheck(Protocol):
    """Checks one certificate by the validator set of its height: "" if valid, else the reason,
    starting with the rule it breaks. The one interface through which a replica checks
    certificates (:mod:`aethel.consensus.certificates`), so a second certificate form (protocol
    version 2's aggregate) slots in as another implementation."""

    def __call__(self, certificate: Certificate, validators: ValidatorSet, /) -> str: ...


def signature_certificates(checker: SignatureChecker) -> CertificateCheck:
    """Return the version-1 :class:`CertificateCheck`: :func:`check_certificate` by ``checker``."""

    def check(certificate: Certificate, validators: ValidatorSet, /) -> str:
        return check_certificate(certificate, validators, checker)

    return check


def aggregate_certificates(checker: AggregateChecker = DIRECT) -> CertificateCheck:
    """Return the version-2 :class:`CertificateCheck`: the bitmap's members hold q(W) stake of
    the height's set and the aggregate verifies for their registered keys (V2.7, V2.8)."""

    def check(certificate: Certificate, validators: ValidatorSet, /) -> str:
        if certificate.v2 is None or validators.v2 is None:
            return "V2.2: a certificate of version 1 or a set without BLS keys"
        try:
            check_aggregate(certificate.v2, validators.v2.roster, checker)
        except ProtocolViolation as exc:
            return f"{exc.rule_id}: {exc.detail}"
        return ""

    return check


def certificates_by_form(
    checker: SignatureChecker, aggregates: AggregateChecker = DIRECT
) -> CertificateCheck:
    """Return the :class:`CertificateCheck` of a certificate in the form it comes in: a list of
    Ed25519 votes by ``checker`` (version 1), a bitmap and an aggregate by ``aggregates``
    (version 2). Whether that form is the one of the certificate's height (V2.2) is the
    caller's to check first."""
    by_signatures = signature_certificates(checker)
    by_aggregate = aggregate_certificates(aggregates)

    def check(certificate: Certificate, validators: ValidatorSet, /) -> str:
        return (by_signatures if certificate.v2 is None else by_aggregate)(certificate, validators)

    return check


def certificate_members(certificate: Certificate, validators: ValidatorSet) -> tuple[str, ...]:
    """Return the ids of ``certificate``'s voters: its votes' validators (version 1), or the
    members of its bitmap in ``validators``' roster, the set of its height (V2.7, V2.8)."""
    if certificate.v2 is None:
        return certificate.members
    if validators.v2 is None:
        raise ProtocolViolation("V2.2", "a version-2 certificate needs a set with BLS keys")
    members = validators.v2.roster.members
    return tuple(members[i].id for i in certificate.v2.members() if i < len(members))


@dataclass(slots=True)
class Tally(Generic[V]):
    """Votes for one content key and their total stake."""

    stake: int = 0
    votes: list[V] = field(default_factory=list)


@dataclass(slots=True)
class AddResult:
    """What adding one vote did."""

    counted: bool = False
    #: (earlier vote, this vote) when the voter equivocated with a valid signature.
    conflict: tuple[SignedMessage, SignedMessage] | None = None
    reason: str = ""


class VoteCollector(Generic[V]):
    """Votes of one phase for one (height, view): first valid vote per validator counts."""

    __slots__ = ("first", "quorum_keys", "tallies", "validators", "version")

    def __init__(self, validators: ValidatorSet, version: int = 1) -> None:
        self.validators = validators
        #: The protocol version of the height: the domain Ed25519 votes are checked in (V2.2).
        self.version = version
        self.first: dict[str, V] = {}
        self.tallies: dict[tuple[bytes, ...], Tally[V]] = {}
        self.quorum_keys: set[tuple[bytes, ...]] = set()

    def _payload(self, vote: V) -> bytes:
        return vote.payload if self.version == 1 else vote.payload_for(self.version)

    def add(self, vote: V, verify: VerifyFn, trusted: bool = False) -> AddResult:
        """Add ``vote``; check its signature unless ``trusted`` (the replica's own vote)."""
        member = self.validators.get(vote.validator)
        if member is None:
            return AddResult(reason="R4.3: not a member of the validator set")
        prior = self.first.get(vote.validator)
        if prior is not None:
            if prior.key == vote.key:
                return AddResult(reason="duplicate")
            if verify(member.public_key, self._payload(vote), vote.signature):
                return AddResult(conflict=(prior, vote), reason="R4.2: equivocation")
            return AddResult(reason="R7.5: bad signature")
        key = vote.key
        if key in self.quorum_keys:
            # A quorum is already held for this content: the vote adds nothing; skip the check.
            return AddResult(reason="late")
        if not trusted and not verify(member.public_key, self._payload(vote), vote.signature):
            return AddResult(reason="R7.5: bad signature")
        self.first[vote.validator] = vote
        tally = self.tallies.get(key)
        if tally is None:
            tally = self.tallies[key] = Tally()
        tally.stake += member.stake
        tally.votes.append(vote)
        if tally.stake >= self.validators.quorum:
            self.quorum_keys.add(key)
        return AddResult(counted=True)

    def has_quorum(self, key: tuple[bytes, ...]) -> bool:
        """Return True if the votes for ``key`` hold >= q(W) stake."""
        return key in self.quorum_keys

    def stake(self) -> int:
        """Return the stake of all validators with a counted vote."""
        return sum(t.stake for t in self.tallies.values())

    def votes_for(self, key: tuple[bytes, ...]) -> list[V]:
        """Return the counted votes for ``key`` in validator order."""
        tally = self.tallies.get(key)
        if tally is None:
            return []
        index = self.validators.index
        return sorted(tally.votes, key=lambda v: index[v.validator])


A = TypeVar("A", Prepare, Commit)


class AggregateVotes(Generic[A]):
    """Version-2 votes of one phase for one (height, view) (V2.9, R2.3).

    One :class:`VoteAggregator` per target (digest, and root for COMMIT) counts votes before
    their signatures are checked and checks the aggregate once they hold q(W). A validator's
    votes for two targets are checked one by one at once: both valid is equivocation (R4.2) and
    only the first counts, as in version 1; an invalid one is dropped (it is no evidence: the
    validator travels outside the signature, V2.9) and the other counts. The certificate of a
    target is made once, from every vote held when its aggregate first verifies.
    """

    __slots__ = (
        "aggregators",
        "certificates",
        "checker",
        "first",
        "quorum_keys",
        "roster",
        "validators",
    )

    def __init__(self, validators: ValidatorSet, checker: AggregateChecker = DIRECT) -> None:
        if validators.v2 is None:
            raise ProtocolViolation("V2.2", "version-2 votes need a set with BLS keys")
        self.validators = validators
        self.checker = checker
        self.roster = validators.v2.roster
        #: validator -> its first vote (of any target) not found invalid.
        self.first: dict[str, A] = {}
        self.aggregators: dict[tuple[bytes, ...], VoteAggregator] = {}
        self.certificates: dict[tuple[bytes, ...], AggregateCertificate] = {}
        self.quorum_keys: set[tuple[bytes, ...]] = set()

    def _aggregator(self, vote: A) -> VoteAggregator:
        aggregator = self.aggregators.get(vote.key)
        if aggregator is None:
            aggregator = self.aggregators[vote.key] = VoteAggregator(
                self.roster, vote.target, checker=self.checker
            )
        return aggregator

    def add(self, vote: A, trusted: bool = False) -> AddResult:
        """Count ``vote``; its signature is checked with the aggregate (V2.9) unless it conflicts
        with another of its validator's votes; ``trusted``: the replica's own vote."""
        position = self.roster.index.get(vote.validator)
        if position is None or self.roster.members[position].stake == 0:
            return AddResult(reason="R4.3: not a member of the validator set")
        key = vote.key
        prior = self.first.get(vote.validator)
        if key in self.quorum_keys and (prior is None or prior.key == key):
            # The target has its certificate and this vote cannot be an equivocation: it adds
            # nothing, so its signature is not even decompressed (V2.9).
            return AddResult(reason="late")
        try:
            signature = self.checker.signature(vote.signature)
        except bls.BlsError as exc:
            return AddResult(reason=f"V2.5: {exc.detail}")
        if prior is not None and prior.key != key:
            return self._conflict(prior, vote, position, signature)
        aggregator = self._aggregator(vote)
        if trusted:
            aggregator.kept.setdefault(position, signature)
        else:
            aggregator.add(position, signature)
        if prior is None:
            self.first[vote.validator] = vote
        self._settle(key, aggregator)
        return AddResult(counted=position in aggregator.kept or position in aggregator.pending)

    def _conflict(self, prior: A, vote: A, position: int, signature: bls.Signature) -> AddResult:
        key = self.roster.members[position].key
        if not self.checker.verify(key, vote.payload, signature):
            return AddResult(reason="R7.5: bad signature")
        earlier = self.aggregators[prior.key]
        if position in earlier.kept or self.checker.verify(
            key, prior.payload, self.checker.signature(prior.signature)
        ):
            if position in earlier.pending:
                earlier.kept[position] = earlier.pending.pop(position)
            return AddResult(conflict=(prior, vote), reason="R4.2: equivocation")
        # The first vote in this validator's name was not its own: drop it, count this one.
        earlier.pending.pop(position, None)
        earlier.discarded.add((position, prior.signature))
        self.first[vote.validator] = vote
        if vote.key in self.quorum_keys:
            return AddResult(reason="late")
        aggregator = self._aggregator(vote)
        aggregator.kept[position] = signature
        self._settle(vote.key, aggregator)
        return AddResult(counted=True)

    def _settle(self, key: tuple[bytes, ...], aggregator: VoteAggregator) -> None:
        """Make the target's certificate once its votes hold q(W) and their aggregate verifies."""
        if key in self.quorum_keys or not aggregator.may_hold_quorum():
            return
        certificate = aggregator.certificate()
        if certificate is not None:
            self.certificates[key] = certificate
            self.quorum_keys.add(key)

    def has_quorum(self, key: tuple[bytes, ...]) -> bool:
        """Return True if a certificate of verified votes holding q(W) exists for ``key``."""
        return key in self.quorum_keys

    def certificate(self, key: tuple[bytes, ...]) -> AggregateCertificate | None:
        """Return the certificate made for ``key``, if any."""
        return self.certificates.get(key)

    def stake(self) -> int:
        """Return the stake of all validators with a counted vote."""
        return sum(a.stake() for a in self.aggregators.values())


def minimal_quorum(votes: list[V], validators: ValidatorSet) -> tuple[V, ...]:
    """Return the shortest prefix (largest stake first) of ``votes`` that reaches q(W)."""
    ordered = sorted(votes, key=lambda v: (-validators.stake_of(v.validator), v.validator))
    chosen: list[V] = []
    stake = 0
    for vote in ordered:
        chosen.append(vote)
        stake += validators.stake_of(vote.validator)
        if stake >= validators.quorum:
            break
    index = validators.index
    return tuple(sorted(chosen, key=lambda v: index[v.validator]))


def check_certificate(
    certificate: PrepareCertificate | CommitCertificate,
    validators: ValidatorSet,
    checker: SignatureChecker,
) -> str:
    """Return "" if ``certificate`` is valid, else the reason (R2.3, R7.5).

    Valid: every vote matches the certificate's (height, view, digest[, root]), voters are
    distinct members, their stake reaches q(W), and every signature verifies (checked as one
    batch keyed by the certificate's content hash so a simulator can memoize it).
    """
    seen: set[str] = set()
    stake = 0
    items: list[SignatureItem] = []
    is_commit = isinstance(certificate, CommitCertificate)
    for vote in certificate.votes:
        if vote.height != certificate.height or vote.view != certificate.view:
            return "R2.3: a vote is for another height or view"
        if vote.digest != certificate.digest:
            return "R2.3: a vote is for another digest"
        if is_commit and vote.post_root != certificate.post_root:  # type: ignore[union-attr]
            return "R3.2: a vote is for another post-state root"
        member = validators.get(vote.validator)
        if member is None:
            return f"R4.3: {vote.validator} is not a member of the validator set"
        if vote.validator in seen:
            return f"R2.3: {vote.validator} appears twice"
        seen.add(vote.validator)
        stake += member.stake
        items.append((member.public_key, vote.payload, vote.signature))
    if stake < validators.quorum:
        return f"R2.3: certificate stake {stake} < quorum {validators.quorum}"
    verdicts = checker.verify_batch(items, certificate.content_hash)
    if not all(verdicts):
        return "R7.5: a certificate vote has a bad signature"
    return ""
