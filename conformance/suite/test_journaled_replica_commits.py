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
from aethel.consensus.evidence import Evidence
from aethel.consensus.messages import Commit, Prepare, ViewChange
from conformance.adapters.api import Implementation
from conformance.adapters.reference_replica import genesis_to_json
from conformance.checks import expect_equal
from conformance.replica_wire import outputs_from_json
from conformance.suite.fixtures import get_api
from conformance.suite.scene import FOUR, TIMEOUT_AT, make_scene, sent

pytestmark = pytest.mark.capability("replica", "vote-journal")
MAX_STEPS = 60


def _open(journal_api: Any, scene: Any, directory: Path) -> Any:
    return journal_api.open(
        scene.validators.to_wire(),
        "v000",
        scene.signers["v000"].key.seed.hex(),
        "collector",
        genesis_to_json(scene.genesis),
        str(directory),
    )


def _drive(remote: Any, start_at: int, heights: int) -> tuple[list[Committed], int, int]:
    """Start ``remote`` at ``start_at`` and fire its timers, earliest first, until it has
    committed ``heights`` heights; return its commits, the timer events fired and the time."""
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

    take(remote.start(start_at))
    steps, now = 0, start_at
    while timers and len(commits) < heights and steps < MAX_STEPS:
        now, _, timer = heapq.heappop(timers)
        take(remote.on_timer(timer.height, timer.view, timer.kind, now))
        steps += 1
    return commits, steps, now


@pytest.mark.req("R5.6", "R5.4", "R3.2")
def test_a_lone_journaled_validator_commits_its_heights(
    impl: Implementation, tmp_path: Path
) -> None:
    scene = make_scene([1_000], epoch="journal-commits")
    journal_api = cast(Any, get_api(impl, "vote-journal"))
    remote = _open(journal_api, scene, tmp_path / "journal")
    try:
        commits, steps, _ = _drive(remote, 0, 3)
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


@pytest.mark.req("R2.4", "R5.4", "R5.6")
def test_a_lone_journaled_validator_reopened_on_its_journal_commits_on(
    impl: Implementation, tmp_path: Path
) -> None:
    """The lone validator commits height 1, is closed and opened again on the same directory:
    it resumes at height 2 (R5.4) and, holding its journal, votes as any validator (only a
    validator that lost its journal holds back, spec/consensus.md, "Votes"): it commits heights
    2 and 3. A replica that treats every restart as a lost journal never votes again alone."""
    scene = make_scene([1_000], epoch="journal-reopened")
    journal_api = cast(Any, get_api(impl, "vote-journal"))
    directory = tmp_path / "journal"
    first = _open(journal_api, scene, directory)
    try:
        commits, _, now = _drive(first, 0, 1)
    finally:
        getattr(first, "close", lambda: None)()
    if [c.height for c in commits] != [1]:
        raise AssertionError(f"control: the lone validator committed {commits} before closing")
    again = _open(journal_api, scene, directory)
    try:
        expect_equal(again.status()["height"], 2, "height after opening the journal again")
        resumed, steps, _ = _drive(again, now + 1, 2)
        heights = [c.height for c in resumed]
        if heights[:2] != [2, 3]:
            raise AssertionError(
                "opened again on its journal after committing height 1, the lone validator must "
                f"commit heights 2 and 3 as its timers fire; it committed {heights} in {steps} "
                "timer events"
            )
    finally:
        getattr(again, "close", lambda: None)()


