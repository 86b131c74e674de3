"""BLS known answers of protocol version 2 (conformance/vectors/bls/), from one definition.

``python -m conformance.testvectors.bls [--write]`` prints or writes ``vectors.json`` and
``README.md``; tests/crypto/test_bls_vectors.py fails when the committed files and these
definitions disagree, replays every vector on the reference, and checks the keys, signatures,
aggregates and proofs against py_ecc. Each vector: ``handler``, ``case``, ``rules``, ``input``
(hex byte strings) and ``expected``: the answer, or ``{"reject": RULE}`` for input the rule says
is refused.

Points outside the subgroup are built here from their coordinates (a square root in Fp or Fp2 of
the curve equation at a chosen x), so they are points of the curve that only the subgroup check
refuses; the generator asserts that blst says exactly that.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from aethel.consensus.v2.certificate import (
    Certificate,
    VoteTarget,
    bitmap,
    check_certificate,
    parse_certificate,
)
from aethel.consensus.v2.roster import Registration, Roster, register
from aethel.crypto import _blst, bls
from aethel.errors import ProtocolViolation

DIRECTORY = Path(__file__).resolve().parent.parent / "vectors" / "bls"
#: The base field modulus of BLS12-381.
P = int(
    "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab",
    16,
)
PREPARE = VoteTarget("prepare", 7, 0, bytes(range(32)))
COMMIT = VoteTarget("commit", 7, 1, bytes(range(32)), bytes(range(32, 64)))

Fp2 = tuple[int, int]


def _mul2(a: Fp2, b: Fp2) -> Fp2:
    return ((a[0] * b[0] - a[1] * b[1]) % P, (a[0] * b[1] + a[1] * b[0]) % P)


def _pow2(a: Fp2, e: int) -> Fp2:
    result: Fp2 = (1, 0)
    while e:
        if e & 1:
            result = _mul2(result, a)
        a = _mul2(a, a)
        e >>= 1
    return result


def _sqrt2(a: Fp2) -> Fp2 | None:
    """A square root in Fp2 = Fp[i]/(i^2 + 1) for p = 3 mod 4, or None."""
    a1 = _pow2(a, (P - 3) // 4)
    alpha = _mul2(_mul2(a1, a1), a)
    x0 = _mul2(a1, a)
    if alpha == (P - 1, 0):
        root = _mul2((0, 1), x0)
    else:
        root = _mul2(_pow2(((1 + alpha[0]) % P, alpha[1]), (P - 1) // 2), x0)
    return root if _mul2(root, root) == (a[0] % P, a[1] % P) else None


def _g1_point(x: int) -> bytes | None:
    """The compressed G1 encoding of a curve point with this x (y^2 = x^3 + 4), or None."""
    rhs = (x**3 + 4) % P
    y = pow(rhs, (P + 1) // 4, P)
    if y * y % P != rhs:
        return None
    data = bytearray(x.to_bytes(48, "big"))
    data[0] |= 0x80 | (0x20 if y > P - y else 0)
    return bytes(data)


def _g2_point(x: Fp2) -> bytes | None:
    """The compressed G2 encoding of a curve point with this x (y^2 = x^3 + 4(1 + i)), or None."""
    rhs = _mul2(_mul2(x, x), x)
    rhs = ((rhs[0] + 4) % P, (rhs[1] + 4) % P)
    y = _sqrt2(rhs)
    if y is None:
        return None
    larger = y[1] > P - y[1] if y[1] else y[0] > P - y[0]
    data = bytearray(x[1].to_bytes(48, "big") + x[0].to_bytes(48, "big"))
    data[0] |= 0x80 | (0x20 if larger else 0)
    return bytes(data)


def _first_g1(start: int, on_curve: bool) -> bytes:
    """The first x from ``start`` whose point is (or is not) on G1's curve, compressed."""
    x = start
    while (_g1_point(x) is not None) != on_curve:
        x += 1
    return _g1_point(x) or _flagged(x.to_bytes(48, "big"))


