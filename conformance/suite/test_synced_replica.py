"""A replica that adopts a synced state goes on from it, at the time it adopted it (R3.1, R2.6).

The replica of ``v000`` starts at height 1 at 0 ns and is handed, much later, the certified
state of height 1 of a real chain (:func:`conformance.suite.chains.slashed_chain`). It leads
view 0 of height 2 there, so adopting the state opens height 2 with its proposal: the block
(made when its proposal timer fires) must extend the synced one and carry the synced
certificate as its last commit (R3.3: a block
carries the commit certificate of its parent), and the view's timer must run from the time of
the adoption (R2.6: a view's timer starts when the validator enters the view), not from the
time of the last message before it.

Written from the module campaign of aethel/consensus/syncing.py (survivors
``SyncRules.on_sync_completed:RemoveStatement`` at line 82, the time of the adoption not taken,
and at line 102, the synced certificate not kept as the last one).
"""

from __future__ import annotations

import pytest

from aethel.consensus.events import SetTimer, Timer
from aethel.consensus.messages import PrePrepare
from conformance.adapters.api import ReplicaAPI
from conformance.checks import expect_equal
from conformance.suite.chains import fresh_replica, slashed_chain
from conformance.suite.scene import parsed, sent, view_deadline
from conformance.testvectors import trace_cases

pytestmark = pytest.mark.capability("replica")

#: When the synced state arrives: far past the view-0 timer the replica set at its start.
ADOPTED_AT = 10**12


@pytest.mark.req("R3.1", "R3.3", "R2.6")
def test_a_replica_goes_on_from_the_state_it_adopted(replica_api: ReplicaAPI) -> None:
    chain = slashed_chain(trace_cases.FIVE)
    name = chain.commits[1].block.proposer
    synced = chain.commits[0]
    remote = fresh_replica(replica_api, chain, name)
    outputs = remote.on_sync_completed(
        synced.certificate.to_wire(), synced.block.to_wire(), chain.state(1), ADOPTED_AT
    )
    expect_equal(remote.status()["height"], 2, "height after adopting height 1's state")
    deadline = view_deadline(outputs, 2, 0)
    if deadline is None or deadline <= ADOPTED_AT:
        raise AssertionError(
            f"{name} adopted height 1's state at {ADOPTED_AT} ns and set the view-0 timer of "
            f"height 2 to {deadline} ns: a view's timer runs from when the validator enters it "
            "(R2.6)"
        )
    timers = [
        out.deadline
        for out in parsed(outputs)
        if isinstance(out, SetTimer) and out.timer == Timer(2, 0, "propose")
    ]
    proposals: list[PrePrepare] = []
    if timers:
        fired = remote.on_timer(2, 0, "propose", max(timers[0], ADOPTED_AT))
        proposals = [m for m in sent(fired, PrePrepare) if isinstance(m, PrePrepare)]
        proposals = [m for m in proposals if (m.height, m.view) == (2, 0)]
    if not proposals:
        raise AssertionError(
            f"{name} leads view 0 of height 2 and proposed nothing when it adopted height 1's "
            f"state and its proposal timer fired (timers {timers}; the case cannot judge its "
            "block)"
        )
    block = proposals[0].block
    assert block is not None
    expect_equal(block.parent.hex(), synced.block.digest.hex(), "parent of the block of height 2")
    last = block.last_commit
    expect_equal(
        None if last is None else (last.height, last.digest.hex(), last.post_root.hex()),
        (1, synced.certificate.digest.hex(), synced.certificate.post_root.hex()),
        "last commit of the block of height 2 proposed after the sync (height, digest, root)",
    )
