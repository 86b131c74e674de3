"""Pytest plugin of the conformance suite (loaded by ``conformance/suite/conftest.py``).

It gives every case what the report needs, in the process that runs the case (a pytest-xdist
worker or the only process):

* options: ``--impl``, ``--seed``, selection (``--req``, ``--area``, ``--capability``), timeouts;
* a stable case ID (``area-file::function[param]``) and the case's rule IDs, level (MUST if any
  cited rule is MUST) and capabilities, attached as ``user_properties`` so they travel to the
  report collector with every test report;
* fixtures: the implementation under test (one per process), one API fixture per capability that
  skips with a reason when the implementation does not declare it, the seed, and ``measure``,
  which checks a measured value against the catalog's threshold;
* the case status: pass, fail (wrong answer, or a valid input rejected), error (the implementation
  crashed, broke the protocol or raised), timeout, skip, unknown (:class:`Inconclusive`);
* the implementation's stderr and restart notes, attached to the case they happened in, and
  the request/response transcript of a case that did not pass (subprocess implementations).
"""

from __future__ import annotations

import math
import signal
import traceback
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from aethel.catalog import AREAS, Catalog, Threshold, load_catalog
from conformance.adapters.api import Implementation
from conformance.adapters.errors import (
    ImplementationFailure,
    Rejected,
    RequestTimeout,
)
from conformance.adapters.load_options import LoadOptions
from conformance.adapters.loader import load_implementation
from conformance.capabilities import ALL as ALL_CAPABILITIES
from conformance.capabilities import declared_consensus_versions
from conformance.checks import Divergence, Inconclusive
from conformance.cpu_witness import FOREIGN_SHARE_LIMIT, CpuWitness
from conformance.profiles import register_profiles
from conformance.report.model import SCALE_SKIP_PREFIX
from conformance.traceability import cited_ids

SUITE_DIR = Path(__file__).resolve().parent / "suite"
IMPL_KEY = pytest.StashKey[Implementation]()
#: Set on a case whose setup or call did not pass: its transcript goes into the report.
UNSETTLED_KEY = pytest.StashKey[bool]()
CASE_TIMEOUT_S = 600.0
#: Prefix of the skip reason of a case that runs only at a larger --scale.
SCALE_SKIP = SCALE_SKIP_PREFIX


