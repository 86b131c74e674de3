"""Ethereum's public BLS test vectors (conformance/vectors/external/bls, CC0, from
ethereum/bls12-381-tests) run against aethel.crypto.bls: every handler of the ciphersuite
BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_.

The handlers are the draft's functions on bytes; where the protocol's typed objects apply (keys,
signatures), they must give the same verdict, refusing with the rule's error what the vector says
is invalid, and refusing also the point at infinity, which the draft's deserialization accepts
but protocol version 2 does not (V2.4, V2.5).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aethel.crypto import bls
from aethel.errors import UsageError

ROOT = Path(__file__).resolve().parents[2] / "conformance" / "vectors" / "external" / "bls"
#: The hash-to-curve test suite's tag, which the hash_to_G2 vectors use (RFC 9380, J.10.1).
HASH_TO_G2_DST = b"QUUX-V01-CS02-with-BLS12381G2_XMD:SHA-256_SSWU_RO_"
#: The base field modulus p of BLS12-381.
FIELD = int(
    "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab",
    16,
)
INFINITY_G1 = b"\xc0" + bytes(47)
INFINITY_G2 = b"\xc0" + bytes(95)


def _cases(handler: str) -> list[Any]:
    files = sorted((ROOT / handler).glob("*.json"))
    assert files, f"no vectors for {handler}"
    return [
        pytest.param(json.loads(path.read_text(encoding="utf-8")), id=path.stem) for path in files
    ]


def _b(text: str) -> bytes:
    return bytes.fromhex(text.removeprefix("0x"))


def test_every_handler_directory_is_run_and_the_attribution_is_kept() -> None:
    handlers = {p.name for p in ROOT.iterdir() if p.is_dir()} - {"formats"}
    assert handlers == {
        "sign",
        "verify",
        "aggregate",
        "aggregate_verify",
        "fast_aggregate_verify",
        "batch_verify",
        "deserialization_G1",
        "deserialization_G2",
        "hash_to_G2",
    }
    assert "CC0" in (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "ethereum/bls12-381-tests" in (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.req("V2.3")
@pytest.mark.parametrize("vector", _cases("sign"))
def test_sign(vector: dict[str, Any]) -> None:
    data = vector["input"]
    try:
        key = bls.SecretKey.from_bytes(_b(data["privkey"]))
    except UsageError:
        assert vector["output"] is None  # the zero key is not a secret key
        return
    assert key.sign(_b(data["message"])).data == _b(vector["output"])


@pytest.mark.req("V2.3", "V2.4", "V2.5")
@pytest.mark.parametrize("vector", _cases("verify"))
def test_verify(vector: dict[str, Any]) -> None:
    data = vector["input"]
    key, message, signature = _b(data["pubkey"]), _b(data["message"]), _b(data["signature"])
    assert bls.core_verify(key, message, signature) is vector["output"]
    try:
        verdict = bls.verify(
            bls.PublicKey.from_bytes(key), message, bls.Signature.from_bytes(signature)
        )
    except bls.BlsError as exc:
        assert vector["output"] is False
        assert exc.rule_id in ("V2.4", "V2.5")
        return
    assert verdict is vector["output"]


@pytest.mark.req("V2.3")
@pytest.mark.parametrize("vector", _cases("aggregate"))
def test_aggregate(vector: dict[str, Any]) -> None:
    signatures = [_b(s) for s in vector["input"]]
    got = bls.aggregate_bytes(signatures)
    expected = vector["output"]
    assert got == (None if expected is None else _b(expected))
    if expected is not None and INFINITY_G2 not in signatures:
        typed = bls.aggregate([bls.Signature.from_bytes(s) for s in signatures])
        assert typed.data == _b(expected)


@pytest.mark.req("V2.3", "V2.4")
@pytest.mark.parametrize("vector", _cases("fast_aggregate_verify"))
def test_fast_aggregate_verify(vector: dict[str, Any]) -> None:
    data = vector["input"]
    keys = [_b(k) for k in data["pubkeys"]]
    message, signature = _b(data["message"]), _b(data["signature"])
    assert bls.fast_aggregate_verify_bytes(keys, message, signature) is vector["output"]
    try:
        kept = [bls.PublicKey.from_bytes(k) for k in keys]
        verdict = bls.fast_aggregate_verify(kept, message, bls.Signature.from_bytes(signature))
    except bls.BlsError:
        assert vector["output"] is False
        return
    assert verdict is vector["output"]


@pytest.mark.req("V2.3")
@pytest.mark.parametrize("vector", _cases("aggregate_verify"))
def test_aggregate_verify(vector: dict[str, Any]) -> None:
    data = vector["input"]
    got = bls.aggregate_verify_bytes(
        [_b(k) for k in data["pubkeys"]], [_b(m) for m in data["messages"]], _b(data["signature"])
    )
    assert got is vector["output"]


@pytest.mark.req("V2.3")
@pytest.mark.parametrize("vector", _cases("batch_verify"))
def test_batch_verify(vector: dict[str, Any]) -> None:
    data = vector["input"]
    triples = zip(data["pubkeys"], data["messages"], data["signatures"], strict=True)
    got = all(bls.core_verify(_b(k), _b(m), _b(s)) for k, m, s in triples)
    assert got is vector["output"]


def _check_deserialization(
    vector: dict[str, Any],
    member: str,
    parse: Callable[[bytes], bls.PublicKey | bls.Signature],
    point_or_none: Callable[[bytes], object],
    infinity: bytes,
    rule: str,
) -> None:
    """A deserialization vector: the point decodes exactly when the vector says so, and the
    typed parser takes it, except the point at infinity, which it refuses naming ``rule``."""
    data = _b(vector["input"][member])
    assert (point_or_none(data) is not None) is vector["output"]
    if vector["output"] and data != infinity:
        assert parse(data).data == data
        return
    with pytest.raises(bls.BlsError, match="infinity" if vector["output"] else None) as refused:
        parse(data)
    assert refused.value.rule_id == rule


@pytest.mark.req("V2.4")
@pytest.mark.parametrize("vector", _cases("deserialization_G1"))
def test_deserialization_g1(vector: dict[str, Any]) -> None:
    _check_deserialization(
        vector, "pubkey", bls.PublicKey.from_bytes, bls._point_or_none_g1, INFINITY_G1, "V2.4"
    )


@pytest.mark.req("V2.5")
@pytest.mark.parametrize("vector", _cases("deserialization_G2"))
def test_deserialization_g2(vector: dict[str, Any]) -> None:
    _check_deserialization(
        vector, "signature", bls.Signature.from_bytes, bls._point_or_none_g2, INFINITY_G2, "V2.5"
    )


def _compressed_g2(x: str, y: str) -> bytes:
    """Return the ZCash compressed encoding of the affine G2 point (x, y), each 'c0,c1'."""
    x0, x1 = (int(v, 16) for v in x.split(","))
    y0, y1 = (int(v, 16) for v in y.split(","))
    larger = y1 > FIELD - y1 if y1 else y0 > FIELD - y0
    data = bytearray(x1.to_bytes(48, "big") + x0.to_bytes(48, "big"))
    data[0] |= 0x80 | (0x20 if larger else 0)
    return bytes(data)


@pytest.mark.req("V2.3")
@pytest.mark.parametrize("vector", _cases("hash_to_G2"))
def test_hash_to_g2(vector: dict[str, Any]) -> None:
    got = bls.hash_to_g2_bytes(vector["input"]["msg"].encode("ascii"), HASH_TO_G2_DST)
    assert got == _compressed_g2(vector["output"]["x"], vector["output"]["y"])
