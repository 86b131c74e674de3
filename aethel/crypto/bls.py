"""BLS signatures of protocol version 2: BLS12-381, the ciphersuite
``BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_`` (the IRTF BLS signature draft, as Ethereum uses it).

Public keys are points of G1 (48 bytes compressed), signatures and proofs of possession points of
G2 (96 bytes compressed), both in the ZCash serialization. Keys, signatures and proofs are byte for
byte those of blst, py_ecc and the other implementations of the ciphersuite (tests/crypto).

Two layers:

* the protocol's typed objects: a :class:`PublicKey` is parsed and validated once (V2.4) and keeps
  its point, so checking a certificate of thousands of signers costs point additions and one
  pairing check, never a decompression per signer; a :class:`Signature` is a checked point of the
  subgroup other than the point at infinity (V2.5); :func:`register_key` admits a key only with a
  valid proof of possession (V2.6);
* the standard's functions on bytes (:func:`key_validate`, :func:`core_verify` ...
  :func:`pop_verify`), with the draft's exact semantics, for known-answer vectors and interop.

Spec: V2.3, V2.4, V2.5, V2.6.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from aethel.crypto import _blst
from aethel.errors import ProtocolViolation, UsageError

#: The ciphersuite ID, also the domain separation tag of hash_to_curve for signatures (V2.3).
CIPHERSUITE_ID = "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"
SIGNATURE_DST = CIPHERSUITE_ID.encode("ascii")
#: The domain separation tag of proofs of possession (V2.6).
POP_DST = b"BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"
#: The order r of G1 and G2.
ORDER = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001
PUBLIC_KEY_SIZE = _blst.G1_SIZE
SIGNATURE_SIZE = _blst.G2_SIZE
SECRET_KEY_SIZE = 32
#: KeyGen's input keying material must hold at least 32 bytes.
MIN_SEED_SIZE = 32

KEY_RULE = "V2.4"
SIGNATURE_RULE = "V2.5"
POSSESSION_RULE = "V2.6"


class BlsError(ProtocolViolation):
    """A BLS public key, signature or proof of possession broke its rule (V2.4, V2.5, V2.6)."""


_Point = TypeVar("_Point", _blst.G1, _blst.G2)


def _checked_point(
    data: bytes,
    rule: str,
    what: str,
    decode: Callable[[bytes], _Point],
    is_identity: Callable[[_Point], bool],
) -> _Point:
    """Return the point ``data`` encodes, or raise :class:`BlsError` naming ``rule``: ``data``
    must be bytes, the canonical compressed encoding of a point of the prime-order subgroup, and
    not the point at infinity (KeyValidate for a key, V2.4; a signature, V2.5)."""
    if not isinstance(data, bytes):
        raise BlsError(rule, f"a {what} is bytes, not {type(data).__name__}")
    try:
        point = decode(data)
    except _blst.DecodeError as exc:
        raise BlsError(rule, f"{what} refused: {exc.reason}") from None
    if is_identity(point):
        raise BlsError(rule, f"{what} refused: the point at infinity")
    return point


# --------------------------------------------------------------------------- keys


def _hkdf_extract(salt: bytes, ikm: bytes) -> bytes:
    return hmac.new(salt, ikm, hashlib.sha256).digest()


def _hkdf_expand(prk: bytes, info: bytes, length: int) -> bytes:
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def keygen(ikm: bytes, key_info: bytes = b"") -> int:
    """Return the secret scalar KeyGen derives from ``ikm`` (the draft's KeyGen, version 4 on:
    HKDF-SHA-256 with the salt hashed until the scalar is not zero)."""
    if not isinstance(ikm, bytes) or len(ikm) < MIN_SEED_SIZE:
        raise UsageError(f"a BLS seed holds at least {MIN_SEED_SIZE} bytes")
    salt = b"BLS-SIG-KEYGEN-SALT-"
    length = 48  # ceil(3 * ceil(log2(r)) / 16)
    scalar = 0
    while scalar == 0:
        salt = hashlib.sha256(salt).digest()
        prk = _hkdf_extract(salt, ikm + b"\x00")
        okm = _hkdf_expand(prk, key_info + length.to_bytes(2, "big"), length)
        scalar = int.from_bytes(okm, "big") % ORDER
    return scalar


@dataclass(frozen=True, slots=True)
class PublicKey:
    """A validated public key (V2.4) with its point, parsed once and kept.

    Build it with :meth:`from_bytes` (or :meth:`SecretKey.public_key`); the constructor does not
    check anything.
    """

    data: bytes
    point: _blst.G1 = field(repr=False, compare=False, hash=False)

    @classmethod
    def from_bytes(cls, data: bytes) -> PublicKey:
        """Parse and validate a key: 48 bytes, the canonical compressed encoding of a point of
        the prime-order subgroup of G1 other than the point at infinity (KeyValidate; V2.4)."""
        point = _checked_point(
            data, KEY_RULE, "BLS public key", _blst.decode_g1, _blst.is_identity_g1
        )
        return cls(data, point)

    def __reduce__(self) -> tuple[object, tuple[bytes]]:
        # The binding's points do not pickle: a key crosses processes as its bytes.
        return (PublicKey.from_bytes, (self.data,))


@dataclass(frozen=True, slots=True)
class Signature:
    """A signature or an aggregate: a point of G2's prime-order subgroup, parsed once.

    :meth:`from_bytes` refuses the point at infinity (V2.5); :func:`aggregate` can still return
    it (signatures that cancel), and such an aggregate never verifies under a valid key.
    """

    data: bytes
    point: _blst.G2 = field(repr=False, compare=False, hash=False)

    @classmethod
    def from_bytes(cls, data: bytes) -> Signature:
        """Parse a signature: 96 bytes, the canonical compressed encoding of a point of the
        prime-order subgroup of G2 other than the point at infinity (V2.5)."""
        point = _checked_point(
            data, SIGNATURE_RULE, "BLS signature", _blst.decode_g2, _blst.is_identity_g2
        )
        return cls(data, point)

    @classmethod
    def _of(cls, point: _blst.G2) -> Signature:
        return cls(_blst.encode_g2(point), point)

    def __reduce__(self) -> tuple[object, tuple[bytes]]:
        return (Signature.from_bytes, (self.data,))


@dataclass(frozen=True, slots=True)
class SecretKey:
    """A BLS secret key: a scalar in [1, r). Never printed (R5.3)."""

    scalar: int = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.scalar, int) or not 0 < self.scalar < ORDER:
            raise UsageError("a BLS secret key is an integer in [1, r)")

    @classmethod
    def from_seed(cls, seed: bytes, key_info: bytes = b"") -> SecretKey:
        """Derive the key of ``seed`` (at least 32 bytes) with KeyGen."""
        return cls(keygen(seed, key_info))

    @classmethod
    def from_bytes(cls, data: bytes) -> SecretKey:
        """Read a 32-byte big-endian scalar."""
        if not isinstance(data, bytes) or len(data) != SECRET_KEY_SIZE:
            raise UsageError(f"a BLS secret key is {SECRET_KEY_SIZE} bytes")
        return cls(int.from_bytes(data, "big"))

    def to_bytes(self) -> bytes:
        """Return the 32-byte big-endian scalar."""
        return self.scalar.to_bytes(SECRET_KEY_SIZE, "big")

    def public_key(self) -> PublicKey:
        """Return SkToPk: [sk] of the generator of G1."""
        point = _blst.mul_g1(_blst.g1_generator(), self.scalar)
        return PublicKey(_blst.encode_g1(point), point)

    def sign(self, message: bytes) -> Signature:
        """Return the signature of ``message``: [sk] hash_to_G2(message, ciphersuite ID)."""
        return Signature._of(_blst.mul_g2(_blst.hash_to_g2(message, SIGNATURE_DST), self.scalar))

    def prove_possession(self) -> Signature:
        """Return PopProve: [sk] hash_to_G2(public key bytes, POP tag) (V2.6)."""
        key = self.public_key().data
        return Signature._of(_blst.mul_g2(_blst.hash_to_g2(key, POP_DST), self.scalar))


# --------------------------------------------------------------------------- checks on kept keys


def _core_verify(key: _blst.G1, message: bytes, dst: bytes, signature: _blst.G2) -> bool:
    return _blst.pairings_equal(
        key, _blst.hash_to_g2(message, dst), _blst.g1_generator(), signature
    )


def verify(key: PublicKey, message: bytes, signature: Signature) -> bool:
    """Return whether ``signature`` signs ``message`` under ``key`` (V2.3)."""
    return _core_verify(key.point, message, SIGNATURE_DST, signature.point)


def aggregate(signatures: Sequence[Signature]) -> Signature:
    """Return the aggregate (the sum) of one or more signatures."""
    if not signatures:
        raise UsageError("aggregate needs at least one signature")
    total = signatures[0].point
    for signature in signatures[1:]:
        total = _blst.add_g2(total, signature.point)
    return Signature._of(total)


def aggregate_keys(keys: Sequence[PublicKey]) -> _blst.G1:
    """Return the sum of one or more kept keys' points."""
    if not keys:
        raise UsageError("aggregate_keys needs at least one key")
    total = keys[0].point
    for key in keys[1:]:
        total = _blst.add_g1(total, key.point)
    return total


