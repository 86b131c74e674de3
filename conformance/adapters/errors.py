"""What an adapter raises: a rejection (an expected outcome) or a failure of the implementation.

The report maps them to case statuses: :class:`Rejected` escaping a case means the implementation
refused valid input (``fail``); :class:`RequestTimeout` is ``timeout``; the other
:class:`ImplementationFailure` kinds are ``error``.
"""

from __future__ import annotations


class Rejected(Exception):
    """The implementation rejected an input; the expected outcome of a must-reject case.

    ``rule_id`` is the rule the implementation says the input broke, when it names one.
    """

    def __init__(self, message: str, rule_id: str | None = None) -> None:
        self.rule_id = rule_id
        self.message = message
        super().__init__(f"[{rule_id}] {message}" if rule_id else message)

    def __reduce__(self) -> tuple[type[Rejected], tuple[str, str | None]]:
        return (type(self), (self.message, self.rule_id))


class ImplementationFailure(Exception):
    """The implementation could not answer: it crashed, hung, broke the protocol or gave up."""


class ImplementationError(ImplementationFailure):
    """The implementation reported an internal error (not a rejection of the input)."""


class Unsupported(ImplementationFailure):
    """The implementation does not implement a command of a capability it declared."""


class ProtocolError(ImplementationFailure):
    """A message of the implementation broke the subprocess protocol (or its schema)."""


class Crashed(ImplementationFailure):
    """The implementation process exited while a request was pending."""


class RequestTimeout(ImplementationFailure):
    """The implementation did not answer within the per-request timeout."""
