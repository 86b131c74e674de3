"""Mutants for the gaps the module campaign of aethel/consensus/votes.py found: each is the way
an outsider's replica could count votes wrong, caught by the case written for the mechanical
survivors (reports/selftest/triage-module-votes-d312549.md).

* ``vote-quorum-above-q``: a collector takes q(W) as a bar to pass, not to reach: votes hold
  a quorum only above q(W) (R2.3); caught by suite/test_certificates.py::
  test_votes_at_exactly_q_count_and_one_short_do_not.
* ``vote-quorum-at-two-thirds``: a collector counts a quorum at two thirds of the stake
  (3 x stake >= 2W) instead of more than two thirds (R2.3); caught by the same case (its
  sets one short of q(W) hold exactly 2W/3).
* ``v2-vote-roster-lookup-unchecked``: a version-2 vote's signer is looked up in the roster by
  its id with no membership check, so a stranger's vote raises (R4.3); caught by suite/
  test_replica_v2.py::test_a_version_2_vote_of_no_member_or_no_signature_counts_for_nothing
  [non-member].
* ``v2-vote-signature-parse-unguarded``: a version-2 vote's signature is parsed before anything
  else, and a parse failure escapes instead of refusing the vote (V2.5); caught by the same
  case [no-point, at-infinity].
* ``v2-second-vote-dropped-as-duplicate``: optimistic aggregation keeps a member's first vote
  and drops its vote for another digest as a duplicate, unchecked, so an equivocation at a
  version-2 height is never reported (R4.2); caught by suite/test_replica_v2.py::
  test_version_2_votes_of_one_member_for_two_digests.
* ``view-change-conflicts-checked-in-version-1``: a second VIEW-CHANGE of one member for one
  view is checked over its version-1 bytes, so at a version-2 height the conflicting claim
  looks forged and nobody is accused (R4.2, V2.2); caught by suite/test_replica_v2.py::
  test_a_version_2_view_change_equivocation_is_reported.
"""

from __future__ import annotations

from typing import Any

import aethel.consensus.voting
from aethel.consensus.votes import AddResult, AggregateVotes, VoteCollector
from aethel.crypto import bls
from conformance.adapters.reference_replica import ReferenceReplicaObject
from conformance.mutants import CommandsUnderPatch, Mutant, replica_implementation


class QuorumAboveQ(VoteCollector[Any]):
    """Defect: votes hold a quorum only with more than q(W) stake."""

    def add(self, vote: Any, verify: Any, trusted: bool = False) -> AddResult:
        result = super().add(vote, verify, trusted)
        tally = self.tallies.get(vote.key)
        if tally is not None and tally.stake <= self.validators.quorum:
            self.quorum_keys.discard(vote.key)
        return result


class QuorumAtTwoThirds(VoteCollector[Any]):
    """Defect: votes hold a quorum at two thirds of the stake."""

    def add(self, vote: Any, verify: Any, trusted: bool = False) -> AddResult:
        result = super().add(vote, verify, trusted)
        tally = self.tallies.get(vote.key)
        if tally is not None and 3 * tally.stake >= 2 * self.validators.total_stake:
            self.quorum_keys.add(vote.key)
        return result


class RosterLookupUnchecked(AggregateVotes[Any]):
    """Defect: a version-2 vote's signer is looked up by id, unchecked."""

    def add(self, vote: Any, trusted: bool = False) -> AddResult:
        position = self.roster.index[vote.validator]
        del position
        return super().add(vote, trusted)


class SignatureParseUnguarded(AggregateVotes[Any]):
    """Defect: a version-2 vote's signature is parsed first, its failure not caught."""

    def add(self, vote: Any, trusted: bool = False) -> AddResult:
        bls.Signature.from_bytes(vote.signature)
        return super().add(vote, trusted)


class SecondVoteDropped(AggregateVotes[Any]):
    """Defect: a member's vote for another digest than its first is dropped as a duplicate."""

    def add(self, vote: Any, trusted: bool = False) -> AddResult:
        prior = self.first.get(vote.validator)
        if prior is not None and prior.key != vote.key:
            return AddResult(reason="duplicate")
        return super().add(vote, trusted)


