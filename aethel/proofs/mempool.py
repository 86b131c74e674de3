"""The mempool: pending proofs and transfers, admitted after checks, ordered for block building.

Spec: R5.1, R5.5, R6.3, R7.1, R8.2, N3, N6; P21, P23, P25, P30, P33. Rules:

* Admission of a proof (:meth:`Mempool.add_proof`): the Ed25519 signature FIRST (R5.5; a bad
  one raises :class:`SignatureError`); then verification through the node's
  :class:`~aethel.proofs.parallel.Verifier` (a real Z3 run or a cache hit): an ``invalid`` or
  ``unknown`` result raises :class:`ProofRejected` naming the broken rule. A proof whose id is
  already pending changes nothing and returns the pending entry.
* Admission of a transfer (:meth:`Mempool.add_transaction`, with the sender's committed
  :class:`~aethel.proofs.judge.Account`): the signature first (R5.5); then nonce order and
  conflicts (R7.1): a nonce below the account's is stale; a nonce equal to a pending transfer's
  nonce of the same sender is a double spend and BOTH are rejected (the pending one is dropped
  with its proof and its successors); pending transfers of the sender that together with the new
  one exceed the balance are overdrawing and ALL are rejected the same way; a nonce that skips
  one is rejected. Then the judge proves the transfer and the proof is admitted as above: every
  proof the judge produces here enters the pool (R5.1) because every check that could refuse it
  runs before the judge.
* Order (R6.3): difficulty (highest first), then arrival (earliest first), then proof id
  (lowest first). :meth:`Mempool.select_for_block` walks that order and takes a proof unless one
  of its pending transfers still waits for the sender's previous nonce, in which case the proof
  is taken right after that predecessor (so a block never holds a nonce gap). It takes up to
  ``max_proofs`` proofs, fewer only when fewer can be taken; with ``transfers_only`` it skips
  the proofs a block cannot carry (a block pairs each transfer with its one judge proof:
  peer proofs without a pending transfer, batch and generic proofs) instead of counting them.
* Bound (N3, N6): at most ``capacity`` proofs, an int from :data:`MIN_CAPACITY` (1) to
  :data:`MAX_CAPACITY` (100,000; default 10,000, ten times the 1,000 pending proofs of N3);
  anything else raises :class:`UsageError` (the maximum keeps memory bounded: a pending judge
  proof with its transfer takes about 1.8 KB, measured with tracemalloc over 2,000 transfers, so
  a full pool of transfers stays under 200 MB; batch proofs are larger). Eviction rule:
  when full, a new proof from a peer is admitted only if it ranks above the LAST proof in block
  order (lowest difficulty, then latest arrival, then highest id), which is evicted together
  with its transfers and their successors (a transfer never stays without its predecessor);
  otherwise :class:`MempoolFull` is raised and nothing changes. A new transfer is refused with
  :class:`MempoolFull` when the pool is full, evicting nothing (before the judge runs, so R5.1
  holds: the judge never produces a proof that could not enter).
* Commits (R7.1): :meth:`Mempool.apply_commit` takes what a committed block holds and the
  committed accounts of the senders it touched: the block's proofs and transfers leave, then
  each sender's remaining transfers are checked against its new account
  (:meth:`Mempool.remove_stale`): a nonce the chain already used is stale; a rest that no
  longer starts at the account's nonce goes entirely; from the first transfer whose proof states
  more than the balance left for it (so a block validator would refuse it, R1.1), the transfers
  go with their successors.
  :meth:`Mempool.refresh_accounts` applies the same check to any senders (a leader refreshes
  every pending sender against the state it builds on, so a block never holds a stale transfer).
* Metrics (R8.2): :meth:`Mempool.stats` at any time: size, counts of admitted, rejected,
  evicted and committed proofs, and the processing rate = admission decisions (admitted or
  rejected) in the last ``rate_window`` seconds of the injected clock, divided by the window.
  Time is counted in slots of ``rate_window / RATE_SLOTS`` seconds: "the last window" is the
  current slot and the ``RATE_SLOTS - 1`` before it.

A rejected input leaves the pool unchanged, except the documented removal of the transfers a
double spend or an overdraft implicates (R7.1 requires rejecting both sides).
"""

from __future__ import annotations

