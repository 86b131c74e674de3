"""A 4-validator loopback testnet of real processes (what `aethel testnet up` starts).

One testnet serves the module: under load every node reports the same block and root at every
height, the supply books balance, every acknowledged transfer is in the chain; the leader and
another node are SIGKILLed and come back without losing a committed height; a wiped node
rejoins by state sync; SIGTERM stops a node cleanly; hostile bytes on a live process's ports
leave it committing; /metrics and /health are served by every process. The long campaign (50
kills) is ``aethel testnet chaos --kills 50`` and the ``long`` test below.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

from aethel.node import testnet as nets
from aethel.node.audit import audit_chain
from aethel.node.chaos import run_chaos
from aethel.node.load import run_load
from aethel.node.peer_wire import HEADER


def get(url: str, timeout: float = 10.0) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=timeout) as answer:
        return dict(json.loads(answer.read()))


def heights(net: nets.Testnet) -> dict[str, int]:
    statuses = asyncio.run(nets.gather_status(net))
    return {n: int(s["height"]) for n, s in statuses.items() if s is not None}


def wait_all_at(net: nets.Testnet, height: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        found = heights(net)
        if len(found) == len(net.nodes) and min(found.values()) >= height:
            return
        assert time.monotonic() < deadline, f"not every node reached {height}: {found}"
        time.sleep(0.2)


def our_processes(net: nets.Testnet) -> list[psutil.Process]:
    homes = {str(node.home.resolve()) for node in net.nodes}
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if "aethel.node" in cmdline and any(home in cmdline for home in homes):
            found.append(process)
    return found


def stop_leaving_nothing(net: nets.Testnet) -> None:
    """Stop the testnet; fail if a node process is left behind (killed first)."""
    nets.stop_testnet(net, grace=15)
    left = our_processes(net)
    for process in left:
        process.kill()
    assert left == [], f"processes left behind: {left}"


@pytest.fixture(scope="module")
def testnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[nets.Testnet]:
    net = nets.init_testnet(tmp_path_factory.mktemp("testnet") / "net", 4, seed=1619, accounts=16)
    try:
        nets.start_testnet(net)
        wait_all_at(net, 1)
        yield net
    finally:
        stop_leaving_nothing(net)


@pytest.mark.req("R2.4", "R3.2", "R3.6", "R5.4")
def test_under_load_every_node_agrees_the_books_balance_and_nothing_is_lost(
    testnet: nets.Testnet,
) -> None:
    report = asyncio.run(run_load(testnet, rate=25, duration=6, drain=30, seed=1))
    assert report.acknowledged == report.submitted >= 120, report.to_json()
    assert report.lost == 0 and report.committed == report.acknowledged, report.to_json()
    assert dict(report.refused) == {}
    audit = asyncio.run(audit_chain(testnet))
    assert audit.ok, audit.to_json()
    assert min(h for h in audit.heights.values() if h is not None) >= 2
    assert all(supply is not None and supply["balanced"] for supply in audit.supply.values())


@pytest.mark.req("R5.4", "R3.1", "R3.5", "R2.4", "R4.2")
def test_killed_leaders_and_a_wiped_node_recover_under_load(testnet: nets.Testnet) -> None:
    """The short chaos: a SIGKILL of the leader (seed 0's first pick) and a wipe."""
    report = asyncio.run(run_chaos(testnet, kills=1, seed=0, rate=10, drain=30))
    result = report.to_json()
    assert report.ok, json.dumps({k: v for k, v in result.items() if k != "audit"}, indent=1)
    assert result["kills"] == 1 and result["wipes"] == 1
    assert report.kills[0].was_leader, "seed 0 kills the leader first"
    wiped = report.kills[-1]
    assert wiped.wiped and wiped.height_at_restart == 0 and wiped.syncs >= 1


@pytest.mark.req("R8.1", "R8.6")
def test_every_process_serves_metrics_and_health(testnet: nets.Testnet) -> None:
    for node in testnet.nodes:
        with urllib.request.urlopen(f"{node.url}/metrics", timeout=10) as answer:
            text = answer.read().decode()
        names = {family.name for family in text_string_to_metric_families(text)}
        assert {"aethel_height", "aethel_node_peers_connected"} <= names
        health = get(f"{node.url}/health")
        assert health["status"] == "ok" and health["height"], health


#: A testnet seed whose v000 leads views 0 and 1 of height 11 (no view 0 of 7 to 10 or 12).
SILENT_LEADER_SEED, SILENT_HEIGHT, SILENT_VICTIM = 11, 11, "v000"


@pytest.mark.req("R2.4", "R2.5", "R2.6")
def test_a_wiped_node_leading_the_next_views_costs_their_timeouts_and_no_transfer(
    tmp_path: Path,
) -> None:
    """A wiped validator signs nothing at the height after the one it learns (R2.4); when it
    leads that height's first views, each must time out before the chain goes on (R2.6).
    Seed 11's v000 leads views 0 and 1 of height 11 and is wiped once height 9 commits: the
    chain waits out at least 12 s of view timeouts (4 + 8 s, each next view established up to
    one re-send later), more than the 5 s drain. The chaos run allows the spec's cost of
    those views (20 s) on top of the drain, so no acknowledged transfer counts as lost and
    every node commits height 12 or later (R2.5).

    Found in CI at 92c7280: the module's testnet (seed 1619) had v000 wiped at height 210,
    and v000 leads views 0 to 3 of height 211; the 30 s drain without the allowance reported
    24 acknowledged transfers lost, and the cases after it ran on a stalled chain. The same
    wipe without the allowance, measured: 21 of 195 lost, every node still at height 200."""
    net = nets.init_testnet(tmp_path / "net", 4, seed=SILENT_LEADER_SEED, accounts=8)
    try:
        report = asyncio.run(
            run_chaos(
                net,
                kills=0,
                seed=0,
                rate=10,
                drain=5,
                wipe_at=(SILENT_VICTIM, SILENT_HEIGHT - 2),
            )
        )
    finally:
        stop_leaving_nothing(net)
    result = report.to_json()
    assert report.ok, json.dumps({k: v for k, v in result.items() if k != "audit"}, indent=1)
    (wiped,) = report.kills
    assert wiped.victim == SILENT_VICTIM and wiped.allowance_s == 20.0, wiped
    assert report.load is not None and max(report.load.latencies_ms) > 10_000, (
        f"no transfer waited out the silent views: the wipe missed height {SILENT_HEIGHT} ({wiped})"
    )


@pytest.mark.req("N6", "R7.5")
def test_hostile_bytes_on_a_live_process_leave_it_committing(testnet: nets.Testnet) -> None:
    node = testnet.nodes[1]
    host, port = node.peer.rsplit(":", 1)
    api_host, api_port = node.url.removeprefix("http://").rsplit(":", 1)
    silent = socket.create_connection((host, int(port)), timeout=5)
    for payload in (b"\xff" * 4096, HEADER.pack(2**31), HEADER.pack(100) + b"{"):
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(payload)
    with socket.create_connection((api_host, int(api_port)), timeout=5) as sock:
        sock.sendall(b"POST /transfers HTTP/1.1\r\nContent-Length: 5\r\n\r\n{{{{{")
    before = heights(testnet)[node.id]
    try:
        wait_all_at(testnet, before + 2, timeout=30)
    finally:
        silent.close()
    assert get(f"{node.url}/status")["id"] == node.id


@pytest.mark.req("R5.4")
def test_sigterm_stops_a_node_cleanly_and_it_resumes(testnet: nets.Testnet) -> None:
    node = testnet.nodes[2]
    before = heights(testnet)[node.id]
    assert nets.stop_node(testnet, node.id, grace=15) == "stopped"
    nets.start_node(testnet, node.id)
    wait_all_at(testnet, before + 1, timeout=60)
    log = (node.home / "node.log").read_text(encoding="utf-8")
    assert "stopping (signal)" in log


@pytest.mark.req("R5.4")
def test_node_run_exits_zero_on_sigterm(tmp_path: Path) -> None:
    """``aethel node run`` itself: prints ready, exits 0 on SIGTERM (a one-validator chain)."""
    net = nets.init_testnet(tmp_path / "one", 1, seed=1620, accounts=2)
    home = net.nodes[0].home
    process = subprocess.Popen(
        [sys.executable, "-m", "aethel.node", "run", "--home", str(home)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("ready "), line
        ready = json.loads(line.removeprefix("ready "))
        assert ready["id"] == "v000" and ready["height"] == 0
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.long
@pytest.mark.req("R5.4", "R3.1", "R3.5", "R2.4", "R4.2")
def test_fifty_kills_and_a_wipe(testnet: nets.Testnet) -> None:
    seed = int(os.environ.get("AETHEL_CHAOS_SEED", "50"))
    report = asyncio.run(run_chaos(testnet, kills=50, seed=seed, rate=20))
    assert report.ok, (seed, report.failures, report.audit and report.audit.to_json())