@pytest.mark.req("R4.2", "R5.4")
def test_a_reopened_leader_does_not_carry_evidence_its_state_applied(
    impl: Implementation, tmp_path: Path
) -> None:
    """spec/consensus.md, Evidence: "the block's transition slashes the offender once per
    offence, offender and height (R4.2): a block repeating evidence already applied is invalid".
    v000 holds 10 of 11 parts of the stake, so it commits alone; it is handed v001's
    equivocation at height 1 and carries it in a block. Closed and opened again on its journal,
    it is handed the same evidence (gossip that arrives late): what it has applied is in its
    state, not in memory it lost, so none of its next three blocks carries the record again,
    and it keeps committing.

    Written from the mechanical survivor ``aethel/consensus/persistent.py:PersistentLedger.
    is_slashed:RemoveRaiseOrReturn:e5a1098e`` (a journaled node asked whether its state applied
    a record answers no)."""
    scene = make_scene([10_000, 1_000], epoch="journal-evidence")
    first = Prepare.create(scene.signers["v001"], 1, 0, bytes([1]) * 32)
    second = Prepare.create(scene.signers["v001"], 1, 0, bytes([2]) * 32)
    record = Evidence.equivocation(scene.signers["v000"], first, second).to_wire()
    journal_api = cast(Any, get_api(impl, "vote-journal"))
    directory = tmp_path / "journal"
    remote = _open(journal_api, scene, directory)
    try:
        remote.on_message(record, 0)
        commits, _, now = _drive(remote, 1, 3)
    finally:
        getattr(remote, "close", lambda: None)()
    carried = [c.height for c in commits if any(e.offender == "v001" for e in c.block.evidence)]
    if len(carried) != 1:
        raise AssertionError(
            f"control: v000 committed heights {[c.height for c in commits]} and carried v001's "
            f"equivocation in {carried}, not in exactly one block"
        )
    again = _open(journal_api, scene, directory)
    try:
        again.on_message(record, now + 1)
        resumed, steps, _ = _drive(again, now + 2, 3)
    finally:
        getattr(again, "close", lambda: None)()
    repeated = [c.height for c in resumed if any(e.offender == "v001" for e in c.block.evidence)]
    if repeated or len(resumed) < 3:
        raise AssertionError(
            f"opened again after its block {carried[0]} applied v001's equivocation and handed "
            f"the record again, v000 committed {[c.height for c in resumed]} in {steps} timer "
            f"events, carrying the record again in {repeated}: a block repeating evidence "
            "already applied is invalid (R4.2)"
        )


@pytest.mark.req("R2.4", "R5.4", "R2.6")
def test_a_reopened_replica_still_claims_the_block_it_prepared(
    impl: Implementation, tmp_path: Path
) -> None:
    """Four equal members, broadcast mode. A replica opened on a journal prepares the view-0
    leader's block D (q(W) PREPAREs) and sends its COMMIT; it is closed and opened again on the
    same directory, still at height 1, and view 0 times out. Its VIEW-CHANGE for view 1 claims
    D prepared in view 0: the lock is part of what the journal keeps (spec/consensus.md, Votes:
    a validator that may have let D commit must not let another block in after a restart).

    Written from the module campaign of aethel/consensus/voting.py (survivor ``VotingRules.
    _on_prepared:RemoveStatement:f9d0a386``: the lock not written to the journal). No case
    restarted a replica holding a prepared block."""
    scene = make_scene(FOUR, epoch="journal-lock")
    leader = scene.leader(0)
    name, other, _ = scene.others(leader)
    journal_api = cast(Any, get_api(impl, "vote-journal"))
    directory = tmp_path / "journal"

    def open_journal() -> Any:
        return journal_api.open(
            scene.validators.to_wire(),
            name,
            scene.signers[name].key.seed.hex(),
            "broadcast",
            genesis_to_json(scene.genesis),
            str(directory),
        )

    d = scene.block()
    first = open_journal()
    try:
        first.start(0)
        first.on_message(scene.pre_prepare(d).to_wire(), 1_000)
        commits: list[object] = []
        for member in (leader, other):
            commits += sent(
                first.on_message(scene.prepare(member, d.digest).to_wire(), 2_000), Commit
            )
        if not commits:
            raise AssertionError(f"control: {name} sent no COMMIT on q(W) PREPAREs for D")
    finally:
        getattr(first, "close", lambda: None)()
    again = open_journal()
    try:
        again.start(3_000)
        claims = [
            (m.prepared_view, (m.prepared_digest or b"").hex())
            for m in sent(again.on_timer(1, 0, "view", TIMEOUT_AT), ViewChange)
            if isinstance(m, ViewChange) and m.view == 1
        ]
        expect_equal(
            claims,
            [(0, d.digest.hex())],
            f"the prepared claim of {name}'s VIEW-CHANGE for view 1 after reopening its journal",
        )
    finally:
        getattr(again, "close", lambda: None)()
