"""The peer wire: length-prefixed frames of canonical JSON between validators.

A frame is a 4-byte big-endian length followed by that many bytes, the canonical JSON (E1) of one
object with a ``kind`` member. Nothing else travels on a peer connection. Every frame is parsed
strictly (exact members, types, E12); a frame that does not parse, or whose length is 0 or above
:data:`MAX_FRAME_BYTES` (N6: bounded memory per peer), ends the connection. Kinds:

* ``hello`` {chain, validator, challenge}: first frame of each side (:mod:`aethel.node.handshake`);
* ``auth`` {signature}: the answer to the other side's challenge;
* ``consensus`` {message}: a consensus message in its canonical wire form
  (:func:`aethel.consensus.wire.parse_message`, signatures checked by the replica, R7.5);
* ``transfer`` {transfer, proof}: a transfer a node admitted, with its judge proof (mempool
  gossip; every peer admits it under the same rules, R5.5, R7.1, R1.1);
* ``request`` {id, what, args} and ``response`` {id, ok, body}: the questions a catching-up node
  asks (``latest`` certificate, certified ``blocks``, snapshot ``manifest`` and ``chunk``, R3.1,
  R3.5, and the ``pending`` transfers it missed while behind); ``ok`` false carries
  ``{"rule", "detail"}``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from aethel.consensus.messages import Message
from aethel.consensus.wire import parse_message
from aethel.encoding import JSONValue, canonical_json, parse_canonical_json, parse_hex
from aethel.errors import ProtocolViolation
from aethel.proofs.model import Proof, Transfer, proof_from_json, transfer_from_json

HEADER = struct.Struct(">I")
#: Largest frame accepted or sent (N6). A block of MAX_BLOCK_PROOFS transfer proofs with their
#: transfers is about 1.5 MB; a snapshot chunk of a large state more.
MAX_FRAME_BYTES = 32 << 20
#: Requests a catching-up node may ask (R3.1, R3.5).
REQUESTS = frozenset({"latest", "blocks", "manifest", "chunk", "pending"})


class FrameError(ProtocolViolation):
    """A frame that cannot be accepted: the connection is dropped."""


@dataclass(frozen=True, slots=True)
class Hello:
    chain: bytes
    validator: str
    challenge: bytes


@dataclass(frozen=True, slots=True)
class Auth:
    signature: bytes


@dataclass(frozen=True, slots=True)
class ConsensusFrame:
    message: Message


@dataclass(frozen=True, slots=True)
class TransferFrame:
    transfer: Transfer
    proof: Proof


@dataclass(frozen=True, slots=True)
class Request:
    id: int
    what: str
    args: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Response:
    id: int
    ok: bool
    body: Any


Frame = Hello | Auth | ConsensusFrame | TransferFrame | Request | Response


def encode_frame(value: dict[str, Any]) -> bytes:
    """Return the frame (header and canonical JSON) of ``value``; raise FrameError if too big."""
    data = canonical_json(value)
    if len(data) > MAX_FRAME_BYTES:
        raise FrameError("N6", f"a frame of {len(data)} bytes exceeds {MAX_FRAME_BYTES}")
    return HEADER.pack(len(data)) + data


def frame_length(header: bytes) -> int:
    """Return the body length a frame header announces; raise FrameError unless in bounds."""
    (length,) = HEADER.unpack(header)
    if length == 0 or length > MAX_FRAME_BYTES:
        raise FrameError("N6", f"frame length {length} outside 1..{MAX_FRAME_BYTES}")
    return int(length)


def _members(value: dict[str, Any], names: set[str]) -> None:
    if set(value) != names:
        raise FrameError("E12", f"a {value.get('kind')} frame holds exactly {sorted(names)}")


def _int(value: object, name: str) -> int:
    if type(value) is not int or value < 0:
        raise FrameError("E2", f"{name} must be a non-negative integer")
    return value


def parse_frame(body: bytes) -> Frame:
    """Parse one frame body strictly; raise :class:`ProtocolViolation` naming the rule."""
    value = parse_canonical_json(body)
    if not isinstance(value, dict) or not isinstance(value.get("kind"), str):
        raise FrameError("E12", "a frame is an object with a string kind")
    kind = value["kind"]
    if kind == "hello":
        _members(value, {"kind", "chain", "validator", "challenge"})
        if not isinstance(value["validator"], str):
            raise FrameError("E12", "hello.validator is a string")
        return Hello(
            parse_hex(value["chain"], length=32),
            value["validator"],
            parse_hex(value["challenge"], length=32),
        )
    if kind == "auth":
        _members(value, {"kind", "signature"})
        return Auth(parse_hex(value["signature"], length=64, rule_id="R7.5"))
    if kind == "consensus":
        _members(value, {"kind", "message"})
        return ConsensusFrame(parse_message(value["message"]))
    if kind == "transfer":
        _members(value, {"kind", "transfer", "proof"})
        return TransferFrame(transfer_from_json(value["transfer"]), proof_from_json(value["proof"]))
    if kind == "request":
        _members(value, {"kind", "id", "what", "args"})
        if value["what"] not in REQUESTS or not isinstance(value["args"], dict):
            raise FrameError("E12", f"a request asks one of {sorted(REQUESTS)} with an object")
        return Request(_int(value["id"], "id"), value["what"], value["args"])
    if kind == "response":
        _members(value, {"kind", "id", "ok", "body"})
        if not isinstance(value["ok"], bool):
            raise FrameError("E12", "response.ok is a boolean")
        return Response(_int(value["id"], "id"), value["ok"], value["body"])
    raise FrameError("E12", f"unknown frame kind {kind!r}")


def hello_frame(chain: bytes, validator: str, challenge: bytes) -> bytes:
    return encode_frame(
        {
            "kind": "hello",
            "chain": chain.hex(),
            "validator": validator,
            "challenge": challenge.hex(),
        }
    )


def auth_frame(signature: bytes) -> bytes:
    return encode_frame({"kind": "auth", "signature": signature.hex()})


def consensus_frame(message: Message) -> bytes:
    return encode_frame({"kind": "consensus", "message": message.to_wire()})


def transfer_frame(transfer: Transfer, proof: Proof) -> bytes:
    return encode_frame(
        {"kind": "transfer", "transfer": transfer.to_json(), "proof": proof.to_json()}
    )


def request_frame(request_id: int, what: str, args: dict[str, JSONValue]) -> bytes:
    return encode_frame({"kind": "request", "id": request_id, "what": what, "args": args})


def response_frame(request_id: int, ok: bool, body: Any) -> bytes:
    return encode_frame({"kind": "response", "id": request_id, "ok": ok, "body": body})


__all__ = [
    "HEADER",
    "MAX_FRAME_BYTES",
    "Auth",
    "ConsensusFrame",
    "Frame",
    "FrameError",
    "Hello",
    "Request",
    "Response",
    "TransferFrame",
    "encode_frame",
    "frame_length",
    "parse_frame",
]
