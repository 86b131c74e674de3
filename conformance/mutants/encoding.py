"""Mutants of the canonical encoding (spec/encoding.md, E3).

Each is an independent implementer's plausible slip in the string rules, written over the
reference's ``encoding`` capability so that everything else stays conformant.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from aethel import encoding
from conformance.adapters.errors import Rejected
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


def _utf16_units_off_by_one(name: str) -> list[int]:
    """UTF-16 code units of ``name`` with the outsider's slip: a character up to U+10000
    inclusive is taken as one BMP unit (``ord(ch) <= 0x10000``), so U+10000 sorts as 0x10000,
    after every BMP character, instead of as the surrogate pair D800 DC00."""
    units: list[int] = []
    for ch in name:
        code = ord(ch)
        if code <= 0x10000:
            units.append(code)
        else:
            code -= 0x10000
            units += [0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF)]
    return units


def _encode_off_by_one(value: Any) -> bytes:
    """Canonical JSON with member names ordered by :func:`_utf16_units_off_by_one`."""
    if isinstance(value, dict):
        members = sorted(value.items(), key=lambda item: _utf16_units_off_by_one(item[0]))
        body = b",".join(
            encoding.canonical_json(name) + b":" + _encode_off_by_one(item)
            for name, item in members
        )
        return b"{" + body + b"}"
    if isinstance(value, list):
        return b"[" + b",".join(_encode_off_by_one(item) for item in value) + b"]"
    return encoding.canonical_json(value)


class BmpUpToU10000(ReferenceEncoding):
    """Defect: member names are ordered by UTF-16 code units (E1, RFC 8785) computed with
    ``ord(ch) <= 0x10000`` as the test for one unit: U+10000, the first supplementary
    character, sorts after U+E000 instead of before it. The reference checks every value
    first, so only the order differs."""

    def canonical_json(self, value: object) -> str:
        super().canonical_json(value)
        return _encode_off_by_one(value).hex()

    def parse_canonical_json(self, data: str) -> object:
        raw = bytes.fromhex(data)
        try:
            value = super().parse_canonical_json(data)
        except Rejected as refused:
            # Its own order is what it calls canonical: accept a text in that order.
            try:
                value = json.loads(raw)
                super().canonical_json(value)
            except (ValueError, Rejected):
                raise refused from None
            if _encode_off_by_one(value) == raw:
                return value
            raise
        if _encode_off_by_one(value) != raw:
            raise Rejected("input is JSON but not in canonical form", "E4")
        return value

    def hash_object(self, value: object) -> str:
        super().hash_object(value)
        return hashlib.sha256(_encode_off_by_one(value)).hexdigest()


class BmpUpToU10000Implementation(ReferenceImplementation):
    name = "mutant-bmp-up-to-u10000"

    def make_encoding(self) -> object:
        return BmpUpToU10000()


def _holds(value: object, character: str) -> bool:
    if isinstance(value, str):
        return character in value
    if isinstance(value, dict):
        return any(_holds(k, character) or _holds(v, character) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds(item, character) for item in value)
    return False


class SurrogatesFromD7FF(ReferenceEncoding):
    """Defect: the surrogate range is checked from U+D7FF (``0xD7FF <= c <= 0xDFFF``), one too
    low: the valid scalar value U+D7FF is refused as a lone surrogate (E3)."""

    def canonical_json(self, value: object) -> str:
        if _holds(value, "\ud7ff"):
            raise Rejected("lone surrogate U+D7FF is not a Unicode scalar value", "E3")
        return super().canonical_json(value)

    def parse_canonical_json(self, data: str) -> object:
        if "\ud7ff" in bytes.fromhex(data).decode("utf-8", "replace"):
            raise Rejected("lone surrogate U+D7FF is not a Unicode scalar value", "E3")
        return super().parse_canonical_json(data)

    def hash_object(self, value: object) -> str:
        if _holds(value, "\ud7ff"):
            raise Rejected("lone surrogate U+D7FF is not a Unicode scalar value", "E3")
        return super().hash_object(value)


class SurrogatesFromD7FFImplementation(ReferenceImplementation):
    name = "mutant-surrogates-from-d7ff"

    def make_encoding(self) -> object:
        return SurrogatesFromD7FF()


MUTANTS = [
    Mutant(
        name="lone-low-surrogate-accepted",
        defect="only high surrogates count as lone: U+DC00-U+DFFF are encoded and parsed (E3)",
        breaks=("E3",),
        capabilities=("encoding",),
        build=HighSurrogatesOnlyImplementation,
    ),
    Mutant(
        name="utf16-order-bmp-up-to-u10000",
        defect="member names ordered by UTF-16 units with U+10000 taken as one unit (E1)",
        breaks=("E1",),
        capabilities=("encoding",),
        build=BmpUpToU10000Implementation,
    ),
    Mutant(
        name="surrogates-from-d7ff",
        defect="the surrogate range checked from U+D7FF: the scalar U+D7FF is refused (E3)",
        breaks=("E3",),
        capabilities=("encoding",),
        build=SurrogatesFromD7FFImplementation,
    ),
]
