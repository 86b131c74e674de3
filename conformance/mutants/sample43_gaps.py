"""Mutants for the gaps the mechanical sample of 80 (seed 43) found: each is the way an
outsider's implementation could get the behaviour wrong, caught by the case written for the
mechanical survivor (reports/selftest/triage-sample80-seed43.md).

* ``batch-signatures-not-counted``: the engine counts a signature where it checks one message;
  the batch's one check of all its messages' signatures is not counted (T22.2e); caught by
  suite/test_replica_counters.py::test_signatures_checked_in_a_batch_count. The reference had
  this defect until the case was written.
* ``v2-single-vote-checks-not-counted``: ``signatures_checked`` counts Ed25519 checks and
  certificates; a version-2 vote whose BLS signature is checked alone is not counted (T22.2e);
  caught by suite/test_replica_v2.py::
  test_a_later_heights_version_2_votes_are_checked_and_counted.
* ``v2-monitor-counts-listed-votes``: the monitoring view counts a height's participants as the
  votes its commit certificate lists, which a version-2 certificate does not (it names them by
  a bitmap), so every version-2 height shows 0 participants (R8.1); caught by suite/
  test_monitoring.py's scenario in version 2 (the seed-41 survivor
  ``aethel/monitoring/node.py:NodeMonitor.on_commit:RemoveStatement:d943ce2b`` had no
  version-2 monitoring case; it still has none that kills it, see the triage of seed 43).
* ``view-change-shared-again``: the engine shares its own VIEW-CHANGE with everyone when the view
  is established from the others' requests, without remembering that it had sent it to
  everyone already (R2.6, N6); caught by suite/test_waiting_view.py::
  test_a_view_change_already_shared_is_not_sent_again.
* ``v2-bitmap-byte-per-started-eight``: the signer bitmap is ``n // 8 + 1`` bytes, one too many
  whenever n is a multiple of 8 (V2.7); caught by suite/test_consensus_v2.py::
  test_the_bitmap_has_a_bit_per_member_rounded_up_to_bytes.
* ``v2-collector-ties-to-the-earlier-region``: ties between collector regions go to the earlier
  region of the table, never first to the leader's (V2.10); caught by suite/
  test_consensus_v2.py::test_ties_go_to_the_leaders_region_then_to_the_earlier_one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import aethel.consensus.v2.collector
from aethel.consensus.events import Committed, Output
from aethel.consensus.messages import Commit, Message, Prepare, ViewChange
from aethel.consensus.replica import Replica
from aethel.consensus.v2.aggregation import VoteAggregator
from aethel.consensus.v2.certificate import Certificate, VoteTarget
from aethel.consensus.v2.collector import (
    RegionTable,
    floor_ms,
)
from aethel.consensus.v2.roster import Roster
from aethel.monitoring.node import HeightRecord, NodeMonitor
from conformance.adapters.reference import ReferenceImplementation
from conformance.adapters.reference_replica import ReferenceReplicaObject
from conformance.adapters.reference_v2 import ReferenceConsensusV2
from conformance.mutants import CommandsUnderPatch, Mutant, replica_implementation

# ----------------------------------------------------------------------------- counters


class BatchUncounted(Replica):
    """Defect: ``signatures_checked`` counts the checks of single messages; the batch's check of
    every signature at once goes uncounted."""

    def batch_process_messages(
        self, messages: Sequence[Message], now: int, senders: Sequence[str] | None = None
    ) -> list[Output]:
        checked = len({item for m in messages for item in self._signature_items(m)})
        outputs = super().batch_process_messages(messages, now, senders)
        self.stats.signatures_checked -= checked
        return outputs


BatchSignaturesUncounted = replica_implementation(
    "BatchSignaturesUncounted", __name__, replica_class=BatchUncounted
)


class BlsVotesUncounted(Replica):
    """Defect: the check of one version-2 vote's BLS signature is not counted."""

    def _bls_vote_valid(self, vote: Prepare | Commit) -> bool:
        before = self.stats.signatures_checked
        valid = super()._bls_vote_valid(vote)
        self.stats.signatures_checked = before
        return valid


SingleBlsVotesUncounted = replica_implementation(
    "SingleBlsVotesUncounted", __name__, replica_class=BlsVotesUncounted
)


# ----------------------------------------------------------------------------- monitoring


class ListedVotesMonitor(NodeMonitor):
    """Defect: a height's participants are the votes its certificate lists (none in version 2)."""

    def on_commit(self, committed: Committed) -> HeightRecord:
        record = super().on_commit(committed)
        record = replace(record, participants=len(committed.certificate.votes))
        self.records[-1] = record
        self.metrics.participants.set(record.participants)
        return record


