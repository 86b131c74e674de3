"""The peer handshake: each side proves it holds the validator key it claims (R7.5).

Both sides of a new connection send ``hello`` {chain, validator, challenge}: the chain id (SHA-256
of the genesis), the validator id they claim and 32 fresh random bytes. Each then signs the
other's challenge and sends ``auth`` {signature}, an Ed25519 signature with its validator key
over::

    b"aethel/peer-handshake/v1" || 0x00 || canonical JSON of
    {"chain": hex, "challenge": hex of the OTHER side's challenge, "from": own id, "to": peer id}

The domain tag keeps the signature from being replayed as any consensus object (E7); the fresh
challenge keeps it from being replayed on another connection; naming both ends keeps it from
being reflected back to its signer. A side accepts the peer only if the chain matches, the
claimed id is another member of the validator set (and, when it dialed, the member it meant to
reach) and the signature verifies with that member's key; anything else drops the connection.
"""

from __future__ import annotations

from aethel.consensus.validators import ValidatorSet
from aethel.encoding import KeyPair, canonical_json, verify_signature_bytes
from aethel.errors import ProtocolViolation

#: Signing domain of the handshake (E7: one tag per signed object type, never reused).
HANDSHAKE_DOMAIN = b"aethel/peer-handshake/v1"


def handshake_payload(chain: bytes, challenge: bytes, signer: str, peer: str) -> bytes:
    """Return the bytes the handshake signature of ``signer`` to ``peer`` covers."""
    body = {"chain": chain.hex(), "challenge": challenge.hex(), "from": signer, "to": peer}
    return HANDSHAKE_DOMAIN + b"\x00" + canonical_json(body)


def sign_handshake(key: KeyPair, chain: bytes, challenge: bytes, signer: str, peer: str) -> bytes:
    """Sign the peer's ``challenge`` as ``signer``."""
    return key.sign_bytes(handshake_payload(chain, challenge, signer, peer))


def check_hello(
    validators: ValidatorSet,
    own_id: str,
    chain: bytes,
    hello_chain: bytes,
    claimed: str,
    expected: str | None,
) -> None:
    """Raise ProtocolViolation unless a peer's hello may be answered."""
    if hello_chain != chain:
        raise ProtocolViolation("R7.5", "the peer is on another chain (genesis differs)")
    if claimed == own_id or validators.get(claimed) is None:
        raise ProtocolViolation("R7.5", f"{claimed!r} is not another validator of this chain")
    if expected is not None and claimed != expected:
        raise ProtocolViolation("R7.5", f"dialed {expected}, the peer claims to be {claimed}")


def check_auth(
    validators: ValidatorSet,
    chain: bytes,
    own_challenge: bytes,
    own_id: str,
    claimed: str,
    signature: bytes,
) -> None:
    """Raise ProtocolViolation("R7.5") unless ``signature`` proves ``claimed`` holds its key."""
    member = validators.get(claimed)
    payload = handshake_payload(chain, own_challenge, claimed, own_id)
    if member is None or not verify_signature_bytes(member.public_key, payload, signature):
        raise ProtocolViolation("R7.5", f"the handshake signature is not {claimed}'s")


__all__ = ["HANDSHAKE_DOMAIN", "check_auth", "check_hello", "handshake_payload", "sign_handshake"]
