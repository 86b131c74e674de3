"""The judge: turn transactions into SMT-LIB2 proof obligations and sign them as proofs (R5.1).

Spec: R5.1, R7.1, I5. Every obligation is stated so that it HOLDS iff its assertions are
unsatisfiable (the negated property is asserted), so the judge always claims ``unsat``:

* transfer (:func:`aethel.proofs.obligations.get_transfer_obligation`: that module alone writes
  and reads the template; the judge imports it for its callers): with the sender's available
  balance B, the amount A and nonce N of the transfer and the expected nonce E, and ANY
  receiver balance R >= 0, the transfer conserves B + R, leaves the sender non-negative (no
  overdraft), moves a positive amount, and is next in nonce order (N = E). Z3 settles it with
  little search (effort about 40 rlimit units): most of its cost is the fresh context and
  parsing;
* batch (:func:`get_batch_obligation`): a sequence of transfers applied in order to concrete
  accounts: every step is in nonce order and leaves its sender non-negative, and the total over
  all accounts is conserved. Cost grows with the batch length;
* reward split (:func:`get_reward_split_obligation`): for ANY block reward 0 <= R <= a cap,
  paying validators with stakes w_1..w_k the integer shares floor(R * w_i / W) (W the total
  stake, R1.3) never pays more than R and leaves a remainder below k, the part that goes to the
  proposer. Integer division by the stake total: real solver effort, growing with k (about
  8,000 rlimit units for 8 validators, 29,000 for 16, 62,000 for 24).

The judge refuses (:class:`TransactionRejected`, R7.1) a transfer that overdraws or is out of
nonce order instead of producing a proof it would have to claim falsely. The obligation text
functions are pure, so a test can build the obligation of a bad transfer and sign a false claim.

:func:`generate_standard_mix` builds the seeded standard mix used by benchmarks and the
simulator: mostly single transfers, some batches and some reward-split proofs.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aethel.encoding import KeyPair, to_hex
from aethel.proofs.errors import TransactionRejected
from aethel.proofs.model import (
    MAX_BUDGET,
    Outcome,
    Proof,
    ProofKind,
    Transfer,
    sign_proof,
    sign_transfer,
)
from aethel.proofs.obligations import get_transfer_obligation
from aethel.spending import RunningAccounts, find_double_spend

#: Budget of judge proofs: the protocol maximum, 16 times the largest standard proof's effort.
DEFAULT_BUDGET = MAX_BUDGET
#: Most transfers in one batch obligation (keeps the text far inside the SMT limits).
MAX_BATCH = 64


@dataclass(frozen=True, slots=True)
class Account:
    """An account as the judge and mempool see it: balance and the next expected nonce."""

    balance: int
    nonce: int


_EMPTY = Account(0, 0)


def check_transfer(tx: Transfer, balance: int, expected_nonce: int) -> None:
    """Raise :class:`TransactionRejected` (R7.1) if ``tx`` is out of nonce order or overdraws.

    The decision is :func:`aethel.spending.find_double_spend`, the one the block validator and
    the state transition make.
    """
    found = find_double_spend(
        sender=to_hex(tx.sender),
        amount=tx.amount,
        nonce=tx.nonce,
        balance=balance,
        expected_nonce=expected_nonce,
    )
    if found is not None:
        raise TransactionRejected("R7.1", found.detail)


def get_batch_obligation(transfers: Sequence[Transfer], accounts: Mapping[bytes, Account]) -> str:
    """Return the obligation of applying ``transfers`` in order to ``accounts``.

    Accounts missing from ``accounts`` start at balance 0 and nonce 0.
    """
    if not 1 <= len(transfers) <= MAX_BATCH:
        raise TransactionRejected("R7.1", f"a batch holds 1 to {MAX_BATCH} transfers")
    index: dict[bytes, int] = {}
    for tx in transfers:
        for key in (tx.sender, tx.receiver):
            index.setdefault(key, len(index))
    version = dict.fromkeys(range(len(index)), 0)
    nonce_of: dict[int, int] = {}
    parts: list[str] = []
    for key, number in index.items():
        account = accounts.get(key, Account(0, 0))
        parts.append(f"(declare-const b{number}v0 Int)(assert (= b{number}v0 {account.balance}))")
        nonce_of[number] = account.nonce
    checks: list[str] = []
    for step, tx in enumerate(transfers):
        s, r = index[tx.sender], index[tx.receiver]
        sv, rv = version[s], version[r]
        parts.append(
            f"(declare-const a{step} Int)(assert (= a{step} {tx.amount}))"
            f"(declare-const n{step} Int)(assert (= n{step} {tx.nonce}))"
            f"(declare-const b{s}v{sv + 1} Int)(assert (= b{s}v{sv + 1} (- b{s}v{sv} a{step})))"
            f"(declare-const b{r}v{rv + 1} Int)(assert (= b{r}v{rv + 1} (+ b{r}v{rv} a{step})))"
        )
        checks.append(f"(>= b{s}v{sv + 1} 0) (> a{step} 0) (= n{step} {nonce_of[s]})")
        version[s], version[r] = sv + 1, rv + 1
        nonce_of[s] += 1
    before = " ".join(f"b{number}v0" for number in range(len(index)))
    after = " ".join(f"b{number}v{version[number]}" for number in range(len(index)))
    checks.append(f"(= (+ {after}) (+ {before}))")
    parts.append(f"(assert (not (and {' '.join(checks)})))")
    return "".join(parts)


#: Largest reward cap a split obligation may state (fits the E2 integer range with room).
MAX_REWARD_CAP = 10**15
MAX_SPLIT_VALIDATORS = 64


def get_reward_split_obligation(stakes: Sequence[int], reward_cap: int) -> str:
    """Return the obligation that integer stake shares of any reward <= ``reward_cap`` are sound."""
    if not 1 <= len(stakes) <= MAX_SPLIT_VALIDATORS or any(
        type(w) is not int or w < 1 for w in stakes
    ):
        raise TransactionRejected("R7.1", f"1 to {MAX_SPLIT_VALIDATORS} positive stakes needed")
    if type(reward_cap) is not int or not 0 <= reward_cap <= MAX_REWARD_CAP:
        raise TransactionRejected("R7.1", f"reward cap must be in [0, {MAX_REWARD_CAP}]")
    total = sum(stakes)
    parts = [f"(declare-const reward Int)(assert (<= 0 reward))(assert (<= reward {reward_cap}))"]
    for index, stake in enumerate(stakes):
        parts.append(
            f"(declare-const share{index} Int)"
            f"(assert (= share{index} (div (* reward {stake}) {total})))"
        )
    paid = " ".join(f"share{index}" for index in range(len(stakes)))
    parts.append(
        f"(assert (not (and (<= (+ 0 {paid}) reward) (< (- reward (+ 0 {paid})) {len(stakes)}))))"
    )
    return "".join(parts)


class Judge:
    """Produce signed proofs of transactions' obligations (R5.1); ``key`` signs every proof."""

    def __init__(self, key: KeyPair, *, budget: int = DEFAULT_BUDGET) -> None:
        self.key = key
        self.budget = budget
        #: Number of proofs produced so far.
        self.produced = 0

    def _sign(self, kind: ProofKind, smt: str, subjects: Sequence[bytes]) -> Proof:
        proof = sign_proof(
            self.key,
            kind=kind,
            smt=smt,
            claimed=Outcome.UNSAT,
            budget=self.budget,
            subjects=subjects,
        )
        self.produced += 1
        return proof

    def prove_transfer(self, tx: Transfer, balance: int, expected_nonce: int) -> Proof:
        """Return the proof of one transfer given the sender's available balance and nonce."""
        check_transfer(tx, balance, expected_nonce)
        return self._sign(
            ProofKind.TRANSFER,
            get_transfer_obligation(tx, balance, expected_nonce),
            (tx.transaction_id,),
        )

    def prove_batch(
        self, transfers: Sequence[Transfer], accounts: Mapping[bytes, Account]
    ) -> Proof:
        """Return the proof of applying ``transfers`` in order to ``accounts``."""
        running: RunningAccounts[bytes] = RunningAccounts(
            lambda key: accounts.get(key, _EMPTY).balance,
            lambda key: accounts.get(key, _EMPTY).nonce,
            to_hex,
        )
        for tx in transfers:
            found = running.check(tx.sender, tx.amount, tx.nonce)
            if found is not None:
                raise TransactionRejected("R7.1", found.detail)
            running.apply(tx.sender, tx.receiver, tx.amount)
        if len(set(tx.transaction_id for tx in transfers)) != len(transfers):
            raise TransactionRejected("R7.1", "a batch holds the same transfer twice")
        return self._sign(
            ProofKind.BATCH,
            get_batch_obligation(transfers, accounts),
            [tx.transaction_id for tx in transfers],
        )

    def prove_reward_split(self, stakes: Sequence[int], reward_cap: int) -> Proof:
        """Return the proof that stake shares of any reward up to ``reward_cap`` are sound."""
        return self._sign(ProofKind.ARITHMETIC, get_reward_split_obligation(stakes, reward_cap), ())