class ListedVotesReplicaObject(ReferenceReplicaObject):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.monitor = ListedVotesMonitor(self.monitor.node, self.replica.validators)


ListedVotesImplementation = replica_implementation(
    "ListedVotesImplementation", __name__, base=ListedVotesReplicaObject
)


# ----------------------------------------------------------------------------- view change


class SharedAgain(Replica):
    """Defect: the engine does not remember that its VIEW-CHANGE went to everyone, so when the
    view is established from the others' requests it shares its own once more."""

    def _send_view_change(self, vc: ViewChange, to_everyone: bool) -> None:
        super()._send_view_change(vc, to_everyone)
        self.current.own_view_change_public = False


ViewChangeSharedAgain = replica_implementation(
    "ViewChangeSharedAgain", __name__, replica_class=SharedAgain
)


# ----------------------------------------------------------------------------- version 2


def _bitmap_one_more(indices: list[int], size: int) -> bytes:
    data = bytearray(size // 8 + 1)
    for i in indices:
        data[i // 8] |= 0x80 >> (i % 8)
    return bytes(data)


class OneMoreByteAggregator(VoteAggregator):
    """Writes its certificates' bitmaps ``n // 8 + 1`` bytes long."""

    def certificate(self) -> Certificate | None:
        made = super().certificate()
        if made is None:
            return None
        return Certificate(made.target, _bitmap_one_more(made.members(), len(self.roster)),
                           made.aggregate)  # fmt: skip


class BitmapOneByteMore(ReferenceConsensusV2):
    """Defect: a bitmap of n members takes ``n // 8 + 1`` bytes (V2.7: ceil(n / 8))."""

    def aggregator(self, roster: Roster, target: VoteTarget) -> VoteAggregator:
        return OneMoreByteAggregator(roster, target)


def _ties_to_the_earlier_region(
    table: RegionTable, stakes: Sequence[int], quorum: int, leader: int
) -> int:
    """The collector region of least floor, ties going to the earlier region of the table."""
    live = [r for r, stake in enumerate(stakes) if stake > 0]
    return min(live, key=lambda c: (sum(floor_ms(table, stakes, quorum, leader, c)), c))


class TiesToEarlierRegion(CommandsUnderPatch, ReferenceConsensusV2):
    """Defect: of the regions of least floor, the earliest in the table collects; V2.10 gives
    a tie to the leader's region first."""

    patch = (aethel.consensus.v2.collector, "collector_region", _ties_to_the_earlier_region)


class BitmapOneByteMoreImplementation(ReferenceImplementation):
    name = "mutant-v2-bitmap-byte-per-started-eight"

    def make_consensus_v2(self) -> object:
        return BitmapOneByteMore()


class TiesToEarlierRegionImplementation(ReferenceImplementation):
    name = "mutant-v2-collector-ties-to-the-earlier-region"

    def make_consensus_v2(self) -> object:
        return TiesToEarlierRegion()


MUTANTS = [
    Mutant(
        name="batch-signatures-not-counted",
        defect="signatures checked in a batch are not counted; only single checks are",
        breaks=("T22.2e",),
        capabilities=("replica",),
        build=BatchSignaturesUncounted,
    ),
    Mutant(
        name="v2-single-vote-checks-not-counted",
        defect="a version-2 vote's BLS signature checked alone is not counted as checked",
        breaks=("T22.2e",),
        capabilities=("replica",),
        build=SingleBlsVotesUncounted,
    ),
    Mutant(
        name="v2-monitor-counts-listed-votes",
        defect="a height's participants are the votes its certificate lists: 0 in version 2",
        breaks=("R8.1",),
        capabilities=("replica", "monitoring"),
        build=ListedVotesImplementation,
    ),
    Mutant(
        name="view-change-shared-again",
        defect="a VIEW-CHANGE already sent to everyone is shared again when the view is "
        "established from the others' requests",
        breaks=("R2.6",),
        capabilities=("replica",),
        build=ViewChangeSharedAgain,
    ),
    Mutant(
        name="v2-bitmap-byte-per-started-eight",
        defect="a signer bitmap of n members is n // 8 + 1 bytes, one too many when 8 divides n",
        breaks=("V2.7",),
        capabilities=("consensus-v2",),
        build=BitmapOneByteMoreImplementation,
    ),
    Mutant(
        name="v2-collector-ties-to-the-earlier-region",
        defect="of the regions of least floor the earliest collects, not the leader's first",
        breaks=("V2.10",),
        capabilities=("consensus-v2",),
        build=TiesToEarlierRegionImplementation,
    ),
]
