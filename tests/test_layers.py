"""The import order of ``aethel/`` and ``conformance/`` (issue 18; ARCHITECTURE.md, "The layers").

Three checks over every import statement of every module, read with :mod:`ast` (nothing is
imported, so a check also sees imports inside functions and under ``TYPE_CHECKING``):

* layers: every module belongs to one layer of :data:`LAYERS` and imports only modules of its own
  layer or a lower one. ``TYPE_CHECKING`` imports count: an annotation that names a module above
  is a dependency upwards all the same;
* no function-local imports: a function may not import a module of ``aethel/`` (an import hidden
  in a function is how a cycle is usually dodged). :data:`LAZY_IMPORTS` lists the exceptions,
  each with its reason;
* no cycles: the graph of the imports that run (module level and inside functions) has no cycle.
  Imports under ``TYPE_CHECKING`` never run and are left out of this graph only: the protocol's
  objects nest (a PRE-PREPARE carries a block, a block carries the commit certificate of its
  parent and evidence, evidence carries messages and a block), so their modules name each other
  in annotations, and nothing else;
* no package facade: a name is imported from the module that defines it. The packages that
  re-exported their submodules' names (:data:`FACADES`) re-export nothing now, and no module
  imports a name through them.

The ``control_*`` tests plant each kind of violation in a copy of a small tree and show the
checks report it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("aethel", "conformance")

#: The layers, lowest first. A module belongs to the layer of the longest prefix naming it (a
#: prefix names a module and everything under it; the bare package ``aethel`` names only
#: ``aethel/__init__.py``). Issue 18 fixes encoding < merkle < state/proofs < consensus core <
#: node < sim < conformance; the rest is placed by what it imports and who imports it.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # Imports nothing of aethel but errors: versions, typed errors, integer arithmetic, the
    # progress line, the spec catalog's thresholds.
    ("base", ("aethel", "aethel.errors", "aethel.arith", "aethel.progress", "aethel.catalog")),
    # Canonical JSON, hashes, signatures (E1-E11), RFC 6962 lists, BLS.
    ("encoding", ("aethel.encoding", "aethel.rfc6962", "aethel.crypto")),
    ("merkle", ("aethel.merkle",)),
    # Rules over money and proofs that state and proofs share, then the two packages.
    ("state/proofs", ("aethel.economics", "aethel.spending", "aethel.state", "aethel.proofs")),
    ("consensus core", ("aethel.consensus",)),
    # The shells that run replicas, and the per-node metrics and health view they serve.
    ("node", ("aethel.monitoring", "aethel.node")),
    # Whole-network analysis: the simulator, and the formal models proved with Z3.
    ("sim", ("aethel.sim", "aethel.formal")),
    # Entry points over everything above: benchmarks and the `aethel` command.
    ("tools", ("aethel.bench", "aethel.cli")),
    ("conformance", ("conformance",)),
)

#: Function-local imports of aethel modules that are allowed, as (importer, imported), each with
#: its reason: the `aethel` subcommands defer loading their machinery until they run, so
#: `aethel --help` and the other commands do not pay for it; the mechanical campaign's server
#: must import aethel after it starts recording coverage.
LAZY_IMPORTS: dict[tuple[str, str], str] = {
    ("aethel.node.cli", "aethel.node.process"): (
        "`aethel node run` only: the asyncio runtime, HTTP API and peer network"
    ),
    ("aethel.node.cli", "aethel.node.load"): "`aethel testnet load` only: the load generator",
    ("aethel.node.cli", "aethel.node.chaos"): "`aethel testnet chaos` only: the chaos campaign",
    ("conformance.mechanical.serve", "aethel"): (
        "a mechanical campaign's implementation process starts coverage first, then imports the "
        "workspace's (mutated) aethel, so that the lines aethel runs at import are recorded too"
    ),
}

#: Import cycles still present, each with why it is not broken yet (issue 18 wants none). The
#: test fails when the cycles found differ from this list either way, so it only shrinks.
PENDING_CYCLES: frozenset[frozenset[str]] = frozenset()

#: The layer order issue 18 fixes, by the names of :data:`LAYERS`, lowest first.
ISSUE_ORDER = ("encoding", "merkle", "state/proofs", "consensus core", "node", "sim", "conformance")

#: Packages whose ``__init__`` re-exported the public names of their submodules until issue 18:
#: their ``__init__`` now holds a docstring that lists the modules, and imports nothing.
FACADES = ("aethel.merkle", "aethel.state")


@dataclass(frozen=True)
class Import:
    """One imported module of one import statement."""

    importer: str
    imported: str
    path: Path
    line: int
    in_function: bool
    type_checking: bool

    def where(self) -> str:
        """Return ``file:line importer -> imported`` for a failure message."""
        return f"{self.path}:{self.line} {self.importer} imports {self.imported}"


def find_modules(root: Path, packages: Iterable[str] = PACKAGES) -> dict[str, Path]:
    """Return every module of ``packages`` under ``root`` by its dotted name."""
    modules: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """Return the module ``name`` loads: itself, or the package of a name imported from it."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _statements(
    node: ast.AST, in_function: bool, type_checking: bool
) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool, bool]]:
    """Yield every import statement under ``node`` with where it stands."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child, in_function, type_checking
        elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            yield from _statements(child, True, type_checking)
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            for statement in child.body:
                yield from _statements(
                    ast.Module(body=[statement], type_ignores=[]), in_function, True
                )
            for statement in child.orelse:
                yield from _statements(
                    ast.Module(body=[statement], type_ignores=[]), in_function, type_checking
                )
        else:
            yield from _statements(child, in_function, type_checking)


def find_imports(root: Path, modules: dict[str, Path]) -> list[Import]:
    """Return every import of a module in ``modules`` made by a module in ``modules``."""
    found: list[Import] = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for statement, in_function, type_checking in _statements(tree, False, False):
            if isinstance(statement, ast.Import):
                targets = [alias.name for alias in statement.names]
            else:
                base = statement.module or ""
                if statement.level:
                    parts = package.split(".")
                    parent = ".".join(parts[: len(parts) - statement.level + 1])
                    base = f"{parent}.{base}" if base else parent
                targets = [f"{base}.{alias.name}" for alias in statement.names]
            resolved_targets = {_resolve(target, modules) for target in targets}
            for resolved in sorted(r for r in resolved_targets if r is not None):
                if resolved == name:
                    continue
                relative = path.relative_to(root)
                found.append(
                    Import(name, resolved, relative, statement.lineno, in_function, type_checking)
                )
    return found


def layer_of(module: str) -> int | None:
    """Return the index in :data:`LAYERS` of ``module``'s layer (None: in no layer)."""
    best: tuple[int, int] | None = None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if prefix == "aethel":
                matches = module == "aethel"
            else:
                matches = module == prefix or module.startswith(prefix + ".")
            if matches and (best is None or len(prefix) > best[0]):
                best = (len(prefix), index)
    return None if best is None else best[1]


