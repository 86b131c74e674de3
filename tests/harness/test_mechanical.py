"""The mechanical mutation campaign's tools: operators, IDs, selection, workspace, runs, dask."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("cosmic_ray")

from cosmic_ray.mutating import MutationVisitor

from conformance.mechanical.campaign import Campaign, run_mutant_task, run_tasks
from conformance.mechanical.coverage_map import CoverageMap
from conformance.mechanical.execute import PACKAGE_ROOT, run_cases, serve_command
from conformance.mechanical.generate import (
    apply_mutant,
    enumerate_module,
    module_paths,
    sample,
)
from conformance.mechanical.operators import (
    RemoveRaiseOrReturn,
    RemoveStatement,
    make_operator,
)
from conformance.mechanical.serve import ROOT_ENV
from conformance.mechanical.sweep import run_seed, run_sweep, scenario
from conformance.mechanical.triage import TriageError, load_equivalents
from conformance.mechanical.workspace import Snapshot, Workspace

SOURCE = """\
from __future__ import annotations


def split(reward: int, stakes: dict[str, int] | None, *, floor: int = 0) -> int | None:
    total: int | None = sum((stakes or {}).values())
    if total == 0:
        raise ValueError("no stake")
    audit.log(total)
    share = reward // total
    if share < floor:
        return floor
    return share
