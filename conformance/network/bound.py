"""The liveness bound of a run, derived from the protocol's timeouts and the run's own schedule.

After the last heal every fault is off and every node runs again (the harness restarts the
killed and continues the paused before it takes the heal's time), so the network is past GST
(R2.5). The liveness checker asks every node to pass the heal height H (the highest height any
node reported at the heal, plus one) within a bound. A fixed bound is wrong both ways: the
protocol may need more than any fixed number (a validator barred after a wipe that leads several
views of H in a row costs 4 + 8 + 16 + ... seconds, seed 3027), and a bound loose enough for that
lets a wedged node go unnoticed for as long. The bound of a run is therefore

    bound = max over j in 0..J of  wait(j)  +  SLACK_S

where T(v) = timeout(latency, v) = B x 2^min(v, 6) (R2.6, R6.5), R = T(0) = B the period at
which a waiting validator re-sends its VIEW-CHANGE and a leader its lost NEW-VIEW (consensus.md,
"View change"), and B the timeout base, timeout(latency, 0):

* **B** is the 4 s floor unless a node says more. After the heal the links are loopback, but a
  node's *observed* latency is its own estimate, and R6.5 only puts the timeout at or above
  4 times it: a node that sampled a round trip slowed by a cut before the heal may run every view
  on an 8 s base (network seed 3016: two reference nodes did, and the floor's bound failed them by
  under a second). A node may report its base in ``GET /status`` (``timeout_base_ms``, optional,
  NODE.md); B is the largest base any node reported from its last answer before the heal until it
  reached H, never below the floor and never above MAX_REPORTED_BASE_S (8 s of one-way latency:
  a node on loopback that believes more is not measuring the network). The bound's text names
  the node and the base it used.

* **who cannot lead H**: a validator wiped in the run that may be barred at H. A validator that
  lost its vote journal signs nothing below h + 2, h the peers' latest certified height it learns
  first as it rejoins (consensus.md, "Votes"; R2.4), so it can lead no view of height h + 1 and no
  earlier one; h + 1 <= H since no certificate of H exists before H commits. It is not barred at
  H when it learned h before H - 1 was committed: it reported a synced height (its first height
  above 0 after the wipe; it syncs nothing before it learns where the chain is) at time r, and
  H - 1 was first reported by any node later than r + OBSERVATION_LAG_S. Everyone else runs at
  the heal and can lead once it is in step (the slack below). The leader of (H, v) is
  ``ValidatorSet.get_leader(H, v)`` of the genesis set (R2.6; stakes change only by slashing,
  R4.2, and a run that slashes fails the accusation checker anyway).
* **wait(j)**, from view j, the view in progress at the heal: that view may fail whoever leads
  it (its proposal or votes were lost before GST, and votes are not sent again; or its leader is
  barred), so it costs its timer, T(j), plus R if j > 0 (it may still be waiting to be
  established); then each following view whose leader cannot lead costs T(v) + R (nobody sends
  its NEW-VIEW, so it is established only from re-sent VIEW-CHANGE copies, R2.6), up to the
  first view whose leader can lead, which commits H after GST (R2.5, P9).
* **J**, the highest view of H the validators can be in at the heal: a view v > 0 is entered only
  when a timer of view v - 1 fires (or by joining validators that did, R2.6), so reaching view j
  takes at least T(0) + ... + T(j - 1) at the 4 s floor from the start of H (the floor, not B:
  the fastest timer sets how far the views can have run); H started no earlier than H - 1 was first
  reported minus OBSERVATION_LAG_S.
* **slack** = R + 2 SYNC_S (24 s at the floor, SLACK_S): one re-send period for the leading
  view's VIEW-CHANGEs or NEW-VIEW to reach a validator that was not in step, a lagging
  validator's catch-up before it can lead or vote (SYNC_S, R3.4, R3.5; with a barred validator
  every other one is needed for q(W)) and the laggards' catch-up to H once it commits (SYNC_S
  again). SYNC_S = 10 s is a stated allowance for one state sync of these small chains on a
  loaded 2-core machine, not a rule of the spec (the 87 runs of the three campaigns before this
  bound that recovered did so within their derived bounds, those with no barred validator within
  14.7 s; reports/network/README.md).

If the validators that may be barred hold so much stake that the others lack q(W), the spec
promises no commit of H (R2.5 needs q(W) of participating honest stake) and no bound exists: the
verdict is ``skip``, said so. ``--liveness-bound S`` overrides the derivation with S seconds;
either way every liveness verdict records the bound used and why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from aethel.consensus.timeouts import compute_timeout
from aethel.consensus.validators import ValidatorSet

#: A commit shows in the next status answer of its node: the observer polls every node every
#: 0.25 s and waits up to 1.5 s for an answer (workload.POLL_S, Observer.poll).
OBSERVATION_LAG_S = 2.0
#: One state sync of a lagging validator (see the module docstring): an allowance, not a rule.
SYNC_S = 10.0
#: Views looked at past J before a run of barred leaders counts as endless.
MAX_VIEWS = 64
#: The timeout base at zero observed latency: the 4 s floor of R6.5.
FLOOR_BASE_S = compute_timeout(0, 0) / 1e9
#: The largest reported base the bound takes (s): timeout(8 s of one-way latency, 0).
MAX_REPORTED_BASE_S = compute_timeout(8 * 10**9, 0) / 1e9


def view_timeout_s(view: int, base_s: float = FLOOR_BASE_S) -> float:
    """T(v) = B x 2^min(v, 6) (R2.6, R6.5), in seconds; B the 4 s floor unless given."""
    return base_s * (compute_timeout(0, view) // compute_timeout(0, 0))


RESEND_S = view_timeout_s(0)
SLACK_S = RESEND_S + 2 * SYNC_S


@dataclass(frozen=True, slots=True)
class LivenessBound:
    """The bound of one run and how it was obtained."""

    #: Seconds after the heal; None: the spec promises no commit of ``height`` (see docstring).
    seconds: float | None
    #: ``derived`` or ``override`` (``--liveness-bound``).
    source: str
    height: int = 0
    #: Validators taken as barred at ``height`` (wiped, and possibly still below their minimum
    #: vote height).
    barred: tuple[str, ...] = ()
    #: Highest view of ``height`` the validators can be in at the heal (J).
    highest_view: int = 0
    #: The view j whose run of barred leaders is the longest wait, and that wait (s).
    worst_view: int = 0
    wait_s: float = 0.0
    slack_s: float = SLACK_S
    #: B, the view-0 timeout the costs were computed with (s), and who reported it.
    base_s: float = FLOOR_BASE_S
    base_from: str = ""
    #: Leaders of (height, v) for v = 0 .. past the worst run.
    leaders: tuple[str, ...] = ()
    why: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {
            "seconds": self.seconds,
            "source": self.source,
            "height": self.height,
            "barred": list(self.barred),
            "highest_view": self.highest_view,
            "worst_view": self.worst_view,
            "wait_s": self.wait_s,
            "slack_s": self.slack_s,
            "base_s": self.base_s,
            "base_from": self.base_from,
            "leaders": list(self.leaders),
            "why": self.why,
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> LivenessBound:
        seconds = value.get("seconds")
        return cls(
            seconds=None if seconds is None else float(seconds),
            source=str(value.get("source", "derived")),
            height=int(value.get("height", 0)),
            barred=tuple(value.get("barred", ())),
            highest_view=int(value.get("highest_view", 0)),
            worst_view=int(value.get("worst_view", 0)),
            wait_s=float(value.get("wait_s", 0.0)),
            slack_s=float(value.get("slack_s", SLACK_S)),
            base_s=float(value.get("base_s", FLOOR_BASE_S)),
            base_from=str(value.get("base_from", "")),
            leaders=tuple(value.get("leaders", ())),
            why=str(value.get("why", "")),
            notes=tuple(value.get("notes", ())),
        )


@dataclass(frozen=True, slots=True)
class Observed:
    """What the harness saw that the derivation needs (all times in run seconds)."""

    heal_time: float
    #: The heal height H: every node must reach it.
    height: int
    #: Status answers (time, node, height, invoked) in the order they completed.
    statuses: tuple[tuple[float, str, int, float], ...]
    #: Wipes: (node, time the restarted node was ready again).
    wipes: tuple[tuple[str, float], ...]
    #: Timeout bases the nodes reported (time, node, timeout(latency, 0) in s), in the order
    #: the status answers completed; empty for a node that does not report it (optional).
    bases: tuple[tuple[float, str, float], ...] = ()


def first_seen(observed: Observed, height: int) -> float:
    """When any node first reported ``height`` or more (0.0 for height 0 or less)."""
    if height <= 0:
        return 0.0
    times = [t for t, _, h, _ in observed.statuses if h >= height]
    return min(times, default=observed.heal_time)


def barred_at(observed: Observed) -> tuple[list[str], list[str]]:
    """The validators that may be barred at the heal height, and a note for each wipe."""
    target = observed.height
    seen = first_seen(observed, target - 1)
    barred: list[str] = []
    notes: list[str] = []
    for node, ready in observed.wipes:
        synced = [
            t
            for t, who, h, invoked in observed.statuses
            if who == node and invoked >= ready and h >= 1 and t <= observed.heal_time
        ]
        if synced and seen - OBSERVATION_LAG_S > min(synced):
            notes.append(
                f"{node} (wiped) reported height >= 1 at t={min(synced):.1f} s, before height "
                f"{target - 1} was first seen (t={seen:.1f} s): not barred at {target}"
            )
            continue
        if node not in barred:
            barred.append(node)
        when = f"at t={min(synced):.1f} s" if synced else "not before the heal"
        notes.append(
            f"{node} (wiped, ready at t={ready:.1f} s, first synced {when}) may have learned "
            f"height {target - 1}: barred at {target} (it signs nothing below h + 2)"
        )
    return barred, notes


def timeout_base(observed: Observed) -> tuple[float, str, list[str]]:
    """B of the module docstring: (seconds, who reported it or "", notes)."""
    reached: dict[str, float] = {}
    for time, node, height, _ in observed.statuses:
        if height >= observed.height and node not in reached:
            reached[node] = time
    before: dict[str, tuple[float, float]] = {}
    after: list[tuple[float, str, float]] = []
    for time, node, base in observed.bases:
        if time <= observed.heal_time:
            before[node] = (time, base)
        elif time <= reached.get(node, float("inf")):
            after.append((time, node, base))
    counted = [(t, n, b) for n, (t, b) in before.items()] + after
    notes: list[str] = []
    if not counted:
        return FLOOR_BASE_S, "", notes
    time, node, reported = max(counted, key=lambda row: (row[2], -row[0]))
    base = math.ceil(reported * 1000) / 1000  # whole ms, never below the report
    if base <= FLOOR_BASE_S:
        return FLOOR_BASE_S, "", notes
    if base > MAX_REPORTED_BASE_S:
        notes.append(
            f"{node} reported a timeout base of {base:g} s at t={time:.1f} s; the bound takes "
            f"at most {MAX_REPORTED_BASE_S:g} s (8 s of one-way latency)"
        )
        base = MAX_REPORTED_BASE_S
    else:
        notes.append(
            f"{node} reported a timeout base of {base:g} s at t={time:.1f} s (R6.5: 4 x its "
            f"observed latency, above the {FLOOR_BASE_S:g} s floor): T(v) = {base:g} s x 2^v"
        )
    return base, node, notes


def derive_bound(validators: ValidatorSet, observed: Observed) -> LivenessBound:
    """The bound of the module docstring for a run that saw ``observed``."""
    target = observed.height
    barred, notes = barred_at(observed)
    stake = {member.id: member.stake for member in validators.validators}
    leading = sum(s for node, s in stake.items() if node not in barred)
    if leading < validators.quorum:
        why = (
            f"validators {', '.join(barred)} may be barred at height {target} and the others "
            f"hold {leading} of {validators.total_stake}, below q(W) = {validators.quorum}: "
            "the spec promises no commit (R2.5)"
        )
        return LivenessBound(None, "derived", target, tuple(barred), why=why, notes=tuple(notes))
    base, base_from, base_notes = timeout_base(observed)
    notes.extend(base_notes)
    slack = base + 2 * SYNC_S
    started = max(0.0, first_seen(observed, target - 1) - OBSERVATION_LAG_S)
    elapsed = max(0.0, observed.heal_time - started)
    highest = 0
    while highest < MAX_VIEWS and sum(view_timeout_s(u) for u in range(highest + 1)) <= elapsed:
        highest += 1

    def leader(view: int) -> str:
        return validators.get_leader(target, view).id

    worst, wait = 0, 0.0

    def cost(view: int) -> float:
        return view_timeout_s(view, base) + (base if view > 0 else 0.0)

    for first in range(highest + 1):
        view, total = first + 1, cost(first)
        while leader(view) in barred:
            total += cost(view)
            view += 1
            if view - first > MAX_VIEWS:
                why = f"{MAX_VIEWS} views in a row of height {target} are led by barred validators"
                return LivenessBound(
                    None, "derived", target, tuple(barred), why=why, notes=tuple(notes)
                )
        if total > wait:
            worst, wait = first, total
    end = worst + 1
    while leader(end) in barred:
        end += 1
    leaders = tuple(leader(v) for v in range(max(end, highest) + 1))
    runs = " + ".join(f"{cost(v):g}" for v in range(worst, end))
    led = ", ".join(f"{v} {leaders[v]}" for v in range(worst, end + 1))
    who = f"barred: {', '.join(sorted(barred))}" if barred else "none barred"
    on_base = f"; timeout base {base:g} s reported by {base_from}" if base_from else ""
    why = (
        f"height {target} (views reachable by the heal: 0-{highest}, {elapsed:.1f} s after "
        f"its start): from view {worst} ({who}; leaders {led}{on_base}) {runs} = {wait:g} s, "
        f"plus {slack:g} s slack"
    )
    return LivenessBound(
        round(wait + slack, 3),
        "derived",
        target,
        tuple(barred),
        highest,
        worst,
        wait,
        slack,
        base,
        base_from,
        leaders,
        why,
        tuple(notes),
    )


def override_bound(seconds: float, height: int) -> LivenessBound:
    """A bound given on the command line (``--liveness-bound``)."""
    return LivenessBound(
        seconds, "override", height, why=f"--liveness-bound {seconds:g} (not derived)"
    )


__all__ = [
    "FLOOR_BASE_S",
    "MAX_REPORTED_BASE_S",
    "OBSERVATION_LAG_S",
    "SLACK_S",
    "SYNC_S",
    "LivenessBound",
    "Observed",
    "derive_bound",
    "first_seen",
    "override_bound",
    "timeout_base",
    "view_timeout_s",
]