import bisect
import logging
import math
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from aethel.encoding import to_hex
from aethel.errors import AethelError, ProtocolViolation, SignatureError, UsageError
from aethel.proofs.errors import MempoolFull, ProofRejected, TransactionRejected
from aethel.proofs.judge import Account, Judge
from aethel.proofs.model import Proof, ProofKind, Transfer
from aethel.proofs.obligations import get_stated_balance, is_obligation_for
from aethel.proofs.parallel import Verifier
from aethel.proofs.verifier import REASON_RULES, Verdict, VerificationResult
from aethel.spending import RunningAccounts

logger = logging.getLogger("aethel.proofs.mempool")

DEFAULT_CAPACITY = 10_000
#: Capacity bounds (module docstring): at least one proof; at most 100,000 (memory stays bounded).
MIN_CAPACITY = 1
MAX_CAPACITY = 100_000
DEFAULT_RATE_WINDOW = 10.0
#: The rate window is divided into this many slots; memory for the rate stays bounded (N6).
RATE_SLOTS = 100


@dataclass(frozen=True, slots=True)
class PendingProof:
    """A proof in the pool with its verification result and arrival number."""

    proof: Proof
    result: VerificationResult
    arrival: int

    @property
    def difficulty(self) -> int:
        """Return the verified difficulty of the proof."""
        return self.result.difficulty

    @property
    def rank(self) -> tuple[int, int, bytes]:
        """Return the block-building sort key: difficulty desc, arrival asc, proof id asc (R6.3)."""
        return (-self.result.difficulty, self.arrival, self.proof.proof_id)


@dataclass(frozen=True, slots=True)
class BlockContents:
    """Proofs in block order and the pending transfers they cover, in inclusion order."""

    proofs: tuple[Proof, ...]
    transactions: tuple[Transfer, ...]


@dataclass(frozen=True, slots=True)
class MempoolStats:
    """Mempool metrics (R8.2, P33)."""

    size: int
    transactions: int
    capacity: int
    admitted: int
    rejected: int
    evicted: int
    committed: int
    processing_rate: float
    rate_window: float


def _short(data: bytes) -> str:
    return to_hex(data[:8])


