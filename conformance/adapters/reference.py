"""The reference implementation behind the :class:`Implementation` interface."""

from __future__ import annotations

from typing import Any

from aethel import __version__, encoding
from aethel.errors import EncodingError
from conformance.adapters import Rejected


class ReferenceImplementation:
    """Adapter over ``aethel``: translates its typed errors into :class:`Rejected`."""

    name = "aethel-reference"
    version = __version__
    capabilities = frozenset({"encoding"})

    def canonical_json(self, value: Any) -> bytes:
        try:
            return encoding.canonical_json(value)
        except EncodingError as exc:
            raise Rejected(str(exc)) from exc

    def parse_canonical_json(self, data: bytes) -> Any:
        try:
            return encoding.parse_canonical_json(data)
        except EncodingError as exc:
            raise Rejected(str(exc)) from exc
