"""A NEW-VIEW lost on its way: its leader sends it again to a validator that asks again (R2.6).

spec/consensus.md, "View change": the leader of a view that sent its NEW-VIEW answers a
validator that asks again for that view (a request it had already counted: the validator has
not followed the NEW-VIEW, which was lost) with the same NEW-VIEW, at most once per
timeout(latency, 0) per validator. Without it, a lost NEW-VIEW can leave the others short of
q(W) asking for the view until the leader's own timer moves on: the view of an honest leader
is lost. A request whose signature is not its validator's is rejected (R7.5) and must not use
up that validator's one answer per interval.

The reference lacked the answer until network campaign seed 1028 (2026-12-05) and let a forged
request take a validator's turn until commit c191bd7. Only the implementation's replica runs;
the case signs every other member's messages (:mod:`conformance.suite.scene`).
"""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Any

import pytest

from aethel.consensus.events import Broadcast, Send
from aethel.consensus.messages import NewView
from conformance.adapters.api import ReplicaAPI
from conformance.adapters.errors import Rejected
from conformance.checks import Inconclusive
from conformance.suite.scene import (
    AFTER_TIMEOUT,
    FOUR,
    MS,
    TIMEOUT_AT,
    Scene,
    find_scene,
    parsed,
    view_deadline,
)

pytestmark = pytest.mark.capability("replica")


def _new_views_to(outputs: object, to: str) -> list[NewView]:
    """Return the NEW-VIEWs ``outputs`` send ``to`` (directly or by broadcast)."""
    return [
        out.message
        for out in parsed(outputs)
        if isinstance(out, Send | Broadcast)
        and (isinstance(out, Broadcast) or out.to == to)
        and isinstance(out.message, NewView)
    ]


class _LeaderOfView1:
    """The replica under test leads view 1 of height 1 and has sent its NEW-VIEW: view 0 timed
    out at it, and A's and B's VIEW-CHANGEs with its own make q(W). C sent none."""

    def __init__(self, replica_api: ReplicaAPI) -> None:
        scene = find_scene(FOUR, lambda s: s.leader(0) != s.leader(1), label="lost-new-view")
        self.scene: Scene = scene
        self.name = scene.leader(1)
        self.a, self.b, self.c = scene.others(self.name)
        self.remote: Any = scene.replica(replica_api, self.name, "collector", now=None)
        deadline = view_deadline(self.remote.start(0), 1, 0)
        if deadline is None or deadline <= 0:
            raise AssertionError(f"{self.name} set no view-0 timer of height 1 when started at 0")
        #: timeout(latency, 0) as the replica itself sets it: its view-0 timer from a start at 0.
        self.interval: int = deadline
        self.remote.on_timer(1, 0, "view", max(TIMEOUT_AT, self.interval + MS))
        self.now = max(AFTER_TIMEOUT, self.interval + 2 * MS)
        #: The VIEW-CHANGE A sent first; asking again, it sends the same signed message.
        self.request = scene.view_change(self.a, 1)
        sent: list[NewView] = []
        for message in (self.request, scene.view_change(self.b, 1)):
            sent += _new_views_to(self.remote.on_message(message.to_wire(), self.now), self.a)
        self.case = (
            f"scene lost-new-view (members {scene.ids}, replica {self.name} leads view 1, A "
            f"{self.a}, B {self.b}), view-0 timeout {self.interval} ns"
        )
        if not sent:
            raise AssertionError(
                f"{self.case}: {self.name} sent no NEW-VIEW for view 1 on its own, A's and B's "
                f"VIEW-CHANGEs (q(W)) at {self.now} ns"
            )
        self.new_view = sent[0]

    def ask(self, message: Any, at: int) -> list[NewView]:
        """Hand the replica ``message`` at ``at`` ns; return the NEW-VIEWs it sends A for it
        (a replica that refuses the message with an error sends none)."""
        with contextlib.suppress(Rejected):
            return _new_views_to(self.remote.on_message(message.to_wire(), at), self.a)
        return []


