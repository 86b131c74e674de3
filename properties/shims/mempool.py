"""LOCAL SHIM: a ``mempool`` capability over :class:`aethel.proofs.mempool.Mempool`.

Proofs and transfers travel as JSON; a refusal raises :class:`conformance.adapters.Rejected`
with the rule. The clock is injected (``set_time``) so the processing rate is deterministic.
``mempool_class`` swaps in a mutant subclass of the reference mempool.
"""

from __future__ import annotations

from typing import Any

from aethel.encoding import KeyPair, parse_hex, to_hex
from aethel.errors import ProtocolViolation
from aethel.proofs.judge import Account, Judge
from aethel.proofs.mempool import Mempool
from aethel.proofs.model import proof_from_json, transfer_from_json
from aethel.proofs.parallel import Verifier
from conformance.adapters import Rejected

JSON = Any
#: The node's judge key (any fixed key: the judge signs the proofs it makes).
JUDGE_SEED = bytes([77]) * 32


class ReferenceMempoolObject:
    """One mempool: the machine's ``MempoolObject`` over a reference :class:`Mempool`."""

    def __init__(self, mempool_class: type[Mempool], capacity: int, rate_window: float) -> None:
        self._now = 0.0
        self._mempool = mempool_class(
            verifier=Verifier(),
            judge=Judge(KeyPair.from_seed(JUDGE_SEED)),
            capacity=capacity,
            clock=lambda: self._now,
            rate_window=rate_window,
        )

    def set_time(self, seconds: float) -> None:
        self._now = seconds

    def add_proof(self, proof: JSON) -> JSON:
        try:
            pending = self._mempool.add_proof(proof_from_json(proof))
        except ProtocolViolation as exc:
            raise Rejected(str(exc), exc.rule_id) from None
        return {"proof_id": to_hex(pending.proof.proof_id), "difficulty": pending.difficulty}

    def add_transaction(self, transaction: JSON, account: JSON) -> JSON:
        try:
            pending = self._mempool.add_transaction(
                transfer_from_json(transaction), Account(account["balance"], account["nonce"])
            )
        except ProtocolViolation as exc:
            raise Rejected(str(exc), exc.rule_id) from None
        return {
            "proof_id": to_hex(pending.proof.proof_id),
            "difficulty": pending.difficulty,
            "proof": pending.proof.to_json(),
        }

    def select(self, max_proofs: int) -> JSON:
        block = self._mempool.select_for_block(max_proofs)
        return {
            "proofs": [to_hex(p.proof_id) for p in block.proofs],
            "transactions": [to_hex(t.transaction_id) for t in block.transactions],
        }

    def commit(self, proof_ids: list[str], transaction_ids: list[str]) -> int:
        return self._mempool.remove_committed(
            [parse_hex(p) for p in proof_ids], [parse_hex(t) for t in transaction_ids]
        )

    def remove_stale(self, sender: str, account: JSON) -> int:
        return self._mempool.remove_stale(
            parse_hex(sender), Account(account["balance"], account["nonce"])
        )

    def pending(self) -> list[str]:
        return [to_hex(p.proof.proof_id) for p in self._mempool.pending()]

    def stats(self) -> JSON:
        stats = self._mempool.stats()
        return {
            "size": stats.size,
            "transactions": stats.transactions,
            "capacity": stats.capacity,
            "admitted": stats.admitted,
            "rejected": stats.rejected,
            "evicted": stats.evicted,
            "committed": stats.committed,
            "processing_rate": stats.processing_rate,
        }


class ReferenceMempoolAPI:
    """Make reference mempools (or mutant ones)."""

    def __init__(self, mempool_class: type[Mempool] = Mempool) -> None:
        self._mempool_class = mempool_class

    def new(self, capacity: int, rate_window: float) -> ReferenceMempoolObject:
        return ReferenceMempoolObject(self._mempool_class, capacity, rate_window)
