"""A mechanical mutation campaign: control, coverage, one task per mutant, on dask.distributed.

Steps (each kept in the campaign directory, so an interrupted campaign resumes):

1. ``snapshot/``: the pristine sources of ``aethel/`` (:class:`~conformance.mechanical.workspace.
   Snapshot`), taken on the first run; a resumed campaign serves this copy, whatever the working
   tree holds now.
2. ``control/``: the suite (performance cases aside) against the snapshot served over stdio,
   traced (:mod:`conformance.mechanical.coverage_map`): which cases pass on the reference, how long
   each takes, which lines each runs (``coverage.json``).
3. ``results.jsonl``: one line per finished mutant, appended as each finishes. Mutants already
   there are not run again; a campaign over more modules reuses them.

Each mutant is one task (:func:`run_mutant_task`), run on a ``distributed.LocalCluster`` by
default or on the cluster of ``--scheduler tcp://HOST:PORT``; ``serial`` runs them in this
process. A task's verdict depends only on the mutant, the snapshot and the harness (the suite hash
is checked on the worker), never on where or in which order it ran.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from aethel.catalog import spec_dir
from aethel.errors import UsageError
from conformance.mechanical.coverage_map import CoverageMap
from conformance.mechanical.execute import (
    PACKAGE_ROOT,
    RunOutcome,
    read_cases,
    run_cases,
    serve_command,
)
from conformance.mechanical.generate import (
    MechanicalMutant,
    apply_mutant,
    changed_line,
    definition_exclusion,
    enumerate_mutants,
    exclusion_of,
    module_paths,
)
from conformance.mechanical.harness import WarmHarness
from conformance.mechanical.operators import operator_names
from conformance.mechanical.workspace import Snapshot, Workspace
from conformance.report.environment import compute_suite_hash

FORMAT = "aethel-mechanical-campaign/2"
#: Performance cases measure speed, which these mutants are not about, and are slow.
MARKER = "not performance"
#: Verdicts. ``timeout`` is a kill (the mutant hung or crawled); ``error`` means the run itself
#: could not be judged (no report) and is retried on resume.
KILLED = frozenset({"killed", "timeout"})
VERDICTS = ("killed", "timeout", "survived", "no-coverage", "incompetent", "error")
#: Seconds a mutant's request may take: the reference's slowest standard request takes ~5 s.
REQUEST_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class MutantTask:
    """Everything a worker needs to judge one mutant (the snapshot travels once, scattered)."""

    mutant: dict[str, Any]
    cases: tuple[str, ...]
    direct: int
    budget_s: float
    case_timeout_s: float
    suite_hash: str
    #: ``warm`` (a warm harness per worker thread) or ``process`` (a pytest process per mutant).
    runner: str = "warm"
    #: The commit the campaign's snapshot and suite come from (written into the verdict).
    commit: str = ""


@cache
def _worker_suite_hash() -> str:
    return compute_suite_hash()


@cache
def _spec_dir() -> Path:
    return spec_dir()


@dataclass
class Slot:
    """What one running task uses: a warm harness and two workspaces (mutated, pristine)."""

    harness: WarmHarness
    mutant: Workspace
    pristine: Workspace


_SLOTS: list[Slot] = []
_SLOTS_LOCK = threading.Lock()
_SLOTS_MADE = [0]


@contextmanager
def slot(snapshot: Snapshot) -> Iterator[Slot]:
    """Lend a free slot of this process for ``snapshot`` (made on first use, then reused).

    Slots belong to the process, not to a thread: a worker's thread pool may replace its threads,
    and a new thread must not start a second harness while the first one idles.
    """
    with _SLOTS_LOCK:
        found = next((s for s in _SLOTS if s.mutant.snapshot.digest == snapshot.digest), None)
        if found is not None:
            _SLOTS.remove(found)
        else:
            _SLOTS_MADE[0] += 1
            number = _SLOTS_MADE[0]
    if found is None:
        base = Path(tempfile.gettempdir()) / f"aethel-mechanical-{snapshot.digest[:12]}"
        name = f"{os.getpid()}-{number}"
        found = Slot(
            WarmHarness(base / f"{name}-harness"),
            Workspace(base / name, snapshot, _spec_dir()),
            Workspace(base / f"{name}-pristine", snapshot, _spec_dir()),
        )
    try:
        yield found
    finally:
        with _SLOTS_LOCK:
            _SLOTS.append(found)


def close_slots() -> None:
    """Stop every warm harness of this process (the end of a serial campaign, or a test)."""
    with _SLOTS_LOCK:
        for each in _SLOTS:
            each.harness.close()
        _SLOTS.clear()


def _run(task: MutantTask, place: Slot, root: Path, cases: list[str], *, stop: bool) -> RunOutcome:
    """Run ``cases`` against the implementation served from ``root`` with the task's runner."""
    if task.runner == "process":
        return run_cases(
            root,
            cases,
            root.with_name(root.name + "-run"),
            stop_at_first_failure=stop,
            request_timeout_s=REQUEST_TIMEOUT_S,
            case_timeout_s=task.case_timeout_s,
            deadline_s=task.budget_s,
        )
    return place.harness.run(
        f"stdio:{serve_command(root)}",
        cases,
        stop_at_first_failure=stop,
        request_timeout_s=REQUEST_TIMEOUT_S,
        case_timeout_s=task.case_timeout_s,
        deadline_s=task.budget_s,
    )


