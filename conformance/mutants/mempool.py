"""Mutants of the mempool: admission, room, order and commits as an outsider might get them wrong.

Each defect breaks a rule of spec/proofs.md ("The mempool", R5.5, R6.3, R7.1, N3, N6) that a
plausible independent implementation gets wrong. Transfer admission is written the way an
outsider lists the checks (:class:`OutsiderTransfers`: signature, stale nonce, conflicts, nonce
gap, room, the judge), so that each transfer mutant is that implementation with one check
missing or misplaced; the outsider's implementation without a defect passes the suite like the
reference (``--impl python:conformance.mutants.mempool:OutsiderImplementation``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from aethel.encoding import KeyPair, parse_hex
from aethel.errors import AethelError, SignatureError, UsageError
from aethel.proofs.errors import MempoolFull, ProofRejected, SmtTextError, TransactionRejected
from aethel.proofs.judge import Account, Judge
from aethel.proofs.mempool import DEFAULT_CAPACITY, Mempool, PendingProof
from aethel.proofs.model import Proof, Transfer
from aethel.proofs.smt_text import check_smt_text
from aethel.proofs.solver import run_solver
from aethel.proofs.verifier import VerificationResult
from conformance.adapters.api import Hex
from conformance.adapters.reference import ReferenceImplementation
from conformance.adapters.reference_errors import rejecting
from conformance.adapters.reference_proofs import ReferenceMempool, ReferenceMempoolObject
from conformance.mutants import Mutant

#: What the any-capacity mutant takes "no limit" to mean.
UNLIMITED = 2**63 - 1


class OutsiderTransfers(Mempool):
    """Transfer admission written from spec/proofs.md by someone else: one method per check."""

    def add_transaction(self, tx: Transfer, account: Account) -> PendingProof:
        if self.judge is None:
            raise UsageError("this mempool has no judge")
        self.check_signature(tx)
        known = self._proof_of_transaction.get(tx.transaction_id)
        if known is not None:
            return self._proofs[known]
        self.check_stale(tx, account)
        self.check_conflicts(tx, account)
        self.check_gap(tx, account)
        self.check_room()
        return self.prove_and_admit(tx, account)

    def _refuse(self, error: AethelError) -> AethelError:
        self._decide(False)
        return error

    def check_signature(self, tx: Transfer) -> None:
        if not tx.is_signature_valid():
            raise self._refuse(SignatureError("R5.5", "bad sender signature"))

    def pending_of(self, sender: bytes) -> dict[int, bytes]:
        return self._by_sender.get(sender, {})

    def check_stale(self, tx: Transfer, account: Account) -> None:
        if tx.nonce < account.nonce:
            raise self._refuse(TransactionRejected("R7.1", f"nonce {tx.nonce} is used"))

    def check_conflicts(self, tx: Transfer, account: Account) -> None:
        pending = self.pending_of(tx.sender)
        if tx.nonce in pending:
            self._drop_chain(tx.sender, tx.nonce)
            raise self._refuse(TransactionRejected("R7.1", f"double spend of nonce {tx.nonce}"))
        spent = sum(self._transactions[t].amount for t in pending.values())
        if spent + tx.amount > account.balance:
            if pending:
                self._drop_chain(tx.sender, min(pending))
            raise self._refuse(TransactionRejected("R7.1", "the pending transfers overdraw"))

    def check_gap(self, tx: Transfer, account: Account) -> None:
        if tx.nonce > account.nonce + len(self.pending_of(tx.sender)):
            raise self._refuse(TransactionRejected("R7.1", f"nonce {tx.nonce} skips one"))

    def check_room(self) -> None:
        if len(self._proofs) >= self.capacity:
            raise self._refuse(MempoolFull("N6", "mempool full"))

    def prove_and_admit(self, tx: Transfer, account: Account) -> PendingProof:
        assert self.judge is not None
        pending = self.pending_of(tx.sender)
        stated = account.balance - sum(self._transactions[t].amount for t in pending.values())
        # The judge states the nonce the transfer carries (the checks above vouched for it).
        proof = self.judge.prove_transfer(tx, stated, tx.nonce)
        result = self.verifier.verify(proof)
        admitted = self._insert(proof, result)
        self._transactions[tx.transaction_id] = tx
        self._stated[tx.transaction_id] = stated
        self._proof_of_transaction[tx.transaction_id] = proof.proof_id
        self._by_sender.setdefault(tx.sender, {})[tx.nonce] = tx.transaction_id
        self._decide(True)
        return admitted


class SkippedNonceMempool(OutsiderTransfers):
    """Defect: no gap check; a transfer whose nonce skips one is admitted (and proved)."""

    def check_gap(self, tx: Transfer, account: Account) -> None:
        return None


class ReplayedNonceMempool(OutsiderTransfers):
    """Defect: no stale check; a nonce the account already used is admitted again (a replay)."""

    def check_stale(self, tx: Transfer, account: Account) -> None:
        return None


class ConflictBeforeSignatureMempool(OutsiderTransfers):
    """Defect: conflicts are judged before the signature, so a forged transfer that repeats a
    pending nonce removes the genuine pending transfer (a denial of service by anyone)."""

    def add_transaction(self, tx: Transfer, account: Account) -> PendingProof:
        known = self._proof_of_transaction.get(tx.transaction_id)
        if known is not None:
            return self._proofs[known]
        self.check_stale(tx, account)
        self.check_conflicts(tx, account)
        self.check_signature(tx)
        self.check_gap(tx, account)
        self.check_room()
        return self.prove_and_admit(tx, account)


class DoubleSpendKeepsSuccessorsMempool(OutsiderTransfers):
    """Defect: a double spend drops only the pending transfer with that nonce; the sender's later
    pending transfers stay, their nonces now following a gap."""

    def check_conflicts(self, tx: Transfer, account: Account) -> None:
        pending = self.pending_of(tx.sender)
        if tx.nonce in pending:
            transaction_id = pending.pop(tx.nonce)
            self._transactions.pop(transaction_id)
            self._stated.pop(transaction_id)
            self._remove_proof(self._proof_of_transaction.pop(transaction_id))
            if not pending:
                self._by_sender.pop(tx.sender)
            raise self._refuse(TransactionRejected("R7.1", f"double spend of nonce {tx.nonce}"))
        super().check_conflicts(tx, account)


class UnboundedTransfersMempool(OutsiderTransfers):
    """Defect: the capacity is checked for proofs only; transfers always get in."""

    def check_room(self) -> None:
        return None


class NeverEvictsMempool(Mempool):
    """Defect: a full mempool refuses every new proof, however difficult (no eviction)."""

    def _victim_for(self, result: VerificationResult, proof_id: bytes) -> bytes | None:
        if len(self._proofs) >= self.capacity:
            raise self._reject(MempoolFull("N6", "mempool full"), "proof")
        return None


class EvictsOldestMempool(Mempool):
    """Defect: a full mempool makes room by dropping its oldest proof (a queue), whatever the
    ranks."""

    def _victim_for(self, result: VerificationResult, proof_id: bytes) -> bytes | None:
        if len(self._proofs) < self.capacity:
            return None
        return min(self._proofs.values(), key=lambda p: p.arrival).proof.proof_id


class EvictsOnTieMempool(Mempool):
    """Defect: a full mempool admits a proof as difficult as its last one (>= for >)."""

    def _victim_for(self, result: VerificationResult, proof_id: bytes) -> bytes | None:
        if len(self._proofs) < self.capacity:
            return None
        last = self._order[-1]
        if result.difficulty >= -last[0]:
            return last[2]
        raise self._reject(MempoolFull("N6", "mempool full"), "proof")


class EvictionKeepsTransferMempool(Mempool):
    """Defect: evicting a judge proof leaves its transfer pending, now without a proof."""

    def _evict(self, proof_id: bytes) -> None:
        if self._remove_proof(proof_id) is not None:
            self._evicted += 1


@dataclass(frozen=True, slots=True)
class _IdRankedProof(PendingProof):
    @property
    def rank(self) -> tuple[int, int, bytes]:
        """Difficulty, then proof id: arrival is not part of the order."""
        return (-self.result.difficulty, 0, self.proof.proof_id)


class TiesByIdMempool(Mempool):
    """Defect: equal difficulties are ordered by proof id, not by arrival (R6.3)."""

    def _insert(self, proof: Proof, result: VerificationResult) -> PendingProof:
        pending = _IdRankedProof(proof, result, self._arrivals)
        self._arrivals += 1
        self._proofs[proof.proof_id] = pending
        self._order.append(pending.rank)
        self._order.sort()
        return pending


class SmallDefaultMempool(Mempool):
    """Defect: the default capacity is 512 proofs (N3 needs 1,000 pending at once)."""

    def __init__(self, *, capacity: int = 512, **kwargs: object) -> None:
        super().__init__(capacity=capacity, **kwargs)  # type: ignore[arg-type]


class AnyCapacityMempool(Mempool):
    """Defect: the capacity is taken as configured, unchecked: 0 or less means "no limit" (a
    common convention), and any size is allowed (N3: a capacity from 1 to 100,000, others
    refused)."""

    def __init__(self, *, capacity: int = DEFAULT_CAPACITY, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.capacity = capacity if capacity > 0 else UNLIMITED


class DedupeBeforeSignatureMempool(Mempool):
    """Defect: "already pending?" is asked before the signature is checked, so a copy of a
    pending proof with a forged signature is answered as admitted (R5.5)."""

    def add_proof(self, proof: Proof) -> PendingProof:
        known = self._proofs.get(proof.proof_id)
        if known is not None:
            return known
        return super().add_proof(proof)


class VerifyBeforeSignatureMempool(Mempool):
    """Defect: the proof's text is checked and the solver run before the signature is checked,
    so a bad signature on a wrong proof is refused as a wrong proof, and every forgery costs a
    solver run (R5.5)."""

    def add_proof(self, proof: Proof) -> PendingProof:
        if proof.proof_id not in self._proofs:
            try:
                check_smt_text(proof.smt)
            except SmtTextError as error:
                raise self._reject(ProofRejected(error.rule_id, error.detail), "proof") from None
            run = run_solver(proof.smt, proof.budget)
            if run.outcome != proof.claimed.value:
                wrong = f"claimed {proof.claimed.value}, solver says {run.outcome}"
                raise self._reject(ProofRejected("R1.5", wrong), "proof")
        return super().add_proof(proof)


class RemoveCountsIdsMempool(Mempool):
    """Defect: remove_committed answers how many ids it was given, not how many proofs left."""

    def remove_committed(
        self, proof_ids: Iterable[bytes] = (), transaction_ids: Iterable[bytes] = ()
    ) -> int:
        proofs, transactions = list(proof_ids), list(transaction_ids)
        super().remove_committed(proofs, transactions)
        return len(set(proofs)) + len(set(transactions))


class CommittedTransferKeepsProofMempool(Mempool):
    """Defect: a committed transfer leaves the pool but its judge proof stays pending."""

    def remove_committed(
        self, proof_ids: Iterable[bytes] = (), transaction_ids: Iterable[bytes] = ()
    ) -> int:
        for transaction_id in transaction_ids:
            tx = self._transactions.pop(transaction_id, None)
            if tx is None:
                continue
            self._stated.pop(transaction_id, None)
            self._proof_of_transaction.pop(transaction_id, None)
            chain = self._by_sender.get(tx.sender, {})
            chain.pop(tx.nonce, None)
            if not chain:
                self._by_sender.pop(tx.sender, None)
        return super().remove_committed(proof_ids, ())


# ----------------------------------------------------------------------------- adapters


def _pool_object(pool_class: type[Mempool]) -> type[ReferenceMempoolObject]:
    class PoolObject(ReferenceMempoolObject):
        def __init__(self, capacity: int | None, judge_seed: Hex) -> None:
            judge = Judge(KeyPair.from_seed(parse_hex(judge_seed, length=32)))
            if capacity is None:
                self.pool = pool_class(judge=judge)
            else:
                self.pool = pool_class(judge=judge, capacity=capacity)

    PoolObject.__name__ = f"{pool_class.__name__}Object"
    return PoolObject


def _implementation(
    name: str, pool_class: type[Mempool], attribute: str
) -> type[ReferenceImplementation]:
    """Return the implementation class with this mempool, loadable as ``module:attribute``."""
    object_class = _pool_object(pool_class)

    class Pool(ReferenceMempool):
        @rejecting
        def new(self, capacity: int | None, judge_seed: Hex) -> ReferenceMempoolObject:
            return object_class(capacity, judge_seed)

    class Implementation(ReferenceImplementation):
        def make_mempool(self) -> object:
            return Pool()

    Implementation.name = f"mutant-{name}"
    Implementation.__name__ = Implementation.__qualname__ = attribute
    return Implementation


OutsiderImplementation = _implementation(
    "outsider-mempool", OutsiderTransfers, "OutsiderImplementation"
)
SkippedNonceImplementation = _implementation(
    "skipped-nonce", SkippedNonceMempool, "SkippedNonceImplementation"
)
ReplayedNonceImplementation = _implementation(
    "replayed-nonce", ReplayedNonceMempool, "ReplayedNonceImplementation"
)
ConflictBeforeSignatureImplementation = _implementation(
    "conflict-before-signature",
    ConflictBeforeSignatureMempool,
    "ConflictBeforeSignatureImplementation",
)
DoubleSpendKeepsSuccessorsImplementation = _implementation(
    "double-spend-keeps-successors",
    DoubleSpendKeepsSuccessorsMempool,
    "DoubleSpendKeepsSuccessorsImplementation",
)
UnboundedTransfersImplementation = _implementation(
    "unbounded-transfers", UnboundedTransfersMempool, "UnboundedTransfersImplementation"
)
NeverEvictsImplementation = _implementation(
    "never-evicts", NeverEvictsMempool, "NeverEvictsImplementation"
)
EvictsOldestImplementation = _implementation(
    "evicts-oldest", EvictsOldestMempool, "EvictsOldestImplementation"
)
EvictsOnTieImplementation = _implementation(
    "evicts-on-tie", EvictsOnTieMempool, "EvictsOnTieImplementation"
)
EvictionKeepsTransferImplementation = _implementation(
    "eviction-keeps-transfer", EvictionKeepsTransferMempool, "EvictionKeepsTransferImplementation"
)
TiesByIdImplementation = _implementation("ties-by-id", TiesByIdMempool, "TiesByIdImplementation")
SmallDefaultImplementation = _implementation(
    "small-default-capacity", SmallDefaultMempool, "SmallDefaultImplementation"
)
AnyCapacityImplementation = _implementation(
    "any-capacity", AnyCapacityMempool, "AnyCapacityImplementation"
)
DedupeBeforeSignatureImplementation = _implementation(
    "dedupe-before-signature", DedupeBeforeSignatureMempool, "DedupeBeforeSignatureImplementation"
)
VerifyBeforeSignatureImplementation = _implementation(
    "verify-before-signature", VerifyBeforeSignatureMempool, "VerifyBeforeSignatureImplementation"
)
RemoveCountsIdsImplementation = _implementation(
    "remove-counts-ids", RemoveCountsIdsMempool, "RemoveCountsIdsImplementation"
)
CommittedTransferKeepsProofImplementation = _implementation(
    "committed-transfer-keeps-proof",
    CommittedTransferKeepsProofMempool,
    "CommittedTransferKeepsProofImplementation",
)


def _mutant(
    name: str, defect: str, breaks: tuple[str, ...], build: type[ReferenceImplementation]
) -> Mutant:
    return Mutant(name=name, defect=defect, breaks=breaks, capabilities=("mempool",), build=build)


MUTANTS = [
    _mutant(
        "mempool-never-evicts",
        "a full mempool refuses every new proof, however difficult (no eviction)",
        ("N6",),
        NeverEvictsImplementation,
    ),
    _mutant(
        "mempool-skipped-nonce",
        "a transfer whose nonce skips one is admitted",
        ("R7.1",),
        SkippedNonceImplementation,
    ),
    _mutant(
        "mempool-replayed-nonce",
        "a transfer with a nonce the account already used is admitted",
        ("R7.1",),
        ReplayedNonceImplementation,
    ),
    _mutant(
        "mempool-conflict-before-signature",
        "a forged transfer repeating a pending nonce removes the genuine one (conflicts first)",
        ("R5.5",),
        ConflictBeforeSignatureImplementation,
    ),
    _mutant(
        "mempool-double-spend-keeps-successors",
        "a double spend drops only the pending transfer of that nonce, not the later ones",
        ("R7.1",),
        DoubleSpendKeepsSuccessorsImplementation,
    ),
    _mutant(
        "mempool-unbounded-transfers",
        "the capacity bounds proofs only; transfers are admitted into a full mempool",
        ("N6",),
        UnboundedTransfersImplementation,
    ),
    _mutant(
        "mempool-evicts-oldest",
        "a full mempool drops its oldest proof for any new one",
        ("N6",),
        EvictsOldestImplementation,
    ),
    _mutant(
        "mempool-evicts-on-tie",
        "a full mempool admits a proof only as difficult as its last one",
        ("N6",),
        EvictsOnTieImplementation,
    ),
    _mutant(
        "mempool-eviction-keeps-transfer",
        "evicting a judge proof leaves its transfer pending without a proof",
        ("N6",),
        EvictionKeepsTransferImplementation,
    ),
    _mutant(
        "mempool-ties-by-id",
        "proofs of equal difficulty are ordered by proof id instead of arrival",
        ("R6.3",),
        TiesByIdImplementation,
    ),
    _mutant(
        "mempool-small-default-capacity",
        "the default capacity is 512 proofs",
        ("N3",),
        SmallDefaultImplementation,
    ),
    _mutant(
        "mempool-any-capacity",
        "any configured capacity is taken: 0 or less means no limit, and no upper bound",
        ("N3",),
        AnyCapacityImplementation,
    ),
    _mutant(
        "mempool-dedupe-before-signature",
        "a forged-signature copy of a pending proof is answered as the pending proof",
        ("R5.5",),
        DedupeBeforeSignatureImplementation,
    ),
    _mutant(
        "mempool-verify-before-signature",
        "proofs are verified before their signature is checked",
        ("R5.5",),
        VerifyBeforeSignatureImplementation,
    ),
    _mutant(
        "mempool-remove-counts-ids",
        "remove_committed returns the number of ids given, not of proofs that left",
        ("R8.2",),
        RemoveCountsIdsImplementation,
    ),
    _mutant(
        "mempool-committed-transfer-keeps-proof",
        "a committed transfer leaves the mempool but its judge proof stays pending",
        ("R6.3",),
        CommittedTransferKeepsProofImplementation,
    ),
]
