"""Mutants of catching up a validator that missed a commit (R3.5, spec/consensus.md "Catching up").

The first two are mistakes an independent implementer makes by reading half of the paragraph; the
reference itself had each until 2026-12-06 (commits 650d756 and e6bdc68, found by network
campaign seeds 2010 and 1019):

* ``catch-up-asked-once-per-height``: a lagging replica remembers the heights it asked about and
  sends its VIEW-CHANGE to the validators seen ahead once per height. When those answers are
  lost it waits for its own view timer, minutes away at a high view. Caught by
  suite/test_catch_up_requests.py::
  test_a_lagging_replica_asks_again_while_later_heights_messages_reach_it.
* ``catch-up-answers-only-asked-height``: a validator far ahead answers a VIEW-CHANGE of an old
  height with that height's certificate alone, never its latest one first, so the asker
  catches up one height per answer. Caught by suite/test_catch_up_requests.py::
  test_a_validator_heights_ahead_answers_with_its_latest_certificate_first ([height-1],
  [height-2]).

Its opposite reads the same sentence without its condition (written from the module campaign
of aethel/consensus/syncing.py):

* ``catch-up-always-sends-the-latest-first``: the latest certificate goes first whatever the
  distance, so a validator one height behind gets the same certificate twice. Caught by
  test_a_validator_heights_ahead_answers_with_its_latest_certificate_first[height-3].

Two more, mistakes the reference itself made until the authors of these cases found them:

* ``catch-up-trusts-unsigned-later-heights``: the validator a later height's message names is
  counted as seen ahead before its signature is checked (it is checked when the buffered
  message is replayed), so two forged messages naming more than W/3 send an honest replica to
  the next view. Caught by suite/test_catch_up_requests.py::
  test_forged_messages_of_a_later_height_move_no_replica (both parameters).
* ``catch-up-answers-forged-stale-view-changes``: a VIEW-CHANGE of a committed height is
  answered for the validator it names without a signature check, and a forged one uses up
  that validator's one answer per timeout(latency, 0). Caught by
  test_a_forged_stale_view_change_gets_no_certificate_and_takes_no_ones_turn (both parameters).

Two more break the pace the paragraph sets for the requests and their answers, at most once per
timeout(latency, 0): the answerer's bound keeps a validator flooding old VIEW-CHANGEs from
getting a certificate per message, the asker's keeps a lagging node from sending a request per
incoming message. An implementer who reads the paragraph for what to send, not how often, makes
each:

* ``catch-up-answers-every-stale-view-change``: a validator past a height answers every
  VIEW-CHANGE of that height it receives with the certificate(s), however often the same
  validator sends one.
* ``catch-up-asks-on-every-message``: a lagging replica sends its VIEW-CHANGE to the validators
  seen ahead on every later height's message once they hold more than W/3, not once per
  timeout(latency, 0).

One reads every message of a later height as a member's signed message:

* ``catch-up-every-later-message-read-as-signed``: a later height's certificate, which names no
  signer, makes the replica fail. Caught by suite/test_catch_up_requests.py::
  test_a_later_heights_prepare_certificate_moves_no_replica.

One takes every later certificate as a hint (the sync's chain check keeps the state safe, but
anyone can then make a replica fetch a state it does not need):

* ``catch-up-syncs-on-any-later-certificate``: a commit certificate of a later height starts a
  sync whoever signed it. Caught by suite/test_catch_up_requests.py::
  test_a_later_certificate_is_a_hint_only_over_a_third[a-quarter-of-the-stake].

One reads the threshold as "a third of the stake" (the spec says more than W/3):

* ``catch-up-asks-at-a-third``: a lagging replica asks once the validators seen ahead hold at
  least W/3. Caught by suite/test_catch_up_requests.py::
  test_a_third_of_the_stake_seen_ahead_is_not_enough_to_ask.
* ``catch-up-asks-for-a-view-ahead``: it asks with a VIEW-CHANGE for the view after next, so it
  runs views ahead of the others. Caught by the same case (its control's view).

And one that reads the paragraph as a request and its answer only, missing its last sentence
(the reference's own defect until network campaign seed 1018, commit 76aaa7d):

* ``catch-up-certificates-only-on-request``: a replica whose view times out, or that re-sends
  its VIEW-CHANGE, sends no certificate; a validator restarted without its journal, which
  cannot ask for the commit it missed, waits one height behind for good. Caught by
  suite/test_catch_up_requests.py::
  test_a_stuck_height_sends_the_latest_commit_certificate_to_every_validator.
"""

