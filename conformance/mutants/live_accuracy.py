"""Mutants of a node's live verification accuracy (capability ``live-accuracy``, R8.3).

Each is the reference with a monitor that judges the votes it sees another way; its consensus
outputs and its accuracy tracker (the rule of R8.3, fed verdicts) are the reference's:

* ``accuracy-own-votes-unjudged``: the node judges the votes it receives and never its own
  (R8.3: "the node's own votes count too").
* ``accuracy-signed-votes-trusted``: a validly signed vote is judged correct at once, as the
  vote claims, instead of against the node's own validation of the block (a false claimer's
  accuracy stays 1).

Each is caught by suite/test_monitoring.py::
test_live_accuracy_judges_each_vote_once_and_alerts_the_false_claimer.
"""

from __future__ import annotations

from typing import Any

from aethel.consensus.messages import Commit, Prepare
from aethel.monitoring.node import NodeMonitor
from conformance.adapters.reference_replica import ReferenceReplicaObject
from conformance.mutants import Mutant, replica_implementation

CAPABILITIES = ("replica", "live-accuracy")


class OwnVotesUnjudged(NodeMonitor):
    """Defect: the node's own PREPAREs and COMMITs are never judged."""

    def _on_vote(self, vote: Prepare | Commit) -> None:
        if vote.validator != self.node:
            super()._on_vote(vote)


class SignedVotesTrusted(NodeMonitor):
    """Defect: each validly signed vote is a correct verdict, once per (validator, height, view,
    vote type), whatever the node finds of the block."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._counted: set[tuple[str, int, int, str]] = set()

    def _on_vote(self, vote: Prepare | Commit) -> None:
        key = (vote.validator, vote.height, vote.view, vote.TYPE)
        if key not in self._counted:
            self._counted.add(key)
            self._judge([(vote.validator, True)])


def watched_by(monitor: type[NodeMonitor]) -> Any:
    """Return the ``__init__`` of a reference replica object whose node is watched by
    ``monitor`` in place of the reference's monitor."""

    def init(self: ReferenceReplicaObject, *args: Any, **kwargs: Any) -> None:
        ReferenceReplicaObject.__init__(self, *args, **kwargs)
        self.monitor = monitor(self.monitor.node, self.replica.validators)

    return init


OwnVotesUnjudgedImplementation = replica_implementation(
    "OwnVotesUnjudgedImplementation", __name__, __init__=watched_by(OwnVotesUnjudged)
)
SignedVotesTrustedImplementation = replica_implementation(
    "SignedVotesTrustedImplementation", __name__, __init__=watched_by(SignedVotesTrusted)
)

MUTANTS = [
    Mutant(
        name="accuracy-own-votes-unjudged",
        defect="the node judges the votes it receives, never its own",
        breaks=("R8.3",),
        capabilities=CAPABILITIES,
        build=OwnVotesUnjudgedImplementation,
    ),
    Mutant(
        name="accuracy-signed-votes-trusted",
        defect="a validly signed vote is judged correct as it claims, not against the node's "
        "own validation of the block",
        breaks=("R8.3",),
        capabilities=CAPABILITIES,
        build=SignedVotesTrustedImplementation,
    ),
]