"""


@pytest.mark.parametrize("operator", [RemoveStatement, RemoveRaiseOrReturn])
def test_our_operators_do_what_their_examples_say(operator: type) -> None:
    for example in operator.examples():
        mutated = MutationVisitor.mutate_code(
            example.pre_mutation_code, operator(), example.occurrence
        )
        assert mutated == example.post_mutation_code


def test_every_kind_is_generated_and_annotations_are_never_mutated() -> None:
    mutants = enumerate_module("aethel/x.py", SOURCE)
    kinds = {m.kind for m in mutants}
    assert {
        "boundary",
        "comparison",
        "constant",
        "condition",
        "arithmetic",
        "statement",
        "raise-return",
    } <= kinds
    signature = SOURCE.splitlines()[3]
    annotated = SOURCE.splitlines()[4].split("=")[0]
    for mutant in mutants:
        mutated = apply_mutant(SOURCE, mutant)
        assert mutated is not None, mutant
        compile(mutated, "x", "exec")
        lines = mutated.splitlines()
        # The signature's annotations, bare * and default, and the variable annotation, keep
        # their text; only the default value 0 may change (a constant).
        if lines[3] != signature:
            assert (
                mutant.operator == "NumberReplacer"
                and lines[3].replace("= 1", "= 0").replace("= -1", "= 0") == signature
            )
        assert lines[4].startswith(annotated)
    removed = [m for m in mutants if m.operator == "RemoveStatement"]
    assert [m.original for m in removed] == ["audit.log(total)"]
    raises = sorted(m.original for m in mutants if m.operator == "RemoveRaiseOrReturn")
    assert raises == ['raise ValueError("no stake")', "return floor", "return share"]


def test_ids_are_stable_when_code_elsewhere_changes() -> None:
    before = {m.id: m for m in enumerate_module("aethel/x.py", SOURCE)}
    moved = SOURCE.replace(
        "from __future__ import annotations\n",
        "from __future__ import annotations\n\n\ndef other(a: int) -> bool:\n    return a < 3\n",
    )
    after = {m.id: m for m in enumerate_module("aethel/x.py", moved)}
    assert len(before) == len({m.id for m in before.values()})
    assert set(before) <= set(after)
    for mutant_id, mutant in before.items():
        assert after[mutant_id].line == mutant.line + 4
        assert after[mutant_id].original == mutant.original


def test_each_mutant_of_a_real_module_applies_and_compiles() -> None:
    source = (PACKAGE_ROOT / "aethel" / "economics.py").read_text(encoding="utf-8")
    mutants = enumerate_module("aethel/economics.py", source)
    assert len(mutants) > 30
    for mutant in mutants:
        mutated = apply_mutant(source, mutant)
        assert mutated is not None and mutated != source, mutant.id


def test_modules_exclude_bench_and_command_line() -> None:
    paths = ["aethel/bench/proofs.py", "aethel/cli.py", "aethel/sim/cli.py", "aethel/encoding.py"]
    assert module_paths(paths) == ["aethel/encoding.py"]
    assert module_paths(paths, ["aethel.encoding"]) == ["aethel/encoding.py"]
    with pytest.raises(ValueError, match="no mutable module"):
        module_paths(paths, ["aethel.bench"])


def test_a_sample_depends_on_the_seed_only() -> None:
    mutants = enumerate_module("aethel/x.py", SOURCE)
    first = sample(mutants, 5, seed=1)
    assert first == sample(list(reversed(mutants)), 5, seed=1)
    assert len(first) == 5 and first != sample(mutants, 5, seed=2)


def test_cases_are_chosen_by_the_lines_they_ran_fastest_first() -> None:
    mutants = enumerate_module("aethel/x.py", SOURCE)
    guard = next(m for m in mutants if m.operator == "RemoveRaiseOrReturn")
    constant = next(m for m in mutants if m.definition == "split" and m.line == 4)
    coverage = CoverageMap(
        lines={"aethel/x.py": {7: {"slow", "fast", "failing"}, 8: {"other"}, 5: {"fn"}}},
        startup={"aethel/x.py": {1, 4}},
    )
    passing = {"slow": 3.0, "fast": 0.1, "other": 0.5, "fn": 0.2}
    # Only the cases that ran the mutated line: the others run exactly as on the reference.
    assert coverage.select(guard, passing) == (["fast", "slow"], 2)
    # Format 1's wider choice, kept to compare: every case that entered the function too.
    assert coverage.select(guard, passing, enclosing=True) == (["fast", "slow", "fn", "other"], 2)
    unreached = next(m for m in mutants if m.operator == "RemoveRaiseOrReturn" and m.line == 11)
    assert coverage.select(unreached, passing) == ([], 0)
    # The default argument runs at import only: every case that ran the module is chosen.
    assert coverage.select(constant, passing) == (["fast", "fn", "other", "slow"], 0)
    assert coverage.select(guard, {}) == ([], 0)
    # The same when the module was first imported inside a case, which then "ran" the def line
    # (a warm server imports a module when a case first needs it): the module's cases, not the
    # one that happened to import it (campaigns of voting.py judged three such mutants on two
    # cases each; one of them fails 67 cases).
    imported_in_a_case = CoverageMap(
        lines={"aethel/x.py": {7: {"slow", "fast"}, 8: {"other"}, 4: {"fn"}, 5: {"fn"}}},
        startup={},
    )
    assert imported_in_a_case.select(constant, passing) == (["fn", "fast", "other", "slow"], 1)


def test_the_equivalent_list_is_validated(tmp_path: Path) -> None:
    assert isinstance(load_equivalents(), dict)  # the committed list parses
    good = tmp_path / "ok.toml"
    good.write_text(
        '[[equivalent]]\nid = "aethel/a.py:f:AddNot:0123abcd"\nreason = "r"\nreviewed = "x"\n'
    )
    assert list(load_equivalents(good)) == ["aethel/a.py:f:AddNot:0123abcd"]
    bad = tmp_path / "bad.toml"
    bad.write_text('[[equivalent]]\nid = "aethel/a.py:f:AddNot:0123abcd"\nreviewed = "x"\n')
    with pytest.raises(TriageError, match="reason"):
        load_equivalents(bad)
    twice = tmp_path / "twice.toml"
    twice.write_text(good.read_text() * 2)
    with pytest.raises(TriageError, match="twice"):
        load_equivalents(twice)


def _spec() -> Path:
    from aethel.catalog import spec_dir

    return spec_dir()


def test_a_workspace_puts_the_pristine_text_back(tmp_path: Path) -> None:
    snapshot = Snapshot.take(PACKAGE_ROOT)
    workspace = Workspace(tmp_path / "ws", snapshot, _spec())
    module = "aethel/economics.py"
    with workspace.mutated(module, "BROKEN = True\n"):
        assert (workspace.root / module).read_text() == "BROKEN = True\n"
    assert (workspace.root / module).read_text() == snapshot.source(module)
    assert (workspace.root / "spec" / "catalog").is_dir()


def test_the_served_process_refuses_an_aethel_from_elsewhere(tmp_path: Path) -> None:
    env = dict(os.environ, **{ROOT_ENV: str(tmp_path)})
    env["PYTHONPATH"] = str(PACKAGE_ROOT)
    done = subprocess.run(
        [sys.executable, "-P", "-m", "conformance.mechanical.serve"],
        env=env,
        input="",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3 and "not from the workspace" in done.stderr
    assert str(tmp_path) in serve_command(tmp_path)


def _campaign(tmp_path: Path, passing: dict[str, float], lines: dict[int, set[str]]) -> Campaign:
    snapshot = Snapshot.take(PACKAGE_ROOT)
    record = {"suite_hash": _suite_hash(), "commit": "test", "dirty": True}
    coverage = CoverageMap(lines={"aethel/economics.py": lines}, startup={})
    return Campaign(tmp_path, record, snapshot, passing, {}, coverage)


def _suite_hash() -> str:
    from conformance.report.environment import compute_suite_hash

    return compute_suite_hash()


ECONOMICS_CASES = "test_economics.py"


def test_a_mutant_is_killed_by_a_case_and_the_pristine_copy_passes(tmp_path: Path) -> None:
    """End to end: the suite's economics cases against a served mutant and the pristine copy."""
    snapshot = Snapshot.take(PACKAGE_ROOT)
    source = snapshot.source("aethel/economics.py")
    mutants = enumerate_module("aethel/economics.py", source)
    target = next(
        m for m in mutants if m.operator == "RemoveRaiseOrReturn" and "raise" in m.original
    )
    campaign = _campaign(
        tmp_path, {ECONOMICS_CASES: 1.0}, {n: {ECONOMICS_CASES} for n in target.lines}
    )
    result = run_mutant_task(campaign.task(target), snapshot)
    assert result["verdict"] == "killed", result
    assert result["killed_by"].startswith("economics::")
    workspace = Workspace(tmp_path / "pristine", snapshot, _spec())
    outcome = run_cases(
        workspace.root,
        [ECONOMICS_CASES],
        tmp_path / "run",
        stop_at_first_failure=True,
        request_timeout_s=30,
        case_timeout_s=60,
        deadline_s=300,
    )
    assert outcome.cases and outcome.first_failure() is None