def _first_g2(start: int, on_curve: bool) -> bytes:
    """The first x = (start.., 1) whose point is (or is not) on G2's curve, compressed."""
    x = start
    while (_g2_point((x, 1)) is not None) != on_curve:
        x += 1
    return _g2_point((x, 1)) or _flagged((1).to_bytes(48, "big") + x.to_bytes(48, "big"))


def _flagged(data: bytes) -> bytes:
    """``data`` with the compression flag set (no infinity or sign flag)."""
    return bytes([data[0] | 0x80]) + data[1:]


def _refusal(decode: Any, data: bytes, reason: str) -> bytes:
    """Assert blst refuses ``data`` for ``reason``; return it."""
    try:
        decode(data)
    except _blst.DecodeError as exc:
        assert exc.reason == reason, (data.hex(), exc.reason)
        return data
    raise AssertionError(f"{data.hex()} decodes")


def _secret(i: int) -> bls.SecretKey:
    return bls.SecretKey.from_seed(bytes([0xA0 + i]) * 32)


def _h(data: bytes) -> str:
    return data.hex()


def _reject_rule(call: Any) -> dict[str, Any]:
    try:
        return {"result": call()}
    except ProtocolViolation as exc:
        return {"reject": exc.rule_id}


def _vector(
    handler: str, case: str, rules: list[str], data: dict[str, Any], expected: Any
) -> dict[str, Any]:
    return {"handler": handler, "case": case, "rules": rules, "input": data, "expected": expected}


def _refused_points(size: int, decode: Any, first: Callable[[bool], bytes]) -> dict[str, bytes]:
    """The compressed encodings of ``size`` bytes that a key (V2.4) and a signature (V2.5)
    alike must refuse: the point at infinity (with and without the sign flag), a point outside
    the prime-order subgroup and an x off the curve (``first(on_curve)``, checked by blst)."""
    return {
        "infinity": b"\xc0" + bytes(size - 1),
        "not-in-subgroup": _refusal(decode, first(True), "not in the prime-order subgroup"),
        "not-on-curve": _refusal(decode, first(False), "not a point of the curve"),
        "infinity-with-sign-flag": b"\xe0" + bytes(size - 1),
    }


def _refusal_vectors(
    handler: str, rule: str, name: str, refused: dict[str, bytes], kind: Any
) -> list[dict[str, Any]]:
    """The vectors of ``handler`` for each refused encoding, its input named ``name``: the
    rule the reference refuses it under (``kind.from_bytes``), else what it reads."""
    return [
        _vector(
            handler,
            case,
            [rule],
            {name: _h(data)},
            _reject_rule(lambda d=data: _h(kind.from_bytes(d).data)),
        )
        for case, data in refused.items()
    ]


def _key_vectors() -> list[dict[str, Any]]:
    vectors = []
    for i, info in ((0, b""), (1, b""), (2, b"aethel/validator/v2")):
        seed = bytes([0xA0 + i]) * 32
        key = bls.SecretKey.from_seed(seed, info)
        vectors.append(
            _vector(
                "keygen",
                f"seed-{i}" + ("-key-info" if info else ""),
                ["V2.3"],
                {"seed": _h(seed), "key_info": _h(info)},
                {
                    "result": {
                        "secret_key": _h(key.to_bytes()),
                        "public_key": _h(key.public_key().data),
                    }
                },
            )
        )
    # V2.3: KeyGen takes a seed of at least 32 bytes (31 refused; written from the mechanical
    # survivor ``aethel/crypto/bls.py:keygen:ReplaceOrWithAnd:9208b386``, which took it).
    vectors.append(
        _vector(
            "keygen",
            "seed-of-31-bytes",
            ["V2.3"],
            {"seed": _h(bytes([0xA3]) * 31), "key_info": ""},
            {"reject": "V2.3"},
        )
    )
    refused = _refused_points(48, _blst.decode_g1, partial(_first_g1, 5))
    infinity = refused["infinity"]
    refused |= {
        "uncompressed-flag": bytes([_secret(0).public_key().data[0] & 0x7F])
        + _secret(0).public_key().data[1:],
        "x-equal-to-p": _flagged(P.to_bytes(48, "big")),
        "47-bytes": infinity[:47],
        "49-bytes": infinity + b"\x00",
    }
    vectors += _refusal_vectors("key_validate", "V2.4", "public_key", refused, bls.PublicKey)
    good = _secret(0).public_key().data
    vectors.append(
        _vector("key_validate", "valid", ["V2.4"], {"public_key": _h(good)}, {"result": _h(good)})
    )
    return vectors


