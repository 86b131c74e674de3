"""aethel.crypto.bls, the protocol's typed layer: keys validated once and kept (V2.4), strict
signatures (V2.5), proofs of possession refusing rogue keys (V2.6), sign/verify/aggregate (V2.3).
"""

from __future__ import annotations

import pickle

import pytest

from aethel.crypto import _blst, bls
from aethel.errors import ProtocolViolation, UsageError

INFINITY_G1 = b"\xc0" + bytes(47)
INFINITY_G2 = b"\xc0" + bytes(95)
#: On the curve but outside the prime-order subgroup (Ethereum's deserialization vectors).
NOT_IN_G1 = bytes.fromhex("8123456789abcdef" + "0123456789abcdef" * 5)
NOT_IN_G2 = bytes.fromhex("8123456789abcdef" + "0123456789abcdef" * 11)
MESSAGE = b"aethel/commit/v2\x00{}"


def _key(i: int) -> bls.SecretKey:
    return bls.SecretKey.from_seed(bytes([i]) * 32)


@pytest.mark.req("V2.3")
def test_sign_verify_and_fast_aggregate_verify() -> None:
    keys = [_key(i) for i in range(1, 5)]
    public = [k.public_key() for k in keys]
    signatures = [k.sign(MESSAGE) for k in keys]
    assert all(bls.verify(p, MESSAGE, s) for p, s in zip(public, signatures, strict=True))
    assert not bls.verify(public[0], MESSAGE + b"x", signatures[0])
    assert not bls.verify(public[1], MESSAGE, signatures[0])
    total = bls.aggregate(signatures)
    assert bls.fast_aggregate_verify(public, MESSAGE, total)
    assert not bls.fast_aggregate_verify(public[:3], MESSAGE, total)
    assert not bls.fast_aggregate_verify(public, MESSAGE + b"x", total)
    assert not bls.fast_aggregate_verify([], MESSAGE, total)
    assert bls.aggregate(signatures[:1]) == signatures[0]
    with pytest.raises(UsageError):
        bls.aggregate([])


@pytest.mark.req("V2.4")
def test_kept_keys_are_never_parsed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    keys = [_key(i) for i in range(1, 4)]
    public = [bls.PublicKey.from_bytes(k.public_key().data) for k in keys]
    total = bls.aggregate([k.sign(MESSAGE) for k in keys])

    def no_decoding(data: bytes) -> object:
        raise AssertionError("a kept key was decoded again")

    monkeypatch.setattr(_blst, "decode_g1", no_decoding)
    assert bls.fast_aggregate_verify(public, MESSAGE, total)
    assert bls.verify(public[0], MESSAGE, keys[0].sign(MESSAGE))


@pytest.mark.req("V2.4")
@pytest.mark.rejects("V2.4")
@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (INFINITY_G1, "infinity"),
        (NOT_IN_G1, "subgroup"),
        (NOT_IN_G1[:-1] + b"\xe0", "curve"),
        (b"\x00" * 48, "canonical"),
        (INFINITY_G1[:-1], "47 bytes"),
        (INFINITY_G1 + b"\x00", "49 bytes"),
        ("c0" * 48, "bytes, not str"),
    ],
    ids=[
        "infinity",
        "not-in-subgroup",
        "not-on-curve",
        "no-compression-flag",
        "short",
        "long",
        "hex-text",
    ],
)
def test_bad_public_keys_are_refused_naming_v2_4(data: bytes, reason: str) -> None:
    with pytest.raises(bls.BlsError, match=reason) as refused:
        bls.PublicKey.from_bytes(data)
    assert refused.value.rule_id == "V2.4"
    assert isinstance(refused.value, ProtocolViolation)


@pytest.mark.req("V2.5")
@pytest.mark.rejects("V2.5")
@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (INFINITY_G2, "infinity"),
        (NOT_IN_G2, "subgroup"),
        (b"\x00" * 96, "canonical"),
        (INFINITY_G2[:-1], "95 bytes"),
        (bytearray(INFINITY_G2), "bytes, not bytearray"),
    ],
    ids=["infinity", "not-in-subgroup", "no-compression-flag", "short", "bytearray"],
)
def test_bad_signatures_are_refused_naming_v2_5(data: bytes, reason: str) -> None:
    with pytest.raises(bls.BlsError, match=reason) as refused:
        bls.Signature.from_bytes(data)
    assert refused.value.rule_id == "V2.5"


