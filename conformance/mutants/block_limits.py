"""Mutants for the gaps the module campaign of aethel/consensus/block_rules.py found: each is the
way an outsider's replica could get a block's limits wrong (spec/consensus.md, Blocks, N6),
caught by the case written for the mechanical survivor
(reports/selftest/triage-module-block-rules-d312549.md).

* ``block-limit-exclusive``: a block must hold fewer than MAX_BLOCK_PROOFS proofs and
  transactions, so a full block of exactly 1,000 is refused; caught by suite/
  test_block_limits.py::test_a_block_of_exactly_the_most_transfers_gets_the_vote.
* ``evidence-records-not-counted``: the limits count a block's proofs and transactions, never
  its evidence records, so a block of 17 genuine records gets the vote; caught by suite/
  test_block_limits.py::test_a_block_of_one_evidence_record_too_many_gets_no_vote.
* ``repeat-judged-by-its-transaction``: a proof id seen twice is judged by comparing the
  transactions at the two indexes, as if every proof had one, so a repeat past the last
  transaction makes the replica fail with an index error instead of refusing the block (R1.1);
  caught by suite/test_block_checks_first.py [a-proof-repeated-past-the-transactions].
* ``evidence-height-unchecked``: each evidence record is checked on its own (new, proving its
  offence), never against the block's height, so a block carries an offence of its own height
  (spec/consensus.md, Evidence: "for offences at heights below the block's"); caught by suite/
  test_evidence.py::test_a_record_of_an_offence_not_below_the_blocks_height_gets_no_vote.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import aethel.consensus.proposals
from aethel.consensus.block import ProofBlock
from aethel.consensus.block_rules import (
    MAX_BLOCK_EVIDENCE,
    MAX_BLOCK_PROOFS,
    SlashKey,
    check_block_limits,
)
from aethel.consensus.evidence import check_evidence
from aethel.consensus.replica import Replica
from aethel.consensus.signing import SignatureChecker
from aethel.consensus.validators import ValidatorSet
from aethel.errors import ProtocolViolation
from aethel.proofs.errors import MalformedObjectError
from aethel.proofs.model import proof_from_json
from conformance.adapters.reference_replica import ReferenceReplicaObject
from conformance.mutants import CommandsUnderPatch, Mutant, replica_implementation


class LimitExclusive(Replica):
    """Defect: "at most 1,000" read as "fewer than 1,000"."""

    def _limits_and_last_commit_reason(self, block: ProofBlock) -> str:
        if len(block.proofs) >= MAX_BLOCK_PROOFS or len(block.transactions) >= MAX_BLOCK_PROOFS:
            return f"N6: a block holds fewer than {MAX_BLOCK_PROOFS} proofs"
        return super()._limits_and_last_commit_reason(block)


def _limits_of_proofs_only(block: ProofBlock) -> None:
    """The limits of ``block``'s proofs and transactions, and its repeats; not its evidence."""
    check_block_limits(replace(block, evidence=()))


class EvidenceUncounted(CommandsUnderPatch, ReferenceReplicaObject):
    """Defect: the replica's limits check leaves the evidence records out."""

    patch = (aethel.consensus.proposals, "check_block_limits", _limits_of_proofs_only)


def _repeats_by_transaction(block: ProofBlock) -> None:
    """The limits of ``block``, then each repeated proof id named by what its transaction is."""
    if max(len(block.proofs), len(block.transactions)) > MAX_BLOCK_PROOFS:
        raise ProtocolViolation("N6", "too many proofs or transactions")
    if len(block.evidence) > MAX_BLOCK_EVIDENCE:
        raise ProtocolViolation("N6", "too many evidence records")
    first: dict[bytes, int] = {}
    for index, item in enumerate(block.proofs):
        try:
            proof_id = proof_from_json(item).proof_id
        except MalformedObjectError:
            continue  # left to the block's validation (E12)
        if proof_id not in first:
            first[proof_id] = index
        elif block.transactions[index] == block.transactions[first[proof_id]]:
            raise ProtocolViolation("R7.1", "a transaction twice")
        else:
            raise ProtocolViolation("R1.1", "a proof twice")


class RepeatByTransaction(CommandsUnderPatch, ReferenceReplicaObject):
    """Defect: a repeated proof is named by the transaction at its index, which may not exist."""

    patch = (aethel.consensus.proposals, "check_block_limits", _repeats_by_transaction)


def _records_on_their_own(
    block: ProofBlock,
    is_slashed: Callable[[SlashKey], bool],
    validators: ValidatorSet,
    checker: SignatureChecker,
    is_proof_invalid: Callable[[ProofBlock, int], bool],
    activation: int | None = None,
) -> None:
    """Each record of ``block`` new and proving its offence; its height never looked at."""
    seen: set[SlashKey] = set()
    for record in block.evidence:
        if record.slash_key in seen or is_slashed(record.slash_key):
            raise ProtocolViolation("R4.2", "evidence already slashed or repeated")
        seen.add(record.slash_key)
        check_evidence(record, validators, checker, is_proof_invalid, activation)


class EvidenceHeightUnchecked(CommandsUnderPatch, ReferenceReplicaObject):
    """Defect: a block's evidence records are not compared with the block's height."""

    patch = (aethel.consensus.proposals, "check_block_evidence", _records_on_their_own)


LimitExclusiveImplementation = replica_implementation(
    "LimitExclusiveImplementation", __name__, replica_class=LimitExclusive
)
EvidenceUncountedImplementation = replica_implementation(
    "EvidenceUncountedImplementation", __name__, base=EvidenceUncounted
)
RepeatByTransactionImplementation = replica_implementation(
    "RepeatByTransactionImplementation", __name__, base=RepeatByTransaction
)
EvidenceHeightUncheckedImplementation = replica_implementation(
    "EvidenceHeightUncheckedImplementation", __name__, base=EvidenceHeightUnchecked
)

MUTANTS = [
    Mutant(
        name="block-limit-exclusive",
        defect="a block must hold fewer than MAX_BLOCK_PROOFS proofs and transactions",
        breaks=("N6",),
        capabilities=("replica",),
        build=LimitExclusiveImplementation,
    ),
    Mutant(
        name="evidence-records-not-counted",
        defect="a block's evidence records are not counted against MAX_BLOCK_EVIDENCE",
        breaks=("N6",),
        capabilities=("replica",),
        build=EvidenceUncountedImplementation,
    ),
    Mutant(
        name="evidence-height-unchecked",
        defect="a block's evidence records are checked on their own, never against the block's "
        "height",
        breaks=("R4.2",),
        capabilities=("replica",),
        build=EvidenceHeightUncheckedImplementation,
    ),
    Mutant(
        name="repeat-judged-by-its-transaction",
        defect="a repeated proof is judged by the transaction at its index, which a proof past "
        "the last transaction does not have",
        breaks=("R1.1",),
        capabilities=("replica",),
        build=RepeatByTransactionImplementation,
    ),
]
