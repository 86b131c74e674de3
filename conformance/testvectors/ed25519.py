"""Ed25519 edge cases of N1: one definition of each class, its vectors, and verifier models.

N1 fixes the verdict of every signature to libsodium's ``crypto_sign_verify_detached``: S must
be reduced (S < L), neither the public key A nor R may be a small-order point, A must be
canonically encoded, and the check is the cofactorless equation [S]B = R + [h]A with R compared
as bytes. Other libraries differ at exactly these edges, so nodes using them would disagree on
which votes count. Each :class:`EdgeClass` below builds, for a seed and a message, a public key
and a signature at one edge, and says what N1 requires (``valid``).

The classes are used twice, from this one definition:

* ``aethel-conformance vectors generate`` writes :data:`VECTORS_FILE` (a transfer and a proof
  of each class, signed at the edge) and the README beside it; ``vectors check`` compares them.
  Before writing, every vector is checked with PyNaCl (libsodium): a class whose declared
  verdict libsodium disagrees with is a bug here, and generation fails.
* Suite cases (conformance/suite/test_signatures.py) build the same classes over messages only
  known at run time (consensus votes of a live replica).

:data:`MODELS` are small verifiers written from the specifications of other libraries' checks
(:func:`model_verify`); the README's table of which model accepts which class is computed with
them, and the N1 mutants (conformance/mutants/signatures.py) are implementations using them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nacl.exceptions
import nacl.signing

from aethel.encoding import Domain, signing_bytes
from conformance.testvectors.edwards25519 import (
    BASE,
    IDENTITY,
    T8,
    L,
    P,
    decode,
    encode_scalar,
    secret_scalar,
    sha512_scalar,
)
from conformance.testvectors.model import VECTORS_DIR

RULES = ("N1", "R7.5")
DIRECTORY = VECTORS_DIR / "ed25519"
VECTORS_FILE = DIRECTORY / "vectors.json"
README_FILE = DIRECTORY / "README.md"
#: The signer's seed of every generated vector (a test key, never a real one).
SEED = bytes(range(100, 132))
#: The receiver of the generated transfers.
RECEIVER_SEED = bytes([42] * 32)
#: A proof the verifier finds valid (unsat, inside the SMT fragment), so only its signature
#: decides its fate.
PROOF_SMT = "(declare-const x Int)(assert (> x x))"
PROOF_BUDGET = 10_000

#: The canonical encoding of the identity (y = 1, x = 0).
IDENTITY_BYTES = IDENTITY.encode()
#: y = p + 1: a non-canonical encoding of the identity (y >= p).
NON_CANONICAL_IDENTITY = (P + 1).to_bytes(32, "little")
#: The identity with the sign bit of x set ("negative zero", refused by RFC 8032's decoding).
NEGATIVE_ZERO_IDENTITY = (1 | 1 << 255).to_bytes(32, "little")


# --------------------------------------------------------------------------- building


def challenge(r: bytes, a: bytes, message: bytes) -> int:
    """Return h = SHA-512(R || A || M) mod L (RFC 8032, section 5.1.7)."""
    return sha512_scalar(r, a, message)


def _nonce(prefix: bytes, message: bytes, attempt: int) -> int:
    return sha512_scalar(b"aethel-n1-edge", prefix, message, attempt.to_bytes(4, "big"))


def _signed(
    a: int, key: bytes, prefix: bytes, message: bytes, h_ok: Callable[[int], bool]
) -> bytes:
    """Return R || S with R = [r]B, S = r + h a mod L, for the first nonce whose h passes."""
    for attempt in range(10_000):
        r = _nonce(prefix, message, attempt)
        r_bytes = (BASE * r).encode()
        h = challenge(r_bytes, key, message)
        if h_ok(h):
            return r_bytes + encode_scalar((r + h * a) % L)
    raise ArithmeticError("no nonce gives the wanted challenge (cannot happen)")


def _any(h: int) -> bool:
    return True


def _multiple_of_8(h: int) -> bool:
    return h % 8 == 0


def _not_multiple_of_8(h: int) -> bool:
    return h % 8 != 0


@dataclass(frozen=True, slots=True)
class EdgeClass:
    """One edge of Ed25519 verification: how to build it and what N1 says of it."""

    name: str
    #: libsodium's verdict, which N1 makes the rule.
    valid: bool
    #: The public key is the seed's ordinary key (so it can stand for any existing validator).
    ordinary_key: bool
    what: str
    _key: Callable[[bytes], bytes]
    _sign: Callable[[bytes, bytes, bytes], bytes]

    def key(self, seed: bytes) -> bytes:
        """Return the public key this class signs under for ``seed``."""
        return self._key(seed)

    def sign(self, seed: bytes, message: bytes) -> bytes:
        """Return the 64-byte signature of ``message`` at this edge, under :meth:`key`."""
        return self._sign(seed, self.key(seed), message)


def _ordinary_key(seed: bytes) -> bytes:
    return (BASE * secret_scalar(seed)[0]).encode()


def _mixed_key(seed: bytes) -> bytes:
    return (BASE * secret_scalar(seed)[0] + T8).encode()


def _constant(key: bytes) -> Callable[[bytes], bytes]:
    return lambda seed: key


def _honest(h_ok: Callable[[int], bool]) -> Callable[[bytes, bytes, bytes], bytes]:
    def sign(seed: bytes, key: bytes, message: bytes) -> bytes:
        a, prefix = secret_scalar(seed)
        return _signed(a, key, prefix, message, h_ok)

    return sign


def _s_plus_l(seed: bytes, key: bytes, message: bytes) -> bytes:
    signature = _honest(_any)(seed, key, message)
    return signature[:32] + encode_scalar(int.from_bytes(signature[32:], "little") + L)


def _torsion_key(h_ok: Callable[[int], bool]) -> Callable[[bytes, bytes, bytes], bytes]:
    """A key with no prime-order part: R = [r]B, S = r; [h]A vanishes when h_ok holds."""

    def sign(seed: bytes, key: bytes, message: bytes) -> bytes:
        return _signed(0, key, secret_scalar(seed)[1], message, h_ok)

    return sign


def _identity_forgery(seed: bytes, key: bytes, message: bytes) -> bytes:
    return IDENTITY_BYTES + encode_scalar(0)


def _fixed_r(r_bytes: bytes) -> Callable[[bytes, bytes, bytes], bytes]:
    """R is a fixed small-order encoding and S = h a, so [S]B - [h]A is the identity."""

    def sign(seed: bytes, key: bytes, message: bytes) -> bytes:
        a = secret_scalar(seed)[0]
        return r_bytes + encode_scalar(challenge(r_bytes, key, message) * a % L)

    return sign


def _mixed_r(seed: bytes, key: bytes, message: bytes) -> bytes:
    a, prefix = secret_scalar(seed)
    r = _nonce(prefix, message, 0)
    r_bytes = (BASE * r + T8).encode()
    return r_bytes + encode_scalar((r + challenge(r_bytes, key, message) * a) % L)


EDGE_CLASSES: tuple[EdgeClass, ...] = (
    EdgeClass(
        "honest",
        True,
        True,
        "an ordinary signature (the control)",
        _ordinary_key,
        _honest(_any),
    ),
    EdgeClass(
        "mixed-order-key",
        True,
        True,
        "A = [a]B + T (T of order 8), h a multiple of 8 so the cofactorless equation holds: "
        "A is neither small-order nor non-canonical, so libsodium accepts",
        _mixed_key,
        _honest(_multiple_of_8),
    ),
    EdgeClass(
        "s-plus-l",
        False,
        True,
        "an honest signature with S replaced by S + L (unreduced; malleable by anyone)",
        _ordinary_key,
        _s_plus_l,
    ),
    EdgeClass(
        "identity-key",
        False,
        False,
        "A = R = the identity, S = 0: verifies for every message under a cofactorless check "
        "without small-order checks",
        _constant(IDENTITY_BYTES),
        _identity_forgery,
    ),
    EdgeClass(
        "small-order-key",
        False,
        False,
        "A a point of order 8, R = [r]B, S = r with h a multiple of 8",
        _constant(T8.encode()),
        _torsion_key(_multiple_of_8),
    ),
    EdgeClass(
        "non-canonical-key",
        False,
        False,
        "A encoded with y = p + 1 (the identity, y >= p), R = [r]B, S = r",
        _constant(NON_CANONICAL_IDENTITY),
        _torsion_key(_any),
    ),
    EdgeClass(
        "negative-zero-key",
        False,
        False,
        "A the identity with the sign bit of x set (x = 0), R = [r]B, S = r",
        _constant(NEGATIVE_ZERO_IDENTITY),
        _torsion_key(_any),
    ),
    EdgeClass(
        "small-order-r",
        False,
        True,
        "R = the identity, S = h a: [S]B - [h]A is the identity",
        _ordinary_key,
        _fixed_r(IDENTITY_BYTES),
    ),
    EdgeClass(
        "non-canonical-r",
        False,
        True,
        "R = the identity encoded with y = p + 1, S = h a (equal as points, not as bytes)",
        _ordinary_key,
        _fixed_r(NON_CANONICAL_IDENTITY),
    ),
    EdgeClass(
        "small-order-r-cofactored",
        False,
        True,
        "R = T (order 8), S = h a: only the cofactored equation [8][S]B = [8]R + [8][h]A holds",
        _ordinary_key,
        _fixed_r(T8.encode()),
    ),
    EdgeClass(
        "mixed-order-r-cofactored",
        False,
        True,
        "R = [r]B + T, S = r + h a: only the cofactored equation holds",
        _ordinary_key,
        _mixed_r,
    ),
    EdgeClass(
        "mixed-order-key-cofactored",
        False,
        True,
        "A = [a]B + T, h not a multiple of 8: [S]B - [h]A = R - [h]T differs from R, so only "
        "the cofactored equation holds",
        _mixed_key,
        _honest(_not_multiple_of_8),
    ),
)
BY_NAME = {edge.name: edge for edge in EDGE_CLASSES}


# --------------------------------------------------------------------------- verifier models


@dataclass(frozen=True, slots=True)
class VerifierModel:
    """The checks one Ed25519 verifier makes (RFC 8032 leaves several of them open)."""

    name: str
    what: str
    #: Refuse S >= L.
    reduced_s: bool = True
    #: Refuse a public key encoded with y >= p (else y is taken modulo p).
    canonical_key: bool = True
    #: Refuse x = 0 with the sign bit set in the key ("negative zero").
    refuse_negative_zero: bool = True
    #: Refuse a small-order public key or R.
    refuse_small_order: bool = True
    #: Refuse a key outside the prime-order subgroup ([L]A != identity).
    prime_order_key: bool = False
    #: Compare R as bytes with the encoding of [S]B - [h]A (else decode R, compare points).
    r_as_bytes: bool = True
    #: Check [8][S]B = [8]R + [8][h]A instead of [S]B = R + [h]A.
    cofactored: bool = False


def model_verify(model: VerifierModel, public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Return the verdict of ``model`` on a signature (pure Python; about 10 ms)."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    r_bytes, s = signature[:32], int.from_bytes(signature[32:], "little")
    if model.reduced_s and s >= L:
        return False
    a_point = decode(
        public_key,
        reduce_y=not model.canonical_key,
        negative_zero=not model.refuse_negative_zero,
    )
    if a_point is None:
        return False
    r_point = decode(r_bytes, reduce_y=True, negative_zero=True)
    if model.refuse_small_order and (
        a_point.is_small_order or (r_point is not None and r_point.is_small_order)
    ):
        return False
    if model.prime_order_key and a_point * L != IDENTITY:
        return False
    h = challenge(r_bytes, public_key, message)
    if model.cofactored:
        if r_point is None:
            return False
        return (BASE * s) * 8 == (r_point + a_point * h) * 8
    expected = BASE * s - a_point * h
    if model.r_as_bytes:
        return expected.encode() == r_bytes
    return r_point is not None and expected == r_point


LIBSODIUM = VerifierModel(
    "libsodium",
    "libsodium's crypto_sign_verify_detached as N1 states it (agrees with PyNaCl on every "
    "vector; generation checks it)",
)
UNCHECKED = VerifierModel(
    "rfc8032-unchecked",
    "RFC 8032's equation with none of the edge checks: S not range-checked, y taken modulo p, "
    "no small-order checks, R decoded and compared as a point (the well-known slow Python "
    "implementations behave so)",
    reduced_s=False,
    canonical_key=False,
    refuse_negative_zero=False,
    refuse_small_order=False,
    r_as_bytes=False,
)
COFACTORLESS = VerifierModel(
    "cofactorless-no-small-order",
    "S < L and R compared as bytes, but keys decoded leniently (y modulo p, x = 0 with either "
    "sign) and no small-order checks: what Go's crypto/ed25519 documents",
    canonical_key=False,
    refuse_negative_zero=False,
    refuse_small_order=False,
)
COFACTORED = VerifierModel(
    "cofactored",
    "the cofactored equation of RFC 8032 with S < L, lenient decoding and no small-order checks "
    "(ZIP 215's rules)",
    canonical_key=False,
    refuse_negative_zero=False,
    refuse_small_order=False,
    cofactored=True,
)
PRIME_ORDER_KEYS = VerifierModel(
    "prime-order-keys",
    "libsodium's checks plus a key-subgroup check ([L]A = identity) that libsodium's verify "
    "does not make: too strict",
    prime_order_key=True,
)
MODELS = (LIBSODIUM, UNCHECKED, COFACTORLESS, COFACTORED, PRIME_ORDER_KEYS)


def libsodium_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Return PyNaCl's (libsodium's) verdict."""
    try:
        nacl.signing.VerifyKey(public_key).verify(message, signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, ValueError):
        return False
    return True


