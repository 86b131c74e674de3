"""A campaign at full scale: what is left out, the warm harness, confirmed kills, rechecks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("cosmic_ray")

from conformance.mechanical import campaign as campaign_module
from conformance.mechanical import generate as generate_module
from conformance.mechanical.campaign import Campaign, Slot, run_mutant_task
from conformance.mechanical.coverage_map import CoverageMap
from conformance.mechanical.execute import PACKAGE_ROOT, serve_command
from conformance.mechanical.generate import (
    PROTOCOL_BODY,
    REPR_FLAG,
    TYPE_CHECKING_ONLY,
    apply_mutant,
    enumerate_module,
    exclusion_of,
    module_paths,
)
from conformance.mechanical.harness import WarmHarness, memoize_solver
from conformance.mechanical.recheck import Earlier, plan_recheck
from conformance.mechanical.serve import ROOT_ENV
from conformance.mechanical.workspace import Snapshot, Workspace

TYPED = """\
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from x import y


class Reader(Protocol):
    def read(self, n: int = 3) -> bytes: ...


@dataclass(frozen=True)
class Keys:
    seed: bytes = field(repr=False)
    cache: int = field(default=0, repr=False, compare=False)


def limit(n: int) -> bool:
    return n > 3
"""


def test_type_only_and_repr_only_positions_are_left_out_and_counted() -> None:
    excluded: Counter[str] = Counter()
    mutants = enumerate_module("aethel/x.py", TYPED, excluded)
    # NumberReplacer makes two mutants of the default 3 (2 and 4): both in the Protocol body.
    assert excluded == {TYPE_CHECKING_ONLY: 1, PROTOCOL_BODY: 2, REPR_FLAG: 1}
    # The cache's repr flag is left out; the seed's (key material) is kept, and so is compare.
    flags = sorted((m.line, m.operator) for m in mutants if m.operator.startswith("ReplaceFalse"))
    assert flags == [(16, "ReplaceFalseWithTrue"), (17, "ReplaceFalseWithTrue")]
    seed = next(m for m in mutants if m.line == 16)
    assert "field(repr=True)" in (apply_mutant(TYPED, seed) or "")
    cache = next(m for m in mutants if m.line == 17 and m.operator == "ReplaceFalseWithTrue")
    # Occurrences still count the left-out position: the mutant changes compare, not repr.
    assert "repr=False, compare=True" in (apply_mutant(TYPED, cache) or "")
    assert {m.line for m in mutants} == {14, 16, 17, 21}
    assert not [m for m in mutants if m.line in (6, 11)]


def test_excluded_modules_have_a_reason_and_are_not_mutated() -> None:
    for module in (
        "aethel/sim/engine.py",
        "aethel/node/runtime.py",
        "aethel/bench/proofs.py",
        "aethel/cli.py",
        "aethel/crypto/bls.py",
        "aethel/consensus/v2/certificate.py",
        "aethel/progress.py",
        "aethel/formal/quorum.py",
        "aethel/catalog.py",
    ):
        assert exclusion_of(module), module
    assert exclusion_of("aethel/consensus/replica.py") is None
    assert exclusion_of("aethel/state/sync.py") is None
    paths = ["aethel/sim/engine.py", "aethel/consensus/replica.py", "aethel/crypto/bls.py"]
    assert module_paths(paths) == ["aethel/consensus/replica.py"]
    # A listed module the control's implementation ran is mutated after all.
    reached = ["aethel/crypto/bls.py"]
    assert module_paths(paths, reached=reached) == ["aethel/consensus/replica.py", *reached]


def _row(mutant_id: str, verdict: str, **extra: object) -> dict[str, object]:
    return {"id": mutant_id, "verdict": verdict, "killed_by": None} | extra


def test_a_recheck_keeps_kills_with_their_commit_and_reruns_the_rest(tmp_path: Path) -> None:
    source = (PACKAGE_ROOT / "aethel" / "economics.py").read_text(encoding="utf-8")
    mutants = enumerate_module("aethel/economics.py", source)[:5]
    a, b, c, d, e = mutants
    old = tmp_path / "old"
    old.mkdir()
    (old / "campaign.json").write_text(json.dumps({"commit": "abc123"}))
    rows = [
        _row(a.id, "killed", killed_by="economics::x"),
        _row(b.id, "timeout"),
        _row(c.id, "survived"),
        _row(d.id, "no-coverage"),
        _row("aethel/economics.py:gone:AddNot:00000000", "survived"),
    ]
    (old / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    earlier = Earlier.load(old)
    assert earlier.commit == "abc123"
    plan = plan_recheck(earlier, mutants, mutants, {})
    assert [r["id"] for r in plan.carried] == [a.id, b.id]
    assert all(r["commit"] == "abc123" and r["carried_from"] == str(old) for r in plan.carried)
    assert [m.id for m in plan.to_run] == [c.id, d.id, e.id]
    assert (plan.rerun_survivors, plan.never_judged, plan.dropped) == (2, 1, 1)
    # Resumed: a kill already copied is not copied again.
    again = plan_recheck(earlier, mutants, mutants, {a.id: plan.carried[0]})
    assert [r["id"] for r in again.carried] == [b.id]


ECONOMICS = "test_economics.py"


def _workspace(tmp_path: Path, name: str) -> Workspace:
    from aethel.catalog import spec_dir

    return Workspace(tmp_path / name, Snapshot.take(PACKAGE_ROOT), spec_dir())


def test_the_warm_harness_gives_each_command_a_fresh_implementation(tmp_path: Path) -> None:
    """Pristine, mutated, pristine again in one harness: nothing of the mutant stays behind."""
    workspace = _workspace(tmp_path, "ws")
    harness = WarmHarness(tmp_path / "harness")
    options: dict[str, Any] = {
        "stop_at_first_failure": True,
        "request_timeout_s": 30.0,
        "case_timeout_s": 60.0,
        "deadline_s": 300.0,
    }
    spec = f"stdio:{serve_command(workspace.root)}"
    try:
        first = harness.run(spec, [ECONOMICS], **options)
        assert first.cases and first.first_failure() is None and first.complete(1)
        source = workspace.snapshot.source("aethel/economics.py")
        with workspace.mutated("aethel/economics.py", source.replace("20", "21")):
            broken = harness.run(spec, [ECONOMICS], **options)
        failure = broken.first_failure()
        assert failure is not None and failure.case_id.startswith("economics::")
        again = harness.run(spec, [ECONOMICS], **options)
        assert [c.status for c in again.cases] == [c.status for c in first.cases]
        assert harness.starts == 1  # one collection served the three commands
        unknown = harness.run(spec, ["test_economics.py::no_such_case"], **options)
        assert unknown.returncode < 0 and not unknown.complete(1)
        slow = harness.run(spec, [ECONOMICS], **(options | {"deadline_s": 0.01}))
        assert slow.deadline_passed and not slow.complete(1)
        after = harness.run(spec, [ECONOMICS], **options)
        assert after.first_failure() is None and harness.starts == 2  # a new harness
    finally:
        harness.close()


def test_a_kill_the_reference_does_not_confirm_is_not_counted(tmp_path: Path) -> None:
    """The pristine copy of this slot carries the same defect: the kill cannot be confirmed."""
    snapshot = Snapshot.take(PACKAGE_ROOT)
    source = snapshot.source("aethel/economics.py")
    target = next(
        m
        for m in enumerate_module("aethel/economics.py", source)
        if m.operator == "RemoveRaiseOrReturn" and "raise" in m.original
    )
    mutated = apply_mutant(source, target)
    assert mutated is not None
    coverage = CoverageMap(lines={"aethel/economics.py": {n: {ECONOMICS} for n in target.lines}})
    record = {"suite_hash": campaign_module._worker_suite_hash(), "commit": "test", "dirty": True}
    campaign = Campaign(tmp_path, record, snapshot, {ECONOMICS: 1.0}, {}, coverage)
    from aethel.catalog import spec_dir

    fake_reference = Workspace(tmp_path / "not-pristine", snapshot, spec_dir())
    (fake_reference.root / "aethel" / "economics.py").write_text(mutated, encoding="utf-8")
    slot = Slot(
        WarmHarness(tmp_path / "h"), Workspace(tmp_path / "m", snapshot, spec_dir()), fake_reference
    )
    campaign_module._SLOTS.insert(0, slot)
    try:
        result = run_mutant_task(campaign.task(target), snapshot)
    finally:
        campaign_module.close_slots()
    assert result["verdict"] == "error" and result["confirmed"] is False, result
    assert "not trusted" in result["message"]


def test_a_served_implementation_ends_when_its_harness_is_gone(tmp_path: Path) -> None:
    workspace = _workspace(tmp_path, "ws")
    env = dict(os.environ, **{ROOT_ENV: str(workspace.root)})
    env["PYTHONPATH"] = f"{workspace.root}{os.pathsep}{PACKAGE_ROOT}"
    starter = (
        "import os, subprocess, sys, time\n"
        "r, w = os.pipe()\n"
        "p = subprocess.Popen([sys.executable, '-P', '-m', 'conformance.mechanical.serve'],"
        " stdin=r, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "holder = subprocess.Popen(['sleep', '60'], pass_fds=(w,),"
        " stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        "print(p.pid, holder.pid, flush=True)\n"
        "time.sleep(2)\n"
    )
    # The parent exits once the served process is up (a harness dies mid-run); a sleeping process
    # keeps the served stdin open (no end of file), so only the watchdog can end the served
    # process. Neither child holds the captured pipes, or run() would wait for the sleeper.
    parent = subprocess.run(
        [sys.executable, "-c", starter], env=env, capture_output=True, text=True, timeout=60
    )
    child, holder = (int(x) for x in parent.stdout.split())
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _alive(child):
            time.sleep(0.2)
        assert not _alive(child)
        assert _alive(holder)  # the pipe was still open when the served process ended
    finally:
        os.kill(holder, 9)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_the_memoized_solver_answers_as_the_solver_does() -> None:
    from aethel.proofs import verifier
    from aethel.proofs.judge import generate_standard_mix

    proofs = generate_standard_mix(12, 5)
    fresh = [verifier.verify_proof(p) for p in proofs]
    previous = memoize_solver()
    try:
        first = [verifier.verify_proof(p) for p in proofs]
        again = [verifier.verify_proof(p) for p in proofs]
    finally:
        verifier.__dict__["run_solver"] = previous
    assert first == fresh and again == fresh
    assert verifier.__dict__["run_solver"] is previous


UNSERVED = """\
def served(x: int) -> int:
    return x + 1


