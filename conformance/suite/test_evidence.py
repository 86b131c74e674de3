"""The implementation's replica never slashes on forged evidence (R4.2, R7.5, P19).

Two scenarios: a scripted one (below) and a simulated one, where a ``frame`` validator (see
:mod:`aethel.sim.byzantine`) gossips forged records and leads a view with a block carrying one.

A Byzantine leader gains by framing an honest rival: a block whose evidence record claims that
the rival equivocated, with votes it signed itself under the rival's name. An honest replica
checks every record of a block before voting (spec/consensus.md, "Blocks"), so it gives that
block no vote; the same block with a genuine record gets its PREPARE (the control). The chain is
real: a reference cluster in which v000 equivocated at height 1, driven into the implementation's
replica through PRE-PREPAREs and commit certificates.
"""

from __future__ import annotations

from typing import Any

import pytest

from aethel.consensus.block import ProofBlock
from aethel.consensus.events import Broadcast, Send
from aethel.consensus.evidence import Evidence
from aethel.consensus.messages import Prepare, PrePrepare
from aethel.consensus.signing import KeySigner
from aethel.economics import Offence
from aethel.sim.simulator import SimConfig
from conformance.adapters import Implementation
from conformance.adapters.api import ReplicaAPI
from conformance.mixed import leader_is_byzantine, run_mixed, seed_where
from conformance.replica_wire import outputs_from_json
from conformance.suite.chains import SlashedChain, drive_to, fresh_replica, slashed_chain

pytestmark = pytest.mark.capability("replica")

NOW = 10**9
FOUR = (10_000, 10_000, 10_000, 10_000)


def _prepared(outputs: Any, digest: bytes) -> bool:
    """Return whether ``outputs`` (wire form) send or broadcast a PREPARE for ``digest``."""
    for out in outputs_from_json(outputs):
        message = out.message if isinstance(out, Send | Broadcast) else None
        if isinstance(message, Prepare) and message.digest == digest:
            return True
    return False


def _framing_record(chain: SlashedChain, victim: str, forger: str) -> Evidence:
    """An equivocation record against ``victim`` whose two votes ``forger`` signed."""
    fake = KeySigner(victim, chain.signers[forger].key)
    first = Prepare.create(fake, 1, 0, bytes([1]) * 32)
    second = Prepare.create(fake, 1, 0, bytes([2]) * 32)
    args = (Offence.EQUIVOCATION, victim, first, second, None, -1, forger)
    unsigned = Evidence(*args, b"")
    return Evidence(*args, chain.signers[forger].sign(unsigned.payload))


def _proposal_at_height_2(chain: SlashedChain, evidence: list[Evidence]) -> PrePrepare:
    """Height 2 as committed, with ``evidence`` in place of its record, re-signed by its
    proposer (a valid block apart from the record)."""
    block = chain.commits[1].block
    signer = chain.signers[block.proposer]
    changed = ProofBlock.create(
        signer, 2, block.parent, block.transactions, block.proofs, evidence, block.last_commit
    )
    return PrePrepare.create(signer, chain.commits[1].view, changed)


@pytest.mark.req("R4.2", "R7.5", "P19", "R1.1")
def test_a_block_framing_an_honest_validator_gets_no_vote(
    impl: Implementation, replica_api: ReplicaAPI
) -> None:
    chain = slashed_chain(FOUR)
    proposer = chain.commits[1].block.proposer
    voter = next(name for name in ("v001", "v002", "v003") if name != proposer)
    victim = next(name for name in ("v001", "v002", "v003") if name not in (proposer, voter))
    framed = _proposal_at_height_2(chain, [_framing_record(chain, victim, proposer)])
    remote = fresh_replica(replica_api, chain, voter)
    drive_to(remote, chain, 2, NOW)
    if _prepared(remote.on_message(framed.to_wire(), NOW), framed.digest):
        raise AssertionError(
            f"{voter} voted PREPARE for a block slashing {victim} on votes {proposer} forged"
        )
    # Control: the same block with the genuine record of v000's equivocation gets the vote.
    genuine = _proposal_at_height_2(chain, list(chain.commits[1].block.evidence))
    control = fresh_replica(replica_api, chain, voter)
    drive_to(control, chain, 2, NOW)
    if not _prepared(control.on_message(genuine.to_wire(), NOW), genuine.digest):
        raise AssertionError(
            f"{voter} gave no PREPARE to height 2 with its genuine evidence (the control)"
        )


@pytest.mark.req("R4.2", "R7.5", "P19", "R8.5")
def test_a_framer_in_the_cluster_gets_nobody_slashed(
    impl: Implementation, replica_api: ReplicaAPI
) -> None:
    """Four validators under WAN-7, one of them a framer leading view 0 of height 2: the
    implementation's two replicas neither vote for its block nor pool its forged records, and
    every committed transition slashes no one."""

    def make(seed: int) -> SimConfig:
        return SimConfig(
            validators=4, heights=3, mode="collector", seed=seed, byzantine=(("frame", 0.25),)
        )

    # At height 2 the forged record (of height 1) is wrong only by its signatures.
    config = seed_where(leader_is_byzantine(2), make)
    mixed = run_mixed(impl, config, 2)
    sent = mixed.sim.engine.sent_log or []
    framed_blocks = {m.digest for m in sent if isinstance(m, PrePrepare) and m.block.evidence}
    byzantine = {mixed.sim.ids[i] for i in mixed.sim.behaviours}
    assert framed_blocks, "the framer must propose a block carrying a forged record"
    for node, proxy in mixed.impl_replicas.items():
        votes = [m for m in proxy.sent if isinstance(m, Prepare) and m.digest in framed_blocks]
        if votes:
            raise AssertionError(f"node {node} voted PREPARE for a block carrying forged evidence")
        relayed = [m for m in proxy.sent if isinstance(m, Evidence) and m.offender not in byzantine]
        if relayed:
            victim = relayed[0].offender
            raise AssertionError(f"node {node} passed on forged evidence against {victim}")
        for commit in proxy.committed:
            if commit.execution.slashed:
                raise AssertionError(
                    f"node {node} slashed {sorted(commit.execution.slashed)} at height "
                    f"{commit.height} on forged evidence"
                )
    failed = mixed.failed_checkers()
    if failed:
        raise AssertionError(f"simulator checkers failed: {failed}")
