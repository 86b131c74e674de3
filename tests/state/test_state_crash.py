"""Crash safety (R5.4): a writer process killed with SIGKILL mid-commit loses nothing committed.

A child process commits heights in a loop (:mod:`crash_writer`). The test kills it, at chosen
points inside SQLite statements (a progress handler in the child) and at random moments (a
timer in the parent), reopens the store, and checks that it holds exactly a prefix of the
uninterrupted run: every height the child reported as committed is there with the same root,
records and readable state, and nothing half-written is visible. Then the next child resumes
from where the store stands. 24 kill points by default; 240 with HYPOTHESIS_PROFILE=thorough.
"""

from __future__ import annotations

import importlib.util
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

from aethel.encoding import canonical_json
from aethel.state.audit import compute_supply_audit
from aethel.state.store import StateStore
from aethel.state.transitions import Genesis

WRITER = Path(__file__).with_name("crash_writer.py")
THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"
KILL_POINTS = 240 if THOROUGH else 24
NEVER = 10**9  # the writer's last height: it runs until killed


def load_writer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("crash_writer", WRITER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Reference:
    """The same deterministic chain, committed in-process without interruption."""

    def __init__(self, path: Path) -> None:
        self.writer = load_writer()
        self.store = StateStore(path, durable=False)
        self.store.commit(
            self.store.stage_genesis(
                Genesis(dict.fromkeys(self.writer.ACCOUNTS, 1_000_000), {"v1": 10_000})
            )
        )

    def root(self, height: int) -> str:
        while (self.store.height or 0) < height:
            next_height = (self.store.height or 0) + 1
            self.store.commit(self.store.stage(self.writer.transition_at(self.store, next_height)))
        return self.store.get_root(height).hex()


def run_writer(path: Path, kill_after: int | None = None) -> subprocess.Popen[str]:
    args = [sys.executable, str(WRITER), str(path), str(NEVER)]
    if kill_after is not None:
        args.append(str(kill_after))
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def reported(output: str) -> dict[int, str]:
    """Return the heights a child reported as committed (complete lines only)."""
    heights = {}
    for line in output.splitlines(keepends=True):
        if line.endswith("\n") and not line.startswith("begin"):
            height, root = line.split()
            heights[int(height)] = root
    return heights


def killed_inside_commit(output: str) -> bool:
    """Return True if the child's last complete line says a commit had begun and not returned."""
    lines = [line for line in output.splitlines(keepends=True) if line.endswith("\n")]
    return bool(lines) and lines[-1].startswith("begin")


def check_store(path: Path, reference: Reference, committed: dict[int, str]) -> int:
    """Reopen the store and check it against the uninterrupted chain; return its height."""
    with StateStore(path) as store:
        height = store.height
        assert height is not None
        assert max(committed, default=-1) <= height, "a reported commit was lost"
        assert store.get_heights() == list(range(height + 1))
        for number, root in committed.items():
            assert store.get_root(number).hex() == root == reference.root(number)
        for number in range(max(0, height - 3), height + 1):
            assert store.get_root(number).hex() == reference.root(number)
            assert store.get_record(number, "block") is not None
            if number:
                assert store.get_record(number, "certificate") == canonical_json([number])
        # The whole latest state is readable (no missing node) and its books balance.
        audit = compute_supply_audit(store.tree(), height)
        assert audit.is_conserved and audit.is_within_emission
        assert store.get("meta:height") == (height or None)
        return height


@pytest.mark.req("R5.4")
def test_sigkill_mid_commit_loses_nothing_committed(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    reference = Reference(tmp_path / "reference.db")
    rng = random.Random(20261127)
    height = -1
    inside_commit = 0
    for point in range(KILL_POINTS):
        if point % 2 == 0:
            # Inside a statement: the nth SQLite progress callback of this run kills the child.
            child = run_writer(path, kill_after=rng.randrange(1, 80))
            out, err = child.communicate(timeout=120)
        else:
            # At a random moment after the child's first commit: SIGKILL from outside.
            child = run_writer(path)
            assert child.stdout is not None
            first = child.stdout.readline()
            time.sleep(rng.uniform(0.0, 0.1))
            child.send_signal(signal.SIGKILL)
            rest, err = child.communicate(timeout=120)
            out = first + rest
        assert child.returncode == -signal.SIGKILL, err
        inside_commit += killed_inside_commit(out)
        new_height = check_store(path, reference, reported(out))
        assert new_height >= height
        height = new_height
    assert height > KILL_POINTS // 2  # the runs made progress between kills
    assert inside_commit >= KILL_POINTS // 4, f"only {inside_commit} kills landed in a commit"
    print(f"{inside_commit} of {KILL_POINTS} kills landed inside commit()")
    reference.store.close()


# --------------------------------------------------------------------------- any implementation


@pytest.mark.req("R5.4")
def test_the_crash_harness_passes_the_reference_and_fails_a_store_that_is_not_crash_safe(
    tmp_path: Path,
) -> None:
    """conformance.crash_store over real processes: the reference served over stdio survives 8
    SIGKILLs; the store-root-first mutant (root and nodes in two SQLite transactions) fails,
    and the failure names R5.4, the kill and the seed that replays it."""
    from conformance.crash import CrashFailure, child_command
    from conformance.crash_store import StoreCampaign

    summary = StoreCampaign(
        child_command("stdio-reference"), tmp_path / "ref", 3, 8, spec="stdio-reference"
    ).run()
    assert summary.kills == 8 and summary.heights >= 8
    mutant = "python:conformance.mutants.store:RootFirstImplementation"
    with pytest.raises(CrashFailure) as failure:
        # Most seeds catch it within 10 kills; 60 make a miss vanishingly rare.
        StoreCampaign(child_command(mutant), tmp_path / "mutant", 3, 60, spec=mutant).run()
    text = str(failure.value)
    assert text.startswith("R5.4") and "kill #" in text and "--seed 3" in text, text


@pytest.mark.req("R2.4", "R5.4")
def test_the_journal_harness_passes_the_reference_and_fails_a_forgetful_journal(
    tmp_path: Path,
) -> None:
    """conformance.crash_journal: the reference replica reopened on its journal signs nothing
    conflicting in 3 rounds; one that empties its journal at start signs a conflicting vote."""
    from conformance.crash import CrashFailure, child_command
    from conformance.crash_journal import JournalCampaign

    summary = JournalCampaign(
        child_command("stdio-reference"), tmp_path / "ref", 1, 3, spec="stdio-reference"
    ).run()
    assert summary.rounds == 3 and summary.prepares_seen >= 1
    mutant = "python:conformance.mutants.store_journal:FreshJournalImplementation"
    with pytest.raises(CrashFailure, match=r"R2\.4: opened again on its journal"):
        JournalCampaign(child_command(mutant), tmp_path / "mutant", 1, 8, spec=mutant).run()
