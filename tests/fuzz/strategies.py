"""Hypothesis strategies of hostile input for the fuzzers of tests/fuzz.

SMT texts come from the suite's grammar (:mod:`conformance.suite.smt_grammar`) with Hypothesis
making the choices, so a failure shrinks to a small text and prints it. JSON inputs come from a
grammar of canonical JSON values mutated at the byte level with pieces the canonical form
forbids (E1-E4): fractions, exponents, ``-0``, ``NaN``, escapes, a byte order mark, duplicate
members, deep nesting, invalid UTF-8, trailing data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from conformance.suite import smt_grammar


@dataclass
class HypothesisChooser:
    """A :class:`conformance.suite.smt_grammar.Chooser` backed by Hypothesis's ``draw``."""

    draw: st.DrawFn

    def integer(self, low: int, high: int) -> int:
        return self.draw(st.integers(low, high))


@st.composite
def fragment_texts(draw: st.DrawFn) -> str:
    """Texts inside the fragment."""
    return smt_grammar.fragment_text(HypothesisChooser(draw))


@st.composite
def hostile_texts(draw: st.DrawFn, kind: str | None = None) -> smt_grammar.Hostile:
    """Texts with one forbidden piece and the reason they must get."""
    return smt_grammar.hostile_text(HypothesisChooser(draw), kind)


@st.composite
def mutated_texts(draw: st.DrawFn) -> str:
    """Fragment texts changed at random (no known verdict)."""
    return smt_grammar.mutated_text(HypothesisChooser(draw))


#: Any SMT text the fuzzers send: inside the fragment, hostile with a known reason, or mutated.
any_smt_text = st.one_of(
    fragment_texts(),
    hostile_texts().map(lambda hostile: hostile.text),
    mutated_texts(),
)

# --------------------------------------------------------------------------- JSON

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.text(max_size=8)
    | st.sampled_from(["", "00" * 32, "ff" * 64, "inclusion", "absence", "e\u0301"]),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)

#: Byte strings the canonical form forbids or that break a parser's assumptions.
JSON_PIECES: tuple[bytes, ...] = (
    b"1.5", b"1e3", b"-0", b"NaN", b"Infinity", b"-Infinity", b"1E400", b"0x10", b"01",
    b"9223372036854775808", b"-9223372036854775809", b"1" * 5000,
    b'"\\ud800"', b'"\\u0041"', b'"\\/"', b'"\\x"', b'"\x01"', b'"e\xcc\x81"',
    b"\xef\xbb\xbf", b"\xff", b"\xc3", b"\xed\xa0\x80", b" ", b"\n",
    b'{"a":1,"a":1}', b"[" * 70 + b"]" * 70, b"{" * 3, b"]", b"}", b",", b":", b"true", b"null",
    b"{}", b"[]", b'""', b'"x"', b"[[[[", b'{"":', b"tru", b"nul",
)  # fmt: skip


def canonical_bytes(value: Any) -> bytes:
    """The canonical JSON of ``value`` as the reference writes it (E1)."""
    return json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    ).encode("utf-8", "surrogatepass")


@st.composite
def mutated_bytes(draw: st.DrawFn, base: bytes) -> bytes:
    """``base`` changed by a few splices of :data:`JSON_PIECES`, deletions and repeats."""
    data = base
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(data)))
        way = draw(st.integers(0, 3))
        if way == 0:
            data = data[:at] + draw(st.sampled_from(JSON_PIECES)) + data[at:]
        elif way == 1:
            data = data[:at] + data[at + draw(st.integers(1, 8)) :]
        elif way == 2:
            data = data[:at] + data[at : at + draw(st.integers(1, 16))] * 2 + data[at:]
        else:
            data = data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
    return data


@st.composite
def replaced(draw: st.DrawFn, value: Any) -> Any:
    """``value`` with one member or element replaced by arbitrary JSON, removed, or added."""
    if isinstance(value, dict) and value:
        key = draw(st.sampled_from(sorted(value)))
        way = draw(st.integers(0, 3))
        copy = dict(value)
        if way == 0:
            copy[key] = draw(json_values)
        elif way == 1:
            del copy[key]
        elif way == 2:
            copy[draw(st.text(max_size=6))] = draw(json_values)
        else:
            copy[key] = draw(replaced(value[key]))
        return copy
    if isinstance(value, list) and value:
        index = draw(st.integers(0, len(value) - 1))
        copy_list = list(value)
        way = draw(st.integers(0, 2))
        if way == 0:
            copy_list[index] = draw(json_values)
        elif way == 1:
            del copy_list[index]
        else:
            copy_list[index] = draw(replaced(value[index]))
        return copy_list
    return draw(json_values)
