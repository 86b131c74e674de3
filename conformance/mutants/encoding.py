"""Mutants of the canonical encoding (spec/encoding.md, E3).

Each is an independent implementer's plausible slip in the string rules, written over the
reference's ``encoding`` capability so that everything else stays conformant.
"""

from __future__ import annotations

import json
import re

from conformance.adapters.reference import ReferenceEncoding, ReferenceImplementation
from conformance.mutants import Mutant

#: A lone low surrogate (U+DC00-U+DFFF), as a character or as a JSON escape.
_LOW_CHARACTER = re.compile("[\udc00-\udfff]")
_LOW_ESCAPE = re.compile(r"\\ud[c-f][0-9a-f]{2}")


class HighSurrogatesOnly(ReferenceEncoding):
    """Defect: "lone surrogate" is checked as an unpaired *high* surrogate (U+D800-U+DBFF), the
    half a UTF-16 decoder trips over first; a lone low surrogate such as U+DFFF passes, encoded
    as its escape and parsed back as a string. E3 refuses every surrogate code point."""

    def canonical_json(self, value: object) -> str:
        if isinstance(value, str) and _LOW_CHARACTER.search(value):
            return json.dumps(value).encode("ascii").hex()
        return super().canonical_json(value)

    def parse_canonical_json(self, data: str) -> object:
        text = bytes.fromhex(data).decode("utf-8", "replace")
        if _LOW_ESCAPE.search(text):
            return json.loads(text)
        return super().parse_canonical_json(data)


class HighSurrogatesOnlyImplementation(ReferenceImplementation):
    name = "mutant-high-surrogates-only"

    def make_encoding(self) -> object:
        return HighSurrogatesOnly()


MUTANTS = [
    Mutant(
        name="lone-low-surrogate-accepted",
        defect="only high surrogates count as lone: U+DC00-U+DFFF are encoded and parsed (E3)",
        breaks=("E3",),
        capabilities=("encoding",),
        build=HighSurrogatesOnlyImplementation,
    ),
]