class Mempool:
    """Pending proofs and transfers of one node; see the module docstring for every rule."""

    def __init__(
        self,
        *,
        verifier: Verifier | None = None,
        judge: Judge | None = None,
        capacity: int = DEFAULT_CAPACITY,
        clock: Callable[[], float] = time.monotonic,
        rate_window: float = DEFAULT_RATE_WINDOW,
    ) -> None:
        if type(capacity) is not int or not MIN_CAPACITY <= capacity <= MAX_CAPACITY:
            raise UsageError(
                f"capacity must be an int from {MIN_CAPACITY} to {MAX_CAPACITY:,}, got {capacity!r}"
            )
        if (
            type(rate_window) not in (int, float)
            or not math.isfinite(rate_window)
            or not rate_window > 0
        ):
            raise UsageError(f"rate_window must be a finite positive number, got {rate_window!r}")
        self.verifier = verifier if verifier is not None else Verifier()
        self.judge = judge
        self.capacity = capacity
        self._clock = clock
        self._rate_window = float(rate_window)
        self._proofs: dict[bytes, PendingProof] = {}
        self._order: list[tuple[int, int, bytes]] = []
        self._transactions: dict[bytes, Transfer] = {}
        # transaction id -> the balance its judge proof states (what a block validator checks).
        self._stated: dict[bytes, int] = {}
        self._proof_of_transaction: dict[bytes, bytes] = {}
        # sender -> {nonce: transaction id}; the nonces of one sender are contiguous.
        self._by_sender: dict[bytes, dict[int, bytes]] = {}
        self._arrivals = 0
        self._admitted = 0
        self._rejected = 0
        self._evicted = 0
        self._committed = 0
        self._slot_width = self._rate_window / RATE_SLOTS
        # (slot number, decisions in it), oldest first; at most RATE_SLOTS entries.
        self._decisions: deque[list[int]] = deque()

    # ----------------------------------------------------------------------- queries

    def __len__(self) -> int:
        return len(self._proofs)

    def __contains__(self, proof_id: object) -> bool:
        return proof_id in self._proofs

    def get(self, proof_id: bytes) -> PendingProof | None:
        """Return the pending entry of ``proof_id`` or None."""
        return self._proofs.get(proof_id)

    def has_transaction(self, transaction_id: bytes) -> bool:
        """Return whether the transfer ``transaction_id`` is pending."""
        return transaction_id in self._transactions

    def pending(self) -> list[PendingProof]:
        """Return every pending proof in block-building order (R6.3)."""
        return [self._proofs[rank[2]] for rank in self._order]

    def stats(self) -> MempoolStats:
        """Return the metrics of the module docstring (R8.2)."""
        now = self._clock()
        self._trim(now)
        return MempoolStats(
            size=len(self._proofs),
            transactions=len(self._transactions),
            capacity=self.capacity,
            admitted=self._admitted,
            rejected=self._rejected,
            evicted=self._evicted,
            committed=self._committed,
            processing_rate=sum(count for _, count in self._decisions) / self._rate_window,
            rate_window=self._rate_window,
        )

    # ----------------------------------------------------------------------- metrics

    def _trim(self, now: float) -> int:
        slot = int(now // self._slot_width)
        while self._decisions and self._decisions[0][0] <= slot - RATE_SLOTS:
            self._decisions.popleft()
        return slot

    def _decide(self, admitted: bool) -> None:
        slot = self._trim(self._clock())
        if self._decisions and self._decisions[-1][0] == slot:
            self._decisions[-1][1] += 1
        else:
            self._decisions.append([slot, 1])
        if admitted:
            self._admitted += 1
        else:
            self._rejected += 1

    def _reject(self, error: ProtocolViolation, what: str) -> ProtocolViolation:
        self._decide(False)
        logger.info("rejected %s: %s", what, error)
        return error

    # ----------------------------------------------------------------------- proofs

    def add_proof(self, proof: Proof) -> PendingProof:
        """Admit ``proof`` (signature, verification, capacity; module docstring) or raise."""
        what = f"proof {_short(proof.proof_id)}"
        if not proof.is_signature_valid():
            raise self._reject(SignatureError("R5.5", f"{what}: invalid submitter signature"), what)
        existing = self._proofs.get(proof.proof_id)
        if existing is not None:
            # Same id and a valid signature: the same proof (E6), whatever signature bytes.
            return existing
        result = self.verifier.verify(proof)
        if result.verdict is not Verdict.VALID:
            rule = "R1.5" if result.reason is None else REASON_RULES[result.reason]
            message = f"{what} is {result.verdict.value}: {result.detail}"
            raise self._reject(ProofRejected(rule, message), what)
        victim = self._victim_for(result, proof.proof_id)
        pending = self._insert(proof, result)
        if victim is not None:
            self._evict(victim)
        self._decide(True)
        logger.debug("admitted %s difficulty %d", what, result.difficulty)
        return pending

    def _victim_for(self, result: VerificationResult, proof_id: bytes) -> bytes | None:
        """Return the proof to evict for a new one, or raise :class:`MempoolFull`."""
        if len(self._proofs) < self.capacity:
            return None
        last = self._order[-1]
        if (-result.difficulty, self._arrivals, proof_id) < last:
            return last[2]
        raise self._reject(
            MempoolFull(
                "N6",
                f"mempool full ({self.capacity}) and difficulty {result.difficulty} "
                f"does not beat the last pending proof's {-last[0]}",
            ),
            f"proof {_short(proof_id)}",
        )

    def _insert(self, proof: Proof, result: VerificationResult) -> PendingProof:
        pending = PendingProof(proof, result, self._arrivals)
        self._arrivals += 1
        self._proofs[proof.proof_id] = pending
        bisect.insort(self._order, pending.rank)
        return pending

    def _remove_proof(self, proof_id: bytes) -> PendingProof | None:
        pending = self._proofs.pop(proof_id, None)
        if pending is None:
            return None
        index = bisect.bisect_left(self._order, pending.rank)
        del self._order[index]
        return pending

    def _evict(self, proof_id: bytes) -> None:
        pending = self._remove_proof(proof_id)
        if pending is None:
            return
        self._evicted += 1
        logger.info("evicted proof %s (pool full)", _short(proof_id))
        for subject in pending.proof.subjects:
            tx = self._transactions.get(subject)
            if tx is not None:
                self._drop_chain(tx.sender, tx.nonce)

    # ----------------------------------------------------------------------- transfers

    def _drop_chain(self, sender: bytes, from_nonce: int) -> None:
        """Drop the sender's pending transfers from ``from_nonce`` on, with their proofs."""
        chain = self._by_sender.get(sender, {})
        self._drop_pending(sender, sorted(n for n in chain if n >= from_nonce))

    def _drop_pending(self, sender: bytes, nonces: Iterable[int]) -> None:
        """Drop the sender's pending transfers of ``nonces``, with their proofs."""
        chain = self._by_sender.get(sender, {})
        for nonce in nonces:
            transaction_id = chain.pop(nonce)
            self._transactions.pop(transaction_id, None)
            self._stated.pop(transaction_id, None)
            proof_id = self._proof_of_transaction.pop(transaction_id, None)
            if proof_id is not None:
                self._remove_proof(proof_id)
        if not chain:
            self._by_sender.pop(sender, None)

    def add_transaction(self, tx: Transfer, account: Account) -> PendingProof:
        """Admit a transfer given its sender's committed ``account``; return its judge proof.

        Raises :class:`SignatureError` (R5.5), :class:`TransactionRejected` (R7.1),
        :class:`MempoolFull` (N6) as the module docstring says.
        """
        if self.judge is None:
            raise UsageError("this mempool has no judge; build it with Mempool(judge=...)")
        what = f"transfer {_short(tx.transaction_id)}"
        if not tx.is_signature_valid():
            raise self._reject(SignatureError("R5.5", f"{what}: invalid sender signature"), what)
        existing = self._proof_of_transaction.get(tx.transaction_id)
        if existing is not None:
            return self._proofs[existing]
        stated, expected = self._check_new_transfer(tx, account, what)
        proof = self.judge.prove_transfer(tx, stated, expected)
        result = self.verifier.verify(proof)
        if not result.is_valid:
            # Every input was checked above, so this is a defect of the judge, not of the peer.
            raise AethelError(f"the judge produced a {result.verdict.value} proof: {result.detail}")
        return self._admit_transfer(tx, proof, result, stated, what)

    def add_proved_transaction(self, tx: Transfer, proof: Proof, account: Account) -> PendingProof:
        """Admit a transfer with the judge proof someone else made for it (a client, or the
        node that admitted it first and gossiped the pair); return the pending proof.

        The transfer passes every check of :meth:`add_transaction` (R5.5, R7.1, N6); the proof
        must be signed (R5.5), be a transfer proof whose one subject is the transfer and whose
        text is the transfer's obligation stating at most the balance left after the sender's
        pending transfers (R1.1, the check a block validator makes), and verify (R1.5).
        """
        what = f"transfer {_short(tx.transaction_id)}"
        if not tx.is_signature_valid():
            raise self._reject(SignatureError("R5.5", f"{what}: invalid sender signature"), what)
        if not proof.is_signature_valid():
            raise self._reject(SignatureError("R5.5", f"{what}: invalid proof signature"), what)
        existing = self._proof_of_transaction.get(tx.transaction_id)
        if existing is not None:
            return self._proofs[existing]
        available, expected = self._check_new_transfer(tx, account, what)
        stated = get_stated_balance(proof.smt)
        if proof.kind is not ProofKind.TRANSFER or proof.subjects != (tx.transaction_id,):
            raise self._reject(ProofRejected("R1.1", f"{what}: the proof does not cover it"), what)
        if stated is None or not is_obligation_for(proof.smt, tx, available, expected):
            raise self._reject(
                ProofRejected(
                    "R1.1",
                    f"{what}: the proof is not its obligation on a balance of at most {available}"
                    f" with nonce {expected}",
                ),
                what,
            )
        result = self.verifier.verify(proof)
        if result.verdict is not Verdict.VALID:
            rule = "R1.5" if result.reason is None else REASON_RULES[result.reason]
            message = f"{what}: its proof is {result.verdict.value}: {result.detail}"
            raise self._reject(ProofRejected(rule, message), what)
        return self._admit_transfer(tx, proof, result, stated, what)

    def _account_run(self, sender: bytes, account: Account) -> RunningAccounts[bytes]:
        """Return an empty run of transfers on ``sender``'s committed ``account`` (R7.1).

        Only the sender's account is read; the receivers of the transfers booked on it are
        credited but never read, so they start at an empty account.
        """
        empty = Account(0, 0)
        return RunningAccounts(
            lambda key: (account if key == sender else empty).balance,
            lambda key: (account if key == sender else empty).nonce,
            to_hex,
        )

    def _pending_run(self, sender: bytes, account: Account) -> RunningAccounts[bytes]:
        """Return ``sender``'s committed ``account`` with its pending transfers booked in nonce
        order: the balance and next nonce its next transfer spends from (R7.1)."""
        running = self._account_run(sender, account)
        chain = self._by_sender.get(sender, {})
        for nonce in sorted(chain):
            pending = self._transactions[chain[nonce]]
            running.apply(sender, pending.receiver, pending.amount)
        return running

    def _check_new_transfer(self, tx: Transfer, account: Account, what: str) -> tuple[int, int]:
        """Check a new transfer's nonce, conflicts, balance and the room left (R7.1, N6);
        return (the balance left for it after the sender's pending transfers, its nonce).

        Whether it may spend after the sender's pending transfers is
        :func:`aethel.spending.find_double_spend`'s decision (through :class:`RunningAccounts`),
        the one the judge, block validation and the state transition make. What the pool does
        with a refusal is its own, in this order: a stale nonce only refuses; a pending nonce
        drops that transfer and its successors; an overdraft (even with a nonce that skips one)
        drops all of the sender's pending transfers; a skipped nonce only refuses.
        """
        chain = self._by_sender.get(tx.sender, {})
        running = self._pending_run(tx.sender, account)
        found = running.check(tx.sender, tx.amount, tx.nonce)
        if tx.nonce < account.nonce:
            raise self._reject(
                TransactionRejected(
                    "R7.1", f"{what}: nonce {tx.nonce} already used (account at {account.nonce})"
                ),
                what,
            )
        if tx.nonce in chain:
            self._drop_chain(tx.sender, tx.nonce)
            raise self._reject(
                TransactionRejected(
                    "R7.1", f"{what}: double spend of nonce {tx.nonce}; both transfers rejected"
                ),
                what,
            )
        if found is None:
            if len(self._proofs) >= self.capacity:
                raise self._reject(MempoolFull("N6", f"mempool full ({self.capacity})"), what)
            return running.balance(tx.sender), tx.nonce
        if tx.amount > found.balance:
            if chain:
                self._drop_chain(tx.sender, min(chain))
            raise self._reject(
                TransactionRejected(
                    "R7.1",
                    f"{what}: pending transfers of the sender together spend "
                    f"{found.spent + tx.amount} > balance {account.balance}; all rejected",
                ),
                what,
            )
        raise self._reject(
            TransactionRejected(
                "R7.1", f"{what}: nonce {tx.nonce}, expected {found.expected_nonce}"
            ),
            what,
        )

    def _admit_transfer(
        self, tx: Transfer, proof: Proof, result: VerificationResult, stated: int, what: str
    ) -> PendingProof:
        pending = self._insert(proof, result)
        self._transactions[tx.transaction_id] = tx
        self._stated[tx.transaction_id] = stated
        self._proof_of_transaction[tx.transaction_id] = proof.proof_id
        self._by_sender.setdefault(tx.sender, {})[tx.nonce] = tx.transaction_id
        self._decide(True)
        logger.debug("admitted %s with proof %s", what, _short(proof.proof_id))
        return pending

    # ----------------------------------------------------------------------- blocks

    def _own_transactions(self, pending: PendingProof) -> list[Transfer]:
        """Return the pending transfers whose judge proof is ``pending`` (in subject order)."""
        found = []
        for subject in pending.proof.subjects:
            if self._proof_of_transaction.get(subject) == pending.proof.proof_id:
                found.append(self._transactions[subject])
        return found

    def _is_block_transfer(self, pending: PendingProof) -> bool:
        """Return whether ``pending`` is the judge proof of exactly one pending transfer."""
        proof = pending.proof
        return (
            proof.kind is ProofKind.TRANSFER
            and len(proof.subjects) == 1
            and self._proof_of_transaction.get(proof.subjects[0]) == proof.proof_id
        )

    def select_for_block(self, max_proofs: int, *, transfers_only: bool = False) -> BlockContents:
        """Return up to ``max_proofs`` proofs in block order and their transfers (R6.3, P25).

        With ``transfers_only``, only judge proofs of pending transfers are taken (what a block
        can carry); the others are skipped without using up the limit.
        """
        if type(max_proofs) is not int or max_proofs < 0:
            raise UsageError(f"max_proofs must be a non-negative int, got {max_proofs!r}")
        next_nonce = {sender: min(chain) for sender, chain in self._by_sender.items()}
        waiting: dict[tuple[bytes, int], PendingProof] = {}
        proofs: list[Proof] = []
        transactions: list[Transfer] = []
        for rank in self._order:
            if len(proofs) >= max_proofs:
                break
            pending = self._proofs[rank[2]]
            if transfers_only and not self._is_block_transfer(pending):
                continue
            blocked = next(
                (tx for tx in self._own_transactions(pending) if tx.nonce != next_nonce[tx.sender]),
                None,
            )
            if blocked is not None:
                waiting[(blocked.sender, blocked.nonce - 1)] = pending
                continue
            # Take the proof, then every proof that was waiting for a transfer it includes.
            queue = [pending]
            while queue and len(proofs) < max_proofs:
                current = queue.pop()
                proofs.append(current.proof)
                for tx in self._own_transactions(current):
                    transactions.append(tx)
                    next_nonce[tx.sender] = tx.nonce + 1
                    follower = waiting.pop((tx.sender, tx.nonce), None)
                    if follower is not None:
                        queue.append(follower)
        return BlockContents(tuple(proofs), tuple(transactions))

    def remove_committed(
        self, proof_ids: Iterable[bytes] = (), transaction_ids: Iterable[bytes] = ()
    ) -> int:
        """Remove what a committed block holds; return how many pending proofs left the pool.

        A committed transfer leaves with its proof; a committed proof leaves with its transfers.
        The sender's remaining transfers stay (their nonces follow the committed ones).
        """
        removed = 0
        for transaction_id in list(transaction_ids):
            proof_id = self._proof_of_transaction.get(transaction_id)
            if proof_id is not None:
                removed += self._commit_proof(proof_id)
        for proof_id in list(proof_ids):
            removed += self._commit_proof(proof_id)
        self._committed += removed
        return removed

    def apply_commit(
        self,
        proof_ids: Iterable[bytes],
        transaction_ids: Iterable[bytes],
        accounts: Mapping[bytes, Account],
    ) -> tuple[int, int]:
        """Apply a committed block: remove what it holds, then drop what it made stale (R7.1).

        ``accounts`` maps senders to their committed accounts after the block (at least every
        sender of its transfers). Returns (proofs removed as committed, stale transfers dropped).
        """
        removed = self.remove_committed(proof_ids, transaction_ids)
        return removed, self.refresh_accounts(accounts)

    def pending_senders(self) -> list[bytes]:
        """Return the senders with pending transfers, sorted."""
        return sorted(self._by_sender)

    def refresh_accounts(self, accounts: Mapping[bytes, Account]) -> int:
        """Check each sender's pending transfers against its committed account; return drops."""
        return sum(self.remove_stale(sender, accounts[sender]) for sender in sorted(accounts))

    def _commit_proof(self, proof_id: bytes) -> int:
        pending = self._remove_proof(proof_id)
        if pending is None:
            return 0
        for subject in pending.proof.subjects:
            tx = self._transactions.pop(subject, None)
            if tx is None:
                continue
            self._stated.pop(subject, None)
            self._proof_of_transaction.pop(subject, None)
            chain = self._by_sender.get(tx.sender, {})
            chain.pop(tx.nonce, None)
            if not chain:
                self._by_sender.pop(tx.sender, None)
        return 1

    def remove_stale(self, sender: bytes, account: Account) -> int:
        """Drop the sender's pending transfers that ``account`` (newly committed) invalidates.

        Transfers with a nonce below the account's are stale (R7.1: the nonce is spent). If the
        rest no longer starts at the account's nonce, all of them go. Otherwise, in nonce order,
        the first transfer whose judge proof states more than the balance left for it (the
        account's balance minus the sender's earlier pending transfers) goes with its successors:
        a block validator accepts a transfer proof only if it states at most the running balance
        (R1.1), and a proof that states no more than that also rules out an overdraft. Returns
        how many transfers were dropped.
        """
        chain = self._by_sender.get(sender)
        if not chain:
            return 0
        before = len(chain)
        self._drop_pending(sender, sorted(n for n in chain if n < account.nonce))
        chain = self._by_sender.get(sender, {})
        if chain and min(chain) != account.nonce:
            self._drop_chain(sender, min(chain))
        running = self._account_run(sender, account)
        for nonce in sorted(chain):
            transaction_id = chain[nonce]
            if self._stated[transaction_id] > running.balance(sender):
                self._drop_chain(sender, nonce)
                break
            pending = self._transactions[transaction_id]
            running.apply(sender, pending.receiver, pending.amount)
        dropped = before - len(self._by_sender.get(sender, {}))
        if dropped:
            logger.info("dropped %d stale transfers of %s (R7.1)", dropped, _short(sender))
        return dropped
