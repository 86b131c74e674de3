"""A warm harness: the pristine suite collected once, running the chosen cases of one mutant after
another against a freshly started implementation each time.

A mutant judged by a fresh ``python -m pytest`` process pays, before its first case, for a Python
start, the suite's imports (the reference, Z3, PyNaCl, pydantic, jsonschema, Hypothesis) and the
collection of its 1,600 cases: about 4 s of the 5 s a killed mutant took. Here that is paid once
per campaign worker (and again every :data:`RESTART_EVERY` commands, to bound memory).

``python -P -m conformance.mechanical.harness`` runs pytest on the suite (performance cases aside)
with the report collector (:mod:`conformance.report.collector`) and this module as plugins. After
collection it runs no case by itself (:meth:`WarmLoop.pytest_runtestloop`): it reads commands, one
JSON line each, from the file descriptor named by :data:`FDS_ENV`. A command names an
implementation (``stdio:`` + the command serving one workspace, see
:func:`conformance.mechanical.execute.serve_command`) and the cases to run against it, in order.
The cases run through pytest's own protocol (``pytest_runtest_protocol``: set-up, call,
tear-down, the suite's hooks and the collector's status decision, exactly as in ``aethel-conformance
run``); each finished case is answered at once as one JSON line. After the command every fixture
is torn down, the session's implementation included (its process is stopped), so the next command
starts a new implementation process from its own workspace.

Separation: this process imports the repository's pristine ``aethel`` (it refuses to start if
``aethel`` does not come from the repository beside ``conformance``); mutated code runs only in the
implementation processes it starts. The controlling side is :class:`WarmHarness`: it enforces a
deadline per command (the harness process group is killed and a new harness started if it is
passed), and starts a new harness after a crash.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

import aethel
from aethel.proofs import verifier
from conformance.mechanical.execute import PACKAGE_ROOT, CaseResult, RunOutcome
from conformance.plugin import SUITE_DIR
from conformance.report.model import FAILED
from conformance.runner import suite_env

#: ``"R,W"``: the descriptors the harness reads commands from and writes answers to.
FDS_ENV = "AETHEL_MECH_HARNESS_FDS"
#: A harness is replaced after this many commands (memory of a long pytest session stays bounded).
RESTART_EVERY = 300
#: Seconds a harness may take to import and collect the suite (a busy machine is slow).
READY_TIMEOUT_S = 600.0
#: ``"0"`` turns off the memo of the pristine solver's answers (:func:`memoize_solver`).
SOLVER_MEMO_ENV = "AETHEL_MECH_SOLVER_MEMO"
SOLVER_MEMO_SIZE = 200_000
_COLLECTOR = "aethel-report-collector"
_LOOP = "aethel-mechanical-warm-loop"


# ----------------------------------------------------------------------------------------------
# The harness process (a pytest plugin)


def _case_json(case: Any) -> dict[str, Any]:
    return {
        "nodeid": case.nodeid,
        "case_id": case.case_id,
        "status": case.status,
        "duration_s": case.duration_s,
        "rules": list(case.rules),
        "areas": list(case.areas),
        "message": (case.message or "")[:300],
    }


class WarmLoop:
    """Replace pytest's run of every collected item with commands read from a pipe."""

    def __init__(self, config: pytest.Config, commands: IO[str], answers: IO[str]) -> None:
        self.config = config
        self.commands = commands
        self.answers = answers

    def _answer(self, message: dict[str, Any]) -> None:
        self.answers.write(json.dumps(message) + "\n")
        self.answers.flush()

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        collector: Any = self.config.pluginmanager.get_plugin(_COLLECTOR)
        if collector.heartbeat is not None:  # progress lines mean nothing here
            collector.heartbeat.stop()
            collector.heartbeat = None
        items = {item.nodeid: item for item in session.items}
        broken = [c.nodeid for c in collector.cases if c.status == "error"]
        collector.cases.clear()
        self._answer(
            {
                "ready": len(items),
                "collection_errors": broken,
                "pid": os.getpid(),
                "aethel": str(Path(aethel.__file__ or "").resolve().parent),
            }
        )
        for line in self.commands:
            command = json.loads(line)
            if command.get("op") == "quit":
                break
            self._run(session, items, collector, command)
        return True

    def _run(
        self,
        session: pytest.Session,
        items: dict[str, pytest.Item],
        collector: Any,
        command: dict[str, Any],
    ) -> None:
        option = self.config.option
        option.impl = command["impl"]
        option.request_timeout = float(command["request_timeout_s"])
        option.case_timeout = float(command["case_timeout_s"])
        chosen, missing = _expand(items, command["cases"])
        stop = bool(command["stop_at_first_failure"])
        cpu_before = _cpu_s()
        collector.cases.clear()
        collector.phases.clear()
        failed = False
        try:
            for index, item in enumerate(chosen):
                following = chosen[index + 1] if index + 1 < len(chosen) else None
                item.ihook.pytest_runtest_protocol(item=item, nextitem=following)
                for case in collector.cases:
                    self._answer({"case": _case_json(case)})
                    failed = failed or case.status in FAILED
                collector.cases.clear()
                if failed and stop:
                    break
        finally:
            teardown = ""
            try:
                session._setupstate.teardown_exact(None)  # every fixture, the implementation too
            except BaseException as exc:  # reported in the answer, never hidden
                teardown = f"{type(exc).__name__}: {exc}"[:300]
            self._answer(
                {
                    "done": True,
                    "chosen": len(chosen),
                    "missing": missing,
                    "teardown": teardown,
                    "cpu_s": round(_cpu_s() - cpu_before, 3),
                }
            )