def fast_aggregate_verify(keys: Sequence[PublicKey], message: bytes, signature: Signature) -> bool:
    """Return whether ``signature`` aggregates the signatures of ``message`` by every one of
    ``keys`` (FastAggregateVerify over kept keys; False for no keys). Sound only for keys
    registered with a proof of possession (V2.6)."""
    if not keys:
        return False
    total = aggregate_keys(keys)
    if _blst.is_identity_g1(total):
        return False
    return _core_verify(total, message, SIGNATURE_DST, signature.point)


def verify_possession(key: PublicKey, proof: Signature) -> bool:
    """Return whether ``proof`` is a proof of possession of ``key``'s secret key (PopVerify)."""
    return _core_verify(key.point, key.data, POP_DST, proof.point)


def register_key(key: bytes, proof: bytes) -> PublicKey:
    """Admit a validator's key: parse and validate it (V2.4), parse its proof (V2.5) and check
    that the proof proves possession (V2.6); return the kept key or raise :class:`BlsError`."""
    public_key = PublicKey.from_bytes(key)
    try:
        signature = Signature.from_bytes(proof)
    except BlsError as exc:
        raise BlsError(POSSESSION_RULE, f"proof of possession refused: {exc.detail}") from None
    if not verify_possession(public_key, signature):
        raise BlsError(POSSESSION_RULE, "the proof of possession does not verify for this key")
    return public_key


