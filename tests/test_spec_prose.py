"""The prose spec and the catalog agree: one `### ID title` section per record, same words.

Tooling tests: they check that spec/<area>.md and spec/catalog/<area>.toml say the same thing,
not a protocol rule, so they cite no rule ID.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from aethel.catalog import AREAS, Catalog, load_catalog_from
from aethel.errors import RULE_ID_PATTERN

SPEC = Path(__file__).resolve().parent.parent / "spec"
_RECORD_HEADING = re.compile(r"^### (\S+) (.+)$")


@dataclass(frozen=True)
class Section:
    """One `### ID title` section of an area file: its title and the text up to the next heading."""

    area: str
    rule_id: str
    title: str
    body: str

    @property
    def first_paragraph(self) -> str:
        return _normalize(self.body.strip().split("\n\n", 1)[0])


def _normalize(text: str) -> str:
    return " ".join(text.split())


def _sections(path: Path) -> list[Section]:
    """Return the level-3 sections of ``path``; every level-3 heading must be a record heading."""
    sections: list[Section] = []
    current: tuple[str, str] | None = None
    body: list[str] = []
    in_code = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("```"):
            in_code = not in_code
        if not in_code and re.match(r"^#{1,3} ", line):
            if current is not None:
                sections.append(Section(path.stem, *current, "\n".join(body)))
                current, body = None, []
            if line.startswith("### "):
                match = _RECORD_HEADING.match(line)
                assert match and re.match(RULE_ID_PATTERN, match.group(1)), (
                    f"{path.name}:{number}: level-3 headings are reserved for `### <ID> <title>`"
                )
                current = (match.group(1), match.group(2))
            continue
        if current is not None:
            body.append(line)
    if current is not None:
        sections.append(Section(path.stem, *current, "\n".join(body)))
    return sections


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog_from(SPEC / "catalog")


@pytest.fixture(scope="module")
def sections() -> dict[str, Section]:
    found: dict[str, Section] = {}
    for area in AREAS:
        for section in _sections(SPEC / f"{area}.md"):
            assert section.rule_id not in found, f"{section.rule_id} has two headings"
            found[section.rule_id] = section
    return found


def test_every_catalog_file_has_its_prose_file_and_back() -> None:
    catalog_files = {p.stem for p in (SPEC / "catalog").glob("*.toml")}
    prose_files = {p.stem for p in SPEC.glob("*.md")} - {"README"}
    assert catalog_files == prose_files == set(AREAS)


def test_every_record_has_its_heading_in_its_area_file(
    catalog: Catalog, sections: dict[str, Section]
) -> None:
    missing = [rule.id for rule in catalog if rule.id not in sections]
    assert not missing, f"records without a `### ID title` heading: {missing}"
    for rule in catalog:
        section = sections[rule.id]
        assert section.area == rule.area, f"{rule.id} is in {section.area}.md, not {rule.area}.md"
        assert section.title == rule.title, f"{rule.id}: heading {section.title!r} != catalog"


def test_every_heading_has_a_record(catalog: Catalog, sections: dict[str, Section]) -> None:
    orphans = sorted(rule_id for rule_id in sections if rule_id not in catalog)
    assert not orphans, f"headings without a catalog record: {orphans}"
    assert len(sections) == len(catalog)


def test_first_paragraph_under_each_heading_is_the_statement(
    catalog: Catalog, sections: dict[str, Section]
) -> None:
    for rule in catalog:
        assert sections[rule.id].first_paragraph == _normalize(rule.statement), rule.id


def test_every_threshold_is_stated_in_its_section(
    catalog: Catalog, sections: dict[str, Section]
) -> None:
    for rule in catalog:
        text = _normalize(sections[rule.id].body)
        for threshold in rule.thresholds:
            assert f"`{threshold.describe()}`" in text, (rule.id, threshold.metric)
            assert _normalize(threshold.where) in text, (rule.id, threshold.metric)


def test_readme_indexes_every_area_and_explains_the_conventions() -> None:
    readme = (SPEC / "README.md").read_text(encoding="utf-8")
    for area in AREAS:
        assert f"]({area}.md)" in readme, area
        assert f"](catalog/{area}.toml)" in readme, area
    for topic in ("## Rule IDs", "## Levels and kinds", "## Waivers", "## Protocol version"):
        assert topic in readme, topic
    assert "@pytest.mark.req(" in readme


def test_protocol_version_names_the_pinned_solver() -> None:
    pyproject = tomllib.loads((SPEC.parent / "pyproject.toml").read_text(encoding="utf-8"))
    pins = [d for d in pyproject["project"]["dependencies"] if d.startswith("z3-solver")]
    assert len(pins) == 1 and "==" in pins[0], "z3-solver must be pinned exactly"
    version = pins[0].split("==", 1)[1]
    z3_version = ".".join(version.split(".")[:3])
    readme = (SPEC / "README.md").read_text(encoding="utf-8")
    assert f"z3-solver=={version}" in readme
    assert f"Z3 {z3_version}" in readme
    proofs = (SPEC / "proofs.md").read_text(encoding="utf-8")
    assert f"z3-solver {version}" in proofs and f"Z3 version {z3_version}" in proofs


def test_prose_links_between_spec_files_resolve() -> None:
    for path in SPEC.glob("*.md"):
        for target in re.findall(r"\]\(([^)#:]+\.(?:md|toml))\)", path.read_text("utf-8")):
            assert (SPEC / target).exists(), f"{path.name} links to missing {target}"
