"""A validator waiting for its view: it re-sends its VIEW-CHANGE and never moves on (R2.6).

spec/consensus.md, "View change": a waiting validator does not time its view out; it never
moves on to v + 2 by itself. Instead it sends its VIEW-CHANGE again, the same signed message,
every timeout(latency, 0) until the view is established (a retransmission for messages lost
before GST: it waits for the network, not for the backoff). In collector mode a re-send also
goes to every other validator as a copy (the signed claim alone), which is enough to count the
stake asking for the view when its leader is silent.

That a waiting validator stays in its view and re-sends at all is judged by the consensus state
machines (conformance/suite/test_machines.py: a validator that moves on like classic PBFT, or
that re-sends once, fails their safety and liveness properties); the cases here judge what
those runs cannot tell apart: the pace of the re-sends and the copies of collector mode. Only
the implementation's replica runs; the case fires its timers and plays no other validator.

A waiting validator whose view becomes established from the others' copies (its leader silent)
sends its own copy to everyone if it has not yet: "the others may be short of q(W) without it"
(the last case).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import pytest

from aethel.consensus.events import Broadcast, Send
from aethel.consensus.messages import ViewChange
from conformance.adapters.api import ReplicaAPI
from conformance.checks import Inconclusive
from conformance.suite.scene import AFTER_TIMEOUT, FOUR, MS, find_scene, parsed, view_deadline

pytestmark = pytest.mark.capability("replica")

#: Re-sends the cases wait through.
RESENDS = 3


@dataclass
class Resend:
    """What one firing of the waiting view's timer did."""

    at: int
    view: int
    #: validator -> the VIEW-CHANGEs of height 1 it was sent (directly or by broadcast).
    sent: dict[str, list[ViewChange]]
    #: The next deadline the replica set for the timer of (height 1, ``view``), if any.
    next_deadline: int | None


def _view_changes_to(outputs: object, members: list[str]) -> dict[str, list[ViewChange]]:
    sent: dict[str, list[ViewChange]] = {m: [] for m in members}
    for out in parsed(outputs):
        if not isinstance(out, Send | Broadcast) or not isinstance(out.message, ViewChange):
            continue
        for member in members:
            if isinstance(out, Broadcast) or out.to == member:
                sent[member].append(out.message)
    return sent


@dataclass
class _Waiting:
    """The replica under test, in collector mode, timed out of view 0 of height 1 and waits
    in view 1 (its leader, and every other validator, silent)."""

    name: str
    others: list[str]
    interval: int
    first: ViewChange
    resends: list[Resend]
    case: str


def _wait(replica_api: ReplicaAPI) -> _Waiting:
    scene = find_scene(FOUR, lambda s: s.leader(0) != s.leader(1), label="waiting")
    name = next(m for m in scene.ids if m not in (scene.leader(0), scene.leader(1)))
    leader, others = scene.leader(1), scene.others(name)
    remote: Any = scene.replica(replica_api, name, "collector", now=None)
    interval = view_deadline(remote.start(0), 1, 0)
    if interval is None or interval <= 0:
        raise AssertionError(f"{name} set no view-0 timer of height 1 when started at 0 ns")
    outputs = remote.on_timer(1, 0, "view", interval)
    firsts = [vc for vc in _view_changes_to(outputs, [leader])[leader] if vc.view == 1]
    deadline = view_deadline(outputs, 1, 1)
    case = (
        f"scene waiting (members {scene.ids}, replica {name}, leader of view 1 {leader}), "
        f"view-0 timeout {interval} ns, view 0 timed out at {interval} ns"
    )
    if not firsts or remote.status()["view"] != 1 or deadline is None:
        raise AssertionError(
            f"{case}: {name} did not enter view 1 with a VIEW-CHANGE to its leader and a timer "
            f"(status {remote.status()}, timer {deadline})"
        )
    resends: list[Resend] = []
    for _ in range(RESENDS):
        at = deadline
        outputs = remote.on_timer(1, 1, "view", at)
        view = remote.status()["view"]
        deadline = view_deadline(outputs, 1, view)
        resends.append(Resend(at, view, _view_changes_to(outputs, others), deadline))
        if view != 1 or deadline is None:
            break
    return _Waiting(name, others, interval, firsts[0], resends, case)


