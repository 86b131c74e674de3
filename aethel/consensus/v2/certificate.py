"""Votes and aggregate certificates of version 2 (V2.3, V2.7, V2.8).

A vote signs ``tag || 0x00 || canonical JSON of {type, height, view, digest[, post_root]}`` with
BLS, so every vote for one value signs the same bytes and a certificate is one aggregate over a
bitmap of its signers in validator-set order.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from aethel.consensus.v2.checks import DIRECT, AggregateChecker
from aethel.consensus.v2.roster import Roster
from aethel.crypto import bls
from aethel.encoding import canonical_json, parse_hex, to_hex
from aethel.errors import ProtocolViolation

FORM_RULE = "V2.7"
VALIDITY_RULE = "V2.8"
DIGEST_SIZE = 32

Phase = Literal["prepare", "commit"]
#: The signing domain tags of version-2 votes (V2.3).
VOTE_TAGS: dict[Phase, bytes] = {"prepare": b"aethel/prepare/v2", "commit": b"aethel/commit/v2"}
CERTIFICATE_TYPES: dict[Phase, str] = {
    "prepare": "prepare-certificate",
    "commit": "commit-certificate",
}


class CertificateError(ProtocolViolation):
    """A version-2 certificate is malformed (V2.7) or does not prove its quorum (V2.8)."""


@dataclass(frozen=True, slots=True)
class VoteTarget:
    """What a vote is for: the phase, height, view, block digest and (COMMIT) post-state root."""

    phase: Phase
    height: int
    view: int
    digest: bytes
    post_root: bytes | None = None

    def body(self) -> dict[str, object]:
        """Return the signed members (V2.3): the validator travels outside them."""
        body: dict[str, object] = {
            "type": self.phase,
            "height": self.height,
            "view": self.view,
            "digest": to_hex(self.digest),
        }
        if self.phase == "commit":
            body["post_root"] = to_hex(self.post_root or b"")
        return body

    def message(self) -> bytes:
        """Return the bytes every vote for this target signs (V2.3), encoded once per distinct
        target (every vote of a target signs them, and each is checked against them)."""
        return _message(self)


@functools.lru_cache(maxsize=1_024)
def _message(target: VoteTarget) -> bytes:
    return VOTE_TAGS[target.phase] + b"\x00" + canonical_json(target.body())


@dataclass(frozen=True, slots=True)
class Certificate:
    """A version-2 certificate: its target, the signer bitmap and the aggregate (V2.7)."""

    target: VoteTarget
    signers: bytes
    aggregate: bls.Signature
    _members: tuple[int, ...] | None = field(default=None, init=False, repr=False, compare=False)

    def members(self) -> list[int]:
        """Return the indices (validator-set order) whose bit is set."""
        if self._members is None:
            found = [
                8 * position + bit
                for position, byte in enumerate(self.signers)
                if byte
                for bit in range(8)
                if byte & (0x80 >> bit)
            ]
            object.__setattr__(self, "_members", tuple(found))
        return list(self._members or ())

    def to_wire(self) -> dict[str, object]:
        """Return the canonical JSON object (V2.7)."""
        wire: dict[str, object] = {
            "type": CERTIFICATE_TYPES[self.target.phase],
            "height": self.target.height,
            "view": self.target.view,
            "digest": to_hex(self.target.digest),
            "signers": to_hex(self.signers),
            "aggregate": to_hex(self.aggregate.data),
        }
        if self.target.phase == "commit":
            wire["post_root"] = to_hex(self.target.post_root or b"")
        return wire

    def encode(self) -> bytes:
        """Return the canonical encoding (E1) of :meth:`to_wire`."""
        return canonical_json(self.to_wire())


def bitmap(indices: list[int], size: int) -> bytes:
    """Return the signer bitmap of ``indices`` over ``size`` members (V2.7)."""
    data = bytearray((size + 7) // 8)
    for i in indices:
        if not 0 <= i < size:
            raise ValueError(f"member index {i} outside 0..{size - 1}")
        data[i // 8] |= 0x80 >> (i % 8)
    return bytes(data)


def _integer(value: object, name: str, least: int) -> int:
    if type(value) is not int or value < least:
        raise CertificateError(FORM_RULE, f"{name} must be an integer >= {least}, got {value!r}")
    return value


def parse_certificate(wire: object, size: int) -> Certificate:
    """Parse a certificate for a validator set of ``size`` members; refuse any other form (V2.7).

    The aggregate must be a valid signature point (V2.5); nothing is verified yet.
    """
    if not isinstance(wire, Mapping):
        raise CertificateError(FORM_RULE, "a certificate is a JSON object")
    kinds = {v: k for k, v in CERTIFICATE_TYPES.items()}
    phase = kinds.get(wire.get("type"))  # type: ignore[arg-type]
    if phase is None:
        raise CertificateError(FORM_RULE, f"unknown certificate type {wire.get('type')!r}")
    expected = {"type", "height", "view", "digest", "signers", "aggregate"}
    if phase == "commit":
        expected.add("post_root")
    if set(wire) != expected:
        raise CertificateError(
            FORM_RULE, f"members {sorted(wire)} are not exactly {sorted(expected)}"
        )
    try:
        digest = parse_hex(wire["digest"], length=DIGEST_SIZE, rule_id=FORM_RULE)
        root = (
            parse_hex(wire["post_root"], length=DIGEST_SIZE, rule_id=FORM_RULE)
            if phase == "commit"
            else None
        )
        signers = parse_hex(wire["signers"], length=(size + 7) // 8, rule_id=FORM_RULE)
        aggregate_bytes = parse_hex(wire["aggregate"], length=bls.SIGNATURE_SIZE, rule_id=FORM_RULE)
    except ProtocolViolation as exc:
        raise CertificateError(FORM_RULE, exc.detail) from None
    if size % 8 and signers[-1] & (0xFF >> (size % 8)):
        raise CertificateError(FORM_RULE, f"bits past the {size} members are set")
    if not any(signers):
        raise CertificateError(FORM_RULE, "the bitmap names no signer")
    target = VoteTarget(
        phase,
        _integer(wire["height"], "height", 1),
        _integer(wire["view"], "view", 0),
        digest,
        root,
    )
    return Certificate(target, signers, bls.Signature.from_bytes(aggregate_bytes))


def check_certificate(
    certificate: Certificate, roster: Roster, checker: AggregateChecker = DIRECT
) -> list[int]:
    """Return the members of a valid certificate; refuse it naming V2.8 unless its bitmap's
    members hold q(W) stake of ``roster`` and its aggregate verifies for exactly their kept keys.

    The members' keys were registered with proofs of possession (a :class:`Roster` holds no
    other), which is what makes FastAggregateVerify sound (V2.6). Quorum first: it costs no
    pairing.
    """
    if len(certificate.signers) != (len(roster) + 7) // 8:
        raise CertificateError(FORM_RULE, "the bitmap is not the size of the validator set")
    members = certificate.members()
    if members and members[-1] >= len(roster):
        raise CertificateError(FORM_RULE, f"bits past the {len(roster)} members are set")
    idle = [i for i in members if roster.members[i].stake == 0]
    if idle:
        # A member slashed below the minimum stake keeps its place and signs for nothing.
        raise CertificateError(VALIDITY_RULE, f"member {idle[0]} holds no stake at this height")
    stake = roster.stake_of(members)
    if stake < roster.quorum:
        raise CertificateError(
            VALIDITY_RULE, f"signers hold {stake} stake, below q(W) = {roster.quorum}"
        )
    keys = [roster.members[i].key for i in members]
    if not checker.fast_aggregate_verify(keys, certificate.target.message(), certificate.aggregate):
        raise CertificateError(
            VALIDITY_RULE, "the aggregate does not verify for the bitmap's members"
        )
    return members
