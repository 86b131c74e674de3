"""Mutants for the gaps the mechanical sample of 80 (seed 47) found: each is the way an
outsider's implementation could get the behaviour wrong, caught by the case written for the
mechanical survivor (reports/selftest/triage-sample80-seed47.md).

* ``view-change-claims-not-compared``: the VIEW-CHANGEs of a view are kept one per validator, a
  later one dropped as a repeat without comparing the two claims, so two prepared claims are
  never evidence (spec/consensus.md, Evidence); caught by suite/test_evidence_found.py
  [view-change-equivocation].
* ``first-block-certificate-unchecked``: at height 1 there is no parent certificate to check,
  so the block's ``last_commit`` is not looked at (R2.3); caught by suite/
  test_proposals_and_votes.py [a-first-block-carrying-a-parent-certificate].
* ``v2-embedded-certificates-checked-by-form``: a certificate inside a VIEW-CHANGE or NEW-VIEW
  is checked in the form it comes in, whatever the version of its height (V2.2); caught by
  suite/test_replica_v2.py::
  test_a_new_view_carrying_a_certificate_of_the_other_version_gets_no_vote.
* ``v2-hint-by-bitmap-alone``: a later height's version-2 certificate is worth a sync when its
  bitmap names more than a third of the stake, its aggregate unchecked (V2.8); caught by
  suite/test_replica_v2.py::test_a_later_version_2_certificate_is_a_hint_only_over_a_third.
* ``validator-member-extras-ignored``: a validator set member's undefined members are dropped
  instead of refused (E12); caught by suite/test_replica.py::
  test_a_validator_set_of_another_form_is_refused[a-member-with-an-undefined-member].
* ``applied-evidence-remembered-in-memory``: a leader leaves out the evidence it remembers
  applying and never asks its state, so reopened on its journal it carries applied evidence
  again (R4.2); caught by suite/test_journaled_replica_commits.py::
  test_a_reopened_leader_does_not_carry_evidence_its_state_applied.
* ``history-books-assumed-integers``: a presented history's claimed books are compared with 0
  as if each were an integer, so a balance claimed as a string stops the verifier with an
  internal error instead of the verdict (R7.4); caught by the history case and vector
  balance-of-another-type (the crash: re-executing the block refuses the claim at the same
  height, so a verifier that reads the string as 0 gives the right verdict anyway).
* ``v2-collector-counts-empty-regions``: the floors of V2.10 run over every region of the
  table, those without stake too; caught by suite/test_consensus_v2.py::
  test_a_region_without_stake_changes_no_collector.
* ``execution-states-stakes-as-slashed``: a committed execution's ``slashed`` lists the
  offenders' stakes after slashing, not the amounts burned (R4.2); caught by suite/
  test_evidence.py::test_the_committed_transition_states_what_it_slashed.
* ``store-names-below-256-bytes``: a name of 256 bytes is refused (a limit checked with < where
  the spec says "at most 256 bytes"); caught by the vector state-store/sequence/
  names-of-256-bytes.
* ``transfer-integers-below-2-to-the-63-minus-1``: a transfer's amount or nonce of 2^63-1 is
  refused (an upper bound kept exclusive); caught by suite/test_mempool.py::
  test_a_transfer_at_the_bounds_of_its_integers_is_taken.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import aethel.consensus.history_verifier
import aethel.consensus.v2.collector
from aethel.consensus.block import ProofBlock
from aethel.consensus.block_rules import check_block_limits
from aethel.consensus.evidence import Evidence
from aethel.consensus.messages import CommitCertificate, ViewChange
from aethel.consensus.replica import Replica
from aethel.consensus.v2.collector import (
    RegionTable,
    _least_time,
)
from aethel.consensus.votes import AddResult, CertificateCheck, certificates_by_form
from aethel.errors import ProtocolViolation
from aethel.merkle.tree import StateTree
from aethel.state.audit import SupplyAudit
from aethel.state.layout import BALANCE, STAKE, SUPPLY_BURNED, SUPPLY_GENESIS, SUPPLY_MINTED
from conformance.adapters.api import JSON, Hex
from conformance.adapters.errors import Rejected
from conformance.adapters.reference import ReferenceImplementation
from conformance.adapters.reference_errors import rejecting
from conformance.adapters.reference_history import ReferenceHistory
from conformance.adapters.reference_journal import (
    ReferenceJournaledReplicaObject,
    ReferenceVoteJournal,
)
from conformance.adapters.reference_proofs import ReferenceMempool, ReferenceMempoolObject
from conformance.adapters.reference_replica import ReferenceReplica, ReferenceReplicaObject
from conformance.adapters.reference_state import ReferenceStateStore, ReferenceStoreObject
from conformance.adapters.reference_v2 import ReferenceConsensusV2
from conformance.mutants import CommandsUnderPatch, Mutant, replica_implementation

# ----------------------------------------------------------------------------- replica


class ClaimsNotCompared(Replica):
    """Defect: the VIEW-CHANGEs of a view are kept one per validator, a later one of the same
    validator dropped as a repeat without comparing what the two claim."""

    def _add_vote(self, table: Any, vote: Any, trusted: bool) -> AddResult:
        if isinstance(vote, ViewChange):
            collector = table.get(vote.view)
            if collector is not None and vote.validator in collector.first:
                return AddResult(reason="duplicate")
        return super()._add_vote(table, vote, trusted)


class FirstCertificateUnchecked(Replica):
    """Defect: height 1 has no parent, so its block's last commit is never looked at."""

    def _limits_and_last_commit_reason(self, block: ProofBlock) -> str:
        if self.height != 1:
            return super()._limits_and_last_commit_reason(block)
        try:
            check_block_limits(block)
        except ProtocolViolation as exc:
            return f"{exc.rule_id}: {exc.detail}"
        return ""


