"""No node outlives the harness that started it, however the harness dies (reaper.py).

A campaign stopped with SIGTERM on 2026-12-06 left four reference nodes running: the dask
worker that ran the seed was torn down before its cleanup. The harness now also lists every
node group with a reaper of its own, which kills what is listed when the harness's pipe closes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

from conformance.network.reaper import serve

BAD_NODE = Path(__file__).with_name("bad_node.py")


def _sleeper() -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True
    )


def test_the_reaper_kills_the_groups_still_listed_when_its_input_ends() -> None:
    listed, released = _sleeper(), _sleeper()
    try:
        left = serve([f"+{listed.pid}\n", f"+{released.pid}\n", f"-{released.pid}\n", "+x\n"])
        assert left == {listed.pid}
        assert listed.wait(timeout=10) == -signal.SIGKILL
        assert released.poll() is None  # the harness had killed it itself: not the reaper's
    finally:
        for process in (listed, released):
            process.kill()
            process.wait()


def _nodes_of(directory: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        argv = process.info["cmdline"] or []
        if argv[1:3] == [str(BAD_NODE), "sleep"] and str(directory) in " ".join(argv):
            found.append(process)
    return found


def test_a_harness_killed_with_sigkill_leaves_no_node_behind(tmp_path: Path) -> None:
    """The harness (``aethel-conformance network``, four nodes that never become ready, a
    60 s startup timeout) is SIGKILLed while it waits for them: no atexit, no cleanup of its
    own. Its nodes are gone within seconds anyway.

    The harness tells its reaper of a node group when Popen has returned, so a harness killed in
    the instant between a node's exec and that line leaves the node to its own end (a known
    window, microseconds on a quiet machine; seen once at load 4, 2026-12-07). The case kills
    the harness two seconds after the fourth node appears, when every group is told."""
    impl = f"node:{sys.executable} {BAD_NODE} sleep {{home}}"
    harness = subprocess.Popen(
        [
            *(sys.executable, "-m", "conformance.cli", "network", "--impl", impl, "-n", "4"),
            *("--startup-timeout", "60", "--duration", "5", "--report-dir", str(tmp_path)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while len(_nodes_of(tmp_path)) < 4 and time.monotonic() < deadline:
            time.sleep(0.2)
        started = _nodes_of(tmp_path)
        assert len(started) == 4, "the harness did not start its four nodes within 60 s"
        time.sleep(2)  # the harness tells its reaper of the last group (see the docstring)
        os.kill(harness.pid, signal.SIGKILL)
        harness.wait(timeout=10)
        deadline = time.monotonic() + 10
        while _nodes_of(tmp_path) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _nodes_of(tmp_path) == [], "nodes outlived the harness"
    finally:
        harness.kill()
        harness.wait()
        for process in _nodes_of(tmp_path):
            process.kill()
