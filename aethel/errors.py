"""The error tree of the reference implementation.

Every error raised on purpose is an :class:`AethelError`. Two branches matter:

* :class:`ProtocolViolation`: a peer, a message or an implementation under test broke a rule of
  the spec. It carries the rule ID (``R7.5``, ``E3``...) so logs, reports and tests can name the
  rule. A rejected input leaves state unchanged.
* :class:`UsageError`: a local caller misused the API (wrong type, bad configuration). Not a
  protocol matter; fix the call.

Components define narrower subclasses beside their code (for example the state tree's proof
errors); they all inherit from one of these two.
"""

from __future__ import annotations

import re

#: The form of a rule ID: R1.1, N3, T22.1a, T22.3, T22.3.B2, P12, I4, E7, V2.10 (rules of
#: protocol version 2). Here, not in the catalog loader: the catch-up check keeps the rule a
#: certificate check's reason names, and protocol code never loads the spec catalog.
RULE_ID_PATTERN = (
    r"^(R[1-8]\.[1-9]|N[1-9]|T22\.[1-3][a-e]?(\.B[1-9])?|P[1-9][0-9]?|I[1-9][0-9]?|E[1-9][0-9]?"
    r"|V[2-9]\.[1-9][0-9]?)$"
)
_RULE_ID = re.compile(RULE_ID_PATTERN)


def is_rule_id(text: str) -> bool:
    """Return whether ``text`` has the form of a rule ID (``R2.3``, ``N6``, ``T22.3.B4``...)."""
    return _RULE_ID.match(text) is not None


class AethelError(Exception):
    """Root of every error the reference implementation raises on purpose."""


class UsageError(AethelError, ValueError):
    """A local caller misused the API; the message says how to fix the call."""


class ProtocolViolation(AethelError):
    """Input broke the rule ``rule_id`` of the spec; the input was rejected and nothing changed."""

    def __init__(self, rule_id: str, message: str) -> None:
        self.rule_id = rule_id
        self.detail = message
        super().__init__(f"[{rule_id}] {message}")

    def __reduce__(self) -> tuple[type[ProtocolViolation], tuple[str, str]]:
        # Keep (rule_id, message) across pickling: errors cross process-pool boundaries.
        return (type(self), (self.rule_id, self.detail))


class EncodingError(ProtocolViolation):
    """Bytes or values that are not canonical JSON (E1-E5), or objects of another shape (E12)."""


class SignatureError(ProtocolViolation):
    """A missing, malformed or invalid Ed25519 signature (R7.5, E6)."""
