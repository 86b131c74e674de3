"""Ghost identity: proofs signed by one-time keys derived from a holder secret (R5.3, P22).

A holder keeps one secret (at least 32 bytes). Its n-th one-time key is the Ed25519 key whose
seed is HKDF-SHA256 (RFC 5869) of the secret with salt ``aethel/ghost/v1`` and info
``aethel/ghost/key/v1 || n`` (n as 8 bytes big-endian). A ghost proof carries ``ghost = true``
and the one-time public key as its submitter, and nothing else derived from the holder: no
counter, no holder key, no tag. One-time public keys are outputs of a PRF keyed by the secret,
so two ghost proofs of one holder share no public value that links them (the ``ghost`` flag is
the same for every holder).

Rules the holder object keeps: the secret never leaves it (no attribute holds it after
construction, ``repr`` hides the PRF key, pickling is refused), and each counter value is used
once per holder object, so no one-time key signs two proofs. The holder must persist its
counter itself if it is recreated from the same secret.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from collections.abc import Iterable
from typing import NoReturn

from aethel.encoding import KeyPair
from aethel.errors import UsageError
from aethel.proofs.model import Outcome, Proof, ProofKind, sign_proof

SALT = b"aethel/ghost/v1"
INFO = b"aethel/ghost/key/v1"
MIN_SECRET_BYTES = 32


def _hkdf_sha256(prk: bytes, info: bytes) -> bytes:
    """Return the first 32 bytes of HKDF-Expand(prk, info) (RFC 5869 section 2.3)."""
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()


def derive_one_time_seed(secret: bytes, counter: int) -> bytes:
    """Return the Ed25519 seed of the holder's ``counter``-th one-time key (HKDF-SHA256)."""
    if not isinstance(secret, bytes) or len(secret) < MIN_SECRET_BYTES:
        raise UsageError(f"a ghost secret is at least {MIN_SECRET_BYTES} bytes")
    if type(counter) is not int or not 0 <= counter < 2**64:
        raise UsageError(f"counter must be an int in [0, 2**64), got {counter!r}")
    prk = hmac.new(SALT, secret, hashlib.sha256).digest()
    return _hkdf_sha256(prk, INFO + counter.to_bytes(8, "big"))


class GhostHolder:
    """A holder secret that signs each ghost proof with a fresh one-time key (R5.3)."""

    __slots__ = ("_prk", "_used")

    def __init__(self, secret: bytes, *, first_counter: int = 0) -> None:
        if not isinstance(secret, bytes) or len(secret) < MIN_SECRET_BYTES:
            raise UsageError(f"a ghost secret is at least {MIN_SECRET_BYTES} bytes")
        # Keep only the HKDF pseudorandom key, never the secret itself.
        self._prk = hmac.new(SALT, secret, hashlib.sha256).digest()
        self._used = first_counter

    @classmethod
    def generate(cls, rng: random.Random) -> GhostHolder:
        """Draw a holder secret from a seeded RNG (deterministic tests and simulations)."""
        return cls(rng.randbytes(32))

    def __repr__(self) -> str:
        return f"GhostHolder(secret=<hidden>, keys_used={self._used})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("a GhostHolder holds a secret and is never serialized")

    @property
    def keys_used(self) -> int:
        """Return how many one-time keys this holder has handed out."""
        return self._used

    def next_key(self) -> KeyPair:
        """Return the next unused one-time key."""
        seed = _hkdf_sha256(self._prk, INFO + self._used.to_bytes(8, "big"))
        self._used += 1
        return KeyPair.from_seed(seed)

    def sign_proof(
        self,
        *,
        kind: ProofKind,
        smt: str,
        claimed: Outcome = Outcome.UNSAT,
        budget: int,
        subjects: Iterable[bytes] = (),
    ) -> Proof:
        """Return a ghost proof signed by a fresh one-time key (``ghost = true``)."""
        return sign_proof(
            self.next_key(),
            kind=kind,
            smt=smt,
            claimed=claimed,
            budget=budget,
            subjects=subjects,
            ghost=True,
        )