def _judge(task: MutantTask, place: Slot, mutated: str, result: dict[str, Any]) -> RunOutcome:
    """Run the task's cases against the mutant; fill ``result``'s verdict fields."""
    mutant = MechanicalMutant.from_json(task.mutant)
    with place.mutant.mutated(mutant.module, mutated):
        outcome = _run(task, place, place.mutant.root, list(task.cases), stop=True)
    result["cases_run"] = len(outcome.cases)
    failure = outcome.first_failure()
    if failure is not None:
        result["verdict"] = "timeout" if failure.status == "timeout" else "killed"
        result["killed_by"] = failure.case_id
        result["status"] = failure.status
        result["message"] = failure.message
    elif outcome.deadline_passed:
        result["verdict"] = "timeout"
        result["message"] = f"the run passed its {task.budget_s:.0f} s deadline"
    elif not outcome.complete(len(task.cases)):
        result["verdict"] = "error"
        result["message"] = (
            f"{len(outcome.cases)} of {len(task.cases)} cases reported "
            f"(exit {outcome.returncode}): {outcome.stderr_tail[-600:]}"
        )
    else:
        result["verdict"] = "survived"
    return outcome


def _reference_passes(task: MutantTask, place: Slot, nodeid: str) -> RunOutcome:
    """Run ``nodeid`` alone on a fresh pristine implementation (it must pass: a kill confirmed)."""
    return _run(task, place, place.pristine.root, [nodeid], stop=True)


def _passed(outcome: RunOutcome) -> bool:
    return len(outcome.cases) == 1 and outcome.cases[0].status == "pass"


def _fails_again(task: MutantTask, place: Slot, mutated: str, nodeid: str) -> RunOutcome:
    """Run the case that timed out against the mutant once more, alone."""
    mutant = MechanicalMutant.from_json(task.mutant)
    with place.mutant.mutated(mutant.module, mutated):
        return _run(task, place, place.mutant.root, [nodeid], stop=True)


def _add_cpu(result: dict[str, Any], outcome: RunOutcome) -> None:
    if outcome.cpu_s >= 0:
        result["cpu_s"] = round(result["cpu_s"] + outcome.cpu_s, 3)


