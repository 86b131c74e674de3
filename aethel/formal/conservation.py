"""I5: a valid transfer preserves the total balance and leaves no balance negative.

Balances are an array from account to integer, so the account set is unbounded:

* every account changes by exactly its part of the transfer (-amount for the sender, +amount for
  the recipient, both for a self-transfer), for any number of accounts;
* no balance goes negative, for any number of accounts;
* the total over N accounts is unchanged (bounded: N = ACCOUNTS, sender and recipient anywhere).
  The first lemma already gives it for any finite account set holding sender and recipient:
  the changes sum to -amount + amount = 0.

A transfer is valid when 1 <= amount <= the sender's balance (R7.1: no overdraft). The twins
read both balances before writing (so a self-transfer mints money), skip the balance check, and
accept a negative amount.

Spec: I5 (R3.6, R5.2, R7.1).
"""

from __future__ import annotations

from collections.abc import Callable

import z3

from aethel.formal.solver import Formula, Obligation, Twin

#: Accounts in the bounded total-balance check.
ACCOUNTS = 8

Transfer = Callable[[z3.ArrayRef, z3.ArithRef, z3.ArithRef, z3.ArithRef], z3.ArrayRef]
Validity = Callable[[z3.ArrayRef, z3.ArithRef, z3.ArithRef, z3.ArithRef], z3.BoolRef]


def apply_transfer(
    balances: z3.ArrayRef, sender: z3.ArithRef, recipient: z3.ArithRef, amount: z3.ArithRef
) -> z3.ArrayRef:
    """Debit the sender, then credit the recipient reading the debited state."""
    debited = z3.Store(balances, sender, balances[sender] - amount)
    return z3.Store(debited, recipient, debited[recipient] + amount)


def is_valid_transfer(
    balances: z3.ArrayRef, sender: z3.ArithRef, recipient: z3.ArithRef, amount: z3.ArithRef
) -> z3.BoolRef:
    """Return the validity condition: a positive amount the sender can cover."""
    return z3.And(amount >= 1, amount <= balances[sender])


def apply_transfer_stale_read(
    balances: z3.ArrayRef, sender: z3.ArithRef, recipient: z3.ArithRef, amount: z3.ArithRef
) -> z3.ArrayRef:
    """Twin: both new balances computed from the old state, so a self-transfer mints."""
    debited = z3.Store(balances, sender, balances[sender] - amount)
    return z3.Store(debited, recipient, balances[recipient] + amount)


def _accounts() -> tuple[z3.ArrayRef, z3.ArithRef, z3.ArithRef, z3.ArithRef]:
    balances = z3.Array("balance", z3.IntSort(), z3.IntSort())
    sender, recipient, amount = z3.Ints("sender recipient amount")
    return balances, sender, recipient, amount


def _variables(
    balances: z3.ArrayRef,
    after: z3.ArrayRef,
    sender: z3.ArithRef,
    recipient: z3.ArithRef,
    amount: z3.ArithRef,
) -> dict[str, z3.ExprRef]:
    return {
        "sender": sender,
        "recipient": recipient,
        "amount": amount,
        "sender balance before": balances[sender],
        "recipient balance before": balances[recipient],
        "sender balance after": after[sender],
        "recipient balance after": after[recipient],
    }


def _small(
    balances: z3.ArrayRef, sender: z3.ArithRef, recipient: z3.ArithRef, amount: z3.ArithRef
) -> tuple[z3.ArithRef, ...]:
    """Terms to minimise so a counterexample shows small balances and amounts."""
    return tuple(
        z3.If(term >= 0, term, -term) for term in (balances[sender], balances[recipient], amount)
    )


def _frame(transfer: Transfer, valid: Validity) -> Formula:
    balances, sender, recipient, amount = _accounts()
    account = z3.Int("account")
    after = transfer(balances, sender, recipient, amount)
    change = z3.If(account == recipient, amount, 0) - z3.If(account == sender, amount, 0)
    premise = valid(balances, sender, recipient, amount)
    goal = after[account] == balances[account] + change
    variables = _variables(balances, after, sender, recipient, amount)
    return Formula(premise, goal, variables, minimize=_small(balances, sender, recipient, amount))


def _no_negative(transfer: Transfer, valid: Validity) -> Formula:
    balances, sender, recipient, amount = _accounts()
    account = z3.Int("account")
    after = transfer(balances, sender, recipient, amount)
    premise = z3.And(
        balances[account] >= 0,
        balances[sender] >= 0,
        balances[recipient] >= 0,
        valid(balances, sender, recipient, amount),
    )
    goal = after[account] >= 0
    variables = _variables(balances, after, sender, recipient, amount)
    variables["account"] = account
    variables["its balance after"] = after[account]
    return Formula(premise, goal, variables, minimize=_small(balances, sender, recipient, amount))


def _total(transfer: Transfer, valid: Validity) -> Formula:
    balances, sender, recipient, amount = _accounts()
    after = transfer(balances, sender, recipient, amount)
    premise = z3.And(
        sender >= 0,
        sender < ACCOUNTS,
        recipient >= 0,
        recipient < ACCOUNTS,
        *[balances[k] >= 0 for k in range(ACCOUNTS)],
        valid(balances, sender, recipient, amount),
    )
    goal = z3.Sum([after[k] for k in range(ACCOUNTS)]) == z3.Sum(
        [balances[k] for k in range(ACCOUNTS)]
    )
    variables = _variables(balances, after, sender, recipient, amount)
    variables["total before"] = z3.Sum([balances[k] for k in range(ACCOUNTS)])
    variables["total after"] = z3.Sum([after[k] for k in range(ACCOUNTS)])
    total = z3.Sum([balances[k] for k in range(ACCOUNTS)])
    return Formula(premise, goal, variables, minimize=(total, amount))


def build_frame() -> Formula:
    """Every account changes by exactly its part of the transfer (any number of accounts)."""
    return _frame(apply_transfer, is_valid_transfer)


def build_no_negative() -> Formula:
    """No balance is negative after a valid transfer (any number of accounts)."""
    return _no_negative(apply_transfer, is_valid_transfer)


def build_total() -> Formula:
    """The total over ACCOUNTS accounts is unchanged by a valid transfer."""
    return _total(apply_transfer, is_valid_transfer)


def build_total_stale_read() -> Formula:
    """Twin: both balances read before writing."""
    return _total(apply_transfer_stale_read, is_valid_transfer)


def build_no_negative_without_balance_check() -> Formula:
    """Twin: the sender's balance is not checked."""
    return _no_negative(apply_transfer, lambda b, s, r, amount: amount >= 1)


def build_no_negative_with_negative_amount() -> Formula:
    """Twin: a negative amount is accepted (the sender pulls from the recipient)."""
    return _no_negative(apply_transfer, lambda b, s, r, amount: amount <= b[s])


ACCOUNTS_BOUND = f"{ACCOUNTS} accounts"
I5_OBLIGATIONS = (
    Obligation("every account changes by its part of the transfer, any number", build_frame),
    Obligation("no negative balance, any number of accounts", build_no_negative),
    Obligation("total balance unchanged", build_total, ACCOUNTS_BOUND),
)
I5_TWINS = (
    Twin(
        "stale read",
        "both balances read before writing: a self-transfer mints",
        build_total_stale_read,
        ACCOUNTS_BOUND,
    ),
    Twin("no balance check", "overdraft accepted", build_no_negative_without_balance_check),
    Twin("negative amount", "amount >= 1 unchecked", build_no_negative_with_negative_amount),
)
