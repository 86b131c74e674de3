"""Enumerate and apply the mechanical mutants of the reference's modules (cosmic-ray's engine).

A mutant is (module, operator, occurrence): the ``occurrence``-th place where the operator can
change the module, counted the way cosmic-ray counts (``cosmic_ray.ast.ast_nodes`` pre-order, one
count per position) and applied by ``cosmic_ray.mutating.MutationVisitor.mutate_code``, so the
mutant we run is exactly cosmic-ray's mutation of that occurrence.

Its ID is stable across runs and across edits elsewhere in the file: module, enclosing
definition, operator, and a hash of the statement's first line, the mutated node's text and its
index within the node (with a counter for repeats of the same key), e.g.
``aethel/encoding.py:decode_varint:ReplaceComparisonOperator_Lt_LtE:3f0c2a91``. Line numbers are
kept beside the ID for people, not in it.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import parso as untyped_parso
from cosmic_ray.ast import ast_nodes
from cosmic_ray.mutating import MutationVisitor

from conformance.mechanical.operators import kind_of, make_operator, operator_names

parso: Any = untyped_parso

#: Modules never mutated: benchmarks and command-line front ends (the issue's "bench and CLI
#: modules aside"). Paths are relative to the repository root, with ``/`` separators.
EXCLUDED = ("aethel/bench/", "aethel/cli.py", "aethel/sim/cli.py", "aethel/node/cli.py")

#: Statement node types: coverage records their first line.
_STATEMENTS = frozenset(
    {
        "simple_stmt",
        "if_stmt",
        "while_stmt",
        "for_stmt",
        "try_stmt",
        "with_stmt",
        "funcdef",
        "classdef",
        "decorated",
        "async_stmt",
        "match_stmt",
    }
)


@dataclass(frozen=True, slots=True)
class MechanicalMutant:
    """One generated mutant of one module."""

    id: str
    module: str
    operator: str
    occurrence: int
    line: int
    lines: tuple[int, ...]
    definition: str
    original: str
    #: First and last line of the innermost enclosing function; (0, 0) at module or class level.
    scope: tuple[int, int] = (0, 0)

    @property
    def kind(self) -> str:
        """The issue's operator kind (boundary, comparison, constant, condition, ...)."""
        return kind_of(self.operator)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "module": self.module,
            "operator": self.operator,
            "occurrence": self.occurrence,
            "line": self.line,
            "lines": list(self.lines),
            "definition": self.definition,
            "original": self.original,
            "scope": list(self.scope),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MechanicalMutant:
        return cls(
            id=data["id"],
            module=data["module"],
            operator=data["operator"],
            occurrence=data["occurrence"],
            line=data["line"],
            lines=tuple(data["lines"]),
            definition=data["definition"],
            original=data["original"],
            scope=(data["scope"][0], data["scope"][1]),
        )


def module_paths(paths: Iterable[str], only: Iterable[str] = ()) -> list[str]:
    """Return the mutable modules among ``paths`` (``aethel/...``), or those named in ``only``.

    ``only`` takes paths (``aethel/encoding.py``), dotted names (``aethel.encoding``) or
    directories (``aethel/merkle``).
    """
    every = sorted(p for p in paths if p.endswith(".py") and not p.startswith(EXCLUDED))
    chosen: list[str] = []
    for name in only:
        matched = [m for m in every if _matches(m, name.strip().rstrip("/"))]
        if not matched:
            raise ValueError(f"no mutable module matches {name!r}")
        chosen += [m for m in matched if m not in chosen]
    return sorted(chosen) if chosen else every


def _matches(module: str, name: str) -> bool:
    dotted = module.removesuffix(".py").replace("/", ".")
    return (
        module == name
        or dotted == name
        or module.startswith(name + "/")
        or (dotted.startswith(name + "."))
    )