def unplaced_modules(modules: Iterable[str]) -> list[str]:
    """Return the modules that belong to no layer."""
    return sorted(m for m in modules if layer_of(m) is None)


def upward_imports(imports: Iterable[Import]) -> list[str]:
    """Return every import of a module of a higher layer."""
    bad = []
    for item in imports:
        here, there = layer_of(item.importer), layer_of(item.imported)
        if here is not None and there is not None and there > here:
            bad.append(f"{item.where()} ({LAYERS[here][0]} < {LAYERS[there][0]})")
    return bad


def local_imports(imports: Iterable[Import]) -> dict[tuple[str, str], list[str]]:
    """Return the function-local imports of aethel modules, by (importer, imported)."""
    found: dict[tuple[str, str], list[str]] = {}
    for item in imports:
        if item.in_function and item.imported.split(".")[0] == "aethel":
            found.setdefault((item.importer, item.imported), []).append(item.where())
    return found


def facade_importers(imports: Iterable[Import]) -> set[str]:
    """Return the modules that import a name (or a submodule) through a package facade."""
    return {item.importer for item in imports if item.imported in FACADES}


def import_cycles(imports: Iterable[Import]) -> set[frozenset[str]]:
    """Return the strongly connected components (of two or more modules) of the imports that
    run: module level and function-local, not ``TYPE_CHECKING``."""
    graph: dict[str, set[str]] = {}
    for item in imports:
        if not item.type_checking:
            graph.setdefault(item.importer, set()).add(item.imported)
            graph.setdefault(item.imported, set())
    # Tarjan's algorithm, iteratively (the graph has hundreds of modules).
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: set[frozenset[str]] = set()
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            advanced = False
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph[successor]))))
                    advanced = True
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.add(frozenset(component))
    return cycles


