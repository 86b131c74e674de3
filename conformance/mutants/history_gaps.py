"""Mutants of the history verifier written from the module campaign of
aethel/consensus/history_verifier.py: each leaves out one thing a validator checks before it
commits a block, as an outsider's verifier would. Caught by suite/test_history.py (the tamper,
choice or history in brackets), and by nothing else:

* ``history-parent-certificate-unchecked``: the last commit a block carries is taken as its
  parent's once it names the parent block; its quorum is not checked (R2.3)
  ([parent-certificate-under-quorum-at-3], which until this campaign also certified a wrong
  root, so a verifier without the check failed at the same height anyway).
* ``history-unknown-proposer-crashes``: the proposer's key is looked up as if the proposer had
  to be a member, so a block by a name outside the set makes the verifier fail instead of
  refusing the height (R4.3) ([proposer-outside-set-at-3]).
* ``history-any-member-proposes``: any member's block is taken, not only one by a leader of a
  view up to the certificate's (R2.6) ([proposer-led-no-view-at-3]).
* ``history-evidence-signatures-unchecked``: evidence records are checked to be new and from an
  earlier height, not to prove their offence (R4.2, R7.5) ([evidence-framing-at-3]).
* ``history-block-height-taken-from-the-chain``: a link's height is the one after the last,
  whatever its block states; only its parent is checked (R7.4, R3.3)
  ([block-1-states-height-2-at-1]: at height 1, which carries no last commit and pays no
  reward, nothing else shows it).
* ``history-claimed-changes-unguarded``: the claimed changes are written to a scratch tree
  before anything else and the tree's refusal of a key is left to escape, so the whole answer
  is an error, not a refusal of that height (R3.3, E8) ([claimed-empty-key-at-3]).
* ``history-choice-by-height``: once one of two histories verifies, the one reaching the
  greater height is chosen, verified or not (R3.3, P12) ([minted-then-shorter-valid]).
* ``history-version-1-rules-everywhere``: every certificate is checked as a list of signed
  COMMITs, version-2 heights too (V2.2, V2.8) ([both-versions]).
* ``history-certificate-form-trusted``: each certificate is checked in the form it comes in, not
  in its height's version (V2.2) ([version-1-certificate-at-the-first-version-2-height]).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aethel.consensus import history_verifier
from aethel.consensus.block import ProofBlock
from aethel.consensus.history import History, HistoryAnchor, HistoryLink, HistoryRejected
from aethel.consensus.history_verifier import Choice, HistoryChoice, HistoryVerifier, Replay
from aethel.consensus.messages import CommitCertificate
from aethel.consensus.validators import ValidatorSet
from aethel.consensus.votes import aggregate_certificates, check_certificate
from aethel.merkle.batch import DELETE
from conformance.adapters.reference import ReferenceImplementation
from conformance.adapters.reference_history import ReferenceHistory
from conformance.mutants import CommandsUnderPatch, Mutant, mutant_label


class ParentCertificateUncheckedVerifier(HistoryVerifier):
    """Defect: a block's last commit only has to name its parent."""

    def check_parent_certificate(self, replay: Replay, block: ProofBlock, height: int) -> None:
        last = block.last_commit
        if replay.certifiers is None:
            return
        if last is None or last.height != height - 1 or last.digest != replay.digest:
            raise HistoryRejected("R2.3", height, "the block lacks its parent's certificate")


class UnknownProposerCrashesVerifier(HistoryVerifier):
    """Defect: the proposer's key is read as a member's before anything else."""

    def check_link(self, replay: Replay, link: HistoryLink) -> None:
        validators = self.get_validators(replay, replay.height + 1)
        members = {member.id: member for member in validators.validators}
        _ = members[link.block.proposer].public_key  # the key the signature is checked by
        super().check_link(replay, link)


class BlockHeightFromTheChainVerifier(HistoryVerifier):
    """Defect: the block's parent is checked, not the height it states."""

    def check_position(self, replay: Replay, block: ProofBlock, height: int) -> None:
        if block.parent != replay.digest:
            raise HistoryRejected("R3.3", height, "the block does not extend the chain")


class ClaimedChangesUnguardedVerifier(HistoryVerifier):
    """Defect: the claimed changes are applied with no guard for the tree's own refusal."""

    def check_claimed_state(
        self, replay: Replay, link: HistoryLink, certificate: CommitCertificate
    ) -> bytes:
        writes = {k: (DELETE if v is None else v) for k, v in (link.changes or {}).items()}
        replay.repository.apply(replay.root, writes)  # an E8 here leaves the whole answer
        return super().check_claimed_state(replay, link, certificate)


class EvidenceSignaturesUncheckedVerifier(HistoryVerifier):
    """Defect: an evidence record is checked to be new and from an earlier height only."""

    def check_evidence(self, replay: Replay, block: ProofBlock, height: int) -> None:
        seen: set[Any] = set()
        for record in block.evidence:
            key = record.slash_key
            if key in seen or replay.executor.is_slashed(replay.root, key):
                raise HistoryRejected("R4.2", height, "evidence already slashed or repeated")
            if record.height >= block.height:
                raise HistoryRejected("R4.2", height, "evidence from a later height")
            seen.add(key)


