"""Catching up over heights whose validator sets slashing changed (R2.3, R3.1, R4.3).

A replica checks every commit certificate by the validator set of the certificate's own height:
a later height's set only by following the certified chain to it, and the parent certificate a
block carries by the set of the parent height.
"""

from __future__ import annotations

import functools

import pytest

from aethel.consensus.block import ProofBlock
from aethel.consensus.catchup import compute_next_validators, verify_certified_chain
from aethel.consensus.events import Committed, Log, RequestSync
from aethel.consensus.messages import Commit, CommitCertificate
from aethel.consensus.signing import DirectSignatureChecker
from aethel.consensus.validators import ValidatorSet
from aethel.consensus.votes import Certificate, check_certificate
from aethel.economics import compute_slash_amount
from aethel.errors import ProtocolViolation
from conformance.suite.chains import invented_chain

from .slashing import SlashedChain, drive_to, make_slashed_chain, prepares, propose

CHECKER = DirectSignatureChecker()


def _check(cert: Certificate, validators: ValidatorSet) -> str:
    return check_certificate(cert, validators, CHECKER)


@functools.cache
def _five() -> SlashedChain:
    """v000 holds 50,000 and is slashed 20% in block 2; v001..v004 hold 25,000 each."""
    return make_slashed_chain([50_000, 25_000, 25_000, 25_000, 25_000], ["v000"])


@functools.cache
def _dropped() -> SlashedChain:
    """v000 holds 1,200 and falls below MIN_STAKE in block 2 (out of the set of height 3)."""
    return make_slashed_chain([1_200, 10_000, 10_000, 10_000], ["v000"])


@pytest.mark.req("R3.1", "R2.3")
def test_a_later_certificate_signed_by_a_third_but_short_of_q_w_is_never_adopted() -> None:
    """More than W/3 of COMMIT stake is not a commit: Byzantine stake below W/3 plus one honest
    COMMIT from a view that did not commit reaches it. The old rule adopted such a state."""
    chain = _five()
    late = chain.fresh_replica("v004")
    root = late.state_root
    fake = ProofBlock.create(chain.signers["v000"], 3, bytes(32), [], [], [], None)
    votes = tuple(
        Commit.create(chain.signers[m], 3, 0, fake.digest, bytes([7]) * 32)
        for m in ("v000", "v001")  # 75,000 of 150,000: over a third, short of q(W) = 100,001
    )
    cert = CommitCertificate(3, 0, fake.digest, bytes([7]) * 32, votes)
    outputs = late.on_message(cert, 1)
    assert any(isinstance(o, RequestSync) for o in outputs), "a hint is still worth a fetch"
    outputs = late.on_sync_completed(cert, fake, 2)
    assert (late.height, late.state_root) == (1, root)
    assert any(isinstance(o, Log) and o.event == "sync-rejected" for o in outputs)


@pytest.mark.req("R3.1", "R2.3")
def test_a_forged_chain_to_a_later_certificate_is_refused() -> None:
    """Links signed by the same third of the stake do not make the chain either."""
    chain = _five()
    late = chain.fresh_replica("v004")
    links = invented_chain(chain.signers, "v000", ["v000", "v001"], 3)
    reason = late.check_sync(links[-1][1], links[-1][0], links[:-1])
    assert reason.startswith("R2.3: certificate of height 1"), reason
    late.on_sync_completed(links[-1][1], links[-1][0], 5, links[:-1])
    assert late.height == 1


@pytest.mark.req("R4.2", "R4.3")
def test_the_next_set_applies_each_blocks_slashing_to_the_running_stake() -> None:
    chain = _five()
    block = chain.link(2)[0]
    before = chain.cluster.validators
    after = compute_next_validators(before, block)
    expected = 50_000 - compute_slash_amount(50_000, block.evidence[0].offence)
    assert after.stake_of("v000") == expected == 40_000
    assert after.total_stake == before.total_stake - 10_000
    assert compute_next_validators(before, chain.link(1)[0]) is before  # no evidence


