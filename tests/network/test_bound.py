"""The liveness bound derived from the view timeouts and a run's schedule (network/bound.py).

The chains are the harness's own (``make_chain``: the leader draw of seed 3027's genesis gives
v000 views 0-4 of height 133 and v003 view 5, as in the mixed campaign's failing run); the
observations are what the observer would have recorded.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from conformance.network import cli
from conformance.network.bound import (
    FLOOR_BASE_S,
    MAX_REPORTED_BASE_S,
    SLACK_S,
    SYNC_S,
    Observed,
    derive_bound,
    view_timeout_s,
)
from conformance.network.checkers import SKIP, Verdict, check_liveness
from conformance.network.contract import REFERENCE_COMMAND, NodeSlot, make_chain
from conformance.network.history import History
from conformance.network.nemesis import Applied, Fault
from conformance.network.replay import read_replay
from conformance.network.run import RunConfig, RunRecord

IDS = ("v000", "v001", "v002", "v003")
REPLAYS = Path(__file__).resolve().parents[2] / "reports" / "network" / "earlier"


def statuses(*rows: tuple[float, str, int]) -> tuple[tuple[float, str, int, float], ...]:
    return tuple((t, node, height, t - 0.01) for t, node, height in rows)


def seed_3027(synced_at: float) -> Observed:
    """Height 132 first seen at t=44 s; v000 wiped, ready at 46 s, reports a synced height at
    ``synced_at``; healed at 48.5 s."""
    rows = [(44.0, node, 132) for node in IDS[1:]] + [(synced_at, "v000", 132)]
    return Observed(48.5, 133, statuses(*rows), (("v000", 46.0),))


def test_the_bound_of_seed_3027_waits_for_five_views_of_a_barred_leader() -> None:
    """R2.4's lost-journal rule bars v000 at 133; views 0-4 are its own: 4 + (8 + 4) + (16 + 4)
    + (32 + 4) + (64 + 4) = 140 s before view 5 (v003), beyond the old fixed 60 s."""
    validators = make_chain(4, 4, 3027).chain.validators
    bound = derive_bound(validators, seed_3027(synced_at=47.0))
    assert bound.barred == ("v000",) and bound.leaders[:6] == ("v000",) * 5 + ("v003",)
    assert bound.highest_view == 1  # 6.5 s since 132 (minus the lag): view 1 at most
    assert bound.wait_s == 140.0 and bound.seconds == 140.0 + SLACK_S
    assert "barred: v000" in bound.why and "= 140 s" in bound.why


def test_a_wiped_validator_in_step_before_the_last_height_is_not_barred() -> None:
    """It learned a height below H - 1 (it reported a synced height more than the observation
    lag before H - 1 was first seen), so it may sign at H: no view waits for it."""
    validators = make_chain(4, 4, 3027).chain.validators
    rows = [(10.0, "v000", 40), (44.0, "v001", 132), (44.0, "v002", 132)]
    bound = derive_bound(validators, Observed(48.5, 133, statuses(*rows), (("v000", 9.0),)))
    # Only the view in progress (at most view 1, 6.5 s after 132) may fail: 8 + 4 s.
    assert bound.barred == () and bound.seconds == view_timeout_s(1) + view_timeout_s(0) + SLACK_S
    assert "not barred at 133" in bound.notes[0]


def test_the_view_in_progress_at_the_heal_may_fail_whoever_leads_it() -> None:
    """H started 13 s before the heal: the cluster may be in view 2 (4 + 8 <= 13 < 4 + 8 + 16),
    whose votes may have been lost before GST: its 16 s timer and one re-send period."""
    validators = make_chain(4, 4, 1).chain.validators
    rows = [(37.5, node, 50) for node in IDS]
    bound = derive_bound(validators, Observed(48.5, 51, statuses(*rows), ()))
    assert bound.highest_view == 2 and bound.worst_view == 2
    assert bound.wait_s == view_timeout_s(2) + view_timeout_s(0) == 20.0
    assert bound.seconds == 20.0 + SLACK_S


def test_no_bound_when_the_barred_validators_leave_less_than_a_quorum() -> None:
    """Two of four barred at H: the others hold 2/4 < q(W); the spec promises no commit (R2.5
    needs q(W) of participating honest stake) and the checker says skip, not fail."""
    validators = make_chain(4, 4, 3027).chain.validators
    rows = [(44.0, "v001", 132)]
    bound = derive_bound(
        validators, Observed(48.5, 133, statuses(*rows), (("v000", 46.0), ("v002", 47.0)))
    )
    assert bound.seconds is None and "below q(W)" in bound.why


def seed_3016(*bases: tuple[float, str, float]) -> Observed:
    """Height 212 first seen at t=36.7 s (13 s before the heal at 47.4 s: views 0-2 reachable at
    the floor); v003 wiped at 32.4 s and ready at 33.3 s, barred at 213 (it leads views 0-2);
    ``bases`` as reported (time, node, seconds)."""
    rows = [(36.7, node, 212) for node in IDS[:3]] + [(60.0, "v002", 213)]
    return Observed(47.4, 213, statuses(*rows), (("v003", 33.3),), bases)


@pytest.mark.req("R6.5", "R2.5")
def test_a_reported_timeout_base_above_the_floor_stretches_every_view() -> None:
    """Seed 3016 (mixed campaign at 952cb74): v000 and v001 ran on an 8 s base (4 x an observed
    latency of 2 s, R6.5) and recovered in about 61 s; the floor's bound was 36 + 24 = 60 s. With
    the base they reported, T(v) = 8 s x 2^v and R = 8 s: 8 + (16 + 8) + (32 + 8) = 72 s, plus
    8 + 20 s slack."""
    validators = make_chain(4, 2, 3016).chain.validators
    floor = derive_bound(validators, seed_3016())
    assert floor.base_s == FLOOR_BASE_S and floor.base_from == "" and floor.seconds == 60.0
    assert floor.barred == ("v003",) and floor.highest_view == 2
    assert floor.leaders[:4] == ("v003", "v003", "v003", "v000")
    reported = derive_bound(validators, seed_3016((47.0, "v000", 8.0), (47.2, "v002", 4.0)))
    assert reported.base_s == 8.0 and reported.base_from == "v000"
    assert reported.leaders == floor.leaders and reported.highest_view == 2  # J at the floor
    assert reported.wait_s == 8 + (16 + 8) + (32 + 8) == 2 * floor.wait_s
    assert reported.slack_s == 8.0 + 2 * SYNC_S and reported.seconds == 100.0
    assert "timeout base 8 s reported by v000) 8 + 24 + 40 = 72 s, plus 28 s" in reported.why
    assert "4 x its observed latency" in reported.notes[-1]


def test_which_reported_bases_the_bound_takes() -> None:
    """A node's last base before the heal and every base until it reached H count; one reported
    after it reached H, or below the floor, does not; above the cap it is the cap, said so."""
    validators = make_chain(4, 2, 3016).chain.validators
    before = derive_bound(validators, seed_3016((10.0, "v000", 16.0), (40.0, "v000", 4.0)))
    assert before.base_s == FLOOR_BASE_S  # superseded by its last answer before the heal
    after = derive_bound(validators, seed_3016((61.0, "v002", 16.0)))
    assert after.base_s == FLOOR_BASE_S  # v002 reached 213 at 60 s
    below = derive_bound(validators, seed_3016((48.0, "v001", 0.5)))
    assert (
        below.base_s == FLOOR_BASE_S
        and below.seconds == derive_bound(validators, seed_3016()).seconds
    )
    huge = derive_bound(validators, seed_3016((48.0, "v001", 3600.0)))
    assert huge.base_s == MAX_REPORTED_BASE_S and "takes at most" in huge.notes[-1]


def _record(bound: float | None, *rows: tuple[float, str, int], wiped: str | None) -> RunRecord:
    setup = make_chain(4, 2, seed=3027)
    slots = [
        NodeSlot(n, i, Path("/nonexistent"), 0, 0, {}, REFERENCE_COMMAND, "reference")
        for i, n in enumerate(IDS)
    ]
    history = History(started=0.0)
    for time, node, height in rows:
        value = {"invoked": time - 0.01, "height": height, "digest": None, "root": "00" * 32}
        history.add("observer", "ok", "status", node, value, at=time)
    record = RunRecord(RunConfig(REFERENCE_COMMAND, liveness_bound=bound), setup, slots, history)
    record.heal_time, record.heal_height = 48.5, 133
    if wiped is not None:
        record.applied = [Applied(Fault(0, "wipe", 40.0, 2.0, (wiped,)), 42.0, 46.0)]
    return record


@pytest.mark.req("R2.5", "R3.4", "P11")
def test_liveness_judges_by_the_derived_bound_and_says_so() -> None:
    """Every node reaches 133 at t=48.5 + 150 s: within seed 3027's derived 164 s (so a run
    the fixed 60 s failed passes, for the stated reason), beyond an override of 60 s; a node
    that never gets there fails either way."""
    late = [(44.0, n, 132) for n in IDS] + [(47.0, "v000", 132)]
    late += [(48.5 + 150.0, n, 133) for n in IDS]
    derived = check_liveness(_record(None, *late, wiped="v000"))
    assert derived.status == "pass" and derived.measurements["bound_s"] == 164.0
    assert "derived bound: height 133" in derived.message and "barred: v000" in derived.message
    fixed = check_liveness(_record(60.0, *late, wiped="v000"))
    assert fixed.failed and "override bound: --liveness-bound 60" in fixed.message
    stuck = [*late[:-1], (48.5 + 150.0, "v003", 132)]
    verdict = check_liveness(_record(None, *stuck, wiped="v000"))
    assert verdict.failed and "v003 did not reach height 133 within 164 s" in verdict.message


def test_liveness_skips_when_the_spec_promises_no_commit() -> None:
    rows = [(44.0, n, 132) for n in IDS]
    record = _record(None, *rows, wiped="v000")
    record.applied.append(Applied(Fault(1, "wipe", 43.0, 1.0, ("v002",)), 44.0, 47.0))
    assert check_liveness(record).status == SKIP


def test_a_format_1_replay_file_is_judged_by_the_derived_bound(tmp_path: Path) -> None:
    """Seed 3027's file (format 1) recorded the fixed 60 s: the replay now derives the bound;
    a format-2 file keeps its override, and --liveness-bound overrides either."""
    config, _ = read_replay(REPLAYS / "seed-3027-replay.json")
    assert config.seed == 3027 and config.liveness_bound is None
    value = json.loads((REPLAYS / "seed-3027-replay.json").read_text())
    value["format"] = "aethel-network-replay/2"
    for bound in (45.0, None):
        value["liveness_bound"] = bound
        path = tmp_path / "replay.json"
        path.write_text(json.dumps(value))
        assert read_replay(path)[0].liveness_bound == bound


def test_the_replay_command_takes_a_liveness_bound_override(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: list[RunConfig] = []

    def fake_execute(config: RunConfig, out_dir: Path) -> tuple[list[Verdict], int, Path]:
        seen.append(config)
        return [], 0, out_dir / "replay.json"

    monkeypatch.setattr(cli, "execute", fake_execute)
    app = typer.Typer()
    app.command()(cli.network_command)
    file = str(REPLAYS / "seed-3027-replay.json")
    for extra, expected in (([], None), (["--liveness-bound", "60"], 60.0)):
        CliRunner().invoke(
            app, ["--replay", file, "--report-dir", str(tmp_path), *extra], catch_exceptions=False
        )
        assert seen[-1].liveness_bound == expected
