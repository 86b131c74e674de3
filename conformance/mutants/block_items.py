"""A block validator that walks a block's transactions and proofs side by side and stops at the
shorter list (spec/consensus.md, "Blocks", rule 4: "there are as many proofs as transactions").

``surplus-transfer-unvalidated``: a transfer past the last proof is never paired with one, so it
is not validated, and the block's execution then applies it: a leader can spend any account's
funds by adding a signed transfer without a proof (the transfer's own signature still counts,
but nothing proved its nonce or balance). Python's ``zip`` and most languages' pairwise loops
behave this way.

Caught by conformance/suite/test_block_items.py.
"""

from __future__ import annotations

from unittest import mock

import aethel.consensus.ledger
from aethel.consensus.block import ProofBlock
from aethel.consensus.interfaces import BlockVerdict
from aethel.consensus.ledger import LedgerValidator
from aethel.proofs.model import Proof, Transfer
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
]
