"""Liveness failures of the reference replica found by the consensus machine, replayed.

Each is a short deterministic scenario in the machine's own actions. When the network heals,
the three honest validators hold 50k >= q(W) = 40,001 of stake and the Byzantine validator
(10k < W/3) stays silent, which R2.2 allows; R2.5 and R7.6 then require every honest validator to
commit again. Where the replica still fails the case is a strict xfail: once it is fixed the
xfail fails, the marker goes, and the case cites R2.5, R7.6, P9, P31 as the fixed one does.
"""

from __future__ import annotations

import pytest

from aethel.consensus.messages import Commit, CommitCertificate
from aethel.consensus.replica import Mode
from properties.machines.consensus import LivenessFailure, make_consensus_machine

MODES = ["collector", "broadcast"]


@pytest.mark.xfail(
    strict=True,
    raises=LivenessFailure,
    reason="a validator cut off long enough runs views ahead; once every timeout reaches the "
    "2**6 backoff cap it advances as fast as the others, the gap never closes, and without it "
    "the others lack q(W) (no view synchronisation: the join rule needs > W/3 stake ahead)",
)
@pytest.mark.parametrize("mode", MODES)
def test_a_validator_whose_view_ran_ahead_rejoins(mode: Mode) -> None:
    state = make_consensus_machine(mode=mode)()
    state.commit_some_heights(heights=3)
    cluster = state.cluster
    state.crash(name="v003")
    for _ in range(9):  # v002 is cut off: its timer expires 9 times, its VIEW-CHANGEs are lost
        cluster.fire_timer("v002")
        cluster.in_flight = [e for e in cluster.in_flight if e.source != "v002"]
    assert cluster.replicas["v002"].view == 9
    state.heal_and_settle()


# Fixed in 3689a17 and after (a validator changing views at a committed height is sent that
# height's certificate): both modes pass and cite the liveness rules.
@pytest.mark.req("R2.5", "R7.6", "P9", "P31")
@pytest.mark.parametrize("mode", MODES)
def test_a_validator_that_lost_the_commits_catches_up(mode: Mode) -> None:
    state = make_consensus_machine(mode=mode)()
    state.commit_some_heights(heights=3)
    cluster = state.cluster
    assert cluster.validators.get_leader(5, 0).id == "v003"
    while cluster.in_flight and not all(
        len(cluster.commits.get(name, [])) >= 4 for name in ("v001", "v002")
    ):
        envelope = cluster.in_flight[0]
        message = envelope.message
        lost = isinstance(message, Commit | CommitCertificate) and message.height == 4
        if envelope.target == "v000" and lost:
            cluster.drop(0)
        else:
            cluster.deliver(0)
    assert cluster.replicas["v000"].height == 4
    state.crash(name="v003")
    state.heal_and_settle()
