"""Mutants for the gaps the module campaign of aethel/consensus/block_rules.py found: each is the
way an outsider's replica could get a block's limits wrong (spec/consensus.md, Blocks, N6),
caught by the case written for the mechanical survivor
(reports/selftest/triage-module-block-rules-d312549.md).

* ``block-limit-exclusive``: a block must hold fewer than MAX_BLOCK_PROOFS proofs and
  transactions, so a full block of exactly 1,000 is refused; caught by suite/
  test_block_limits.py::test_a_block_of_exactly_the_most_transfers_gets_the_vote.
* ``block-proofs-not-counted``: the limits count a block's evidence records, never its proofs
  and transactions (a frame limit taken as enough), so a block of 1,001 distinct valid
  transfers is verified and gets the vote; caught by suite/test_block_limits.py::
  test_a_block_of_one_transfer_too_many_is_refused_unverified (the older over-the-limit block
  of 1,001 copies of one transfer is refused as a repeat without the limit).
* ``evidence-records-not-counted``: the limits count a block's proofs and transactions, never
  its evidence records, so a block of 17 genuine records gets the vote; caught by suite/
  test_block_limits.py::test_a_block_of_one_evidence_record_too_many_gets_no_vote.
* ``repeat-judged-by-its-transaction``: a proof id seen twice is judged by comparing the
  transactions at the two indexes, as if every proof had one, so a repeat past the last
  transaction makes the replica fail with an index error instead of refusing the block (R1.1);
  caught by suite/test_block_checks_first.py [a-proof-repeated-past-the-transactions].
* ``malformed-block-items-skipped``: a block's items are decoded leniently, an item that does
  not decode dropped and the rest validated, so a block of valid pairs and one extra proof of
  no known kind gets the vote (rule 1 of a block: strict parsing, E12); caught by suite/
  test_block_checks_first.py [a-malformed-proof-after-the-pairs].
* ``evidence-height-unchecked``: each evidence record is checked on its own (new, proving its
  offence), never against the block's height, so a block carries an offence of its own height
  (spec/consensus.md, Evidence: "for offences at heights below the block's"); caught by suite/
  test_evidence.py::test_a_record_of_an_offence_not_below_the_blocks_height_gets_no_vote.
* ``offence-twice-in-a-block``: a block's evidence records are compared with the offences
  already applied, never with each other, so a block slashing one offence twice gets the vote
  (R4.2: once per offence, offender and height); caught by suite/test_evidence.py::
  test_an_offence_slashed_twice_gets_no_vote [twice-in-the-block,
  the-same-offence-proved-twice].
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import aethel.consensus.ledger
import aethel.consensus.proposals
from aethel.consensus.block import ProofBlock
from aethel.consensus.block_rules import (
    MAX_BLOCK_EVIDENCE,
    MAX_BLOCK_PROOFS,
    SlashKey,
)
from aethel.consensus.evidence import check_evidence
from aethel.consensus.replica import Replica
from aethel.consensus.signing import SignatureChecker
from aethel.consensus.validators import ValidatorSet
from aethel.errors import ProtocolViolation
from aethel.proofs.errors import MalformedObjectError
from aethel.proofs.model import Proof, Transfer, proof_from_json, transfer_from_json
from conformance.adapters.reference_replica import ReferenceReplicaObject
from conformance.mutants import CommandsUnderPatch, Mutant, replica_implementation


class LimitExclusive(Replica):
    """Defect: "at most 1,000" read as "fewer than 1,000"."""

    def _limits_and_last_commit_reason(self, block: ProofBlock) -> str:
        if len(block.proofs) >= MAX_BLOCK_PROOFS or len(block.transactions) >= MAX_BLOCK_PROOFS:
            return f"N6: a block holds fewer than {MAX_BLOCK_PROOFS} proofs"
        return super()._limits_and_last_commit_reason(block)


def _outsiders_limits(
    block: ProofBlock,
    *,
    counts_proofs: bool = True,
    counts_evidence: bool = True,
    index_checked: bool = True,
) -> None:
    """An outsider's limits of ``block`` (N6) and its repeated proofs (R7.1, R1.1), with the
    defect the flags leave in: no count of the proofs and transactions, or of the evidence
    records, or a repeat named by the transaction at its index without asking whether there
    is one."""
    if counts_proofs and max(len(block.proofs), len(block.transactions)) > MAX_BLOCK_PROOFS:
        raise ProtocolViolation("N6", "too many proofs or transactions")
    if counts_evidence and len(block.evidence) > MAX_BLOCK_EVIDENCE:
        raise ProtocolViolation("N6", "too many evidence records")
    first: dict[bytes, int] = {}
    for index, item in enumerate(block.proofs):
        try:
            proof_id = proof_from_json(item).proof_id
        except MalformedObjectError:
            continue  # left to the block's validation (E12)
        if proof_id not in first:
            first[proof_id] = index
            continue
        has_one = index < len(block.transactions) or not index_checked
        if has_one and block.transactions[index] == block.transactions[first[proof_id]]:
            raise ProtocolViolation("R7.1", "a transaction twice")
        raise ProtocolViolation("R1.1", "a proof twice")


class RepeatByTransaction(CommandsUnderPatch, ReferenceReplicaObject):
    """Defect: a repeated proof is named by the transaction at its index, which may not exist."""

    patch = (
        aethel.consensus.proposals,
        "check_block_limits",
        functools.partial(_outsiders_limits, index_checked=False),
    )


class EvidenceUncounted(CommandsUnderPatch, ReferenceReplicaObject):
    """Defect: the replica's limits check leaves the evidence records out."""

    patch = (
        aethel.consensus.proposals,
        "check_block_limits",
        functools.partial(_outsiders_limits, counts_evidence=False),
    )


