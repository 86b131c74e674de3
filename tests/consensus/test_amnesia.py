"""A validator restarted without its vote journal stays amnesic across another crash (R2.4,
R4.2): the amnesia record lives in the journal, so a restart "with saved state" before it
caught up does not trust a journal that misses the votes it signed before the first crash."""

from __future__ import annotations

import pytest

from aethel.consensus.events import RequestSync
from aethel.consensus.messages import PrePrepare
from aethel.consensus.replica import Replica
from aethel.consensus.replica_config import ReplicaConfig
from aethel.sim.simulator import SimConfig, run_simulation

from .slashing import make_slashed_chain, prepares


@pytest.mark.req("R2.4", "R4.2")
def test_a_replica_restarted_with_the_store_of_an_amnesic_run_stays_amnesic() -> None:
    chain = make_slashed_chain([10_000] * 4, [], heights=2)
    first = chain.fresh_replica("v001")
    store = first.services.store
    amnesic = Replica(
        first.signer, first.validators, first.services, ReplicaConfig(lost_journal=True)
    )
    amnesic.start(0)
    # It crashes before learning where the chain is; it restarts with that (saved) store.
    again = Replica(first.signer, first.validators, first.services, ReplicaConfig())
    assert again.services.store is store
    outputs = again.start(0)
    assert any(isinstance(o, RequestSync) and o.certificate is None for o in outputs)
    block = chain.link(1)[0]
    leader = again.validators.get_leader(1, 0).id
    outputs = again.on_message(PrePrepare.create(chain.signers[leader], 0, block), 1)
    assert not prepares(outputs), "it may have voted at height 1 before the first crash"
    # Once it learns the chain's height h, it votes again from h + 2 on.
    again.on_message(chain.link(2)[1], 2)
    assert again.amnesia.min_vote_height == 4


@pytest.mark.req("R2.4", "P8")
def test_a_quorum_holder_crashing_again_after_a_fresh_restart_never_recommits() -> None:
    """Seeded unequal-stake fuzz, seed 585 (sim API; the CLI has no stakes option): v00000
    holds 40,000 of 44,100 (a quorum alone), restarts without state, crashes again 44 ms later
    and restarts with that empty store: it committed height 1 again (integrity), and with
    another workload state could have forked its own chain."""
    config = SimConfig(
        validators=4,
        mode="broadcast",
        heights=6,
        seed=585,
        byzantine=(("equivocate", 0.158), ("double-vote", 0.296)),
        faults=("crash:0@853ms-1984ms:fresh", "crash:0@2028ms-3260ms"),
        stakes=(40_000, 1_100, 1_500, 1_500),
        per_block=2,
    )
    result = run_simulation(config)
    failed = {k: v["detail"] for k, v in result.checkers.items() if not v["ok"]}
    assert not failed
