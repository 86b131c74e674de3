"""R7.1 in one place: may a transfer spend from its sender's account, and what a run leaves.

Owns: R7.1 (a nonce spent twice or out of order, or more spent than the balance holds, is a
double spend wherever a transfer is judged, admitted, validated or booked).

Spec: R7.1 (spec/security.md), rule 4 of a valid block (spec/consensus.md), the ``transfer``
operation (spec/economics.md, "State operations").

Four users apply the rule, and all four call :func:`find_double_spend`:

* the judge (:mod:`aethel.proofs.judge`) before it proves a transfer or a batch;
* the mempool (:mod:`aethel.proofs.mempool`): a new transfer against its sender's committed
  account with the sender's pending transfers booked on it by :class:`RunningAccounts` (what the
  pool then drops with a refused transfer is the pool's own rule), and the balance each pending
  transfer's proof may state when a commit changes the account;
* block validation (:mod:`aethel.consensus.ledger`): each transaction against the pre-state as
  updated by the block's earlier transactions, kept by :class:`RunningAccounts` (a staged copy:
  the pre-state is read, never written);
* the state transition (:mod:`aethel.state.transitions`), the ``transfer`` operation.

They differ only in how accounts are named (public keys, their hex, state names) and in the rule
a lone overdraft is named by: a state operation that takes more than a balance holds is R3.6
(:attr:`DoubleSpend.operation_rule`), a transaction the judge or a block cannot cover is R7.1.
The order of the checks is fixed here: a nonce already spent in the run, then the nonce order,
then the balance.

This module sits in the lowest layer (it imports nothing of the reference), so the proofs, state
and consensus packages can all use it without importing one another.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar


class Spend(StrEnum):
    """What makes a transfer a double spend (R7.1) or an overdraft."""

    #: The sender already spent this nonce earlier in the same run (same sender and nonce).
    REPEATED_NONCE = "repeated-nonce"
    #: The nonce is not the sender's next one.
    NONCE_OUT_OF_ORDER = "nonce-out-of-order"
    #: The sender's earlier transfers of the run leave too little for this one.
    JOINT_OVERDRAFT = "joint-overdraft"
    #: The amount is more than the sender's balance, with nothing spent earlier in the run.
    OVERDRAFT = "overdraft"


@dataclass(frozen=True, slots=True)
class DoubleSpend:
    """Why a transfer cannot be applied to its sender's account (the finding of R7.1)."""

    kind: Spend
    sender: str
    amount: int
    nonce: int
    balance: int
    expected_nonce: int
    #: What the sender's earlier transfers of the run spent.
    spent: int

    @property
    def operation_rule(self) -> str:
        """Return the rule a state operation names: R3.6 for a lone overdraft, else R7.1."""
        return "R3.6" if self.kind is Spend.OVERDRAFT else "R7.1"

    @property
    def detail(self) -> str:
        """Return the refusal's message."""
        if self.kind is Spend.REPEATED_NONCE:
            return f"two transfers from {self.sender} with nonce {self.nonce}"
        if self.kind is Spend.NONCE_OUT_OF_ORDER:
            return (
                f"transfer from {self.sender} has nonce {self.nonce}, "
                f"expected {self.expected_nonce}"
            )
        if self.kind is Spend.JOINT_OVERDRAFT:
            return (
                f"transfers from {self.sender} together overdraw: {self.spent} spent earlier "
                f"in this transition, {self.amount} more but only {self.balance} left"
            )
        return f"{self.sender} sends {self.amount} but holds {self.balance}"


def find_double_spend(
    *,
    sender: str,
    amount: int,
    nonce: int,
    balance: int,
    expected_nonce: int,
    first_nonce: int | None = None,
    spent: int = 0,
) -> DoubleSpend | None:
    """Return why a transfer of ``amount`` with ``nonce`` cannot spend from its sender, or None.

    ``balance`` and ``expected_nonce`` are the sender's account as the run's earlier transfers
    left it; ``first_nonce`` its nonce before the run (the run spent the nonces from it up to
    ``expected_nonce``) and ``spent`` what the run's earlier transfers of the sender took.
    ``sender`` only names the account in the message. Spec: R7.1.
    """
    first = expected_nonce if first_nonce is None else first_nonce
    kind: Spend | None = None
    if first <= nonce < expected_nonce:
        kind = Spend.REPEATED_NONCE
    elif nonce != expected_nonce:
        kind = Spend.NONCE_OUT_OF_ORDER
    elif amount > balance:
        kind = Spend.JOINT_OVERDRAFT if spent else Spend.OVERDRAFT
    if kind is None:
        return None
    return DoubleSpend(kind, sender, amount, nonce, balance, expected_nonce, spent)


Account = TypeVar("Account", bound=Hashable)


class RunningAccounts(Generic[Account]):
    """The balances and nonces a run of transfers leaves on top of a pre-state (R7.1).

    The pre-state is read through ``balance`` and ``nonce`` and never written: this is the staged
    copy block validation, the judge's batches and the mempool check transfers against, one at a
    time.
    """

    def __init__(
        self,
        balance: Callable[[Account], int],
        nonce: Callable[[Account], int],
        name: Callable[[Account], str] = str,
    ) -> None:
        self._read_balance = balance
        self._read_nonce = nonce
        self._name = name
        self._balances: dict[Account, int] = {}
        self._nonces: dict[Account, int] = {}
        self._first_nonces: dict[Account, int] = {}
        self._spent: dict[Account, int] = {}

    def balance(self, account: Account) -> int:
        """Return ``account``'s balance after the run so far."""
        if account not in self._balances:
            self._balances[account] = self._read_balance(account)
        return self._balances[account]

    def nonce(self, account: Account) -> int:
        """Return ``account``'s next nonce after the run so far."""
        if account not in self._nonces:
            self._nonces[account] = self._first_nonces[account] = self._read_nonce(account)
        return self._nonces[account]

    def check(self, sender: Account, amount: int, nonce: int) -> DoubleSpend | None:
        """Return why the next transfer of the run cannot spend from ``sender``, or None."""
        expected = self.nonce(sender)
        return find_double_spend(
            sender=self._name(sender),
            amount=amount,
            nonce=nonce,
            balance=self.balance(sender),
            expected_nonce=expected,
            first_nonce=self._first_nonces[sender],
            spent=self._spent.get(sender, 0),
        )

    def apply(self, sender: Account, receiver: Account, amount: int) -> None:
        """Book a transfer: debit ``sender``, credit ``receiver``, advance the sender's nonce.

        Checked or not: block validation keeps booking after a refused transaction, so the
        later ones are read against what the block's transactions would leave.
        """
        self._balances[sender] = self.balance(sender) - amount
        self._balances[receiver] = self.balance(receiver) + amount
        self._nonces[sender] = self.nonce(sender) + 1
        self._spent[sender] = self._spent.get(sender, 0) + amount
