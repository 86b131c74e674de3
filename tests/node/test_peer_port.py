"""Hostile input on the peer port: a dropped connection, never a crash; the node keeps going.

Before the handshake: garbage, an oversized length, half a frame, a silent connection, a
forged handshake. After a genuine handshake (the test holds validator v001's key): a frame that
does not parse, half a frame, a consensus message with a forged signature. Each ends the
connection (or, for the parseable forgery, is refused by the replica, R7.5), and the node keeps
committing and accepts an honest connection afterwards.
"""

from __future__ import annotations

import os
import socket
import time

import pytest

from aethel.consensus.messages import Prepare
from aethel.consensus.signing import KeySigner
from aethel.encoding import KeyPair, sha256
from aethel.node.handshake import sign_handshake
from aethel.node.peer_wire import (
    HEADER,
    Auth,
    Hello,
    auth_frame,
    consensus_frame,
    frame_length,
    hello_frame,
    parse_frame,
)

from .conftest import Solo


def connect(solo: Solo) -> socket.socket:
    return socket.create_connection(solo.peer, timeout=5)


def read_frame(sock: socket.socket) -> object:
    header = _read_exactly(sock, HEADER.size)
    return parse_frame(_read_exactly(sock, frame_length(header)))


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def closed_by_node(sock: socket.socket, within: float) -> bool:
    """True if the node closes the connection within ``within`` s (whatever it sent first)."""
    sock.settimeout(within)
    deadline = time.monotonic() + within
    try:
        while time.monotonic() < deadline:
            if not sock.recv(65_536):
                return True
    except TimeoutError:
        return False
    except ConnectionError:
        return True
    return False


def handshake(solo: Solo, key: KeyPair | None = None) -> socket.socket:
    """Complete the handshake as v001 (with ``key``, v001's by default)."""
    sock = connect(solo)
    hello = read_frame(sock)
    assert isinstance(hello, Hello) and hello.validator == "v000"
    challenge = os.urandom(32)
    sock.sendall(hello_frame(hello.chain, "v001", challenge))
    signature = sign_handshake(key or solo.peer_key, hello.chain, hello.challenge, "v001", "v000")
    sock.sendall(auth_frame(signature))
    return sock


def still_committing(solo: Solo) -> None:
    height = solo.height()
    deadline = time.monotonic() + 20
    while solo.height() < height + 2:
        assert time.monotonic() < deadline, "the node stopped committing"
        time.sleep(0.05)


def failed_handshakes(solo: Solo) -> int:
    return solo.runtime.network.stats.handshakes_failed


BEFORE_HANDSHAKE = {
    "garbage": b"\x00\x01\x02 hello? " * 50,
    "oversized length": HEADER.pack(2**31),
    "zero length": HEADER.pack(0),
    "half a frame": HEADER.pack(1_000) + b'{"kind":',
    "not a hello": auth_frame(bytes(64)),
}


@pytest.mark.req("N6", "R7.5")
@pytest.mark.rejects("N6", "R7.5")
@pytest.mark.parametrize("name", sorted(BEFORE_HANDSHAKE))
def test_bad_bytes_before_the_handshake_end_the_connection(solo: Solo, name: str) -> None:
    before = failed_handshakes(solo)
    with connect(solo) as sock:
        sock.sendall(BEFORE_HANDSHAKE[name])
        assert closed_by_node(sock, 5.0), f"{name}: the connection stayed open"
    assert failed_handshakes(solo) > before
    still_committing(solo)


@pytest.mark.req("R7.5")
def test_a_silent_connection_is_dropped_by_the_handshake_timeout(solo: Solo) -> None:
    with connect(solo) as sock:
        assert closed_by_node(sock, 5.0), "a silent peer held its connection"
    still_committing(solo)


@pytest.mark.req("R7.5")
@pytest.mark.rejects("R7.5")
def test_a_handshake_signed_with_another_key_is_refused(solo: Solo) -> None:
    before = failed_handshakes(solo)
    with handshake(solo, key=KeyPair.from_seed(bytes(32))) as sock:
        assert closed_by_node(sock, 5.0)
    assert failed_handshakes(solo) > before


@pytest.mark.req("E4", "N6")
@pytest.mark.rejects("E4", "N6")
@pytest.mark.parametrize(
    "payload",
    [
        HEADER.pack(9) + b"not json!",
        HEADER.pack(2**31),
        HEADER.pack(14) + b'{"kind":"x"}  ',
        HEADER.pack(500) + b'{"kind":"consensus"',
    ],
    ids=["garbage", "oversized", "unknown kind", "half a frame"],
)
def test_a_bad_frame_after_the_handshake_ends_the_connection(solo: Solo, payload: bytes) -> None:
    with handshake(solo) as sock:
        time.sleep(0.2)
        assert "v001" in solo.runtime.peers
        sock.sendall(payload)
        assert closed_by_node(sock, 5.0), "the connection survived a bad frame"
    still_committing(solo)


@pytest.mark.req("R7.5")
@pytest.mark.rejects("R7.5")
def test_a_forged_vote_is_refused_and_the_honest_link_stays(solo: Solo) -> None:
    """v001 sends a PREPARE of v000's current height and view signed with v001's key but
    naming v000: the replica does not count it (R7.5; or finds it stale if the height moved
    on meanwhile), and a parseable message does not end the link."""
    stats = solo.runtime.replica.stats
    before = stats.rejected + stats.stale
    with handshake(solo) as sock:
        replica = solo.runtime.replica
        vote = Prepare.create(
            KeySigner("v001", solo.peer_key), replica.height, replica.view, sha256(b"x")
        )
        forged = Prepare(vote.height, vote.view, vote.digest, "v000", vote.signature)
        sock.sendall(consensus_frame(forged))
        deadline = time.monotonic() + 5
        while stats.rejected + stats.stale == before:
            assert time.monotonic() < deadline, "the forged vote was neither refused nor stale"
            time.sleep(0.02)
        assert "v001" in solo.runtime.peers, "a parseable message must not end the link"
        assert not closed_by_node(sock, 0.5)
    still_committing(solo)


@pytest.mark.req("R7.5")
def test_the_genuine_handshake_is_accepted(solo: Solo) -> None:
    with handshake(solo) as sock:
        answer = read_frame(sock)
        assert isinstance(answer, Auth)
        deadline = time.monotonic() + 5
        while "v001" not in solo.runtime.peers:
            assert time.monotonic() < deadline, "the handshake did not complete"
            time.sleep(0.05)
