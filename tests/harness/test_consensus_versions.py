"""The consensus protocol versions an implementation declares (spec/consensus-v2.md, V2.1):
``hello``'s optional member ``consensus_versions`` (absent: version 1 only), its compatibility
under the versioning rule, and the suite's selection of version-2 cases by it."""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path

import pytest

from conformance.adapters.errors import ProtocolError
from conformance.adapters.load_options import LoadOptions
from conformance.adapters.reference import ReferenceImplementation
from conformance.adapters.stdio import StdioImplementation
from conformance.capabilities import declared_consensus_versions, parse_consensus_versions
from conformance.protocol.schema import MessageValidator
from conformance.protocol.server import Server
from conformance.protocol.versions import check_current
from conformance.runner import run_suite

pytestmark = pytest.mark.req("V2.1")

HELLO = json.dumps({"id": 1, "cmd": "hello", "params": {"protocol": [1]}})


class VersionOneReference(ReferenceImplementation):
    """The reference declaring consensus version 1 only (every capability still declared)."""

    name = "reference-declaring-version-1"
    consensus_versions = frozenset({1})


class Undeclared:
    """A Python implementation written before the member existed (no ``consensus_versions``),
    answering with the reference."""

    name = "reference-without-consensus-versions"
    version = "1.0"

    def __init__(self) -> None:
        self._reference = ReferenceImplementation()
        self.capabilities = self._reference.capabilities

    def api(self, capability: str) -> object:
        return self._reference.api(capability)

    def close(self) -> None:
        self._reference.close()


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, {1}), ([1], {1}), ([2], {2}), ([1, 2], {1, 2}), ((2, 1), {1, 2})],
)
def test_declared_versions_are_read(value: object, expected: set[int]) -> None:
    assert parse_consensus_versions(value) == frozenset(expected)


@pytest.mark.parametrize("value", [[], [3], ["2"], [1, 1], [2.0], "12", {"v": 2}, [True]])
def test_an_unknown_or_malformed_declaration_is_refused(value: object) -> None:
    with pytest.raises(ValueError) as caught:
        parse_consensus_versions(value)
    assert "consensus" in str(caught.value)


def test_an_implementation_without_the_attribute_speaks_version_1() -> None:
    assert declared_consensus_versions(Undeclared()) == frozenset({1})
    assert declared_consensus_versions(ReferenceImplementation()) == frozenset({1, 2})


def test_hello_carries_the_versions_and_is_valid_without_them() -> None:
    validator = MessageValidator()
    for implementation, expected in (
        (ReferenceImplementation(), [1, 2]),
        (VersionOneReference(), [1]),
        (Undeclared(), None),
    ):
        line, _ = Server(implementation).respond(HELLO)
        answer = json.loads(line)
        assert answer["result"].get("consensus_versions") == expected
        assert validator.problems("response", "hello", answer) == []


def test_the_member_keeps_protocol_version_1() -> None:
    """Adding the optional member changes no fingerprint of version 1's record."""
    comparison = check_current()
    assert comparison.breaking == ()


def _fake(tmp_path: Path, versions: object) -> str:
    """A program that answers hello with these consensus versions (None: the member absent)."""
    result: dict[str, object] = {
        "name": "fake",
        "version": "1.0",
        "protocol": 1,
        "capabilities": ["encoding"],
    }
    if versions is not None:
        result["consensus_versions"] = versions
    script = tmp_path / "fake.py"
    script.write_text(
        "import json, sys\n"
        f"RESULT = {json.dumps(result)!r}\n"
        "for line in sys.stdin:\n"
        "    request = json.loads(line)\n"
        "    answer = json.loads(RESULT) if request['cmd'] == 'hello' else None\n"
        "    print(json.dumps({'id': request['id'], 'ok': True, 'result': answer}), flush=True)\n"
        "    if request['cmd'] == 'shutdown':\n"
        "        break\n"
    )
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}"


@pytest.mark.parametrize(("versions", "expected"), [(None, {1}), ([1, 2], {1, 2}), ([2], {2})])
def test_a_subprocess_declares_its_versions_in_hello(
    tmp_path: Path, versions: object, expected: set[int]
) -> None:
    impl = StdioImplementation(_fake(tmp_path, versions), LoadOptions(validate_protocol=True))
    try:
        assert impl.consensus_versions == frozenset(expected)
    finally:
        impl.close()


def test_a_subprocess_declaring_an_unknown_version_is_refused_at_hello(tmp_path: Path) -> None:
    with pytest.raises(ProtocolError) as caught:
        StdioImplementation(_fake(tmp_path, [1, 3]), LoadOptions())
    assert "this suite knows 1, 2" in str(caught.value)


CASE = "consensus_v2::bls_known_answer[bls/key_validate/infinity]"


@pytest.mark.parametrize(
    ("implementation", "status"),
    [("VersionOneReference", "skip"), ("Undeclared", "skip"), ("ReferenceImplementation", "pass")],
)
def test_version_2_cases_run_only_for_implementations_declaring_version_2(
    tmp_path: Path, implementation: str, status: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same case, the same capabilities: skipped with the reason for an implementation that
    does not declare version 2, run for one that does."""
    # the suite's process imports this module by name: the checkout must be on its path (it is
    # not when the package is installed from the wheel, as tox installs it)
    checkout = str(Path(__file__).resolve().parents[2])
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, (checkout, os.environ.get("PYTHONPATH"))))
    )
    module = "conformance.adapters.reference" if status == "pass" else __name__
    report, _ = run_suite(
        f"python:{module}:{implementation}", tmp_path / "report", case=[CASE], progress=False
    )
    assert report is not None
    [case] = [c for c in report.cases if c.case_id == CASE]
    assert case.status == status, case.message
    if status == "skip":
        assert "this case needs version 2" in (case.message or "")
        assert "declares consensus protocol version(s) 1" in (case.message or "")
