"""An executable model of the mempool, written from spec/proofs.md ("The mempool", R6.3, R7.1).

Plain dicts keyed by hex ids. Proof verification is not modelled: the machine tells the model
whether a proof's signature holds, whether it verifies and its difficulty (from an independent
verification), and the model decides admission, conflicts, eviction, order and block contents.

Spec: R5.1, R5.5, R6.3, R7.1, R8.2, N6; P21, P23, P25, P33.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Rank = tuple[int, int, bytes]


@dataclass(frozen=True, slots=True)
class PendingProof:
    """A pending proof: its rank and the pending transactions it covers (judge proofs)."""

    proof_id: str
    difficulty: int
    arrival: int
    transactions: tuple[str, ...] = ()

    @property
    def rank(self) -> Rank:
        """Higher difficulty first, then earlier arrival, then smaller proof id (R6.3)."""
        return (-self.difficulty, self.arrival, bytes.fromhex(self.proof_id))


@dataclass(frozen=True, slots=True)
class PendingTransaction:
    """A pending transfer and the proof that covers it."""

    transaction_id: str
    sender: str
    nonce: int
    amount: int
    proof_id: str


@dataclass
class MempoolModel:
    """The mempool of spec/proofs.md: admission, conflicts, capacity, order, block building."""

    capacity: int
    proofs: dict[str, PendingProof] = field(default_factory=dict)
    transactions: dict[str, PendingTransaction] = field(default_factory=dict)
    chains: dict[str, dict[int, str]] = field(default_factory=dict)
    arrivals: int = 0
    admitted: int = 0
    rejected: int = 0
    evicted: int = 0
    committed: int = 0
    #: Times of admission decisions (admitted or rejected), for the processing rate (R8.2).
    decisions: list[float] = field(default_factory=list)

    def order(self) -> list[PendingProof]:
        """Return the pending proofs in mempool order."""
        return sorted(self.proofs.values(), key=lambda p: p.rank)

    def _decide(self, admitted: bool, now: float) -> None:
        self.decisions.append(now)
        if admitted:
            self.admitted += 1
        else:
            self.rejected += 1

    def reject(self, rule: str, now: float) -> str:
        """Count a refusal; return its rule."""
        self._decide(False, now)
        return rule

    def _insert(self, proof_id: str, difficulty: int, transactions: tuple[str, ...]) -> None:
        self.proofs[proof_id] = PendingProof(proof_id, difficulty, self.arrivals, transactions)
        self.arrivals += 1

    def _remove_proof(self, proof_id: str) -> PendingProof | None:
        return self.proofs.pop(proof_id, None)

    def _drop_chain(self, sender: str, from_nonce: int) -> None:
        chain = self.chains.get(sender, {})
        for nonce in sorted(n for n in chain if n >= from_nonce):
            tx = self.transactions.pop(chain.pop(nonce))
            self._remove_proof(tx.proof_id)
        if not chain:
            self.chains.pop(sender, None)

    def _evict(self, proof_id: str) -> None:
        pending = self._remove_proof(proof_id)
        if pending is None:
            return
        self.evicted += 1
        for transaction_id in pending.transactions:
            tx = self.transactions.get(transaction_id)
            if tx is not None:
                self._drop_chain(tx.sender, tx.nonce)

    def add_proof(
        self,
        proof_id: str,
        signature: str,
        signature_ok: bool,
        valid: bool,
        difficulty: int,
        pending_signature: str | None,
        now: float,
    ) -> str:
        """Admit a peer's proof; return "admitted", "duplicate" or the rule it breaks."""
        if not signature_ok:
            return self.reject("R5.5", now)
        if proof_id in self.proofs and pending_signature == signature:
            return "duplicate"
        if not valid:
            return self.reject("R1.5", now)
        victim = None
        if len(self.proofs) >= self.capacity:
            last = self.order()[-1]
            if (-difficulty, self.arrivals, bytes.fromhex(proof_id)) < last.rank:
                victim = last.proof_id
            else:
                return self.reject("N6", now)
        self._insert(proof_id, difficulty, ())
        if victim is not None:
            self._evict(victim)
        self._decide(True, now)
        return "admitted"

    def check_transaction(
        self, sender: str, nonce: int, amount: int, balance: int, account_nonce: int, now: float
    ) -> str:
        """Apply the checks of a new transfer; return "" if the judge may prove it, else the
        rule (after removing what a double spend or an overdraft implicates)."""
        chain = self.chains.get(sender, {})
        if nonce < account_nonce:
            return self.reject("R7.1", now)
        if nonce in chain:
            self._drop_chain(sender, nonce)
            return self.reject("R7.1", now)
        spent = sum(self.transactions[t].amount for t in chain.values())
        if spent + amount > balance:
            if chain:
                self._drop_chain(sender, min(chain))
            return self.reject("R7.1", now)
        if nonce != account_nonce + len(chain):
            return self.reject("R7.1", now)
        if len(self.proofs) >= self.capacity:
            return self.reject("N6", now)
        return ""

    def admit_transaction(
        self,
        transaction_id: str,
        sender: str,
        nonce: int,
        amount: int,
        proof_id: str,
        difficulty: int,
        now: float,
    ) -> None:
        """Admit a checked transfer with the judge's proof of it (R5.1)."""
        self._insert(proof_id, difficulty, (transaction_id,))
        self.transactions[transaction_id] = PendingTransaction(
            transaction_id, sender, nonce, amount, proof_id
        )
        self.chains.setdefault(sender, {})[nonce] = transaction_id
        self._decide(True, now)

    def select(self, max_proofs: int) -> tuple[list[str], list[str]]:
        """Return (proof ids, transaction ids) of a block, as R6.3 says."""
        next_nonce = {sender: min(chain) for sender, chain in self.chains.items()}
        waiting: dict[tuple[str, int], PendingProof] = {}
        proofs: list[str] = []
        transactions: list[str] = []
        for pending in self.order():
            if len(proofs) >= max_proofs:
                break
            own = [self.transactions[t] for t in pending.transactions if t in self.transactions]
            blocked = next((tx for tx in own if tx.nonce != next_nonce[tx.sender]), None)
            if blocked is not None:
                waiting[(blocked.sender, blocked.nonce - 1)] = pending
                continue
            queue = [pending]
            while queue and len(proofs) < max_proofs:
                current = queue.pop()
                proofs.append(current.proof_id)
                for t in current.transactions:
                    tx = self.transactions.get(t)
                    if tx is None:
                        continue
                    transactions.append(t)
                    next_nonce[tx.sender] = tx.nonce + 1
                    follower = waiting.pop((tx.sender, tx.nonce), None)
                    if follower is not None:
                        queue.append(follower)
        return proofs, transactions

    def commit(self, proof_ids: list[str]) -> int:
        """Remove the proofs of a committed block with their transactions."""
        removed = 0
        for proof_id in proof_ids:
            pending = self._remove_proof(proof_id)
            if pending is None:
                continue
            removed += 1
            for t in pending.transactions:
                tx = self.transactions.pop(t, None)
                if tx is None:
                    continue
                chain = self.chains.get(tx.sender, {})
                chain.pop(tx.nonce, None)
                if not chain:
                    self.chains.pop(tx.sender, None)
        self.committed += removed
        return removed
