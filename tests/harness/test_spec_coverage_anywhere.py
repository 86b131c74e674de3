"""``aethel-conformance spec coverage`` outside the checkout, and beside a foreign ``tests``.

* Installed (a copy of the packages as the wheel lays them out, spec under ``aethel/_spec``),
  run from another directory: the shipped suite and the Z3 proofs (aethel.formal) cite every
  catalog ID.
* A distribution that ships its own top-level ``tests`` package on the path must not hide the
  project's: ``tests`` is a regular package, and collection runs from the checkout's root.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conformance import spec_cli

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def foreign_tests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    site = tmp_path / "foreign-site"
    (site / "tests").mkdir(parents=True)
    (site / "tests" / "__init__.py").write_text("# another distribution's tests\n")
    path = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH")) if p)
    monkeypatch.setenv("PYTHONPATH", path)
    return site


def test_a_foreign_tests_package_does_not_hide_the_projects(foreign_tests: Path) -> None:
    """Before: `No module named 'tests.harness'` (a namespace package loses to a regular one)."""
    mapping = spec_cli.collect_citations([str(ROOT / "tests" / "harness")])
    assert any("test_replica_wire.py" in node for node in mapping.get("E12", []))


def _install_copy(site: Path) -> None:
    """Lay the packages out as the wheel does (pyproject.toml, [tool.hatch.build...])."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in ("aethel", "conformance"):
        shutil.copytree(ROOT / package, site / package, ignore=ignore)
    shutil.copytree(ROOT / "spec", site / "aethel" / "_spec", ignore=ignore)


def test_coverage_from_an_installed_copy_outside_the_checkout(tmp_path: Path) -> None:
    site, elsewhere = tmp_path / "site", tmp_path / "elsewhere"
    _install_copy(site)
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run(
        [sys.executable, "-P", "-m", "conformance.cli", "spec", "coverage", "--json"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    rows = json.loads(done.stdout)
    assert "No module named" not in done.stderr and "collection failed" not in done.stderr
    assert "no source checkout here" in done.stderr
    covered = {r["id"] for r in rows if r["status"] == "covered"}
    # Exactly what the shipped suite cites in the checkout (the project's tests/ does not ship),
    # and the invariants the shipped Z3 proofs prove.
    shipped = spec_cli.collect_citations([str(ROOT / "conformance" / "suite")])
    proved = set(spec_cli.proof_citations())
    known = {r["id"] for r in rows}
    assert covered == {i for i, tests in shipped.items() if tests and i in known} | proved
    assert proved == {f"I{i}" for i in range(1, 11)}
    assert len(covered) > 100
