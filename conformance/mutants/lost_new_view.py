"""Mutants of the leader's answer to a validator that asks again for its view (R2.6, R7.5;
spec/consensus.md "View change": the same NEW-VIEW, at most once per timeout(latency, 0) per
validator, for a request it had already counted).

Each is a leader written by someone who read the paragraph for one of its three parts:

* ``new-view-sent-once``: the leader broadcasts its NEW-VIEW once and treats a VIEW-CHANGE it
  already counted as a duplicate; a validator that lost the NEW-VIEW waits for it until the
  view times out. Caught by suite/test_lost_new_view.py::
  test_a_leader_sends_its_new_view_again_to_a_validator_that_asks_again.
* ``new-view-sent-on-every-request``: the leader answers every repeated request with its
  NEW-VIEW (a block each time), however often the same validator asks. Caught by
  test_a_leader_answers_one_validator_at_most_once_per_view_0_timeout.
* ``new-view-turn-taken-by-forged-request``: the leader notes the time of a validator's answer
  before checking the request's signature (a duplicate of a counted request, so why verify it
  before the pace?): a forged request naming the validator uses up its one answer per
  interval. The reference had this defect until commit c191bd7. Caught by
  test_a_forged_request_for_the_new_view_takes_no_validators_turn (both parameters).
"""

from __future__ import annotations

from aethel.consensus.events import Send
from aethel.consensus.messages import ViewChange
from aethel.consensus.replica import Replica
from aethel.consensus.timeouts import compute_timeout
from conformance.mutants import Mutant, replica_implementation


class _OutsiderLeader(Replica):
    """How an outsider writes the answer: find this view's NEW-VIEW, skip a request not
    counted before (it is news to the tally), then apply the paced, signed answer as
    :meth:`_answer` says."""

    def _send_new_view_again(self, vc: ViewChange) -> None:
        new_view = self.current.new_views.get(vc.view)
        if new_view is None or self.current.view_tally.is_news(vc.validator, vc.view):
            return
        if self._answer(vc):
            self._out.append(Send(vc.validator, new_view))

    def _answer(self, vc: ViewChange) -> bool:
        raise NotImplementedError


class SentOnceLeader(_OutsiderLeader):
    """Defect: a request already counted is a duplicate, and duplicates are dropped."""

    def _answer(self, vc: ViewChange) -> bool:
        return False


class EveryRequestLeader(_OutsiderLeader):
    """Defect: every repeated request whose signature verifies gets the NEW-VIEW."""

    def _answer(self, vc: ViewChange) -> bool:
        return self._signed_by_member(vc)


class ForgedTurnLeader(_OutsiderLeader):
    """Defect: the pace is checked and the answer's time noted before the signature."""

    def _answer(self, vc: ViewChange) -> bool:
        key = (vc.view, vc.validator)
        last = self.current.new_view_resent_at.get(key)
        if last is not None and self._now - last < compute_timeout(self.observed_latency(), 0):
            return False
        self.current.new_view_resent_at[key] = self._now
        return self._signed_by_member(vc)


SentOnce = replica_implementation("SentOnce", __name__, replica_class=SentOnceLeader)
EveryRequest = replica_implementation("EveryRequest", __name__, replica_class=EveryRequestLeader)
ForgedTurn = replica_implementation("ForgedTurn", __name__, replica_class=ForgedTurnLeader)


MUTANTS = [
    Mutant(
        "new-view-sent-once",
        "a leader never sends its NEW-VIEW again: a validator that lost it waits for the view "
        "to time out",
        ("R2.6",),
        ("replica",),
        SentOnce,
    ),
    Mutant(
        "new-view-sent-on-every-request",
        "a leader answers every repeated request with its NEW-VIEW, unpaced",
        ("R2.6", "N6"),
        ("replica",),
        EveryRequest,
    ),
    Mutant(
        "new-view-turn-taken-by-forged-request",
        "a leader notes a validator's answer before checking the request's signature: a forged "
        "request uses up the validator's one answer per interval",
        ("R7.5", "R2.6"),
        ("replica",),
        ForgedTurn,
    ),
]
