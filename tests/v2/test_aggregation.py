"""A collector's optimistic aggregation with the search for bad votes (V2.9): one check when all
votes are good, bad votes found and dropped when the aggregate fails, the certificate always
valid (V2.8), and a forged vote never blocking the real vote of the member it names."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from aethel.consensus.messages import Prepare
from aethel.consensus.signing import KeySigner, derive_bls_key
from aethel.consensus.v2.aggregation import VoteAggregator
from aethel.consensus.v2.certificate import VoteTarget, check_certificate
from aethel.consensus.v2.checks import DirectAggregateChecker
from aethel.consensus.validators import ValidatorSet, make_validator_keys
from aethel.consensus.votes import AggregateVotes
from aethel.crypto import bls
from aethel.sim.network import LATENCY_MS, REGIONS
from tests.v2.cluster import version_two_member
from tests.v2.conftest import make_roster, secret

TARGET = VoteTarget("prepare", 5, 0, b"\x77" * 32)
OTHER = VoteTarget("prepare", 5, 0, b"\x78" * 32)


def _vote(i: int, target: VoteTarget = TARGET) -> bls.Signature:
    return secret(i).sign(target.message())


@pytest.mark.req("V2.9", "V2.8")
def test_good_votes_cost_one_check() -> None:
    roster = make_roster([1000] * 12)  # q(W) = 8,001: 9 votes
    collector = VoteAggregator(roster, TARGET)
    for i in range(8):
        collector.add(i, _vote(i))
        assert collector.certificate() is None
    assert collector.checks == 0, "nothing is checked below q(W)"
    collector.add(8, _vote(8))
    cert = collector.certificate()
    assert cert is not None and collector.checks == 1
    assert check_certificate(cert, roster) == list(range(9))


@pytest.mark.req("V2.9", "V2.8")
def test_bad_votes_are_found_and_dropped() -> None:
    roster = make_roster([1000] * 16)  # q(W) = 10,667: 11 votes
    collector = VoteAggregator(roster, TARGET)
    bad = {3, 11}
    for i in range(16):
        collector.add(i, _vote(i, OTHER) if i in bad else _vote(i))
    cert = collector.certificate()
    assert cert is not None
    members = check_certificate(cert, roster)
    assert members == [i for i in range(16) if i not in bad]
    assert {index for index, _ in collector.discarded} == bad
    assert collector.checks <= 2 * len(bad) * math.ceil(math.log2(16)) + 1


@pytest.mark.req("V2.9")
def test_a_forged_vote_does_not_block_the_real_one() -> None:
    """Anyone can attach member 0's id to a bad signature; member 0's real vote still counts."""
    roster = make_roster([1000] * 4)  # q(W) = 2,667: 3 votes
    collector = VoteAggregator(roster, TARGET)
    collector.add(0, _vote(1))  # garbage under member 0's name
    collector.add(0, _vote(0))  # the real vote: checked at once, kept
    assert 0 in collector.kept and collector.checks == 1
    collector.add(0, _vote(2))  # a third signature for a kept member: dropped unchecked
    assert collector.checks == 1
    collector.add(1, _vote(1))
    collector.add(2, _vote(2))
    cert = collector.certificate()
    assert cert is not None and check_certificate(cert, roster) == [0, 1, 2]


@pytest.mark.req("V2.9")
def test_bad_votes_leave_the_collector_waiting_for_more() -> None:
    roster = make_roster([1000] * 4)
    collector = VoteAggregator(roster, TARGET)
    collector.add(0, _vote(0))
    collector.add(1, _vote(1))
    collector.add(2, _vote(2, OTHER))
    assert collector.certificate() is None  # 3 votes held, one bad: below q(W) once dropped
    collector.add(2, _vote(2, OTHER))  # the same bad vote again: not checked again
    assert collector.stake() == 2000
    collector.add(3, _vote(3))
    cert = collector.certificate()
    assert cert is not None and check_certificate(cert, roster) == [0, 1, 3]


@pytest.mark.req("V2.9")
def test_votes_outside_the_set_and_repeats_are_ignored() -> None:
    roster = make_roster([1000] * 4)
    collector = VoteAggregator(roster, TARGET)
    collector.add(4, _vote(4))
    collector.add(-1, _vote(0))
    collector.add(0, _vote(0))
    collector.add(0, _vote(0))
    assert collector.stake() == 1000 and collector.checks == 0


#: On the curve E2 but outside G2's prime-order subgroup (Ethereum's deserialization vectors).
NOT_IN_G2 = bytes.fromhex("8123456789abcdef" + "0123456789abcdef" * 11)


def _equal_set(n: int) -> tuple[ValidatorSet, list[KeySigner]]:
    """A version-2 set of ``n`` members of 10,000 stake in one region, and their signers."""
    keys = make_validator_keys(n, 3)
    members = [version_two_member(f"v{i}", key, 10_000, REGIONS[0]) for i, key in enumerate(keys)]
    validators = ValidatorSet.create(
        0, bytes(32), members, first_height=1, regions=REGIONS, latency_ms=LATENCY_MS
    )
    signers = [KeySigner(f"v{i}", key, derive_bls_key(key.seed)) for i, key in enumerate(keys)]
    return validators, signers


@pytest.mark.req("V2.9", "V2.8", "V2.5")
@pytest.mark.rejects("V2.5")
def test_byzantine_votes_reaching_the_collector_leave_a_certificate_of_the_honest_votes() -> None:
    """Two Byzantine members send their PREPAREs first: one with a valid point that signs other
    bytes, one with a point outside the subgroup. The collector (the replica's AggregateVotes)
    still makes a certificate of the five honest votes, and a receiver accepts it."""
    validators, signers = _equal_set(7)  # q(W) = 46,667: five votes
    digest = b"\x42" * 32
    votes = [Prepare.create(signer, 5, 0, digest, version=2) for signer in signers]
    other = Prepare.create(signers[5], 5, 0, b"\x43" * 32, version=2)
    bad_signature = replace(votes[5], signature=other.signature)
    outside_subgroup = replace(votes[6], signature=NOT_IN_G2)
    collector: AggregateVotes[Prepare] = AggregateVotes(validators)
    assert collector.add(bad_signature).counted  # counted before its signature is checked
    refused = collector.add(outside_subgroup)
    assert not refused.counted and refused.reason.startswith("V2.5")
    for vote in votes[:5]:
        collector.add(vote)
    key = votes[0].key
    assert collector.has_quorum(key)
    certificate = collector.certificate(key)
    assert certificate is not None
    assert certificate.members() == [0, 1, 2, 3, 4]
    assert validators.v2 is not None
    assert check_certificate(certificate, validators.v2.roster) == [0, 1, 2, 3, 4]


class CountingChecker(DirectAggregateChecker):
    """The direct BLS operations, counting the signatures parsed."""

    def __init__(self) -> None:
        self.parsed = 0

    def signature(self, data: bytes) -> bls.Signature:
        self.parsed += 1
        return super().signature(data)


@pytest.mark.req("V2.9")
def test_a_vote_for_a_target_with_its_certificate_is_not_decompressed() -> None:
    """After the certificate of a target is made, a later vote for it adds nothing: it is
    dropped as late without parsing its signature; a later vote of a member for another target
    is still parsed (it may be an equivocation)."""
    validators, signers = _equal_set(4)  # q(W) = 26,667: three votes
    votes = [Prepare.create(signer, 5, 0, b"\x42" * 32, version=2) for signer in signers]
    checker = CountingChecker()
    collector: AggregateVotes[Prepare] = AggregateVotes(validators, checker)
    for vote in votes[:3]:
        assert collector.add(vote).counted
    assert collector.has_quorum(votes[0].key) and checker.parsed == 3
    late = collector.add(votes[3])
    assert late.reason == "late" and checker.parsed == 3
    other = Prepare.create(signers[0], 5, 0, b"\x43" * 32, version=2)
    assert collector.add(other).conflict is not None  # v0 equivocates: parsed and checked
    assert checker.parsed == 4
