"""The reference verifier and mempool (aethel.proofs) behind the ``verifier`` and ``mempool``
capabilities."""

from __future__ import annotations

from typing import Any

from aethel.encoding import KeyPair, parse_hex
from aethel.proofs.difficulty import compute_difficulty
from aethel.proofs.judge import Account, Judge
from aethel.proofs.mempool import Mempool
from aethel.proofs.model import proof_from_json, transfer_from_json
from aethel.proofs.parallel import Verifier, verify_proof_block
from aethel.proofs.verifier import (
    SignedMessage,
    VerificationResult,
    batch_verify_signatures,
    verify_proof,
)
from conformance.adapters.api import JSON, Hex
from conformance.adapters.errors import Rejected
from conformance.adapters.reference_errors import rejecting


def result_to_json(result: VerificationResult) -> JSON:
    """Return the JSON form of a verification result."""
    return {
        "proof_id": result.proof_id.hex(),
        "verdict": result.verdict.value,
        "effort": result.effort,
        "size": result.size,
        "difficulty": result.difficulty,
        "reason": result.reason.value if result.reason else None,
    }


class ReferenceVerifierObject:
    """A reference verifier with its result cache."""

    def __init__(self) -> None:
        self.verifier = Verifier()

    @rejecting
    def verify(self, proof: JSON) -> JSON:
        return result_to_json(self.verifier.verify(proof_from_json(proof)))

    def cache_stats(self) -> JSON:
        stats = self.verifier.cache_stats()
        return {
            "hits": stats.hits,
            "misses": stats.misses,
            "size": stats.size,
            "evictions": stats.evictions,
            "max_size": stats.max_size,
        }


class ReferenceVerifier:
    """Capability ``verifier`` of the reference."""

    @rejecting
    def verify_proof(self, proof: JSON) -> JSON:
        return result_to_json(verify_proof(proof_from_json(proof)))

    @rejecting
    def verify_block(self, proofs: list[JSON], parallel: bool) -> list[JSON]:
        parsed = [proof_from_json(p) for p in proofs]
        return [result_to_json(r) for r in verify_proof_block(parsed, parallel=bool(parallel))]

    @rejecting
    def batch_verify_signatures(self, items: list[JSON]) -> list[bool]:
        parsed = []
        for item in items:
            if not isinstance(item, dict) or set(item) != {"public_key", "message", "signature"}:
                raise Rejected("an item is {public_key, message, signature}", "T22.2c")
            parsed.append(
                SignedMessage(
                    parse_hex(item["public_key"]),
                    parse_hex(item["message"]),
                    parse_hex(item["signature"]),
                )
            )
        return batch_verify_signatures(parsed)

    @rejecting
    def difficulty(self, effort: int, size: int) -> int:
        return compute_difficulty(effort, size)

    @rejecting
    def new(self) -> ReferenceVerifierObject:
        return ReferenceVerifierObject()


class ReferenceMempoolObject:
    """A reference mempool with its own verifier and a judge."""

    def __init__(self, capacity: int | None, judge_seed: Hex) -> None:
        judge = Judge(KeyPair.from_seed(parse_hex(judge_seed, length=32)))
        if capacity is None:
            self.pool = Mempool(judge=judge)
        else:
            self.pool = Mempool(judge=judge, capacity=capacity)

    @rejecting
    def add_proof(self, proof: JSON) -> JSON:
        pending = self.pool.add_proof(proof_from_json(proof))
        return {"proof_id": pending.proof.proof_id.hex(), "difficulty": pending.difficulty}

    @rejecting
    def add_transaction(self, transaction: JSON, balance: int, nonce: int) -> JSON:
        pending = self.pool.add_transaction(
            transfer_from_json(transaction), Account(balance, nonce)
        )
        proof: dict[str, Any] = pending.proof.to_json()
        return proof

    @rejecting
    def select_for_block(self, max_proofs: int) -> JSON:
        contents = self.pool.select_for_block(max_proofs)
        return {
            "proofs": [p.proof_id.hex() for p in contents.proofs],
            "transactions": [t.transaction_id.hex() for t in contents.transactions],
        }

    @rejecting
    def remove_committed(self, proof_ids: list[Hex], transaction_ids: list[Hex]) -> int:
        return self.pool.remove_committed(
            [parse_hex(p, length=32) for p in proof_ids],
            [parse_hex(t, length=32) for t in transaction_ids],
        )

    def stats(self) -> JSON:
        s = self.pool.stats()
        return {
            "size": s.size,
            "transactions": s.transactions,
            "capacity": s.capacity,
            "admitted": s.admitted,
            "rejected": s.rejected,
            "evicted": s.evicted,
            "committed": s.committed,
            "processing_rate": s.processing_rate,
        }


class ReferenceMempool:
    """Capability ``mempool`` of the reference."""

    @rejecting
    def new(self, capacity: int | None, judge_seed: Hex) -> ReferenceMempoolObject:
        return ReferenceMempoolObject(capacity, judge_seed)
