"""Mutants for the gaps the module campaign of aethel/consensus/evidence.py found: each is the
way an outsider's replica could get evidence records wrong, caught by the case written for the
mechanical survivor (reports/selftest/triage-module-evidence-d312549.md).

* ``evidence-reporter-signature-placeholder``: the replica's records carry a placeholder for
  the reporter's signature (64 zero bytes), as if the reporter were only informative, so no
  other node can check them (spec/consensus.md, Evidence: "Anyone can check evidence on its own
  by verifying the signatures (the reporter's and the offender's)"); caught by suite/
  test_evidence_found.py::test_each_detected_act_is_reported_once, and by the mixed cluster
  case byzantine_minority[double-vote] (the others refuse its block carrying such a record).
* ``evidence-in-version-1-domain-only``: evidence records are signed and checked over their
  version-1 bytes at every height, as if version 2 had no evidence domain (V2.2), so a genuine
  version-2 record is refused and one signed in version 1's domain taken; caught by suite/
  test_replica_v2.py::test_version_2_evidence_is_checked_in_version_2s_domain.
* ``evidence-messages-checked-as-version-1``: inside evidence, a message other than a BLS vote
  is checked over its version-1 bytes, so a version-2 PRE-PREPARE equivocation is refused
  (V2.2); caught by the same case [pre-prepares]. Both version-2 mutants are caught by the
  version-2 live-accuracy cases of suite/test_monitoring.py too (through the cluster's
  liveness).
* ``evidence-offender-outside-the-set``: a message in evidence whose signer is no member is let
  through, there being no key to check it with, so a stranger's "equivocation" slashes
  (spec/consensus.md, Evidence: checked against the epoch's validator set); caught by suite/
  test_evidence.py::test_a_record_against_a_non_member_gets_no_vote.
"""

from __future__ import annotations

from dataclasses import replace

import aethel.consensus.evidence
from aethel.consensus.evidence import Evidence, signed_by
from aethel.consensus.messages import Commit, Prepare, SignedMessage
from aethel.consensus.replica import Replica
from aethel.consensus.signing import SignatureChecker
from aethel.consensus.validators import ValidatorSet
from conformance.adapters.reference_replica import ReferenceReplicaObject
from conformance.mutants import CommandsUnderPatch, Mutant, replica_implementation


class PlaceholderSignature(Replica):
    """Defect: the reporter's signature of a record is a placeholder."""

    def _report(self, evidence: Evidence) -> None:
        super()._report(replace(evidence, signature=bytes(64)))


def _version_1_bytes(self: Evidence, version: int) -> bytes:
    """The record's version-1 signing bytes, whatever the version."""
    return self.payload


class VersionOneDomain(CommandsUnderPatch, ReferenceReplicaObject):
    """Defect: evidence has one signing domain, version 1's."""

    patch = (Evidence, "payload_for", _version_1_bytes)


def _signed_by_as_version_1(
    message: SignedMessage, validators: ValidatorSet, checker: SignatureChecker, version: int = 1
) -> bool:
    """A BLS vote checked as version 2 checks it; anything else over its version-1 bytes."""
    if isinstance(message, Prepare | Commit) and message.version == 2:
        return signed_by(message, validators, checker, version)
    member = validators.get(message.validator)
    return member is not None and checker.verify(
        member.public_key, message.payload, message.signature
    )


class MessagesAsVersionOne(CommandsUnderPatch, ReferenceReplicaObject):
    """Defect: evidence's non-vote messages are checked over their version-1 bytes."""

    patch = (aethel.consensus.evidence, "signed_by", _signed_by_as_version_1)


def _strangers_let_through(
    message: SignedMessage, validators: ValidatorSet, checker: SignatureChecker, version: int = 1
) -> bool:
    """Checked as the reference checks it when its signer is a member; True when there is no
    member's key to check it with."""
    if validators.get(message.validator) is None:
        return True
    return signed_by(message, validators, checker, version)


class StrangersLetThrough(CommandsUnderPatch, ReferenceReplicaObject):
    """Defect: evidence's messages by a non-member are not checked."""

    patch = (aethel.consensus.evidence, "signed_by", _strangers_let_through)


PlaceholderSignatureImplementation = replica_implementation(
    "PlaceholderSignatureImplementation", __name__, replica_class=PlaceholderSignature
)
VersionOneDomainImplementation = replica_implementation(
    "VersionOneDomainImplementation", __name__, base=VersionOneDomain
)
MessagesAsVersionOneImplementation = replica_implementation(
    "MessagesAsVersionOneImplementation", __name__, base=MessagesAsVersionOne
)
StrangersLetThroughImplementation = replica_implementation(
    "StrangersLetThroughImplementation", __name__, base=StrangersLetThrough
)

MUTANTS = [
    Mutant(
        name="evidence-reporter-signature-placeholder",
        defect="the replica's evidence records carry 64 zero bytes as the reporter's signature",
        breaks=("R4.2", "R8.5"),
        capabilities=("replica",),
        build=PlaceholderSignatureImplementation,
    ),
    Mutant(
        name="evidence-in-version-1-domain-only",
        defect="evidence records are signed and checked in version 1's domain at every height",
        breaks=("V2.2",),
        capabilities=("replica",),
        build=VersionOneDomainImplementation,
    ),
    Mutant(
        name="evidence-messages-checked-as-version-1",
        defect="inside evidence, a message other than a BLS vote is checked over its version-1 "
        "bytes",
        breaks=("V2.2",),
        capabilities=("replica",),
        build=MessagesAsVersionOneImplementation,
    ),
    Mutant(
        name="evidence-offender-outside-the-set",
        defect="a message in evidence signed in a non-member's name is let through unchecked",
        breaks=("R4.2",),
        capabilities=("replica",),
        build=StrangersLetThroughImplementation,
    ),
]
