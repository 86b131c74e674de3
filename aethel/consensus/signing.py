"""Signing and signature checking as injected services, so the core stays pure (R7.5).

The replica never calls the crypto library directly: it signs through a :class:`Signer` and
checks through a :class:`SignatureChecker`. A real node passes :class:`DirectSignatureChecker`;
the simulator passes one that memoizes identical (key, payload, signature) checks across
simulated nodes (a pure function) and charges each node the CPU time of a real check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from aethel.encoding import KeyPair, verify_signature_bytes

#: One signature check: (public key, signed payload, signature).
SignatureItem = tuple[bytes, bytes, bytes]


class Signed(Protocol):
    """A signed protocol object: the bytes its signer signed, and the signature over them."""

    @property
    def payload(self) -> bytes: ...

    @property
    def signature(self) -> bytes: ...


class Signer(Protocol):
    """Signs payloads for one validator."""

    @property
    def validator_id(self) -> str: ...

    @property
    def public_key(self) -> bytes: ...

    def sign(self, payload: bytes) -> bytes:
        """Return the Ed25519 signature of ``payload`` (built with ``signing_bytes``)."""
        ...


class SignatureChecker(Protocol):
    """Checks Ed25519 signatures; a pure function of its inputs."""

    def verify(self, public_key: bytes, payload: bytes, signature: bytes) -> bool:
        """Return True iff ``signature`` signs ``payload`` under ``public_key``."""
        ...

    def verify_batch(self, items: Sequence[SignatureItem], batch_id: bytes | None) -> list[bool]:
        """Return one verdict per item; ``batch_id`` (a content hash) may key a memo."""
        ...


@dataclass(frozen=True, slots=True)
class KeySigner:
    """A :class:`Signer` over an Ed25519 key pair."""

    validator_id: str
    key: KeyPair

    @property
    def public_key(self) -> bytes:
        """Return the public key."""
        return self.key.public_key

    def sign(self, payload: bytes) -> bytes:
        """Sign ``payload``."""
        return self.key.sign_bytes(payload)


class DirectSignatureChecker:
    """Check every signature with PyNaCl, no memo (what a real node does)."""

    def verify(self, public_key: bytes, payload: bytes, signature: bytes) -> bool:
        """Return True iff the signature verifies."""
        return verify_signature_bytes(public_key, payload, signature)

    def verify_batch(self, items: Sequence[SignatureItem], batch_id: bytes | None) -> list[bool]:
        """Check each item in order."""
        return [verify_signature_bytes(k, p, s) for k, p, s in items]