def unserved(x: int) -> int:
    return x - 1
"""


@pytest.mark.parametrize("ran_body", [False, True], ids=["never-ran", "ran"])
def test_a_listed_definition_is_left_out_unless_the_control_ran_its_body(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ran_body: bool
) -> None:
    module = "aethel/unserved_example.py"
    monkeypatch.setitem(
        generate_module.EXCLUDED_DEFINITIONS, (module, "unserved"), "no command calls it"
    )
    snapshot = Snapshot(((module, UNSERVED),))
    # The def lines (1 and 5) run at import; a body line of `unserved` (6) only if called.
    startup = {module: {1, 5, 6} if ran_body else {1, 5}}
    coverage = CoverageMap(lines={module: {2: {"case"}}}, startup=startup)
    record = {"commit": "0" * 40, "suite_hash": "x"}
    campaign = Campaign(tmp_path, record, snapshot, {"case": 1.0}, {}, coverage)
    mutants = campaign.mutants([module])
    definitions = Counter(m.definition for m in mutants)
    assert definitions["served"] > 0
    if ran_body:
        assert definitions["unserved"] > 0
        assert f"{module}:unserved" in campaign.voided
    else:
        assert definitions["unserved"] == 0
        (reason,) = campaign.excluded_positions
        assert reason.startswith(f"`{module}:unserved`: no command calls it")
        assert campaign.excluded_positions[reason] > 0