@pytest.mark.req("R2.6", "R6.5")
def test_a_waiting_validator_resends_at_the_view_0_pace(replica_api: ReplicaAPI) -> None:
    """The re-sends of view 1 come every timeout(latency, 0), the replica's own view-0 timeout
    (its timer from a start at 0): a retransmission waits for the network, not for the
    view's doubled timeout."""
    waiting = _wait(replica_api)
    if any(r.view != 1 or r.next_deadline is None for r in waiting.resends):
        raise Inconclusive(
            f"{waiting.case}: {waiting.name} left view 1 or set no next timer, so its re-sends "
            "have no pace (staying in the view and re-sending are judged by the state machines, "
            "test_machines.py)"
        )
    deadlines = [waiting.interval] + [r.at for r in waiting.resends]
    deadlines.append(waiting.resends[-1].next_deadline or 0)
    gaps = [b - a for a, b in itertools.pairwise(deadlines)]
    if any(gap != waiting.interval for gap in gaps):
        raise AssertionError(
            f"{waiting.case}: view 0 timed out, then the timer of view 1 was set for "
            f"{deadlines[1:]} ns, {gaps} ns apart; "
            f"R2.6 re-sends every timeout(latency, 0) = {waiting.interval} ns (its view-0 "
            "timer), not at the view's backoff"
        )


@pytest.mark.req("R2.6")
def test_a_waiting_validator_resends_a_copy_to_every_validator(replica_api: ReplicaAPI) -> None:
    """Collector mode: each re-send of the VIEW-CHANGE for view 1 reaches every other
    validator too, as the signed claim (with a claim of no prepared block, the message
    itself): when the leader is silent, the others count the stake asking for the view."""
    waiting = _wait(replica_api)
    for index, resend in enumerate(waiting.resends, start=1):
        if resend.view != 1:
            break
        missing = [
            member
            for member in waiting.others
            if not any(
                vc.view == 1
                and vc.validator == waiting.name
                and vc.payload == waiting.first.payload
                for vc in resend.sent[member]
            )
        ]
        if missing:
            raise AssertionError(
                f"{waiting.case}: at {resend.at} ns (re-send {index}) {waiting.name}'s "
                f"VIEW-CHANGE for view 1 did not reach {missing}; R2.6 (collector mode) sends "
                "a re-send to every other validator as a copy"
            )


@pytest.mark.req("R2.6", "R2.5")
def test_a_view_established_from_copies_is_shared_by_a_copy(replica_api: ReplicaAPI) -> None:
    """Collector mode: the replica times out view 0 and sends its VIEW-CHANGE for view 1 to
    that view's leader only; then the copies of the two other members arrive (the leader is
    silent), and with its own request they hold q(W): view 1 is established from copies. The
    others may be short of q(W) without the replica's stake, so it must send its own copy to
    every validator at once, not at its next re-send."""
    scene = find_scene(FOUR, lambda s: s.leader(0) != s.leader(1), label="own-copy")
    leader = scene.leader(1)
    name = next(m for m in scene.ids if m not in (scene.leader(0), leader))
    askers = scene.others(name, leader)
    remote: Any = scene.replica(replica_api, name, "collector", now=None)
    interval = view_deadline(remote.start(0), 1, 0)
    if interval is None:
        raise AssertionError(f"control: {name} set no view-0 timer when started at 0 ns")
    first = _view_changes_to(remote.on_timer(1, 0, "view", interval), scene.ids)
    if not any(vc.view == 1 for vc in first[leader]) or remote.status()["view"] != 1:
        raise AssertionError(f"control: {name} did not ask the leader of view 1 for it")
    early = [m for m in askers if any(vc.view == 1 and vc.validator == name for vc in first[m])]
    if len(early) == len(askers):
        raise Inconclusive(
            f"{name} sent its VIEW-CHANGE to every validator on its timeout already (allowed); "
            "the case needs a replica that had sent it to the leader only"
        )
    got: dict[str, list[ViewChange]] = {m: [] for m in askers}
    for asker in askers:
        copy = scene.view_change(asker, 1).stripped()
        sent = _view_changes_to(remote.on_message(copy.to_wire(), AFTER_TIMEOUT), askers)
        for member in askers:
            got[member] += [vc for vc in sent[member] if vc.validator == name and vc.view == 1]
    missing = [m for m in askers if m not in early and not got[m]]
    if missing:
        raise AssertionError(
            f"{name}'s view 1 was established from the copies of {askers} (with its own request "
            f"q(W)), but its own copy never reached {missing}: without its stake they may stay "
            "short of q(W) (spec/consensus.md, View change)"
        )


