"""State transitions: genesis, transfers, rewards, stakes, slashing, checked before any write.

Spec: R3.6 (conservation), R4.2 (slashing burns and is recorded), R4.7 (supply books and the
emission bound), R7.1 (no double spend). Keys and books: :mod:`aethel.state.layout`.

A :class:`Transition` is the ordered list of operations of one height. Operations apply in
order, each to the state the previous ones left. :func:`compute_transition` is pure: it reads
the pre-state through a function, validates every operation and the books, and returns the
writes; it raises :class:`TransitionError` (naming the rule) before anything is written, so a
rejected transition changes nothing. Signatures, proofs and which operations a block implies
are the consensus layer's business; this layer keeps the books.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from aethel.economics import Offence, compute_emission_limit, compute_slash_amount
from aethel.encoding import INT_MAX, canonical_json
from aethel.errors import EncodingError, UsageError
from aethel.merkle.batch import DELETE
from aethel.spending import find_double_spend
from aethel.state.errors import TransitionError
from aethel.state.layout import (
    BALANCE,
    STAKE,
    SUPPLY_BURNED,
    SUPPLY_GENESIS,
    SUPPLY_KEYS,
    SUPPLY_MINTED,
    balance_key,
    check_name,
    meta_key,
    nonce_key,
    slashed_key,
    stake_key,
)


@dataclass(frozen=True, slots=True)
class TransferOperation:
    """Move ``amount`` from ``sender`` to ``receiver``; ``nonce`` is the sender's next nonce.

    The ``transfer`` operation of a state transition (spec/economics.md, the ``op`` table):
    a booking between state account names. A *transfer* is the signed transaction a client
    submits, :class:`aethel.proofs.model.Transfer` (public keys, a signature, an id), with the
    same member names; block execution books it as this operation with the keys' hex as the
    names. The other operations are named by their ``op`` alone; this one is not, so that the
    noun has one owner.
    """

    sender: str
    receiver: str
    amount: int
    nonce: int


@dataclass(frozen=True, slots=True)
class Reward:
    """Mint ``amount`` into ``account``'s balance (a verification reward share, R1.2, R4.1)."""

    account: str
    amount: int


@dataclass(frozen=True, slots=True)
class Bond:
    """Move ``amount`` from ``account``'s balance to ``validator``'s stake."""

    account: str
    validator: str
    amount: int


@dataclass(frozen=True, slots=True)
class Unbond:
    """Move ``amount`` from ``validator``'s stake back to ``account``'s balance."""

    validator: str
    account: str
    amount: int


@dataclass(frozen=True, slots=True)
class Slash:
    """Burn floor(stake * rate of ``offence``) of ``validator``'s stake and record it (R4.2)."""

    validator: str
    offence: Offence


@dataclass(frozen=True, slots=True)
class SetMeta:
    """Set ``meta:<name>`` to a JSON value (None deletes it); no effect on the books."""

    name: str
    value: Any


Operation: TypeAlias = TransferOperation | Reward | Bond | Unbond | Slash | SetMeta


@dataclass(frozen=True, slots=True)
class Transition:
    """The operations of one committed height, applied in order."""

    height: int
    operations: tuple[Operation, ...]


@dataclass(frozen=True, slots=True)
class Genesis:
    """The initial state: balances, validators' stakes and optional metadata."""

    balances: Mapping[str, int]
    stakes: Mapping[str, int]
    meta: Mapping[str, Any] = field(default_factory=dict)
    height: int = 0


@dataclass(frozen=True, slots=True)
class TransitionOutcome:
    """What a validated transition writes and how it moved the books."""

    height: int
    #: key -> new value, or :data:`aethel.merkle.batch.DELETE`.
    writes: Mapping[str, Any]
    minted: int
    burned: int
    minted_total: int
    burned_total: int
    genesis_supply: int
    #: Stake burned per slashed validator in this transition (R4.2).
    slashed: Mapping[str, int]

    @property
    def total_supply(self) -> int:
        """Return genesis + minted - burned after the transition (R4.7)."""
        return self.genesis_supply + self.minted_total - self.burned_total


def _require_amount(value: object, what: str, minimum: int = 1) -> int:
    if type(value) is not int or not minimum <= value <= INT_MAX:
        raise TransitionError(
            "R3.6", f"{what} must be an int in [{minimum}, 2**63-1], got {value!r}"
        )
    return value


class _Books:
    """The working copy of the state a transition reads and writes."""

    def __init__(self, read: Callable[[str], Any]) -> None:
        self._read = read
        self.before: dict[str, Any] = {}
        self.after: dict[str, Any] = {}

    def amount(self, key: str) -> int:
        if key in self.after:
            return int(self.after[key])
        value = self._read(key)
        if value is None:
            value = 0
        if type(value) is not int or value < 0:
            raise TransitionError("R3.6", f"stored {key} is {value!r}, not a natural number")
        self.before[key] = value
        return value

    def set_amount(self, key: str, value: int) -> None:
        if value > INT_MAX:
            raise TransitionError("E2", f"{key} would reach {value}, beyond 2**63-1")
        if value < 0:
            raise TransitionError("R3.6", f"{key} would go negative ({value})")
        self.amount(key)  # remember the value before
        self.after[key] = value


