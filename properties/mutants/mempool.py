"""Mempool mutants (subclasses of :class:`aethel.proofs.mempool.Mempool`)."""

from __future__ import annotations

from aethel.encoding import KeyPair, parse_hex
from aethel.errors import ProtocolViolation
from aethel.proofs.errors import TransactionRejected
from aethel.proofs.judge import Account, Judge
from aethel.proofs.mempool import BlockContents, Mempool, PendingProof
from aethel.proofs.model import Transfer
from conformance.adapters.api import Hex
from conformance.adapters.reference import ReferenceImplementation
from conformance.adapters.reference_proofs import ReferenceMempool, ReferenceMempoolObject


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


# The mutants as implementations under test (``--impl python:properties.mutants.mempool:...``).


def _mempool_adapter(mempool_class: type[Mempool]) -> ReferenceMempool:
    class MutantObject(ReferenceMempoolObject):
        def __init__(self, capacity: int | None, judge_seed: Hex) -> None:
            judge = Judge(KeyPair.from_seed(parse_hex(judge_seed, length=32)))
            if capacity is None:
                self.pool = mempool_class(judge=judge)
            else:
                self.pool = mempool_class(judge=judge, capacity=capacity)

    class MutantMempool(ReferenceMempool):
        def new(self, capacity: int | None, judge_seed: Hex) -> ReferenceMempoolObject:
            return MutantObject(capacity, judge_seed)

    return MutantMempool()


class ArrivalOrderImplementation(ReferenceImplementation):
    """The reference with :class:`ArrivalOrderMempool` behind ``mempool``."""

    name = "mutant-arrival-order"

    def make_mempool(self) -> object:
        return _mempool_adapter(ArrivalOrderMempool)


class DoubleSpendKeepsFirstImplementation(ReferenceImplementation):
    """The reference with :class:`DoubleSpendKeepsFirst` behind ``mempool``."""

    name = "mutant-double-spend-keeps-first"

    def make_mempool(self) -> object:
        return _mempool_adapter(DoubleSpendKeepsFirst)