def test_dask_runs_the_tasks_and_a_campaign_resumes(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    campaign = _campaign(tmp_path, {}, {})
    source = campaign.snapshot.source("aethel/economics.py")
    mutants = enumerate_module("aethel/economics.py", source)[:3]
    logged: list[str] = []
    run_tasks(campaign, mutants, scheduler="local", workers=1, log=logged.append)
    results = campaign.results()
    assert {r["verdict"] for r in results.values()} == {"no-coverage"}
    assert set(results) == {m.id for m in mutants}
    serial = [run_mutant_task(campaign.task(m), campaign.snapshot) for m in mutants]
    for row in serial:
        assert {k: v for k, v in row.items() if k != "worker"} == {
            k: v for k, v in results[row["id"]].items() if k != "worker"
        }
    run_tasks(campaign, mutants, scheduler="serial", workers=1, log=logged.append)
    assert "3 already judged, 0 to run" in "\n".join(logged)
    assert len(campaign.results_file.read_text().splitlines()) == 3


def test_a_seed_of_the_sweep_is_replayable(tmp_path: Path) -> None:
    assert scenario(5) == scenario(5)
    first = run_seed(5)
    assert first == {**run_seed(5), "duration_s": first["duration_s"]}
    assert first["replay"].startswith("aethel simulate --validators 7")
    rows = run_sweep([5, 6], tmp_path, scheduler="serial", workers=1, log=lambda _: None)
    assert rows[5]["trace_hash"] == first["trace_hash"]
    lines = (tmp_path / "results.jsonl").read_text().splitlines()
    assert [json.loads(line)["seed"] for line in lines] == [5, 6]
    run_sweep([5, 6, 7], tmp_path, scheduler="serial", workers=1, log=lambda _: None)
    assert len((tmp_path / "results.jsonl").read_text().splitlines()) == 3


def test_make_operator_knows_every_name() -> None:
    from conformance.mechanical.operators import operator_names

    for name in operator_names():
        assert make_operator(name) is not None
