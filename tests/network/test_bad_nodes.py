"""A node under test that breaks the contract ends the run with a clear verdict and leaves no
process behind (NODE.md: never ready, crashes on start, garbage on the API, floods the proxy)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import psutil
import pytest

from conformance.network.checkers import check_run
from conformance.network.contract import REFERENCE_COMMAND
from conformance.network.run import RunConfig, RunRecord, run_network

BAD_NODE = Path(__file__).with_name("bad_node.py")


def bad(mode: str) -> str:
    return f"{sys.executable} {BAD_NODE} {mode} {{home}}"


def run(impl: str, tmp_path: Path, **options: object) -> RunRecord:
    config = RunConfig(impl=impl, duration=5.0, startup_timeout=4.0, stop_grace=5.0, **options)  # type: ignore[arg-type]
    return asyncio.run(run_network(config, tmp_path / "nodes"))


def assert_nothing_left(record: RunRecord, tmp_path: Path) -> None:
    assert record.leftover == []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        assert str(tmp_path) not in cmdline, f"left behind: {cmdline}"


def failing(record: RunRecord) -> dict[str, str]:
    return {v.checker: v.message for v in check_run(record) if v.failed}


def test_a_node_that_never_becomes_ready(tmp_path: Path) -> None:
    record = run(bad("sleep"), tmp_path)
    assert record.abort_kind == "start"
    verdicts = failing(record)
    assert list(verdicts) == ["contract-start"]
    assert "never ready" in verdicts["contract-start"] and "4 s" in verdicts["contract-start"]
    assert_nothing_left(record, tmp_path)


def test_a_node_that_crashes_on_start(tmp_path: Path) -> None:
    record = run(bad("exit"), tmp_path)
    verdicts = failing(record)
    assert list(verdicts) == ["contract-start"]
    assert "crashed on start" in verdicts["contract-start"]
    assert "exit status 3" in verdicts["contract-start"]
    assert "cannot open my store" in record.abort_log
    assert_nothing_left(record, tmp_path)


def test_a_node_that_answers_garbage_among_reference_nodes(tmp_path: Path) -> None:
    record = run(bad("garbage"), tmp_path, mix=3)
    assert sorted(record.kinds().values()) == ["impl", "reference", "reference", "reference"]
    assert record.abort_kind == "api"
    verdicts = failing(record)
    assert "contract-api" in verdicts and "non-JSON" in verdicts["contract-api"]
    garbage = next(s.id for s in record.slots if s.kind == "impl")
    assert record.abort_node == garbage and f"{garbage} at t=" in verdicts["contract-api"]
    assert_nothing_left(record, tmp_path)


@pytest.mark.req("N6")
@pytest.mark.rejects("N6")
def test_a_node_that_floods_the_proxy(tmp_path: Path) -> None:
    record = run(bad("flood"), tmp_path, mix=2, flood_bytes_per_s=8 << 20)
    assert record.abort_kind == "wire"
    verdicts = failing(record)
    assert "contract-wire" in verdicts and "flood" in verdicts["contract-wire"]
    flooders = {s.id for s in record.slots if s.kind == "impl"}
    assert record.abort_node in flooders
    assert_nothing_left(record, tmp_path)


def test_the_reference_command_is_not_bad(tmp_path: Path) -> None:
    """The control: the same short run with the reference node passes the contract."""
    record = run(REFERENCE_COMMAND, tmp_path, nemeses=())
    verdicts = {v.checker: v for v in check_run(record)}
    assert record.aborted is None
    for name in ("contract-start", "contract-api", "contract-wire", "contract-stop"):
        assert verdicts[name].status == "pass", verdicts[name].message
    assert_nothing_left(record, tmp_path)
