"""Mutants of what a lagging replica takes from a later height's certificate (R3.5, R3.1) and of
the chain it then catches up over (R3.1, R3.3, R2.3), written from the module campaign of
aethel/consensus/catchup.py. Each is how an implementer writes the rule from its sentence in
spec/consensus.md, "Catching up", and gets one part of it wrong.

"A certificate of a later height signed by more than W/3 of the stake it knows is only a hint
that the chain has moved on (one signer is honest), worth a fetch, never trust." Caught by
suite/test_catch_up_requests.py::test_a_later_certificate_is_a_hint_only_over_a_third and, for
version 2, suite/test_replica_v2.py::test_a_later_version_2_certificate_is_a_hint_only_over_a_third
(the parameter in brackets):

* ``catch-up-hint-counts-every-vote``: the stake of a hint is the sum over its votes, so a
  member that signs twice counts twice ([one-member-twice]).
* ``catch-up-hint-signatures-unchecked``: "a hint, never trust" read as "no need to check the
  signatures", so votes nobody signed make a replica fetch a state ([zero-signatures],
  [one-signature-over-another-block]; and the counter, which then counts none, in every
  variant it asks on).
* ``catch-up-hint-at-a-third``: "more than W/3" read as "a third" ([exactly-a-third]).
* ``catch-up-hint-checks-not-counted``: the signatures a hint's check verifies are left out of
  the ``signatures_checked`` counter, which counts those of the messages it votes on
  (T22.2e: the counters match what the engine did) ([half-the-stake] and the others it acts on).
* ``catch-up-v2-hint-bitmap-read-loosely``: a version-2 hint's bitmap is read as the members it
  names among the set, whatever its length and whatever bits it sets past the last member (V2.7)
  ([a-bitmap-one-byte-too-long], [a-bit-past-the-last-member]).
* ``catch-up-v2-hint-bitmap-size-n-over-8-plus-1``: the bitmap's length is taken as n // 8 + 1
  bytes, right for every set size but the multiples of 8 ([eight-members-three-signed]).
* ``catch-up-v2-hint-at-a-third``: version 2's hint taken at a third ([exactly-a-third]).

The chain ("it adopts the state only once the chain to it verifies: each block extends the
previous one and each certificate is for that block and holds q(W) of its own height's set"),
caught by suite/test_catch_up.py::test_a_link_that_breaks_the_chain_is_refused:

* ``catch-up-chain-parents-unchecked``: each link's height and certificate are checked, not
  that its block extends the one before ([not-on-block-1]).
* ``catch-up-chain-certificates-of-any-block``: each link's certificate is checked for its
  quorum, not that it is for the link's block ([certificate-of-another-block]).
"""

from __future__ import annotations

from collections.abc import Sequence

from aethel.consensus.block import ProofBlock
from aethel.consensus.catchup import ChainLink, VerifiedChain, compute_next_validators
from aethel.consensus.messages import CommitCertificate
from aethel.consensus.replica import Replica
from aethel.consensus.signing import SignatureItem
from conformance.mutants import Mutant, replica_implementation


class _OutsiderHint(Replica):
    """How an outsider writes the hint of a version-1 certificate: the stake of the members whose
    votes are for the certificate's target, over a third, and their signatures good."""

    counts_repeats = False
    checks_signatures = True
    at_a_third = False

    def _is_catch_up_hint(self, cert: CommitCertificate) -> str:
        if cert.v2 is not None or self.activation is not None:
            return super()._is_catch_up_hint(cert)
        target = (cert.height, cert.view, cert.digest, cert.post_root)
        seen: set[str] = set()
        items: list[SignatureItem] = []
        stake = 0
        for vote in cert.votes:
            member = self.validators.get(vote.validator)
            if member is None or (vote.height, vote.view, vote.digest, vote.post_root) != target:
                continue
            if vote.validator in seen and not self.counts_repeats:
                continue
            seen.add(vote.validator)
            stake += member.stake
            items.append((member.public_key, vote.payload, vote.signature))
        total = self.validators.total_stake
        if (3 * stake < total) if self.at_a_third else (3 * stake <= total):
            return "R3.1: not over a third"
        if self.checks_signatures:
            self.stats.signatures_checked += len(items)
            if not all(self.services.checker.verify_batch(items, None)):
                return "R7.5: a bad signature"
        return ""


