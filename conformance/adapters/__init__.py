"""Adapters: how the suite talks to an implementation under test.

An implementation is reached through :class:`Implementation`; ``load_implementation`` turns an
``--impl`` argument into one. ``reference`` is the Aethel reference implementation.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from aethel.errors import UsageError


class Rejected(Exception):
    """The implementation rejected an input (the expected outcome of a must-reject case)."""


@runtime_checkable
class Implementation(Protocol):
    """What the suite needs from an implementation; grows with each component."""

    name: str
    version: str
    capabilities: frozenset[str]

    def canonical_json(self, value: Any) -> bytes:
        """Encode ``value`` canonically; raise :class:`Rejected` if it has no canonical form."""
        ...

    def parse_canonical_json(self, data: bytes) -> Any:
        """Parse canonical JSON; raise :class:`Rejected` for anything non-canonical."""
        ...


def load_implementation(spec: str) -> Implementation:
    """Return the implementation named by ``spec`` (``reference`` for now)."""
    if spec == "reference":
        from conformance.adapters.reference import ReferenceImplementation

        return ReferenceImplementation()
    raise UsageError(f"unknown implementation {spec!r}; try --impl reference")