# --------------------------------------------------------------------------- the draft, on bytes


def _point_or_none_g1(data: bytes) -> _blst.G1 | None:
    try:
        return _blst.decode_g1(data)
    except _blst.DecodeError:
        return None


def _point_or_none_g2(data: bytes) -> _blst.G2 | None:
    try:
        return _blst.decode_g2(data)
    except _blst.DecodeError:
        return None


def key_validate(key: bytes) -> bool:
    """KeyValidate: a canonical point of the subgroup of G1 other than infinity."""
    point = _point_or_none_g1(key)
    return point is not None and not _blst.is_identity_g1(point)


def core_verify(key: bytes, message: bytes, signature: bytes) -> bool:
    """Verify of the ciphersuite: KeyValidate(key), the signature a point of the subgroup (the
    point at infinity included, as the draft says), and the pairing check."""
    if not key_validate(key):
        return False
    sig = _point_or_none_g2(signature)
    if sig is None:
        return False
    point = _blst.decode_g1(key)
    return _core_verify(point, message, SIGNATURE_DST, sig)


def aggregate_bytes(signatures: Sequence[bytes]) -> bytes | None:
    """Aggregate of the draft: the sum of one or more subgroup points (None if there are none or
    one does not decode); the point at infinity is a valid input and output here."""
    if not signatures:
        return None
    points = [_point_or_none_g2(s) for s in signatures]
    total = _blst.g2_identity()
    for point in points:
        if point is None:
            return None
        total = _blst.add_g2(total, point)
    return _blst.encode_g2(total)


def fast_aggregate_verify_bytes(keys: Sequence[bytes], message: bytes, signature: bytes) -> bool:
    """FastAggregateVerify of the draft: at least one key, each passing KeyValidate."""
    if not keys or not all(key_validate(k) for k in keys):
        return False
    sig = _point_or_none_g2(signature)
    if sig is None:
        return False
    total = _blst.decode_g1(keys[0])
    for key in keys[1:]:
        total = _blst.add_g1(total, _blst.decode_g1(key))
    if _blst.is_identity_g1(total):
        return False
    return _core_verify(total, message, SIGNATURE_DST, sig)


def aggregate_verify_bytes(
    keys: Sequence[bytes], messages: Sequence[bytes], signature: bytes
) -> bool:
    """AggregateVerify of the draft (one message per key; the POP scheme allows repeats)."""
    if not keys or len(keys) != len(messages) or not all(key_validate(k) for k in keys):
        return False
    sig = _point_or_none_g2(signature)
    if sig is None:
        return False
    pairs = [
        (_blst.decode_g1(k), _blst.hash_to_g2(m, SIGNATURE_DST))
        for k, m in zip(keys, messages, strict=True)
    ]
    return _blst.pairing_products_equal(pairs, _blst.g1_generator(), sig)


def pop_verify(key: bytes, proof: bytes) -> bool:
    """PopVerify of the draft: KeyValidate(key), the proof a subgroup point, the pairing check."""
    if not key_validate(key):
        return False
    sig = _point_or_none_g2(proof)
    if sig is None:
        return False
    return _core_verify(_blst.decode_g1(key), key, POP_DST, sig)


def hash_to_g2_bytes(message: bytes, dst: bytes) -> bytes:
    """Return the compressed encoding of hash_to_curve(message) in G2 under ``dst`` (RFC 9380)."""
    return _blst.encode_g2(_blst.hash_to_g2(message, dst))