def _own_view_changes(outputs: object, name: str) -> list[ViewChange]:
    return [
        out.message
        for out in parsed(outputs)
        if isinstance(out, Send | Broadcast)
        and isinstance(out.message, ViewChange)
        and out.message.validator == name
    ]


@pytest.mark.req("R2.6", "N6")
@pytest.mark.parametrize("mode", ["broadcast", "collector"])
def test_a_view_change_already_shared_is_not_sent_again(replica_api: ReplicaAPI, mode: str) -> None:
    """A validator whose view becomes established from the others' requests sends its own copy
    "if it has not yet" (spec/consensus.md, View change), and an honest peer re-sends its
    VIEW-CHANGE at most once a view-0 timeout (spec/security.md, N6: the per-peer share of what
    a validator keeps is sized by it). Broadcast mode: the replica times out view 0 and sends its
    VIEW-CHANGE for view 1 to everyone. Collector mode: it times out (to the leader of view 1)
    and its first re-send reaches everyone as a copy. Then the two other members' requests
    arrive before the next re-send is due and, with its own, hold q(W): view 1 is established
    without its leader. Every validator has the replica's request already, so it sends none.

    Written from the mechanical survivor ``aethel/consensus/viewchange.py:ViewChangeRules.
    _send_view_change:ReplaceTrueWithFalse:b4109862`` (a broadcast request not remembered as
    shared, so the view's establishment sent it again)."""
    scene = find_scene(FOUR, lambda s: s.leader(0) != s.leader(1), label="shared-once")
    leader = scene.leader(1)
    name = next(m for m in scene.ids if m not in (scene.leader(0), leader))
    askers = scene.others(name, leader)
    remote: Any = scene.replica(replica_api, name, mode, now=None)
    interval = view_deadline(remote.start(0), 1, 0)
    if interval is None:
        raise AssertionError(f"control: {name} set no view-0 timer when started at 0 ns")
    outputs = remote.on_timer(1, 0, "view", interval)
    now = interval
    if mode == "collector":
        deadline = view_deadline(outputs, 1, 1)
        if deadline is None:
            raise AssertionError(f"control: {name} set no timer for view 1 after asking for it")
        outputs = remote.on_timer(1, 1, "view", deadline)
        now = deadline
    reached = _view_changes_to(outputs, scene.others(name))
    missing = [
        m
        for m in scene.others(name)
        if not any(vc.view == 1 and vc.validator == name for vc in reached[m])
    ]
    if missing or remote.status()["view"] != 1:
        raise AssertionError(
            f"control ({mode} mode): {name}'s request for view 1 did not reach {missing} "
            f"when it {'timed out' if mode == 'broadcast' else 're-sent it'} (R2.6), or it left "
            f"view 1 (status {remote.status()})"
        )
    again: list[ViewChange] = []
    for asker in askers:
        request = scene.view_change(asker, 1)
        wire = (request if mode == "broadcast" else request.stripped()).to_wire()
        again += _own_view_changes(remote.on_message(wire, now + MS), name)
    if again:
        raise AssertionError(
            f"{mode} mode: {name} had sent its VIEW-CHANGE for view 1 to every validator, then "
            f"the requests of {askers} established the view and it sent it again "
            f"({len(again)} more): the copy goes out only if it has not yet (R2.6), and an "
            "honest peer re-sends at most once a view-0 timeout (N6)"
        )