class CertificatesCheckedByForm(Replica):
    """Defect: a certificate inside a VIEW-CHANGE or NEW-VIEW is checked in the form it comes
    in (a list of Ed25519 votes, or a bitmap and an aggregate), whatever its height's version."""

    def _embedded_certificates(self) -> CertificateCheck:
        return certificates_by_form(self.services.checker, self.aggregates)


class HintByBitmap(Replica):
    """Defect: a later height's version-2 certificate is a hint when its bitmap names more than
    a third of the stake; its aggregate is left to the sync that follows."""

    def _is_catch_up_hint(self, cert: CommitCertificate) -> str:
        v2 = self.validators.v2
        if cert.v2 is None or v2 is None:
            return super()._is_catch_up_hint(cert)
        stake = v2.roster.stake_of(cert.v2.members())
        return "" if 3 * stake > v2.roster.total else "R3.1: a third or less"


V2HintByBitmap = replica_implementation("V2HintByBitmap", __name__, replica_class=HintByBitmap)
EmbeddedCertificatesByForm = replica_implementation(
    "EmbeddedCertificatesByForm", __name__, replica_class=CertificatesCheckedByForm
)
ViewChangeClaimsNotCompared = replica_implementation(
    "ViewChangeClaimsNotCompared", __name__, replica_class=ClaimsNotCompared
)
FirstBlockCertificateUnchecked = replica_implementation(
    "FirstBlockCertificateUnchecked", __name__, replica_class=FirstCertificateUnchecked
)


class ExtrasIgnoredReplica(ReferenceReplica):
    """Defect: a member's members other than those of its form are dropped, not refused."""

    @rejecting
    def new(
        self, validator_set: JSON, validator_id: str, seed: Hex, mode: str, genesis: JSON
    ) -> Any:
        if isinstance(validator_set, dict) and isinstance(validator_set.get("validators"), list):
            known = {"id", "public_key", "stake", "bls_key", "bls_pop", "region"}
            members = [
                {k: v for k, v in m.items() if k in known} if isinstance(m, dict) else m
                for m in validator_set["validators"]
            ]
            validator_set = {**validator_set, "validators": members}
        return super().new(validator_set, validator_id, seed, mode, genesis)


class MemberExtrasIgnoredImplementation(ReferenceImplementation):
    name = "mutant-validator-member-extras-ignored"

    def make_replica(self) -> object:
        return ExtrasIgnoredReplica()


class StakesAsSlashedObject(ReferenceReplicaObject):
    """Defect: a committed execution's ``slashed`` holds each offender's stake after it."""

    def _json(self, outputs: list[Any]) -> list[JSON]:
        answers = super()._json(outputs)
        for answer in answers:
            execution = answer.get("execution") if isinstance(answer, dict) else None
            if isinstance(execution, dict) and execution.get("slashed"):
                execution["slashed"] = dict(execution["stakes"])
        return answers


StakesAsSlashed = replica_implementation("StakesAsSlashed", __name__, base=StakesAsSlashedObject)


