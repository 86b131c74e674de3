"""Adapters: how the suite talks to an implementation under test.

:mod:`~conformance.adapters.api` defines the interface (grouped by capability),
:mod:`~conformance.adapters.reference` implements it with the reference implementation,
:mod:`~conformance.adapters.stdio` speaks the subprocess protocol to a program in any language,
and :func:`load_implementation` turns an ``--impl`` argument into one of them.
"""

from __future__ import annotations

from conformance.adapters.api import Implementation
from conformance.adapters.errors import (
    Crashed,
    ImplementationError,
    ImplementationFailure,
    ProtocolError,
    Rejected,
    RequestTimeout,
    Unsupported,
)
from conformance.adapters.loader import LoadOptions, load_implementation

__all__ = [
    "Crashed",
    "Implementation",
    "ImplementationError",
    "ImplementationFailure",
    "LoadOptions",
    "ProtocolError",
    "Rejected",
    "RequestTimeout",
    "Unsupported",
    "load_implementation",
]