from __future__ import annotations

from typing import Any

from aethel.consensus.events import Send
from aethel.consensus.messages import CommitCertificate, Message, ViewChange
from aethel.consensus.phases import ViewEvent
from aethel.consensus.replica import Replica
from aethel.consensus.timeouts import compute_timeout
from conformance.mutants import Mutant, replica_implementation


class _OutsiderAsker(Replica):
    """How an outsider writes the request of "Catching up": note the signed sender as ahead,
    and once the validators ahead hold more than W/3, send them this height's VIEW-CHANGE
    whenever :meth:`_asks_now` says so (the reference paces it by timeout(latency, 0))."""

    def _asks_now(self) -> bool:
        raise NotImplementedError

    def _enough_ahead(self, stake: int) -> bool:
        return 3 * stake > self.validators.total_stake

    def _view_to_ask(self) -> int:
        return self.view + 1

    def _note_ahead(self, message: Message, height: int) -> None:
        validator = self._signed_sender(message, self.current.ahead)
        if validator is None:
            return
        self.current.ahead.add(validator)
        stake = sum(self.validators.stake_of(v) for v in self.current.ahead)
        if not self._enough_ahead(stake) or not self._asks_now():
            return
        if self.current.own_view_change is None:
            self._start_view_change(self._view_to_ask(), ViewEvent.CATCH_UP)
        change = self.current.own_view_change
        if change is not None and change.height == self.height:
            for peer in sorted(self.current.ahead - {self.id}):
                self._out.append(Send(peer, change))


class AskOncePerHeightReplica(_OutsiderAsker):
    """Defect: the request for the certificate of this height goes out once per height.

    It keeps its own record of the heights it asked about; a later height's message that
    arrives after the request was sent adds the sender to the validators seen ahead and
    nothing more, however long the answers take.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.asked_heights: set[int] = set()

    def _asks_now(self) -> bool:
        if self.height in self.asked_heights:
            return False
        self.asked_heights.add(self.height)
        return True


class OnlyAskedHeightReplica(Replica):
    """Defect: a stale VIEW-CHANGE is answered with the certificate of its height alone.

    Pacing per asker is kept (at most once per timeout(latency, 0)); the latest certificate,
    the hint to sync to for a validator more than one height behind, is never sent.
    """

    def _help_lagging(self, validator: str, height: int) -> None:
        if not _answer_due(self, validator):
            return
        certificate = self.services.store.get_certificate(height)
        if certificate is not None:
            self.current.helped[validator] = self._now
            self._out.append(Send(validator, certificate))


def _answer_due(replica: Replica, validator: str) -> bool:
    """Whether an outsider's replica answers ``validator`` now: another member, not answered
    within timeout(latency, 0) (the reference's pace, kept by the mutants that change what the
    answer holds)."""
    if validator == replica.id or replica.validators.get(validator) is None:
        return False
    answered = replica.current.helped.get(validator)
    pace = compute_timeout(replica.observed_latency(), 0)
    return answered is None or replica._now - answered >= pace


class AlwaysLatestFirstReplica(Replica):
    """Defect: a stale VIEW-CHANGE is answered with the latest certificate and then the asked
    height's, whatever the distance: one height behind, the asker gets the same certificate
    twice."""

    def _help_lagging(self, validator: str, height: int) -> None:
        if not _answer_due(self, validator):
            return
        store = self.services.store
        certificate = store.get_certificate(height)
        latest = store.get_certificate(self.height - 1)
        if certificate is not None and latest is not None:
            self.current.helped[validator] = self._now
            self._out.append(Send(validator, latest))
            self._out.append(Send(validator, certificate))


class TrustsLaterSenderReplica(Replica):
    """Defect: the validator a message of a later height names is counted as ahead as it
    arrives; its signature is checked only when the buffered message is replayed at that
    height. Two unsigned messages naming more than W/3 move the replica out of its view."""

    def _signed_sender(self, message: Message, known: set[str]) -> str | None:
        validator = getattr(message, "validator", None)
        return validator if isinstance(validator, str) else None


class AnswersEveryStaleReplica(Replica):
    """Defect: every stale VIEW-CHANGE from a member is answered, with no pacing per asker.

    It sends the latest certificate first when the asker is more than one height behind, as
    R3.5 wants, but keeps no record of whom it answered when.
    """

    def _help_lagging(self, validator: str, height: int) -> None:
        store = self.services.store
        certificate = store.get_certificate(height)
        if validator == self.id or self.validators.get(validator) is None or certificate is None:
            return
        if self.height - 1 > height:
            latest = store.get_certificate(self.height - 1)
            if latest is not None:
                self._out.append(Send(validator, latest))
        self._out.append(Send(validator, certificate))


class AsksOnEveryMessageReplica(_OutsiderAsker):
    """Defect: the request for this height's certificate goes out again on every message of a
    later height, as soon as the validators seen ahead hold more than W/3 (no pacing)."""

    def _asks_now(self) -> bool:
        return True


class _PacedAsker(_OutsiderAsker):
    """The outsider's request paced as the reference paces it: at most once per
    timeout(latency, 0) per height."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.asked_at: dict[int, int] = {}

    def _asks_now(self) -> bool:
        last = self.asked_at.get(self.height)
        if last is not None and self._now - last < compute_timeout(self.observed_latency(), 0):
            return False
        self.asked_at[self.height] = self._now
        return True


