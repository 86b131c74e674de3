"""Mempool mutants (subclasses of :class:`aethel.proofs.mempool.Mempool`)."""

from __future__ import annotations

from aethel.errors import ProtocolViolation
from aethel.proofs.errors import TransactionRejected
from aethel.proofs.judge import Account
from aethel.proofs.mempool import BlockContents, Mempool, PendingProof
from aethel.proofs.model import Transfer


class ArrivalOrderMempool(Mempool):
    """Defect: blocks are built first come, first served, ignoring difficulty (breaks R6.3)."""

    def select_for_block(self, max_proofs: int) -> BlockContents:
        ranked = self._order
        self._order = sorted(ranked, key=lambda rank: (rank[1], rank[2]))
        try:
            return super().select_for_block(max_proofs)
        finally:
            self._order = ranked


class DoubleSpendKeepsFirst(Mempool):
    """Defect: a second transfer with a pending nonce is refused, but the first one stays
    pending (R7.1 requires rejecting both, since either may be the honest one)."""

    def add_transaction(self, tx: Transfer, account: Account) -> PendingProof:
        chain = self._by_sender.get(tx.sender, {})
        pending = chain.get(tx.nonce)
        if tx.is_signature_valid() and pending is not None and pending != tx.transaction_id:
            error: ProtocolViolation = TransactionRejected(
                "R7.1", f"nonce {tx.nonce} is already pending; refusing the newcomer only"
            )
            raise self._reject(error, "transfer")
        return super().add_transaction(tx, account)
