"""Strict parsing of the canonical JSON forms of consensus messages (E1-E5, E12, R7.5).

Every parser checks the exact member set, the types and the hex lengths, and raises
:class:`aethel.errors.EncodingError` (a ProtocolViolation naming the rule) on anything else.
Signatures are parsed here and checked by the replica (R7.5).
"""

from __future__ import annotations

from typing import Any

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
from aethel.encoding import HASH_SIZE, SIGNATURE_SIZE, parse_hex
from aethel.errors import EncodingError, ProtocolViolation


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
    if type(value) is not int or value < minimum:
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
    from aethel.consensus.block import parse_block

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
            _signature(v["signature"]),
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
            _signature(v["signature"]),
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
        from aethel.consensus.evidence import parse_evidence

        return parse_evidence(value)
    raise EncodingError("E12", f"unknown consensus message type {kind!r}")


def _parse_view_change(value: object) -> ViewChange:
    from aethel.consensus.block import parse_block

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
    names = {"type", "height", "view", "digest", "post_root", "votes"}
    v = _fields(value, CommitCertificate.TYPE, names)
    height, view = _int(v["height"], "height", 1), _int(v["view"], "view")
    digest, root = _hash(v["digest"], "digest"), _hash(v["post_root"], "post_root")
    votes = tuple(
        Commit(height, view, digest, root, validator, signature)
        for validator, signature in _vote_pairs(v["votes"])
    )
    return CommitCertificate(height, view, digest, root, votes)
