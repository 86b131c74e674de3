"""How to run an implementation that is a subprocess: its start-up and per-request timeouts, and
whether its messages are checked against the protocol's schema.

The loader (:mod:`conformance.adapters.loader`, which reads ``--impl``) and the subprocess adapter
(:mod:`conformance.adapters.stdio`, which it starts) both take these options; they live here so
that neither module imports the other back (issue 18: no import cycles).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LoadOptions:
    """How to run a subprocess implementation."""

    startup_timeout_s: float = 20.0
    request_timeout_s: float = 60.0
    validate_protocol: bool = False