@pytest.fixture(scope="module")
def repo_imports() -> tuple[dict[str, Path], list[Import]]:
    modules = find_modules(REPO)
    return modules, find_imports(REPO, modules)


def test_every_module_belongs_to_a_layer(
    repo_imports: tuple[dict[str, Path], list[Import]],
) -> None:
    modules, _ = repo_imports
    assert unplaced_modules(modules) == []


def test_no_module_imports_a_higher_layer(
    repo_imports: tuple[dict[str, Path], list[Import]],
) -> None:
    _, imports = repo_imports
    assert upward_imports(imports) == []


def test_no_function_imports_an_aethel_module_unless_allowed(
    repo_imports: tuple[dict[str, Path], list[Import]],
) -> None:
    _, imports = repo_imports
    found = local_imports(imports)
    allowed = set(LAZY_IMPORTS)
    unexplained = [
        where for key, places in sorted(found.items()) if key not in allowed for where in places
    ]
    assert unexplained == [], "import at module level (or add to LAZY_IMPORTS with a reason)"
    stale = sorted(allowed - set(found))
    assert stale == [], "these allowed imports are gone: remove them from the lists"


def test_no_import_cycles(repo_imports: tuple[dict[str, Path], list[Import]]) -> None:
    _, imports = repo_imports
    found = import_cycles(imports)
    new = sorted(sorted(cycle) for cycle in found - PENDING_CYCLES)
    assert new == [], "import cycles (function-local imports included)"
    broken = sorted(sorted(cycle) for cycle in PENDING_CYCLES - found)
    assert broken == [], "these cycles are broken or changed: update PENDING_CYCLES"


def test_no_module_imports_through_a_package_facade(
    repo_imports: tuple[dict[str, Path], list[Import]],
) -> None:
    _, imports = repo_imports
    assert sorted(facade_importers(imports)) == [], (
        "import these names from the submodule that defines them"
    )


@pytest.mark.parametrize("package", FACADES)
def test_a_former_facade_re_exports_nothing(package: str) -> None:
    init = REPO / package.replace(".", "/") / "__init__.py"
    statements = ast.parse(init.read_text(encoding="utf-8")).body
    assert [type(s).__name__ for s in statements] == ["Expr"], "only the docstring"


def test_the_layers_keep_the_order_of_issue_18() -> None:
    names = [name for name, _ in LAYERS]
    positions = [names.index(name) for name in ISSUE_ORDER]
    assert positions == sorted(positions), names


def test_the_lists_name_real_modules(repo_imports: tuple[dict[str, Path], list[Import]]) -> None:
    modules, _ = repo_imports
    named = {m for key in LAZY_IMPORTS for m in key}
    named |= {m for cycle in PENDING_CYCLES for m in cycle}
    named |= set(FACADES)
    assert sorted(named - set(modules)) == []
    prefixes = [p for _, group in LAYERS for p in group]
    assert len(prefixes) == len(set(prefixes)), "a prefix is in two layers"
    assert [m for m in prefixes if m not in modules] == []


# --------------------------------------------------------------------------- controls


def _tree(root: Path, files: dict[str, str]) -> tuple[dict[str, Path], list[Import]]:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    modules = find_modules(root)
    return modules, find_imports(root, modules)


