"""Mutants of the evidence check: one check of an evidence record an implementer forgets.

spec/consensus.md ("Evidence", "Blocks" rule 3) says what makes an evidence record valid: its
reporter is a member and signed it; its first message is the offender's and signed by the
offender; an equivocation holds a second message of the same type, signer, height and view with
other content, also signed by the offender, and no block (proof index -1); a false claim holds
no second message, and a vote or proposal for the enclosed block whose proof at the index, in
range, does not verify. :func:`evidence_reason` is that check written the way an outsider would
write it, one named step per sentence (:data:`EVIDENCE_CHECKS`); :class:`OutsiderEvidenceReplica`
checks each record of a proposed block with it (the block's other rules as the outsider replica
of :mod:`conformance.mutants.consensus_checks` checks them). With nothing forgotten it behaves
like the reference; each ``forgot-evidence-*`` mutant forgets one step, so a block carrying a
record wrong in that one member gets its vote and, once committed, slashes the member named.
"""

from __future__ import annotations

from collections.abc import Callable

from aethel.consensus.block import ProofBlock
from aethel.consensus.evidence import Evidence
from aethel.consensus.messages import Commit, Prepare, PrePrepare, SignedMessage
from aethel.consensus.signing import SignatureChecker
from aethel.consensus.validators import ValidatorSet
from aethel.economics import Offence
from conformance.mutants import Mutant, replica_implementation
from conformance.mutants.consensus_checks import OutsiderReplica

#: The outsider's steps a mutant may forget, in the order :func:`evidence_reason` takes them
#: (two more are always taken: an equivocation's second message is of the first one's type, a
#: false claim's first message is a vote or proposal with its block).
EVIDENCE_CHECKS = (
    "reporter",
    "offender",
    "first-signature",
    "no-block",
    "same-slot",
    "conflict",
    "second-signature",
    "no-second",
    "vote-for-block",
    "index-in-range",
    "proof-invalid",
)


def evidence_reason(
    record: Evidence,
    validators: ValidatorSet,
    checker: SignatureChecker,
    is_proof_invalid: Callable[[ProofBlock, int], bool],
    skip: str = "",
) -> str:
    """The outsider's check of one evidence record (R4.2, R1.5, R7.5): "" if it proves its
    offence, else the reason. ``skip`` names a step of :data:`EVIDENCE_CHECKS` to forget."""

    def signed(message: SignedMessage) -> bool:
        member = validators.get(message.validator)
        return member is not None and checker.verify(
            member.public_key, message.payload, message.signature
        )

    rule = "R4.2" if record.offence is Offence.EQUIVOCATION else "R1.5"
    reporter = validators.get(record.reporter)
    if skip != "reporter" and (
        reporter is None
        or not checker.verify(reporter.public_key, record.payload, record.signature)
    ):
        return "R7.5: the record is not signed by a member"
    first = record.first
    if skip != "offender" and first.validator != record.offender:
        return f"{rule}: the first message is not the offender's"
    if skip != "first-signature" and not signed(first):
        return f"{rule}: the first message does not verify"
    if record.offence is Offence.EQUIVOCATION:
        if skip != "no-block" and (record.block is not None or record.proof_index != -1):
            return f"{rule}: an equivocation holds no block and proof index -1"
        second = record.second
        if second is None or type(second) is not type(first):
            return f"{rule}: an equivocation holds two messages of one type"
        slot = (second.validator, second.height, second.view)
        if skip != "same-slot" and slot != (first.validator, first.height, first.view):
            return f"{rule}: the two messages are not of one signer, height and view"
        if skip != "conflict" and second.key == first.key:
            return f"{rule}: the two messages do not conflict"
        if skip != "second-signature" and not signed(second):
            return f"{rule}: the second message does not verify"
        return ""
    if skip != "no-second" and record.second is not None:
        return f"{rule}: a false claim holds no second message"
    block = record.block
    if block is None or not isinstance(first, Prepare | Commit | PrePrepare):
        return f"{rule}: a false claim is a vote or proposal with its block"
    if skip != "vote-for-block" and first.digest != block.digest:
        return f"{rule}: the vote is for another block"
    if skip != "index-in-range" and not 0 <= record.proof_index < len(block.proofs):
        return f"{rule}: the proof index is out of range"
    if skip != "proof-invalid" and not is_proof_invalid(block, record.proof_index):
        return f"{rule}: the named proof verifies"
    return ""


class OutsiderEvidenceReplica(OutsiderReplica):
    """The outsider replica checking a block's evidence records with :func:`evidence_reason`;
    ``forgotten`` is ``evidence:STEP``."""

    def _check_block(self, pp: PrePrepare) -> str:
        block = pp.block
        reason = self._limits_and_last_commit_reason(block)
        if reason:
            return reason
        keys: set[tuple[str, str, int]] = set()
        for record in block.evidence:
            key = record.slash_key
            if key in keys or self.services.executor.is_slashed(self.state_root, key):
                return "R4.2: evidence already slashed or repeated"
            keys.add(key)
            if record.height >= block.height:
                return "R4.2: evidence from the block's height or a later one"
            reason = evidence_reason(
                record,
                self.epoch_validators,
                self.services.checker,
                self.services.validator.is_proof_invalid,
                self._skip("evidence"),
            )
            if reason:
                return reason
        return ""


#: (step, rules, defect) of each mutant: the step forgotten and what it lets through.
FORGOTTEN = (
    ("reporter", ("R7.5",), "a record's reporter signature is not checked"),
    ("offender", ("R4.2",), "a record may name an offender other than its messages' signer"),
    ("first-signature", ("R4.2",), "a record's first message signature is not checked"),
    ("no-block", ("R4.2",), "an equivocation record may carry a block and a proof index"),
    ("same-slot", ("R4.2",), "an equivocation's two messages may differ in signer or view"),
    ("conflict", ("R4.2",), "an equivocation of one message twice is taken"),
    ("second-signature", ("R4.2",), "only the first message of an equivocation is verified"),
    ("no-second", ("R1.5",), "a false-claim record may carry a second message"),
    ("vote-for-block", ("R1.5",), "a false claim's vote may be for another block"),
    ("index-in-range", ("R1.5",), "a false claim may name a proof index outside the block"),
    ("proof-invalid", ("R1.5",), "a false claim naming a proof that verifies is taken"),
)


def _forgetting(step: str) -> type[OutsiderEvidenceReplica]:
    name = "".join(part.capitalize() for part in step.split("-"))
    return type(
        f"ForgotEvidence{name}Replica",
        (OutsiderEvidenceReplica,),
        {"forgotten": f"evidence:{step}"},
    )


OutsiderEvidenceImplementation = replica_implementation(
    "OutsiderEvidenceImplementation", __name__, replica_class=OutsiderEvidenceReplica
)
for _step, _rules, _defect in FORGOTTEN:
    _replica = _forgetting(_step)
    _name = _replica.__name__.removesuffix("Replica")
    globals()[_replica.__name__] = _replica
    globals()[_name] = replica_implementation(_name, __name__, replica_class=_replica)


def _built(step: str) -> type:
    name = "".join(part.capitalize() for part in step.split("-"))
    built: type = globals()[f"ForgotEvidence{name}"]
    return built


MUTANTS = [
    Mutant(f"forgot-evidence-{step}", defect, rules, ("replica",), _built(step))
    for step, rules, defect in FORGOTTEN
]
