"""Transfer parsers that let a form through the data model forbids (spec/economics.md, the
transfer: "two different account keys, amount at least 1 base unit"), each a check an outsider
leaves out or writes with the wrong bound:

* ``self-transfer-accepted``: a transfer whose receiver is its sender is read as any other;
* ``amount-zero-accepted``: the amount is checked ``>= 0`` instead of ``>= 1``.

Caught by conformance/suite/test_mempool.py::test_a_transfer_of_another_form_is_refused_naming_
its_rule (the mempool answers or names another rule than E12 / E2).
"""

from __future__ import annotations

import hashlib
from typing import Any
from unittest import mock

from aethel.encoding import PUBLIC_KEY_SIZE, SIGNATURE_SIZE, canonical_json
from aethel.proofs.errors import MalformedObjectError
from aethel.proofs.model import Transfer, _require_bytes, _require_int
from conformance.adapters.api import JSON, Hex
from conformance.adapters.reference import ReferenceImplementation
from conformance.adapters.reference_errors import rejecting
from conformance.adapters.reference_proofs import ReferenceMempool, ReferenceMempoolObject
from conformance.mutants import Mutant


def _relaxed_post_init(*, same_accounts: bool, least_amount: int) -> Any:
    def post_init(self: Transfer) -> None:
        _require_bytes("sender", self.sender, PUBLIC_KEY_SIZE)
        _require_bytes("receiver", self.receiver, PUBLIC_KEY_SIZE)
        if self.sender == self.receiver and not same_accounts:
            raise MalformedObjectError("E12", "a transfer needs a receiver other than its sender")
        _require_int("amount", self.amount, least_amount)
        _require_int("nonce", self.nonce, 0)
        _require_bytes("signature", self.signature, SIGNATURE_SIZE)
        body = canonical_json(self.body_json())
        object.__setattr__(self, "_body", body)
        object.__setattr__(self, "transaction_id", hashlib.sha256(body).digest())

    return post_init


class _RelaxedPoolObject(ReferenceMempoolObject):
    relaxed: Any = None

    @rejecting
    def add_transaction(self, transaction: JSON, balance: int, nonce: int) -> JSON:
        with mock.patch.object(Transfer, "__post_init__", self.relaxed):
            return super().add_transaction(transaction, balance, nonce)


class _SelfTransferPoolObject(_RelaxedPoolObject):
    relaxed = staticmethod(_relaxed_post_init(same_accounts=True, least_amount=1))


class _ZeroAmountPoolObject(_RelaxedPoolObject):
    relaxed = staticmethod(_relaxed_post_init(same_accounts=False, least_amount=0))


class _SelfTransferPool(ReferenceMempool):
    @rejecting
    def new(self, capacity: int | None, judge_seed: Hex) -> ReferenceMempoolObject:
        return _SelfTransferPoolObject(capacity, judge_seed)


class _ZeroAmountPool(ReferenceMempool):
    @rejecting
    def new(self, capacity: int | None, judge_seed: Hex) -> ReferenceMempoolObject:
        return _ZeroAmountPoolObject(capacity, judge_seed)


class SelfTransferAccepted(ReferenceImplementation):
    name = "mutant-self-transfer-accepted"

    def make_mempool(self) -> object:
        return _SelfTransferPool()


class AmountZeroAccepted(ReferenceImplementation):
    name = "mutant-amount-zero-accepted"

    def make_mempool(self) -> object:
        return _ZeroAmountPool()


MUTANTS = [
    Mutant(
        name="self-transfer-accepted",
        defect="a transfer whose receiver is its sender is read as any other transfer instead "
        "of being refused naming E12",
        breaks=("E12",),
        capabilities=("mempool",),
        build=SelfTransferAccepted,
    ),
    Mutant(
        name="amount-zero-accepted",
        defect="a transfer's amount is checked >= 0 instead of >= 1: an amount of 0 is read, "
        "and refused later for another reason, not as E2",
        breaks=("E2",),
        capabilities=("mempool",),
        build=AmountZeroAccepted,
    ),
]