class AsksAtAThirdReplica(_PacedAsker):
    """Defect: "one of them is honest" read as "a third of the stake": the request goes out
    once the validators seen ahead hold at least W/3."""

    def _enough_ahead(self, stake: int) -> bool:
        return 3 * stake >= self.validators.total_stake


class AsksForAViewAheadReplica(_PacedAsker):
    """Defect: the VIEW-CHANGE that asks for the certificate is for the view after next (the
    next one may be changing already, so skip it)."""

    def _view_to_ask(self) -> int:
        return self.view + 2


class EveryLaterMessageSignedReplica(Replica):
    """Defect: every message of a later height is taken for one signed by the validator it
    names, certificates too (which name none: the replica fails on them)."""

    def _signed_sender(self, message: Any, known: set[str]) -> str | None:
        validator: str = message.validator
        if validator in known or self._signed_by_member(message):
            return validator
        return None


class SyncsOnAnyLaterCertificateReplica(Replica):
    """Defect: any certificate of a later height starts a state sync, whoever signed it: the
    chain check at the end of the sync still keeps the state safe, so why count its signers?"""

    def _is_catch_up_hint(self, cert: CommitCertificate) -> str:
        return ""


class AnswersForgedStaleReplica(Replica):
    """Defect: a VIEW-CHANGE of a committed height is answered for the validator it names
    without a look at its signature (the certificates are public, so why check?); a forged
    one also uses up that validator's one answer per timeout(latency, 0)."""

    def _on_stale_view_change(self, vc: ViewChange) -> None:
        self._help_lagging(vc.validator, vc.height)


class CertificatesOnRequestReplica(Replica):
    """Defect: a view timeout moves to the next view, or re-sends the VIEW-CHANGE of a view
    still waiting, and nothing else; certificates go only to validators that ask."""

    def _on_view_timeout(self) -> None:
        if self._timer_superseded():
            return
        if self.current.established:
            self.stats.timeouts += 1
            self._start_view_change(self.view + 1)
        else:
            self._resend_view_change()


