"""A NEW-VIEW lost before GST is sent again to the validators still asking for its view.

Network campaign seed 1028 (reports/network/README.md): four validators, one of them unable to
vote (wiped, barred by the lost-journal rule), so the other three must all vote. The leader of
view 2 got the three VIEW-CHANGEs and sent NEW-VIEW while a one-way cut dropped its frames; the
cut healed, the others kept re-sending their VIEW-CHANGEs, but the leader had sent its NEW-VIEW
once and answered nothing more, and without its request (sent to itself only, in collector
mode) the others never held q(W) asking for the view: they waited there, un-established, until
the leader's own view timer moved it on, and the next two views were led by the barred
validator. The height did not commit within 60 s of the heal.

Here the same shape, message by message: v002 (leader of view 0) is down, v000 leads view 1,
its NEW-VIEW is lost; once the links heal, the followers' re-sent VIEW-CHANGEs must get the
NEW-VIEW back and the height must commit in view 1 (spec/consensus.md, "View change": a
waiting validator's re-sends are "a retransmission, for messages lost before GST").
"""

from __future__ import annotations

import pytest

from aethel.consensus.events import Broadcast, Output, Send
from aethel.consensus.messages import NewView, ViewChange
from aethel.consensus.phases import ViewPhase
from aethel.consensus.timeouts import compute_timeout

from .cluster import Cluster, make_cluster


def _lose_new_view(cluster: Cluster) -> tuple[str, list[str]]:
    """Run height 1 up to a view 1 whose NEW-VIEW reached nobody; return leader, followers."""
    down = cluster.validators.get_leader(1, 0).id
    leader = cluster.validators.get_leader(1, 1).id
    assert down != leader
    followers = sorted(set(cluster.replicas) - {down, leader})
    cluster.down.add(down)  # silent for the whole height (seed 1028: barred from voting)
    cluster.start()
    cluster.run()
    cluster.fire_timers()  # view 0 had no proposal: every live validator asks for view 1
    cluster.deliver(lambda source, _, item: source == leader and isinstance(item, NewView))
    replicas = cluster.replicas
    assert replicas[leader].current.view_phase is ViewPhase.ACTIVE  # its own NEW-VIEW
    for name in followers:
        assert replicas[name].view == 1
        assert replicas[name].current.view_phase is ViewPhase.CHANGING  # 20k < q(W)
    return leader, followers


@pytest.mark.req("R2.5", "R2.6")
def test_the_leader_sends_a_lost_new_view_again_and_the_view_commits() -> None:
    cluster = make_cluster(4, "collector")
    leader, followers = _lose_new_view(cluster)
    # The links heal. A waiting validator re-sends every timeout(latency, 0); the leader's view
    # timer runs timeout(latency, 1), so the re-sends come first.
    for name in followers:
        assert cluster.timers[name].deadline < cluster.timers[leader].deadline
        cluster.fire(name)
    cluster.run()
    live = [leader, *followers]
    # Height 1 commits in view 1 (then the chain goes on until a height v002 leads).
    first = {name: (c.height, c.view) for name in live for c in cluster.commits.get(name, [])[:1]}
    assert first == {name: (1, 1) for name in live}
    assert cluster.replicas[leader].stats.new_views == 1  # sent again, not made anew


@pytest.mark.req("R2.6")
def test_the_leader_answers_a_validators_re_sends_at_most_once_per_interval() -> None:
    """A validator repeating its VIEW-CHANGE gets one NEW-VIEW per timeout(latency, 0), not one
    per message (a NEW-VIEW carries a block: no amplification by a chatty member); a first
    request gets none."""
    cluster = make_cluster(4, "collector")
    leader, followers = _lose_new_view(cluster)
    replica = cluster.replicas[leader]
    follower = cluster.replicas[followers[0]]
    own = follower.current.own_view_change
    assert own is not None
    now = cluster.now

    def new_views(outputs: list[Output]) -> list[str]:
        """The targets of the NEW-VIEWs in ``outputs`` ("*": everyone)."""
        return [
            o.to if isinstance(o, Send) else "*"
            for o in outputs
            if isinstance(o, Send | Broadcast) and isinstance(o.message, NewView)
        ]

    answers = [new_views(replica.on_message(own.stripped(), now + i)) for i in range(5)]
    assert answers == [[followers[0]], [], [], [], []]
    interval = compute_timeout(replica.observed_latency(), 0)
    assert new_views(replica.on_message(own.stripped(), now + interval)) == [followers[0]]
    # A validator's first request (late, as in broadcast mode) is not answered: the NEW-VIEW
    # went to everyone already. Its second is.
    down = cluster.validators.get_leader(1, 0).id
    late = ViewChange.create(cluster.replicas[down].signer, 1, 1, None, None)
    assert new_views(replica.on_message(late, now + interval + 1)) == []
    assert new_views(replica.on_message(late, now + interval + 2)) == [down]