@pytest.mark.req("R2.6", "P10")
def test_a_waiting_validators_claim_reaches_the_leader_whole_on_a_re_send(
    replica_api: ReplicaAPI,
) -> None:
    """Collector mode: the replica prepared the view-0 block D (the collector's prepare
    certificate) and view 0 timed out; its VIEW-CHANGE for view 1 claims D. The copies a re-send
    gives the others carry no certificate or block, so the re-send must still give the leader
    of view 1 the whole message: if the first one was lost, the leader otherwise cannot back
    the claim and may re-propose another block (spec/consensus.md, View change: the NEW-VIEW
    proposes the block of the highest claim, backed by its certificate).

    Written from the module campaign of aethel/consensus/viewchange.py (survivors of
    ``ViewChangeRules._send_view_change``'s ``vc.prepared is not None and leader != self.id``:
    the whole message not sent again): the re-sends the cases saw claimed nothing."""
    scene = find_scene(FOUR, lambda s: s.leader(0) != s.leader(1), label="claim-resent")
    first, leader = scene.leader(0), scene.leader(1)
    name = next(m for m in scene.ids if m not in (first, leader))
    block = scene.block(first)
    remote: Any = scene.replica(replica_api, name, "collector", now=None)
    interval = view_deadline(remote.start(0), 1, 0)
    if interval is None:
        raise AssertionError(f"control: {name} set no view-0 timer when started at 0 ns")
    remote.on_message(scene.pre_prepare(block).to_wire(), MS)
    certificate = scene.prepare_certificate([first, leader, name], block.digest)
    remote.on_message(certificate.to_wire(), 2 * MS)
    outputs = remote.on_timer(1, 0, "view", interval)
    claims = [vc for vc in _own_view_changes(outputs, name) if vc.view == 1]
    if not claims or claims[0].prepared_digest != block.digest:
        raise AssertionError(
            f"control: {name} prepared D and timed out of view 0, but sent no VIEW-CHANGE for "
            f"view 1 claiming D ({claims})"
        )
    deadline = view_deadline(outputs, 1, 1)
    if deadline is None:
        raise AssertionError(f"control: {name} set no timer while waiting for view 1")
    resent = _view_changes_to(remote.on_timer(1, 1, "view", deadline), [leader])[leader]
    whole = [
        vc
        for vc in resent
        if vc.validator == name
        and vc.view == 1
        and vc.prepared is not None
        and vc.prepared.digest == block.digest
        and vc.block is not None
    ]
    if not whole:
        raise AssertionError(
            f"{name} re-sent its VIEW-CHANGE for view 1 at {deadline} ns, but the leader of view "
            f"1, {leader}, got no copy with the certificate and block of its claim (it got "
            f"{len(resent)} without them)"
        )


@pytest.mark.req("R2.6", "R2.5")
def test_a_copy_shared_in_one_view_does_not_stand_for_the_next(replica_api: ReplicaAPI) -> None:
    """Collector mode. The replica waits in view 1 and its re-send gives every validator a copy;
    the others' copies then establish view 1, which later times out too. Its VIEW-CHANGE for view
    2 goes to that view's leader only, and when the others' copies establish view 2 it must send
    its own copy for view 2 to everyone (spec/consensus.md, View change: "if it has not yet"):
    the copy it shared for view 1 asks for view 1, and counts for nothing in view 2 at a
    validator that needs its stake.

    Written from the module campaign of aethel/consensus/viewchange.py (survivor
    ``ViewChangeRules._enter_view_change:RemoveStatement:92dae82d``: whether the replica's
    request was shared carried over from the view before)."""
    scene = find_scene(
        FOUR, lambda s: len({s.leader(0), s.leader(1), s.leader(2)}) == 3, label="copy-per-view"
    )
    name = next(
        m for m in scene.ids if m not in (scene.leader(0), scene.leader(1), scene.leader(2))
    )
    others = scene.others(name)
    remote: Any = scene.replica(replica_api, name, "collector", now=None)
    deadline = view_deadline(remote.start(0), 1, 0)
    for view in (1, 2):
        if deadline is None:
            raise AssertionError(f"control: {name} set no timer before asking for view {view}")
        outputs = remote.on_timer(1, view - 1, "view", deadline)
        first = _view_changes_to(outputs, others)
        if view == 1:
            deadline = view_deadline(outputs, 1, 1)
            if deadline is None:
                raise AssertionError(f"control: {name} set no re-send timer in view 1")
            first = _view_changes_to(remote.on_timer(1, 1, "view", deadline), others)
        askers = [m for m in others if m != scene.leader(view)]
        got = {
            m: [vc for vc in first[m] if vc.validator == name and vc.view == view] for m in others
        }
        established: list[Any] = []
        for asker in askers:
            copy = scene.view_change(asker, view).stripped()
            outputs = remote.on_message(copy.to_wire(), deadline + view * MS)
            established += outputs
            for member, vcs in _view_changes_to(outputs, others).items():
                got[member] += [vc for vc in vcs if vc.validator == name and vc.view == view]
        missing = [m for m in askers if not got[m]]
        if missing:
            raise AssertionError(
                f"{name}'s view {view} was established from the copies of {askers} (with its own "
                f"request q(W)), but its own request for view {view} never reached {missing}"
            )
        deadline = view_deadline(established, 1, view)