class CaseTimeout(Exception):
    """A case ran past its time limit (status ``timeout``)."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("aethel-conformance", "Aethel conformance suite")
    group.addoption("--impl", default="reference", help="implementation under test")
    group.addoption("--seed", type=int, default=0, help="root seed of randomized scenarios")
    group.addoption("--req", action="append", default=[], help="only cases citing this rule ID")
    group.addoption("--area", action="append", default=[], help="only cases of this spec area")
    group.addoption(
        "--capability", action="append", default=[], help="only cases needing this capability"
    )
    group.addoption(
        "--case", action="append", default=[], help="only the case with this stable case ID"
    )
    group.addoption(
        "--strict-conformance",  # pytest's own --strict means --strict-markers
        action="store_true",
        default=False,
        help="a skipped or inconclusive MUST case fails the run",
    )
    group.addoption(
        "--require-capability",
        action="append",
        default=[],
        help="fail the run unless the implementation declares this capability",
    )
    group.addoption("--case-timeout", type=float, default=CASE_TIMEOUT_S, help="seconds per case")
    group.addoption(
        "--validate-protocol",
        action="store_true",
        default=False,
        help="check every subprocess message against its JSON Schema",
    )
    group.addoption(
        "--scale",
        choices=("standard", "full"),
        default="standard",
        help="full also runs the 10,000-validator simulations and the 1,000,000-key sync "
        "(tens of minutes)",
    )
    group.addoption("--startup-timeout", type=float, default=20.0, help="seconds to hello")
    group.addoption("--request-timeout", type=float, default=60.0, help="seconds per request")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "capability(*names): capabilities the case needs (skipped without them)"
    )
    config.addinivalue_line("markers", "performance: a measured performance check")
    config.addinivalue_line(
        "markers",
        "consensus_version(n): runs only for an implementation that declares consensus protocol "
        "version n (skipped with the reason otherwise)",
    )
    config.addinivalue_line(
        "markers", "scale(level, what=...): runs only at --scale level (full); what it runs"
    )
    register_profiles()


def load_options(config: pytest.Config) -> LoadOptions:
    """Return how to load the implementation, from the command line."""
    return LoadOptions(
        startup_timeout_s=config.getoption("--startup-timeout"),
        request_timeout_s=config.getoption("--request-timeout"),
        validate_protocol=config.getoption("--validate-protocol"),
    )


# --------------------------------------------------------------------------- case identity


def compute_case_id(item: pytest.Item) -> str:
    """Return the stable case ID: ``file::function[param]`` without ``test_`` prefixes.

    It depends only on the suite's file and function names and the explicit parameter IDs, so it
    is the same across runs, machines, implementations and worker counts.
    """
    try:
        relative = item.path.relative_to(SUITE_DIR).with_suffix("")
        parts = [p.removeprefix("test_") for p in relative.parts]
    except ValueError:
        parts = [item.path.stem.removeprefix("test_")]
    name = item.name.removeprefix("test_")
    cls = getattr(item, "cls", None)
    if cls is not None:
        name = f"{cls.__name__.removeprefix('Test')}.{name}"
    return f"{'/'.join(parts)}::{name}"


def is_suite_item(item: pytest.Item) -> bool:
    """Return True for a case of the conformance suite (other tests may share the session)."""
    return item.path.is_relative_to(SUITE_DIR)


def case_capabilities(item: pytest.Item) -> list[str]:
    """Return the capabilities the case's ``capability`` markers name, in order."""
    names: list[str] = []
    for mark in item.iter_markers(name="capability"):
        for name in mark.args:
            if name not in ALL_CAPABILITIES:
                raise pytest.UsageError(f"{item.nodeid}: unknown capability {name!r}")
            if name not in names:
                names.append(name)
    return names


def generated_by(item: pytest.Item) -> str | None:
    """Return how the case's input is generated: ``hypothesis``, ``seed`` (root seed) or None."""
    function = getattr(item, "obj", None)
    if getattr(function, "is_hypothesis_test", False):
        return "hypothesis"
    if "seed" in getattr(item, "fixturenames", ()):
        return "seed"
    return None


def case_level(catalog: Catalog, rules: list[str]) -> str:
    """Return MUST if any cited rule is a MUST, else SHOULD (no rules: MUST, to be safe)."""
    if not rules or any(catalog[r].level == "MUST" for r in rules):
        return "MUST"
    return "SHOULD"


