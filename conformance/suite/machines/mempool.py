"""Mempool machine: ordering, conflicts, bounds, metrics.

Peers submit proofs (valid ones of varied difficulty, false claims, forged signatures,
duplicates) and transfers (in nonce order, stale, skipping, double spends, overdrafts, forged);
blocks are built and committed, and committed accounts make pending transfers stale. The model
(:mod:`conformance.suite.machines.mempool_model`) decides every admission; after each step the
machine checks that the mempool:

* admitted or refused exactly what the model did (refusals naming a rule: R5.5, R7.1, N6, ...),
  and a judge proof it admitted for a transfer is valid, signed and covers that transfer (R5.1);
* holds the model's pending proofs (a block of all of them comes in the order R6.3 gives) and
  never more than its capacity (N6); every block holds the proofs R6.3 selects, with no nonce
  gap (R7.1);
* reports the model's counts of pending items, admissions, refusals, evictions and commits
  (the processing rate is not checked: the adapter gives no control of the clock).

Spec: R5.1, R5.5, R6.3, R7.1, R8.2 (counts), N6; P21, P23, P25, P30.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from aethel.encoding import KeyPair, to_hex
from aethel.proofs.judge import generate_standard_mix
from aethel.proofs.model import (
    Outcome,
    ProofKind,
    proof_from_json,
    sign_proof,
    sign_transfer,
    transfer_from_json,
)
from aethel.proofs.verifier import Verdict, verify_proof
from conformance.adapters.api import MempoolAPI
from conformance.adapters.errors import Rejected
from conformance.suite.machines.common import ModelMismatch
from conformance.suite.machines.mempool_model import MempoolModel

JSON = Any
#: Small, so that a few admissions fill the pool and eviction happens (the spec's floor of 1,000
#: is a deployment minimum; the rules are the same at every capacity).
CAPACITY = 4
JUDGE_SEED = "4d" * 32


def _flip(signature: str) -> str:
    raw = bytearray(bytes.fromhex(signature))
    raw[-1] ^= 1
    return raw.hex()


def _proof_pool() -> list[JSON]:
    """Peer proofs: judge proofs of varied difficulty, equal-difficulty twins, false claims."""
    key = KeyPair.from_seed(bytes([9]) * 32)
    pool = [p.to_json() for p in generate_standard_mix(6, seed=11)]
    for budget in (50_000, 60_000):  # same text, two ids: equal difficulty, ties on arrival
        pool.append(
            sign_proof(
                key,
                kind=ProofKind.ARITHMETIC,
                smt="(declare-const x Int)(assert (> x 5))(assert (< x 3))",
                budget=budget,
            ).to_json()
        )
    pool.append(
        sign_proof(
            key,
            kind=ProofKind.ARITHMETIC,
            smt="(declare-const x Int)(assert (> x 5))",
            claimed=Outcome.UNSAT,
            budget=50_000,
        ).to_json()
    )
    return pool


POOL = _proof_pool()
SENDERS = tuple(KeyPair.from_seed(bytes([20 + i]) * 32) for i in range(3))
START_BALANCE = 1_000


@dataclass
class Account:
    """A sender's committed account (what the chain says)."""

    balance: int
    nonce: int


