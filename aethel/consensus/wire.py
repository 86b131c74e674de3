"""Strict parsing of the canonical JSON forms of consensus messages, blocks and evidence
(E1-E5, E12, R4.2, R7.5).

Every parser of the consensus core's wire forms lives here, so the types import in one direction
only: :mod:`.messages` (the votes, certificates and view changes), :mod:`.block` (the proof block)
and :mod:`.evidence` (the offences) define the objects and their encodings, and this module,
which imports all three, turns canonical JSON back into them (ARCHITECTURE.md, "The layers").
Every parser checks the exact member set, the types and the hex lengths, and raises
:class:`aethel.errors.EncodingError` (a ProtocolViolation naming the rule) on anything else.
Signatures are parsed here and checked by the replica (R7.5).

Protocol version 2 (spec/consensus-v2.md) shares these forms: a PREPARE or COMMIT whose signature
is a BLS signature (96 bytes, V2.3) is a version-2 vote, and a certificate with ``signers`` and
``aggregate`` instead of ``votes`` is a version-2 certificate (V2.7, parsed by
:func:`aethel.consensus.v2.certificate.parse_certificate`). Which version a height runs is the
replica's to check (V2.2).
"""

from __future__ import annotations

from typing import Any

from aethel.consensus.block import ProofBlock
from aethel.consensus.evidence import Evidence
from aethel.consensus.messages import (
    NO_VIEW,
    Commit,
    CommitCertificate,
    Message,
    NewView,
    Prepare,
    PrepareCertificate,
    PrePrepare,
    ViewChange,
)
from aethel.consensus.v2.certificate import parse_certificate
from aethel.crypto.bls import SIGNATURE_SIZE as BLS_SIGNATURE_SIZE
from aethel.economics import Offence
from aethel.encoding import HASH_SIZE, SIGNATURE_SIZE, parse_hex
from aethel.errors import EncodingError, ProtocolViolation

#: The members of a version-2 certificate that a version-1 one lacks (V2.7).
_AGGREGATE_FIELDS = ("signers", "aggregate")