def _definition(node: Any) -> str:
    names = []
    current = node.parent
    while current is not None:
        if current.type in ("funcdef", "classdef"):
            names.append(current.name.value)
        current = current.parent
    return ".".join(reversed(names)) or "<module>"


def _scope(node: Any) -> tuple[int, int]:
    current = node.parent
    while current is not None:
        if current.type == "funcdef":
            return current.start_pos[0], current.end_pos[0]
        current = current.parent
    return 0, 0


def _statement(node: Any) -> Any:
    current = node
    while current is not None and current.type not in _STATEMENTS:
        current = current.parent
    return current


def enumerate_module(module: str, source: str) -> list[MechanicalMutant]:
    """Return every mutant of one module's source, in operator order then position order."""
    module_tree = parso.parse(source)
    source_lines = source.splitlines()
    found: list[MechanicalMutant] = []
    seen: Counter[str] = Counter()
    for name in operator_names():
        operator = make_operator(name)
        occurrence = 0
        for node in ast_nodes(module_tree):
            for index, (start, end) in enumerate(operator.mutation_positions(node)):
                statement = _statement(node)
                first = statement.start_pos[0] if statement is not None else start[0]
                line_text = source_lines[first - 1].strip() if first <= len(source_lines) else ""
                definition = _definition(node)
                key = "|".join((module, definition, name, line_text, node.get_code(), str(index)))
                seen[key] += 1
                digest = hashlib.sha256(f"{key}|{seen[key]}".encode()).hexdigest()[:8]
                lines = sorted({first, *range(start[0], end[0] + 1)})
                found.append(
                    MechanicalMutant(
                        id=f"{module}:{definition}:{name}:{digest}",
                        module=module,
                        operator=name,
                        occurrence=occurrence,
                        line=start[0],
                        lines=tuple(lines),
                        definition=definition,
                        original=source_lines[start[0] - 1].strip(),
                        scope=_scope(node),
                    )
                )
                occurrence += 1
    return found


def enumerate_mutants(sources: dict[str, str], modules: Iterable[str]) -> list[MechanicalMutant]:
    """Return the mutants of ``modules`` (``sources`` maps each path to its text)."""
    found: list[MechanicalMutant] = []
    for module in modules:
        found += enumerate_module(module, sources[module])
    return found


def apply_mutant(source: str, mutant: MechanicalMutant) -> str | None:
    """Return the module source with ``mutant`` applied, or None if it cannot be applied.

    None also when cosmic-ray's operator fails on the node (its ExceptionReplacer does on a
    dotted name in a tuple, ``except (a.B, C)``) or the result does not compile: such a mutant is
    reported as incompetent, not run.
    """
    try:
        mutated: str | None = MutationVisitor.mutate_code(
            source, make_operator(mutant.operator), mutant.occurrence
        )
        if mutated is None or mutated == source:
            return None
        compile(mutated, mutant.module, "exec")
    except (AttributeError, AssertionError, SyntaxError, ValueError):
        return None
    return mutated


def changed_line(original: str, mutated: str) -> tuple[int, str]:
    """Return the first line that differs and its mutated text (for reports)."""
    for number, (a, b) in enumerate(
        zip(original.splitlines(), mutated.splitlines(), strict=False), start=1
    ):
        if a != b:
            return number, b.strip()
    return 0, ""


def sample(mutants: list[MechanicalMutant], size: int, seed: int) -> list[MechanicalMutant]:
    """Return ``size`` mutants chosen by ``seed`` (the same seed, the same sample), in ID order."""
    if size <= 0 or size >= len(mutants):
        return list(mutants)
    ranked = sorted(mutants, key=lambda m: hashlib.sha256(f"{seed}|{m.id}".encode()).hexdigest())
    return sorted(ranked[:size], key=lambda m: m.id)


def iter_kinds(mutants: Iterable[MechanicalMutant]) -> Iterator[tuple[str, int]]:
    """Yield (kind, count) over ``mutants``."""
    counts = Counter(m.kind for m in mutants)
    yield from sorted(counts.items())
