"""The BLS operations a version-2 replica performs on votes and certificates, as one injected
service (like :class:`aethel.consensus.signing.SignatureChecker` for Ed25519), so the core stays
pure and a simulator can memoize them and charge each node its CPU time (V2.3, V2.5, V2.8, V2.9).

:data:`DIRECT` computes every operation with :mod:`aethel.crypto.bls`; a node uses it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from aethel.consensus.v2.roster import Roster
from aethel.crypto import bls


class AggregateChecker(Protocol):
    """Parses, checks and adds BLS signatures; pure functions of their inputs."""

    def signature(self, data: bytes) -> bls.Signature:
        """Parse a vote's signature; raise :class:`aethel.crypto.bls.BlsError` (V2.5)."""
        ...

    def verify(self, key: bls.PublicKey, message: bytes, signature: bls.Signature) -> bool:
        """Return whether ``signature`` signs ``message`` under ``key`` (V2.3)."""
        ...

    def fast_aggregate_verify(
        self, keys: Sequence[bls.PublicKey], message: bytes, signature: bls.Signature
    ) -> bool:
        """Return whether ``signature`` aggregates every one of ``keys``' signatures of
        ``message`` (V2.8)."""
        ...

    def aggregate(self, signatures: Sequence[bls.Signature]) -> bls.Signature:
        """Return the sum of one or more signatures (V2.7)."""
        ...


class DirectAggregateChecker:
    """Every operation computed with :mod:`aethel.crypto.bls`, no memo (what a node does)."""

    def signature(self, data: bytes) -> bls.Signature:
        """Parse ``data`` (V2.5)."""
        return bls.Signature.from_bytes(data)

    def verify(self, key: bls.PublicKey, message: bytes, signature: bls.Signature) -> bool:
        """Check one signature."""
        return bls.verify(key, message, signature)

    def fast_aggregate_verify(
        self, keys: Sequence[bls.PublicKey], message: bytes, signature: bls.Signature
    ) -> bool:
        """Check an aggregate over kept keys."""
        return bls.fast_aggregate_verify(keys, message, signature)

    def aggregate(self, signatures: Sequence[bls.Signature]) -> bls.Signature:
        """Add signatures."""
        return bls.aggregate(signatures)


#: The direct checker, shared (it holds no state).
DIRECT = DirectAggregateChecker()


def signed_by_registered_key(
    roster: Roster | None,
    validator: str,
    message: bytes,
    signature: bytes,
    checker: AggregateChecker,
) -> bool:
    """Return True if ``signature`` is ``validator``'s BLS signature of ``message`` under the key
    it registered in ``roster`` (V2.3, V2.6); False for a validator not in the roster (or no
    roster) and for bytes that are not a signature (V2.5). One pairing check, through
    ``checker``: the replica's service, or :data:`DIRECT` for evidence. Callers count the check.
    """
    position = None if roster is None else roster.index.get(validator)
    if roster is None or position is None:
        return False
    try:
        parsed = checker.signature(signature)
    except bls.BlsError:
        return False
    return checker.verify(roster.members[position].key, message, parsed)
