"""Rules the suite keeps: stable, unique case IDs citing rules, and one adapter interface."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.adapters.api import API_CLASSES, OBJECT_CLASSES
from conformance.adapters.reference import ReferenceImplementation
from conformance.capabilities import ALL
from conformance.plugin import SUITE_DIR
from conformance.protocol.commands import commands_of


def collect_cases(tmp_path: Path) -> list[tuple[str, ...]]:
    """Collect the suite (without running it) and return (case id, rules, capabilities) rows."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import json, pytest\n"
        "rows = []\n"
        "class P:\n"
        "    def pytest_collection_finish(self, session):\n"
        "        for item in session.items:\n"
        "            props = dict(item.user_properties)\n"
        "            rows.append([props['case_id'], props['rules'], props['capabilities']])\n"
        f"pytest.main([{str(SUITE_DIR)!r}, '--collect-only', '-q', '-p', 'no:cacheprovider'],"
        " plugins=[P()])\n"
        "print('ROWS=' + json.dumps(rows))\n"
    )
    done = subprocess.run([sys.executable, str(probe)], capture_output=True, text=True, check=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("ROWS="))
    import json

    return [(str(row[0]), tuple(row[1]), tuple(row[2])) for row in json.loads(line[5:])]


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, ...]]:
    return collect_cases(tmp_path_factory.mktemp("collect"))


def test_case_ids_are_unique_and_stable(cases: list[tuple[str, ...]], tmp_path: Path) -> None:
    ids = [c[0] for c in cases]
    assert len(ids) == len(set(ids))
    assert collect_cases(tmp_path) == cases  # same IDs in the same order on a second collection


def test_every_case_names_rules_and_capabilities(cases: list[tuple[str, ...]]) -> None:
    for case_id, rules, capabilities in cases:
        assert rules, f"{case_id} cites no rule ID"
        assert capabilities and set(capabilities) <= set(ALL), f"{case_id}: {capabilities}"


def test_case_ids_carry_explicit_parameter_ids(cases: list[tuple[str, ...]]) -> None:
    """Generated parameter IDs (value0, ...) would change when a list changes order."""
    import re

    for case_id, *_ in cases:
        assert not re.search(r"\[.*(value|case|data|path)\d+.*\]", case_id), case_id


@pytest.mark.parametrize("capability", sorted(API_CLASSES))
def test_python_api_mirrors_the_command_table(capability: str) -> None:
    protocol = API_CLASSES[capability]
    methods = {
        name: inspect.signature(member)
        for name, member in vars(protocol).items()
        if callable(member) and not name.startswith("_")
    }
    table = commands_of(capability)
    top_level = {m: c for m, c in table.items() if c.kind != "method"}
    assert set(methods) == set(top_level), capability
    for name, signature in methods.items():
        params = tuple(p for p in signature.parameters if p != "self")
        assert params == top_level[name].param_names, f"{capability}.{name}"


def _methods(protocol: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in vars(protocol).items()
        if callable(member) and not name.startswith("_")
    }


@pytest.mark.parametrize("capability", sorted(OBJECT_CLASSES))
def test_python_objects_mirror_the_command_table(capability: str) -> None:
    table = {m: c for m, c in commands_of(capability).items() if c.kind == "method"}
    methods = _methods(OBJECT_CLASSES[capability])
    assert set(methods) == set(table)
    for name, signature in methods.items():
        assert tuple(p for p in signature.parameters if p != "self") == table[name].param_names


def test_reference_implements_every_command_of_its_capabilities() -> None:
    reference = ReferenceImplementation()
    for capability in reference.capabilities:
        api = reference.api(capability)
        for method, command in commands_of(capability).items():
            if command.kind != "method":
                signature = inspect.signature(getattr(api, method))
                assert tuple(signature.parameters) == command.param_names, command.name
