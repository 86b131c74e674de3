"""The state layout: which keys the state tree holds and what their values mean.

Spec: R3.6, R4.2, R4.7. Every value is a JSON integer unless said otherwise; amounts are base
units (see :mod:`aethel.economics`). An absent key reads as 0 (or null for ``meta:``), and a
key whose amount drops to 0 is deleted, so equal books give equal roots.

=========================  ===============================================================
key                        value
=========================  ===============================================================
``balance:<account>``      spendable tokens of an account
``nonce:<account>``        number of transfers the account has sent (the next nonce to use)
``stake:<validator>``      tokens bonded by a validator (its voting power, R4.3, R7.2)
``slashed:<validator>``    cumulative stake burned from the validator by slashing (R4.2)
``supply:genesis``         tokens that existed at genesis
``supply:minted``          tokens minted since genesis (rewards, R1.2)
``supply:burned``          tokens burned since genesis (slashing, R4.2)
``meta:<name>``            any JSON value the consensus layer keeps in the state (e.g. a
                           reward awaiting the next certificate); no effect on the books
=========================  ===============================================================

The books (R3.6, R4.7) hold at every height:

* total supply = sum of ``balance:*`` + sum of ``stake:*``
  = ``supply:genesis`` + ``supply:minted`` - ``supply:burned``;
* ``supply:minted`` at height h <= E(h) (:func:`aethel.economics.compute_emission_limit`);
* no balance, nonce or stake is negative.

Account and validator names are any valid state key text (non-empty NFC strings); the
reference uses validator ids and lowercase-hex public keys.
"""

from __future__ import annotations

from typing import Final

from aethel.state.errors import TransitionError

BALANCE: Final = "balance:"
NONCE: Final = "nonce:"
STAKE: Final = "stake:"
SLASHED: Final = "slashed:"
META: Final = "meta:"
SUPPLY_GENESIS: Final = "supply:genesis"
SUPPLY_MINTED: Final = "supply:minted"
SUPPLY_BURNED: Final = "supply:burned"
SUPPLY_KEYS: Final = (SUPPLY_GENESIS, SUPPLY_MINTED, SUPPLY_BURNED)
#: Longest account, validator or meta name (well within the tree's longest key).
MAX_NAME_BYTES: Final = 256


def check_name(name: object, what: str, rule_id: str = "R3.6") -> str:
    """Return ``name`` if it is a valid account, validator or meta name; raise otherwise."""
    if type(name) is not str or not name:
        raise TransitionError(rule_id, f"{what} must be a non-empty string, got {name!r}")
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise TransitionError(rule_id, f"{what} {name[:40]!r}... exceeds {MAX_NAME_BYTES} bytes")
    return name


def balance_key(account: str) -> str:
    """Return the key of ``account``'s balance."""
    return BALANCE + account


def nonce_key(account: str) -> str:
    """Return the key of ``account``'s next nonce."""
    return NONCE + account


def stake_key(validator: str) -> str:
    """Return the key of ``validator``'s stake."""
    return STAKE + validator


def slashed_key(validator: str) -> str:
    """Return the key of the stake burned from ``validator`` so far."""
    return SLASHED + validator


def meta_key(name: str) -> str:
    """Return the key of consensus metadata ``name``."""
    return META + name