def _signature_vectors() -> list[dict[str, Any]]:
    vectors = []
    keys = [_secret(i) for i in range(4)]
    messages = {"empty": b"", "prepare-vote": PREPARE.message(), "commit-vote": COMMIT.message()}
    for name, message in messages.items():
        for i in (0, 1):
            vectors.append(
                _vector(
                    "sign",
                    f"{name}-key-{i}",
                    ["V2.3"],
                    {"secret_key": _h(keys[i].to_bytes()), "message": _h(message)},
                    {"result": _h(keys[i].sign(message).data)},
                )
            )
    message = COMMIT.message()
    signature = keys[0].sign(message)
    public = [k.public_key() for k in keys]
    verify_cases = {
        "valid": (public[0], message, signature.data, True),
        "other-message": (public[0], PREPARE.message(), signature.data, False),
        "other-key": (public[1], message, signature.data, False),
    }
    for case, (key, msg, sig, valid) in verify_cases.items():
        vectors.append(
            _vector(
                "verify",
                case,
                ["V2.3"],
                {"public_key": _h(key.data), "message": _h(msg), "signature": _h(sig)},
                {"result": bls.verify(key, msg, bls.Signature.from_bytes(sig))},
            )
        )
        assert bls.verify(key, msg, bls.Signature.from_bytes(sig)) is valid
    signatures = [k.sign(message) for k in keys]
    total = bls.aggregate(signatures)
    vectors.append(
        _vector(
            "aggregate",
            "four-signers",
            ["V2.3"],
            {"signatures": [_h(s.data) for s in signatures]},
            {"result": _h(total.data)},
        )
    )
    fav = {
        "valid": ([p.data for p in public], total.data),
        "one-key-missing": ([p.data for p in public[:3]], total.data),
        "one-key-extra": ([p.data for p in public] + [_secret(9).public_key().data], total.data),
        "one-signature-missing": ([p.data for p in public], bls.aggregate(signatures[:3]).data),
        "no-keys": ([], total.data),
    }
    for case, (key_list, sig) in fav.items():
        expected = bls.fast_aggregate_verify(
            [bls.PublicKey.from_bytes(k) for k in key_list], message, bls.Signature.from_bytes(sig)
        )
        vectors.append(
            _vector(
                "fast_aggregate_verify",
                case,
                ["V2.3"],
                {
                    "public_keys": [_h(k) for k in key_list],
                    "message": _h(message),
                    "signature": _h(sig),
                },
                {"result": expected},
            )
        )
    refused = _refused_points(96, _blst.decode_g2, partial(_first_g2, 3))
    refused["95-bytes"] = refused["infinity"][:95]
    vectors += _refusal_vectors("signature_validate", "V2.5", "signature", refused, bls.Signature)
    return vectors


def _pop_vectors() -> list[dict[str, Any]]:
    vectors = []
    keys = [_secret(i) for i in range(3)]
    for i, key in enumerate(keys):
        vectors.append(
            _vector(
                "pop_prove",
                f"key-{i}",
                ["V2.6"],
                {"secret_key": _h(key.to_bytes())},
                {"result": _h(key.prove_possession().data)},
            )
        )
    victim, attacker = keys[0].public_key(), keys[1]
    rogue = _blst.encode_g1(
        _blst.add_g1(attacker.public_key().point, _blst.mul_g1(victim.point, bls.ORDER - 1))
    )
    cases = {
        "valid": (keys[0].public_key().data, keys[0].prove_possession().data),
        "another-keys-proof": (keys[0].public_key().data, keys[1].prove_possession().data),
        "signature-tag-not-pop-tag": (
            keys[0].public_key().data,
            keys[0].sign(keys[0].public_key().data).data,
        ),
        "rogue-key-with-attackers-proof": (rogue, attacker.prove_possession().data),
        "infinity-proof": (keys[0].public_key().data, b"\xc0" + bytes(95)),
        "infinity-key": (b"\xc0" + bytes(47), keys[0].prove_possession().data),
    }
    for case, (key_bytes, proof) in cases.items():
        rules = ["V2.4", "V2.6"] if case == "infinity-key" else ["V2.6"]
        vectors.append(
            _vector(
                "register_key",
                case,
                rules,
                {"public_key": _h(key_bytes), "proof": _h(proof)},
                _reject_rule(lambda k=key_bytes, p=proof: _h(bls.register_key(k, p).data)),
            )
        )
    return vectors