# --------------------------------------------------------------------------- vectors


def transfer_body(sender: bytes) -> dict[str, Any]:
    """Return the signed body of the vectors' transfer from ``sender``."""
    receiver = _ordinary_key(RECEIVER_SEED)
    return {"amount": 5, "nonce": 0, "receiver": receiver.hex(), "sender": sender.hex()}


def proof_body(submitter: bytes) -> dict[str, Any]:
    """Return the signed body of the vectors' proof submitted by ``submitter``."""
    return {
        "budget": PROOF_BUDGET,
        "claimed": "unsat",
        "ghost": False,
        "kind": "arithmetic",
        "smt": PROOF_SMT,
        "subjects": [],
        "submitter": submitter.hex(),
    }


OBJECTS: dict[str, tuple[Domain, Callable[[bytes], dict[str, Any]]]] = {
    "transfer": (Domain.TRANSACTION, transfer_body),
    "proof": (Domain.PROOF, proof_body),
}


@dataclass(frozen=True, slots=True)
class EdgeVector:
    """A signed object at one edge: the key, the object (signature included) and the verdict."""

    edge: str
    kind: str
    valid: bool
    public_key: str
    domain: str
    value: dict[str, Any]
    message: str
    signature: str

    @property
    def signed_object(self) -> dict[str, Any]:
        """Return the object with its signature, as a mempool or verifier receives it."""
        return {**self.value, "signature": self.signature}

    def to_json(self) -> dict[str, Any]:
        """Return the record written to the vectors file."""
        return {
            "class": self.edge,
            "object": self.kind,
            "rules": list(RULES),
            "valid": self.valid,
            "public_key": self.public_key,
            "domain": self.domain,
            "value": self.value,
            "message": self.message,
            "signature": self.signature,
        }

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> EdgeVector:
        """Read a record of the vectors file."""
        return cls(
            record["class"],
            record["object"],
            record["valid"],
            record["public_key"],
            record["domain"],
            record["value"],
            record["message"],
            record["signature"],
        )


