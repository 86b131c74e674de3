"""Mutants for the gaps the mechanical sample of 80 (seed 59) and the module campaigns of
aethel/consensus/proposals.py and voting.py found: each is the way an outsider's implementation
could get the behaviour wrong, caught by the case written for the mechanical survivor
(reports/selftest/triage-sample80-seed59.md, triage-module-proposals-d312549.md,
triage-module-voting-d312549.md).

* ``parent-certificate-checked-at-height-1-only``: a block's last commit is looked at only
  where it must be null (height 1), never checked past it (R2.3); caught by suite/
  test_parent_certificate.py.
* ``parent-certificate-votes-not-counted``: the last commit must name the parent's height,
  block and root, but its votes are neither checked nor weighed (R2.3); caught by suite/
  test_parent_certificate.py [below-the-quorum, with-a-damaged-vote, naming-a-member-twice].
* ``parent-certificate-root-not-compared``: the last commit's post-state root is taken as it
  comes, not compared with the node's committed root (R3.2); caught by suite/
  test_parent_certificate.py [vouching-for-another-root].
* ``pre-prepare-checked-by-its-block``: a PRE-PREPARE's signature is taken as checked when
  the block it carries is signed by its leader, so a PRE-PREPARE nobody signed moves the replica
  (R7.5); caught by suite/test_proposals_and_votes.py [signed-with-another-members-key,
  with-a-damaged-signature]. From the module campaign of proposals.py.
* ``quorum-looked-at-on-votes-only``: a replica looks for a quorum when a vote arrives, never
  when it accepts the block the votes are for, so votes that came before the PRE-PREPARE wait
  for one more (R2.3); caught by suite/test_proposals_and_votes.py::
  test_votes_that_arrive_before_the_proposal_count. From the module campaign of proposals.py.
* ``reproposed-block-proposer-unchecked``: in a later view the block's proposer is neither
  looked up nor its signature checked, as if the NEW-VIEW vouched for it (R4.3, R7.5); caught
  by suite/test_proposals_and_votes.py::
  test_a_new_view_proposing_a_block_of_a_non_member_gets_no_prepare. From the same campaign.
* ``proposal-timer-trusted``: a proposal timer proposes for the current view unless it has a
  proposal, as if only the current view's leader could hold such a timer: a timer of a height
  left behind makes a non-leader propose (R2.6); caught by suite/test_proposals_and_votes.py::
  test_a_stale_proposal_timer_proposes_nothing. From the same campaign.
* ``commits-taken-as-checked``: COMMITs are counted without checking their signatures, as if
  following a prepared certificate vouched for them (R7.5); caught by suite/
  test_proposals_and_votes.py::test_commits_with_bad_signatures_do_not_count. From the module
  campaign of voting.py.
* ``first-prepared-claim-kept``: the first block a replica prepares at a height stays its
  prepared claim, though it prepares another in a later view (R2.6); caught by suite/
  test_proposals_and_votes.py::test_a_later_views_prepared_certificate_becomes_the_claim. From
  the module campaign of voting.py.
* ``lock-not-journaled``: a journaled replica writes its votes to the journal, not the block
  it prepared, so opened again it claims nothing in its VIEW-CHANGE (R2.4, R5.4); caught by
  suite/test_journaled_replica_commits.py::
  test_a_reopened_replica_still_claims_the_block_it_prepared. From the same campaign.
* ``equivocation-of-votes-only``: an equivocation record must hold two PREPAREs or two
  COMMITs, so a leader's two PRE-PREPAREs of one view are refused as evidence (R4.2); caught
  by suite/test_evidence.py::test_an_equivocation_of_each_message_type_gets_the_vote.
* ``equivocation-means-two-digests``: two votes for one digest are no conflict, so two
  COMMITs with different post-state roots are refused as evidence (R4.2); caught by the same
  case [commits-of-two-roots].
* ``evidence-votes-checked-by-their-scheme``: an evidence record's two votes are checked by
  the scheme their signatures say (BLS or Ed25519), never compared with their height's version
  (V2.2), so a record of version-2 votes at a version-1 height slashes; caught by suite/
  test_replica_v2.py::test_evidence_holding_votes_of_the_other_version_gets_no_vote.
* ``history-proposer-led-the-certificates-view``: a presented block's proposer must have led
  the view its certificate was made in, as if a block were never re-proposed (R2.6); caught by
  the history case and vector tip-certified-in-view-5000.
* ``v2-unchecked-first-vote-stands``: with optimistic aggregation, a validator's first vote
  of a view is held unchecked; a later vote of it for another block is refused as a conflict
  without checking that the first was its own (V2.9), so a forgery in its name silences it;
  caught by suite/test_replica_v2.py::test_a_genuine_vote_after_a_forged_one_in_its_name_counts.
* ``accuracy-votes-checked-with-ed25519``: the monitor checks every vote it receives with
  the member's Ed25519 key, so no version-2 vote (signed with BLS, V2.3) is ever judged (R8.3;
  the reference's own defect until 98589c7); caught by suite/test_monitoring.py::
  test_live_accuracy_judges_each_vote_once_and_alerts_the_false_claimer [v2].
* ``accuracy-certificate-members-unjudged``: the members of a version-2 certificate count as
  active validators but their votes are not judged (R8.3, V2.7); caught by the same case
  [v2-collector].
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aethel.consensus.block_rules
import aethel.consensus.history_verifier
from aethel.consensus.block import ProofBlock
from aethel.consensus.block_rules import check_block_limits, check_last_commit
from aethel.consensus.events import Timer
from aethel.consensus.evidence import Evidence, check_evidence, signed_by
from aethel.consensus.messages import Commit, CommitCertificate, Message, Prepare, PrePrepare
from aethel.consensus.persistent import PersistentLedger
from aethel.consensus.replica import Replica
from aethel.consensus.signing import SignatureChecker
from aethel.consensus.v2.version import version_of_height
from aethel.consensus.validators import ValidatorSet
from aethel.consensus.votes import AddResult, AggregateVotes, certificate_members
from aethel.economics import Offence
from aethel.errors import ProtocolViolation
from aethel.monitoring.node import NodeMonitor
from conformance.adapters.reference import ReferenceImplementation
from conformance.adapters.reference_history import ReferenceHistory
from conformance.adapters.reference_journal import (
    ReferenceJournaledReplicaObject,
    ReferenceVoteJournal,
)
from conformance.adapters.reference_replica import ReferenceReplicaObject
from conformance.mutants import CommandsUnderPatch, Mutant, replica_implementation
from conformance.mutants.live_accuracy import CAPABILITIES as ACCURACY
from conformance.mutants.live_accuracy import watched_by

# ----------------------------------------------------------------------------- last commit


def _limits_and(
    replica: Replica, block: ProofBlock, root: bytes, check: Callable[[CommitCertificate], str]
) -> str:
    """The block's limits and last commit checked with the parent root ``root`` and the
    certificate check ``check`` (what each defect below gets wrong), as a refusal reason."""
    certifiers = None if replica.height == 1 else replica.parent_validators
    try:
        check_block_limits(block)
        check_last_commit(block, replica.parent, root, certifiers, check)
    except ProtocolViolation as exc:
        return f"{exc.rule_id}: {exc.detail}"
    return ""


class HeightOneOnly(Replica):
    """Defect: the last commit is checked to be null at height 1 and never looked at after."""

    def _limits_and_last_commit_reason(self, block: ProofBlock) -> str:
        if self.height == 1:
            return super()._limits_and_last_commit_reason(block)
        try:
            check_block_limits(block)
        except ProtocolViolation as exc:
            return f"{exc.rule_id}: {exc.detail}"
        return ""


class VotesNotCounted(Replica):
    """Defect: the last commit's height, block and root are checked, its votes are not."""

    def _limits_and_last_commit_reason(self, block: ProofBlock) -> str:
        return _limits_and(self, block, self.state_root, lambda cert: "")