def _roster_input(stakes: list[int], rogue_last: bool = False) -> list[dict[str, Any]]:
    members = []
    for i, stake in enumerate(stakes):
        key = _secret(i)
        members.append(
            {
                "id": f"v{i:02d}",
                "stake": stake,
                "bls_key": _h(key.public_key().data),
                "bls_pop": _h(key.prove_possession().data),
                "region": "us-east",
            }
        )
    if rogue_last:
        honest = [_secret(i).public_key() for i in range(len(stakes) - 1)]
        attacker = _secret(len(stakes) - 1)
        minus = _blst.mul_g1(bls.aggregate_keys(honest), bls.ORDER - 1)
        members[-1]["bls_key"] = _h(
            _blst.encode_g1(_blst.add_g1(attacker.public_key().point, minus))
        )
    return members


def roster_of(members: list[dict[str, Any]]) -> Roster:
    """Return the reference's roster of ``members`` in their wire form (conformance/WIRE.md)."""
    return register(
        [
            Registration(
                m["id"],
                m["stake"],
                bytes.fromhex(m["bls_key"]),
                bytes.fromhex(m["bls_pop"]),
                m["region"],
            )
            for m in members
        ]
    )


def check_certificate_vector(data: dict[str, Any]) -> dict[str, Any]:
    """Run a ``certificate`` vector on the reference: register the members, parse and check."""

    def run() -> list[int]:
        roster = roster_of(data["members"])
        return check_certificate(parse_certificate(data["certificate"], len(roster)), roster)

    return _reject_rule(run)


def _certificate_vectors() -> list[dict[str, Any]]:
    vectors = []

    def cert(
        target: VoteTarget, signers: list[int], size: int, claimed: list[int] | None = None
    ) -> dict[str, Any]:
        total = bls.aggregate([_secret(i).sign(target.message()) for i in signers])
        return Certificate(target, bitmap(claimed or signers, size), total).to_wire()

    boundary = [3000, 3001, 2999]  # W = 9,000, q(W) = 6,001
    ten = [1000] * 10  # q(W) = 6,667: 7 members
    cases: dict[str, tuple[list[str], list[dict[str, Any]], dict[str, Any]]] = {
        "commit-quorum": (["V2.7", "V2.8"], _roster_input(ten), cert(COMMIT, list(range(7)), 10)),
        "prepare-all": (["V2.7", "V2.8"], _roster_input(ten), cert(PREPARE, list(range(10)), 10)),
        "exactly-q": (["V2.8"], _roster_input(boundary), cert(COMMIT, [0, 1], 3)),
        "one-below-q": (["V2.8"], _roster_input(boundary), cert(COMMIT, [1, 2], 3)),
        "forged-bitmap-member-who-did-not-sign": (
            ["V2.8"],
            _roster_input(ten),
            cert(COMMIT, list(range(7)), 10, list(range(8))),
        ),
        "forged-bitmap-signer-left-out": (
            ["V2.8"],
            _roster_input(ten),
            cert(COMMIT, list(range(8)), 10, list(range(7))),
        ),
        "rogue-key-without-possession": (
            ["V2.6"],
            _roster_input([1000] * 4, rogue_last=True),
            Certificate(
                COMMIT, bitmap([0, 1, 2, 3], 4), _secret(3).sign(COMMIT.message())
            ).to_wire(),
        ),
    }
    infinity = cert(COMMIT, list(range(7)), 10)
    infinity["aggregate"] = "c0" + "00" * 95
    cases["infinity-aggregate"] = (["V2.5"], _roster_input(ten), infinity)
    padding = cert(COMMIT, list(range(7)), 10)
    padding["signers"] = padding["signers"][:2] + "20"
    cases["bit-past-the-members"] = (["V2.7"], _roster_input(ten), padding)
    short = cert(COMMIT, list(range(7)), 10)
    short["signers"] = short["signers"][:2]
    cases["bitmap-one-byte-short"] = (["V2.7"], _roster_input(ten), short)
    for case, (rules, members, wire) in cases.items():
        data = {"members": members, "certificate": wire}
        vectors.append(_vector("certificate", case, rules, data, check_certificate_vector(data)))
    return vectors