def build_vector(edge: EdgeClass, kind: str, seed: bytes = SEED) -> EdgeVector:
    """Sign the ``kind`` object of ``edge``'s key at its edge."""
    domain, body = OBJECTS[kind]
    key = edge.key(seed)
    value = body(key)
    message = signing_bytes(domain, value)
    signature = edge.sign(seed, message)
    return EdgeVector(
        edge.name,
        kind,
        edge.valid,
        key.hex(),
        domain.value,
        value,
        message.hex(),
        signature.hex(),
    )


def build_vectors() -> list[EdgeVector]:
    """Return every vector, each checked with PyNaCl against its class's declared verdict."""
    vectors = [build_vector(edge, kind) for edge in EDGE_CLASSES for kind in OBJECTS]
    for vector in vectors:
        got = libsodium_verify(
            bytes.fromhex(vector.public_key),
            bytes.fromhex(vector.message),
            bytes.fromhex(vector.signature),
        )
        if got != vector.valid:
            raise AssertionError(
                f"class {vector.edge}: libsodium says {got}, the definition {vector.valid}"
            )
    return vectors


def model_table(vectors: list[EdgeVector]) -> dict[str, dict[str, bool]]:
    """Return {class: {model: accepts every vector of the class}}."""
    table: dict[str, dict[str, bool]] = {}
    for vector in vectors:
        row = table.setdefault(vector.edge, {})
        for model in MODELS:
            verdict = model_verify(
                model,
                bytes.fromhex(vector.public_key),
                bytes.fromhex(vector.message),
                bytes.fromhex(vector.signature),
            )
            row[model.name] = row.get(model.name, True) and verdict
    return table