AskOncePerHeight = replica_implementation(
    "AskOncePerHeight", __name__, replica_class=AskOncePerHeightReplica
)
OnlyAskedHeight = replica_implementation(
    "OnlyAskedHeight", __name__, replica_class=OnlyAskedHeightReplica
)
AlwaysLatestFirst = replica_implementation(
    "AlwaysLatestFirst", __name__, replica_class=AlwaysLatestFirstReplica
)
TrustsLaterSender = replica_implementation(
    "TrustsLaterSender", __name__, replica_class=TrustsLaterSenderReplica
)
AnswersEveryStale = replica_implementation(
    "AnswersEveryStale", __name__, replica_class=AnswersEveryStaleReplica
)
AsksOnEveryMessage = replica_implementation(
    "AsksOnEveryMessage", __name__, replica_class=AsksOnEveryMessageReplica
)
AsksAtAThird = replica_implementation("AsksAtAThird", __name__, replica_class=AsksAtAThirdReplica)
AsksForAViewAhead = replica_implementation(
    "AsksForAViewAhead", __name__, replica_class=AsksForAViewAheadReplica
)
EveryLaterMessageSigned = replica_implementation(
    "EveryLaterMessageSigned", __name__, replica_class=EveryLaterMessageSignedReplica
)
SyncsOnAnyLaterCertificate = replica_implementation(
    "SyncsOnAnyLaterCertificate", __name__, replica_class=SyncsOnAnyLaterCertificateReplica
)
AnswersForgedStale = replica_implementation(
    "AnswersForgedStale", __name__, replica_class=AnswersForgedStaleReplica
)
CertificatesOnRequest = replica_implementation(
    "CertificatesOnRequest", __name__, replica_class=CertificatesOnRequestReplica
)


MUTANTS = [
    Mutant(
        "catch-up-asked-once-per-height",
        "a lagging replica asks the validators ahead for its height's certificate once per "
        "height, not again while their later messages keep coming",
        ("R3.5",),
        ("replica",),
        AskOncePerHeight,
    ),
    Mutant(
        "catch-up-answers-only-asked-height",
        "a validator far ahead answers a stale VIEW-CHANGE with that height's certificate "
        "only, never its latest certificate first",
        ("R3.5",),
        ("replica",),
        OnlyAskedHeight,
    ),
    Mutant(
        "catch-up-always-sends-the-latest-first",
        "a validator past a height answers a stale VIEW-CHANGE with its latest certificate "
        "first even one height past it, sending the same certificate twice",
        ("R3.5",),
        ("replica",),
        AlwaysLatestFirst,
    ),
    Mutant(
        "catch-up-trusts-unsigned-later-heights",
        "a message of a later height counts its named validator as ahead before its signature "
        "is checked: forged messages move a replica out of its view",
        ("R7.5",),
        ("replica",),
        TrustsLaterSender,
    ),
    Mutant(
        "catch-up-answers-every-stale-view-change",
        "a validator past a height answers every VIEW-CHANGE of that height with the "
        "certificate(s), not at most once per timeout(latency, 0) per asker",
        ("R3.5", "N6"),
        ("replica",),
        AnswersEveryStale,
    ),
    Mutant(
        "catch-up-asks-on-every-message",
        "a lagging replica sends its request to the validators ahead on every later height's "
        "message, not at most once per timeout(latency, 0)",
        ("R3.5",),
        ("replica",),
        AsksOnEveryMessage,
    ),
    Mutant(
        "catch-up-asks-at-a-third",
        "a lagging replica asks for its height's certificate once validators holding exactly W/3 "
        "are seen at later heights, not more than W/3",
        ("R3.5",),
        ("replica",),
        AsksAtAThird,
    ),
    Mutant(
        "catch-up-asks-for-a-view-ahead",
        "a lagging replica asks for the certificate with a VIEW-CHANGE for the view after next, "
        "running views ahead of the others",
        ("R3.5",),
        ("replica",),
        AsksForAViewAhead,
    ),
    Mutant(
        "catch-up-every-later-message-read-as-signed",
        "every message of a later height is read as signed by the validator it names: a later "
        "height's certificate, which names none, makes the replica fail",
        ("R3.5",),
        ("replica",),
        EveryLaterMessageSigned,
    ),
    Mutant(
        "catch-up-syncs-on-any-later-certificate",
        "any commit certificate of a later height starts a state sync, however little stake "
        "signed it",
        ("R3.5",),
        ("replica",),
        SyncsOnAnyLaterCertificate,
    ),
    Mutant(
        "catch-up-answers-forged-stale-view-changes",
        "a VIEW-CHANGE of a committed height is answered without checking its signature: a "
        "forged one takes the named validator's one answer per view-0 timeout",
        ("R7.5",),
        ("replica",),
        AnswersForgedStale,
    ),
    Mutant(
        "catch-up-certificates-only-on-request",
        "a replica whose view times out (or that re-sends its VIEW-CHANGE) does not send its "
        "latest commit certificate to every validator",
        ("R3.5",),
        ("replica",),
        CertificatesOnRequest,
    ),
]