class MemoryOfAppliedEvidence(Replica):
    """Defect: a leader leaves out the evidence it remembers applying (a set in memory) and
    does not ask its state, so after a restart it carries applied evidence again."""

    def _evidence_for_block(self) -> list[Evidence]:
        return [
            e
            for key, e in sorted(self.evidence.pending.items())
            if key not in self.evidence.slashed and e.height < self.height
        ][: self.config.max_block_evidence]


class MemoryOfAppliedEvidenceObject(ReferenceJournaledReplicaObject):
    replica_class = MemoryOfAppliedEvidence


class MemoryOfAppliedEvidenceJournal(ReferenceVoteJournal):
    object_class = MemoryOfAppliedEvidenceObject


class AppliedEvidenceInMemoryImplementation(ReferenceImplementation):
    name = "mutant-applied-evidence-remembered-in-memory"

    def make_vote_journal(self) -> object:
        return MemoryOfAppliedEvidenceJournal()


# ----------------------------------------------------------------------------- history


def _audit_without_types(tree: StateTree, height: int) -> SupplyAudit:
    """The supply audit of a verifier that trusts every book to be an integer."""
    balances = stakes = 0
    books = {SUPPLY_GENESIS: 0, SUPPLY_MINTED: 0, SUPPLY_BURNED: 0}
    negative: list[str] = []
    for leaf in tree.iter_leaves():
        key = leaf[3]
        if key.startswith(BALANCE) or key.startswith(STAKE) or key in books:
            value = json.loads(leaf[4])
            if value < 0:
                negative.append(key)
            elif key.startswith(BALANCE):
                balances += value
            elif key.startswith(STAKE):
                stakes += value
            else:
                books[key] = value
    return SupplyAudit(height, balances, stakes, books[SUPPLY_GENESIS], books[SUPPLY_MINTED],
                       books[SUPPLY_BURNED], tuple(sorted(negative)))  # fmt: skip


class UntypedAuditHistory(CommandsUnderPatch, ReferenceHistory):
    """Defect: the claimed state's books are audited as if each were an integer."""

    patch = (aethel.consensus.history_verifier, "compute_supply_audit", _audit_without_types)


class UntypedAuditHistoryImplementation(ReferenceImplementation):
    name = "mutant-history-books-assumed-integers"

    def make_history(self) -> object:
        return UntypedAuditHistory()


# ----------------------------------------------------------------------------- version 2


def _over_every_region(table: RegionTable, stakes: Sequence[int], quorum: int, leader: int) -> int:
    """The collector region of V2.10 with prepare, commit and spread taken over every region of
    the table, those without stake too."""
    lat = table.latency_ms
    everywhere = range(len(stakes))

    def floor(c: int) -> int:
        prepare = _least_time([(lat[leader][r] + lat[r][c], stakes[r]) for r in everywhere], quorum)
        commit = _least_time([(2 * lat[c][r], stakes[r]) for r in everywhere], quorum)
        return prepare + commit + max(lat[c][r] for r in everywhere)

    live = [r for r, stake in enumerate(stakes) if stake > 0]
    return min(live, key=lambda c: (floor(c), c != leader, c))


class EmptyRegionsCounted(CommandsUnderPatch, ReferenceConsensusV2):
    """Defect: prepare, commit and spread of V2.10 run over every region of the table."""

    patch = (aethel.consensus.v2.collector, "collector_region", _over_every_region)


class EmptyRegionsCountedImplementation(ReferenceImplementation):
    name = "mutant-v2-collector-counts-empty-regions"

    def make_consensus_v2(self) -> object:
        return EmptyRegionsCounted()


# ----------------------------------------------------------------------------- store, mempool

#: The longest name a store takes with the defect: one byte short of the spec's 256.
SHORT_LIMIT = 255


class ShortNamesStoreObject(ReferenceStoreObject):
    """Defect: a name of 256 bytes is refused (``len < 256`` where the spec says at most 256)."""

    @rejecting
    def commit_transition(self, height: int, operations: list[JSON]) -> JSON:
        for op in operations if isinstance(operations, list) else []:
            for member in ("sender", "recipient", "account", "validator"):
                name = op.get(member) if isinstance(op, dict) else None
                if isinstance(name, str) and len(name.encode("utf-8")) > SHORT_LIMIT:
                    raise Rejected(f"{member} {name[:20]!r}... is too long", "R3.6")
        return super().commit_transition(height, operations)


class ShortNamesStore(ReferenceStateStore):
    @rejecting
    def open(self, path: str) -> ReferenceStoreObject:
        return ShortNamesStoreObject(path)


