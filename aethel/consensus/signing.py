"""Signing and signature checking as injected services, so the core stays pure (R7.5).

The replica never calls the crypto library directly: it signs through a :class:`Signer` and
checks through a :class:`SignatureChecker`. A real node passes :class:`DirectSignatureChecker`;
the simulator passes one that memoizes identical (key, payload, signature) checks across
simulated nodes (a pure function) and charges each node the CPU time of a real check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from aethel.crypto import bls
from aethel.encoding import KeyPair, verify_signature_bytes
from aethel.errors import UsageError

#: KeyGen's key_info for a validator's BLS key derived from its Ed25519 seed (V2.3): the
#: reference's and the harness's convention, so a node needs one secret seed for both keys.
BLS_KEY_INFO = b"aethel/validator-bls-key/v2"

#: One signature check: (public key, signed payload, signature).
SignatureItem = tuple[bytes, bytes, bytes]


class Signed(Protocol):
    """A signed protocol object: the bytes its signer signed, and the signature over them; the
    height it concerns and the bytes it signs in each protocol version (V2.2)."""

    @property
    def payload(self) -> bytes: ...

    @property
    def signature(self) -> bytes: ...

    @property
    def height(self) -> int: ...

    def payload_for(self, version: int) -> bytes: ...


class Signer(Protocol):
    """Signs payloads for one validator."""

    @property
    def validator_id(self) -> str: ...

    @property
    def public_key(self) -> bytes: ...

    def sign(self, payload: bytes) -> bytes:
        """Return the Ed25519 signature of ``payload`` (built with ``signing_bytes``)."""
        ...

    def sign_vote(self, message: bytes) -> bytes:
        """Return the BLS signature (V2.3) of a version-2 vote's bytes; raise UsageError for a
        validator without a BLS key."""
        ...


class SignatureChecker(Protocol):
    """Checks Ed25519 signatures; a pure function of its inputs."""

    def verify(self, public_key: bytes, payload: bytes, signature: bytes) -> bool:
        """Return True iff ``signature`` signs ``payload`` under ``public_key``."""
        ...

    def verify_batch(self, items: Sequence[SignatureItem], batch_id: bytes | None) -> list[bool]:
        """Return one verdict per item; ``batch_id`` (a content hash) may key a memo."""
        ...


def derive_bls_key(seed: bytes) -> bls.SecretKey:
    """Return the BLS secret key of a validator whose Ed25519 seed is ``seed`` (KeyGen over the
    seed with :data:`BLS_KEY_INFO`; the seed holds 32 bytes, as KeyGen needs)."""
    return bls.SecretKey.from_seed(seed, BLS_KEY_INFO)


@dataclass(frozen=True, slots=True)
class KeySigner:
    """A :class:`Signer` over an Ed25519 key pair, and a BLS key for version-2 votes."""

    validator_id: str
    key: KeyPair
    bls_key: bls.SecretKey | None = field(default=None, repr=False)

    @property
    def public_key(self) -> bytes:
        """Return the public key."""
        return self.key.public_key

    def sign(self, payload: bytes) -> bytes:
        """Sign ``payload``."""
        return self.key.sign_bytes(payload)

    def sign_vote(self, message: bytes) -> bytes:
        """Sign a version-2 vote's bytes with the BLS key (V2.3)."""
        if self.bls_key is None:
            raise UsageError(f"validator {self.validator_id} has no BLS key for version 2")
        return self.bls_key.sign(message).data


class DirectSignatureChecker:
    """Check every signature with PyNaCl, no memo (what a real node does)."""

    def verify(self, public_key: bytes, payload: bytes, signature: bytes) -> bool:
        """Return True iff the signature verifies."""
        return verify_signature_bytes(public_key, payload, signature)

    def verify_batch(self, items: Sequence[SignatureItem], batch_id: bytes | None) -> list[bool]:
        """Check each item in order."""
        return [verify_signature_bytes(k, p, s) for k, p, s in items]
