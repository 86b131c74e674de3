"""Mutant nodes are caught by a checker naming the rule their defect breaks, and a failing run
replays to the same failure from its replay file (``aethel-conformance network --replay``)."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from conformance.mutants.nodes import NODE_MUTANTS, node_mutants
from conformance.network.contract import REFERENCE_COMMAND
from conformance.network.execute import execute
from conformance.network.nemesis import Fault
from conformance.network.replay import read_replay
from conformance.network.selftest import config_of, run_network_selftest

#: The mutant of the replay test: a state sync makes its stale head permanent, so the failure
#: does not depend on when a poll lands. The node is wiped, not only killed: a wiped node comes
#: back at height 0 and must catch up by state sync, while a killed one may still catch up height
#: by height when the cluster committed little during its 2.5 s down (a loaded CI machine did so,
#: and no checker failed).
REPLAYED = "stale-root-after-sync"


@pytest.mark.req("R3.2", "R2.4")
def test_a_failing_run_replays_to_the_same_failure(tmp_path: Path) -> None:
    mutant = node_mutants()[REPLAYED]
    config = config_of(mutant, mutant.command)
    short = (Fault(0, "wipe", 3.0, 2.5, ("v002",)),)
    config = replace(config, schedule=short, duration=12.0)
    verdicts, code, replay = execute(config, tmp_path / "first")
    failed = {v.checker for v in verdicts if v.failed}
    assert code == 1 and "reads" in failed, [v.message for v in verdicts if v.failed]
    replayed, before = read_replay(replay)
    assert set(before.checkers) == failed and replayed.schedule is not None
    # The schedule as carried out: the same fault, with the height it met (replays start it there).
    (fault,) = replayed.schedule
    assert replace(fault, at_height=None, after_height_s=None) == short[0]
    assert fault.at_height is not None and fault.at_height >= 1
    assert "reads" in before.defect and "liveness" not in before.defect
    assert replayed.impl == mutant.command and replayed.seed == config.seed
    command = [sys.executable, "-m", "conformance.cli", "network", "--replay", str(replay)]
    command += ["--report-dir", str(tmp_path / "again")]
    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    # The replay fixes the fault schedule, not the processes' timing, so the defect (every
    # checker of what the nodes said that failed: reads, and agreement since the stale status
    # answer pairs the new height with the old root) must fail again; a missed deadline
    # (liveness) may come or go ("reproduced (timing differs)", exit 1 all the same).
    outcome = re.search(
        r"replay of \S+: (reproduced[^:]*|[a-z ]+):", " ".join(again.stderr.split())
    )
    assert outcome is not None, again.stderr[-2000:]
    assert again.returncode == 1, (outcome.group(1), again.stderr[-2000:])
    assert outcome.group(1).startswith("reproduced"), again.stderr[-2000:]
    report = (tmp_path / "again" / "summary.md").read_text()
    assert f"aethel-conformance network --replay {tmp_path / 'again' / 'replay.json'}" in report


@pytest.mark.network_long
@pytest.mark.req("R5.4", "R4.6", "R3.4", "R2.5", "R3.2", "R7.6", "R2.3")
def test_every_mutant_node_is_caught_by_its_rules(tmp_path: Path) -> None:
    verdicts = run_network_selftest(list(NODE_MUTANTS), tmp_path)
    escaped = {v.mutant: (v.failing_checkers, v.control_failing) for v in verdicts if not v.caught}
    assert not escaped


def test_mutant_commands_follow_the_contract() -> None:
    for mutant in NODE_MUTANTS:
        assert mutant.command.startswith("{python} -m conformance.mutants.nodes ")
        assert mutant.command != REFERENCE_COMMAND and "{home}" in mutant.command
        assert mutant.breaks and mutant.schedule
