"""The negative space of the spec (conformance/negative_space.py): refusal sentences are found in
the prose and attributed to rules, and spec/negative-space.toml is exactly what the prose and the
suite's rejects markers give.

Tooling tests: they check the spec tooling, not a protocol rule, so they cite no rule ID.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from aethel.catalog import AREAS, Catalog, load_catalog
from conformance import negative_space
from conformance.negative_space import Sentence

SAMPLE = """# Sample

Intro text. A set is invalid if it is empty (R4.3). A node must not crash on it.

A transfer that overdraws is refused.

### E2 Numbers are 64-bit signed integers

Every JSON number is an integer. A decoder rejects fractions (E4).

**Rationale.** A float would be rejected by some parsers.

**Check.** Every must-reject vector is rejected.

- `metric <= 1 unit`: a threshold bullet that is rejected here.

| limit | value |
|---|---|
| depth | 64; deeper texts are refused |

```text
the proof is invalid inside a code block
```
"""


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture
def spec_copy(tmp_path: Path) -> Path:
    for area in AREAS:
        (tmp_path / f"{area}.md").write_text("", encoding="utf-8")
    (tmp_path / "encoding.md").write_text(SAMPLE, encoding="utf-8")
    return tmp_path


def test_refusal_sentences_are_found_and_attributed(catalog: Catalog, spec_copy: Path) -> None:
    found = negative_space.refusal_sentences(catalog, spec_copy)
    assert [(s.section, s.text, s.rules) for s in found] == [
        ("Sample", "A set is invalid if it is empty (R4.3).", ("R4.3",)),
        ("Sample", "A node must not crash on it.", ()),
        ("Sample", "A transfer that overdraws is refused.", ()),
        ("E2 Numbers are 64-bit signed integers", "A decoder rejects fractions (E4).", ("E2",)),
        (
            "E2 Numbers are 64-bit signed integers",
            "| depth | 64; deeper texts are refused |",
            ("E2",),
        ),
    ]


def test_rules_without_must_reject_cases_and_unattributed_sentences_are_gaps(
    catalog: Catalog, spec_copy: Path
) -> None:
    sentences = negative_space.refusal_sentences(catalog, spec_copy)
    space = negative_space.build(catalog, sentences, {"E2": ["test_x.py::test_y"]})
    assert [(r.rule_id, r.must_reject) for r in space.rules] == [
        ("E2", ("test_x.py::test_y",)),
        ("R4.3", ()),
    ]
    gaps = negative_space.describe_missing(space)
    assert gaps[0].startswith("R4.3: no must-reject case for encoding.md, Sample: A set is invalid")
    assert [g.split(":", 1)[0] for g in gaps] == ["R4.3", "unattributed", "unattributed"]
    # a waived rule (spec/waivers.toml: no case can check it yet) is not a gap; the rest are
    excused = negative_space.describe_missing(space, ["R4.3"])
    assert [g.split(":", 1)[0] for g in excused] == ["unattributed", "unattributed"]
    complete = negative_space.build(
        catalog,
        [s for s in sentences if s.rules],
        {"E2": ["a.py::t"], "R4.3": ["b.py::t"]},
    )
    assert negative_space.describe_missing(complete) == []


def test_the_record_renders_as_toml_that_reads_back(catalog: Catalog) -> None:
    sentence = Sentence("encoding", "E2 Numbers", 'A "quoted" value is refused.', ("E2",))
    space = negative_space.build(catalog, [sentence], {"E2": ["test_e.py::test_f"]})
    text = negative_space.render(space)
    assert text.startswith("# The negative space of the spec")
    path = Path(__file__).parent / "negative-space.sample.toml"
    try:
        path.write_text(text, encoding="utf-8")
        record = negative_space.read_record(path)
    finally:
        path.unlink(missing_ok=True)
    assert record == {
        "rule": [
            {
                "id": "E2",
                "sentences": ['encoding.md, E2 Numbers: A "quoted" value is refused.'],
                "must_reject": ["test_e.py::test_f"],
            }
        ]
    }


def test_case_names_drop_folders_and_parameters() -> None:
    assert (
        negative_space.case_name("conformance/suite/test_a.py::test_b[x-1]") == "test_a.py::test_b"
    )
    assert negative_space.case_name("test_a.py::TestC::test_d") == "test_a.py::TestC::test_d"


def test_the_record_is_what_the_prose_and_the_suite_give(catalog: Catalog) -> None:
    """spec/negative-space.toml equals what `aethel-conformance spec negative-space --write`
    writes now: a changed refusal sentence or rejects marker must be recorded."""
    current = negative_space.render(negative_space.compute(catalog))
    recorded = negative_space.record_path().read_text(encoding="utf-8")
    if recorded != current:
        diff = "\n".join(
            difflib.unified_diff(
                recorded.splitlines(), current.splitlines(), "recorded", "current", lineterm=""
            )
        )
        pytest.fail(
            f"{negative_space.RECORD_NAME} is out of date; run "
            f"`{negative_space.WRITE_COMMAND}`:\n{diff[:6000]}"
        )


def test_spec_coverage_fails_on_a_rule_without_must_reject_case(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch, spec_copy: Path
) -> None:
    from typer.testing import CliRunner

    from conformance import spec_cli

    sentences = negative_space.refusal_sentences(catalog, spec_copy)
    space = negative_space.build(catalog, [s for s in sentences if s.rules], {"E2": ["a.py::t"]})
    monkeypatch.setattr(negative_space, "compute", lambda catalog, paths=None: space)
    monkeypatch.setattr(spec_cli, "collect_citations", lambda paths: {})
    monkeypatch.setattr(spec_cli, "compute_coverage", lambda catalog, citations: [])
    result = CliRunner().invoke(spec_cli.app, ["coverage", "tests"])
    assert result.exit_code == 1
    assert "negative space: R4.3: no must-reject case" in result.output
    assert "2 rules with refusal sentences, 1 with a must-reject case, 1 without" in result.output
