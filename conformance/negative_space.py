"""The negative space of the spec: every refusal sentence of the prose and its must-reject cases.

A **refusal sentence** is a normative sentence of ``spec/<area>.md`` that says input is refused,
rejected or invalid, or what must not happen: it matches :data:`NEGATIVE` ("must not", "is/are
invalid", "makes ... invalid", "refuse(s/d)", "reject(s/ed)"). Sentences of "Rationale", "Check",
"Parameters" and "Thresholds" paragraphs explain a rule without adding to it (spec/README.md) and
are left out, as are headings, code blocks and the README.

Each refusal sentence belongs to rules: the rule of the ``### ID title`` section it stands in, or,
outside rule sections, every rule ID the sentence itself cites (``(R7.1)``). A sentence outside
rule sections that cites no rule is **unattributed**: the prose must say which rule it belongs to.

A rule with refusal sentences needs at least one **must-reject case**: a conformance suite case
marked ``@pytest.mark.rejects("ID")`` (conformance/traceability.py), which sends input the spec
says must be refused and checks the refusal. The mapping (rule, its sentences, its must-reject
cases) is recorded in ``spec/negative-space.toml`` by ``aethel-conformance spec negative-space
--write``; ``tests/test_negative_space.py`` fails when the record differs from what the prose and
the suite give, and ``aethel-conformance spec coverage`` fails on a rule without a must-reject
case and on an unattributed sentence.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from aethel.catalog import AREAS, Catalog, spec_dir
from aethel.errors import RULE_ID_PATTERN

#: What makes a sentence a refusal sentence (case-insensitive).
NEGATIVE = re.compile(
    r"\b(?:must\s+not|(?:is|are|be|becomes?)\s+invalid|makes?\s+(?:\S+\s+){0,4}?invalid"
    r"|refuse[sd]?|reject(?:s|ed)?)\b",
    re.IGNORECASE,
)
#: Labels of paragraphs that explain a rule without adding to it (spec/README.md).
EXPLANATION = re.compile(r"\*\*(?:Rationale|Check|Parameters|Thresholds)\.\*\*")
#: A threshold bullet (`metric <= value unit`: where), restated from the catalog.
THRESHOLD_ITEM = re.compile(r"^- `[a-z][a-z0-9_]* (?:<=|>=|<|>|==) ")
_CITED_ID = re.compile(r"\b(?:" + RULE_ID_PATTERN[2:-2] + r")\b")
_HEADING = re.compile(r"^(#{1,6}) (.*)$")
_SENTENCE_END = re.compile(r"(?<=[.;!?])\s+(?=[A-Z`(*\"'])")
_ITEM_START = re.compile(r"^(?:[-*] |\d+\. |\| )")

#: The record, beside the catalog.
RECORD_NAME = "negative-space.toml"
#: The command that writes it.
WRITE_COMMAND = "aethel-conformance spec negative-space --write"


@dataclass(frozen=True, slots=True)
class Sentence:
    """One refusal sentence: where it stands, its text (whitespace collapsed), its rules."""

    area: str
    section: str
    text: str
    rules: tuple[str, ...]

    @property
    def where(self) -> str:
        """Return ``area.md, section``."""
        return f"{self.area}.md, {self.section}"


@dataclass(frozen=True, slots=True)
class RuleSpace:
    """The negative space of one rule: its refusal sentences and its must-reject cases."""

    rule_id: str
    sentences: tuple[Sentence, ...]
    must_reject: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NegativeSpace:
    """Every rule with refusal sentences, in spec order, and the unattributed sentences."""

    rules: tuple[RuleSpace, ...]
    unattributed: tuple[Sentence, ...] = field(default=())

    def missing(self) -> list[RuleSpace]:
        """Return the rules with refusal sentences and no must-reject case."""
        return [rule for rule in self.rules if not rule.must_reject]


# --------------------------------------------------------------------------- reading the prose


def _blocks(text: str) -> Iterator[tuple[str | None, str]]:
    """Yield (section heading, block text) for each paragraph, list item and table row.

    The section is the ``### ...`` or ``## ...`` heading text the block stands under.
    """
    section: str | None = None
    block: list[str] = []
    in_code = False

    def flush() -> Iterator[tuple[str | None, str]]:
        if block:
            yield section, " ".join(block)
            block.clear()

    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            yield from flush()
            in_code = not in_code
            continue
        if in_code:
            continue
        heading = _HEADING.match(line)
        if heading:
            yield from flush()
            section = heading.group(2).strip()
            continue
        if not stripped:
            yield from flush()
            continue
        if _ITEM_START.match(stripped):
            yield from flush()
        block.append(stripped)
    yield from flush()


def _normative_part(block: str) -> str:
    """Return the block up to its first explanation label (all of it if it has none)."""
    if THRESHOLD_ITEM.match(block) or block.startswith("|"):
        return "" if THRESHOLD_ITEM.match(block) else block
    label = EXPLANATION.search(block)
    return block if label is None else block[: label.start()]


def split_sentences(text: str) -> list[str]:
    """Split a block into sentences (at ``.``, ``;``, ``!``, ``?`` before a capital or mark)."""
    return [part.strip() for part in _SENTENCE_END.split(text) if part.strip()]


def cited_rules(text: str, catalog: Catalog) -> tuple[str, ...]:
    """Return the catalog rule IDs ``text`` cites, in order, without repeats."""
    found: list[str] = []
    for match in _CITED_ID.finditer(text):
        rule_id = match.group(0)
        if rule_id in catalog and rule_id not in found:
            found.append(rule_id)
    return tuple(found)


def _rule_of_section(section: str | None, catalog: Catalog) -> str | None:
    if section is None:
        return None
    first = section.split(" ", 1)[0]
    return first if re.match(RULE_ID_PATTERN, first) and first in catalog else None


def refusal_sentences(catalog: Catalog, directory: Path | None = None) -> list[Sentence]:
    """Return every refusal sentence of the area files, in file and text order."""
    base = directory or spec_dir()
    found: list[Sentence] = []
    for area in AREAS:
        text = (base / f"{area}.md").read_text(encoding="utf-8")
        for section, block in _blocks(text):
            rule_id = _rule_of_section(section, catalog)
            for sentence in split_sentences(_normative_part(block)):
                if not NEGATIVE.search(sentence):
                    continue
                rules = (rule_id,) if rule_id else cited_rules(sentence, catalog)
                found.append(Sentence(area, section or "(top)", sentence, rules))
    return found


# --------------------------------------------------------------------------- must-reject cases


def suite_dir() -> Path:
    """Return the conformance suite's directory (installed or source tree)."""
    return Path(__file__).resolve().parent / "suite"