def load_vectors(path: Path = VECTORS_FILE) -> list[EdgeVector]:
    """Read the committed vectors."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return [EdgeVector.from_json(record) for record in data["vectors"]]


def render_vectors(vectors: list[EdgeVector]) -> str:
    """Return the vectors file's text."""
    data = {
        "rules": list(RULES),
        "seed": SEED.hex(),
        "vectors": [v.to_json() for v in vectors],
    }
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=True) + "\n"


_README_HEAD = """\
# Ed25519 edge cases (N1, R7.5)

Generated by `aethel-conformance vectors generate` from the definitions in
`conformance/testvectors/ed25519.py` (do not edit by hand; `aethel-conformance vectors check`
fails when this directory and the definitions disagree).

N1 makes libsodium's `crypto_sign_verify_detached` the rule for every signature: S must be
below L, neither the public key A nor R may be a small-order point, A must be canonically
encoded, and the check is the cofactorless equation [S]B = R + [h]A with R compared as bytes.
Libraries differ exactly here, and nodes that disagree on a signature disagree on whether a
vote counts (R7.5). Every class below is signed over a transfer (domain
`aethel/transaction/v1`, the sender is A) and a proof (domain `aethel/proof/v1`, the submitter
is A; its SMT text is valid, so only the signature decides). `vectors.json` holds, per vector:
`public_key`, `domain`, `value` (the signed body), `message` (the exact bytes signed: domain
tag, a zero byte, canonical JSON of `value`), `signature`, and `valid`, the verdict N1
requires. Generation checks each `valid` against PyNaCl.

The suite sends them to every place an implementation verifies signatures: the encoding
capability's `verify_signature`, the verifier's `batch_verify_signatures` and `verify_proof`,
mempool admission of proofs and transfers, and (built over live votes) a replica's PREPARE
votes and certificates (`conformance/suite/test_signatures.py`).

| class | N1 verdict | what it is |
|---|---|---|
"""

