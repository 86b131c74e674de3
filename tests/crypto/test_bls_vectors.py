"""conformance/vectors/bls/: the project's BLS known answers (V2.3-V2.8) are what their one
definition (conformance/testvectors/bls.py) gives, replay on the reference, and agree with py_ecc
where py_ecc has the operation (an implementation written independently of blst)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from py_ecc.bls import G2ProofOfPossession as PyEcc
from py_ecc.bls.g2_primitives import signature_to_G2, subgroup_check
from py_ecc.optimized_bls12_381 import field_modulus

from aethel.crypto import bls
from aethel.errors import ProtocolViolation, UsageError
from conformance.testvectors import bls as definitions

VECTORS: list[dict[str, Any]] = json.loads(
    (definitions.DIRECTORY / "vectors.json").read_text(encoding="utf-8")
)


def _b(text: str) -> bytes:
    return bytes.fromhex(text)


def _outcome(call: Any) -> dict[str, Any]:
    try:
        return {"result": call()}
    except ProtocolViolation as exc:
        return {"reject": exc.rule_id}


def _run(handler: str, data: dict[str, Any]) -> dict[str, Any]:
    """Replay one vector on aethel.crypto.bls and aethel.consensus.v2 (an independent dispatch)."""
    if handler == "keygen":
        if len(_b(data["seed"])) < bls.MIN_SEED_SIZE:
            with pytest.raises(UsageError):
                bls.SecretKey.from_seed(_b(data["seed"]), _b(data["key_info"]))
            return {"reject": "V2.3"}
        key = bls.SecretKey.from_seed(_b(data["seed"]), _b(data["key_info"]))
        return {
            "result": {
                "secret_key": key.to_bytes().hex(),
                "public_key": key.public_key().data.hex(),
            }
        }
    if handler == "key_validate":
        return _outcome(lambda: bls.PublicKey.from_bytes(_b(data["public_key"])).data.hex())
    if handler == "sign":
        return {
            "result": bls.SecretKey.from_bytes(_b(data["secret_key"]))
            .sign(_b(data["message"]))
            .data.hex()
        }
    if handler == "verify":
        key = bls.PublicKey.from_bytes(_b(data["public_key"]))
        return {
            "result": bls.verify(
                key, _b(data["message"]), bls.Signature.from_bytes(_b(data["signature"]))
            )
        }
    if handler == "aggregate":
        return {
            "result": bls.aggregate(
                [bls.Signature.from_bytes(_b(s)) for s in data["signatures"]]
            ).data.hex()
        }
    if handler == "fast_aggregate_verify":
        keys = [bls.PublicKey.from_bytes(_b(k)) for k in data["public_keys"]]
        signature = bls.Signature.from_bytes(_b(data["signature"]))
        return {"result": bls.fast_aggregate_verify(keys, _b(data["message"]), signature)}
    if handler == "signature_validate":
        return _outcome(lambda: bls.Signature.from_bytes(_b(data["signature"])).data.hex())
    if handler == "pop_prove":
        return {
            "result": bls.SecretKey.from_bytes(_b(data["secret_key"])).prove_possession().data.hex()
        }
    if handler == "register_key":
        return _outcome(
            lambda: bls.register_key(_b(data["public_key"]), _b(data["proof"])).data.hex()
        )
    if handler == "certificate":
        return definitions.check_certificate_vector(data)
    raise AssertionError(f"unknown handler {handler}")


def test_the_committed_vectors_are_the_definitions() -> None:
    assert field_modulus == definitions.P
    assert (definitions.DIRECTORY / "vectors.json").read_text(encoding="utf-8") == (
        definitions.render(definitions.build())
    ), "run python -m conformance.testvectors.bls --write"
    assert (definitions.DIRECTORY / "README.md").read_text(encoding="utf-8") == definitions.README
    assert len({(v["handler"], v["case"]) for v in VECTORS}) == len(VECTORS)


@pytest.mark.req("V2.3", "V2.4", "V2.5", "V2.6", "V2.7", "V2.8")
@pytest.mark.parametrize("vector", VECTORS, ids=[f"{v['handler']}/{v['case']}" for v in VECTORS])
def test_every_vector_replays_on_the_reference(vector: dict[str, Any]) -> None:
    assert _run(vector["handler"], vector["input"]) == vector["expected"]
    if "reject" in vector["expected"]:
        assert vector["expected"]["reject"] in vector["rules"]


def _of(handler: str) -> list[dict[str, Any]]:
    return [v for v in VECTORS if v["handler"] == handler]


@pytest.mark.req("V2.3", "V2.6")
def test_answers_agree_with_py_ecc() -> None:
    for vector in _of("keygen"):
        if "reject" in vector["expected"]:
            continue  # KeyGen of a seed shorter than 32 bytes: refused here, no key to compare
        data, result = vector["input"], vector["expected"]["result"]
        scalar = PyEcc.KeyGen(_b(data["seed"]), _b(data["key_info"]))
        assert scalar.to_bytes(32, "big").hex() == result["secret_key"]
        assert PyEcc.SkToPk(scalar).hex() == result["public_key"]
    for vector in _of("sign")[:2]:
        scalar = int(vector["input"]["secret_key"], 16)
        expected = PyEcc.Sign(scalar, _b(vector["input"]["message"])).hex()
        assert expected == vector["expected"]["result"]
    (aggregate,) = _of("aggregate")
    assert (
        PyEcc.Aggregate([_b(s) for s in aggregate["input"]["signatures"]]).hex()
        == (aggregate["expected"]["result"])
    )
    proof = _of("pop_prove")[0]
    assert (
        PyEcc.PopProve(int(proof["input"]["secret_key"], 16)).hex() == proof["expected"]["result"]
    )


@pytest.mark.req("V2.4", "V2.5")
def test_py_ecc_also_refuses_the_points_built_outside_the_subgroup() -> None:
    for vector in _of("key_validate"):
        refused = "reject" in vector["expected"]
        assert PyEcc.KeyValidate(_b(vector["input"]["public_key"])) is not refused, vector["case"]
    for vector in _of("signature_validate"):
        if vector["case"] in ("infinity", "95-bytes"):
            # infinity: a subgroup point the draft accepts and V2.5 refuses; py_ecc does not
            # check the length of what it decodes.
            continue
        data = _b(vector["input"]["signature"])
        try:
            accepted = subgroup_check(signature_to_G2(data))
        except ValueError:
            accepted = False
        assert not accepted, vector["case"]
