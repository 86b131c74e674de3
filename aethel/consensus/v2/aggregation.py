"""A collector's vote aggregation for one target: optimistic, with a search for bad votes (V2.9).

Votes are counted toward q(W) before their signatures are checked. Once the unchecked votes and
the checked ones reach q(W), all of them are aggregated and checked once. Only if that fails are
the unchecked votes searched by halves (each half's aggregate checked on its own) down to the
single bad ones, which are dropped. The votes kept always aggregate to a valid signature, so a
certificate built from them verifies (V2.8).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aethel.consensus.v2.certificate import Certificate, VoteTarget, bitmap
from aethel.consensus.v2.checks import DIRECT, AggregateChecker
from aethel.consensus.v2.roster import Roster
from aethel.crypto import bls


@dataclass(slots=True)
class VoteAggregator:
    """Votes for one target from one roster; :meth:`certificate` once they reach q(W)."""

    roster: Roster
    target: VoteTarget
    #: Votes whose signatures are part of a verified aggregate: index -> signature.
    kept: dict[int, bls.Signature] = field(default_factory=dict)
    #: Votes counted but not yet checked.
    pending: dict[int, bls.Signature] = field(default_factory=dict)
    #: Pairing checks made so far (each aggregate check, each single check).
    checks: int = 0
    #: (index, signature bytes) found invalid: never checked again.
    discarded: set[tuple[int, bytes]] = field(default_factory=set)
    #: The BLS operations (a simulator's charge CPU time).
    checker: AggregateChecker = field(default=DIRECT, repr=False)
    #: The members and the aggregate of the last set of votes whose aggregate verified: the
    #: certificate reuses that sum instead of adding those signatures again.
    verified: tuple[frozenset[int], bls.Signature] | None = field(default=None, repr=False)

    def add(self, index: int, signature: bls.Signature) -> None:
        """Take a vote by member ``index``; one vote per member (V2.9).

        A second, different signature for a member whose first is unchecked is checked at once
        and kept if valid; for a member already kept it cannot be valid (BLS signing is
        deterministic) and is dropped.
        """
        if not 0 <= index < len(self.roster):
            return
        if index in self.kept or (index, signature.data) in self.discarded:
            return
        first = self.pending.get(index)
        if first is None:
            self.pending[index] = signature
            return
        if first.data == signature.data:
            return
        self.checks += 1
        key = self.roster.members[index].key
        if self.checker.verify(key, self.target.message(), signature):
            del self.pending[index]
            self.kept[index] = signature
        else:
            self.discarded.add((index, signature.data))

    def stake(self) -> int:
        """Return the stake of the votes held (kept and unchecked)."""
        return self.roster.stake_of([*self.kept, *self.pending])

    def may_hold_quorum(self) -> bool:
        """Return whether :meth:`stake` reaches q(W); fewer votes than q(W) needs at the largest
        stake answer at once, without summing the members' stakes (the same answer)."""
        held = len(self.kept) + len(self.pending)
        if held * self.roster.max_stake < self.roster.quorum:
            return False
        return self.stake() >= self.roster.quorum

    def certificate(self) -> Certificate | None:
        """Return a certificate of every good vote once they hold q(W), else None."""
        if self.stake() < self.roster.quorum:
            return None
        if self.pending:
            self._settle(sorted(self.pending))
        if self.roster.stake_of(list(self.kept)) < self.roster.quorum:
            return None
        members = sorted(self.kept)
        parts = [self.kept[i] for i in members]
        if self.verified is not None and self.verified[0] <= self.kept.keys():
            covered, partial = self.verified
            parts = [partial, *(self.kept[i] for i in members if i not in covered)]
        aggregate = parts[0] if len(parts) == 1 else self.checker.aggregate(parts)
        return Certificate(self.target, bitmap(members, len(self.roster)), aggregate)

    def _settle(self, indices: list[int]) -> None:
        """Check ``indices`` (all pending) together; on failure split them in halves."""
        if self._verifies(indices):
            for i in indices:
                self.kept[i] = self.pending.pop(i)
            return
        if len(indices) == 1:
            index = indices[0]
            self.discarded.add((index, self.pending.pop(index).data))
            return
        middle = len(indices) // 2
        self._settle(indices[:middle])
        self._settle(indices[middle:])

    def _verifies(self, indices: list[int]) -> bool:
        self.checks += 1
        keys = [self.roster.members[i].key for i in indices]
        signatures = [self.pending[i] for i in indices]
        aggregate = signatures[0] if len(signatures) == 1 else self.checker.aggregate(signatures)
        if not self.checker.fast_aggregate_verify(keys, self.target.message(), aggregate):
            return False
        self.verified = (frozenset(indices), aggregate)
        return True