@dataclass(slots=True)
class _Run:
    """What the operations of one transition did so far, besides the balances and stakes."""

    #: What each sender's transfers of the transition spent (R7.1: transfers that together
    #: overdraw).
    spent: dict[str, int] = field(default_factory=dict)
    minted: int = 0
    burned: int = 0
    #: Stake burned per slashed validator (R4.2).
    slashed: dict[str, int] = field(default_factory=dict)
    #: ``meta:`` key -> value or DELETE.
    meta: dict[str, Any] = field(default_factory=dict)
    transfers: int = 0


def _apply_transfer(books: _Books, operation: TransferOperation, run: _Run) -> None:
    """Move an amount between balances; the sender's nonce advances (R3.6, R7.1)."""
    sender = check_name(operation.sender, "sender")
    receiver = check_name(operation.receiver, "receiver")
    amount = _require_amount(operation.amount, "transfer amount")
    nonce = _require_amount(operation.nonce, "nonce", 0)
    expected = books.amount(nonce_key(sender))
    balance = books.amount(balance_key(sender))
    found = find_double_spend(
        sender=sender,
        amount=amount,
        nonce=nonce,
        balance=balance,
        expected_nonce=expected,
        first_nonce=books.before[nonce_key(sender)],
        spent=run.spent.get(sender, 0),
    )
    if found is not None:
        raise TransitionError(found.operation_rule, found.detail)
    run.spent[sender] = run.spent.get(sender, 0) + amount
    books.set_amount(balance_key(sender), balance - amount)
    books.set_amount(balance_key(receiver), books.amount(balance_key(receiver)) + amount)
    books.set_amount(nonce_key(sender), nonce + 1)
    run.transfers += 1


def _apply_reward(books: _Books, operation: Reward, run: _Run) -> None:
    """Mint into a balance (R1.2, R4.1)."""
    account = check_name(operation.account, "rewarded account")
    amount = _require_amount(operation.amount, "reward")
    books.set_amount(balance_key(account), books.amount(balance_key(account)) + amount)
    run.minted += amount


def _apply_bond(books: _Books, operation: Bond, run: _Run) -> None:
    """Move an amount from a balance to a stake (R3.6)."""
    account = check_name(operation.account, "bonding account")
    validator = check_name(operation.validator, "validator")
    amount = _require_amount(operation.amount, "bond amount")
    balance = books.amount(balance_key(account))
    if balance < amount:
        raise TransitionError("R3.6", f"{account} bonds {amount} but holds {balance}")
    books.set_amount(balance_key(account), balance - amount)
    books.set_amount(stake_key(validator), books.amount(stake_key(validator)) + amount)


def _apply_unbond(books: _Books, operation: Unbond, run: _Run) -> None:
    """Move an amount from a stake back to a balance (R3.6)."""
    validator = check_name(operation.validator, "validator")
    account = check_name(operation.account, "account")
    amount = _require_amount(operation.amount, "unbond amount")
    stake = books.amount(stake_key(validator))
    if stake < amount:
        raise TransitionError("R3.6", f"{validator} unbonds {amount} but has {stake} staked")
    books.set_amount(stake_key(validator), stake - amount)
    books.set_amount(balance_key(account), books.amount(balance_key(account)) + amount)


def _apply_slash(books: _Books, operation: Slash, run: _Run) -> None:
    """Burn the offence's share of a stake and record it (R4.2)."""
    validator = check_name(operation.validator, "slashed validator", "R4.2")
    try:
        offence = Offence(operation.offence)
    except ValueError:
        raise TransitionError("R4.2", f"unknown offence {operation.offence!r}") from None
    stake = books.amount(stake_key(validator))
    amount = compute_slash_amount(stake, offence)
    if amount:
        books.set_amount(stake_key(validator), stake - amount)
        books.set_amount(slashed_key(validator), books.amount(slashed_key(validator)) + amount)
        run.burned += amount
        run.slashed[validator] = run.slashed.get(validator, 0) + amount


def _apply_set_meta(books: _Books, operation: SetMeta, run: _Run) -> None:
    """Set or delete a ``meta:`` key; no effect on the books."""
    name = check_name(operation.name, "meta name")
    if operation.value is not None:
        try:
            canonical_json(operation.value)
        except EncodingError as exc:
            raise TransitionError(exc.rule_id, f"meta {name}: {exc.detail}") from None
    run.meta[meta_key(name)] = DELETE if operation.value is None else operation.value