class RootNotCompared(Replica):
    """Defect: the last commit's post-state root is taken as the parent's root."""

    def _limits_and_last_commit_reason(self, block: ProofBlock) -> str:
        cert = block.last_commit
        root = self.state_root if cert is None else cert.post_root
        certifiers = self.parent_validators
        return _limits_and(self, block, root, lambda c: self._check_cert(c, certifiers))


class CheckedByItsBlock(Replica):
    """Defect: a PRE-PREPARE's signature is checked through the block it carries."""

    def _signature_fails(self, public_key: bytes, signed: Any, what: str) -> bool:
        if what == "pre-prepare":
            proposer = self.validators.get(signed.block.proposer)
            block_key = None if proposer is None else proposer.public_key
            return block_key is None or super()._signature_fails(block_key, signed.block, "block")
        return super()._signature_fails(public_key, signed, what)


class QuorumOnVotesOnly(Replica):
    """Defect: accepting a block sends its PREPARE; the votes held for it wait for the next."""

    def _after_accepting(self, pp: PrePrepare) -> None:
        if pp.view == self.view:
            self._send_prepare(pp.view, pp.digest)


class ReproposalsTrusted(Replica):
    """Defect: in a later view the block's proposer is not checked."""

    def _check_block(self, pp: PrePrepare) -> str:
        if pp.view == 0:
            return super()._check_block(pp)
        block = pp.block
        if block.digest != pp.digest or block.height != self.height:
            return "R2.3: the block does not match the pre-prepare"
        if block.parent != self.parent:
            return "R3.3: the block does not extend the committed chain"
        return self._limits_and_last_commit_reason(block) or self._evidence_reason(block)


