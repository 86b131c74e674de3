"""A block at the limits is valid, one item over them is not (spec/consensus.md, Blocks: at
most ``MAX_BLOCK_PROOFS`` proofs per block and as many transactions, at most
``MAX_BLOCK_EVIDENCE`` evidence records; N6: input beyond the protocol limits is rejected).

"At most" fixes both sides of the boundary. A replica that refuses a block of exactly 1,000
transfers stalls every height a busy leader fills, and one that takes a 1,001st transfer or a
17th record lets a Byzantine leader make every voter do more work than the protocol bounds. The
cases: blocks of exactly 1,000 transfers and of 1,001 distinct valid ones, and of 16 and 17
genuine evidence records. (The over-the-limit block of
:mod:`conformance.suite.test_block_checks_first`, 1,001 copies of one transfer, is refused as a
repeat whatever the limit.)

The evidence blocks are height 2 of a real 20-member chain (:func:`slashed_chain`), whose block 2
carries v000's equivocation at height 1; the cases put beside it genuine equivocations of other
members at height 1, signed by those members (each a distinct offender, so no record repeats
another: spec/consensus.md, Evidence), and the block's proposer signs the block again.
"""

from __future__ import annotations

from typing import Any

import pytest

from aethel.consensus.block import GENESIS_PARENT, ProofBlock
from aethel.consensus.evidence import Evidence
from aethel.consensus.messages import Prepare
from conformance.adapters.api import ReplicaAPI
from conformance.checks import expect_equal
from conformance.suite.chains import SlashedChain, prepared_by_a_member, slashed_chain
from conformance.suite.scene import funded_scene, sent

pytestmark = pytest.mark.capability("replica")

#: MAX_BLOCK_PROOFS and MAX_BLOCK_EVIDENCE (spec/consensus.md, Blocks).
PROOF_LIMIT = 1_000
EVIDENCE_LIMIT = 16
#: Members of the chain the evidence cases use: enough distinct offenders for 17 records.
TWENTY = (10_000,) * 20
NOW = 10**9


def _block_of_transfers(replica_api: ReplicaAPI, count: int) -> tuple[str, tuple[bool, Any]]:
    """Return a member of the funded scene and what its replica did with the leader's block of
    ``count`` valid transfers from as many funded senders, one each, with their proofs:
    (whether it sent a PREPARE, its ``proofs_checked`` counter after)."""
    scene, (transactions, proofs) = funded_scene("limit", transfers=count, accounts=count)
    assert len(transactions) == len(proofs) == count, "the workload made fewer transfers"
    leader = scene.signers[scene.leader(0)]
    member = scene.others(scene.leader(0))[0]
    block = ProofBlock.create(leader, 1, GENESIS_PARENT, transactions, proofs, [], None)
    remote = scene.replica(replica_api, member)
    voted = bool(sent(remote.on_message(scene.pre_prepare(block).to_wire(), 1_000), Prepare))
    return member, (voted, remote.get_performance_stats().get("proofs_checked"))


@pytest.mark.req("N6", "R1.1")
def test_a_block_of_exactly_the_most_transfers_gets_the_vote(replica_api: ReplicaAPI) -> None:
    """A block of MAX_BLOCK_PROOFS valid transfers and their proofs is within the limits: a
    member verifies it and sends its PREPARE.

    Written from the mechanical survivor ``aethel/consensus/block_rules.py:check_block_limits:
    ReplaceComparisonOperator_Gt_GtE:401ee005`` (``>`` made ``>=``, so a block of exactly
    1,000 was refused): no case held a block at the limit."""
    member, (voted, _) = _block_of_transfers(replica_api, PROOF_LIMIT)
    if not voted:
        raise AssertionError(
            f"{member} sent no PREPARE for a valid block of exactly {PROOF_LIMIT:,} transfers "
            f"and proofs (N6 allows at most {PROOF_LIMIT:,}: the limit itself is allowed)"
        )


@pytest.mark.req("N6", "T22.2e")
@pytest.mark.rejects("N6")
def test_a_block_of_one_transfer_too_many_is_refused_unverified(replica_api: ReplicaAPI) -> None:
    """The same block with one more distinct valid transfer is over the limit: no PREPARE, and
    no proof verified (N6: refused before any expensive work; ``proofs_checked``, T22.2e).
    Every transfer in it is valid and none repeats, so the limit is the only thing wrong (the
    over-the-limit block of test_block_checks_first repeats one transfer, which is refused
    without the limit).

    Written from the mechanical survivor ``aethel/consensus/block_rules.py:<module>:
    NumberReplacer:b86b638f`` (MAX_BLOCK_PROOFS 1,001)."""
    member, (voted, checked) = _block_of_transfers(replica_api, PROOF_LIMIT + 1)
    if voted:
        raise AssertionError(
            f"{member} sent PREPARE for a block of {PROOF_LIMIT + 1:,} transfers (N6: at most "
            f"{PROOF_LIMIT:,})"
        )
    expect_equal(checked, 0, f"proofs verified for a block of {PROOF_LIMIT + 1:,} transfers")


def _equivocations(chain: SlashedChain, count: int) -> list[Evidence]:
    """Block 2's genuine record followed by ``count - 1`` genuine equivocations at height 1
    (two PREPAREs of view 0) of other members, none of them the voter, v001, who reports
    them."""
    records = list(chain.commits[1].block.evidence)
    offenders = [n for n in chain.signers if n not in ("v000", "v001")][: count - 1]
    assert len(offenders) == count - 1, "the chain has too few members for the case"
    for name in offenders:
        first = Prepare.create(chain.signers[name], 1, 0, bytes([1]) * 32)
        second = Prepare.create(chain.signers[name], 1, 0, bytes([2]) * 32)
        records.append(Evidence.equivocation(chain.signers["v001"], first, second))
    return records


def _prepared_with(replica_api: ReplicaAPI, chain: SlashedChain, records: int) -> bool:
    """Return whether a member at height 2 sends PREPARE for block 2 re-signed by its proposer
    with ``records`` genuine evidence records."""
    proposal = chain.with_evidence(2, _equivocations(chain, records))
    return prepared_by_a_member(replica_api, chain, proposal, NOW)[0]


@pytest.mark.req("N6", "R4.2")
def test_a_block_of_exactly_the_most_evidence_records_gets_the_vote(
    replica_api: ReplicaAPI,
) -> None:
    """Height 2 with MAX_BLOCK_EVIDENCE genuine records of distinct offenders is valid."""
    chain = slashed_chain(TWENTY)
    if not _prepared_with(replica_api, chain, EVIDENCE_LIMIT):
        raise AssertionError(
            f"v001 sent no PREPARE for height 2 carrying exactly {EVIDENCE_LIMIT} genuine "
            f"evidence records (N6 allows at most {EVIDENCE_LIMIT}: the limit itself is allowed)"
        )


@pytest.mark.req("N6", "R4.2")
@pytest.mark.rejects("N6")
def test_a_block_of_one_evidence_record_too_many_gets_no_vote(replica_api: ReplicaAPI) -> None:
    """The same height 2 with one more genuine record, of another offender, is over the limit:
    no PREPARE, though every record in it would hold on its own."""
    chain = slashed_chain(TWENTY)
    if _prepared_with(replica_api, chain, EVIDENCE_LIMIT + 1):
        raise AssertionError(
            f"v001 sent PREPARE for height 2 carrying {EVIDENCE_LIMIT + 1} evidence records "
            f"(N6: at most {EVIDENCE_LIMIT} per block)"
        )
