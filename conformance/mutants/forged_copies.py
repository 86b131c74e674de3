"""Mutants that trust what a signed message carries beside its signature (R7.5,
spec/consensus.md "Messages and certificates", spec/consensus-v2.md V2.2).

The reference had each until commit c191bd7 (found by the forged-message audit of 2026-12-06);
each is a mistake an independent implementer makes by checking the signature a message has and
taking what travels with it on trust:

* ``view-change-block-unsigned-accepted``: a new leader checks a VIEW-CHANGE's own signature,
  its prepared certificate and that the carried block has the claimed digest, but not that the
  block's proposer signed it (the digest leaves the signature out). One rewritten VIEW-CHANGE
  makes it re-propose a block every validator refuses: the height halts. Caught by
  suite/test_forged_copies.py::test_new_leader_refuses_a_view_change_whose_block_is_unsigned.
* ``refused-digest-by-copy``: a replica remembers a refused proposal by its digest, whatever
  block the refused copy carried, so the leader's PRE-PREPARE resent with a changed block makes
  it ignore the real one. Caught by
  suite/test_forged_copies.py::test_a_bad_copy_of_a_proposal_leaves_the_real_one_welcome.
* ``version-checked-only-on-version-2``: the check that a vote is of its height's version runs
  only when the replica is configured for version 2; on a version-1 network a vote with a
  96-byte (BLS-length) signature reaches the vote collector and raises. Caught by
  suite/test_forged_copies.py::test_a_version_2_length_vote_on_a_version_1_network_is_refused.
"""

from __future__ import annotations

from typing import Any

from aethel.consensus.messages import PrePrepare, ViewChange
from aethel.consensus.replica import Replica
from conformance.mutants import Mutant, replica_implementation


class UnsignedCarriedBlockReplica(Replica):
    """Defect: a VIEW-CHANGE's claim is judged by its certificate and the carried block's
    digest alone; the block's own signature is never checked."""

    def _carried_block_reason(self, vc: ViewChange) -> str:
        return ""


class RefusedByDigestReplica(Replica):
    """Defect: a refused PRE-PREPARE's digest is refused for the rest of the height, whatever
    block the refused copy carried (the leader's signature covers the digest, so why not?)."""

    def _carries_its_block(self, pp: PrePrepare) -> bool:
        return True


class VersionOnlyOnV2Replica(Replica):
    """Defect: votes are checked for their height's version only on a network configured for
    version 2; a version-1 replica takes a 96-byte signature's vote to its collector."""

    def _wrong_version(self, message: Any) -> bool:
        if self.activation is None:
            return False
        return bool(super()._wrong_version(message))


UnsignedCarriedBlock = replica_implementation(
    "UnsignedCarriedBlock", __name__, replica_class=UnsignedCarriedBlockReplica
)
RefusedByDigest = replica_implementation(
    "RefusedByDigest", __name__, replica_class=RefusedByDigestReplica
)
VersionOnlyOnV2 = replica_implementation(
    "VersionOnlyOnV2", __name__, replica_class=VersionOnlyOnV2Replica
)


MUTANTS = [
    Mutant(
        "view-change-block-unsigned-accepted",
        "a new leader takes a VIEW-CHANGE's claim without checking that the carried block is "
        "signed by its proposer, and re-proposes a forged copy",
        ("R7.5", "R2.6"),
        ("replica",),
        UnsignedCarriedBlock,
    ),
    Mutant(
        "refused-digest-by-copy",
        "a PRE-PREPARE refused for the block it carried makes its digest refused for the "
        "height: a bad copy blocks the leader's real proposal",
        ("R7.5",),
        ("replica",),
        RefusedByDigest,
    ),
    Mutant(
        "version-checked-only-on-version-2",
        "a vote's version is checked only on a version-2 network: a 96-byte signature's vote "
        "reaches a version-1 collector and raises",
        ("R7.5", "V2.2"),
        ("replica",),
        VersionOnlyOnV2,
    ),
]
