"""Mutants for the gaps the module campaign of aethel/consensus/certificates.py left open: each
is the way an outsider's replica could get a signature check wrong, caught by the case written
for it (reports/selftest/triage-module-certificates-d312549.md, second session).

* ``pre-prepare-domain-either``: a PRE-PREPARE's signature is taken if it verifies in either
  version's domain (the block's is still checked in its height's), as if the domain only
  mattered for blocks (V2.2); caught by suite/test_replica_v2.py::
  test_a_proposal_of_the_other_version_gets_no_vote[pre-prepare-only].
* ``strangers-seen-ahead``: a later height's message whose sender is in no validator set is
  counted as seen ahead without a check (there is no key to check it with), so the replica
  asks strangers for its certificate (spec/sync.md R3.5, "it asks the validators it sees at
  later heights"); caught by suite/test_catch_up_requests.py::
  test_forged_messages_of_a_later_height_move_no_replica[non-members].
* ``batch-precheck-assumes-members``: the batch's signature pre-check looks every message's
  signer up in the set by index, so one message in a non-member's name fails the whole batch
  (T22.2b: a batch must end as one-at-a-time processing does); caught by suite/test_replica.py::
  test_batch_processing_equals_one_at_a_time[with-non-members].
* ``later-view-changes-ignored-at-version-2``: at a version-2 height only BLS votes of a later
  height show a validator ahead, as if VIEW-CHANGEs (Ed25519 in version 2's domain) did not
  count, so a replica that only hears later VIEW-CHANGEs never asks (spec/consensus.md,
  Catching up); caught by suite/test_replica_v2.py::
  test_a_later_heights_version_2_votes_are_checked_and_counted[view-change].
"""

from __future__ import annotations

from collections.abc import Iterable

from aethel.consensus.messages import Commit, Message, NewView, Prepare, PrePrepare, ViewChange
from aethel.consensus.replica import Replica
from aethel.consensus.signing import SignatureItem, Signed
from conformance.mutants import Mutant, replica_implementation


class EitherDomainPrePrepare(Replica):
    """Defect: a PRE-PREPARE signed in either version's domain is taken."""

    def _signature_fails(self, public_key: bytes, signed: Signed, what: str) -> bool:
        if isinstance(signed, PrePrepare) and any(
            self._verify(public_key, signed.payload_for(version), signed.signature)
            for version in (1, 2)
        ):
            return False
        return super()._signature_fails(public_key, signed, what)


class StrangersSeenAhead(Replica):
    """Defect: a later height's message from outside the set counts as seen ahead."""

    def _signed_sender(self, message: Message, known: set[str]) -> str | None:
        if (
            isinstance(message, Prepare | Commit | ViewChange)
            and self.validators.get(message.validator) is None
        ):
            return message.validator
        return super()._signed_sender(message, known)


class BatchAssumesMembers(Replica):
    """Defect: the batch pre-check looks each signer up by index (a KeyError for a stranger)."""

    def _signature_items(self, message: Message) -> Iterable[SignatureItem]:
        if not isinstance(message, Prepare | Commit | PrePrepare | ViewChange | NewView):
            return
        by_id = {member.id: member for member in self.validators.validators}
        public_key = by_id[message.validator].public_key
        version = self._version_of(message.height)
        if version == 1:
            yield (public_key, message.payload, message.signature)
        elif not isinstance(message, Prepare | Commit):
            yield (public_key, message.payload_for(version), message.signature)


class LaterViewChangesIgnoredAtVersion2(Replica):
    """Defect: at a version-2 height only later BLS votes show a validator ahead."""

    def _signed_sender(self, message: Message, known: set[str]) -> str | None:
        if isinstance(message, ViewChange) and self._version_of(message.height) == 2:
            return None
        return super()._signed_sender(message, known)


EitherDomainPrePrepareImplementation = replica_implementation(
    "EitherDomainPrePrepareImplementation", __name__, replica_class=EitherDomainPrePrepare
)
StrangersSeenAheadImplementation = replica_implementation(
    "StrangersSeenAheadImplementation", __name__, replica_class=StrangersSeenAhead
)
BatchAssumesMembersImplementation = replica_implementation(
    "BatchAssumesMembersImplementation", __name__, replica_class=BatchAssumesMembers
)
LaterViewChangesIgnoredAtVersion2Implementation = replica_implementation(
    "LaterViewChangesIgnoredAtVersion2Implementation",
    __name__,
    replica_class=LaterViewChangesIgnoredAtVersion2,
)

MUTANTS = [
    Mutant(
        name="pre-prepare-domain-either",
        defect="a PRE-PREPARE whose signature verifies in either version's domain is taken",
        breaks=("V2.2",),
        capabilities=("replica",),
        build=EitherDomainPrePrepareImplementation,
    ),
    Mutant(
        name="strangers-seen-ahead",
        defect="a later height's message from a sender outside the set counts as seen ahead, "
        "unchecked",
        breaks=("R3.5",),
        capabilities=("replica",),
        build=StrangersSeenAheadImplementation,
    ),
    Mutant(
        name="batch-precheck-assumes-members",
        defect="the batch signature pre-check fails on a message in a non-member's name",
        breaks=("T22.2b",),
        capabilities=("replica",),
        build=BatchAssumesMembersImplementation,
    ),
    Mutant(
        name="later-view-changes-ignored-at-version-2",
        defect="at a version-2 height a later VIEW-CHANGE shows no one ahead",
        breaks=("R3.5",),
        capabilities=("replica",),
        build=LaterViewChangesIgnoredAtVersion2Implementation,
    ),
]
