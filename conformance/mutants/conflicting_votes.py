"""Mutants of how a replica counts votes for conflicting blocks (P7, spec/consensus.md).

When validators vote for conflicting blocks at one height, only a block whose COMMIT votes reach
q(W) stake commits (P7). An implementer who keeps one tally of COMMITs per height and view, as
if every COMMIT of the view were for the block the replica holds, commits that block on stake
that voted for something else.
"""

from __future__ import annotations

from dataclasses import replace

from aethel.consensus.messages import Commit
from aethel.consensus.replica import Replica
from conformance.mutants import Mutant, replica_implementation


class CommitsPerViewReplica(Replica):
    """Defect: COMMITs are tallied per height and view, not per block: a COMMIT, validly signed
    by a member, for another block at the replica's height and view counts towards the block the
    replica holds for that view (P7)."""

    def _on_commit(self, vote: Commit, trusted: bool = False) -> None:
        held = self.proposals.get(vote.view)
        if held is not None and vote.height == self.height and vote.digest != held.digest:
            member = self.validators.get(vote.validator)
            if member is not None and self.services.checker.verify(
                member.public_key, vote.payload, vote.signature
            ):
                counted = replace(vote, digest=held.digest, post_root=held.execution.post_root)
                super()._on_commit(counted, trusted=True)
                return
        super()._on_commit(vote, trusted)


CommitsPerView = replica_implementation(
    "CommitsPerView", __name__, replica_class=CommitsPerViewReplica
)

MUTANTS = [
    Mutant(
        "commits-for-conflicting-blocks-counted",
        "COMMITs are tallied per height and view: one for a conflicting block counts for the "
        "block the replica holds",
        ("P7",),
        ("replica",),
        CommitsPerView,
    ),
]