class ProposalTimerTrusted(Replica):
    """Defect: any proposal timer proposes for the current view if it holds no proposal."""

    def _on_propose_timer(self, timer: Timer) -> None:
        if self.view not in self.proposals:
            self._propose()


class CommitsUnchecked(Replica):
    """Defect: a COMMIT's signature is never checked."""

    def _on_commit(self, vote: Commit, trusted: bool = False) -> None:
        super()._on_commit(vote, trusted=True)


class FirstClaimKept(Replica):
    """Defect: the first prepared certificate of a height stays the replica's claim."""

    def _on_prepared(self, cert: Any) -> None:
        current = self.current
        kept = (current.prepared, current.prepared_block)
        super()._on_prepared(cert)
        if kept[0] is not None:
            current.prepared, current.prepared_block = kept


class LockNotJournaledObject(CommandsUnderPatch, ReferenceJournaledReplicaObject):
    """Defect: the prepared block (the lock) is kept in memory only."""

    patch = (PersistentLedger, "record_lock", lambda self, certificate, block: None)


class LockNotJournaledJournal(ReferenceVoteJournal):
    object_class = LockNotJournaledObject


class LockNotJournaledImplementation(ReferenceImplementation):
    name = "mutant-lock-not-journaled"

    def make_vote_journal(self) -> object:
        return LockNotJournaledJournal()


# ----------------------------------------------------------------------------- evidence


class VoteEquivocationsOnly(Replica):
    """Defect: an equivocation record must hold two PREPAREs or two COMMITs."""

    def _evidence_reason(self, block: ProofBlock) -> str:
        for record in block.evidence:
            if record.offence is Offence.EQUIVOCATION and not isinstance(
                record.first, Prepare | Commit
            ):
                return "R4.2: an equivocation is two votes"
        return super()._evidence_reason(block)


class TwoDigests(Replica):
    """Defect: two messages naming one digest are no conflict, whatever else differs."""

    def _evidence_reason(self, block: ProofBlock) -> str:
        for record in block.evidence:
            first, second = record.first, record.second
            if (
                record.offence is Offence.EQUIVOCATION
                and second is not None
                and getattr(first, "digest", None) == getattr(second, "digest", None)
            ):
                return "R4.2: the two messages name one digest"
        return super()._evidence_reason(block)


def _votes_by_their_scheme(
    evidence: Evidence,
    validators: Any,
    checker: SignatureChecker,
    is_proof_invalid: Any,
    activation: int | None = None,
) -> None:
    """The evidence check, except that two votes of another version than the height's are
    each checked by the scheme their signature says (BLS or Ed25519), the reporter by the
    height's version."""
    version = version_of_height(evidence.height, activation)
    first, second = evidence.first, evidence.second
    if not (
        isinstance(first, Prepare | Commit)
        and isinstance(second, Prepare | Commit)
        and first.version == second.version != version
    ):
        check_evidence(evidence, validators, checker, is_proof_invalid, activation)
        return
    reporter = validators.get(evidence.reporter)
    if reporter is None or not checker.verify(
        reporter.public_key, evidence.payload_for(version), evidence.signature
    ):
        raise ProtocolViolation("R7.5", "evidence is not signed by a validator")
    same_slot = (first.validator, first.height, first.view) == (
        second.validator,
        second.height,
        second.view,
    )
    if not (
        first.validator == evidence.offender
        and same_slot
        and first.key != second.key
        and all(signed_by(v, validators, checker, v.version) for v in (first, second))
    ):
        raise ProtocolViolation("R4.2", "not an equivocation")


class VotesByTheirScheme(CommandsUnderPatch, ReferenceReplicaObject):
    """Defect: a block's evidence votes are checked by the scheme their signatures say."""

    patch = (aethel.consensus.block_rules, "check_evidence", _votes_by_their_scheme)


# ----------------------------------------------------------------------------- histories


def _led_the_view(validators: ValidatorSet, height: int, view: int, proposer: str) -> bool:
    return validators.get_leader(height, view).id == proposer


