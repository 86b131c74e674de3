"""A deterministic block source: signed transfers with their judge proofs (R5.1).

Stands in for a gossiped mempool in tests and simulations: for any (height, pre-state root) it
returns the same transfers, valid on that state, each with the judge's proof of its obligation.
Every leader therefore proposes real work whose proofs every validator re-verifies with Z3.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from aethel.consensus.block import ProofBlock
from aethel.consensus.ledger import StateRepository
from aethel.encoding import JSONValue, KeyPair, to_hex
from aethel.proofs.judge import Judge
from aethel.proofs.model import sign_transfer

Items = tuple[Sequence[dict[str, JSONValue]], Sequence[dict[str, JSONValue]]]


class TransferWorkload:
    """Valid transfers plus judge proofs, a pure function of (height, pre-state root)."""

    def __init__(
        self,
        repository: StateRepository,
        seed: int,
        *,
        accounts: int = 16,
        per_block: int = 4,
        balance: int = 1_000_000,
    ) -> None:
        rng = random.Random(f"aethel-workload/{seed}")
        self.repository = repository
        self.seed = seed
        self.per_block = per_block
        self.keys = [KeyPair.generate(rng) for _ in range(accounts)]
        self.judge = Judge(KeyPair.generate(rng))
        self.genesis_balances = {to_hex(k.public_key): balance for k in self.keys}
        self._memo: dict[tuple[int, bytes], Items] = {}

    def select(self, height: int, pre_root: bytes) -> Items:
        """Return (transactions, proofs) for ``height`` on the state at ``pre_root``."""
        key = (height, pre_root)
        cached = self._memo.get(key)
        if cached is None:
            cached = self._memo[key] = self._build(height, pre_root)
        return cached

    def _build(self, height: int, pre_root: bytes) -> Items:
        state = self.repository.get(pre_root)
        rng = random.Random(f"{self.seed}/{height}/{pre_root.hex()}")
        balances = dict(state.balances)
        nonces = dict(state.nonces)
        transactions: list[dict[str, JSONValue]] = []
        proofs: list[dict[str, JSONValue]] = []
        for _ in range(self.per_block):
            sender, receiver = rng.sample(self.keys, 2)
            account = to_hex(sender.public_key)
            balance, nonce = balances.get(account, 0), nonces.get(account, 0)
            if balance < 2:
                continue
            amount = rng.randrange(1, max(2, balance // 10))
            tx = sign_transfer(sender, receiver=receiver.public_key, amount=amount, nonce=nonce)
            proof = self.judge.prove_transfer(tx, balance, nonce)
            transactions.append(tx.to_json())
            proofs.append(proof.to_json())
            balances[account] = balance - amount
            target = to_hex(receiver.public_key)
            balances[target] = balances.get(target, 0) + amount
            nonces[account] = nonce + 1
        return transactions, proofs

    def on_commit(self, block: ProofBlock) -> None:
        """Nothing to drop: the next selection starts from the committed state."""
