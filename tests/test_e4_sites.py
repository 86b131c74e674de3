"""E4 means one thing (issue 18): only the byte decoders refuse input naming E4.

spec/encoding.md: E4 is about bytes only (invalid UTF-8, whitespace, member order, duplicate names,
trailing data, nesting); an object of the wrong members is an E12 case, or its area's own rule.
This test reads every ``raise`` of ``aethel/`` and ``conformance/`` with :mod:`ast` and fails on
one that passes the rule ID "E4" outside the modules whose job is decoding bytes
(:data:`BYTE_DECODERS`). ``conformance/mutants/`` is left out: a mutant is the reference with a
defect, and ``proof-shape-named-e4`` is that defect on purpose.

A tooling test of the code's refusals, not of a protocol rule: it cites no rule ID.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ROOTS = ("aethel", "conformance")
LEFT_OUT = ("conformance/mutants/",)

#: Files that decode bytes and may name E4, each with what it decodes.
BYTE_DECODERS: dict[str, str] = {
    "aethel/encoding.py": "canonical JSON: the one strict decoder (E1-E4)",
    "aethel/node/api.py": "a client request's body: JSON read before it is typed",
    "conformance/starter/templates/python/aethel_starter.py": (
        "the starter implementation's canonical JSON decoder"
    ),
}


def e4_raises(root: Path, roots: tuple[str, ...] = ROOTS) -> Iterator[str]:
    """Yield ``path:line`` of every ``raise`` whose exception is built with the argument "E4"."""
    for name in roots:
        for path in sorted((root / name).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            if relative.startswith(LEFT_OUT):
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=relative)
            lines = []
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                    continue
                call = node.exc
                values = [*call.args, *(keyword.value for keyword in call.keywords)]
                if any(isinstance(v, ast.Constant) and v.value == "E4" for v in values):
                    lines.append(node.lineno)
            yield from (f"{relative}:{line}" for line in sorted(lines))


def test_only_byte_decoders_name_e4() -> None:
    found = list(e4_raises(REPO))
    outside = [site for site in found if site.rpartition(":")[0] not in BYTE_DECODERS]
    assert outside == [], "a shape error names E12 (or its area's rule), not E4"
    assert found, "the scan found no E4 refusal at all: it no longer reads the code"


def test_the_byte_decoders_exist() -> None:
    assert [p for p in BYTE_DECODERS if not (REPO / p).is_file()] == []


def test_control_a_shape_error_named_e4_is_found(tmp_path: Path) -> None:
    (tmp_path / "aethel" / "consensus").mkdir(parents=True)
    (tmp_path / "aethel" / "encoding.py").write_text(
        'def parse(data):\n    raise EncodingError("E4", "not canonical")\n', encoding="utf-8"
    )
    (tmp_path / "aethel" / "consensus" / "wire.py").write_text(
        "def parse(value):\n"
        '    if "type" not in value:\n'
        '        raise ProtocolViolation("E4", "a message has a type")\n'
        '    raise Rejected("members", rule="E4")\n'
        '    raise ProtocolViolation("E12", "a message has a type")\n',
        encoding="utf-8",
    )
    found = list(e4_raises(tmp_path, ("aethel",)))
    assert found == [
        "aethel/consensus/wire.py:3",
        "aethel/consensus/wire.py:4",
        "aethel/encoding.py:2",
    ]