@pytest.mark.req("R2.3", "R3.1", "R4.3")
def test_a_later_certificate_is_checked_by_the_set_of_its_own_height() -> None:
    """v001..v004 hold 100,000: short of q = 100,001 by the stakes of height 1, but a quorum
    (93,334) once block 2 slashed v000 to 40,000; the chain tells which."""
    chain = _five()
    start = chain.cluster.validators
    cert = chain.certificate(3, ["v001", "v002", "v003", "v004"])
    assert _check(cert, start).startswith("R2.3: certificate stake")
    links = [chain.link(1), chain.link(2), (chain.link(3)[0], cert)]
    verified = verify_certified_chain(start, 1, bytes(32), links, _check)
    assert verified.certifiers.stake_of("v000") == 40_000
    assert verified.certificate is cert
    with pytest.raises(ProtocolViolation) as missing:
        verify_certified_chain(start, 1, bytes(32), [links[0], links[2]], _check)
    assert missing.value.rule_id == "R3.1"


@pytest.mark.req("R3.1", "R3.5", "R2.3")
def test_a_lagging_replica_adopts_a_certified_state_only_with_the_chain_to_it() -> None:
    chain = _five()
    block, cert = chain.link(3)
    late = chain.fresh_replica("v004")
    assert late.check_sync(cert, block).startswith("R3.1")  # heights 1 and 2 are missing
    late.on_sync_completed(cert, block, 1)
    assert late.height == 1
    links = (chain.link(1), chain.link(2))
    assert late.check_sync(cert, block, links) == ""
    late.services.store.install_snapshot(cert, block)
    outputs = late.on_sync_completed(cert, block, 2, links)
    assert (late.height, late.state_root) == (4, cert.post_root)
    assert late.parent_validators.stake_of("v000") == 40_000
    assert late.validators.to_wire() == chain.cluster.replicas["v001"].validators.to_wire()
    assert not any(isinstance(o, Log) and o.level == "error" for o in outputs)


@pytest.mark.req("R2.3", "R4.3")
@pytest.mark.parametrize("path", ["commit", "sync"])
def test_the_parent_certificate_is_checked_by_the_set_of_the_parent_height(path: str) -> None:
    """Block 2 slashes v000 below MIN_STAKE; block 3 carries a certificate of height 2 that
    v000 signed (it was a member of height 2's set). It must be accepted, not refused for
    naming a non-member of height 3's set."""
    chain = _dropped()
    replica = chain.fresh_replica("v001")
    if path == "commit":
        drive_to(chain, replica, 3)
    else:
        block, cert = chain.link(2)
        replica.services.store.install_snapshot(cert, block)
        replica.on_sync_completed(cert, block, 1, (chain.link(1),))
    assert replica.height == 3 and replica.validators.get("v000") is None
    full = chain.certificate(2, ["v000", "v001", "v002", "v003"])
    outputs = propose(chain, replica, full)
    rejected = [o for o in outputs if isinstance(o, Log) and o.event == "rejected"]
    assert not rejected, rejected
    assert prepares(outputs), "the replica should vote for the block"


@pytest.mark.req("R1.3", "R4.1", "R4.3")
def test_a_reward_whose_certifiers_were_all_slashed_out_is_forfeited() -> None:
    """Block 2 slashes v000..v002 below MIN_STAKE; block 3 carries height 2's certificate by
    exactly them. The transition must not crash: nobody holds stake to be paid by, so block 2's
    reward is not minted (economics.md R1.3)."""
    chain = make_slashed_chain([1_100] * 4, ["v000", "v001", "v002"], heights=2)
    replica = chain.fresh_replica("v003")
    drive_to(chain, replica, 3)
    assert [v.id for v in replica.validators.validators] == ["v003"]
    outputs = propose(chain, replica, chain.certificate(2, ["v000", "v001", "v002"]))
    committed = [o for o in outputs if isinstance(o, Committed)]  # v003 alone is a quorum
    assert len(committed) == 1 and committed[0].height == 3, outputs
    execution = committed[0].execution
    assert execution.rewards == {} and execution.minted == 0
