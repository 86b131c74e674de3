"""Pytest plugin tying tests to spec rule IDs.

* ``@pytest.mark.req("R2.4", "P8")`` says which rules a test checks.
* ``@pytest.mark.rejects("R7.5")`` says the test is a must-reject case of those rules: it sends
  input the spec says must be refused (a MUST NOT, an "is invalid", a "refuses") and checks the
  refusal. Every ID it names must also be cited by the test's ``req`` markers.
* Collection fails when a test cites an ID the catalog does not have (a typo must not pass as
  coverage), or a ``req`` marker has no IDs.
* ``--req-map PATH`` writes ``{rule_id: [test node ids]}`` after collection; ``aethel-conformance
  spec coverage`` reads it. ``--rejects-map PATH`` writes the same for ``rejects`` markers (the
  must-reject cases of each rule, read by ``aethel-conformance spec negative-space``).

Loaded with ``-p conformance.traceability`` (pyproject.toml's addopts does it for this repo).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from aethel.catalog import load_catalog
from conformance.profiles import register_profiles

MARKER = "req"
REJECTS = "rejects"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("aethel", "Aethel spec traceability")
    group.addoption(
        "--req-map",
        metavar="PATH",
        default=None,
        help="write the rule ID -> test node IDs map of the collected tests to PATH (JSON)",
    )
    group.addoption(
        "--rejects-map",
        metavar="PATH",
        default=None,
        help="write the rule ID -> must-reject test node IDs map (rejects markers) to PATH (JSON)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}(*ids): the spec rule IDs (R*, N*, T22.*, E*, P*, I*) this test checks"
    )
    config.addinivalue_line(
        "markers",
        f"{REJECTS}(*ids): the test is a must-reject case of these rules (a subset of its req IDs)",
    )
    register_profiles()


def _marked_ids(item: pytest.Item, marker: str) -> list[str]:
    """Return the rule IDs of every ``marker`` marker on ``item``, in order, without repeats."""
    ids: list[str] = []
    for mark in item.iter_markers(name=marker):
        for rule_id in mark.args:
            if rule_id not in ids:
                ids.append(rule_id)
    return ids


def cited_ids(item: pytest.Item) -> list[str]:
    """Return the rule IDs cited by every ``req`` marker on ``item``, in order, without repeats."""
    return _marked_ids(item, MARKER)


def rejected_ids(item: pytest.Item) -> list[str]:
    """Return the rule IDs of which ``item`` is a must-reject case, in order, without repeats."""
    return _marked_ids(item, REJECTS)


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    catalog = load_catalog()
    problems = []
    for item in items:
        for mark in item.iter_markers(name=MARKER):
            if not mark.args:
                problems.append(f"{item.nodeid}: @pytest.mark.req() needs at least one rule ID")
            for rule_id in mark.args:
                if not isinstance(rule_id, str) or rule_id not in catalog:
                    problems.append(
                        f"{item.nodeid}: unknown rule ID {rule_id!r} in @pytest.mark.req "
                        "(see `aethel-conformance spec list`)"
                    )
        cited = set(cited_ids(item))
        for mark in item.iter_markers(name=REJECTS):
            if not mark.args:
                problems.append(f"{item.nodeid}: @pytest.mark.rejects() needs at least one rule ID")
            for rule_id in mark.args:
                if rule_id not in cited:
                    problems.append(
                        f"{item.nodeid}: @pytest.mark.rejects({rule_id!r}) names a rule the "
                        "test does not cite with @pytest.mark.req"
                    )
    if problems:
        raise pytest.UsageError("spec traceability:\n  " + "\n  ".join(sorted(set(problems))))
    for option, ids_of in (("--req-map", cited_ids), ("--rejects-map", rejected_ids)):
        path = config.getoption(option)
        if path:
            _write_rule_map(Path(path), items, ids_of)


def _write_rule_map(
    path: Path, items: list[pytest.Item], ids_of: Callable[[pytest.Item], list[str]]
) -> None:
    """Write rule ID -> the node IDs of the items ``ids_of`` names it for, as JSON."""
    mapping: dict[str, list[str]] = {}
    for item in items:
        for rule_id in ids_of(item):
            mapping.setdefault(rule_id, []).append(item.nodeid)
    path.write_text(json.dumps(mapping, indent=1, sort_keys=True), encoding="utf-8")
