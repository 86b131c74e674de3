"""View synchronisation of the replica, message by message (spec/consensus.md, "View change").

A view v > 0 is established once q(W) stake asked for it or a later view (or its NEW-VIEW came);
only an established view's timer moves a validator on, and a waiting validator re-sends its
VIEW-CHANGE instead. The scenario tests of what this buys (a cut-off validator rejoins) are in
tests/formal/test_consensus_liveness.py.
"""

from __future__ import annotations

import pytest

from aethel.consensus.events import Broadcast, Output, Send, SetTimer, Timer
from aethel.consensus.messages import Commit, ViewChange
from aethel.consensus.phases import ViewPhase
from aethel.consensus.replica import Replica
from aethel.consensus.replica_config import Mode
from aethel.consensus.timeouts import compute_timeout
from aethel.consensus.viewsync import ViewTally

from .cluster import make_cluster

MODES: list[Mode] = ["collector", "broadcast"]


def _view_changes(outputs: list[Output]) -> list[tuple[str, ViewChange]]:
    """Return (target or "*", VIEW-CHANGE) of every VIEW-CHANGE in ``outputs``."""
    found: list[tuple[str, ViewChange]] = []
    for out in outputs:
        if isinstance(out, Send | Broadcast) and isinstance(out.message, ViewChange):
            found.append((out.to if isinstance(out, Send) else "*", out.message))
    return found


def _timers(outputs: list[Output]) -> list[SetTimer]:
    return [o for o in outputs if isinstance(o, SetTimer) and o.timer.kind == "view"]


def _time_out(replica: Replica, now: int) -> list[Output]:
    """Fire the view timer of the replica's current (height, view) at ``now``."""
    return replica.on_timer(Timer(replica.height, replica.view), now)


@pytest.mark.req("R2.6")
def test_the_tally_keeps_each_validators_highest_view() -> None:
    tally = ViewTally()
    tally.process_view_change("a", 2, 30)
    tally.process_view_change("b", 1, 30)
    tally.process_view_change("a", 1, 30)  # lower than a's view: changes nothing
    assert not tally.is_news("a", 2) and tally.is_news("a", 3)
    assert tally.get_stake_from(1) == 60 and tally.get_stake_from(2) == 30
    tally.process_view_change("b", 5, 30)  # b moves on: its stake leaves view 1
    assert tally.stake_at == {2: 30, 5: 30}
    assert tally.get_stake_from(3) == 30
    # Join rule: more than W/3 asked for views above, and the smallest of them is joined.
    assert tally.get_join_view(1, total_stake=100) == 2
    assert tally.get_join_view(2, total_stake=100) is None  # 30 <= 100/3
    assert tally.get_join_view(1, total_stake=180) is None  # 60 <= 180/3


@pytest.mark.req("R2.6", "P10")
@pytest.mark.parametrize("mode", MODES)
def test_a_validator_timing_out_alone_waits_in_the_next_view_and_resends(mode: Mode) -> None:
    cluster = make_cluster(4, mode)
    cluster.start()
    replica = cluster.replicas["v000"]
    now = 60 * 10**9
    outputs = _time_out(replica, now)  # view 0 is established: the timeout moves it on
    assert (replica.view, replica.stats.timeouts) == (1, 1)
    own = replica.current.own_view_change
    assert own is not None and (own.height, own.view) == (1, 1)
    for _ in range(5):  # nobody answers: view 1 is never established
        deadline = _timers(outputs)[-1].deadline
        outputs = _time_out(replica, deadline)
        assert replica.view == 1, "a waiting validator must not run views ahead"
        sent = _view_changes(outputs)
        assert sent and all(vc.signature == own.signature for _, vc in sent)  # the same message
        assert "*" in {to for to, _ in sent}  # everyone gets it, in collector mode too
        (timer,) = _timers(outputs)
        assert timer.timer == Timer(1, 1)
        assert timer.deadline == deadline + compute_timeout(replica.observed_latency(), 0)
    assert replica.stats.view_change_resends == 5 and replica.stats.timeouts == 1


