"""A campaign's summary says what ran and where: commit and dirty tree, machine, load average at
the start and the end (and each seed's load), beside every seed's verdict."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conformance.network import campaign
from conformance.network.checkers import PASS, Verdict
from conformance.network.provenance import ROOT, git_state
from conformance.network.run import RunConfig


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_git_state_of_a_checkout_clean_then_dirty(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    (tmp_path / "aethel").mkdir()
    (tmp_path / "aethel" / "node.py").write_text("x = 1\n")
    (tmp_path / "notes.md").write_text("notes\n")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "one")
    head = _git(tmp_path, "rev-parse", "HEAD")
    assert git_state(tmp_path) == {"commit": head, "dirty": False, "changed": []}
    (tmp_path / "notes.md").write_text("changed, outside the code folders\n")
    assert git_state(tmp_path)["dirty"] is False
    (tmp_path / "aethel" / "node.py").write_text("x = 2\n")
    assert git_state(tmp_path) == {"commit": head, "dirty": True, "changed": ["aethel/node.py"]}


def test_git_state_outside_a_checkout(tmp_path: Path) -> None:
    assert git_state(tmp_path) == {"commit": "unknown", "dirty": None, "changed": []}


def test_the_campaign_summary_records_commit_machine_and_load(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The seeds' runs are replaced by given results (each seed's own report is tested
    elsewhere); the summary around them is under test."""

    def fake_seed(config: RunConfig, out_dir: str) -> dict[str, Any]:
        return {
            "seed": config.seed,
            "code": 1 if config.seed == 11 else 0,
            "failed": [{"checker": "liveness", "rules": ["R2.5"], "message": "stuck"}]
            if config.seed == 11
            else [],
            "wall_s": 1.0,
            "load": {"start": [0.5, 0.4, 0.3], "end": [1.25, 0.5, 0.3]},
            "liveness": {"status": "fail" if config.seed == 11 else "pass", "bound_s": 28.0}
            | ({} if config.seed == 11 else {"recovery_s": 0.4}),
            "replay": f"{out_dir}/replay.json",
            "report": out_dir,
        }

    monkeypatch.setattr(campaign, "run_seed", fake_seed)
    config = RunConfig(impl="{python} -m aethel.node run --home {home}", seed=10)
    code = campaign.run_campaign(config, 2, tmp_path, scheduler="serial")
    assert code == 1
    summary = json.loads((tmp_path / "campaign.json").read_text())
    assert summary["git"]["commit"] == _git(ROOT, "rev-parse", "HEAD")
    dirty = _git(ROOT, "status", "--porcelain", "--", "aethel", "conformance")
    assert summary["git"]["dirty"] is bool(dirty)
    assert summary["machine"]["cores"] == os.cpu_count()
    model = next(
        line.split(":", 1)[1].strip()
        for line in Path("/proc/cpuinfo").read_text().splitlines()
        if line.startswith("model name")
    )
    assert summary["machine"]["cpu"] == model
    for key in ("load_start", "load_end"):
        assert len(summary[key]) == 3 and all(isinstance(x, float) for x in summary[key])
    assert summary["started"] <= summary["finished"] and "load_now" not in summary
    assert (summary["scheduler"], summary["failing"]) == ("serial", [11])
    text = (tmp_path / "campaign.md").read_text()
    assert f"- commit: `{summary['git']['commit']}`" in text
    assert f"- machine: {os.cpu_count()} cores, {model}" in text
    assert (
        "load average (1/5/15 min) at the start "
        + " / ".join(f"{x:.2f}" for x in summary["load_start"])
        in text
    )
    assert "load average at the end" in text
    assert "| 10 | 0 | 0.4 / 28.0 | 1.0 | 0.50, 1.25 |" in text
    assert "| 11 | 1 | fail / 28.0 | 1.0 |" in text
    assert "- liveness bound: derived per seed" in text


def test_a_seed_records_the_load_even_when_the_harness_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def broken(config: RunConfig, out_dir: Path) -> Any:
        raise RuntimeError("the harness broke")

    monkeypatch.setattr(campaign, "execute", broken)
    result = campaign.run_seed(RunConfig(impl="x {home}"), str(tmp_path))
    assert result["code"] == 2 and "the harness broke" in result["error"]
    assert len(result["load"]["start"]) == 3 and len(result["load"]["end"]) == 3


@pytest.mark.parametrize(("recovery", "kept"), [(4.0, False), (16.0, True)])
def test_a_passing_seed_keeps_its_node_logs_when_its_recovery_was_slow(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, recovery: float, kept: bool
) -> None:
    """Seed 2010 passed in 121 s of a 128 s bound and its logs were deleted: a recovery over
    half the bound keeps the nodes' directories and is flagged slow."""

    def passing(config: RunConfig, out_dir: Path) -> Any:
        (out_dir / "nodes" / "v000").mkdir(parents=True)
        verdict = Verdict(
            "liveness",
            ("R2.5",),
            PASS,
            "recovered",
            ["bound: 30 s"],
            {"bound_s": 30.0, "recovery_s": recovery},
            timing=True,
        )
        return [verdict], 0, out_dir / "replay.json"

    monkeypatch.setattr(campaign, "execute", passing)
    result = campaign.run_seed(RunConfig(impl="x {home}"), str(tmp_path))
    assert result["code"] == 0 and result["slow"] is kept
    assert (tmp_path / "nodes" / "v000").is_dir() is kept