@pytest.mark.req("R2.6")
def test_a_leader_sends_its_new_view_again_to_a_validator_that_asks_again(
    replica_api: ReplicaAPI,
) -> None:
    """A did not follow the NEW-VIEW (it was lost) and sends its VIEW-CHANGE for view 1 again,
    the same signed message, a millisecond later: the leader sends A the same NEW-VIEW. Asked
    again a view-0 timeout later, it answers again (the pace is a pace, not one answer)."""
    scene = _LeaderOfView1(replica_api)
    for at in (scene.now + MS, scene.now + MS + scene.interval + MS):
        answer = scene.ask(scene.request, at)
        if not answer:
            raise AssertionError(
                f"{scene.case}: A's VIEW-CHANGE for view 1, counted at {scene.now} ns, came "
                f"again at {at} ns and got no NEW-VIEW; R2.6 sends the same NEW-VIEW again to a "
                "validator that asks again (it has not followed the one that was lost)"
            )
        if answer[0].to_wire() != scene.new_view.to_wire():
            raise AssertionError(
                f"{scene.case}: asked again at {at} ns, {scene.name} sent A a NEW-VIEW other "
                "than the one it sent for view 1 (R2.6: the same NEW-VIEW; a second one is a "
                "second proposal of the view)"
            )


#: Requests A repeats within one view-0 timeout of the leader's answer.
REPEATS = 6


@pytest.mark.req("R2.6", "N6")
def test_a_leader_answers_one_validator_at_most_once_per_view_0_timeout(
    replica_api: ReplicaAPI,
) -> None:
    """A asks again for view 1 and is sent the NEW-VIEW; it asks six more times within one
    view-0 timeout of that answer: none of them gets the NEW-VIEW again, a block each time
    (R2.6: at most once per timeout(latency, 0) per validator; excess load shed by a stated
    rule, N6). That the first repeat is answered is judged by
    test_a_leader_sends_its_new_view_again_to_a_validator_that_asks_again."""
    scene = _LeaderOfView1(replica_api)
    first = scene.now + MS
    if not scene.ask(scene.request, first):
        raise Inconclusive(
            f"{scene.case}: A asked again for view 1 at {first} ns and got no NEW-VIEW, so "
            "there is no answer to pace (the answer itself is judged by "
            "test_a_leader_sends_its_new_view_again_to_a_validator_that_asks_again)"
        )
    step = scene.interval // (REPEATS + 1)
    times = [first + k * step for k in range(1, REPEATS + 1)]
    answered = [at for at in times if scene.ask(scene.request, at)]
    if answered:
        raise AssertionError(
            f"{scene.case}: A asked again for view 1 at {first} ns and got the NEW-VIEW, then "
            f"asked at {times} ns and got it again at {answered} ns; R2.6 answers a validator "
            "at most once per timeout(latency, 0)"
        )


@pytest.mark.req("R7.5", "R2.6")
@pytest.mark.rejects("R7.5")
@pytest.mark.parametrize("forgery", ["another-members-signature", "zero-signature"])
def test_a_forged_request_for_the_new_view_takes_no_validators_turn(
    replica_api: ReplicaAPI, forgery: str
) -> None:
    """A VIEW-CHANGE for view 1 naming A but not signed by A (C's signature, or 64 zero bytes)
    reaches the leader: it is rejected (R7.5), so A is not sent the NEW-VIEW for it. A's own
    request a millisecond later is answered: a forged request must not use up the one answer
    A gets per timeout(latency, 0). (A replica that never sends a NEW-VIEW again fails here
    too; test_a_leader_sends_its_new_view_again_to_a_validator_that_asks_again judges that
    alone.)"""
    scene = _LeaderOfView1(replica_api)
    if forgery == "zero-signature":
        forged = dataclasses.replace(scene.request, signature=bytes(64))
    else:
        forged = dataclasses.replace(scene.scene.view_change(scene.c, 1), validator=scene.a)
    at = scene.now + MS
    if scene.ask(forged, at):
        raise AssertionError(
            f"{scene.case}: a VIEW-CHANGE for view 1 naming A with {forgery} at {at} ns was "
            "answered with the NEW-VIEW; R7.5 rejects a message whose signature is not its "
            "validator's"
        )
    if not scene.ask(scene.request, at + MS):
        raise AssertionError(
            f"{scene.case}: after a VIEW-CHANGE naming A with {forgery} at {at} ns, A's own "
            f"request at {at + MS} ns got no NEW-VIEW; a rejected message must not start the "
            "interval of A's one answer per timeout(latency, 0) (R2.6, R7.5)"
        )
