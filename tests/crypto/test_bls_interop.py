"""The chosen binding (pyblst over blst, through aethel.crypto.bls) agrees byte for byte with
py_ecc, the Ethereum Foundation's pure-Python implementation of the same ciphersuite: secret
keys from seeds, public keys, signatures, aggregates and proofs of possession, and the verdicts
of each on the other's outputs. py_ecc is a test-only dependency (a `test` extra).
"""

from __future__ import annotations

import random

import pytest
from py_ecc.bls import G2ProofOfPossession as PyEcc

from aethel.crypto import bls

#: Three seeds from a fixed RNG (a failure names the index; rerun replays it).
SEEDS = [random.Random(f"bls-interop-{i}").randbytes(32) for i in range(3)]
MESSAGES = [
    b"",
    b"aethel/prepare/v2\x00"
    + b'{"digest":"'
    + b"ab" * 32
    + b'","height":7,"type":"prepare","view":0}',
]


@pytest.fixture(scope="module")
def keys() -> list[bls.SecretKey]:
    return [bls.SecretKey.from_seed(seed) for seed in SEEDS]


@pytest.mark.req("V2.3")
def test_secret_and_public_keys_agree(keys: list[bls.SecretKey]) -> None:
    for seed, key in zip(SEEDS, keys, strict=True):
        assert key.scalar == PyEcc.KeyGen(seed), seed.hex()
        assert key.public_key().data == PyEcc.SkToPk(key.scalar), seed.hex()
    info = b"aethel/validator/v2"
    assert bls.SecretKey.from_seed(SEEDS[0], info).scalar == PyEcc.KeyGen(SEEDS[0], info)


@pytest.mark.req("V2.3")
def test_signatures_and_aggregates_agree(keys: list[bls.SecretKey]) -> None:
    for message in MESSAGES:
        ours = [key.sign(message) for key in keys]
        theirs = [PyEcc.Sign(key.scalar, message) for key in keys]
        assert [s.data for s in ours] == theirs, message
        aggregate = bls.aggregate(ours)
        assert aggregate.data == PyEcc.Aggregate(theirs)
        assert bls.aggregate_bytes(theirs) == aggregate.data
    public = [key.public_key().data for key in keys]
    # One cross-check of a verdict each way (py_ecc's pairing takes about 0.4 s).
    assert PyEcc.FastAggregateVerify(public, MESSAGES[1], aggregate.data)
    kept = [bls.PublicKey.from_bytes(k) for k in public]
    assert bls.fast_aggregate_verify(kept, MESSAGES[1], bls.Signature.from_bytes(aggregate.data))


@pytest.mark.req("V2.6")
def test_proofs_of_possession_agree(keys: list[bls.SecretKey]) -> None:
    for key in keys:
        assert key.prove_possession().data == PyEcc.PopProve(key.scalar)
    key = keys[0]
    assert PyEcc.PopVerify(key.public_key().data, key.prove_possession().data)
    # A plain signature of the key bytes is not a proof: the tags differ, for both libraries.
    plain = key.sign(key.public_key().data).data
    assert not PyEcc.PopVerify(key.public_key().data, plain)
    assert not bls.pop_verify(key.public_key().data, plain)


@pytest.mark.req("V2.4")
def test_key_validation_agrees_on_refused_keys() -> None:
    # On the curve, outside the subgroup (Ethereum's deserialization_fails_not_in_G1 input).
    not_in_subgroup = bytes.fromhex("8123456789abcdef" + "0123456789abcdef" * 5)
    infinity = b"\xc0" + bytes(47)
    for data in (infinity, not_in_subgroup, b"\x00" * 48, b"\xc0" + bytes(46)):
        assert bls.key_validate(data) is PyEcc.KeyValidate(data) is False, data.hex()
