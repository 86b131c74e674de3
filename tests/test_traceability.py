"""Traceability tooling: the `req` marker, the rule map, coverage and `spec list`.

Tooling tests: they check the plugin and the `aethel-conformance spec` commands, not a protocol
rule, so they cite no rule ID.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
import typer
from typer.testing import CliRunner

from aethel.catalog import Catalog, Rule, Waiver, load_catalog, validate_catalog
from conformance import spec_cli

pytest_plugins = ["pytester"]

PLUGIN = ("-p", "conformance.traceability", "-p", "no:cacheprovider")


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess(*PLUGIN, *args)


# --------------------------------------------------------------------------- the marker


def test_unknown_id_fails_collection_naming_test_and_id(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_sample="""
        import pytest

        pytestmark = pytest.mark.req("E1")

        @pytest.mark.req("R2.4", "R9.9")
        def test_cites_a_typo():
            pass

        class TestGroup:
            pytestmark = pytest.mark.req("P99")

            def test_inherits_a_typo(self):
                pass

        @pytest.mark.parametrize("x", [1, pytest.param(2, marks=pytest.mark.req("T22.9"))])
        def test_param(x):
            pass

        @pytest.mark.req("R2.4")
        def test_fine():
            pass
        """
    )
    result = _run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*spec traceability:*",
            "*test_sample.py::TestGroup::test_inherits_a_typo: unknown rule ID 'P99'*",
            "*test_sample.py::test_cites_a_typo: unknown rule ID 'R9.9'*",
            "*test_sample.py::test_param[[]2[]]: unknown rule ID 'T22.9'*",
        ]
    )
    assert "test_fine" not in result.stderr.str()
    assert "test_param[1]" not in result.stderr.str()


@pytest.mark.parametrize(
    ("marker", "complaint"),
    [
        ("@pytest.mark.req()", "needs at least one rule ID"),
        ("@pytest.mark.req(24)", "unknown rule ID 24"),
        ('@pytest.mark.req("r2.4")', "unknown rule ID 'r2.4'"),
    ],
)
def test_empty_or_non_id_marker_fails_collection(
    pytester: pytest.Pytester, marker: str, complaint: str
) -> None:
    pytester.makepyfile(test_bad=f"import pytest\n\n{marker}\ndef test_x():\n    pass\n")
    result = _run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*test_bad.py::test_x: *{complaint}*"])


def test_valid_markers_collect_and_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_ok="""
        import pytest

        @pytest.mark.req("R2.4", "P8")
        def test_a():
            assert True
        """
    )
    result = _run(pytester)
    result.assert_outcomes(passed=1)


def test_req_map_lists_each_id_with_its_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_mapped="""
        import pytest

        @pytest.mark.req("R2.4", "P8", "R2.4")
        def test_safety():
            pass

        @pytest.mark.req("R2.4")
        class TestGroup:
            @pytest.mark.req("E1")
            def test_encoding(self):
                pass

        def test_uncited():
            pass
        """
    )
    out = pytester.path / "map.json"
    result = _run(pytester, "--collect-only", "-q", f"--req-map={out}")
    assert result.ret == pytest.ExitCode.OK
    mapping = json.loads(out.read_text(encoding="utf-8"))
    assert mapping == {
        "E1": ["test_mapped.py::TestGroup::test_encoding"],
        "P8": ["test_mapped.py::test_safety"],
        "R2.4": ["test_mapped.py::test_safety", "test_mapped.py::TestGroup::test_encoding"],
    }


def test_collect_citations_runs_pytest_and_returns_the_map(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_cited="""
        import pytest

        @pytest.mark.req("N1")
        def test_hash():
            pass
        """
    )
    mapping = spec_cli.collect_citations([str(pytester.path)])
    assert list(mapping) == ["N1"]
    assert [node.split("::")[-1] for node in mapping["N1"]] == ["test_hash"]


def test_collect_citations_fails_loudly_on_a_bad_citation(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_typo='import pytest\n\n@pytest.mark.req("R0.0")\ndef test_t():\n    pass\n'
    )
    with pytest.raises((typer.Exit, click.exceptions.Exit)) as info:
        spec_cli.collect_citations([str(pytester.path)])
    assert info.value.exit_code == 2


# --------------------------------------------------------------------------- coverage


def _rule(rule_id: str) -> Rule:
    return Rule.model_validate(
        {
            "id": rule_id,
            "area": "encoding",
            "title": f"Rule {rule_id}",
            "level": "MUST",
            "kind": "functional",
            "statement": f"The statement of {rule_id}.",
        }
    )


def _small_catalog() -> Catalog:
    waiver = {"reason": "not yet built", "component": "the encoder"}
    return validate_catalog(
        [_rule("E4"), _rule("E1"), _rule("E3"), _rule("E2")],
        {"E2": Waiver.model_validate(waiver), "E3": Waiver.model_validate(waiver)},
    )


CITATIONS = {"E1": ["tests/test_a.py::test_one", "tests/test_b.py::test_two"], "E3": ["t::x"]}


def test_compute_coverage_classifies_every_id() -> None:
    rows = spec_cli.compute_coverage(_small_catalog(), CITATIONS)
    assert [(r.rule_id, r.status) for r in rows] == [
        ("E1", "covered"),
        ("E2", "waived"),
        ("E3", "stale-waiver"),
        ("E4", "missing"),
    ]
    assert rows[0].tests == ("tests/test_a.py::test_one", "tests/test_b.py::test_two")
    assert rows[0].waiver is None
    assert rows[1].waiver == "not yet built (the encoder)"
    assert rows[3].tests == () and rows[3].waiver is None


def test_coverage_command_fails_on_missing_and_stale(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spec_cli, "load_catalog", _small_catalog)
    monkeypatch.setattr(spec_cli, "collect_citations", lambda paths: CITATIONS)
    monkeypatch.setattr(spec_cli, "_negative_space_gaps", lambda catalog: [])
    result = CliRunner().invoke(spec_cli.app, ["coverage", "tests"])
    assert result.exit_code == 1
    assert "4 IDs: 1 covered, 1 waived, 1 missing, 1 stale waivers" in result.output


def test_coverage_command_passes_when_every_id_is_covered_or_waived(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    citations = {"E1": ["t::a"], "E4": ["t::b"]}
    monkeypatch.setattr(spec_cli, "load_catalog", _small_catalog)
    monkeypatch.setattr(spec_cli, "collect_citations", lambda paths: citations)
    monkeypatch.setattr(spec_cli, "_negative_space_gaps", lambda catalog: [])
    result = CliRunner().invoke(spec_cli.app, ["coverage", "--json", "tests"])
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert {row["id"]: row["status"] for row in rows} == {
        "E1": "covered",
        "E2": "waived",
        "E3": "waived",
        "E4": "covered",
    }


# --------------------------------------------------------------------------- spec list


def test_spec_list_json_prints_every_catalog_id() -> None:
    command = Path(sys.executable).with_name("aethel-conformance")
    done = subprocess.run(
        [str(command), "spec", "list", "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    records = json.loads(done.stdout)
    catalog = load_catalog()
    assert [record["id"] for record in records] == list(catalog.ids())
    assert len(records) == 136
    by_id = {record["id"]: record for record in records}
    assert by_id["R6.1"]["thresholds"][0]["metric"] == "finality_virtual_s"
    assert by_id["P8"]["validates"] == ["R2.4", "R7.1"]


def test_spec_list_filters_by_area() -> None:
    result = CliRunner().invoke(spec_cli.app, ["list", "--json", "--area", "sync"])
    assert result.exit_code == 0
    ids = [record["id"] for record in json.loads(result.stdout)]
    assert ids == [rule.id for rule in load_catalog() if rule.area == "sync"]
    assert "R3.5" in ids
