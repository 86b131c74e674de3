"""The first written mutants of five rules that had none (R6.5, T22.2c, T22.1a, R8.3, T22.2b).

A rule whose cases no written defect has failed is a rule whose cases are unproven. These are the
outsider's mistakes for four of them, each a plausible reading of the rule's sentence:

* ``timeout-three-times-latency``: the view timeout keeps pace with the latency at 3 times it,
  not 4 (R6.5: "never below 4 times its observed one-way network latency");
* ``batch-verdict-all-or-nothing``: a batch signature check answers for the batch (every item
  true, or every item false), as an aggregate check does (T22.2c: "a verdict per item");
* ``batch-update-sets-before-deletes``: batch_update applies the batch's sets, then its
  deletes, so a key deleted and set again in one batch ends deleted (T22.1a: "equals sequential
  updates");
* ``accuracy-alert-at-95``: the accuracy alert opens at 95% as well as below (R8.3: "falls below
  95%");
* ``batch-skips-repeated-messages`` and ``batch-sorted-by-phase``: a batch of messages handles
  each distinct message once, or the proposals first, then the votes, then the certificates
  (T22.2b: batching "equals one-at-a-time processing"). The batch case fed them only its recorded
  trace, in order and without repeats, and both passed; its ``shuffled-with-duplicates``
  arrangement, written for them, fails each.

The first four were found caught by the cases of their capabilities when written (the timeout
and alert vectors, conformance/suite/test_verifier.py and test_state_tree.py); selftest runs
them with the rest.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

from aethel.consensus.events import Output
from aethel.consensus.messages import Message
from aethel.consensus.replica import Replica
from conformance.adapters.api import JSON, Hex
from conformance.adapters.reference import (
    ReferenceImplementation,
    ReferenceStateTree,
    ReferenceTree,
)
from conformance.adapters.reference_errors import rejecting
from conformance.adapters.reference_monitoring import ReferenceMonitoring
from conformance.adapters.reference_proofs import ReferenceVerifier
from conformance.adapters.reference_replica import ReferenceReplica
from conformance.mutants import Mutant, replica_implementation

SECOND_NS = 1_000_000_000


class ThreeTimesReplica(ReferenceReplica):
    """Defect: timeout = max(4 s, 3 x latency) x 2^min(view, 6)."""

    @rejecting
    def timeout(self, observed_latency_ns: int, view: int) -> int:
        return max(4 * SECOND_NS, 3 * observed_latency_ns) << min(view, 6)


class ThreeTimesImplementation(ReferenceImplementation):
    name = "mutant-timeout-three-times-latency"

    def make_replica(self) -> object:
        return ThreeTimesReplica()


class AllOrNothingVerifier(ReferenceVerifier):
    """Defect: one verdict for the whole batch, repeated per item."""

    @rejecting
    def batch_verify_signatures(self, items: list[JSON]) -> list[bool]:
        verdicts = super().batch_verify_signatures(items)
        return [all(verdicts)] * len(verdicts)


class AllOrNothingImplementation(ReferenceImplementation):
    name = "mutant-batch-verdict-all-or-nothing"

    def make_verifier(self) -> object:
        return AllOrNothingVerifier()


class SetsFirstTree(ReferenceTree):
    """Defect: the batch's sets are applied before its deletes."""

    @rejecting
    def batch_update(self, ops: list[JSON]) -> Hex:
        sets = [op for op in ops if isinstance(op, dict) and op.get("op") == "set"]
        others = [op for op in ops if not (isinstance(op, dict) and op.get("op") == "set")]
        return super().batch_update(sets + others)


class SetsFirstStateTree(ReferenceStateTree):
    tree_class = SetsFirstTree


class SetsFirstImplementation(ReferenceImplementation):
    name = "mutant-batch-update-sets-before-deletes"

    def make_state_tree(self) -> object:
        return SetsFirstStateTree()


class AtNinetyFiveMonitoring(ReferenceMonitoring):
    """Defect: the alert rule written with <= 95%: a window of exactly 95% correct alerts."""

    @rejecting
    def accuracy_alerts(self, verdicts: list[JSON]) -> list[JSON]:
        super().accuracy_alerts(verdicts)  # the reference's checks of the input's shape
        windows: dict[str, deque[bool]] = {}
        alerting: set[str] = set()
        alerts: list[JSON] = []
        for index, item in enumerate(verdicts):
            validator, correct = item["validator"], item["correct"]
            window = windows.setdefault(validator, deque(maxlen=100))
            window.append(correct)
            if len(window) < 20:
                continue
            low = sum(window) * 100 <= 95 * len(window)
            if low and validator not in alerting:
                alerting.add(validator)
                alerts.append(
                    {
                        "index": index,
                        "validator": validator,
                        "correct": sum(window),
                        "verdicts": len(window),
                    }
                )
            elif not low:
                alerting.discard(validator)
        return alerts


class AtNinetyFiveImplementation(ReferenceImplementation):
    name = "mutant-accuracy-alert-at-95"

    def make_monitoring(self) -> object:
        return AtNinetyFiveMonitoring()


class DistinctOnceReplica(Replica):
    """Defect: a message repeated within a batch is handled once."""

    def batch_process_messages(
        self, messages: Sequence[Message], now: int, senders: Sequence[str] | None = None
    ) -> list[Output]:
        distinct = list(dict.fromkeys(messages))
        return super().batch_process_messages(distinct, now)


#: The order a phase-sorting batch handles messages in (unknown types last).
PHASES = ("pre-prepare", "new-view", "prepare", "prepare-certificate", "commit")


class PhaseSortedReplica(Replica):
    """Defect: a batch is handled proposals first, then votes, then certificates."""

    def batch_process_messages(
        self, messages: Sequence[Message], now: int, senders: Sequence[str] | None = None
    ) -> list[Output]:
        def phase(message: Message) -> int:
            return PHASES.index(message.TYPE) if message.TYPE in PHASES else len(PHASES)

        return super().batch_process_messages(sorted(messages, key=phase), now)


DistinctOnce = replica_implementation("DistinctOnce", __name__, replica_class=DistinctOnceReplica)
PhaseSorted = replica_implementation("PhaseSorted", __name__, replica_class=PhaseSortedReplica)


def _mutant(name: str, defect: str, rule: str, capability: str, build: Any) -> Mutant:
    return Mutant(name, defect, (rule,), (capability,), build)


MUTANTS = [
    _mutant(
        "timeout-three-times-latency",
        "the view timeout is max(4 s, 3 x latency) x 2^min(view, 6): below 4 times the latency",
        "R6.5",
        "replica",
        ThreeTimesImplementation,
    ),
    _mutant(
        "batch-verdict-all-or-nothing",
        "a batch signature check gives every item the batch's verdict: all true or all false",
        "T22.2c",
        "verifier",
        AllOrNothingImplementation,
    ),
    _mutant(
        "batch-update-sets-before-deletes",
        "batch_update applies the batch's sets before its deletes",
        "T22.1a",
        "state-tree",
        SetsFirstImplementation,
    ),
    _mutant(
        "accuracy-alert-at-95",
        "the accuracy alert opens at exactly 95% correct, not only below",
        "R8.3",
        "monitoring",
        AtNinetyFiveImplementation,
    ),
    _mutant(
        "batch-skips-repeated-messages",
        "a batch of messages handles each distinct message once",
        "T22.2b",
        "replica",
        DistinctOnce,
    ),
    _mutant(
        "batch-sorted-by-phase",
        "a batch of messages is handled proposals first, then votes, then certificates",
        "T22.2b",
        "replica",
        PhaseSorted,
    ),
]
