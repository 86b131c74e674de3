"""``aethel-conformance spec show ID``: a rule's prose, owner, checkers, cases and mutants."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from aethel.catalog import load_catalog
from conformance.cli import app
from conformance.spec_show import find_owners, map_rule

runner = CliRunner()


def test_r2_4_leads_to_its_prose_its_one_owner_its_checkers_cases_and_mutant() -> None:
    result = runner.invoke(app, ["spec", "show", "R2.4", "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert [p.split(":")[0] for p in shown["prose"]] == ["spec/consensus.md"]
    assert "### R2.4 Safety" in shown["prose"][0]
    assert [p.split(":")[0] for p in shown["owners"]] == ["aethel/consensus/journal.py"]
    assert "conformance/network/checkers.py" in shown["checkers"]
    assert any("test_crash.py::" in case for case in shown["cases"])
    assert all(not case.startswith("tests/") for case in shown["cases"])  # suite cases only
    assert any(m.startswith("journal-emptied-at-start:") for m in shown["mutants"])


def test_the_text_form_names_each_role_and_an_unknown_id_exits_2() -> None:
    result = runner.invoke(app, ["spec", "show", "R7.1"])
    assert result.exit_code == 0, result.output
    for heading in ("prose (1):", "owner (", "checkers (", "suite cases (", "written mutants"):
        assert heading in result.output
    assert "aethel/spending.py:3: Owns: R7.1" in result.output
    assert runner.invoke(app, ["spec", "show", "R99.9"]).exit_code == 2


def test_an_owner_is_the_whole_id_in_an_owns_paragraph(tmp_path: Path) -> None:
    """Control: the owner search finds a planted ``Owns:`` paragraph (also on its second line)
    and not a longer ID that begins with the one asked for, nor an ID in the parentheses that
    say what a module decides, nor a mere citation (made-up IDs: the grep recipe of the README
    must not meet a longer ID on a line of a real one)."""
    package = tmp_path / "aethel"
    package.mkdir()
    (package / "owner.py").write_text('"""Title.\n\nOwns: X1.6 (a), and\nX1.2 (b).\n"""\n')
    (package / "longer.py").write_text('"""Title.\n\nOwns: X1.25 (not X1.2).\n"""\n')
    (package / "citer.py").write_text('"""Title.\n\nSpec: X1.2.\n"""\n')
    assert [p.path for p in find_owners("X1.2", tmp_path)] == ["aethel/owner.py"]
    assert [p.path for p in find_owners("X1.6", tmp_path)] == ["aethel/owner.py"]


def test_a_rule_without_an_owner_falls_back_to_the_code_citing_it(tmp_path: Path) -> None:
    package = tmp_path / "aethel"
    package.mkdir()
    (package / "citer.py").write_text('"""Title.\n\nSpec: R2.4.\n"""\n')
    rule_map = map_rule(load_catalog()["R2.4"], [], root=tmp_path)
    assert rule_map.owners == ()
    assert rule_map.citing_code == ("aethel/citer.py",)