def _fields(value: object, kind: str, names: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise EncodingError("E12", f"a {kind} message is a JSON object")
    if set(value) != names:
        missing = sorted(names - set(value))
        extra = sorted(set(value) - names)
        raise EncodingError("E12", f"{kind}: missing fields {missing}, unknown fields {extra}")
    if value.get("type", kind) != kind:
        raise EncodingError("E12", f"expected type {kind!r}, got {value.get('type')!r}")
    return value


def _int(value: object, name: str, minimum: int = 0) -> int:
    """Read an integer member: another JSON type names E12, a number out of range E2 (the
    table of spec/encoding.md's data model)."""
    if type(value) is not int:
        raise EncodingError("E12", f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise EncodingError("E2", f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def _str(value: object, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise EncodingError("E12", f"{name} must be a non-empty string")
    return value


def _hash(value: object, name: str) -> bytes:
    return parse_hex(value, length=HASH_SIZE, rule_id="E5")


def _signature(value: object) -> bytes:
    return parse_hex(value, length=SIGNATURE_SIZE, rule_id="R7.5")


def _vote_signature(value: object) -> bytes:
    """Parse a vote's signature: Ed25519 (version 1) or BLS (version 2, V2.3)."""
    if isinstance(value, str) and len(value) == 2 * BLS_SIGNATURE_SIZE:
        return parse_hex(value, length=BLS_SIGNATURE_SIZE, rule_id="V2.5")
    return _signature(value)


def _aggregate_form(value: object) -> bool:
    """Return True if ``value`` is a certificate in version 2's form (V2.7)."""
    return isinstance(value, dict) and any(name in value for name in _AGGREGATE_FIELDS)


def _parse_aggregate(value: dict[str, Any]) -> PrepareCertificate | CommitCertificate:
    """Parse a version-2 certificate (V2.7); its bitmap's length is checked against the
    validator set when the certificate is checked (V2.8)."""
    signers = value.get("signers")
    size = 8 * (len(signers) // 2) if isinstance(signers, str) else 0
    certificate = parse_certificate(value, size)
    if certificate.target.phase == "prepare":
        return PrepareCertificate.of_aggregate(certificate)
    return CommitCertificate.of_aggregate(certificate)


def _vote_pairs(value: object) -> list[tuple[str, bytes]]:
    if not isinstance(value, list) or not value:
        raise EncodingError("E12", "a certificate holds a non-empty list of votes")
    pairs = []
    for item in value:
        if not isinstance(item, list) or len(item) != 2:
            raise EncodingError("E12", "a certificate vote is [validator, signature]")
        pairs.append((_str(item[0], "validator"), _signature(item[1])))
    return pairs


def parse_message(value: object) -> Message:
    """Parse the canonical JSON form of any consensus message strictly.

    Raises :class:`EncodingError` (a ProtocolViolation) naming the rule for any malformed input;
    signatures are parsed but not checked here (the replica checks them, R7.5).
    """
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        raise EncodingError("E12", "a consensus message is an object with a string type")
    kind = value["type"]
    if kind == Prepare.TYPE:
        v = _fields(value, kind, {"type", "height", "view", "digest", "validator", "signature"})
        return Prepare(
            _int(v["height"], "height", 1),
            _int(v["view"], "view"),
            _hash(v["digest"], "digest"),
            _str(v["validator"], "validator"),
            _vote_signature(v["signature"]),
        )
    if kind == Commit.TYPE:
        names = {"type", "height", "view", "digest", "post_root", "validator", "signature"}
        v = _fields(value, kind, names)
        return Commit(
            _int(v["height"], "height", 1),
            _int(v["view"], "view"),
            _hash(v["digest"], "digest"),
            _hash(v["post_root"], "post_root"),
            _str(v["validator"], "validator"),
            _vote_signature(v["signature"]),
        )
    if kind == PrepareCertificate.TYPE:
        return parse_prepare_certificate(value)
    if kind == CommitCertificate.TYPE:
        return parse_commit_certificate(value)
    if kind == PrePrepare.TYPE:
        names = {"type", "height", "view", "digest", "leader", "block", "signature"}
        v = _fields(value, kind, names)
        block = parse_block(v["block"])
        return PrePrepare(
            _int(v["height"], "height", 1),
            _int(v["view"], "view"),
            _hash(v["digest"], "digest"),
            _str(v["leader"], "leader"),
            block,
            _signature(v["signature"]),
        )
    if kind == ViewChange.TYPE:
        return _parse_view_change(value)
    if kind == NewView.TYPE:
        names = {
            "type",
            "height",
            "view",
            "leader",
            "proposal",
            "view_changes",
            "prepared",
            "pre_prepare",
            "signature",
        }
        v = _fields(value, kind, names)
        changes = v["view_changes"]
        if not isinstance(changes, list):
            raise EncodingError("E12", "view_changes must be a list")
        pre_prepare = parse_message(v["pre_prepare"])
        if not isinstance(pre_prepare, PrePrepare):
            raise EncodingError("E12", "pre_prepare must be a pre-prepare message")
        message = NewView(
            _int(v["height"], "height", 1),
            _int(v["view"], "view"),
            _str(v["leader"], "leader"),
            tuple(_parse_view_change(item) for item in changes),
            None if v["prepared"] is None else parse_prepare_certificate(v["prepared"]),
            pre_prepare,
            _signature(v["signature"]),
        )
        # "view_changes" travels as the list itself; the signed body holds its hash.
        body = message.body()
        if any(body[k] != v[k] for k in body if k != "view_changes"):
            raise EncodingError("E12", "new-view summary fields do not match its content")
        return message
    if kind == "evidence":
        return parse_evidence(value)
    raise EncodingError("E12", f"unknown consensus message type {kind!r}")


def _parse_view_change(value: object) -> ViewChange:
    names = {
        "type",
        "height",
        "view",
        "prepared_view",
        "prepared_digest",
        "validator",
        "prepared",
        "block",
        "signature",
    }
    v = _fields(value, ViewChange.TYPE, names)
    prepared_view = v["prepared_view"]
    if type(prepared_view) is not int or prepared_view < NO_VIEW:
        raise EncodingError("E2", "prepared_view must be an integer >= -1")
    digest = None if v["prepared_digest"] is None else _hash(v["prepared_digest"], "digest")
    if (digest is None) != (prepared_view == NO_VIEW):
        raise ProtocolViolation("R2.6", "a prepared claim names both a view and a digest")
    return ViewChange(
        _int(v["height"], "height", 1),
        _int(v["view"], "view", 1),
        prepared_view,
        digest,
        _str(v["validator"], "validator"),
        _signature(v["signature"]),
        None if v["prepared"] is None else parse_prepare_certificate(v["prepared"]),
        None if v["block"] is None else parse_block(v["block"]),
    )


def parse_prepare_certificate(value: object) -> PrepareCertificate:
    """Parse a prepare certificate strictly (signatures are checked by the replica)."""
    if _aggregate_form(value):
        parsed = _parse_aggregate(value)  # type: ignore[arg-type]
        if not isinstance(parsed, PrepareCertificate):
            raise EncodingError("E12", "expected a prepare certificate")
        return parsed
    v = _fields(value, PrepareCertificate.TYPE, {"type", "height", "view", "digest", "votes"})
    height, view = _int(v["height"], "height", 1), _int(v["view"], "view")
    digest = _hash(v["digest"], "digest")
    votes = tuple(
        Prepare(height, view, digest, validator, signature)
        for validator, signature in _vote_pairs(v["votes"])
    )
    return PrepareCertificate(height, view, digest, votes)


def parse_commit_certificate(value: object) -> CommitCertificate:
    """Parse a commit certificate strictly (signatures are checked by the replica)."""
    if _aggregate_form(value):
        parsed = _parse_aggregate(value)  # type: ignore[arg-type]
        if not isinstance(parsed, CommitCertificate):
            raise EncodingError("E12", "expected a commit certificate")
        return parsed
    names = {"type", "height", "view", "digest", "post_root", "votes"}
    v = _fields(value, CommitCertificate.TYPE, names)
    height, view = _int(v["height"], "height", 1), _int(v["view"], "view")
    digest, root = _hash(v["digest"], "digest"), _hash(v["post_root"], "post_root")
    votes = tuple(
        Commit(height, view, digest, root, validator, signature)
        for validator, signature in _vote_pairs(v["votes"])
    )
    return CommitCertificate(height, view, digest, root, votes)


def parse_block(value: object) -> ProofBlock:
    """Parse the canonical JSON form of a block strictly (E12); signatures checked later."""
    names = {
        "type",
        "height",
        "parent",
        "proposer",
        "transactions",
        "proofs",
        "evidence",
        "last_commit",
        "signature",
    }
    if not isinstance(value, dict) or set(value) != names or value["type"] != "block":
        raise EncodingError("E12", f"a block is an object with exactly {sorted(names)}")
    v: dict[str, Any] = value
    height = v["height"]
    if type(height) is not int or height < 1:
        raise EncodingError("E2", "block height must be an integer >= 1")
    for name in ("transactions", "proofs", "evidence"):
        if not isinstance(v[name], list) or not all(isinstance(i, dict) for i in v[name]):
            raise EncodingError("E12", f"block {name} must be a list of objects")
    if not isinstance(v["proposer"], str):
        raise EncodingError("E12", "block proposer must be a string")
    return ProofBlock(
        height,
        parse_hex(v["parent"], length=HASH_SIZE),
        v["proposer"],
        tuple(v["transactions"]),
        tuple(v["proofs"]),
        tuple(parse_evidence(e) for e in v["evidence"]),
        None if v["last_commit"] is None else parse_commit_certificate(v["last_commit"]),
        parse_hex(v["signature"], length=SIGNATURE_SIZE, rule_id="R7.5"),
    )


def parse_evidence(value: object) -> Evidence:
    """Parse the canonical JSON form of evidence strictly (signatures checked later)."""
    names = {
        "type",
        "offence",
        "offender",
        "first",
        "second",
        "block",
        "proof_index",
        "reporter",
        "signature",
    }
    if not isinstance(value, dict) or set(value) != names or value["type"] != "evidence":
        raise EncodingError("E12", f"evidence is an object with exactly {sorted(names)}")
    v: dict[str, Any] = value
    try:
        offence = Offence(v["offence"])
    except ValueError:
        raise EncodingError("R4.2", f"unknown offence {v['offence']!r}") from None
    first = parse_message(v["first"])
    second = None if v["second"] is None else parse_message(v["second"])
    signed = (Prepare, Commit, PrePrepare, ViewChange, NewView)
    if not isinstance(first, signed) or (second is not None and not isinstance(second, signed)):
        raise EncodingError("E12", "evidence holds signed consensus messages")
    index = v["proof_index"]
    if type(index) is not int or index < -1:
        raise EncodingError("E2", "proof_index must be an integer >= -1")
    if not isinstance(v["offender"], str) or not isinstance(v["reporter"], str):
        raise EncodingError("E12", "offender and reporter are strings")
    return Evidence(
        offence,
        v["offender"],
        first,
        second,
        None if v["block"] is None else parse_block(v["block"]),
        index,
        v["reporter"],
        parse_hex(v["signature"], length=SIGNATURE_SIZE, rule_id="R7.5"),
    )
