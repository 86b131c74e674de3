"""The shape of a transfer's proof obligation: the one place that writes and reads it.

Spec: R1.1 (a block's proof i is the transfer obligation template for transaction i), R5.1 (the
judge states it), spec/consensus.md (a valid block, rule 4). The judge writes the text with
:func:`get_transfer_obligation`; the mempool and block validation recognise it with
:func:`is_obligation_for`. Nothing outside this module knows the text's form.

With the sender's available balance B, the amount A and nonce N of the transfer and the
expected nonce E, and ANY receiver balance R >= 0, the obligation asserts the negation of: the
transfer conserves B + R, leaves the sender non-negative, moves a positive amount, and is next
in nonce order (N = E). So it holds iff its assertions are unsatisfiable.
"""

from __future__ import annotations

import re

from aethel.proofs.model import Transfer


def get_transfer_obligation(tx: Transfer, balance: int, expected_nonce: int) -> str:
    """Return the SMT-LIB2 obligation of one transfer (holds iff unsat; see module docstring).

    The text states the balance as ``(assert (= balance B))``, which :func:`get_stated_balance`
    reads back. It is kept short because parsing is a large part of a transfer proof's cost.
    """
    return (
        "(declare-const balance Int)(declare-const amount Int)(declare-const receiver Int)"
        f"(assert (= balance {balance}))(assert (= amount {tx.amount}))(assert (>= receiver 0))"
        "(assert (not (and (= (+ (- balance amount) (+ receiver amount)) (+ balance receiver))"
        f" (>= (- balance amount) 0) (> amount 0) (= {tx.nonce} {expected_nonce}))))"
    )


_STATED_BALANCE = re.compile(r"\(assert \(= balance (\d+)\)\)")


def get_stated_balance(smt: str) -> int | None:
    """Return the sender balance B a transfer obligation states, or None if it states none."""
    match = _STATED_BALANCE.search(smt)
    return None if match is None else int(match.group(1))


def is_obligation_for(smt: str, tx: Transfer, balance: int, nonce: int) -> bool:
    """Return True if ``smt`` is the judge's obligation of ``tx`` on this state (R1.1).

    The obligation states the sender's balance; it may state less than ``balance`` (a mempool
    proves against the balance left after the sender's other pending transfers, while transfers
    received earlier in the block add to it): a transfer safe with less is safe with more. The
    nonce must be exactly the sender's next one.
    """
    stated = get_stated_balance(smt)
    return (
        stated is not None
        and stated <= balance
        and smt == get_transfer_obligation(tx, stated, nonce)
    )
