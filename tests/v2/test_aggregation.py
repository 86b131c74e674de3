"""A collector's optimistic aggregation with the search for bad votes (V2.9): one check when all
votes are good, bad votes found and dropped when the aggregate fails, the certificate always
valid (V2.8), and a forged vote never blocking the real vote of the member it names."""

from __future__ import annotations

import math

import pytest

from aethel.consensus.v2.aggregation import VoteAggregator
from aethel.consensus.v2.certificate import VoteTarget, check_certificate
from aethel.crypto import bls
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