#: One function per operation type (spec/economics.md, "State operations").
_APPLY: dict[type, Callable[[_Books, Any, _Run], None]] = {
    TransferOperation: _apply_transfer,
    Reward: _apply_reward,
    Bond: _apply_bond,
    Unbond: _apply_unbond,
    Slash: _apply_slash,
    SetMeta: _apply_set_meta,
}


def _apply(books: _Books, operation: Operation, run: _Run) -> None:
    """Apply one operation to ``books`` through the function of its type."""
    for cls in type(operation).__mro__:
        apply = _APPLY.get(cls)
        if apply is not None:
            apply(books, operation, run)
            return
    raise UsageError(f"unknown state operation {operation!r}")


def _circulating_delta(books: _Books) -> int:
    """Return the change of sum(balances) + sum(stakes) over every key the books touched."""
    delta = 0
    for key, value in books.after.items():
        if key.startswith((BALANCE, STAKE)):
            delta += value - books.before[key]
    return delta


def compute_transition(read: Callable[[str], Any], transition: Transition) -> TransitionOutcome:
    """Validate ``transition`` against the state ``read`` returns values of; return the writes.

    ``read(key)`` returns a key's value or None. Raises :class:`TransitionError` naming the
    rule: R7.1 (a sender's nonce reused or out of order, or its transfers together overdrawing),
    R3.6 (an overdraft, a non-positive amount, books that do not balance), R4.7 (minted beyond
    the emission schedule E(h)), R4.2 (a bad slashing), E2 (an amount beyond 2**63-1).
    """
    if not isinstance(transition, Transition) or type(transition.height) is not int:
        raise UsageError("compute_transition expects a Transition with an int height")
    if transition.height < 1:
        raise UsageError("transitions start at height 1 (height 0 is the genesis)")
    books = _Books(read)
    supply = {key: read(key) for key in SUPPLY_KEYS}
    if any(type(value) is not int for value in supply.values()):
        raise UsageError("the state has no supply books: commit a genesis first")
    run = _Run()
    for operation in transition.operations:
        _apply(books, operation, run)
    minted_total = supply[SUPPLY_MINTED] + run.minted
    burned_total = supply[SUPPLY_BURNED] + run.burned
    delta = _circulating_delta(books)
    if delta != run.minted - run.burned:
        raise TransitionError(
            "R3.6",
            f"balances and stakes moved by {delta}, but minted - burned is "
            f"{run.minted - run.burned}",
        )
    limit = compute_emission_limit(transition.height)
    if minted_total > limit:
        raise TransitionError(
            "R4.7",
            f"minted would reach {minted_total} at height {transition.height}; E(h) = {limit}",
        )
    if minted_total > INT_MAX or burned_total > INT_MAX:
        raise TransitionError("E2", "a supply book would pass 2**63-1")
    writes: dict[str, Any] = {
        key: (value if value else DELETE) for key, value in books.after.items()
    }
    writes.update(run.meta)
    if run.minted:
        writes[SUPPLY_MINTED] = minted_total
    if run.burned:
        writes[SUPPLY_BURNED] = burned_total
    return TransitionOutcome(
        height=transition.height,
        writes=writes,
        minted=run.minted,
        burned=run.burned,
        minted_total=minted_total,
        burned_total=burned_total,
        genesis_supply=supply[SUPPLY_GENESIS],
        slashed=dict(run.slashed),
    )


def compute_genesis(genesis: Genesis) -> TransitionOutcome:
    """Validate ``genesis`` and return the writes of the initial state (R4.7 books start here)."""
    if not isinstance(genesis, Genesis) or type(genesis.height) is not int or genesis.height < 0:
        raise UsageError("compute_genesis expects a Genesis with a non-negative int height")
    writes: dict[str, Any] = {}
    total = 0
    for account, amount in sorted(genesis.balances.items()):
        check_name(account, "account")
        if _require_amount(amount, f"genesis balance of {account}", 0):
            writes[balance_key(account)] = amount
            total += amount
    for validator, amount in sorted(genesis.stakes.items()):
        check_name(validator, "validator")
        if _require_amount(amount, f"genesis stake of {validator}", 0):
            writes[stake_key(validator)] = amount
            total += amount
    for name, value in sorted(genesis.meta.items()):
        check_name(name, "meta name")
        if value is not None:
            try:
                canonical_json(value)
            except EncodingError as exc:
                raise TransitionError(exc.rule_id, f"meta {name}: {exc.detail}") from None
            writes[meta_key(name)] = value
    if total > INT_MAX:
        raise TransitionError("E2", f"genesis supply {total} exceeds 2**63-1")
    writes[SUPPLY_GENESIS] = total
    writes[SUPPLY_MINTED] = 0
    writes[SUPPLY_BURNED] = 0
    return TransitionOutcome(
        height=genesis.height,
        writes=writes,
        minted=0,
        burned=0,
        minted_total=0,
        burned_total=0,
        genesis_supply=total,
        slashed={},
    )
