"""The consensus core imports nothing from the node layer (or anything above it).

The core is sans-IO: it decides, the node layer carries the decisions out. If a consensus module
imported ``aethel.node`` (or the simulator, the suite, the formal layer), the dependency would
point upwards and the core could no longer be read, tested or reused on its own. The check reads
every import statement of every module of ``aethel/consensus``, including imports inside
functions and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import aethel

ROOT = Path(aethel.__file__).parent
#: Packages above the consensus core (issue 18's layer order: core < node < sim < conformance).
ABOVE_CORE = (
    "aethel.node",
    "aethel.sim",
    "aethel.bench",
    "aethel.cli",
    "conformance",
    "aethel.formal",
)


def imported_modules(path: Path, root: Path) -> list[tuple[int, str]]:
    """Return (line, module) of every import in ``path`` (a module of the package at ``root``),
    relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = ".".join(path.relative_to(root.parent).with_suffix("").parts[:-1])
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            found.append((node.lineno, base))
            found.extend((node.lineno, f"{base}.{alias.name}") for alias in node.names)
    return found


def upward_imports(root: Path) -> list[str]:
    """Return ``file:line module`` for every import of a layer above the core in the consensus
    package of the ``aethel`` package at ``root``."""
    bad = []
    for path in sorted((root / "consensus").rglob("*.py")):
        for line, module in imported_modules(path, root):
            if any(module == top or module.startswith(top + ".") for top in ABOVE_CORE):
                bad.append(f"{path.relative_to(root.parent)}:{line} imports {module}")
    return bad


def test_the_consensus_core_imports_nothing_from_the_node_layer() -> None:
    assert upward_imports(ROOT) == []


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    """The control: a core module importing the node layer, even inside a function, is found."""
    fake = tmp_path / "aethel" / "consensus"
    fake.mkdir(parents=True)
    (fake / "bad.py").write_text(
        "def f():\n    from ..node.shell import Shell\n    return Shell\n", encoding="utf-8"
    )
    (fake / "worse.py").write_text("import aethel.node.virtual\n", encoding="utf-8")
    found = upward_imports(tmp_path / "aethel")
    assert any("bad.py:2 imports aethel.node.shell" in item for item in found), found
    assert any("worse.py:1 imports aethel.node.virtual" in item for item in found), found
