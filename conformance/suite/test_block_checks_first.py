"""A block over the limits, or repeating a proof, is refused before any proof is verified
(spec/consensus.md, Blocks: "The limits (N6) are checked before any proof is verified, and so is
that no proof id appears twice in a block").

The order matters because verifying is the expensive step: a Byzantine leader's block of 1,001
copies of one proof, or of one transfer twice, must cost a voter no solver time (N6: input beyond
the protocol limits is rejected before any expensive work). From outside, the replica's
``proofs_checked`` counter (T22.2e: counters match what the engine did) says whether it verified:
each refused block must leave it at 0 and get no PREPARE. The control is the valid block of the
same two transfers, which the replica verifies (the counter moves) and prepares.

Two variants hold a proof past the last transaction: a repeat of the first proof, and one that
does not decode (strict parsing, Blocks rule 1: E12). A replica that names a repeat by the
transaction at its index, or drops what it cannot decode and validates the rest, fails them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from aethel.consensus.block import GENESIS_PARENT, ProofBlock
from aethel.consensus.messages import Prepare
from conformance.adapters.api import ReplicaAPI
from conformance.checks import expect_equal
from conformance.suite.scene import Items, funded_scene, sent

pytestmark = pytest.mark.capability("replica")

#: One more than MAX_BLOCK_PROOFS (spec/consensus.md, Blocks, N6).
OVER_THE_LIMIT = 1_001


#: name -> (the rule the refusal is, what the block holds, its items from the two valid
#: transfers)
BAD_ITEMS: dict[str, tuple[str, str, Callable[[Items], Items]]] = {
    "one-transfer-twice": (
        "R7.1",
        "one transfer and its proof twice",
        lambda i: ([i[0][0], i[0][0]], [i[1][0], i[1][0]]),
    ),
    "one-proof-for-two-transfers": (
        "R1.1",
        "the first transfer's proof for both transfers",
        lambda i: (i[0], [i[1][0], i[1][0]]),
    ),
    "a-proof-repeated-past-the-transactions": (
        "R1.1",
        "both transfers, their proofs and the first proof again",
        lambda i: (i[0], [i[1][0], i[1][1], i[1][0]]),
    ),
    "a-malformed-proof-after-the-pairs": (
        "E12",
        "both transfers, their proofs, and a third proof of no known kind",
        lambda i: (i[0], [i[1][0], i[1][1], dict(i[1][1], kind="no-such-kind")]),
    ),
    "over-the-limit": (
        "N6",
        f"{OVER_THE_LIMIT:,} copies of a transfer and its proof",
        lambda i: ([i[0][0]] * OVER_THE_LIMIT, [i[1][0]] * OVER_THE_LIMIT),
    ),
}


def _params() -> list[object]:
    return [
        pytest.param(
            name,
            id=name,
            marks=[pytest.mark.req(rule, "N6", "T22.2e"), pytest.mark.rejects(rule)],
        )
        for name, (rule, _, _) in BAD_ITEMS.items()
    ]


def _proofs_checked(remote: Any) -> object:
    return remote.get_performance_stats().get("proofs_checked")


@pytest.mark.parametrize("variant", _params())
def test_a_block_is_refused_before_its_proofs_are_verified(
    replica_api: ReplicaAPI, variant: str
) -> None:
    """The leader's PRE-PREPARE of the bad block gets no PREPARE and no proof verified; its
    valid counterpart, on a fresh replica, gets both."""
    scene, items = funded_scene()
    _, what, build = BAD_ITEMS[variant]
    leader = scene.signers[scene.leader(0)]
    member = scene.others(scene.leader(0))[0]
    transactions, proofs = build(items)
    bad = ProofBlock.create(leader, 1, GENESIS_PARENT, transactions, proofs, [], None)
    remote = scene.replica(replica_api, member)
    votes = sent(remote.on_message(scene.pre_prepare(bad).to_wire(), 1_000), Prepare)
    if votes:
        raise AssertionError(f"{member} sent PREPARE for a block of {what}")
    expect_equal(_proofs_checked(remote), 0, f"proofs verified for a block of {what}")
    good = ProofBlock.create(leader, 1, GENESIS_PARENT, items[0], items[1], [], None)
    fresh = scene.replica(replica_api, member)
    if not sent(fresh.on_message(scene.pre_prepare(good).to_wire(), 1_000), Prepare):
        raise AssertionError(f"control: {member} sent no PREPARE for the valid block")
    checked = _proofs_checked(fresh)
    if not isinstance(checked, int) or checked < 1:
        raise AssertionError(
            f"control: proofs_checked is {checked!r} after {member} verified the valid block's "
            "two proofs (T22.2e): the counter cannot show what a refusal cost"
        )