def build() -> list[dict[str, Any]]:
    """Return every vector, in a fixed order."""
    return _key_vectors() + _signature_vectors() + _pop_vectors() + _certificate_vectors()


README = """# BLS known answers of protocol version 2 (V2.3-V2.8)

Generated by `python -m conformance.testvectors.bls --write` from the definitions in
`conformance/testvectors/bls.py` (do not edit by hand; tests/crypto/test_bls_vectors.py fails
when this directory and the definitions disagree). The ciphersuite is
`BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_` (spec/consensus-v2.md, V2.3): public keys are 48-byte
compressed G1 points, signatures and proofs 96-byte compressed G2 points, all hex. Keys,
signatures, aggregates and proofs are checked against py_ecc by the tests; Ethereum's own vectors
of the ciphersuite are in `../external/bls/`.

`vectors.json` is a list of objects with `handler`, `case`, `rules`, `input` and `expected`:
either `{"result": ...}` or `{"reject": RULE}`, the rule a refusal must name.

Handlers (input members; expected answer):

- `keygen` (`seed`, `key_info`): `secret_key` (the 32-byte big-endian scalar) and `public_key`
  (KeyGen, SkToPk), or a refusal naming V2.3 for a seed shorter than 32 bytes;
- `key_validate` (`public_key`): the key, or a refusal naming V2.4: infinity, outside the
  subgroup, off the curve, bad flags, x >= p, wrong length;
- `sign` (`secret_key`, `message`): the signature; the messages include a PREPARE and a COMMIT
  vote's bytes (V2.3);
- `verify` (`public_key`, `message`, `signature`): true or false;
- `aggregate` (`signatures`): the aggregate;
- `fast_aggregate_verify` (`public_keys`, `message`, `signature`): true or false (false with no
  keys);
- `signature_validate` (`signature`): the signature, or a refusal naming V2.5: infinity, outside
  the subgroup, off the curve, bad flags, wrong length;
- `pop_prove` (`secret_key`): the proof (PopProve);
- `register_key` (`public_key`, `proof`): the key, or a refusal naming V2.6 (V2.4 for a bad
  key): another key's proof, a signature under the signature tag, a rogue key;
- `certificate` (`members`, each with id, stake, bls_key, bls_pop and region, and `certificate`,
  V2.7): the members' indices in set order, or the rule of the refusal: forged bitmaps, exactly
  q(W) and one below, a rogue key without possession, an infinity aggregate, bits past the
  members.

Points outside the subgroup and off the curve are built from coordinates (a square root of the
curve equation at a chosen x), so each is refused by exactly the check its case names.
"""


def write(directory: Path = DIRECTORY) -> int:
    """Write vectors.json and README.md; return the number of vectors."""
    vectors = build()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "vectors.json").write_text(render(vectors), encoding="utf-8")
    (directory / "README.md").write_text(README, encoding="utf-8")
    return len(vectors)


def render(vectors: list[dict[str, Any]]) -> str:
    """Return the file text of ``vectors`` (stable: sorted keys, one trailing newline)."""
    return json.dumps(vectors, indent=1, sort_keys=True) + "\n"


if __name__ == "__main__":
    if "--write" in sys.argv[1:]:
        print(f"wrote {write()} BLS vectors to {DIRECTORY}")
    else:
        print(render(build()), end="")
