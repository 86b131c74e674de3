"""A typed facade over pyblst (Python bindings of supranational's blst): the only module that
imports the binding, so the rest of :mod:`aethel.crypto` is typed and the binding can be swapped.

pyblst exposes the curve operations of BLS12-381 (the primitives Cardano's Plutus builtins name):
points of G1 and G2 with compression, checked decompression, addition, negation, scalar
multiplication and hashing to the curve, the Miller loop and a final-exponentiation comparison.
Decompression follows the ZCash serialization strictly and checks that the point is on the curve
and in the prime-order subgroup; the point at infinity is accepted in its one canonical encoding
(callers that must refuse it check :func:`is_identity`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NewType

from pyblst import (  # type: ignore[import-untyped]
    BlstP1Element,
    BlstP2Element,
    final_verify,
    miller_loop,
)

#: A point of G1 (public keys), opaque.
G1 = NewType("G1", object)
#: A point of G2 (signatures and hashed messages), opaque.
G2 = NewType("G2", object)

G1_SIZE = 48
G2_SIZE = 96

#: The generator of G1 in compressed form (the standard one of BLS12-381).
_G1_GENERATOR_BYTES = bytes.fromhex(
    "97f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb"
)
#: The generator, decompressed once: every verification pairs with it.
_G1_GENERATOR = BlstP1Element.uncompress(_G1_GENERATOR_BYTES)
_G1_IDENTITY = BlstP1Element()
_G2_IDENTITY = BlstP2Element()


class DecodeError(ValueError):
    """Bytes that are not the compressed encoding of a point of the subgroup; ``reason`` says
    which check failed (encoding, on-curve, subgroup), as blst reports it."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def _reason(exc: BaseException) -> str:
    text = str(exc)
    if "NOT_IN_GROUP" in text:
        return "not in the prime-order subgroup"
    if "NOT_ON_CURVE" in text:
        return "not a point of the curve"
    return "not a canonical compressed encoding"


def _uncompress(element: Any, size: int, data: bytes) -> Any:
    """Return blst's point (of ``element``'s group) of a ``size``-byte compressed encoding;
    raise :class:`DecodeError`."""
    if len(data) != size:
        raise DecodeError(f"{len(data)} bytes, not {size}")
    try:
        return element.uncompress(bytes(data))
    except ValueError as exc:
        raise DecodeError(_reason(exc)) from None


def decode_g1(data: bytes) -> G1:
    """Return the G1 point of a 48-byte compressed encoding; raise :class:`DecodeError`."""
    return G1(_uncompress(BlstP1Element, G1_SIZE, data))


def decode_g2(data: bytes) -> G2:
    """Return the G2 point of a 96-byte compressed encoding; raise :class:`DecodeError`."""
    return G2(_uncompress(BlstP2Element, G2_SIZE, data))


def encode_g1(point: G1) -> bytes:
    """Return the 48-byte compressed encoding of ``point``."""
    data: bytes = _as(point).compress()
    return data


def encode_g2(point: G2) -> bytes:
    """Return the 96-byte compressed encoding of ``point``."""
    data: bytes = _as(point).compress()
    return data


def g1_generator() -> G1:
    """Return the generator of G1 (one shared point: no operation changes a point)."""
    return G1(_G1_GENERATOR)


def g1_identity() -> G1:
    """Return the point at infinity of G1."""
    return G1(BlstP1Element())


def g2_identity() -> G2:
    """Return the point at infinity of G2."""
    return G2(BlstP2Element())


def is_identity_g1(point: G1) -> bool:
    """Return whether ``point`` is the point at infinity of G1."""
    result: bool = _as(point) == _G1_IDENTITY
    return result


def is_identity_g2(point: G2) -> bool:
    """Return whether ``point`` is the point at infinity of G2."""
    result: bool = _as(point) == _G2_IDENTITY
    return result


def add_g1(a: G1, b: G1) -> G1:
    """Return a + b in G1."""
    return G1(_as(a) + _as(b))


def add_g2(a: G2, b: G2) -> G2:
    """Return a + b in G2."""
    return G2(_as(a) + _as(b))


def sum_g2(points: Sequence[G2]) -> G2:
    """Return the sum of one or more points of G2 (one loop: no call per addition)."""
    iterator = iter(points)
    total = _as(next(iterator))
    for point in iterator:
        total = total + point
    return G2(total)


def multiples_g2(point: G2, count: int) -> list[G2]:
    """Return [1] point, [2] point, ..., [count] point (count >= 1), by repeated addition."""
    base = _as(point)
    found = [base]
    last = base
    for _ in range(count - 1):
        last = last + base
        found.append(last)
    return found


def mul_g1(point: G1, scalar: int) -> G1:
    """Return [scalar] point in G1 (scalar a non-negative integer below the group order)."""
    return G1(_as(point).scalar_mul(scalar))


def mul_g2(point: G2, scalar: int) -> G2:
    """Return [scalar] point in G2 (scalar a non-negative integer below the group order)."""
    return G2(_as(point).scalar_mul(scalar))


def hash_to_g2(message: bytes, dst: bytes) -> G2:
    """Return hash_to_curve(message) in G2 with the suite BLS12381G2_XMD:SHA-256_SSWU_RO_ and the
    domain separation tag ``dst`` (RFC 9380)."""
    return G2(BlstP2Element.hash_to_group(bytes(message), bytes(dst)))


def pairings_equal(p: G1, q: G2, r: G1, s: G2) -> bool:
    """Return whether e(p, q) == e(r, s)."""
    result: bool = final_verify(miller_loop(_as(p), _as(q)), miller_loop(_as(r), _as(s)))
    return result


def pairing_products_equal(pairs: list[tuple[G1, G2]], r: G1, s: G2) -> bool:
    """Return whether the product of e(p_i, q_i) over ``pairs`` (at least one) equals e(r, s)."""
    loops = [miller_loop(_as(p), _as(q)) for p, q in pairs]
    product = loops[0]
    for loop in loops[1:]:
        product = product * loop
    result: bool = final_verify(product, miller_loop(_as(r), _as(s)))
    return result


def _as(point: object) -> Any:
    return point