class ShortNamesImplementation(ReferenceImplementation):
    name = "mutant-store-names-below-256-bytes"

    def make_state_store(self) -> object:
        return ShortNamesStore()


class ExclusiveBoundPoolObject(ReferenceMempoolObject):
    """Defect: a transfer's amount and nonce must be below 2^63-1, not at most 2^63-1."""

    @rejecting
    def add_transaction(self, transaction: JSON, balance: int, nonce: int) -> JSON:
        if isinstance(transaction, dict):
            for member in ("amount", "nonce"):
                value = transaction.get(member)
                if type(value) is int and value >= 2**63 - 1:
                    raise Rejected(f"{member} {value} is out of range", "E2")
        return super().add_transaction(transaction, balance, nonce)


class ExclusiveBoundPool(ReferenceMempool):
    @rejecting
    def new(self, capacity: int | None, judge_seed: Hex) -> ReferenceMempoolObject:
        return ExclusiveBoundPoolObject(capacity, judge_seed)


class ExclusiveBoundImplementation(ReferenceImplementation):
    name = "mutant-transfer-integers-below-2-to-the-63-minus-1"

    def make_mempool(self) -> object:
        return ExclusiveBoundPool()


MUTANTS = [
    Mutant(
        name="view-change-claims-not-compared",
        defect="a second VIEW-CHANGE of a validator for one view is dropped as a repeat, "
        "whatever it claims prepared",
        breaks=("R4.2",),
        capabilities=("replica",),
        build=ViewChangeClaimsNotCompared,
    ),
    Mutant(
        name="first-block-certificate-unchecked",
        defect="the last commit a block of height 1 carries is not looked at",
        breaks=("R2.3",),
        capabilities=("replica",),
        build=FirstBlockCertificateUnchecked,
    ),
    Mutant(
        name="v2-embedded-certificates-checked-by-form",
        defect="a certificate inside a VIEW-CHANGE or NEW-VIEW is checked in the form it comes "
        "in, whatever its height's version",
        breaks=("V2.2",),
        capabilities=("replica",),
        build=EmbeddedCertificatesByForm,
    ),
    Mutant(
        name="v2-hint-by-bitmap-alone",
        defect="a later version-2 certificate is a sync hint when its bitmap names more than a "
        "third of the stake, its aggregate unchecked",
        breaks=("R3.5",),
        capabilities=("replica",),
        build=V2HintByBitmap,
    ),
    Mutant(
        name="validator-member-extras-ignored",
        defect="a validator set member's undefined members are dropped, not refused",
        breaks=("E12",),
        capabilities=("replica",),
        build=MemberExtrasIgnoredImplementation,
    ),
    Mutant(
        name="applied-evidence-remembered-in-memory",
        defect="a leader leaves out only the evidence it remembers applying, not what its state "
        "applied: reopened on its journal it carries applied evidence again",
        breaks=("R4.2",),
        capabilities=("replica", "vote-journal"),
        build=AppliedEvidenceInMemoryImplementation,
    ),
    Mutant(
        name="history-books-assumed-integers",
        defect="a history's claimed books are compared with 0 unchecked: a balance claimed as "
        "a string fails the verifier with an internal error instead of a verdict",
        breaks=("R7.4",),
        capabilities=("history",),
        build=UntypedAuditHistoryImplementation,
    ),
    Mutant(
        name="v2-collector-counts-empty-regions",
        defect="the collector's floors run over the regions without stake too",
        breaks=("V2.10",),
        capabilities=("consensus-v2",),
        build=EmptyRegionsCountedImplementation,
    ),
    Mutant(
        name="execution-states-stakes-as-slashed",
        defect="a committed execution's slashed lists the stakes after slashing, not the "
        "amounts burned",
        breaks=("R4.2",),
        capabilities=("replica",),
        build=StakesAsSlashed,
    ),
    Mutant(
        name="store-names-below-256-bytes",
        defect="a name of 256 bytes is refused (the limit kept exclusive)",
        breaks=("R3.6",),
        capabilities=("state-store",),
        build=ShortNamesImplementation,
    ),
    Mutant(
        name="transfer-integers-below-2-to-the-63-minus-1",
        defect="a transfer's amount or nonce of 2^63-1 is refused (the bound kept exclusive)",
        breaks=("E2",),
        capabilities=("mempool",),
        build=ExclusiveBoundImplementation,
    ),
]
