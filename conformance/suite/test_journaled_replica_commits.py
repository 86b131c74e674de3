"""A replica opened on its vote journal commits like any replica (R5.4, R5.6).

The journal campaign of test_crash.py kills a journaled replica while it votes, before it
commits, so no case made a replica of the ``vote-journal`` capability commit a height. Here a lone
validator (it holds all the stake: R5.6, it commits alone) is opened on a journal directory and
driven by its own timers: it must commit heights 1, 2 and 3, each certified by itself, with the
post-state root the reference ledger computes for its block (R3.2).

Written from the mechanical campaign's survivor
``aethel/consensus/persistent.py:PersistentLedger.commit_height:AddNot:849898d2`` (a journaled
replica's commit re-stages the staged height and fails).
"""

from __future__ import annotations

import heapq
from pathlib import Path
from typing import Any, cast

import pytest

from aethel.consensus.events import Committed, SetTimer
from conformance.adapters.api import Implementation
from conformance.adapters.reference_replica import genesis_to_json
from conformance.checks import expect_equal
from conformance.replica_wire import outputs_from_json
from conformance.suite.fixtures import get_api
from conformance.suite.scene import make_scene

pytestmark = pytest.mark.capability("replica", "vote-journal")
MAX_STEPS = 60


@pytest.mark.req("R5.6", "R5.4", "R3.2")
def test_a_lone_journaled_validator_commits_its_heights(
    impl: Implementation, tmp_path: Path
) -> None:
    scene = make_scene([1_000], epoch="journal-commits")
    journal_api = cast(Any, get_api(impl, "vote-journal"))
    remote = journal_api.open(
        scene.validators.to_wire(),
        "v000",
        scene.signers["v000"].key.seed.hex(),
        "collector",
        genesis_to_json(scene.genesis),
        str(tmp_path / "journal"),
    )
    try:
        timers: list[tuple[int, int, Any]] = []
        commits: list[Committed] = []
        order = 0

        def take(answer: object) -> None:
            nonlocal order
            for output in outputs_from_json(answer):
                if isinstance(output, SetTimer):
                    heapq.heappush(timers, (output.deadline, order, output.timer))
                    order += 1
                elif isinstance(output, Committed):
                    commits.append(output)

        take(remote.start(0))
        steps = 0
        while timers and len(commits) < 3 and steps < MAX_STEPS:
            deadline, _, timer = heapq.heappop(timers)
            take(remote.on_timer(timer.height, timer.view, timer.kind, deadline))
            steps += 1
        heights = [c.height for c in commits]
        if heights[:3] != [1, 2, 3]:
            raise AssertionError(
                "a lone validator opened on its vote journal must commit heights 1, 2, 3 as its "
                f"timers fire; it committed {heights} in {steps} timer events"
            )
        for commit in commits[:3]:
            expect_equal(commit.certificate.members, ("v000",), f"members at {commit.height}")
        expect_equal(
            commits[0].certificate.post_root.hex(),
            scene.post_root(commits[0].block).hex(),
            "post-state root of height 1",
        )
    finally:
        getattr(remote, "close", lambda: None)()