class ChoiceByHeightVerifier(HistoryVerifier):
    """Defect: of two histories, once one verifies, the one reaching further wins."""

    def choose(self, anchor: HistoryAnchor, first: History, second: History) -> HistoryChoice:
        made = super().choose(anchor, first, second)
        a, b = made.first, made.second
        if made.fork is None and (a.accepted or b.accepted):
            return replace(made, choice=Choice.FIRST if a.height >= b.height else Choice.SECOND)
        return made


class Version1RulesVerifier(HistoryVerifier):
    """Defect: every certificate is checked as a list of signed COMMITs."""

    def check_certificate(self, certificate: CommitCertificate, validators: ValidatorSet) -> str:
        return check_certificate(certificate, validators, self.checker)


class CertificateFormTrustedVerifier(HistoryVerifier):
    """Defect: a certificate is checked in its own form, whatever its height's version."""

    def check_certificate(self, certificate: CommitCertificate, validators: ValidatorSet) -> str:
        if certificate.v2 is not None:
            reason: str = aggregate_certificates()(certificate, validators)
            return reason
        return check_certificate(certificate, validators, self.checker)


def _any_member(validators: ValidatorSet, height: int, view: int, proposer: str) -> bool:
    """The outsider's proposer rule: a member of the set."""
    return validators.get(proposer) is not None


class AnyMemberProposesHistory(CommandsUnderPatch, ReferenceHistory):
    patch = (history_verifier, "is_possible_proposer", _any_member)


def _implementation(name: str, history: type[ReferenceHistory]) -> type[ReferenceImplementation]:
    """Return the reference whose ``history`` capability is ``history``, as the class ``name``
    of this module (see :func:`conformance.mutants.replica_implementation`)."""

    def make_history(self: ReferenceImplementation) -> object:
        return history()

    return type(
        name,
        (ReferenceImplementation,),
        {"__module__": __name__, "name": mutant_label(name), "make_history": make_history},
    )


def _with_verifier(verifier: type[HistoryVerifier]) -> type[ReferenceHistory]:
    return type(f"{verifier.__name__}History", (ReferenceHistory,), {"verifier_class": verifier})


ParentCertificateUnchecked = _implementation(
    "ParentCertificateUnchecked", _with_verifier(ParentCertificateUncheckedVerifier)
)
UnknownProposerCrashes = _implementation(
    "UnknownProposerCrashes", _with_verifier(UnknownProposerCrashesVerifier)
)
AnyMemberProposes = _implementation("AnyMemberProposes", AnyMemberProposesHistory)
BlockHeightFromTheChain = _implementation(
    "BlockHeightFromTheChain", _with_verifier(BlockHeightFromTheChainVerifier)
)
ClaimedChangesUnguarded = _implementation(
    "ClaimedChangesUnguarded", _with_verifier(ClaimedChangesUnguardedVerifier)
)
EvidenceSignaturesUnchecked = _implementation(
    "EvidenceSignaturesUnchecked", _with_verifier(EvidenceSignaturesUncheckedVerifier)
)
ChoiceByHeight = _implementation("ChoiceByHeight", _with_verifier(ChoiceByHeightVerifier))
Version1Rules = _implementation("Version1Rules", _with_verifier(Version1RulesVerifier))
CertificateFormTrusted = _implementation(
    "CertificateFormTrusted", _with_verifier(CertificateFormTrustedVerifier)
)


MUTANTS = [
    Mutant(
        "history-parent-certificate-unchecked",
        "a block's last commit is taken as its parent's certificate once it names the parent "
        "block; its stake is not counted",
        ("R2.3", "R7.4"),
        ("history",),
        ParentCertificateUnchecked,
    ),
    Mutant(
        "history-unknown-proposer-crashes",
        "the proposer's key is looked up as a member's before the membership check: a block by "
        "a name outside the set makes the verifier fail",
        ("R4.3",),
        ("history",),
        UnknownProposerCrashes,
    ),
    Mutant(
        "history-any-member-proposes",
        "a block by any member is taken, not only by a leader of a view up to its certificate's",
        ("R2.6",),
        ("history",),
        AnyMemberProposes,
    ),
    Mutant(
        "history-evidence-signatures-unchecked",
        "a block's evidence records are checked to be new and earlier, not to prove their offence",
        ("R4.2", "R7.5"),
        ("history",),
        EvidenceSignaturesUnchecked,
    ),
    Mutant(
        "history-block-height-taken-from-the-chain",
        "a link's block is taken as the next height whatever height it states; only its parent "
        "is checked",
        ("R7.4", "R3.3"),
        ("history",),
        BlockHeightFromTheChain,
    ),
    Mutant(
        "history-claimed-changes-unguarded",
        "claimed changes the state tree refuses (an empty key) make the whole answer an error "
        "instead of a refusal of that height",
        ("R3.3", "E8"),
        ("history",),
        ClaimedChangesUnguarded,
    ),
    Mutant(
        "history-choice-by-height",
        "of two histories, once one verifies, the one reaching the greater height is chosen, "
        "verified or not",
        ("R3.3", "P12"),
        ("history",),
        ChoiceByHeight,
    ),
    Mutant(
        "history-version-1-rules-everywhere",
        "every certificate of a history is checked as a list of signed COMMITs, those of "
        "version-2 heights too",
        ("V2.2", "V2.8"),
        ("history",),
        Version1Rules,
    ),
    Mutant(
        "history-certificate-form-trusted",
        "each certificate of a history is checked in the form it comes in, not in its "
        "height's version",
        ("V2.2",),
        ("history",),
        CertificateFormTrusted,
    ),
]
