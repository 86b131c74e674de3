"""The leader's block source over the node's real mempool (R5.1, R6.3, R7.1).

:class:`MempoolSource` adapts :class:`aethel.proofs.mempool.Mempool`: a proposal takes up to
``max_proofs`` transfers with their judge proofs in the mempool's block order (highest difficulty
first, no nonce gap). Proofs a block cannot carry (a block pairs each transfer with its one judge
proof) are skipped by the mempool's walk instead of using up the limit, so a block is short only
when fewer transfers are pending.

Given the node's state ``repository``, the source keeps the mempool in step with the committed
state (R7.1): :meth:`MempoolSource.select` first drops every pending transfer that the state it
builds on (``pre_root``) makes stale, and, given the ``store`` too, :meth:`MempoolSource.on_commit`
removes what a committed block held and checks its senders' remaining transfers against their
accounts in the committed post-state (read from the height's commit certificate, which the
replica stores before it calls ``on_commit``). Block validation re-verifies every proof with Z3
regardless (R1.1).
"""

from __future__ import annotations

from collections.abc import Sequence

from aethel.consensus.block import ProofBlock
from aethel.consensus.interfaces import ChainStore
from aethel.consensus.ledger import StateSource, parse_block_items
from aethel.encoding import JSONValue, to_hex
from aethel.errors import UsageError
from aethel.proofs.judge import Account
from aethel.proofs.mempool import Mempool


class MempoolSource:
    """A :class:`~aethel.consensus.interfaces.BlockSource` over a mempool."""

    def __init__(
        self,
        mempool: Mempool,
        max_proofs: int = 100,
        *,
        repository: StateSource | None = None,
        store: ChainStore | None = None,
    ) -> None:
        if type(max_proofs) is not int or max_proofs < 0:
            raise UsageError(f"max_proofs must be a non-negative int, got {max_proofs!r}")
        self.mempool = mempool
        self.max_proofs = max_proofs
        self.repository = repository
        self.store = store

    def _accounts(self, root: bytes, senders: Sequence[bytes]) -> dict[bytes, Account]:
        assert self.repository is not None
        state = self.repository.get(root)
        return {
            sender: Account(state.balance(to_hex(sender)), state.nonce(to_hex(sender)))
            for sender in senders
        }

    def select(
        self, height: int, pre_root: bytes
    ) -> tuple[Sequence[dict[str, JSONValue]], Sequence[dict[str, JSONValue]]]:
        """Return the transfers and proofs of the next block, in the mempool's order."""
        if self.repository is not None:
            senders = self.mempool.pending_senders()
            self.mempool.refresh_accounts(self._accounts(pre_root, senders))
        contents = self.mempool.select_for_block(self.max_proofs, transfers_only=True)
        # transfers_only: each proof covers exactly one of the transfers, in the same order.
        return (
            [tx.to_json() for tx in contents.transactions],
            [proof.to_json() for proof in contents.proofs],
        )

    def on_commit(self, block: ProofBlock) -> None:
        """Remove the block's proofs and transfers; drop what the commit made stale (R7.1)."""
        transfers, proofs = parse_block_items(block)
        proof_ids = [proof.proof_id for proof in proofs]
        transaction_ids = [tx.transaction_id for tx in transfers]
        certificate = None if self.store is None else self.store.get_certificate(block.height)
        if self.repository is None or certificate is None or certificate.digest != block.digest:
            self.mempool.remove_committed(proof_ids, transaction_ids)
            return
        senders = sorted({tx.sender for tx in transfers})
        self.mempool.apply_commit(
            proof_ids, transaction_ids, self._accounts(certificate.post_root, senders)
        )
