"""The starter kit: `init` writes the skeletons (and refuses a non-empty directory without
--force); both skeletons pass `smoke`, their capabilities' suite cases and, through their own
vector runners, the released vectors; a broken skeleton fails all three."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conformance.cli import app
from conformance.starter.init import Language, write_skeleton
from conformance.starter.smoke import smoke
from conformance.testvectors.export import export
from conformance.testvectors.model import load_vectors

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed on this machine")


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("vectors") / "release"
    export(out, load_vectors(every=True))
    return out


def _python(directory: Path) -> str:
    return f"stdio:{sys.executable} {directory / 'aethel_starter.py'}"


def _node(directory: Path) -> str:
    return f"stdio:{NODE} {directory / 'aethel-starter.mjs'}"


def test_init_refuses_a_non_empty_directory_without_force(tmp_path: Path) -> None:
    target = tmp_path / "mine"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    runner = CliRunner()
    refused = runner.invoke(app, ["init", "--lang", "python", str(target)])
    assert refused.exit_code == 2
    assert "not empty" in refused.output
    assert sorted(p.name for p in target.iterdir()) == ["keep.txt"]
    done = runner.invoke(app, ["init", "--lang", "python", "--force", str(target)])
    assert done.exit_code == 0, done.output
    assert (target / "aethel_starter.py").is_file() and (target / "keep.txt").read_text() == "mine"
    fresh = runner.invoke(app, ["init", "--lang", "javascript", str(tmp_path / "new" / "js")])
    assert fresh.exit_code == 0, fresh.output
    names = {p.name for p in (tmp_path / "new" / "js").iterdir()}
    assert {"aethel-starter.mjs", "run-vectors.mjs", "README.md", "PROTOCOL.md", "WIRE.md"} <= names


def test_the_python_skeleton_passes_smoke(tmp_path: Path) -> None:
    write_skeleton(Language.PYTHON, tmp_path)
    status, lines = smoke(_python(tmp_path))
    assert status == 0, lines
    assert lines[-1] == "verdict: PASS"
    assert any(line.startswith("pass  list-hash") for line in lines)


@needs_node
def test_the_javascript_skeleton_passes_smoke(tmp_path: Path) -> None:
    write_skeleton(Language.JAVASCRIPT, tmp_path)
    status, lines = smoke(_node(tmp_path))
    assert status == 0, lines
    assert sum(line.startswith("pass ") for line in lines) == 2


def _suite(spec: str, capabilities: list[str], report: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "conformance.cli", "run", "--impl", spec]
    for capability in capabilities:
        command += ["--capability", capability]
    command += ["--validate-protocol", "--report-dir", str(report)]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.req("E10", "E11")
def test_the_python_skeleton_passes_its_capabilitys_suite_cases(tmp_path: Path) -> None:
    write_skeleton(Language.PYTHON, tmp_path / "impl")
    done = _suite(_python(tmp_path / "impl"), ["list-hash"], tmp_path / "report")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert " pass; " in output and " fail" not in output, output


@needs_node
@pytest.mark.req("E1", "E2", "E3", "E4", "E7", "N1", "E10", "E11")
def test_the_javascript_skeleton_passes_its_capabilities_suite_cases(tmp_path: Path) -> None:
    write_skeleton(Language.JAVASCRIPT, tmp_path / "impl")
    done = _suite(_node(tmp_path / "impl"), ["encoding", "list-hash"], tmp_path / "report")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert " pass; " in output and " fail" not in output, output


def _count(release: Path, areas: list[str]) -> int:
    return sum(len(list((release / area).glob("*/*/meta.json"))) for area in areas)


def _run_vectors(runner: list[str], release: Path) -> subprocess.CompletedProcess[str]:
    """Run a skeleton's vector runner (the program and its script) over ``release``."""
    return subprocess.run(
        [*runner, str(release)], capture_output=True, text=True, timeout=300, check=False
    )


@needs_node
@pytest.mark.req("E1", "E4", "E10", "E11")
def test_the_javascript_vector_runner_passes_the_encoding_and_list_hash_vectors(
    tmp_path: Path, release: Path
) -> None:
    write_skeleton(Language.JAVASCRIPT, tmp_path)
    assert NODE is not None
    done = _run_vectors([NODE, str(tmp_path / "run-vectors.mjs")], release)
    assert done.returncode == 0, done.stdout + done.stderr
    want = _count(release, ["encoding", "list-hash"])
    assert want > 90
    assert done.stdout.strip().splitlines()[-1] == f"{want} passed, 0 failed"


@pytest.mark.req("E10", "E11")
def test_the_python_vector_runner_passes_the_list_hash_vectors(
    tmp_path: Path, release: Path
) -> None:
    write_skeleton(Language.PYTHON, tmp_path)
    done = _run_vectors([sys.executable, str(tmp_path / "run_vectors.py")], release)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (
        done.stdout.strip().splitlines()[-1] == f"{_count(release, ['list-hash'])} passed, 0 failed"
    )


def test_a_broken_skeleton_fails_smoke_and_its_vectors(tmp_path: Path, release: Path) -> None:
    """Split lists at the largest power of two not above n (an RFC 6962 misreading): the smoke
    probe (two entries) and the vectors of larger lists catch it."""
    write_skeleton(Language.PYTHON, tmp_path)
    source = tmp_path / "aethel_starter.py"
    text = source.read_text()
    assert "while k * 2 < n:" in text
    source.write_text(text.replace("while k * 2 < n:", "while k * 2 <= n:"))
    status, lines = smoke(_python(tmp_path))
    assert status == 1 and lines[-1].startswith("verdict: FAIL"), lines
    done = _run_vectors([sys.executable, str(tmp_path / "run_vectors.py")], release)
    assert done.returncode == 1
    assert "FAIL list-hash/root/size-2" in done.stdout


def test_smoke_reports_a_program_that_does_not_start() -> None:
    status, lines = smoke(f"stdio:{sys.executable} -c 'import sys; sys.exit(3)'", timeout_s=5)
    assert status == 2
    assert lines[0].startswith("hello failed")
