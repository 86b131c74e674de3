"""Typed errors of proofs, transactions, the SMT text check and the mempool.

Each is a :class:`ProtocolViolation` naming the rule the input broke; a rejected input changes
nothing. :class:`SignatureError` (R7.5, R5.5) comes from :mod:`aethel.errors`.
"""

from __future__ import annotations

from aethel.errors import EncodingError, ProtocolViolation


class MalformedObjectError(EncodingError):
    """A proof or transaction with wrong members, types, sizes or limits (E2-E5, E12, N6)."""


class SmtTextError(ProtocolViolation):
    """SMT-LIB2 text outside the accepted subset (N6); raised before the solver sees it."""


class SmtSyntaxError(SmtTextError):
    """Text that is not a well-formed sequence of S-expressions (bad token, unbalanced parens)."""


class ForbiddenCommandError(SmtTextError):
    """A top-level command outside the declaration/definition/assertion subset."""


class ForbiddenConstructError(SmtTextError):
    """A sort, operator, literal, form or undeclared symbol outside the accepted fragment."""


class SmtLimitError(SmtTextError):
    """Text over a size limit of :data:`aethel.proofs.smt_text.LIMITS`."""


class TransactionRejected(ProtocolViolation):
    """A transaction the judge or the mempool refuses: overdraft, nonce order, conflict (R7.1)."""


class ProofRejected(ProtocolViolation):
    """A proof the mempool refuses: invalid or unknown verification result, duplicate (R1.5)."""


class MempoolFull(ProtocolViolation):
    """The bounded mempool is full and the new proof ranks below every pending one (N6)."""
