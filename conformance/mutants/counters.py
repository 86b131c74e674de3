"""Mutants of the engine's performance counters (T22.2e: ``get_performance_stats`` "returns
counters that match what the engine did").

Each is an engine whose counters start at zero, as the first counters case demands, and then
count something else than the work they name; every consensus output is the reference's:

* ``votes-sent-counts-prepares-only``: the count of votes sent is kept where the PREPARE is
  signed, so a COMMIT is never counted.
* ``timeouts-never-counted``: a view that times out is counted as the view change it starts,
  and the count of timeouts stays at zero.
* ``view-changes-counted-when-established``: a view change is counted when a NEW-VIEW
  establishes the view, not when the engine asks for it.
* ``signatures-counted-per-certificate``: a certificate counts as one signature checked,
  whatever number of votes it carries.

Each is caught by suite/test_replica_counters.py::test_counters_match_a_heights_work.
"""

from __future__ import annotations

from aethel.consensus.messages import Certificate, Commit, Prepare, ViewChange
from aethel.consensus.phases import ViewEvent
from aethel.consensus.replica import Replica
from aethel.consensus.validators import ValidatorSet
from conformance.mutants import Mutant, replica_implementation


class PreparesOnly(Replica):
    """Defect: a COMMIT sent is not counted as a vote."""

    def _send_vote(self, vote: Prepare | Commit | ViewChange, leader: str) -> None:
        super()._send_vote(vote, leader)
        if isinstance(vote, Commit):
            self.stats.votes_sent -= 1


class TimeoutsNeverCounted(Replica):
    """Defect: a view that times out starts a view change, counted as such, and nothing else."""

    def _on_view_timeout(self) -> None:
        before = self.stats.timeouts
        super()._on_view_timeout()
        self.stats.timeouts = before


class ViewChangesWhenEstablished(Replica):
    """Defect: the view change is counted once the new view is established."""

    def _start_view_change(self, view: int, event: ViewEvent = ViewEvent.TIMEOUT) -> None:
        before = self.stats.view_changes
        super()._start_view_change(view, event)
        self.stats.view_changes = before

    def _enter_new_view(self, view: int) -> None:
        super()._enter_new_view(view)
        self.stats.view_changes += 1


class OnePerCertificate(Replica):
    """Defect: a certificate checked counts one signature."""

    def _check_cert_by(self, cert: Certificate, validators: ValidatorSet) -> str:
        before = self.stats.signatures_checked
        reason = super()._check_cert_by(cert, validators)
        if self.stats.signatures_checked > before:
            self.stats.signatures_checked = before + 1
        return reason


VotesPreparesOnly = replica_implementation(
    "VotesPreparesOnly", __name__, replica_class=PreparesOnly
)
TimeoutsForgotten = replica_implementation(
    "TimeoutsForgotten", __name__, replica_class=TimeoutsNeverCounted
)
ViewChangesLate = replica_implementation(
    "ViewChangesLate", __name__, replica_class=ViewChangesWhenEstablished
)
SignaturesPerCertificate = replica_implementation(
    "SignaturesPerCertificate", __name__, replica_class=OnePerCertificate
)

MUTANTS = [
    Mutant(
        "votes-sent-counts-prepares-only",
        "the count of votes sent leaves out every COMMIT",
        ("T22.2e",),
        ("replica",),
        VotesPreparesOnly,
    ),
    Mutant(
        "timeouts-never-counted",
        "a view that times out is counted as a view change only: the count of timeouts stays 0",
        ("T22.2e",),
        ("replica",),
        TimeoutsForgotten,
    ),
    Mutant(
        "view-changes-counted-when-established",
        "a view change is counted when a NEW-VIEW establishes the view, not when it is asked for",
        ("T22.2e",),
        ("replica",),
        ViewChangesLate,
    ),
    Mutant(
        "signatures-counted-per-certificate",
        "a certificate counts as one signature checked, whatever number of votes it carries",
        ("T22.2e",),
        ("replica",),
        SignaturesPerCertificate,
    ),
]
