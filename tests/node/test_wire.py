"""The peer wire and the handshake, without sockets: every bad frame is a typed refusal.

A frame is a 4-byte length and a canonical JSON object (aethel/node/peer_wire.py); the handshake
signs the other side's fresh challenge under the domain ``aethel/peer-handshake/v1`` naming both
ends (aethel/node/handshake.py). What does not parse, or does not prove the key, ends the
connection: these tests check each refusal names its rule and that nothing else is accepted.
"""

from __future__ import annotations

import random

import pytest

from aethel.consensus.messages import Prepare
from aethel.consensus.signing import KeySigner
from aethel.consensus.validators import Validator, ValidatorSet
from aethel.encoding import KeyPair, sha256
from aethel.errors import AethelError, ProtocolViolation
from aethel.node.handshake import (
    HANDSHAKE_DOMAIN,
    check_auth,
    check_hello,
    handshake_payload,
    sign_handshake,
)
from aethel.node.peer_wire import (
    HEADER,
    MAX_FRAME_BYTES,
    Auth,
    ConsensusFrame,
    FrameError,
    Hello,
    Request,
    Response,
    TransferFrame,
    auth_frame,
    consensus_frame,
    frame_length,
    hello_frame,
    parse_frame,
    request_frame,
    response_frame,
    transfer_frame,
)
from aethel.proofs.judge import Judge
from aethel.proofs.model import sign_transfer

RNG = random.Random(1616)
KEYS = [KeyPair.generate(RNG) for _ in range(3)]
VALIDATORS = ValidatorSet.create(
    0, bytes(32), [Validator(f"v00{i}", key.public_key, 10_000) for i, key in enumerate(KEYS)]
)
CHAIN = sha256(b"chain")


def body(frame: bytes) -> bytes:
    assert frame_length(frame[: HEADER.size]) == len(frame) - HEADER.size
    return frame[HEADER.size :]


@pytest.mark.req("E4", "E12", "R7.5")
def test_every_frame_kind_round_trips() -> None:
    vote = Prepare.create(KeySigner("v000", KEYS[0]), 3, 0, sha256(b"block"))
    sender = KeyPair.generate(RNG)
    transfer = sign_transfer(sender, receiver=KEYS[1].public_key, amount=5, nonce=0)
    proof = Judge(KEYS[2]).prove_transfer(transfer, 10, 0)
    parsed = parse_frame(body(consensus_frame(vote)))
    assert isinstance(parsed, ConsensusFrame) and parsed.message == vote
    gossip = parse_frame(body(transfer_frame(transfer, proof)))
    assert isinstance(gossip, TransferFrame)
    assert (gossip.transfer, gossip.proof) == (transfer, proof)
    hello = parse_frame(body(hello_frame(CHAIN, "v001", bytes(range(32)))))
    assert hello == Hello(CHAIN, "v001", bytes(range(32)))
    assert parse_frame(body(auth_frame(bytes(64)))) == Auth(bytes(64))
    assert parse_frame(body(request_frame(7, "latest", {}))) == Request(7, "latest", {})
    assert parse_frame(body(response_frame(7, False, {"rule": "R3.1"}))) == Response(
        7, False, {"rule": "R3.1"}
    )


@pytest.mark.req("N6")
@pytest.mark.rejects("N6")
def test_a_frame_length_of_zero_or_over_the_bound_is_refused() -> None:
    with pytest.raises(FrameError, match=r"N6"):
        frame_length(HEADER.pack(0))
    with pytest.raises(FrameError, match=r"N6"):
        frame_length(HEADER.pack(MAX_FRAME_BYTES + 1))
    assert frame_length(HEADER.pack(MAX_FRAME_BYTES)) == MAX_FRAME_BYTES


BAD_BODIES = [
    b"\xff\xfe garbage",
    b'{"kind": "hello"}',  # not canonical (whitespace)
    b'{"kind":"nonsense"}',
    b"[1,2,3]",
    b'{"kind":"auth","signature":"00"}',
    b'{"extra":1,"kind":"auth","signature":"' + b"00" * 64 + b'"}',
    b'{"kind":"consensus","message":{"type":"prepare"}}',
    b'{"kind":"consensus","message":{"height":1.5,"type":"prepare"}}',
    b'{"kind":"transfer","proof":{},"transfer":{}}',
    b'{"args":{},"id":-1,"kind":"request","what":"latest"}',
    b'{"args":{},"id":1,"kind":"request","what":"secrets"}',
    b'{"body":null,"id":1,"kind":"response","ok":1}',
    b'{"challenge":"00","chain":"00","kind":"hello","validator":"v001"}',
    b'{"kind":"consensus","message":{"height":1180591620717411303424,"type":"prepare"}}',
]