class CertificateViewsLeader(CommandsUnderPatch, ReferenceHistory):
    """Defect: a block's proposer must be the leader of its certificate's view."""

    patch = (aethel.consensus.history_verifier, "is_possible_proposer", _led_the_view)


class CertificateViewsLeaderImplementation(ReferenceImplementation):
    name = "mutant-history-proposer-led-the-certificates-view"

    def make_history(self) -> object:
        return CertificateViewsLeader()


# ----------------------------------------------------------------------------- version 2

_conflict = AggregateVotes._conflict


def _unchecked_first_vote_stands(
    self: AggregateVotes[Any], prior: Any, vote: Any, position: int, signature: Any
) -> AddResult:
    """A later vote for another target, while the first is held unchecked, is refused."""
    if position not in self.aggregators[prior.key].kept:
        return AddResult(reason="R4.2: equivocation")
    return _conflict(self, prior, vote, position, signature)


class UncheckedFirstVoteStands(CommandsUnderPatch, ReferenceReplicaObject):
    """Defect: a validator's first vote of a view, held unchecked, outranks its later one."""

    patch = (AggregateVotes, "_conflict", _unchecked_first_vote_stands)


# ----------------------------------------------------------------------------- monitoring


class VotesCheckedWithEd25519(NodeMonitor):
    """Defect: every vote received is checked with the member's Ed25519 key, a version-2 vote
    (signed with BLS) too, so none is judged."""

    def on_message(self, message: Message) -> None:
        if isinstance(message, Prepare | Commit):
            member = self._validators.get(message.validator)
            if member is not None and self._checker.verify(
                member.public_key, message.payload, message.signature
            ):
                self._voters.setdefault(message.height, set()).add(message.validator)
                self._on_vote(message)
            return
        super().on_message(message)


class CertificateMembersUnjudged(NodeMonitor):
    """Defect: a version-2 certificate's members count as active; their votes are not judged."""

    def _on_certificate(self, certificate: Any) -> None:
        members = certificate_members(certificate, self._validators)
        self._voters.setdefault(certificate.height, set()).update(members)


HeightOneOnlyImplementation = replica_implementation(
    "HeightOneOnlyImplementation", __name__, replica_class=HeightOneOnly
)
VotesNotCountedImplementation = replica_implementation(
    "VotesNotCountedImplementation", __name__, replica_class=VotesNotCounted
)
RootNotComparedImplementation = replica_implementation(
    "RootNotComparedImplementation", __name__, replica_class=RootNotCompared
)
CheckedByItsBlockImplementation = replica_implementation(
    "CheckedByItsBlockImplementation", __name__, replica_class=CheckedByItsBlock
)
QuorumOnVotesOnlyImplementation = replica_implementation(
    "QuorumOnVotesOnlyImplementation", __name__, replica_class=QuorumOnVotesOnly
)
ReproposalsTrustedImplementation = replica_implementation(
    "ReproposalsTrustedImplementation", __name__, replica_class=ReproposalsTrusted
)
ProposalTimerTrustedImplementation = replica_implementation(
    "ProposalTimerTrustedImplementation", __name__, replica_class=ProposalTimerTrusted
)
CommitsUncheckedImplementation = replica_implementation(
    "CommitsUncheckedImplementation", __name__, replica_class=CommitsUnchecked
)
FirstClaimKeptImplementation = replica_implementation(
    "FirstClaimKeptImplementation", __name__, replica_class=FirstClaimKept
)
VoteEquivocationsOnlyImplementation = replica_implementation(
    "VoteEquivocationsOnlyImplementation", __name__, replica_class=VoteEquivocationsOnly
)
TwoDigestsImplementation = replica_implementation(
    "TwoDigestsImplementation", __name__, replica_class=TwoDigests
)
VotesByTheirSchemeImplementation = replica_implementation(
    "VotesByTheirSchemeImplementation", __name__, base=VotesByTheirScheme
)
UncheckedFirstVoteImplementation = replica_implementation(
    "UncheckedFirstVoteImplementation", __name__, base=UncheckedFirstVoteStands
)
VotesCheckedWithEd25519Implementation = replica_implementation(
    "VotesCheckedWithEd25519Implementation", __name__, __init__=watched_by(VotesCheckedWithEd25519)
)
CertificateMembersUnjudgedImplementation = replica_implementation(
    "CertificateMembersUnjudgedImplementation",
    __name__,
    __init__=watched_by(CertificateMembersUnjudged),
)

