"""A timer the replica set before does nothing when it fires late (R2.6, R6.5).

The shell cannot cancel a timer (conformance/WIRE.md, ``set_timer``: "an earlier timer stays
set"), so every timer a replica ever set fires. spec/consensus.md, "View change": only the
timer of the established view, started when the view was established, times it out; a timer set
before it, for an earlier height or for the same view while the validator waited for it (a
re-send timer), changes nothing.

The case: a validator waits in view 1 with a re-send timer pending, a NEW-VIEW establishes the
view and its timer is set for later; the re-send timer fires at its deadline and must not start
a view change (a replica that matches a timer by height and view alone asks for view 2 there,
half a view early); then the view's own timer fires and must (the control).

Written after a probe: a replica that honours a superseded timer of its view passed every case
(the reference checks the deadline of the latest timer it set, ``_timer_superseded``).
"""

from __future__ import annotations

from typing import Any

import pytest

from aethel.consensus.messages import ViewChange
from conformance.adapters.api import ReplicaAPI
from conformance.suite.scene import FOUR, MS, Scene, find_scene, sent, view_deadline

pytestmark = pytest.mark.capability("replica")


def _view_changes(outputs: object, view: int) -> list[Any]:
    return sent(outputs, ViewChange, lambda m: m.view == view)


def _time_out(remote: Any, scene: Scene, name: str, height: int, view: int, at: int) -> None:
    """Control: the view's own timer at its deadline sends a VIEW-CHANGE for the next view."""
    changes = _view_changes(remote.on_timer(height, view, "view", at), view + 1)
    if not changes:
        raise AssertionError(
            f"control: {name} sent no VIEW-CHANGE for view {view + 1} when the timer of height "
            f"{height}, view {view} fired at its deadline {at} ns ({scene.ids})"
        )


@pytest.mark.req("R2.6", "R6.5")
def test_a_timer_set_while_the_view_waited_times_nothing_out(replica_api: ReplicaAPI) -> None:
    scene = find_scene(FOUR, lambda s: s.leader(0) != s.leader(1), label="stale-view-timer")
    leader = scene.leader(1)
    name = next(m for m in scene.ids if m not in (scene.leader(0), leader))
    remote: Any = scene.replica(replica_api, name, "collector", now=None)
    interval = view_deadline(remote.start(0), 1, 0)
    if interval is None:
        raise AssertionError(f"control: {name} set no view timer of height 1 when started")
    outputs = remote.on_timer(1, 0, "view", interval)
    resend = view_deadline(outputs, 1, 1)
    if not _view_changes(outputs, 1) or resend is None:
        raise AssertionError(
            f"control: {name} did not ask for view 1 and set a timer when view 0 timed out"
        )
    changes = [scene.view_change(m, 1) for m in scene.ids if m != name][:3]
    arrival = interval + MS
    new_view = scene.new_view(changes, None, scene.block(leader), 1)
    own = view_deadline(remote.on_message(new_view.to_wire(), arrival), 1, 1)
    status = remote.status()
    if own is None or own <= resend or status["view"] != 1:
        raise AssertionError(
            f"control: {name} did not follow the NEW-VIEW for view 1 at {arrival} ns with its "
            f"view timer after the re-send timer of {resend} ns (timer {own}, status {status})"
        )
    early = _view_changes(remote.on_timer(1, 1, "view", resend), 2)
    status = remote.status()
    if early or status["view"] != 1:
        raise AssertionError(
            f"{name} waited in view 1 with a re-send timer for {resend} ns; a NEW-VIEW "
            f"established the view at {arrival} ns and its timer was set for {own} ns. The "
            f"re-send timer then fired and it {'asked for view 2' if early else 'left view 1'} "
            f"(status {status}): only the established view's own timer times it out"
        )
    _time_out(remote, scene, name, 1, 1, own)