@pytest.mark.req("E4", "E12")
@pytest.mark.rejects("E4", "E12")
@pytest.mark.parametrize("data", BAD_BODIES, ids=range(len(BAD_BODIES)))
def test_a_malformed_frame_is_a_typed_refusal(data: bytes) -> None:
    with pytest.raises(ProtocolViolation):
        parse_frame(data)


@pytest.mark.req("E4", "E12")
def test_random_bytes_never_escape_as_an_untyped_error() -> None:
    """A fuzz of mutated real frames: each parses or raises an AethelError (seed printed)."""
    seed = 16
    rng = random.Random(seed)
    vote = Prepare.create(KeySigner("v000", KEYS[0]), 3, 0, sha256(b"block"))
    originals = [body(consensus_frame(vote)), body(hello_frame(CHAIN, "v001", bytes(32)))]
    for case in range(2_000):
        data = bytearray(rng.choice(originals))
        for _ in range(rng.randrange(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            parse_frame(bytes(data))
        except AethelError:
            pass
        except Exception as exc:  # pragma: no cover - the failure path prints its input
            pytest.fail(f"seed {seed} case {case}: {bytes(data)!r} raised {exc!r}")


@pytest.mark.req("R7.5")
def test_the_handshake_accepts_the_key_holder() -> None:
    challenge = bytes(range(32))
    signature = sign_handshake(KEYS[1], CHAIN, challenge, "v001", "v000")
    check_hello(VALIDATORS, "v000", CHAIN, CHAIN, "v001", None)
    check_auth(VALIDATORS, CHAIN, challenge, "v000", "v001", signature)
    payload = handshake_payload(CHAIN, challenge, "v001", "v000")
    assert payload.startswith(HANDSHAKE_DOMAIN + b"\x00")


@pytest.mark.req("R7.5")
@pytest.mark.rejects("R7.5")
def test_the_handshake_refuses_forgeries_replays_and_reflections() -> None:
    challenge, other = bytes(range(32)), bytes(32)
    with pytest.raises(ProtocolViolation, match=r"R7\.5"):  # another key signs as v001
        check_auth(
            VALIDATORS, CHAIN, challenge, "v000", "v001",
            sign_handshake(KEYS[2], CHAIN, challenge, "v001", "v000"),
        )  # fmt: skip
    with pytest.raises(ProtocolViolation, match=r"R7\.5"):  # a replay from another connection
        check_auth(
            VALIDATORS, CHAIN, challenge, "v000", "v001",
            sign_handshake(KEYS[1], CHAIN, other, "v001", "v000"),
        )  # fmt: skip
    with pytest.raises(ProtocolViolation, match=r"R7\.5"):  # v000's own answer reflected back
        check_auth(
            VALIDATORS, CHAIN, challenge, "v000", "v001",
            sign_handshake(KEYS[0], CHAIN, challenge, "v000", "v001"),
        )  # fmt: skip
    with pytest.raises(ProtocolViolation, match=r"R7\.5"):  # another chain
        check_auth(
            VALIDATORS, CHAIN, challenge, "v000", "v001",
            sign_handshake(KEYS[1], sha256(b"other"), challenge, "v001", "v000"),
        )  # fmt: skip


@pytest.mark.req("R7.5")
@pytest.mark.rejects("R7.5")
def test_a_hello_from_outside_the_chain_is_refused() -> None:
    with pytest.raises(ProtocolViolation, match="another chain"):
        check_hello(VALIDATORS, "v000", CHAIN, sha256(b"x"), "v001", None)
    with pytest.raises(ProtocolViolation, match="not another validator"):
        check_hello(VALIDATORS, "v000", CHAIN, CHAIN, "v009", None)
    with pytest.raises(ProtocolViolation, match="not another validator"):
        check_hello(VALIDATORS, "v000", CHAIN, CHAIN, "v000", None)
    with pytest.raises(ProtocolViolation, match="dialed v002"):
        check_hello(VALIDATORS, "v000", CHAIN, CHAIN, "v001", "v002")
