"""Vote collection and certificate checks.

Owns: R2.3 (a certificate is votes for one height, view, digest and root from distinct members
holding at least q(W) stake; conflicting votes never count), R7.2 (voting power is stake).

Votes are tracked per (height, view, phase) and tallied per digest (and post-state root for
COMMIT): one :class:`VoteCollector` per (height, view, phase). The first verified vote of a
validator counts; a second one with different content is equivocation and never counts. Power
is the voter's stake, never a count of nodes (R7.2). A signature is checked only when the vote
could still matter (so a collector stops checking once it holds a quorum).
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
from aethel.consensus.validators import ValidatorSet

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

    __slots__ = ("first", "quorum_keys", "tallies", "validators")

    def __init__(self, validators: ValidatorSet) -> None:
        self.validators = validators
        self.first: dict[str, V] = {}
        self.tallies: dict[tuple[bytes, ...], Tally[V]] = {}
        self.quorum_keys: set[tuple[bytes, ...]] = set()

    def add(self, vote: V, verify: VerifyFn, trusted: bool = False) -> AddResult:
        """Add ``vote``; check its signature unless ``trusted`` (the replica's own vote)."""
        member = self.validators.get(vote.validator)
        if member is None:
            return AddResult(reason="R4.3: not a member of the validator set")
        prior = self.first.get(vote.validator)
        if prior is not None:
            if prior.key == vote.key:
                return AddResult(reason="duplicate")
            if verify(member.public_key, vote.payload, vote.signature):
                return AddResult(conflict=(prior, vote), reason="R4.2: equivocation")
            return AddResult(reason="R7.5: bad signature")
        key = vote.key
        if key in self.quorum_keys:
            # A quorum is already held for this content: the vote adds nothing; skip the check.
            return AddResult(reason="late")
        if not trusted and not verify(member.public_key, vote.payload, vote.signature):
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
