"""Block validators that pair a block's transactions and proofs loosely (spec/consensus.md,
"Blocks", rule 4: "there are as many proofs as transactions, and for each i, proof i has kind
transfer, its subjects are exactly the id of transaction i").

``surplus-transfer-unvalidated``: a transfer past the last proof is never paired with one, so it
is not validated, and the block's execution then applies it: a leader can spend any account's
funds by adding a signed transfer without a proof (the transfer's own signature still counts,
but nothing proved its nonce or balance). Python's ``zip`` and most languages' pairwise loops
behave this way.

``proof-kind-unchecked``: proof i must be the transfer obligation of transaction i, and it is,
but its kind is never read: a proof of kind ``arithmetic`` (or any other) over the same text
covers the transfer.

``block-transfer-signatures-trusted``: a block's transfers are taken as signed (the mempool
checked them when they were admitted), so a leader can put a transfer no sender signed into its
block.

``stated-balance-must-equal``: a transfer's proof must state exactly the sender's running balance
(the text compared with the obligation on the running state), where rule 4 allows less: a block
in which a sender spends after receiving, with a proof made against its balance before the
receipt (as a mempool makes it), is refused, and such heights do not commit.

Caught by conformance/suite/test_block_items.py.
"""

from __future__ import annotations

import copy
from unittest import mock

import aethel.consensus.ledger
from aethel.consensus.block import ProofBlock
from aethel.consensus.interfaces import BlockVerdict
from aethel.consensus.ledger import LedgerValidator
from aethel.proofs.model import Proof, ProofKind, Transfer
from aethel.proofs.obligations import get_transfer_obligation
from conformance.mutants import Mutant, replica_implementation

_parse_block_items = aethel.consensus.ledger.parse_block_items


def _paired_only(block: ProofBlock) -> tuple[list[Transfer], list[Proof]]:
    """Defect: the transfers are cut to the number of proofs."""
    transfers, proofs = _parse_block_items(block)
    return transfers[: len(proofs)], proofs


class PairwiseValidator(LedgerValidator):
    """Validates the pairs, ignores what the longer list holds past them."""

    def validate_block(self, block: ProofBlock, pre_root: bytes) -> BlockVerdict:
        with mock.patch.object(aethel.consensus.ledger, "parse_block_items", _paired_only):
            return super().validate_block(block, pre_root)


def _read_as_transfer_proofs(block: ProofBlock) -> tuple[list[Transfer], list[Proof]]:
    """Defect: every proof is taken for a transfer proof (its id and signature unchanged)."""
    transfers, proofs = _parse_block_items(block)
    read = []
    for proof in proofs:
        same = copy.copy(proof)
        object.__setattr__(same, "kind", ProofKind.TRANSFER)
        read.append(same)
    return transfers, read


class KindBlindValidator(LedgerValidator):
    """Pairs proofs with transfers by subjects and text, never by kind."""

    def validate_block(self, block: ProofBlock, pre_root: bytes) -> BlockVerdict:
        with mock.patch.object(
            aethel.consensus.ledger, "parse_block_items", _read_as_transfer_proofs
        ):
            return super().validate_block(block, pre_root)


class SignatureTrustingValidator(LedgerValidator):
    """Does not check a block's transfer signatures (R5.5)."""

    def validate_block(self, block: ProofBlock, pre_root: bytes) -> BlockVerdict:
        with mock.patch.object(Transfer, "is_signature_valid", lambda self: True):
            return super().validate_block(block, pre_root)


SignaturesTrusted = replica_implementation(
    "SignaturesTrusted", __name__, validator_class=SignatureTrustingValidator
)


def _exact_obligation(smt: str, tx: Transfer, balance: int, nonce: int) -> bool:
    """Defect: the proof's text must be the obligation on exactly the running balance."""
    return smt == get_transfer_obligation(tx, balance, nonce)


class ExactBalanceValidator(LedgerValidator):
    def validate_block(self, block: ProofBlock, pre_root: bytes) -> BlockVerdict:
        with mock.patch.object(aethel.consensus.ledger, "is_obligation_for", _exact_obligation):
            return super().validate_block(block, pre_root)


ExactBalance = replica_implementation(
    "ExactBalance", __name__, validator_class=ExactBalanceValidator
)
KindBlind = replica_implementation("KindBlind", __name__, validator_class=KindBlindValidator)
PairwiseValidation = replica_implementation(
    "PairwiseValidation", __name__, validator_class=PairwiseValidator
)

MUTANTS = [
    Mutant(
        name="surplus-transfer-unvalidated",
        defect="block validation pairs transactions with proofs and stops at the shorter list: "
        "a transfer without a proof is executed unvalidated",
        breaks=("R1.1",),
        capabilities=("replica",),
        build=PairwiseValidation,
    ),
    Mutant(
        name="proof-kind-unchecked",
        defect="block validation never reads a proof's kind: a proof of kind arithmetic over a "
        "transfer's obligation covers the transfer",
        breaks=("R1.1",),
        capabilities=("replica",),
        build=KindBlind,
    ),
    Mutant(
        name="block-transfer-signatures-trusted",
        defect="block validation takes a block's transfers as signed: a transfer whose "
        "signature does not verify is executed",
        breaks=("R5.5",),
        capabilities=("replica",),
        build=SignaturesTrusted,
    ),
    Mutant(
        name="stated-balance-must-equal",
        defect="a block's transfer proof must state exactly the sender's running balance: a "
        "proof made against the balance before a receipt earlier in the block is refused",
        breaks=("R1.1",),
        capabilities=("replica",),
        build=ExactBalance,
    ),
]