@pytest.mark.req("R2.6", "P10")
@pytest.mark.parametrize("mode", MODES)
def test_q_w_stake_asking_for_the_view_or_a_later_one_starts_its_timer(mode: Mode) -> None:
    # Four validators of 10k: q(W) = 26,667, so three of them establish a view.
    cluster = make_cluster(4, mode)
    cluster.start()
    replicas = cluster.replicas
    now = 60 * 10**9
    a = replicas["v000"]
    _time_out(a, now)
    assert (a.view, a.current.view_phase) == (1, ViewPhase.CHANGING)
    for_view_1 = ViewChange.create(replicas["v001"].signer, 1, 1, None, None)
    for_view_2 = ViewChange.create(replicas["v002"].signer, 1, 2, None, None)
    outputs = a.on_message(for_view_1, now + 1)
    assert a.current.view_phase is ViewPhase.CHANGING and not _timers(outputs)  # 20k < q(W)
    outputs = a.on_message(for_view_2, now + 2)
    # 30k asked for view 1 or a later one (v002 has left view 1); 10k above: no join.
    assert a.current.view_phase is ViewPhase.AWAITING_NEW_VIEW and a.view == 1
    (timer,) = _timers(outputs)
    assert timer.deadline == now + 2 + compute_timeout(a.observed_latency(), 1)
    # The re-send timer set when it entered view 1 is superseded: it does nothing.
    assert not a.on_timer(Timer(1, 1), now + 3) and a.view == 1
    _time_out(a, timer.deadline)
    assert a.view == 2 and a.stats.timeouts == 2


@pytest.mark.req("R2.6")
@pytest.mark.parametrize("mode", MODES)
def test_more_than_a_third_of_the_stake_ahead_pulls_a_validator_along(mode: Mode) -> None:
    cluster = make_cluster(4, mode)
    cluster.start()
    replicas = cluster.replicas
    now = 60 * 10**9
    ahead = [ViewChange.create(replicas[n].signer, 1, 4, None, None) for n in ("v001", "v002")]
    straggler = replicas["v000"]
    straggler.on_message(ahead[0], now)
    assert straggler.view == 0  # 10k <= W/3
    straggler.on_message(ahead[1], now)
    assert straggler.view == 4  # 20k > W/3: it joins the smallest view asked for
    own = straggler.current.own_view_change
    assert own is not None and own.view == 4
    # With its own request, 30k >= q(W) asked for view 4: established (awaiting its NEW-VIEW,
    # or active if this validator leads view 4 and sent it).
    assert straggler.current.established


@pytest.mark.req("R2.6")
def test_collector_mode_sends_the_leader_the_certificate_and_resends_everyone_the_claim() -> None:
    cluster = make_cluster(4, "collector")
    cluster.start()
    while cluster.queue and not isinstance(cluster.queue[0][2], Commit):
        cluster.run(max_steps=1)  # until every replica is prepared
    leader = cluster.validators.get_leader(1, 1).id
    name = next(n for n in sorted(cluster.replicas) if n != leader)
    replica = cluster.replicas[name]
    prepared = replica.prepared
    assert prepared is not None
    first = _time_out(replica, 60 * 10**9)
    # First to the leader alone, with the certificate that backs the claim (linear).
    ((to, full),) = _view_changes(first)
    assert to == leader and full.prepared == prepared and full.block is not None
    # Not established by the re-send: the leader may be silent, so everyone gets the claim.
    again = _view_changes(_time_out(replica, _timers(first)[-1].deadline))
    copies = [vc for to, vc in again if to == "*"]
    assert len(copies) == 1 and copies[0].prepared is None and copies[0].block is None
    assert (copies[0].prepared_view, copies[0].signature) == (prepared.view, full.signature)
    assert [vc for to, vc in again if to == leader] == [full]


@pytest.mark.req("R2.6")
def test_a_view_established_from_copies_publishes_its_own_request() -> None:
    # Collector mode: established by others' copies, the leader of the view has failed them,
    # so this validator's request must reach everyone too (they may need its stake).
    cluster = make_cluster(4, "collector")
    cluster.start()
    replicas = cluster.replicas
    leader = cluster.validators.get_leader(1, 1).id
    name, *others = [n for n in sorted(replicas) if n != leader]
    replica = replicas[name]
    now = 60 * 10**9
    first = _view_changes(_time_out(replica, now))
    assert [to for to, _ in first] == [leader]  # at first to the leader alone
    outputs: list[Output] = []
    for other in others:
        outputs += replica.on_message(
            ViewChange.create(replicas[other].signer, 1, 1, None, None), now
        )
    assert replica.current.view_phase is ViewPhase.AWAITING_NEW_VIEW
    assert [(to, vc.signature) for to, vc in _view_changes(outputs)] == [
        ("*", first[0][1].signature)
    ]
