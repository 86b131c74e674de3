"""Liveness failures of the reference replica found by the consensus machine, replayed.

Each is a short deterministic scenario in the machine's own actions. When the network heals,
the three honest validators hold 50k >= q(W) = 40,001 of stake and the Byzantine validator
(10k < W/3) stays silent, which R2.2 allows; R2.5 and R7.6 then require every honest validator to
commit again. A case the replica still fails is a strict xfail until it is fixed; fixed cases
cite R2.5, R7.6, P9, P31.
"""

from __future__ import annotations

import pytest

from aethel.consensus.messages import Commit, CommitCertificate
from aethel.consensus.replica_config import Mode
from conformance.suite.machines.consensus import ConsensusMachine, make_consensus_machine

MODES = ["collector", "broadcast"]


# Fixed by view synchronisation (spec/consensus.md, "View change"): a validator that times out
# alone waits in the view it asked for and re-sends its VIEW-CHANGE instead of running ahead,
# so the others' timeouts bring them to its view. Before, v002 reached view 9 here, every
# timeout at the 2**6 backoff cap, and never rejoined.
@pytest.mark.req("R2.5", "R7.6", "P9", "P31")
@pytest.mark.parametrize("mode", MODES)
def test_a_validator_whose_view_ran_ahead_rejoins(mode: Mode) -> None:
    state = make_consensus_machine(mode=mode)()
    state.commit_some_heights(heights=3)
    cluster = state.cluster
    state.crash(name="v003")
    for _ in range(9):  # v002 is cut off: its timer expires 9 times, its VIEW-CHANGEs are lost
        assert cluster.fire_timer("v002")
        cluster.in_flight = [e for e in cluster.in_flight if e.source != "v002"]
    # Alone it cannot establish view 1 (10k < q(W)): it waits there, re-sending.
    assert cluster.replicas["v002"].view == 1
    state.heal_and_settle()


def _lose_the_commits_of_height_4(mode: Mode) -> ConsensusMachine:
    """Commit heights 1-4 with every COMMIT and certificate of height 4 to v000 lost, then
    silence v003 (it leads height 5 at view 0): v000 stays at height 4, and v001 and v002
    (40k < q(W)) need its stake at height 5."""
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
    return state


# Fixed in 3689a17 and after (a validator changing views at a committed height is sent that
# height's certificate): both modes pass and cite the liveness rules.
@pytest.mark.req("R2.5", "R7.6", "P9", "P31")
@pytest.mark.parametrize("mode", MODES)
def test_a_validator_that_lost_the_commits_catches_up(mode: Mode) -> None:
    _lose_the_commits_of_height_4(mode).heal_and_settle()


# Found while fixing view synchronisation: the certificate was sent once per validator and
# height, so when that one was lost too, v000 waited at height 4 and the others at height 5
# for ever. Now a lagging validator's re-sent VIEW-CHANGE is answered again.
@pytest.mark.req("R2.5", "R7.6", "P9", "P31")
@pytest.mark.parametrize("mode", MODES)
def test_a_validator_whose_catch_up_certificate_was_lost_catches_up(mode: Mode) -> None:
    state = _lose_the_commits_of_height_4(mode)
    cluster = state.cluster
    lost = 0
    while lost < 2:  # v001 and v002 time out at height 5; v000 asks; both answers are lost
        if not cluster.in_flight:
            assert cluster.fire_timer(min(cluster.timers, key=lambda n: cluster.timers[n].deadline))
            continue
        message = cluster.in_flight[0].message
        if cluster.in_flight[0].target == "v000" and isinstance(message, CommitCertificate):
            cluster.drop(0)
            lost += 1
        else:
            cluster.deliver(0)
    assert cluster.replicas["v000"].height == 4
    state.heal_and_settle()
