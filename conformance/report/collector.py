"""Pytest plugin that turns test reports into the JSON-lines run report, with progress.

Progress is a bar on a terminal; when standard output is not a terminal (a CI log), a line every
30 seconds (:class:`aethel.progress.Heartbeat`): cases done of the total, statuses so far, the
case running now and the time elapsed.

Loaded with ``-p conformance.report.collector --report-jsonl PATH``. It runs in the controlling
process only (with pytest-xdist, the workers send their reports here), so it sees every case
exactly once whatever ``-n`` is. The case metadata (case ID, rules, level, status, measurements)
comes from :mod:`conformance.plugin` through each report's ``user_properties``.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, TextIO, cast

import pytest
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from aethel.progress import Heartbeat
from conformance.adapters.loader import load_implementation
from conformance.expectations import Expectations, load_expectations
from conformance.plugin import load_options
from conformance.report.environment import environment_info, suite_info
from conformance.report.model import (
    STATUSES,
    Case,
    Filters,
    Header,
    ImplementationInfo,
    Measurement,
    Status,
    compute_footer,
    write_report,
)
from conformance.report.text import visible

MESSAGE_LIMIT = 4000


def _uncaptured() -> tuple[TextIO, bool]:
    """Return standard error, and whether standard output is a terminal, as they are before
    pytest captures them: this plugin is imported (``-p``) before capturing starts, and
    progress written to the captured streams would never be seen."""
    try:
        stream = os.fdopen(os.dup(2), "w", buffering=1, encoding="utf-8", errors="replace")
    except OSError:  # no standard error at all
        return sys.stderr, False
    return stream, os.isatty(1)


_STDERR, _STDOUT_IS_TERMINAL = _uncaptured()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("aethel-conformance-report", "Aethel conformance report")
    group.addoption("--report-jsonl", default=None, help="write the JSON-lines run report here")
    group.addoption("--expectations", default=None, help="known failures of this implementation")
    group.addoption("--no-progress", action="store_true", default=False, help="no progress bar")


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("--report-jsonl")
    if path and not hasattr(config, "workerinput"):
        config.pluginmanager.register(Collector(config, Path(path)), "aethel-report-collector")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def describe_implementation(config: pytest.Config) -> tuple[ImplementationInfo, list[str]]:
    """Load the implementation once to learn its name, version and capabilities."""
    spec = config.getoption("--impl")
    try:
        implementation = load_implementation(spec, load_options(config))
    except Exception as exc:  # the cases will report the failure too; keep the header honest
        return ImplementationInfo(
            spec=spec, name="(failed to load)", version="?", capabilities=[]
        ), [f"loading {spec!r} failed: {type(exc).__name__}: {exc}"]
    try:
        info = ImplementationInfo(
            spec=spec,
            name=implementation.name,
            version=implementation.version,
            capabilities=sorted(implementation.capabilities),
            protocol=getattr(implementation, "protocol_version", None),
        )
    finally:
        implementation.close()
    return info, []


class Collector:
    """Gather the phases of each case, decide its status and write the report at the end."""

    def __init__(self, config: pytest.Config, path: Path) -> None:
        self.config = config
        self.path = path
        self.phases: dict[str, list[pytest.TestReport]] = {}
        self.cases: list[Case] = []
        self.counts: Counter[str] = Counter()
        self.started = time.perf_counter()
        self.progress: Progress | None = None
        self.task: Any = None
        self.total = 0
        self.current = ""
        self.heartbeat: Heartbeat | None = None
        expectations_path = config.getoption("--expectations")
        self.expectations = (
            load_expectations(Path(expectations_path)) if expectations_path else Expectations()
        )
        self.header = self._header(expectations_path)

    def _header(self, expectations_path: str | None) -> Header:
        config = self.config
        filters = Filters(
            req=list(config.getoption("--req")),
            area=list(config.getoption("--area")),
            capability=list(config.getoption("--capability")),
            case=list(config.getoption("--case")),
            keyword=config.getoption("keyword") or None,
            marker=config.getoption("markexpr") or None,
        )
        info, problems = describe_implementation(config)
        expected_name = self.expectations.implementation
        if expected_name and expected_name != info.name:
            raise pytest.UsageError(f"expectation file is for {expected_name!r}, not {info.name!r}")
        workers = config.getoption("numprocesses", None) or 0
        return Header(
            suite=suite_info(),
            implementation=info,
            environment=environment_info(),
            seed=config.getoption("--seed"),
            filters=filters,
            full_run=filters.is_empty(),
            workers=int(workers) if str(workers).isdigit() else 0,
            options={
                "validate_protocol": config.getoption("--validate-protocol"),
                "startup_timeout_s": config.getoption("--startup-timeout"),
                "request_timeout_s": config.getoption("--request-timeout"),
                "case_timeout_s": config.getoption("--case-timeout"),
                "scale": config.getoption("--scale"),
                "strict": config.getoption("--strict-conformance"),
                "hypothesis_profile": os.environ.get("HYPOTHESIS_PROFILE", "ci"),
                "require_capabilities": list(config.getoption("--require-capability")),
                "problems": problems,
            },
            expectations=expectations_path,
            started=_now(),
        )

    # ------------------------------------------------------------------ progress

    def _describe(self) -> str:
        done = sum(self.counts.values())
        shown = " ".join(f"{s}={n}" for s, n in sorted(self.counts.items()))
        return f"{done}/{self.total} cases ({shown or 'none yet'}), now {self.current or '-'}"

    def _start_progress(self, total: int) -> None:
        self.total = total
        if self.progress is not None or self.heartbeat is not None:
            return
        if not _STDOUT_IS_TERMINAL:
            impl = self.header.implementation
            self.heartbeat = Heartbeat(
                f"progress of {impl.spec}", self._describe, stream=_STDERR, enabled=True
            ).start()
            return
        if self.config.getoption("--no-progress"):
            return
        console = Console(file=_STDERR)
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.progress.start()
        impl = self.header.implementation
        # Name the path too: the reference in process and over stdio have the same name.
        via = impl.spec.partition(":")[0] if impl.spec != "reference" else "in process"
        label = escape(visible(f"{impl.name} ({via})", keep=""))
        self.task = self.progress.add_task(label, total=total, counts="")

    def _advance(self) -> None:
        if self.progress is None:
            return
        shown = " ".join(f"{s}={n}" for s, n in sorted(self.counts.items()))
        self.progress.update(self.task, advance=1, counts=shown)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if not self.config.pluginmanager.hasplugin("dsession"):
            self._start_progress(len(session.items))

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        self._start_progress(len(ids))

    # ------------------------------------------------------------------ cases

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self._add(
                Case(
                    case_id=f"collection::{report.nodeid or 'session'}",
                    nodeid=report.nodeid,
                    rules=[],
                    level="MUST",
                    status="error",
                    duration_s=0.0,
                    message=f"collection failed: {report.longreprtext[-MESSAGE_LIMIT:]}",
                )
            )

    def pytest_runtest_logstart(self, nodeid: str, location: tuple[str, int, str]) -> None:
        module, _, name = nodeid.rpartition("/")[2].partition(".py::")
        self.current = f"{module.removeprefix('test_')}::{name.removeprefix('test_')}"

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.phases.setdefault(report.nodeid, []).append(report)
        if report.when == "teardown":
            self._add(self._case(self.phases.pop(report.nodeid)))

    def _add(self, case: Case) -> None:
        known = self.expectations.known_failures.get(case.case_id)
        if known:
            case = case.model_copy(update={"known_failure": known})
        self.cases.append(case)
        self.counts[case.status] += 1
        self._advance()

    def _case(self, reports: list[pytest.TestReport]) -> Case:
        props: dict[str, Any] = {}
        measurements: list[Measurement] = []
        status: Status = "pass"
        message: str | None = None
        for report in reports:
            phase_props = dict(report.user_properties)
            for key, value in phase_props.items():
                if key != "measurement":
                    props.setdefault(key, value)
            # Each phase's report copies the case's properties so far: keep the fullest list.
            found = [v for k, v in report.user_properties if k == "measurement"]
            if len(found) > len(measurements):
                measurements = [Measurement.model_validate(v) for v in found]
            if status != "pass":
                continue
            if report.skipped:
                status = "skip"
                message = _skip_reason(report)
            elif report.failed:
                recorded = phase_props.get("status")
                status = (
                    cast(Status, recorded)
                    if recorded in STATUSES
                    else ("error" if report.when != "call" else "fail")
                )
                recorded_message = phase_props.get("message")
                message = (
                    str(recorded_message)
                    if recorded_message
                    else report.longreprtext[-MESSAGE_LIMIT:]
                )
                if report.when == "teardown":
                    message = f"teardown: {message}"
        nodeid = reports[0].nodeid
        return Case(
            case_id=props.get("case_id", nodeid),
            nodeid=nodeid,
            rules=props.get("rules", []),
            areas=props.get("areas", []),
            capabilities=props.get("capabilities", []),
            level=props.get("level", "MUST"),
            status=status,
            duration_s=round(sum(r.duration for r in reports), 6),
            message=message,
            where=props.get("where"),
            measurements=measurements,
            divergence=props.get("divergence"),
            impl_stderr=props.get("impl_stderr"),
            impl_events=props.get("impl_events", []),
            impl_transcript=props.get("impl_transcript", []),
            generated=props.get("generated"),
            notes=props.get("notes", []),
        )

    # ------------------------------------------------------------------ end

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        for nodeid, reports in list(self.phases.items()):  # a worker died mid-case
            self._add(self._case(reports))
            self.phases.pop(nodeid)
        if self.progress is not None:
            self.progress.stop()
        if self.heartbeat is not None:
            self.heartbeat.stop()
        seen = {c.case_id for c in self.cases}
        stale = (
            [i for i in self.expectations.known_failures if i not in seen]
            if self.header.full_run
            else []
        )
        footer = compute_footer(
            self.header,
            self.cases,
            duration_s=time.perf_counter() - self.started,
            finished=_now(),
            stale_expectations=stale,
        )
        write_report(self.path, self.header, self.cases, footer)


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)