class CountsEveryVoteReplica(_OutsiderHint):
    """Defect: every vote's stake counts, a member's second vote too."""

    counts_repeats = True


class SignaturesUncheckedReplica(_OutsiderHint):
    """Defect: a hint's signatures are not checked ("never trust" anyway)."""

    checks_signatures = False


class HintAtAThirdReplica(_OutsiderHint):
    """Defect: a hint at a third of the stake."""

    at_a_third = True


class HintChecksNotCountedReplica(Replica):
    """Defect: the signatures a hint's check verifies are not counted."""

    def _is_catch_up_hint(self, cert: CommitCertificate) -> str:
        counted = self.stats.signatures_checked
        reason = super()._is_catch_up_hint(cert)
        self.stats.signatures_checked = counted
        return reason


class _OutsiderAggregateHint(Replica):
    """How an outsider writes the hint of a version-2 certificate: the bitmap's members over a
    third of the roster's stake, and the aggregate verifying for their keys."""

    strict_bitmap = True
    at_a_third = False

    def _bitmap_size(self, members: int) -> int:
        return (members + 7) // 8

    def _is_catch_up_hint(self, cert: CommitCertificate) -> str:
        v2 = self.validators.v2
        if cert.v2 is None or v2 is None or self.activation is None or self._version_reason(cert):
            return super()._is_catch_up_hint(cert)
        aggregate, roster = cert.v2, v2.roster
        members = aggregate.members()
        if self.strict_bitmap:
            size = self._bitmap_size(len(roster))
            if len(aggregate.signers) != size or (members and members[-1] >= len(roster)):
                return "V2.7: the bitmap is not the size of the validator set"
        else:
            members = [i for i in members if i < len(roster)]
        stake = roster.stake_of(members)
        if (3 * stake < roster.total) if self.at_a_third else (3 * stake <= roster.total):
            return "R3.1: not over a third"
        keys = [roster.members[i].key for i in members]
        self.stats.signatures_checked += 1
        if not self.aggregates.fast_aggregate_verify(
            keys, aggregate.target.message(), aggregate.aggregate
        ):
            return "V2.8: the aggregate does not verify"
        return ""


class BitmapReadLooselyReplica(_OutsiderAggregateHint):
    """Defect: the bitmap is read as the set's members it names, whatever else it holds."""

    strict_bitmap = False


class BitmapSizeOffByOneReplica(_OutsiderAggregateHint):
    """Defect: a bitmap of n members is taken to be n // 8 + 1 bytes long."""

    def _bitmap_size(self, members: int) -> int:
        return members // 8 + 1


class AggregateHintAtAThirdReplica(_OutsiderAggregateHint):
    """Defect: a version-2 hint at a third of the stake."""

    at_a_third = True


class _OutsiderChain(Replica):
    """How an outsider walks the chain to a synced state: each link of the next height, its
    block on the one before and its certificate for that block, valid by the set of its height,
    the next set derived from the block's evidence."""

    checks_parents = True
    checks_digests = True

    def check_sync(
        self, certificate: CommitCertificate, block: ProofBlock, links: Sequence[ChainLink] = ()
    ) -> str:
        if certificate.height < self.height:
            return "R3.1: the certified height is not after this replica's"
        chain = [(b, c) for b, c in links if self.height <= b.height < certificate.height]
        chain.append((block, certificate))
        validators = certifiers = self.validators
        parent = self.parent
        for expected, (link_block, link_cert) in enumerate(chain, start=self.height):
            if link_block.height != expected or link_cert.height != expected:
                return f"R3.1: height {expected} is missing"
            if self.checks_parents and link_block.parent != parent:
                return f"R3.3: block {expected} does not extend the chain"
            if self.checks_digests and link_cert.digest != link_block.digest:
                return f"R2.3: the certificate of {expected} is for another block"
            reason = self._check_cert_by(link_cert, validators)
            if reason:
                return reason
            certifiers = validators
            validators = compute_next_validators(validators, link_block)
            parent = link_block.digest
        self.sync.verified = VerifiedChain(certificate, certifiers, validators)
        return ""


