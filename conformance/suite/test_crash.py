"""Crash safety of the implementation's own processes (R5.4, R2.4): SIGKILL, restart, check.

The harness runs the implementation as a child process (a stdio implementation's command; the
reference, or a Python implementation, served over the subprocess protocol by a child
``aethel-conformance serve``), on a store path it chooses, kills it with SIGKILL at drawn
instants while it commits heights or reopens the store, starts it again on the same path and
checks that every acknowledged height is intact and nothing half-written is visible
(:mod:`conformance.crash_store`). With capability ``vote-journal``, it does the same to a
replica that has just voted, and checks that the replica opened again on its journal never signs
a conflicting vote (:mod:`conformance.crash_journal`). The kill schedule is drawn from
``--seed``; a failure prints the seed, the kill and the command that replays the schedule.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.checks import Inconclusive
from conformance.crash import child_command
from conformance.crash_journal import JournalCampaign
from conformance.crash_store import StoreCampaign
from conformance.plugin import Measure, load_options

#: SIGKILLs per store campaign in the suite (a longer campaign:
#: ``python -m conformance.crash_campaign``).
STORE_KILLS = 32
#: Kill-and-reopen rounds of the journal campaign in the suite.
JOURNAL_ROUNDS = 6


@pytest.mark.req("R5.4", "N6")
@pytest.mark.capability("state-store")
def test_store_survives_sigkill_mid_commit(
    request: pytest.FixtureRequest, tmp_path: Path, seed: int, measure: Measure
) -> None:
    """32 SIGKILLs while the store commits heights of 96 transfers or reopens: after each
    restart the store is at the last acknowledged height or, fully, at the interrupted one;
    acknowledged heights keep their roots, values and proofs; the chain goes on."""
    spec = request.config.getoption("--impl")
    summary = StoreCampaign(
        child_command(spec),
        tmp_path,
        seed,
        STORE_KILLS,
        spec=spec,
        options=load_options(request.config),
    ).run()
    measure.record("kills_before_answer", summary.kills_before_answer, "kills")
    measure.record("interrupted_height_visible", summary.interrupted_visible, "kills")
    measure.record("commit_ms_median", summary.commit_ms_median, "ms")
    if summary.kills_before_answer < STORE_KILLS // 4:
        raise Inconclusive(
            f"only {summary.kills_before_answer} of {summary.kills_in_commits} kills landed "
            "before the commit they interrupted was answered (a busy machine wakes the harness "
            f"late): too few to judge R5.4; rerun on a quieter machine (seed {seed})"
        )


@pytest.mark.req("R2.4", "R5.4")
@pytest.mark.capability("replica", "vote-journal")
def test_replica_reopened_on_its_journal_never_signs_a_conflicting_vote(
    request: pytest.FixtureRequest, tmp_path: Path, seed: int, measure: Measure
) -> None:
    """Six rounds: the replica gets a block and PREPARE votes, is killed while it handles them
    (or right after it answered), is opened again on its journal in a new process, and meets an
    equivocating leader with another block and a quorum of PREPAREs for it: no PREPARE or COMMIT
    at the same height, view and phase for another block or root."""
    spec = request.config.getoption("--impl")
    summary = JournalCampaign(
        child_command(spec),
        tmp_path,
        seed,
        JOURNAL_ROUNDS,
        spec=spec,
        options=load_options(request.config),
    ).run()
    measure.record("rounds_with_a_prepare_before_the_kill", summary.prepares_seen, "rounds")
    measure.record("rounds_with_a_commit_before_the_kill", summary.commits_seen, "rounds")
    if summary.prepares_seen == 0:
        raise Inconclusive(
            f"in none of {JOURNAL_ROUNDS} rounds did a vote reach the harness before the kill "
            f"(seed {seed}): nothing to hold the reopened replica to"
        )
