"""Where and from what a campaign ran: the commit, the machine and its load.

A campaign's verdicts depend on the code (a commit, and whether the working tree differed from
it) and, for deadlines such as liveness, on how busy the machine was; a campaign summary records
both (:mod:`conformance.network.campaign`).
"""

from __future__ import annotations

import datetime
import os
import subprocess
from pathlib import Path
from typing import Any

import conformance
from aethel.bench import machine_info

#: The checkout the suite runs from (the parent of the ``conformance`` package).
ROOT = Path(conformance.__file__).resolve().parent.parent
#: The folders whose content decides a run: the nodes (aethel) and the harness (conformance).
CODE = ("aethel", "conformance")
#: Most changed paths listed for a dirty tree.
MAX_CHANGED = 20


def git_state(root: Path = ROOT) -> dict[str, Any]:
    """``{"commit", "dirty", "changed"}``: HEAD of ``root`` and the paths under :data:`CODE`
    that differ from it (``commit`` is ``"unknown"`` outside a git checkout)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--", *CODE],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return {"commit": "unknown", "dirty": None, "changed": []}
    changed = [line[3:] for line in status.splitlines() if line.strip()]
    return {"commit": commit, "dirty": bool(changed), "changed": changed[:MAX_CHANGED]}


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (empty where the system has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def now_utc() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def machine() -> dict[str, Any]:
    """Cores, CPU model, memory, OS and Python of this machine (aethel.bench's description)."""
    info = machine_info()
    return {key: info.get(key) for key in ("cpu", "cores", "memory_gib", "os", "python")}


def campaign_start() -> dict[str, Any]:
    """What a campaign records when it starts."""
    return {
        "git": git_state(),
        "machine": machine(),
        "started": now_utc(),
        "load_start": load_average(),
    }


__all__ = ["campaign_start", "git_state", "load_average", "machine", "now_utc"]