class MempoolMachine(RuleBasedStateMachine):
    """Drive one mempool beside the model and the committed accounts."""

    api_factory: ClassVar[Callable[[], MempoolAPI]]

    def __init__(self) -> None:
        super().__init__()
        self.mempool = type(self).api_factory().new(CAPACITY, JUDGE_SEED)
        self.model = MempoolModel(CAPACITY)
        # Decisions are not timed: the adapter has no clock control, so the rate is not checked.
        self.now = 0.0
        self.accounts = {to_hex(k.public_key): Account(START_BALANCE, 0) for k in SENDERS}
        self.signatures: dict[str, str] = {}
        self.transfers: dict[str, JSON] = {}
        self._verdicts: dict[str, tuple[bool, int]] = {}

    def _verdict(self, proof: JSON) -> tuple[bool, int]:
        key = proof["signature"]
        if key not in self._verdicts:
            result = verify_proof(proof_from_json(proof))
            self._verdicts[key] = (result.verdict is Verdict.VALID, result.difficulty)
        return self._verdicts[key]

    def _check_pending_after_refusal(self, rule_id: str) -> None:
        """A refusal leaves the pool as the model says: unchanged, except what a double spend
        or an overdraft implicates (R7.1)."""
        got = self.mempool.select_for_block(CAPACITY + 1)
        want_proofs, want_transactions = self.model.select(CAPACITY + 1)
        if (got["proofs"], got["transactions"]) != (want_proofs, want_transactions):
            raise ModelMismatch(
                rule_id, f"after a refusal ({rule_id}) pending {got}, model {want_proofs}"
            )

    @rule(index=st.integers(0, len(POOL) - 1), forged=st.integers(0, 3))
    def submit_proof(self, index: int, forged: int) -> None:
        proof = dict(POOL[index])
        if forged == 0:
            proof["signature"] = _flip(proof["signature"])
        parsed = proof_from_json(proof)
        proof_id = to_hex(parsed.proof_id)
        valid, difficulty = (False, 0) if forged == 0 else self._verdict(proof)
        expected = self.model.add_proof(
            proof_id,
            proof["signature"],
            parsed.is_signature_valid(),
            valid,
            difficulty,
            self.signatures.get(proof_id),
            self.now,
        )
        try:
            self.mempool.add_proof(proof)
        except Rejected as rejected:
            if expected in ("admitted", "duplicate"):
                raise ModelMismatch(
                    "R6.3 N6", f"proof refused ({rejected}), model {expected}"
                ) from None
            if rejected.rule_id != expected and expected != "R1.5":
                raise ModelMismatch(
                    expected, f"refused for {rejected.rule_id}, not {expected}"
                ) from None
            self._check_pending_after_refusal(expected)
            return
        if expected not in ("admitted", "duplicate"):
            raise ModelMismatch(expected, f"proof admitted, but it breaks {expected}")
        self.signatures[proof_id] = proof["signature"]

    @rule(
        sender=st.integers(0, len(SENDERS) - 1),
        receiver=st.integers(1, len(SENDERS) - 1),
        amount=st.one_of(st.integers(1, 400), st.integers(401, 1_200)),
        nonce_shift=st.sampled_from([0, 0, 0, 0, -1, 1]),
        forged=st.integers(0, 9),
    )
    def submit_transfer(
        self, sender: int, receiver: int, amount: int, nonce_shift: int, forged: int
    ) -> None:
        key = SENDERS[sender]
        receiver = (sender + receiver) % len(SENDERS)  # never the sender itself
        name = to_hex(key.public_key)
        account = self.accounts[name]
        chain = self.model.chains.get(name, {})
        nonce = max(0, account.nonce + len(chain) + nonce_shift)
        tx = sign_transfer(
            key, receiver=SENDERS[receiver].public_key, amount=amount, nonce=nonce
        ).to_json()
        if forged == 0:
            tx["signature"] = _flip(tx["signature"])
        parsed = transfer_from_json(tx)
        transaction_id = to_hex(parsed.transaction_id)
        duplicate = transaction_id in self.model.transactions
        if not parsed.is_signature_valid():
            expected = self.model.reject("R5.5", self.now)
        elif duplicate:
            expected = "duplicate"
        else:
            expected = self.model.check_transaction(
                name, nonce, amount, account.balance, account.nonce, self.now
            )
        try:
            proof = self.mempool.add_transaction(tx, account.balance, account.nonce)
        except Rejected as rejected:
            if expected in ("", "duplicate"):
                raise ModelMismatch(
                    "R7.1 R5.1", f"transfer refused ({rejected}), model admits"
                ) from None
            if rejected.rule_id != expected:
                raise ModelMismatch(
                    expected, f"refused for {rejected.rule_id}, not {expected}"
                ) from None
            self._check_pending_after_refusal(expected)
            return
        if expected not in ("", "duplicate"):
            raise ModelMismatch(expected, f"transfer admitted, but it breaks {expected}")
        if duplicate:
            return
        valid, difficulty = self._verdict(proof)
        parsed_proof = proof_from_json(proof)
        if not valid or [to_hex(s) for s in parsed_proof.subjects] != [transaction_id]:
            raise ModelMismatch(
                "R5.1 P21", "the judge's proof is not a valid proof of the transfer"
            )
        proof_id = to_hex(parsed_proof.proof_id)
        self.model.admit_transaction(
            transaction_id, name, nonce, amount, proof_id, difficulty, self.now
        )
        self.signatures[proof_id] = proof["signature"]
        self.transfers[transaction_id] = tx

    @rule(max_proofs=st.integers(0, CAPACITY + 1))
    def build_block(self, max_proofs: int) -> None:
        got = self.mempool.select_for_block(max_proofs)
        want_proofs, want_transactions = self.model.select(max_proofs)
        if (got["proofs"], got["transactions"]) != (want_proofs, want_transactions):
            raise ModelMismatch(
                "R6.3 P25 R7.1",
                f"block {got}, spec order gives {want_proofs} / {want_transactions}",
            )

    @precondition(lambda self: bool(self.model.proofs))
    @rule(max_proofs=st.integers(1, CAPACITY))
    def commit_block(self, max_proofs: int) -> None:
        block = self.mempool.select_for_block(max_proofs)
        for transaction_id in block["transactions"]:
            tx = transfer_from_json(self.transfers[transaction_id])
            self.accounts[to_hex(tx.sender)].balance -= tx.amount
            self.accounts[to_hex(tx.sender)].nonce += 1
            self.accounts[to_hex(tx.receiver)].balance += tx.amount
        removed = self.mempool.remove_committed(block["proofs"], block["transactions"])
        if removed != self.model.commit(block["proofs"]):
            raise ModelMismatch("R6.3", f"committing the block removed {removed} proofs")

    @invariant()
    def pending_in_spec_order(self) -> None:
        got = self.mempool.select_for_block(CAPACITY + 1)
        want_proofs, want_transactions = self.model.select(CAPACITY + 1)
        if (got["proofs"], got["transactions"]) != (want_proofs, want_transactions):
            raise ModelMismatch("R6.3 P25 N6", f"pending {got}, model {want_proofs}")
        if len(got["proofs"]) > CAPACITY:
            raise ModelMismatch("N6", f"{len(got['proofs'])} pending > capacity {CAPACITY}")

    @invariant()
    def metrics_are_exact(self) -> None:
        stats = self.mempool.stats()
        model = self.model
        want = {
            "size": len(model.proofs),
            "transactions": len(model.transactions),
            "admitted": model.admitted,
            "rejected": model.rejected,
            "evicted": model.evicted,
            "committed": model.committed,
        }
        got = {name: stats[name] for name in want}
        if got != want:
            raise ModelMismatch("R8.2 P33", f"metrics {got}, model {want}")


def make_mempool_machine(
    factory: Callable[[], MempoolAPI], name: str = "reference"
) -> type[MempoolMachine]:
    """Return a mempool machine class bound to ``factory`` (the capability under test)."""
    return type(
        f"MempoolMachine[{name}]", (MempoolMachine,), {"api_factory": staticmethod(factory)}
    )
