"""Errors of the state tree: malformed proofs (E9) and inconsistent node stores."""

from __future__ import annotations

from aethel.errors import AethelError, ProtocolViolation


class ProofFormatError(ProtocolViolation):
    """A state tree proof that is not exactly the specified canonical JSON object (E9)."""


class MissingNodeError(AethelError):
    """A node the tree refers to is not in its node store (an incomplete or foreign store)."""


class StoreCorruptionError(AethelError):
    """Bytes read back from a node store do not hash to the node's address."""
