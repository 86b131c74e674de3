"""Canonical encoding, hashing and signatures: the bytes every other rule is built on.

Rules (spec/encoding.md):

* E1 canonical JSON is RFC 8785 (JCS): no whitespace, members sorted by the UTF-16 code units of
  their names, strings escaped the RFC 8785 way, UTF-8 output.
* E2 numbers are integers in [-2**63, 2**63 - 1]; floats, exponents, ``-0``, NaN and Infinity are
  rejected.
* E3 strings (values and member names) are NFC-normalized Unicode scalar values.
* E4 parsing is strict: input is accepted only if it is byte-for-byte the canonical encoding of the
  value it denotes (so whitespace, other member orders, other escapes, duplicate names, trailing
  data, invalid UTF-8 and nesting deeper than :data:`MAX_DEPTH` are all rejected). Encoding and
  parsing are exact inverses on the JSON data model.
* E5 byte strings travel as lowercase hex (:func:`to_hex` / :func:`parse_hex`).
* E6 hashes are SHA-256; an object's hash is SHA-256 of its canonical encoding.
* E7 signatures are Ed25519 over ``domain tag || 0x00 || canonical JSON of the object without its
  "signature" member``; the domain tag keeps a signature from being replayed as another type.

The JSON data model here: ``None``, ``bool``, ``int``, ``str``, ``list`` (``tuple`` accepted when
encoding) and ``dict`` with ``str`` keys. Parsing returns lists and dicts.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import re
import sys
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeAlias

import nacl.exceptions
import nacl.signing

from aethel.errors import EncodingError, SignatureError, UsageError

JSONValue: TypeAlias = (
    bool | int | str | list["JSONValue"] | tuple["JSONValue", ...] | dict[str, "JSONValue"] | None
)

INT_MIN = -(2**63)
INT_MAX = 2**63 - 1
#: Deepest nesting of arrays and objects accepted (E4). Every protocol object is far shallower.
MAX_DEPTH = 64
HASH_SIZE = 32
SIGNATURE_SIZE = 64
PUBLIC_KEY_SIZE = 32

_HEX_DIGITS = frozenset("0123456789abcdef")


# --------------------------------------------------------------------------- canonical JSON


def _check_value(value: object, depth: int) -> bool:
    """Validate ``value`` against E2/E3 and the data model; return True if a key is non-BMP.

    Non-BMP member names are the one case where Python's code-point order differs from RFC 8785's
    UTF-16 order, so the encoder needs to know.
    """
    if value is None or value is True or value is False:
        return False
    if isinstance(value, str):
        _check_string(value)
        return False
    if isinstance(value, int):
        if type(value) is not int:  # an IntEnum or similar would encode by name in some paths
            raise EncodingError("E2", f"integer subclass {type(value).__name__} is not canonical")
        if not INT_MIN <= value <= INT_MAX:
            raise EncodingError("E2", f"integer {value} is outside [-2**63, 2**63-1]")
        return False
    if depth >= MAX_DEPTH:
        raise EncodingError("E4", f"nesting deeper than {MAX_DEPTH} levels")
    if isinstance(value, list | tuple):
        non_bmp = False
        for item in value:
            non_bmp |= _check_value(item, depth + 1)
        return non_bmp
    if isinstance(value, dict):
        non_bmp = False
        for key, item in value.items():
            if not isinstance(key, str):
                raise EncodingError("E1", f"object member name {key!r} is not a string")
            _check_string(key)
            if not key.isascii() and any(ord(ch) > 0xFFFF for ch in key):
                non_bmp = True
            non_bmp |= _check_value(item, depth + 1)
        return non_bmp
    if isinstance(value, float):
        raise EncodingError("E2", f"float {value!r} is not allowed; use integers")
    raise EncodingError("E1", f"type {type(value).__name__} has no canonical JSON form")


def _check_string(text: str) -> None:
    if text.isascii():
        return
    for ch in text:
        if 0xD800 <= ord(ch) <= 0xDFFF:
            raise EncodingError(
                "E3", f"lone surrogate U+{ord(ch):04X} is not a Unicode scalar value"
            )
    if not unicodedata.is_normalized("NFC", text):
        raise EncodingError("E3", f"string {text!r} is not NFC-normalized")


def _utf16_key(name: str) -> bytes:
    return name.encode("utf-16-be")


def _encode_jcs(value: Any, out: list[str]) -> None:
    """Encode with RFC 8785 member order (UTF-16 code units); used only for non-BMP names."""
    if isinstance(value, dict):
        out.append("{")
        for index, name in enumerate(sorted(value, key=_utf16_key)):
            if index:
                out.append(",")
            out.append(json.encoder.encode_basestring(name))
            out.append(":")
            _encode_jcs(value[name], out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _encode_jcs(item, out)
        out.append("]")
    else:
        out.append(json.dumps(value, ensure_ascii=False))


def canonical_json(value: object) -> bytes:
    """Return the canonical JSON encoding of ``value`` (E1-E3).

    ``value`` is any object; it is validated against the JSON data model at run time.

    Raises :class:`EncodingError` naming the rule when ``value`` has no canonical form (floats,
    out-of-range integers, non-NFC strings, lone surrogates, non-string member names, unknown types,
    nesting deeper than :data:`MAX_DEPTH`).
    """
    non_bmp = _check_value(value, 0)
    if non_bmp:
        out: list[str] = []
        _encode_jcs(value, out)
        return "".join(out).encode("utf-8")
    # With only BMP member names, code-point order equals UTF-16 order, and the C encoder's
    # escaping (", \\ and U+0000..U+001F, short forms for \b\t\n\f\r) is exactly RFC 8785's.
    return json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, item in pairs:
        if name in result:
            raise EncodingError("E4", f"duplicate object member name {name!r}")
        result[name] = item
    return result


def _reject_float(text: str) -> Any:
    raise EncodingError("E2", f"number {text!r} is not an integer")


def _reject_constant(text: str) -> Any:
    raise EncodingError("E2", f"{text} is not a JSON number")


#: A JSON string literal (escapes included), and every byte that is not a bracket.
_STRING_LITERAL = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")
_NESTING_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def nests_deeper_than(data: bytes, limit: int) -> bool:
    """Return True if the arrays and objects of the JSON text ``data`` nest deeper than ``limit``.

    Read before parsing, so that a refusal of deep nesting (E4, N6) does not depend on the
    interpreter's recursion limit: where that limit was raised (py_ecc raises it to 100,000 when
    imported), the C decoder overflows the C stack on a deep text instead of raising
    RecursionError. Brackets inside string literals are not counted; a text that is not JSON may
    be misjudged, and is refused by the parse anyway.
    """
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    brackets = _NOT_BRACKET.sub(b"", _STRING_LITERAL.sub(b"", data))
    return max(itertools.accumulate(map(_NESTING_STEP.__getitem__, brackets)), default=0) > limit


#: The interpreter's default recursion limit: at it, the C JSON decoder raises RecursionError long
#: before the C stack runs out.
DECODER_SAFE_RECURSION_LIMIT = 1000


def too_deep_for_the_decoder(data: bytes | str, limit: int) -> bool:
    """Return True if ``data`` must be refused for its nesting before ``json.loads`` sees it.

    Only where the recursion limit was raised above the default (py_ecc raises it to 100,000 when
    imported): there the C decoder overflows the C stack on a deep text (a crash) instead of
    raising RecursionError. At the default limit the decoder's own RecursionError refuses it and
    this costs nothing; above it, :func:`nests_deeper_than` reads the text (about twice the time
    of ``json.loads`` on a large text).
    """
    if sys.getrecursionlimit() <= DECODER_SAFE_RECURSION_LIMIT:
        return False
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    return nests_deeper_than(raw, limit)


def parse_canonical_json(data: bytes, *, max_size: int | None = None) -> Any:
    """Parse ``data`` and return its value, accepting canonical JSON only (E1-E4).

    ``max_size`` bounds the input length in bytes (for hostile peers). Raises
    :class:`EncodingError` naming the broken rule; :class:`UsageError` if ``data`` is not bytes.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise UsageError(f"parse_canonical_json expects bytes, got {type(data).__name__}")
    raw = bytes(data)
    if max_size is not None and len(raw) > max_size:
        raise EncodingError("E4", f"input of {len(raw)} bytes exceeds the limit of {max_size}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EncodingError(
            "E4", f"input is not valid UTF-8: {exc.reason} at {exc.start}"
        ) from None
    if too_deep_for_the_decoder(raw, MAX_DEPTH):
        raise EncodingError("E4", f"nesting deeper than {MAX_DEPTH} levels")
    try:
        value = json.loads(
            text,
            object_pairs_hook=_reject_duplicates,
            parse_float=_reject_float,
            parse_constant=_reject_constant,
        )
    except json.JSONDecodeError as exc:
        raise EncodingError("E4", f"not JSON: {exc.msg} at byte {exc.pos}") from None
    except RecursionError:
        raise EncodingError("E4", f"nesting deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # e.g. an integer literal longer than Python's digit limit
        raise EncodingError("E2", f"number out of range: {exc}") from None
    if canonical_json(value) != raw:
        raise EncodingError("E4", "input is JSON but not in canonical form")
    return value


# --------------------------------------------------------------------------- bytes and hashes


def to_hex(data: bytes) -> str:
    """Encode bytes as lowercase hex (E5)."""
    return data.hex()


def parse_hex(text: object, *, length: int | None = None, rule_id: str = "E5") -> bytes:
    """Decode lowercase hex (E5), optionally of exactly ``length`` bytes; reject anything else."""
    if not isinstance(text, str):
        raise EncodingError(rule_id, f"expected a hex string, got {type(text).__name__}")
    if len(text) % 2 or not _HEX_DIGITS.issuperset(text):
        raise EncodingError(rule_id, f"{text[:80]!r} is not lowercase hex of whole bytes")
    if length is not None and len(text) != 2 * length:
        raise EncodingError(rule_id, f"expected {length} bytes of hex, got {len(text) // 2}")
    return bytes.fromhex(text)


def sha256(data: bytes) -> bytes:
    """Return SHA-256 of ``data`` (N1, E6)."""
    return hashlib.sha256(data).digest()


def hash_canonical(value: object) -> bytes:
    """Return SHA-256 of the canonical encoding of ``value`` (E6)."""
    return hashlib.sha256(canonical_json(value)).digest()


# --------------------------------------------------------------------------- signatures


class Domain(StrEnum):
    """Signing domain tags (E7): one per signed message type, never reused across types."""

    PROOF = "aethel/proof/v1"
    TRANSACTION = "aethel/transaction/v1"
    BLOCK = "aethel/block/v1"
    PRE_PREPARE = "aethel/pre-prepare/v1"
    PREPARE = "aethel/prepare/v1"
    COMMIT = "aethel/commit/v1"
    VIEW_CHANGE = "aethel/view-change/v1"
    NEW_VIEW = "aethel/new-view/v1"
    VALIDATOR_SET = "aethel/validator-set/v1"
    EVIDENCE = "aethel/evidence/v1"
    SNAPSHOT_MANIFEST = "aethel/snapshot-manifest/v1"


class DomainV2(StrEnum):
    """Signing domain tags of consensus protocol version 2 (V2.2, V2.3): the consensus objects'
    tags ending in ``/v2``. Kept apart from :class:`Domain`, the tags of version 1 (E7), so
    what is signed at a height says its version. PREPARE and COMMIT of version 2 are BLS
    signatures over these tags (:mod:`aethel.consensus.v2.certificate`)."""

    BLOCK = "aethel/block/v2"
    PRE_PREPARE = "aethel/pre-prepare/v2"
    PREPARE = "aethel/prepare/v2"
    COMMIT = "aethel/commit/v2"
    VIEW_CHANGE = "aethel/view-change/v2"
    NEW_VIEW = "aethel/new-view/v2"
    VALIDATOR_SET = "aethel/validator-set/v2"
    EVIDENCE = "aethel/evidence/v2"


#: A signing domain of either protocol version.
SigningDomain = Domain | DomainV2


def domain_of(domain: Domain, version: int) -> SigningDomain:
    """Return the tag of ``domain``'s type in consensus protocol ``version`` (V2.2): the
    version-1 tag itself for version 1, its ``/v2`` twin for version 2."""
    if version == 1:
        return domain
    if version == 2 and domain.name in DomainV2.__members__:
        return DomainV2[domain.name]
    raise UsageError(f"no version-{version} tag for {domain.value}")


SIGNATURE_FIELD = "signature"


def signing_bytes(domain: SigningDomain, value: Mapping[str, object]) -> bytes:
    """Return the bytes an Ed25519 signature covers (E7).

    That is the domain tag, a zero byte, and the canonical JSON of ``value`` without its
    ``"signature"`` member.
    """
    if not isinstance(domain, Domain | DomainV2):
        raise UsageError(f"unknown signing domain {domain!r}; use aethel.encoding.Domain")
    if not isinstance(value, Mapping):
        raise UsageError(f"only objects are signed, got {type(value).__name__}")
    body = {name: item for name, item in value.items() if name != SIGNATURE_FIELD}
    return domain.value.encode("ascii") + b"\x00" + canonical_json(body)


@dataclass(frozen=True, slots=True)
class KeyPair:
    """An Ed25519 key pair. The secret seed never appears in ``repr`` (R5.3)."""

    seed: bytes = field(repr=False)
    public_key: bytes
    _signer: nacl.signing.SigningKey = field(repr=False, compare=False, hash=False)

    @classmethod
    def from_seed(cls, seed: bytes) -> KeyPair:
        """Build the key pair of a 32-byte secret seed."""
        if not isinstance(seed, bytes) or len(seed) != 32:
            raise UsageError("an Ed25519 seed is exactly 32 bytes")
        signer = nacl.signing.SigningKey(seed)
        return cls(seed, bytes(signer.verify_key), signer)

    @classmethod
    def generate(cls, rng: random.Random) -> KeyPair:
        """Draw a key pair from a seeded RNG (deterministic tests and simulations)."""
        return cls.from_seed(rng.randbytes(32))

    def sign(self, domain: SigningDomain, value: Mapping[str, object]) -> bytes:
        """Sign ``value`` in ``domain`` (E7); return the 64-byte signature."""
        return self._signer.sign(signing_bytes(domain, value)).signature

    def sign_bytes(self, message: bytes) -> bytes:
        """Sign raw bytes that the caller built with :func:`signing_bytes`."""
        return self._signer.sign(message).signature


def verify_signature_bytes(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Return True iff ``signature`` is a valid Ed25519 signature of ``message`` by ``public_key``.

    Malformed keys or signatures (wrong type or length) are simply invalid: this never raises.
    """
    if not isinstance(public_key, bytes) or len(public_key) != PUBLIC_KEY_SIZE:
        return False
    if not isinstance(signature, bytes) or len(signature) != SIGNATURE_SIZE:
        return False
    try:
        nacl.signing.VerifyKey(public_key).verify(message, signature)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, ValueError, TypeError):
        return False
    return True


def verify_signature(
    public_key: bytes, domain: SigningDomain, value: Mapping[str, object], signature: bytes
) -> bool:
    """Return True iff ``signature`` signs ``value`` in ``domain`` for ``public_key`` (E7, R7.5).

    Returns False (never raises) for a bad signature, a malformed key or signature, or a value
    with no canonical encoding.
    """
    try:
        return verify_signature_bytes(public_key, signing_bytes(domain, value), signature)
    except EncodingError:  # no canonical bytes: no message, so no valid signature either
        return False


def require_signature(
    public_key: bytes,
    domain: Domain,
    value: Mapping[str, object],
    signature: bytes,
    *,
    rule_id: str = "R7.5",
) -> None:
    """Raise :class:`SignatureError` naming ``rule_id`` unless the signature verifies."""
    if not verify_signature(public_key, domain, value, signature):
        raise SignatureError(
            rule_id, f"invalid {domain.value} signature by key {to_hex(public_key)[:16]}..."
        )