_MODELS_HEAD = """
Which verifier models accept each class (computed with `model_verify`; "yes" means it accepts
both vectors of the class). A node built on any model other than libsodium's would count votes
the others refuse:

"""


def render_readme(vectors: list[EdgeVector]) -> str:
    """Return the README's text: the classes and the models' verdicts, from the definitions."""
    lines = [_README_HEAD.rstrip("\n")]
    for edge in EDGE_CLASSES:
        verdict = "valid" if edge.valid else "invalid"
        lines.append(f"| `{edge.name}` | {verdict} | {edge.what} |")
    lines.append(_MODELS_HEAD.rstrip("\n"))
    lines.append("")
    for model in MODELS:
        lines.append(f"- `{model.name}`: {model.what}.")
    lines.append("")
    lines.append("| class | " + " | ".join(f"`{m.name}`" for m in MODELS) + " |")
    lines.append("|---|" + "---|" * len(MODELS))
    table = model_table(vectors)
    for edge in EDGE_CLASSES:
        row = table[edge.name]
        cells = " | ".join("yes" if row[m.name] else "no" for m in MODELS)
        lines.append(f"| `{edge.name}` | {cells} |")
    return "\n".join(lines) + "\n"


def generated_files() -> dict[Path, str]:
    """Return {path: text} of every generated file of this directory."""
    vectors = build_vectors()
    return {VECTORS_FILE: render_vectors(vectors), README_FILE: render_readme(vectors)}


def write(directory: Path = DIRECTORY) -> int:
    """Write the vectors and README under ``directory``; return the number of vectors."""
    directory.mkdir(parents=True, exist_ok=True)
    files = generated_files()
    for path, text in files.items():
        (directory / path.name).write_text(text, encoding="utf-8")
    return len(load_vectors(directory / VECTORS_FILE.name))


def compare(directory: Path = DIRECTORY) -> list[str]:
    """Return the differences between ``directory`` and the definitions (empty: agree)."""
    problems = []
    for path, text in generated_files().items():
        found = directory / path.name
        if not found.exists():
            problems.append(f"missing: ed25519/{path.name}")
        elif found.read_text(encoding="utf-8") != text:
            problems.append(f"differs from the definitions: ed25519/{path.name}")
    return problems
