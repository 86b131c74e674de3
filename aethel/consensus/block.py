"""The proof block: what a leader proposes and a commit certificate finalizes.

A block holds, for one height: the parent digest, the proposer, the transactions and the proofs
the judge produced for them (both in their canonical JSON form, so the core stays independent
of the proof and state packages), evidence of misbehaviour to slash (R1.5, R4.2), and the commit
certificate of the parent height (whose members share the parent's reward, R1.3).

digest = SHA-256(canonical JSON of the block without its signature); the proposer signs the same
body under Domain.BLOCK (R7.5), or ``aethel/block/v2`` at a height of protocol version 2 (V2.2;
the digest does not depend on the version). A re-proposed block keeps its proposer and digest
(R2.6).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aethel.encoding import (
    HASH_SIZE,
    SIGNATURE_SIZE,
    Domain,
    DomainV2,
    JSONValue,
    canonical_json,
    sha256,
    to_hex,
)

if TYPE_CHECKING:
    from aethel.consensus.evidence import Evidence
    from aethel.consensus.messages import CommitCertificate
    from aethel.consensus.signing import Signer

GENESIS_PARENT = bytes(HASH_SIZE)
_BLOCK_PREFIX = Domain.BLOCK.value.encode("ascii") + b"\x00"
_BLOCK_PREFIX_V2 = DomainV2.BLOCK.value.encode("ascii") + b"\x00"


@dataclass(frozen=True, slots=True)
class ProofBlock:
    """A block of proofs and transactions at ``height`` (see the module docstring)."""

    height: int
    parent: bytes
    proposer: str
    transactions: tuple[dict[str, JSONValue], ...] = field(compare=False)
    proofs: tuple[dict[str, JSONValue], ...] = field(compare=False)
    evidence: tuple[Evidence, ...] = field(compare=False)
    last_commit: CommitCertificate | None = field(compare=False)
    signature: bytes = field(compare=False)
    digest: bytes = field(init=False)
    payload: bytes = field(init=False, repr=False, compare=False)
    _size: int = field(default=-1, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        body = canonical_json(self.body())
        object.__setattr__(self, "payload", _BLOCK_PREFIX + body)
        object.__setattr__(self, "digest", sha256(body))

    def body(self) -> dict[str, object]:
        """Return the signed body (everything but the signature)."""
        return {
            "type": "block",
            "height": self.height,
            "parent": to_hex(self.parent),
            "proposer": self.proposer,
            "transactions": list(self.transactions),
            "proofs": list(self.proofs),
            "evidence": [e.to_wire() for e in self.evidence],
            "last_commit": None if self.last_commit is None else self.last_commit.to_wire(),
        }

    @classmethod
    def create(
        cls,
        signer: Signer,
        height: int,
        parent: bytes,
        transactions: Sequence[dict[str, JSONValue]],
        proofs: Sequence[dict[str, JSONValue]],
        evidence: Sequence[Evidence],
        last_commit: CommitCertificate | None,
        version: int = 1,
    ) -> ProofBlock:
        """Build and sign a block (in ``version``'s domain, V2.2)."""
        args = (
            height,
            parent,
            signer.validator_id,
            tuple(transactions),
            tuple(proofs),
            tuple(evidence),
            last_commit,
        )
        unsigned = cls(*args, b"")
        return cls(*args, signer.sign(unsigned.payload_for(version)))

    def payload_for(self, version: int) -> bytes:
        """Return the bytes the proposer signs in protocol ``version`` (V2.2)."""
        if version == 1:
            return self.payload
        return _BLOCK_PREFIX_V2 + self.payload[len(_BLOCK_PREFIX) :]

    def to_wire(self) -> dict[str, object]:
        """Return the canonical JSON form (body plus signature)."""
        return {**self.body(), "signature": to_hex(self.signature)}

    @property
    def wire_size(self) -> int:
        """Return the length of the canonical encoding."""
        if self._size < 0:
            extra = len(',"signature":""') + 2 * SIGNATURE_SIZE
            object.__setattr__(self, "_size", len(self.payload) - len(_BLOCK_PREFIX) + extra)
        return self._size
