"""The README's recipes do what it says: finding a rule, the table of exit codes."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from conformance.report import outcome

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _recipe() -> list[str]:
    section = README[README.index("## Finding a rule") :]
    match = re.search(r"```sh\n(grep [^\n]+)\n```", section)
    assert match, "the README's rule-finding command"
    return shlex.split(match[1])


@pytest.mark.skipif(shutil.which("grep") is None, reason="no grep on this machine")
@pytest.mark.parametrize(
    ("rule", "prose", "catalog"),
    [
        ("R2.4", "spec/consensus.md:", "spec/catalog/consensus.toml:"),
        ("E8", "spec/state-tree.md:", "spec/catalog/state-tree.toml:"),
        ("T22.3.B4", "spec/performance.md:", "spec/catalog/performance.toml:"),
        ("R5.3", "spec/security.md:", "spec/catalog/security.toml:"),
    ],
)
def test_the_grep_recipe_finds_prose_catalog_code_and_tests(
    rule: str, prose: str, catalog: str
) -> None:
    command = [rule if part == "R2.4" else part for part in _recipe()]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr  # e.g. a folder the recipe names no longer exists
    lines = done.stdout.splitlines()
    heading = f"### {rule} "
    assert any(line.startswith(prose) and heading in line for line in lines), "the prose heading"
    assert any(line.startswith(catalog) and f'id = "{rule}"' in line for line in lines)
    assert any(line.startswith(("tests/", "conformance/suite/")) for line in lines)
    # -w: a longer ID that merely starts with the same characters is not listed
    assert not any(re.search(re.escape(rule) + r"[0-9]", line) for line in lines)


def test_the_exit_code_table_matches_the_code() -> None:
    section = README[README.index("### Outcomes and exit codes") :]
    rows = re.findall(r"^\| ([^|]+) \|[^\n]*\| (\d) \|$", section, flags=re.M)
    codes = {int(code) for _, code in rows}
    assert codes == {
        outcome.CONFORMANT,
        outcome.NON_CONFORMANT,
        outcome.UNUSABLE,
        outcome.INCONCLUSIVE,
        outcome.NOTHING_CHECKED,
    }
    named = {label.split(":")[0].strip(): int(code) for label, code in rows}
    assert named["conformant"] == outcome.CONFORMANT
    assert named["non-conformant"] == outcome.NON_CONFORMANT
    assert named["inconclusive"] == outcome.INCONCLUSIVE
    assert named["unusable"] == outcome.UNUSABLE
    assert named["zero capabilities"] == outcome.NOTHING_CHECKED


def test_the_first_two_commands_name_tox_environments_that_exist() -> None:
    first = README.split("```sh\n", 1)[1].split("```", 1)[0].splitlines()[:2]
    tox = (ROOT / "tox.ini").read_text(encoding="utf-8")
    assert first[0].startswith("pip install tox && tox -e conformance")
    assert "[testenv:conformance]" in tox
    assert first[1].startswith("pip install tox && tox ")
    assert re.search(r"^envlist = tests, properties, lint$", tox, flags=re.M)