def _selected(
    case_id: str, item_rules: list[str], areas: set[str], caps: list[str], config: pytest.Config
) -> bool:
    wanted_rules = set(config.getoption("--req"))
    wanted_areas = set(config.getoption("--area"))
    wanted_caps = set(config.getoption("--capability"))
    wanted_cases = set(config.getoption("--case"))
    if wanted_cases and case_id not in wanted_cases:
        return False
    if wanted_rules and not wanted_rules & set(item_rules):
        return False
    if wanted_areas and not wanted_areas & areas:
        return False
    return not (wanted_caps and not wanted_caps & set(caps))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    catalog = load_catalog()
    for option, known in (
        ("--req", catalog.ids()),
        ("--area", AREAS),
        ("--capability", ALL_CAPABILITIES),
        ("--require-capability", ALL_CAPABILITIES),
    ):
        unknown = sorted(set(config.getoption(option)) - set(known))
        if unknown:
            raise pytest.UsageError(f"{option}: unknown {unknown}; valid: {', '.join(known)}")
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    seen: dict[str, str] = {}
    for item in items:
        if not is_suite_item(item):
            kept.append(item)
            continue
        rules = cited_ids(item)
        caps = case_capabilities(item)
        areas: set[str] = {catalog[r].area for r in rules}
        case_id = compute_case_id(item)
        if case_id in seen:
            raise pytest.UsageError(f"case ID {case_id} of {item.nodeid} repeats {seen[case_id]}")
        seen[case_id] = item.nodeid
        item.user_properties.extend(
            [
                ("case_id", case_id),
                ("rules", rules),
                ("areas", sorted(areas)),
                ("capabilities", caps),
                ("level", case_level(catalog, rules)),
                ("generated", generated_by(item)),
            ]
        )
        (kept if _selected(case_id, rules, areas, caps, config) else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def impl(request: pytest.FixtureRequest) -> Iterator[Implementation]:
    """The implementation under test (one per worker process)."""
    config = request.config
    implementation = load_implementation(config.getoption("--impl"), load_options(config))
    config.stash[IMPL_KEY] = implementation
    yield implementation
    implementation.close()


@pytest.fixture(autouse=True)
def _capability_gate(request: pytest.FixtureRequest) -> None:
    """Skip a case whose capabilities the implementation does not declare (with the reason)."""
    for mark in request.node.iter_markers(name="scale"):
        if request.config.getoption("--scale") != mark.args[0]:
            what = mark.kwargs.get("what", "10,000-validator runs")
            pytest.skip(f"{SCALE_SKIP} needs --scale {mark.args[0]} ({what})")
    caps = case_capabilities(request.node)
    if not caps:
        return
    implementation: Implementation = request.getfixturevalue("impl")
    missing = [c for c in caps if c not in implementation.capabilities]
    if missing:
        pytest.skip(f"{implementation.name} does not declare capability {', '.join(missing)}")
    declared = declared_consensus_versions(implementation)
    for mark in request.node.iter_markers(name="consensus_version"):
        if mark.args[0] not in declared:
            pytest.skip(
                f"{implementation.name} declares consensus protocol version(s) "
                f"{', '.join(map(str, sorted(declared)))}; this case needs version {mark.args[0]} "
                "(hello member consensus_versions)"
            )


@pytest.fixture(scope="session")
def seed(request: pytest.FixtureRequest) -> int:
    """The root seed of randomized scenarios (``--seed``), recorded in the report header."""
    value: int = request.config.getoption("--seed")
    return value


def catalog_threshold(rule_id: str, metric: str) -> Threshold:
    """Return the threshold ``metric`` of ``rule_id`` from the catalog (its only copy)."""
    rule = load_catalog()[rule_id]
    for threshold in rule.thresholds:
        if threshold.metric == metric:
            return threshold
    known = ", ".join(t.metric for t in rule.thresholds) or "none"
    raise LookupError(f"catalog has no threshold {metric!r} for {rule_id} (it has: {known})")


@dataclass
class Measure:
    """Record measured values of a case and check them against the catalog's thresholds."""

    node: pytest.Item
    witness: CpuWitness = field(default_factory=CpuWitness)

    def threshold(self, rule_id: str, metric: str) -> Threshold:
        """Return the catalog threshold ``metric`` of ``rule_id``."""
        return catalog_threshold(rule_id, metric)

    def check(
        self,
        rule_id: str,
        metric: str,
        value: float,
        *,
        x: float | None = None,
        series: str | None = None,
        note: str = "",
        wall_clock: bool = False,
    ) -> None:
        """Record ``value`` of ``metric`` and fail the case unless the threshold holds.

        ``wall_clock`` marks a measurement of real time on this machine. If such a threshold is
        missed while other processes took more than ``FOREIGN_SHARE_LIMIT`` of the machine's
        CPU since the case started (:mod:`conformance.cpu_witness`), the case ends ``unknown``
        with that share stated, never ``pass``: the run cannot tell a slow implementation from
        a busy machine. On a quiet machine a miss fails.
        """
        threshold = self.threshold(rule_id, metric)
        holds = threshold.holds(value)
        foreign = self.witness.foreign_share() if wall_clock else None
        if foreign is not None:
            note = (
                f"{note}; other processes used {foreign:.0%} of {self.witness.cores} cores"
            ).lstrip("; ")
        self.node.user_properties.append(
            (
                "measurement",
                {
                    "rule": rule_id,
                    "metric": metric,
                    "value": value if math.isfinite(value) else str(value),
                    "comparison": threshold.comparison,
                    "threshold": threshold.value,
                    "unit": threshold.unit,
                    "holds": holds,
                    "x": x,
                    "series": series,
                    "note": note,
                },
            )
        )
        if not holds:
            text = (
                f"{rule_id} {metric}: measured {value:g} {threshold.unit}, "
                f"threshold {threshold.comparison} {threshold.value} {threshold.unit}"
            )
            if foreign is not None and foreign > FOREIGN_SHARE_LIMIT:
                raise Inconclusive(
                    f"{text}, measured while other processes used {foreign:.0%} of the "
                    f"machine's {self.witness.cores} cores: rerun on a quiet machine"
                )
            raise AssertionError(text)

    def record(
        self,
        name: str,
        value: float,
        unit: str,
        *,
        x: float | None = None,
        series: str | None = None,
    ) -> None:
        """Record an informative value (no threshold), e.g. one point of a scaling chart."""
        self.node.user_properties.append(
            (
                "measurement",
                {"metric": name, "value": value, "unit": unit, "x": x, "series": series},
            )
        )


@pytest.fixture
def measure(request: pytest.FixtureRequest) -> Measure:
    """Record measurements of this case and check them against the catalog."""
    return Measure(request.node)


# --------------------------------------------------------------------------- running a case


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise CaseTimeout("case ran past --case-timeout")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    limit = float(item.config.getoption("--case-timeout"))
    usable = limit > 0 and hasattr(signal, "setitimer") and is_suite_item(item)
    if usable:
        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        return (yield)
    finally:
        if usable:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


def classify(error: BaseException) -> str:
    """Return the case status for an exception that ended the call phase."""
    if isinstance(error, RequestTimeout | CaseTimeout):
        return "timeout"
    if isinstance(error, Inconclusive):
        return "unknown"
    if isinstance(error, AssertionError | pytest.fail.Exception | Rejected):
        return "fail"
    if isinstance(error, ImplementationFailure):
        return "error"
    return "error"


def _message(error: BaseException) -> str:
    if isinstance(error, Rejected):
        return f"a valid input was rejected: {error}"
    text = str(error).strip() or type(error).__name__
    return f"{type(error).__name__}: {text}"[:2000]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if not is_suite_item(item):
        return report
    props = report.user_properties
    if call.excinfo is not None and not report.skipped:
        error = call.excinfo.value
        status = classify(error) if call.when == "call" else "error"
        if call.when == "setup" and isinstance(error, RequestTimeout):
            status = "timeout"
        props.append(("status", status))
        props.append(("message", _message(error)))
        # Hypothesis adds the falsifying example and the blob that replays it as notes.
        added = [str(n) for n in getattr(error, "__notes__", ()) or ()]
        if added:
            props.append(("notes", [n[:4000] for n in added[:10]]))
        if status == "error" and not isinstance(error, ImplementationFailure):
            last = traceback.extract_tb(call.excinfo.tb)[-1:]
            where = f"{last[0].filename}:{last[0].lineno}" if last else ""
            props.append(("where", where))
        if isinstance(error, Divergence):
            props.append(("divergence", error.as_dict()))
    if report.failed or (call.excinfo is not None and not report.skipped):
        item.stash[UNSETTLED_KEY] = True
    implementation = item.config.stash.get(IMPL_KEY, None)
    drain = getattr(implementation, "drain_diagnostics", None)
    if call.when == "teardown" and callable(drain):
        notes: dict[str, Any] = drain()
        if notes.get("stderr"):
            props.append(("impl_stderr", notes["stderr"]))
        if notes.get("events"):
            props.append(("impl_events", notes["events"]))
        # The request/response lines of a case that did not pass: its input, as sent.
        if notes.get("transcript") and item.stash.get(UNSETTLED_KEY, False):
            props.append(("impl_transcript", notes["transcript"]))
    return report