# --------------------------------------------------------------------------- standard mix

#: Shares of the standard mix, in percent: single transfers, batches, reward splits.
MIX_SHARES = (("transfer", 90), ("batch", 8), ("split", 2))
BATCH_SIZES = (4, 8, 16)
SPLIT_SIZES = (8, 16, 24)


def generate_standard_mix(count: int, seed: int = 0, *, accounts: int = 64) -> list[Proof]:
    """Return ``count`` judge proofs of the standard mix, deterministically from ``seed``.

    Spec: R5.1 (the benchmark and the simulator verify real judge proofs). About 90% single
    transfers, 8% batches of 4, 8 or 16 transfers, 2% reward splits over 8, 16 or 24
    validators, drawn from a
    seeded RNG over ``accounts`` funded accounts whose balances and nonces evolve as the
    transfers are applied, so every proof is valid.
    """
    rng = random.Random(seed)
    judge = Judge(KeyPair.generate(rng))
    keys = [KeyPair.generate(rng) for _ in range(accounts)]
    state = {key.public_key: Account(rng.randrange(10_000, 10_000_000), 0) for key in keys}
    kinds = [kind for kind, share in MIX_SHARES for _ in range(share)]

    def next_transfer() -> Transfer:
        sender, receiver = rng.sample(keys, 2)
        account = state[sender.public_key]
        amount = rng.randrange(1, max(2, account.balance // 10))
        tx = sign_transfer(sender, receiver=receiver.public_key, amount=amount, nonce=account.nonce)
        return tx

    def apply(tx: Transfer) -> None:
        sender = state[tx.sender]
        state[tx.sender] = Account(sender.balance - tx.amount, sender.nonce + 1)
        receiver = state[tx.receiver]
        state[tx.receiver] = Account(receiver.balance + tx.amount, receiver.nonce)

    proofs: list[Proof] = []
    while len(proofs) < count:
        kind = rng.choice(kinds)
        if kind == "transfer":
            tx = next_transfer()
            account = state[tx.sender]
            proofs.append(judge.prove_transfer(tx, account.balance, account.nonce))
            apply(tx)
        elif kind == "batch":
            snapshot = dict(state)
            batch = []
            for _ in range(rng.choice(BATCH_SIZES)):
                tx = next_transfer()
                batch.append(tx)
                apply(tx)
            proofs.append(judge.prove_batch(batch, snapshot))
        else:
            stakes = [rng.randrange(1, 10**6) for _ in range(rng.choice(SPLIT_SIZES))]
            proofs.append(judge.prove_reward_split(stakes, rng.randrange(10**6, MAX_REWARD_CAP)))
    return proofs