class ParentsUncheckedReplica(_OutsiderChain):
    """Defect: a link's block is not checked to extend the one before."""

    checks_parents = False


class CertificatesOfAnyBlockReplica(_OutsiderChain):
    """Defect: a link's certificate is not checked to be for the link's block."""

    checks_digests = False


CountsEveryVote = replica_implementation(
    "CountsEveryVote", __name__, replica_class=CountsEveryVoteReplica
)
SignaturesUnchecked = replica_implementation(
    "SignaturesUnchecked", __name__, replica_class=SignaturesUncheckedReplica
)
HintAtAThird = replica_implementation("HintAtAThird", __name__, replica_class=HintAtAThirdReplica)
HintChecksNotCounted = replica_implementation(
    "HintChecksNotCounted", __name__, replica_class=HintChecksNotCountedReplica
)
BitmapReadLoosely = replica_implementation(
    "BitmapReadLoosely", __name__, replica_class=BitmapReadLooselyReplica
)
BitmapSizeOffByOne = replica_implementation(
    "BitmapSizeOffByOne", __name__, replica_class=BitmapSizeOffByOneReplica
)
AggregateHintAtAThird = replica_implementation(
    "AggregateHintAtAThird", __name__, replica_class=AggregateHintAtAThirdReplica
)
ParentsUnchecked = replica_implementation(
    "ParentsUnchecked", __name__, replica_class=ParentsUncheckedReplica
)
CertificatesOfAnyBlock = replica_implementation(
    "CertificatesOfAnyBlock", __name__, replica_class=CertificatesOfAnyBlockReplica
)


MUTANTS = [
    Mutant(
        "catch-up-hint-counts-every-vote",
        "a later certificate's stake is summed over its votes: a member that signed twice "
        "counts twice towards the third that makes it a hint",
        ("R3.5", "R3.1"),
        ("replica",),
        CountsEveryVote,
    ),
    Mutant(
        "catch-up-hint-signatures-unchecked",
        "a later certificate's signatures are not checked before it counts as a hint: votes "
        "nobody signed make a replica fetch a state",
        ("R3.5", "R7.5"),
        ("replica",),
        SignaturesUnchecked,
    ),
    Mutant(
        "catch-up-hint-at-a-third",
        "a later certificate signed by exactly a third of the stake is taken as a hint (the "
        "spec says more than W/3)",
        ("R3.5",),
        ("replica",),
        HintAtAThird,
    ),
    Mutant(
        "catch-up-hint-checks-not-counted",
        "the signatures checked to take a later certificate as a hint are not counted in "
        "signatures_checked",
        ("T22.2e",),
        ("replica",),
        HintChecksNotCounted,
    ),
    Mutant(
        "catch-up-v2-hint-bitmap-read-loosely",
        "a version-2 hint's bitmap counts the members it names whatever its length and whatever "
        "it sets past the last member",
        ("V2.7", "R3.5"),
        ("replica",),
        BitmapReadLoosely,
    ),
    Mutant(
        "catch-up-v2-hint-bitmap-size-n-over-8-plus-1",
        "a version-2 hint's bitmap must be n // 8 + 1 bytes: a set of 8 members' hint refused",
        ("V2.7", "R3.5"),
        ("replica",),
        BitmapSizeOffByOne,
    ),
    Mutant(
        "catch-up-v2-hint-at-a-third",
        "a later version-2 certificate whose bitmap holds exactly a third of the stake is taken "
        "as a hint",
        ("R3.5", "V2.8"),
        ("replica",),
        AggregateHintAtAThird,
    ),
    Mutant(
        "catch-up-chain-parents-unchecked",
        "a synced state is adopted over a chain whose link does not extend the block before it",
        ("R3.1", "R3.3"),
        ("replica", "catch-up"),
        ParentsUnchecked,
    ),
    Mutant(
        "catch-up-chain-certificates-of-any-block",
        "a synced state is adopted over a chain whose link is certified for another block of "
        "its height",
        ("R3.1", "R2.3"),
        ("replica", "catch-up"),
        CertificatesOfAnyBlock,
    ),
]
