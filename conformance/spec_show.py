"""``aethel-conformance spec show ID``: where one rule lives, by role, in a handful of lines.

``grep -rnwF R2.4`` lists every file that mentions a rule (for a safety rule, dozens: tests,
mutants, node modules that keep the journal). A newcomer asks five questions instead, and this
answers them from the repository itself:

* **prose**: the spec page and line of the rule's heading (spec/README.md: one heading per ID);
* **owner**: the module whose docstring says ``Owns:`` the rule, the one place it is decided
  (ARCHITECTURE.md, "Where each rule is decided"); where no module claims it, the modules of
  ``aethel/`` that cite it, as the fallback;
* **checkers**: the code outside the suite's cases that judges the rule on a run (``aethel/sim``'s
  and the network suite's checkers, the state machines), found as modules of ``conformance/`` and
  ``aethel/sim`` that cite the rule;
* **cases**: the suite's cases marked with the rule (``@pytest.mark.req``), collected as
  ``spec coverage`` collects them;
* **mutants**: the self-test's written mutants that break the rule.

Nothing here runs a case; collection only reads the suite.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from aethel.catalog import Rule, spec_dir
from conformance.mutants import registry

#: The folder holding aethel/ and conformance/ (the checkout, or where they are installed).
ROOT = Path(__file__).resolve().parents[1]
#: Folders whose modules judge rules on a run (not the cases themselves, not the mutants).
CHECKER_FOLDERS = ("aethel/sim", "conformance/network", "conformance/suite/machines")


@dataclass(frozen=True, slots=True)
class Place:
    """A file and line, with the text found there."""

    path: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text}"


@dataclass(frozen=True, slots=True)
class RuleMap:
    """Where one rule lives, by role (module docstring)."""

    rule: Rule
    prose: tuple[Place, ...]
    owners: tuple[Place, ...]
    citing_code: tuple[str, ...]
    checkers: tuple[str, ...]
    cases: tuple[str, ...]
    mutants: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        """Return the map as JSON-ready data."""
        return {
            "id": self.rule.id,
            "title": self.rule.title,
            "level": self.rule.level,
            "statement": self.rule.statement,
            "prose": [str(p) for p in self.prose],
            "owners": [str(p) for p in self.owners],
            "citing_code": list(self.citing_code),
            "checkers": list(self.checkers),
            "cases": list(self.cases),
            "mutants": list(self.mutants),
        }


def _word(rule_id: str) -> re.Pattern[str]:
    # A whole ID: for X1.2, neither X1.25, X1.2a, X1.2.B4 nor YX1.2.
    return re.compile(rf"(?<![\w.]){re.escape(rule_id)}(?!\w|\.\w)")


def find_prose(rule_id: str, spec: Path) -> tuple[Place, ...]:
    """Return the headings of the spec pages that name ``rule_id``."""
    word = _word(rule_id)
    found = []
    for page in sorted(spec.glob("*.md")):
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            if line.startswith("#") and word.search(line):
                found.append(Place(f"spec/{page.name}", number, line.strip()))
    return tuple(found)


def _python_files(folders: Iterable[Path]) -> list[Path]:
    return sorted(p for folder in folders if folder.is_dir() for p in folder.rglob("*.py"))


def _owns_paragraph(text: str) -> tuple[int, str] | None:
    """Return the line number and text of a module docstring's ``Owns:`` paragraph."""
    lines = text.splitlines()
    for index, line in enumerate(lines[:40]):
        if line.startswith("Owns:"):
            paragraph = [line]
            for following in lines[index + 1 :]:
                if not following.strip() or following.startswith('"""'):
                    break
                paragraph.append(following.strip())
            return index + 1, " ".join(paragraph)
    return None


_OUTSIDE_PARENTHESES = re.compile(r"\([^()]*\)")


def find_owners(rule_id: str, root: Path) -> tuple[Place, ...]:
    """Return the modules of ``aethel/`` whose ``Owns:`` paragraph names ``rule_id`` (outside
    its parentheses, as ``tests/consensus/test_replica_layout.py`` reads them)."""
    word = _word(rule_id)
    owners = []
    for path in _python_files([root / "aethel"]):
        owns = _owns_paragraph(path.read_text(encoding="utf-8"))
        # The rules are named outside parentheses; inside, the module says what it decides.
        if owns is not None and word.search(_OUTSIDE_PARENTHESES.sub("", owns[1])):
            owners.append(Place(str(path.relative_to(root)), owns[0], owns[1][:160]))
    return tuple(owners)


def _citing(rule_id: str, root: Path, folders: Iterable[str]) -> tuple[str, ...]:
    word = _word(rule_id)
    return tuple(
        str(path.relative_to(root))
        for path in _python_files(root / f for f in folders)
        if word.search(path.read_text(encoding="utf-8"))
    )


def find_citing_code(rule_id: str, root: Path) -> tuple[str, ...]:
    """Return the modules of the reference (``aethel/``, simulator aside) that cite the rule."""
    sim = ("aethel/sim/",)
    return tuple(p for p in _citing(rule_id, root, ["aethel"]) if not p.startswith(sim))


def find_checkers(rule_id: str, root: Path) -> tuple[str, ...]:
    """Return the checker modules (:data:`CHECKER_FOLDERS`) that cite the rule."""
    return _citing(rule_id, root, CHECKER_FOLDERS)


def find_mutants(rule_id: str) -> tuple[str, ...]:
    """Return the written mutants whose defect breaks the rule, with what each does."""
    return tuple(
        f"{name}: {mutant.defect}"
        for name, mutant in sorted(registry().items())
        if rule_id in mutant.breaks
    )


def map_rule(rule: Rule, cases: Iterable[str], root: Path = ROOT) -> RuleMap:
    """Return where ``rule`` lives; ``cases`` are the suite's node IDs that cite it."""
    return RuleMap(
        rule,
        find_prose(rule.id, spec_dir()),
        find_owners(rule.id, root),
        find_citing_code(rule.id, root),
        find_checkers(rule.id, root),
        tuple(sorted(cases)),
        find_mutants(rule.id),
    )


def render(rule_map: RuleMap, *, all_code: bool = False) -> str:
    """Return the map as text: a line a place, the long lists cut to their first entries."""
    rule = rule_map.rule
    lines = [f"{rule.id} ({rule.level}, {rule.kind}): {rule.title}", f"  {rule.statement}", ""]

    def section(title: str, items: Iterable[object], limit: int | None = 12) -> None:
        items = [str(i) for i in items]
        lines.append(f"{title} ({len(items)}):")
        shown = items if limit is None else items[:limit]
        lines.extend(f"  {item}" for item in shown)
        if len(shown) < len(items):
            lines.append(f"  ... {len(items) - len(shown)} more (--json lists all)")
        if not items:
            lines.append("  (none)")

    section("prose", rule_map.prose)
    section("owner (the module whose docstring says Owns:)", rule_map.owners)
    if not rule_map.owners or all_code:
        section("reference code citing it", rule_map.citing_code, None if all_code else 12)
    section("checkers", rule_map.checkers)
    section("suite cases", rule_map.cases)
    section("written mutants that break it", rule_map.mutants)
    return "\n".join(lines)