class CollectorIs(CommandsUnderPatch, ReferenceReplicaObject):
    """The reference replica counting version-1 votes with ``patch``'s collector."""


class QuorumAboveQObject(CollectorIs):
    patch = (aethel.consensus.voting, "VoteCollector", QuorumAboveQ)


class QuorumAtTwoThirdsObject(CollectorIs):
    patch = (aethel.consensus.voting, "VoteCollector", QuorumAtTwoThirds)


class RosterLookupUncheckedObject(CollectorIs):
    patch = (aethel.consensus.voting, "AggregateVotes", RosterLookupUnchecked)


class SignatureParseUnguardedObject(CollectorIs):
    patch = (aethel.consensus.voting, "AggregateVotes", SignatureParseUnguarded)


class SecondVoteDroppedObject(CollectorIs):
    patch = (aethel.consensus.voting, "AggregateVotes", SecondVoteDropped)


def _version_1_payload(self: VoteCollector[Any], vote: Any) -> bytes:
    """A vote's version-1 bytes, whatever the height's version."""
    payload: bytes = vote.payload
    return payload


class ViewChangeConflictsInVersion1Object(CollectorIs):
    patch = (VoteCollector, "_payload", _version_1_payload)


QuorumAboveQImplementation = replica_implementation(
    "QuorumAboveQImplementation", __name__, base=QuorumAboveQObject
)
QuorumAtTwoThirdsImplementation = replica_implementation(
    "QuorumAtTwoThirdsImplementation", __name__, base=QuorumAtTwoThirdsObject
)
RosterLookupUncheckedImplementation = replica_implementation(
    "RosterLookupUncheckedImplementation", __name__, base=RosterLookupUncheckedObject
)
SignatureParseUnguardedImplementation = replica_implementation(
    "SignatureParseUnguardedImplementation", __name__, base=SignatureParseUnguardedObject
)
SecondVoteDroppedImplementation = replica_implementation(
    "SecondVoteDroppedImplementation", __name__, base=SecondVoteDroppedObject
)
ViewChangeConflictsInVersion1Implementation = replica_implementation(
    "ViewChangeConflictsInVersion1Implementation",
    __name__,
    base=ViewChangeConflictsInVersion1Object,
)

MUTANTS = [
    Mutant(
        name="vote-quorum-above-q",
        defect="votes hold a quorum only with more than q(W) stake",
        breaks=("R2.3",),
        capabilities=("replica",),
        build=QuorumAboveQImplementation,
    ),
    Mutant(
        name="vote-quorum-at-two-thirds",
        defect="votes hold a quorum at two thirds of the stake (3 x stake >= 2W)",
        breaks=("R2.3",),
        capabilities=("replica",),
        build=QuorumAtTwoThirdsImplementation,
    ),
    Mutant(
        name="v2-vote-roster-lookup-unchecked",
        defect="a version-2 vote's signer is looked up in the roster by id, unchecked",
        breaks=("R4.3",),
        capabilities=("replica",),
        build=RosterLookupUncheckedImplementation,
    ),
    Mutant(
        name="v2-vote-signature-parse-unguarded",
        defect="a version-2 vote's signature is parsed first and a failure escapes",
        breaks=("V2.5",),
        capabilities=("replica",),
        build=SignatureParseUnguardedImplementation,
    ),
    Mutant(
        name="v2-second-vote-dropped-as-duplicate",
        defect="a member's version-2 vote for another digest than its first is dropped, unchecked",
        breaks=("R4.2",),
        capabilities=("replica",),
        build=SecondVoteDroppedImplementation,
    ),
    Mutant(
        name="view-change-conflicts-checked-in-version-1",
        defect="a member's conflicting VIEW-CHANGE is checked over its version-1 bytes",
        breaks=("R4.2",),
        capabilities=("replica",),
        build=ViewChangeConflictsInVersion1Implementation,
    ),
]
