"""Pure consensus rules of the replica: the view timeout against observed latency (P26), its
doubling per view and its return to the view-0 timeout at the next height (R2.6).

The replica's use of the rule (timeouts that follow latency measured on its links, R6.5) is
checked with the sans-IO replica itself; so is the doubling of the timers it sets.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aethel.consensus.events import SetTimer
from conformance.adapters.api import ReplicaAPI
from conformance.checks import expect_rejected
from conformance.plugin import Measure, catalog_threshold
from conformance.suite.scene import MS, Scene, find_scene, parsed, view_deadline

pytestmark = pytest.mark.capability("replica")


def _latencies() -> st.SearchStrategy[int]:
    """Latencies (ns) above the catalog's condition, up to ten minutes."""
    above_ms = catalog_threshold("P26", "observed_latency_ms").value
    return st.integers(int(above_ms * MS) + 1, 600_000 * MS)


@pytest.mark.req("P26")
@given(latency=_latencies(), extra=st.integers(0, 10_000 * MS), view=st.integers(0, 30))
def test_timeout_keeps_its_multiple_of_latency_and_rises_with_it(
    replica_api: ReplicaAPI, latency: int, extra: int, view: int
) -> None:
    ratio = catalog_threshold("P26", "timeout_to_latency_ratio")
    low = replica_api.timeout(latency, view)
    high = replica_api.timeout(latency + extra, view)
    if type(low) is not int:
        raise AssertionError(f"timeout must be an integer of ns, got {low!r}")
    if not ratio.holds(low / latency):
        raise AssertionError(f"timeout {low} ns is {low / latency:.3f} x latency {latency} ns")
    if high < low:
        raise AssertionError(f"timeout fell from {low} to {high} ns as latency rose by {extra} ns")
    if replica_api.timeout(latency, view + 1) < low:
        raise AssertionError(f"timeout fell from view {view} to view {view + 1}")


@pytest.mark.req("R6.5")
@pytest.mark.parametrize(
    ("latency", "view"), [(-1, 0), (0, -1)], ids=["negative-latency", "negative-view"]
)
def test_a_negative_latency_or_view_has_no_timeout(
    replica_api: ReplicaAPI, latency: int, view: int
) -> None:
    """R6.5 fixes timeout(latency, view) for an observed one-way latency and a view, neither of
    which can be negative: ``replica.timeout`` refuses a negative one with an error instead of
    answering a timeout for it (a clamp to the 4 s floor would hide a clock or counter bug).

    Written from the module campaign of aethel/consensus/timeouts.py (the input checks of
    ``compute_timeout`` removed or moved to -1: no case sent a negative value)."""
    expect_rejected(
        lambda: replica_api.timeout(latency, view), f"timeout({latency} ns, view {view})"
    )


@pytest.mark.req("P26")
def test_timeout_to_latency_ratio_over_a_sweep(replica_api: ReplicaAPI, measure: Measure) -> None:
    """Record the smallest timeout/latency ratio over latencies from 0.5 s to 100 s, views 0-10."""
    above_ms = catalog_threshold("P26", "observed_latency_ms").value
    start = int(above_ms * MS) + 1
    ratios = [
        replica_api.timeout(latency, view) / latency
        for latency in range(start, 100_000 * MS, 997 * MS)
        for view in range(11)
    ]
    measure.check("P26", "timeout_to_latency_ratio", min(ratios))


def _view_timer(outputs: object, view: int, now: int) -> int | None:
    """Return the duration of the last view timer ``outputs`` set for ``view``, if any."""
    found = None
    for out in parsed(outputs):
        if isinstance(out, SetTimer) and out.timer.kind == "view" and out.timer.view == view:
            found = out.deadline - now
    return found


#: The views whose NEW-VIEWs the replica follows: doubling, then past the cap (2^6).
TIMED_VIEWS = (1, 2, 3, 7, 8)


@pytest.mark.req("R2.6", "R6.5")
def test_replica_view_timers_double_per_view(replica_api: ReplicaAPI) -> None:
    """The replica follows valid NEW-VIEWs for views 1, 2, 3, 7 and 8 of height 1 (no round trip
    completes, so its latency estimate cannot change): the timer of each view it enters is its
    view-0 timer times 2^view, up to 64 times it (views 7 and 8: the cap, R2.6)."""
    scene = find_scene(
        [10_000] * 4,
        lambda s: any(all(s.leader(v) != m for v in (0, *TIMED_VIEWS)) for m in s.ids),
        label="timers",
    )
    name = next(m for m in scene.ids if all(scene.leader(v) != m for v in (0, *TIMED_VIEWS)))
    others = scene.others(name)
    remote = scene.replica(replica_api, name, "collector", now=None)
    durations = [_view_timer(remote.start(0), 0, 0)]
    for view in TIMED_VIEWS:
        now = view * 10**9
        changes = [scene.view_change(m, view) for m in others]
        nv = scene.new_view(changes, None, scene.block(scene.leader(view)), view)
        durations.append(_view_timer(remote.on_message(nv.to_wire(), now), view, now))
    if None in durations or durations[0] is None:
        raise AssertionError(f"{name} set no view timer in some view: {durations}")
    want = [durations[0] * 2 ** min(view, 6) for view in (0, *TIMED_VIEWS)]
    if durations != want:
        raise AssertionError(
            f"{name}'s view timers for views {(0, *TIMED_VIEWS)} last {durations} ns, not "
            f"{want} (doubling, capped at 64 times the view-0 timer)"
        )


@pytest.mark.req("R2.6", "R6.5")
def test_the_backoff_starts_again_at_the_next_height(replica_api: ReplicaAPI) -> None:
    """R2.6 doubles the timeout with each further view *of the same height*: the replica follows
    a NEW-VIEW for view 1 of height 1 (its timer twice the view-0 one), commits height 1 in
    view 1, and its view-0 timer of height 2 lasts as long as that of height 1 (every round trip
    here takes a millisecond, so the latency estimate stays below the 4 s floor's)."""

    def leaders(s: Scene) -> set[str]:
        return {s.leader(0), s.leader(1), s.leader(0, 2)}

    scene = find_scene([10_000] * 4, lambda s: len(leaders(s)) == 3, label="backoff-reset")
    name = next(m for m in scene.ids if m not in leaders(scene))
    others = scene.others(name)
    remote = scene.replica(replica_api, name, "collector", now=None)
    first = _view_timer(remote.start(0), 0, 0)
    now = 10**9
    block = scene.block(scene.leader(1))
    changes = [scene.view_change(m, 1) for m in others]
    nv = scene.new_view(changes, None, block, 1)
    doubled = _view_timer(remote.on_message(nv.to_wire(), now), 1, now)
    if first is None or doubled != 2 * first:
        raise AssertionError(
            f"control: {name}'s view timers of height 1 last {first} ns (view 0) and {doubled} "
            "ns (view 1), not one and twice the view-0 timeout"
        )
    certificate = scene.commit_certificate(others[:3], block.digest, scene.post_root(block), view=1)
    now += MS
    outputs = remote.on_message(certificate.to_wire(), now)
    if remote.status()["height"] != 2:
        raise AssertionError(f"control: {name} did not commit height 1 in view 1")
    deadline = view_deadline(outputs, 2, 0)
    again = None if deadline is None else deadline - now
    if again != first:
        raise AssertionError(
            f"{name} committed height 1 in view 1; its view-0 timer of height 2 lasts {again} "
            f"ns, not the view-0 timeout {first} ns: the backoff doubles per view of the same "
            "height and starts again at the next (R2.6)"
        )
