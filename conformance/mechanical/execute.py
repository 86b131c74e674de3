"""Run chosen suite cases against the reference served from a workspace (mutated or pristine).

One run is one ``python -m pytest`` process of the pristine harness, given the cases by node ID,
with ``--impl stdio:...`` pointing at :mod:`conformance.mechanical.serve` in the workspace. The
statuses come from the run's ``report.jsonl`` (the suite's own collector). A run that passes its
deadline is killed with its process group and said to have timed out.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from conformance.mechanical.serve import CASE_FILE_ENV, ROOT_ENV, TRACE_ENV
from conformance.plugin import SUITE_DIR
from conformance.report.model import FAILED
from conformance.runner import suite_env

PACKAGE_ROOT = SUITE_DIR.parents[1]


@dataclass(frozen=True, slots=True)
class CaseResult:
    """One case of a run, as the suite's report gives it."""

    nodeid: str
    case_id: str
    status: str
    duration_s: float
    rules: tuple[str, ...]
    areas: tuple[str, ...]
    message: str


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """What one run of chosen cases gave."""

    cases: tuple[CaseResult, ...]
    deadline_passed: bool
    returncode: int
    duration_s: float
    stderr_tail: str
    #: How many cases the run had to report (-1: as many as it was given, or unknown). A
    #: negative ``returncode`` means the run itself failed (no answer, unknown cases).
    expected: int = -1
    #: CPU seconds the run took, harness and implementations together (-1: not measured).
    cpu_s: float = -1.0

    def complete(self, given: int) -> bool:
        """Return True if every case of the run reported (``given``: how many were named)."""
        if self.returncode < 0:
            return False
        return len(self.cases) >= (self.expected if self.expected >= 0 else given)

    def first_failure(self) -> CaseResult | None:
        """Return the first case (in run order) that failed, errored or timed out."""
        return next((c for c in self.cases if c.status in FAILED), None)


def serve_command(workspace: Path, trace: Path | None = None) -> str:
    """Return the ``stdio:`` command that serves the reference from ``workspace``."""
    env = [
        f"PYTHONPATH={workspace}{os.pathsep}{PACKAGE_ROOT}",
        f"{ROOT_ENV}={workspace}",
        "PYTHONDONTWRITEBYTECODE=1",
    ]
    if trace is not None:
        env.append(f"{TRACE_ENV}={trace}")
    argv = ["env", *env, sys.executable, "-P", "-m", "conformance.mechanical.serve"]
    return " ".join(shlex.quote(a) for a in argv)


def read_cases(report: Path) -> list[CaseResult]:
    """Return the cases of a ``report.jsonl`` in the order they are listed."""
    found: list[CaseResult] = []
    if not report.exists():
        return found
    for line in report.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row.get("type") != "case":
            continue
        found.append(
            CaseResult(
                nodeid=row["nodeid"],
                case_id=row["case_id"],
                status=row["status"],
                duration_s=float(row.get("duration_s") or 0.0),
                rules=tuple(row.get("rules") or ()),
                areas=tuple(row.get("areas") or ()),
                message=(row.get("message") or "")[:300],
            )
        )
    return found


def run_cases(
    workspace: Path,
    nodeids: list[str] | None,
    out_dir: Path,
    *,
    stop_at_first_failure: bool,
    request_timeout_s: float,
    case_timeout_s: float,
    deadline_s: float,
    trace: Path | None = None,
    marker: str | None = None,
) -> RunOutcome:
    """Run ``nodeids`` (None: the whole suite, filtered by ``marker``) against ``workspace``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    report = out_dir / "report.jsonl"
    report.unlink(missing_ok=True)
    targets = [str(SUITE_DIR)] if nodeids is None else [str(SUITE_DIR / n) for n in nodeids]
    command = [
        sys.executable,
        "-P",
        "-m",
        "pytest",
        *targets,
        "-p",
        "conformance.report.collector",
        "-p",
        "conformance.mechanical.caseplugin",
        "-p",
        "no:cacheprovider",
        f"--rootdir={SUITE_DIR}",
        "-p",
        "no:terminal",
        f"--impl=stdio:{serve_command(workspace, trace)}",
        f"--report-jsonl={report}",
        "--seed=0",
        "--startup-timeout=30",
        f"--request-timeout={request_timeout_s}",
        f"--case-timeout={case_timeout_s}",
        "--scale=standard",
        "--no-progress",
    ]
    if marker:
        command += ["-m", marker]
    if stop_at_first_failure:
        command.append("-x")
    env = suite_env()
    if trace is not None:
        env[CASE_FILE_ENV] = str(out_dir / "current-case")
    started = time.monotonic()
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline_passed = False
    try:
        _, stderr = process.communicate(timeout=deadline_s)
    except subprocess.TimeoutExpired:
        deadline_passed = True
        os.killpg(process.pid, signal.SIGKILL)
        _, stderr = process.communicate()
    return RunOutcome(
        cases=tuple(read_cases(report)),
        deadline_passed=deadline_passed,
        returncode=process.returncode,
        duration_s=time.monotonic() - started,
        stderr_tail=stderr.decode("utf-8", "replace")[-2000:],
    )