def _cpu_s() -> float:
    """CPU seconds of this process and of its children that ended (the implementations)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _expand(items: dict[str, pytest.Item], names: list[str]) -> tuple[list[pytest.Item], list[str]]:
    """Return the items named (a node ID, or a file: its items in order) and the unknown names."""
    chosen: list[pytest.Item] = []
    missing: list[str] = []
    for name in names:
        if name in items:
            found = [items[name]]
        else:
            found = [item for nodeid, item in items.items() if nodeid.startswith(name + "::")]
        if not found:
            missing.append(name)
        chosen += [item for item in found if item not in chosen]
    return chosen, missing


def memoize_solver(limit: int = SOLVER_MEMO_SIZE) -> Any:
    """Answer repeated solver runs of this harness's pristine verifier from memory.

    Returns the function it replaced (to restore it).

    The suite's oracles and in-process reference replicas verify the same proofs for every
    mutant (a scene's chain, a cluster's blocks): each run makes a fresh Z3 context (about 3.5
    ms) and solves. :func:`aethel.proofs.solver.run_solver` is a function of the text and the
    budget alone (N7: the pinned solver's outcome and effort are deterministic), so the harness
    keeps its answers. Only this process's pristine ``aethel`` is affected; the implementation
    under test never is. ``tests/harness/test_mechanical_scale.py`` checks that memoized and
    fresh verification agree on a standard mix of proofs; the comparison of runners in
    ``reports/selftest/`` checks that every case passing in the control passes in a memoizing
    harness and that verdicts do not change.
    """
    inner = verifier.__dict__["run_solver"]
    answers: dict[tuple[str, int], Any] = {}

    def run_solver(smt: str, budget: int) -> Any:
        key = (smt, budget)
        found = answers.get(key)
        if found is None:
            found = inner(smt, budget)
            if len(answers) < limit:
                answers[key] = found
        return found

    verifier.__dict__["run_solver"] = run_solver
    return inner


def pytest_configure(config: pytest.Config) -> None:
    fds = os.environ.get(FDS_ENV)
    if not fds or hasattr(config, "workerinput"):
        return
    if os.environ.get(SOLVER_MEMO_ENV, "1") == "1":
        memoize_solver()
    read_fd, write_fd = (int(x) for x in fds.split(","))
    commands = os.fdopen(read_fd, "r", encoding="utf-8")
    answers = os.fdopen(write_fd, "w", encoding="utf-8")
    config.pluginmanager.register(WarmLoop(config, commands, answers), _LOOP)


def harness_argv(report: Path) -> list[str]:
    """The pytest command line of a warm harness (the implementation is set per command)."""
    return [
        sys.executable,
        "-P",
        "-m",
        "pytest",
        str(SUITE_DIR),
        "-m",
        "not performance",
        "-p",
        "conformance.report.collector",
        "-p",
        "conformance.mechanical.harness",
        "-p",
        "no:cacheprovider",
        f"--rootdir={SUITE_DIR}",
        "-p",
        "no:terminal",
        "--impl=reference",
        f"--report-jsonl={report}",
        "--seed=0",
        "--startup-timeout=30",
        "--scale=standard",
        "--no-progress",
    ]


# ----------------------------------------------------------------------------------------------
# The controlling side


class HarnessError(RuntimeError):
    """The harness could not be started or answered something unexpected."""


class WarmHarness:
    """One warm harness process, started on first use and replaced when it dies or wears out."""

    def __init__(self, directory: Path, restart_every: int = RESTART_EVERY) -> None:
        self.directory = directory
        self.restart_every = restart_every
        self.process: subprocess.Popen[bytes] | None = None
        self.commands: IO[str] | None = None
        self.answers: int = -1
        self.buffer = b""
        self.served = 0
        self.starts = 0
        self.ready: dict[str, Any] = {}

    # -- process

    def start(self) -> None:
        """Start the harness and wait until it has collected the suite."""
        self.close()
        self.directory.mkdir(parents=True, exist_ok=True)
        command_r, command_w = os.pipe()
        answer_r, answer_w = os.pipe()
        env = suite_env()
        env[FDS_ENV] = f"{command_r},{answer_w}"
        env.setdefault("HYPOTHESIS_PROFILE", "ci")
        stderr = (self.directory / "harness.stderr").open("ab")
        try:
            self.process = subprocess.Popen(
                harness_argv(self.directory / "harness-report.jsonl"),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                pass_fds=(command_r, answer_w),
                start_new_session=True,
            )
        finally:
            stderr.close()
            os.close(command_r)
            os.close(answer_w)
        self.commands = os.fdopen(command_w, "w", encoding="utf-8")
        self.answers = answer_r
        self.buffer = b""
        self.served = 0
        self.starts += 1
        ready = self._read(time.monotonic() + READY_TIMEOUT_S)
        if ready is None or "ready" not in ready:
            self.close()
            raise HarnessError(f"the harness did not start: {self.stderr_tail()}")
        if ready["collection_errors"]:
            self.close()
            raise HarnessError(f"the suite does not collect: {ready['collection_errors'][:5]}")
        expected = (PACKAGE_ROOT / "aethel").resolve()
        if Path(ready["aethel"]) != expected:
            self.close()
            raise HarnessError(f"the harness imported {ready['aethel']}, not {expected}")
        self.ready = ready

    def close(self) -> None:
        """Stop the harness (politely, then its whole process group)."""
        process, self.process = self.process, None
        if process is None:
            return
        if self.commands is not None:
            with contextlib.suppress(OSError, ValueError):
                self.commands.write(json.dumps({"op": "quit"}) + "\n")
                self.commands.flush()
            with contextlib.suppress(OSError, ValueError):
                self.commands.close()
            self.commands = None
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
        _kill_group(process)
        if self.answers >= 0:
            with contextlib.suppress(OSError):
                os.close(self.answers)
            self.answers = -1

    def stderr_tail(self) -> str:
        path = self.directory / "harness.stderr"
        try:
            return path.read_text(encoding="utf-8", errors="replace")[-1500:]
        except OSError:
            return ""

    # -- answers

    def _lines(self, deadline: float) -> Iterator[dict[str, Any] | None]:
        """Yield answers until the deadline (then None once) or the end of the pipe."""
        while True:
            while b"\n" in self.buffer:
                raw, _, self.buffer = self.buffer.partition(b"\n")
                yield json.loads(raw)
            left = deadline - time.monotonic()
            if left <= 0:
                yield None
                return
            readable, _, _ = select.select([self.answers], [], [], min(left, 5.0))
            if not readable:
                continue
            chunk = os.read(self.answers, 1 << 16)
            if not chunk:
                return
            self.buffer += chunk

    def _read(self, deadline: float) -> dict[str, Any] | None:
        return next(iter(self._lines(deadline)), None)

    # -- commands

    def run(
        self,
        impl: str,
        cases: list[str],
        *,
        stop_at_first_failure: bool,
        request_timeout_s: float,
        case_timeout_s: float,
        deadline_s: float,
    ) -> RunOutcome:
        """Run ``cases`` in order against ``impl``; past the deadline the harness is killed."""
        dead = self.process is None or self.process.poll() is not None
        if dead or self.served >= self.restart_every:
            self.start()
        assert self.commands is not None
        started = time.monotonic()
        command = {
            "op": "run",
            "impl": impl,
            "cases": cases,
            "stop_at_first_failure": stop_at_first_failure,
            "request_timeout_s": request_timeout_s,
            "case_timeout_s": case_timeout_s,
        }
        self.commands.write(json.dumps(command) + "\n")
        self.commands.flush()
        self.served += 1
        found: list[CaseResult] = []
        done: dict[str, Any] | None = None
        deadline_passed = False
        for answer in self._lines(started + deadline_s):
            if answer is None:
                deadline_passed = True
                break
            if "case" in answer:
                found.append(CaseResult(**_as_case(answer["case"])))
            elif answer.get("done"):
                done = answer
                break
        tail = ""
        returncode = 0
        if done is None:  # past the deadline, or the harness died: never reuse it
            tail = self.stderr_tail()
            self.close()
            returncode = -1
        elif done["missing"]:
            tail = f"no such cases in the suite: {done['missing'][:5]}"
            returncode = -2
        elif done["teardown"]:
            tail = f"teardown after the last case: {done['teardown']}"
        return RunOutcome(
            cases=tuple(found),
            deadline_passed=deadline_passed,
            returncode=returncode,
            duration_s=time.monotonic() - started,
            stderr_tail=tail,
            expected=-1 if done is None else int(done["chosen"]),
            cpu_s=-1.0 if done is None else float(done["cpu_s"]),
        )


def _as_case(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "nodeid": data["nodeid"],
        "case_id": data["case_id"],
        "status": data["status"],
        "duration_s": float(data["duration_s"]),
        "rules": tuple(data["rules"]),
        "areas": tuple(data["areas"]),
        "message": data["message"],
    }


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)