MUTANTS = [
    Mutant(
        name="parent-certificate-checked-at-height-1-only",
        defect="a block's last commit is checked to be null at height 1, never checked after",
        breaks=("R2.3",),
        capabilities=("replica",),
        build=HeightOneOnlyImplementation,
    ),
    Mutant(
        name="parent-certificate-votes-not-counted",
        defect="a block's last commit must name the parent's height, block and root; its votes "
        "are neither checked nor weighed",
        breaks=("R2.3",),
        capabilities=("replica",),
        build=VotesNotCountedImplementation,
    ),
    Mutant(
        name="parent-certificate-root-not-compared",
        defect="a block's last commit's post-state root is not compared with the committed root",
        breaks=("R3.2",),
        capabilities=("replica",),
        build=RootNotComparedImplementation,
    ),
    Mutant(
        name="pre-prepare-checked-by-its-block",
        defect="a PRE-PREPARE's signature is taken as checked when its block is signed by the "
        "leader",
        breaks=("R7.5",),
        capabilities=("replica",),
        build=CheckedByItsBlockImplementation,
    ),
    Mutant(
        name="quorum-looked-at-on-votes-only",
        defect="a quorum is looked for when a vote arrives, not when the block it is for is "
        "accepted",
        breaks=("R2.3",),
        capabilities=("replica",),
        build=QuorumOnVotesOnlyImplementation,
    ),
    Mutant(
        name="reproposed-block-proposer-unchecked",
        defect="in a later view a block's proposer is neither looked up nor its signature checked",
        breaks=("R4.3",),
        capabilities=("replica",),
        build=ReproposalsTrustedImplementation,
    ),
    Mutant(
        name="proposal-timer-trusted",
        defect="a proposal timer proposes for the current view whenever it has no proposal, "
        "whatever height and view the timer was set for",
        breaks=("R2.6",),
        capabilities=("replica",),
        build=ProposalTimerTrustedImplementation,
    ),
    Mutant(
        name="commits-taken-as-checked",
        defect="a COMMIT's signature is never checked",
        breaks=("R7.5",),
        capabilities=("replica",),
        build=CommitsUncheckedImplementation,
    ),
    Mutant(
        name="first-prepared-claim-kept",
        defect="the first block prepared at a height stays the prepared claim after a later "
        "view's prepared certificate",
        breaks=("R2.6",),
        capabilities=("replica",),
        build=FirstClaimKeptImplementation,
    ),
    Mutant(
        name="lock-not-journaled",
        defect="a journaled replica's prepared block is kept in memory only",
        breaks=("R2.4",),
        capabilities=("replica", "vote-journal"),
        build=LockNotJournaledImplementation,
    ),
    Mutant(
        name="equivocation-of-votes-only",
        defect="an equivocation record must hold two PREPAREs or two COMMITs; two PRE-PREPAREs "
        "are refused",
        breaks=("R4.2",),
        capabilities=("replica",),
        build=VoteEquivocationsOnlyImplementation,
    ),
    Mutant(
        name="equivocation-means-two-digests",
        defect="two messages naming one digest are no equivocation (two COMMIT roots refused)",
        breaks=("R4.2",),
        capabilities=("replica",),
        build=TwoDigestsImplementation,
    ),
    Mutant(
        name="evidence-votes-checked-by-their-scheme",
        defect="an evidence record's votes are checked by the scheme their signatures say, not "
        "compared with their height's version",
        breaks=("V2.2",),
        capabilities=("replica",),
        build=VotesByTheirSchemeImplementation,
    ),
    Mutant(
        name="history-proposer-led-the-certificates-view",
        defect="a presented block's proposer must have led its certificate's view (no re-proposal)",
        breaks=("R2.6",),
        capabilities=("history",),
        build=CertificateViewsLeaderImplementation,
    ),
    Mutant(
        name="v2-unchecked-first-vote-stands",
        defect="a validator's first vote of a view, held unchecked, makes its later vote for "
        "another block a refused conflict",
        breaks=("V2.9",),
        capabilities=("replica",),
        build=UncheckedFirstVoteImplementation,
    ),
    Mutant(
        name="accuracy-votes-checked-with-ed25519",
        defect="the monitor checks each vote with the Ed25519 key, so no version-2 vote is judged",
        breaks=("R8.3",),
        capabilities=ACCURACY,
        build=VotesCheckedWithEd25519Implementation,
    ),
    Mutant(
        name="accuracy-certificate-members-unjudged",
        defect="a version-2 certificate's members count as active, their votes are not judged",
        breaks=("R8.3",),
        capabilities=ACCURACY,
        build=CertificateMembersUnjudgedImplementation,
    ),
]