def run_mutant_task(task: MutantTask, snapshot: Snapshot) -> dict[str, Any]:
    """Judge one mutant on this worker; return its result line.

    A kill counts only if the killing case then passes against a freshly started pristine
    implementation in the same harness (``confirmed``): a case that fails because the machine
    is busy, or because it needs a case the selection left out, kills nothing. A kill by timeout
    must also time out (or fail) again when the case is run alone against the mutant. An
    unconfirmed kill is run once more; unconfirmed again, the verdict is ``error`` (retried on
    resume). ``cpu_s`` adds the CPU time of every run (harness and implementations; the warm
    runner measures it).
    """
    mutant = MechanicalMutant.from_json(task.mutant)
    started = time.monotonic()
    result: dict[str, Any] = {
        "id": mutant.id,
        "module": mutant.module,
        "operator": mutant.operator,
        "kind": mutant.kind,
        "line": mutant.line,
        "definition": mutant.definition,
        "original": mutant.original,
        "mutated": "",
        "verdict": "",
        "killed_by": None,
        "status": None,
        "message": "",
        "cases_selected": len(task.cases),
        "cases_direct": task.direct,
        "cases_run": 0,
        "confirmed": None,
        "duration_s": 0.0,
        "cpu_s": 0.0,
        "runner": task.runner,
        "commit": task.commit,
        "worker": f"{socket.gethostname()}:{os.getpid()}",
    }
    source = snapshot.source(mutant.module)
    mutated = apply_mutant(source, mutant)
    if mutated is None:
        result["verdict"] = "incompetent"
        return result
    result["mutated"] = changed_line(source, mutated)[1]
    if not task.cases:
        result["verdict"] = "no-coverage"
        return result
    if _worker_suite_hash() != task.suite_hash:
        result["verdict"] = "error"
        result["message"] = "this worker's harness differs from the campaign's (suite hash)"
        return result
    with slot(snapshot) as place:
        for attempt in (1, 2):
            outcome = _judge(task, place, mutated, result)
            _add_cpu(result, outcome)
            failure = outcome.first_failure()
            if failure is None:
                break
            check = _reference_passes(task, place, failure.nodeid)
            _add_cpu(result, check)
            result["confirmed"] = _passed(check)
            if result["confirmed"] and failure.status == "timeout":
                # A busy machine can make a case time out: it must time out (or fail) again.
                again = _fails_again(task, place, mutated, failure.nodeid)
                _add_cpu(result, again)
                result["confirmed"] = again.first_failure() is not None
            if result["confirmed"]:
                break
            if attempt == 2:
                result["message"] = (
                    f"not trusted: {failure.case_id} failed against the mutant, then passed "
                    f"against it or failed against the reference too ({result['message'][:200]})"
                )
                result["verdict"] = "error"
    result["duration_s"] = round(time.monotonic() - started, 3)
    return result


# ----------------------------------------------------------------------------------------------
# The campaign directory