class ProofsUncounted(CommandsUnderPatch, ReferenceReplicaObject):
    """Defect: a block's proofs and transactions are not counted (only its evidence is)."""

    patch = (
        aethel.consensus.proposals,
        "check_block_limits",
        functools.partial(_outsiders_limits, counts_proofs=False),
    )


def _decodable(decode: Callable[[object], object], items: tuple[object, ...]) -> list[Any]:
    """The items that ``decode`` takes, decoded; the others dropped."""
    kept = []
    for item in items:
        try:
            kept.append(decode(item))
        except MalformedObjectError:
            continue
    return kept


def _lenient_items(block: ProofBlock) -> tuple[list[Transfer], list[Proof]]:
    """``block``'s transactions and proofs, each that does not decode left out."""
    return (
        _decodable(transfer_from_json, block.transactions),
        _decodable(proof_from_json, block.proofs),
    )


class MalformedItemsSkipped(CommandsUnderPatch, ReferenceReplicaObject):
    """Defect: block items that do not decode are dropped, not refused."""

    patch = (aethel.consensus.ledger, "parse_block_items", _lenient_items)


def _outsiders_records(
    block: ProofBlock,
    is_slashed: Callable[[SlashKey], bool],
    validators: ValidatorSet,
    checker: SignatureChecker,
    is_proof_invalid: Callable[[ProofBlock, int], bool],
    activation: int | None = None,
    *,
    checks_height: bool = True,
    checks_repeats: bool = True,
) -> None:
    """An outsider's check of ``block``'s evidence records (R4.2), each new and proving its
    offence, with the defect the flags leave in: no comparison of a record's height with the
    block's, or none of the block's records with each other (only with the applied ones)."""
    seen: set[SlashKey] = set()
    for record in block.evidence:
        if (checks_repeats and record.slash_key in seen) or is_slashed(record.slash_key):
            raise ProtocolViolation("R4.2", "evidence already slashed or repeated")
        seen.add(record.slash_key)
        if checks_height and record.height >= block.height:
            raise ProtocolViolation("R4.2", "evidence not from an earlier height")
        check_evidence(record, validators, checker, is_proof_invalid, activation)


class EvidenceHeightUnchecked(CommandsUnderPatch, ReferenceReplicaObject):
    """Defect: a block's evidence records are not compared with the block's height."""

    patch = (
        aethel.consensus.proposals,
        "check_block_evidence",
        functools.partial(_outsiders_records, checks_height=False),
    )


class RepeatedRecordsTaken(CommandsUnderPatch, ReferenceReplicaObject):
    """Defect: a block's evidence records are compared with the applied ones, not each other."""

    patch = (
        aethel.consensus.proposals,
        "check_block_evidence",
        functools.partial(_outsiders_records, checks_repeats=False),
    )


LimitExclusiveImplementation = replica_implementation(
    "LimitExclusiveImplementation", __name__, replica_class=LimitExclusive
)
EvidenceUncountedImplementation = replica_implementation(
    "EvidenceUncountedImplementation", __name__, base=EvidenceUncounted
)
RepeatByTransactionImplementation = replica_implementation(
    "RepeatByTransactionImplementation", __name__, base=RepeatByTransaction
)
ProofsUncountedImplementation = replica_implementation(
    "ProofsUncountedImplementation", __name__, base=ProofsUncounted
)
EvidenceHeightUncheckedImplementation = replica_implementation(
    "EvidenceHeightUncheckedImplementation", __name__, base=EvidenceHeightUnchecked
)
RepeatedRecordsTakenImplementation = replica_implementation(
    "RepeatedRecordsTakenImplementation", __name__, base=RepeatedRecordsTaken
)
MalformedItemsSkippedImplementation = replica_implementation(
    "MalformedItemsSkippedImplementation", __name__, base=MalformedItemsSkipped
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
    Mutant(
        name="block-proofs-not-counted",
        defect="a block's proofs and transactions are not counted against MAX_BLOCK_PROOFS",
        breaks=("N6",),
        capabilities=("replica",),
        build=ProofsUncountedImplementation,
    ),
    Mutant(
        name="offence-twice-in-a-block",
        defect="a block's evidence records are compared with the applied offences, never with "
        "each other",
        breaks=("R4.2",),
        capabilities=("replica",),
        build=RepeatedRecordsTakenImplementation,
    ),
    Mutant(
        name="malformed-block-items-skipped",
        defect="a block's items that do not decode are dropped and the rest validated",
        breaks=("E12",),
        capabilities=("replica",),
        build=MalformedItemsSkippedImplementation,
    ),
]