@pytest.mark.req("V2.3", "V2.4")
def test_an_infinity_key_with_an_infinity_signature_verifies_nothing() -> None:
    """The reason for V2.4 and V2.5: e(O, H(m)) = e(G, O) = 1 for every message."""
    assert not bls.core_verify(INFINITY_G1, MESSAGE, INFINITY_G2)
    assert not bls.fast_aggregate_verify_bytes([INFINITY_G1], MESSAGE, INFINITY_G2)
    identity = bls.PublicKey(INFINITY_G1, _blst.g1_identity())  # bypassing validation
    signature = bls.Signature(INFINITY_G2, _blst.g2_identity())
    assert bls.verify(identity, MESSAGE, signature), "the pairing check alone accepts it"


@pytest.mark.req("V2.6")
def test_registration_keeps_a_key_with_its_proof() -> None:
    key = _key(7)
    kept = bls.register_key(key.public_key().data, key.prove_possession().data)
    assert kept == key.public_key()
    assert bls.verify_possession(kept, key.prove_possession())


@pytest.mark.req("V2.6")
@pytest.mark.rejects("V2.6")
def test_a_rogue_key_cannot_register() -> None:
    """The rogue-key attack: the attacker publishes pk_r = [x]G - pk_v and signs alone for both."""
    victim, attacker = _key(1).public_key(), _key(2)
    minus_victim = _blst.mul_g1(victim.point, bls.ORDER - 1)
    rogue_point = _blst.add_g1(attacker.public_key().point, minus_victim)
    rogue = bls.PublicKey.from_bytes(_blst.encode_g1(rogue_point))
    forged = attacker.sign(MESSAGE)
    # Without proofs of possession the forgery verifies as "victim and rogue both signed".
    assert bls.fast_aggregate_verify([victim, rogue], MESSAGE, forged)
    # With them, the rogue key never gets in: no proof the attacker can make verifies for it.
    for proof in (
        attacker.prove_possession(),
        attacker.sign(rogue.data),
        _key(1).prove_possession(),
    ):
        with pytest.raises(bls.BlsError, match="does not verify") as refused:
            bls.register_key(rogue.data, proof.data)
        assert refused.value.rule_id == "V2.6"


@pytest.mark.req("V2.6")
@pytest.mark.rejects("V2.6")
@pytest.mark.parametrize("proof", [INFINITY_G2, NOT_IN_G2, b"", b"\x00" * 96])
def test_malformed_proofs_are_refused_naming_v2_6(proof: bytes) -> None:
    with pytest.raises(bls.BlsError) as refused:
        bls.register_key(_key(3).public_key().data, proof)
    assert refused.value.rule_id == "V2.6"


@pytest.mark.req("V2.4")
@pytest.mark.rejects("V2.4")
def test_registration_validates_the_key_first() -> None:
    with pytest.raises(bls.BlsError) as refused:
        bls.register_key(INFINITY_G1, _key(3).prove_possession().data)
    assert refused.value.rule_id == "V2.4"


def test_secret_keys_are_never_printed_and_keys_cross_processes_as_bytes() -> None:
    key = _key(9)
    assert str(key.scalar) not in repr(key) and key.to_bytes().hex() not in repr(key)
    assert bls.SecretKey.from_bytes(key.to_bytes()) == key
    public = key.public_key()
    assert pickle.loads(pickle.dumps(public)) == public
    signature = key.sign(MESSAGE)
    assert pickle.loads(pickle.dumps(signature)) == signature
    with pytest.raises(UsageError):
        bls.SecretKey.from_seed(b"\x01" * 31)
    with pytest.raises(UsageError):
        bls.SecretKey(0)
    with pytest.raises(UsageError):
        bls.SecretKey(bls.ORDER)
