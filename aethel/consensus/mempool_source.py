"""The leader's block source over the node's real mempool (R5.1, R6.3).

:class:`MempoolSource` adapts :class:`aethel.proofs.mempool.Mempool`: a proposal takes up to
``max_proofs`` proofs in the mempool's block order (highest difficulty first, no nonce gap) with
their transfers, and a commit removes what the block held. Block validation re-verifies every
proof with Z3 regardless (R1.1).
"""

from __future__ import annotations

from collections.abc import Sequence

from aethel.consensus.block import ProofBlock
from aethel.consensus.ledger import parse_block_items
from aethel.encoding import JSONValue
from aethel.proofs.mempool import Mempool


class MempoolSource:
    """A :class:`~aethel.consensus.interfaces.BlockSource` over a mempool."""

    def __init__(self, mempool: Mempool, max_proofs: int = 100) -> None:
        self.mempool = mempool
        self.max_proofs = max_proofs

    def select(
        self, height: int, pre_root: bytes
    ) -> tuple[Sequence[dict[str, JSONValue]], Sequence[dict[str, JSONValue]]]:
        """Return the transfers and proofs of the next block, in the mempool's order."""
        contents = self.mempool.select_for_block(self.max_proofs)
        by_subject = {tx.transaction_id: tx for tx in contents.transactions}
        transactions: list[dict[str, JSONValue]] = []
        proofs: list[dict[str, JSONValue]] = []
        for proof in contents.proofs:
            # A block pairs each transfer with its proof (one subject per transfer proof).
            if len(proof.subjects) != 1 or proof.subjects[0] not in by_subject:
                continue
            transactions.append(by_subject[proof.subjects[0]].to_json())
            proofs.append(proof.to_json())
        return transactions, proofs

    def on_commit(self, block: ProofBlock) -> None:
        """Remove the block's proofs and transfers from the mempool."""
        transfers, proofs = parse_block_items(block)
        self.mempool.remove_committed(
            [proof.proof_id for proof in proofs], [tx.transaction_id for tx in transfers]
        )
