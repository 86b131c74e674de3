"""Deep nesting is refused, never a crash, even where the recursion limit was raised (E4, N6).

The C JSON decoder recurses once per level and stops at the interpreter's recursion limit. At
the default limit that is a RecursionError, which every decoder turns into a typed refusal; where
something raised the limit (py_ecc raises it to 100,000 when imported), a deep text overflowed the
C stack instead: a segmentation fault of the node, the protocol server or the harness. Each
decoder now reads the nesting first there (aethel.encoding.too_deep_for_the_decoder).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from aethel.encoding import nests_deeper_than

#: Run with the raised limit, in a child process: a crash must not take the test run with it.
SCRIPT = """
import asyncio, sys
sys.setrecursionlimit(100_000)
deep = b"[" * 100_000 + b"]" * 100_000
from aethel.encoding import parse_canonical_json
from aethel.errors import EncodingError
try:
    parse_canonical_json(deep)
except EncodingError as exc:
    print("parse_canonical_json", exc.rule_id)
from aethel.state.snapshot import _loads_canonical
try:
    _loads_canonical(deep)
except EncodingError as exc:
    print("snapshot", exc.rule_id)
from conformance.adapters.stdio import parse_line
print("stdio", parse_line(deep)[1])
from conformance.adapters.reference import ReferenceImplementation
from conformance.protocol.server import Server
print("server", Server(ReferenceImplementation()).respond(deep.decode())[0])
"""


@pytest.mark.req("E4", "N6")
def test_nests_deeper_than_skips_string_literals() -> None:
    assert nests_deeper_than(b"[[[]]]", 2)
    assert not nests_deeper_than(b"[[[]]]", 3)
    assert not nests_deeper_than(b'["[[[[[["]', 2)  # brackets in a string do not nest
    assert not nests_deeper_than(b'["a\\"[[[["]', 1)  # nor after an escaped quote
    assert nests_deeper_than(b'{"a":[{"b":[]}]}', 3)
    assert nests_deeper_than(b'[[],[[[["x"]]]]]', 4)  # a closed sibling does not hide depth
    assert not nests_deeper_than(b'[[],[[["x"]]]]', 4)


@pytest.mark.req("E4", "N6")
def test_a_deep_text_is_refused_even_with_a_raised_recursion_limit() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    lines = done.stdout.splitlines()
    assert lines[:2] == ["parse_canonical_json E4", "snapshot E4"], lines
    assert lines[2] == "stdio the line nests deeper than 128 levels", lines
    assert lines[3].startswith("server ") and '"bad-request"' in lines[3], lines