def git_commit(root: Path) -> tuple[str, bool]:
    """Return the commit of ``root`` and whether ``aethel/`` or ``conformance/`` differ from it."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "aethel", "conformance"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown", True
    return commit, bool(dirty)


@dataclass
class Campaign:
    """A campaign directory: its record, snapshot, control and results."""

    directory: Path
    record: dict[str, Any]
    snapshot: Snapshot
    passing: dict[str, float]
    case_info: dict[str, dict[str, Any]]
    coverage: CoverageMap
    excluded_positions: Counter[str] = field(default_factory=Counter)
    #: Listed as excluded, but the control's implementation ran them: mutated after all.
    voided: list[str] = field(default_factory=list)

    @property
    def results_file(self) -> Path:
        return self.directory / "results.jsonl"

    def results(self) -> dict[str, dict[str, Any]]:
        """Return the finished results by mutant ID (the last line of an ID wins)."""
        found: dict[str, dict[str, Any]] = {}
        if self.results_file.exists():
            for line in self.results_file.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    row = json.loads(line)
                    found[row["id"]] = row
        return found

    def append(self, result: dict[str, Any]) -> None:
        with self.results_file.open("a", encoding="utf-8") as sink:
            sink.write(json.dumps(result, sort_keys=True) + "\n")

    def mutants(self, modules: Iterable[str]) -> list[MechanicalMutant]:
        """Return the mutants of ``modules`` (all: every module not excluded).

        Positions left out as type-only or repr-only, or inside a listed definition
        (:data:`~conformance.mechanical.generate.EXCLUDED_DEFINITIONS`), are counted in
        ``excluded_positions``; a listed module or definition the control's implementation ran
        is mutated after all and named in ``voided``.
        """
        sources = dict(self.snapshot.files)
        self.excluded_positions.clear()
        self.voided = sorted(
            p for p in sources if exclusion_of(p) is not None and self.coverage.reached(p)
        )
        found = enumerate_mutants(
            sources, module_paths(list(sources), modules, self.voided), self.excluded_positions
        )
        kept: list[MechanicalMutant] = []
        voided: set[str] = set()
        for mutant in found:
            reason = definition_exclusion(mutant.module, mutant.definition)
            if reason is None:
                kept.append(mutant)
            elif self._body_ran(mutant):
                voided.add(f"{mutant.module}:{mutant.definition}")
                kept.append(mutant)
            else:
                self.excluded_positions[reason] += 1
        self.voided += sorted(voided)
        return kept

    def _body_ran(self, mutant: MechanicalMutant) -> bool:
        """Return True if the control's implementation ran a line of the body of the function
        enclosing ``mutant`` (its ``def`` line runs at import and does not count)."""
        first, last = mutant.scope
        if (first, last) == (0, 0):
            return True  # not inside a function: only functions are listed
        ran = set(self.coverage.lines.get(mutant.module, {})) | self.coverage.startup.get(
            mutant.module, set()
        )
        return any(first < line <= last for line in ran)

    def task(
        self, mutant: MechanicalMutant, *, runner: str = "warm", enclosing: bool = False
    ) -> MutantTask:
        """Return the task of ``mutant`` (``enclosing``: the wider selection of format 1)."""
        cases, direct = self.coverage.select(mutant, self.passing, enclosing=enclosing)
        expected = sum(self.passing[c] for c in cases)
        slowest = max((self.passing[c] for c in cases), default=0.0)
        return MutantTask(
            mutant=mutant.to_json(),
            cases=tuple(cases),
            direct=direct,
            budget_s=round(120.0 + 5.0 * expected + 1.0 * len(cases), 1),
            case_timeout_s=round(max(60.0, 10.0 * slowest), 1),
            suite_hash=self.record["suite_hash"],
            runner=runner,
            commit=self.record["commit"],
        )


def open_campaign(directory: Path, *, fresh: bool = False, log: Callable[[str], None]) -> Campaign:
    """Open (or start) the campaign in ``directory``: snapshot, control run and coverage map."""
    record_file = directory / "campaign.json"
    suite_hash = compute_suite_hash()
    if fresh and directory.exists():
        import shutil

        shutil.rmtree(directory)
    if record_file.exists():
        record = json.loads(record_file.read_text(encoding="utf-8"))
        if record.get("format") != FORMAT:
            raise UsageError(
                f"{directory}: a campaign of format {record.get('format')!r}, not {FORMAT!r} "
                "(the case selection changed): start again with --fresh or another "
                "--campaign-dir, or bring its survivors up to date with --recheck"
            )
        snapshot = Snapshot.take(directory / "snapshot")
        if snapshot.digest != record["snapshot"]:
            raise UsageError(f"{directory}: the snapshot was changed; start again with --fresh")
        if record["suite_hash"] != suite_hash:
            raise UsageError(
                f"{directory}: the suite changed since this campaign started (suite hash "
                f"{record['suite_hash'][:12]} -> {suite_hash[:12]}); its results would not be "
                "comparable: start again with --fresh or another --campaign-dir"
            )
        log(f"resuming the campaign in {directory} (commit {record['commit'][:12]})")
    else:
        directory.mkdir(parents=True, exist_ok=True)
        snapshot = Snapshot.take(PACKAGE_ROOT)
        snapshot.write(directory / "snapshot")
        commit, dirty = git_commit(PACKAGE_ROOT)
        record = {
            "format": FORMAT,
            "commit": commit,
            "dirty": dirty,
            "snapshot": snapshot.digest,
            "suite_hash": suite_hash,
            "operators": list(operator_names()),
            "started": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    control_dir = directory / "control"
    coverage_file = control_dir / "coverage.json"
    if not coverage_file.exists():
        log("control: the suite (not performance) against the pristine snapshot, traced")
        workspace = Workspace(directory / "control-workspace", snapshot, _spec_dir())
        trace_dir = control_dir / "trace"
        trace_dir.mkdir(parents=True, exist_ok=True)
        for old in trace_dir.glob(".coverage*"):
            old.unlink()
        outcome = run_cases(
            workspace.root,
            None,
            control_dir,
            stop_at_first_failure=False,
            request_timeout_s=120.0,
            case_timeout_s=600.0,
            deadline_s=3 * 3600.0,
            trace=trace_dir / ".coverage",
            marker=MARKER,
        )
        if not outcome.cases:
            raise UsageError(f"the control run produced no report:\n{outcome.stderr_tail}")
        CoverageMap.from_data(trace_dir, workspace.root).save(coverage_file)
        statuses = Counter(c.status for c in outcome.cases)
        record["control"] = {
            "duration_s": round(outcome.duration_s, 1),
            "statuses": dict(sorted(statuses.items())),
        }
        log(f"control: {dict(statuses)} in {outcome.duration_s:.0f} s")
    record_file.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    cases = read_cases(control_dir / "report.jsonl")
    passing = {c.nodeid: c.duration_s for c in cases if c.status == "pass"}
    info = {c.nodeid: {"case_id": c.case_id, "rules": c.rules, "areas": c.areas} for c in cases}
    return Campaign(directory, record, snapshot, passing, info, CoverageMap.load(coverage_file))


# ----------------------------------------------------------------------------------------------
# Running the tasks


class Progress:
    """A progress line: every 30 s when stderr is not a terminal, every 2 s when it is."""

    def __init__(
        self, total: int, done: int, log: Callable[[str], None], noun: str = "mutants"
    ) -> None:
        self.total, self.done, self.log, self.noun = total, done, log, noun
        self.counts: Counter[str] = Counter()
        self.started = time.monotonic()
        self.ran = 0
        self.last = 0.0
        self.printed = -1
        self.every = 2.0 if sys.stderr.isatty() else 30.0

    def add(self, result: dict[str, Any]) -> None:
        self.done += 1
        self.ran += 1
        self.counts[result["verdict"]] += 1
        self.tick()

    def tick(self, force: bool = False) -> None:
        now = time.monotonic()
        if (not force and now - self.last < self.every) or self.printed == self.done:
            return
        self.last, self.printed = now, self.done
        elapsed = now - self.started
        rate = elapsed / self.ran if self.ran else 0.0
        left = (self.total - self.done) * rate
        counts = ", ".join(f"{v} {k}" for k, v in sorted(self.counts.items()))
        self.log(
            f"mechanical: {self.done}/{self.total} {self.noun} ({counts or 'none yet'}); "
            f"{rate:.1f} s wall each, about {left / 60:.0f} min left"
        )


def run_tasks(
    campaign: Campaign,
    mutants: list[MechanicalMutant],
    *,
    scheduler: str,
    workers: int,
    log: Callable[[str], None],
    runner: str = "warm",
    enclosing: bool = False,
) -> None:
    """Run every mutant of ``mutants`` not yet in the results; append each result as it ends."""
    done = campaign.results()
    todo = [m for m in mutants if done.get(m.id, {}).get("verdict") in (None, "error")]
    progress = Progress(len(mutants), len(mutants) - len(todo), log)
    log(
        f"{len(mutants)} mutants, {len(mutants) - len(todo)} already judged, {len(todo)} to run "
        f"({'in this process' if scheduler == 'serial' else scheduler})"
    )
    tasks = [campaign.task(m, runner=runner, enclosing=enclosing) for m in todo]
    if scheduler == "serial":
        try:
            for task in tasks:
                result = run_mutant_task(task, campaign.snapshot)
                campaign.append(result)
                progress.add(result)
        finally:
            close_slots()
        progress.tick(force=True)
        return
    _run_on_dask(campaign, tasks, scheduler, workers, progress)
    progress.tick(force=True)


def _run_on_dask(
    campaign: Campaign, tasks: list[MutantTask], scheduler: str, workers: int, progress: Progress
) -> None:
    def keep(result: dict[str, Any]) -> None:
        campaign.append(result)
        progress.add(result)

    with dask_client(scheduler, workers) as client:
        snapshot = client.scatter(campaign.snapshot, broadcast=True)
        futures = [
            client.submit(run_mutant_task, t, snapshot, key=f"mutant-{i}", pure=False)
            for i, t in enumerate(tasks)
        ]
        keep_as_done(futures, keep, progress.tick)


def _distributed() -> Any:
    """dask.distributed, imported when a campaign runs on dask (it is slow to import) and
    dynamically typed (it has no annotations)."""
    import distributed

    return distributed


@contextmanager
def dask_client(scheduler: str, workers: int) -> Iterator[Any]:
    """Yield a dask client: of a new LocalCluster of ``workers`` single-threaded processes for
    ``scheduler`` "local", else of the scheduler at that address; closed (with the cluster it
    started) on exit. The mutation campaign and the simulator's seed sweep both run on it."""
    distributed = _distributed()
    cluster: Any = None
    if scheduler == "local":
        cluster = distributed.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client: Any = distributed.Client(cluster)
    else:
        client = distributed.Client(scheduler)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def keep_as_done(
    futures: Iterable[Any], keep: Callable[[Any], None], tick: Callable[[], None]
) -> None:
    """Hand each future's result to ``keep`` as soon as it is done, in the order they finish;
    call ``tick`` (the progress line) at least every 5 s until all are done."""
    wait = _distributed().wait
    pending = set(futures)
    while pending:
        try:
            done = wait(pending, timeout=5, return_when="FIRST_COMPLETED").done
        except TimeoutError:  # nothing finished within 5 s: show progress, wait again
            done = set()
        for future in done:
            pending.discard(future)
            keep(future.result())
        tick()


def summary_rows(results: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Count results by verdict."""
    counts = Counter(r["verdict"] for r in results)
    return {v: counts.get(v, 0) for v in VERDICTS}


def as_record(task: MutantTask) -> dict[str, Any]:
    """A task as JSON (for debugging and tests)."""
    return asdict(task)