SMALL_TREE = {
    "aethel/__init__.py": "",
    "aethel/encoding.py": "",
    "aethel/consensus/__init__.py": "",
    "aethel/consensus/block.py": "from aethel.encoding import x\n",
    "aethel/node/__init__.py": "",
    "aethel/node/cli.py": "def run():\n    from aethel.node import process\n",
    "aethel/node/process.py": "",
    "conformance/__init__.py": "",
}


def test_control_a_clean_tree_passes(tmp_path: Path) -> None:
    modules, imports = _tree(tmp_path, SMALL_TREE)
    assert unplaced_modules(modules) == []
    assert upward_imports(imports) == []
    assert set(local_imports(imports)) == {("aethel.node.cli", "aethel.node.process")}
    assert import_cycles(imports) == set()


def test_control_an_upward_import_is_found_wherever_it_stands(tmp_path: Path) -> None:
    """Module level, inside a function, under TYPE_CHECKING, relative: all four are found."""
    _, imports = _tree(
        tmp_path,
        {
            **SMALL_TREE,
            "aethel/consensus/a.py": "import aethel.node.process\n",
            "aethel/consensus/b.py": "def f():\n    from ..node.cli import run\n",
            "aethel/consensus/c.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n"
                "    from aethel.node import cli\n"
            ),
            "aethel/encoding.py": "from conformance import x\n",
        },
    )
    bad = upward_imports(imports)
    assert any("a.py:1 aethel.consensus.a imports aethel.node.process" in b for b in bad), bad
    assert any("b.py:2 aethel.consensus.b imports aethel.node.cli" in b for b in bad), bad
    assert any("c.py:3 aethel.consensus.c imports aethel.node.cli" in b for b in bad), bad
    assert any("aethel.encoding imports conformance" in b for b in bad), bad
    assert len(bad) == 4, bad


def test_control_a_module_outside_the_layers_is_found(tmp_path: Path) -> None:
    modules, _ = _tree(tmp_path, {**SMALL_TREE, "aethel/newthing.py": ""})
    assert unplaced_modules(modules) == ["aethel.newthing"]


def test_control_a_cycle_closed_inside_a_function_is_found(tmp_path: Path) -> None:
    _, imports = _tree(
        tmp_path,
        {
            **SMALL_TREE,
            "aethel/consensus/a.py": "from aethel.consensus.b import y\nx = 1\n",
            "aethel/consensus/b.py": "y = 2\ndef f():\n    from aethel.consensus.a import x\n",
        },
    )
    assert import_cycles(imports) == {frozenset({"aethel.consensus.a", "aethel.consensus.b"})}
    assert ("aethel.consensus.b", "aethel.consensus.a") in local_imports(imports)


def test_control_a_cycle_of_annotations_only_is_not_a_cycle(tmp_path: Path) -> None:
    _, imports = _tree(
        tmp_path,
        {
            **SMALL_TREE,
            "aethel/consensus/a.py": "from aethel.consensus.b import y\n",
            "aethel/consensus/b.py": (
                "import typing\nif typing.TYPE_CHECKING:\n    from aethel.consensus.a import x\n"
                "else:\n    y = 1\n"
            ),
        },
    )
    assert import_cycles(imports) == set()
    kinds = {(i.importer, i.type_checking) for i in imports if i.importer.endswith((".a", ".b"))}
    assert kinds == {("aethel.consensus.a", False), ("aethel.consensus.b", True)}


def test_control_an_import_through_a_facade_is_found(tmp_path: Path) -> None:
    """A name or a submodule taken from the package is found; from the defining module, not."""
    _, imports = _tree(
        tmp_path,
        {
            **SMALL_TREE,
            "aethel/merkle/__init__.py": "from aethel.merkle.tree import StateTree\n",
            "aethel/merkle/tree.py": "StateTree = 1\n",
            "aethel/consensus/a.py": "from aethel.merkle import StateTree\n",
            "aethel/consensus/b.py": "from aethel.merkle.tree import StateTree\n",
            "aethel/consensus/c.py": "import aethel.merkle\n",
        },
    )
    assert facade_importers(imports) == {"aethel.consensus.a", "aethel.consensus.c"}