def case_name(node_id: str) -> str:
    """Return ``test_file.py::test_function`` of a node ID (parameters and folders dropped)."""
    path, _, name = node_id.partition("::")
    return f"{Path(path).name}::{name.split('[', 1)[0]}"


def collect_must_reject(paths: Iterable[str] | None = None) -> dict[str, list[str]]:
    """Collect the suite (without running it); return rule ID -> its must-reject cases.

    Raises RuntimeError with pytest's output when collection fails.
    """
    chosen = list(paths) if paths is not None else [str(suite_dir())]
    # -P: the working directory is not put on sys.path, so that a checkout it holds does not
    # shadow the installed package whose suite is collected (pytest refuses the mismatch)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "rejects-map.json"
        command = [
            sys.executable, "-P", "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
            "-p", "conformance.traceability", f"--rejects-map={out}", *chosen,
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode not in (0, 5) or not out.exists():
            raise RuntimeError(
                f"collecting the suite failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            )
        raw: dict[str, list[str]] = json.loads(out.read_text(encoding="utf-8"))
    return {rule: sorted({case_name(node) for node in nodes}) for rule, nodes in raw.items()}


# --------------------------------------------------------------------------- the mapping


def build(
    catalog: Catalog, sentences: list[Sentence], must_reject: dict[str, list[str]]
) -> NegativeSpace:
    """Group the sentences by rule (spec order) with each rule's must-reject cases."""
    by_rule: dict[str, list[Sentence]] = {}
    unattributed: list[Sentence] = []
    for sentence in sentences:
        if not sentence.rules:
            unattributed.append(sentence)
        for rule_id in sentence.rules:
            by_rule.setdefault(rule_id, []).append(sentence)
    rules = tuple(
        RuleSpace(rule_id, tuple(by_rule[rule_id]), tuple(must_reject.get(rule_id, ())))
        for rule_id in catalog.ids()
        if rule_id in by_rule
    )
    return NegativeSpace(rules, tuple(unattributed))


def compute(catalog: Catalog, paths: Iterable[str] | None = None) -> NegativeSpace:
    """Read the prose and collect the suite: the current negative space."""
    return build(catalog, refusal_sentences(catalog), collect_must_reject(paths))


def _string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _array(items: Iterable[str], indent: str = "    ") -> str:
    listed = list(items)
    if not listed:
        return "[]"
    return "[\n" + "".join(f"{indent}{_string(item)},\n" for item in listed) + "]"


def render(space: NegativeSpace) -> str:
    """Return the TOML text of the record (``spec/negative-space.toml``)."""
    lines = [
        "# The negative space of the spec: for every rule whose prose says that input is refused,",
        "# rejected or invalid, or what must not happen, its refusal sentences and its must-reject",
        "# cases (conformance suite cases marked @pytest.mark.rejects). See",
        "# conformance/negative_space.py. Generated: do not edit by hand; after changing the prose",
        f"# or a rejects marker, run `{WRITE_COMMAND}`.",
        "# tests/test_negative_space.py fails while this file differs from what they give.",
        "",
    ]
    for rule in space.rules:
        lines += [
            "[[rule]]",
            f"id = {_string(rule.rule_id)}",
            f"sentences = {_array(f'{s.where}: {s.text}' for s in rule.sentences)}",
            f"must_reject = {_array(rule.must_reject)}",
            "",
        ]
    for sentence in space.unattributed:
        lines += [
            "[[unattributed]]",
            f"where = {_string(sentence.where)}",
            f"text = {_string(sentence.text)}",
            "",
        ]
    return "\n".join(lines).rstrip("\n") + "\n"


def record_path(directory: Path | None = None) -> Path:
    """Return where the record lives: ``spec/negative-space.toml``."""
    return (directory or spec_dir()) / RECORD_NAME


def read_record(path: Path | None = None) -> dict[str, object]:
    """Return the parsed record (empty if the file does not exist)."""
    target = path or record_path()
    if not target.exists():
        return {}
    return tomllib.loads(target.read_text(encoding="utf-8"))


def describe_missing(space: NegativeSpace, waived: Iterable[str] = ()) -> list[str]:
    """Return one line per gap: a rule without a must-reject case (with its first sentence), or
    a refusal sentence that belongs to no rule. A rule of ``waived`` (IDs with a waiver in
    spec/waivers.toml: no case can check them yet) is not a gap."""
    lines = []
    excused = set(waived)
    for rule in space.missing():
        if rule.rule_id in excused:
            continue
        first = rule.sentences[0]
        more = f" (+{len(rule.sentences) - 1} more)" if len(rule.sentences) > 1 else ""
        lines.append(
            f"{rule.rule_id}: no must-reject case for {first.where}: {_clip(first.text)}{more}"
        )
    for sentence in space.unattributed:
        lines.append(
            f"unattributed: {sentence.where}: {_clip(sentence.text)} (cite the rule it belongs to)"
        )
    return lines


def _clip(text: str, limit: int = 140) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
