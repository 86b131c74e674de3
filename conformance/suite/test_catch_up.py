"""The implementation's replica catching up over a certified chain across slashing (R2.3, R3.1).

A replica at height h that syncs the state of a later height H must check the certificate of H by
the validator set of H, which it can only derive by following the certified chain h .. H - 1:
each block's evidence slashes stakes (R4.2) and may drop members below the minimum (R4.3). These
cases hand a fresh replica (height 1) the state of height 3 with the chain of heights 1 and 2
through ``catch-up.on_sync_completed_with_chain``. The chains are real: a reference cluster in
which one validator equivocated at height 1, so block 2 carries the evidence that slashes it.
The forged ones are built from the same keys.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from aethel.consensus.block import ProofBlock
from aethel.consensus.events import RequestSync
from aethel.consensus.messages import Prepare, PrePrepare
from conformance.adapters.api import Implementation, ReplicaAPI
from conformance.adapters.errors import Rejected
from conformance.checks import expect_equal, expect_rejected
from conformance.suite.chains import (
    SlashedChain,
    drive_to,
    fresh_replica,
    invented_chain,
    new_replica,
    slashed_chain,
)
from conformance.suite.scene import parsed, sent
from conformance.testvectors import trace_cases

pytestmark = pytest.mark.capability("replica", "catch-up")

NOW = 10**9


def expect_not_adopted(remote: Any, call: Any, what: str) -> None:
    """The sync must be refused (an error, or no change): the replica stays at height 1."""
    before = remote.status()
    with contextlib.suppress(Rejected):  # refusing with an error is as good as ignoring
        call()
    after = remote.status()
    if after["height"] != before["height"] or after["state_root"] != before["state_root"]:
        raise AssertionError(
            f"{what}: the replica adopted it (height {before['height']} -> {after['height']})"
        )


#: The stakes of the replica traces (conformance/testvectors/trace_cases.py): in FIVE, v000
#: holds 50,000 and block 2 slashes it 20% to 40,000, v001..v004 hold 25,000 each; in DROPPED,
#: v000 holds 1,200 and block 2 leaves it below the minimum stake, out of the set of height 3.
FIVE, DROPPED = trace_cases.FIVE, trace_cases.DROPPED


@pytest.mark.req("R3.1", "R2.3", "R4.2", "R3.5")
def test_catch_up_follows_the_chain_to_the_set_of_the_target_height(
    impl: Implementation, replica_api: ReplicaAPI
) -> None:
    """v001..v004 (100,000) are short of q(W) = 100,001 by the stakes of height 1 but a quorum
    (93,334) of height 3's set once block 2 slashed v000 to 40,000: only a replica that derives
    the set along the chain adopts this certified state."""
    chain = slashed_chain(FIVE)
    remote = fresh_replica(replica_api, chain, "v004")
    cert = chain.certificate(3, ["v001", "v002", "v003", "v004"])
    block = chain.commits[2].block
    remote.on_sync_completed_with_chain(
        [chain.link(1), chain.link(2)], cert.to_wire(), block.to_wire(), chain.state(3), NOW
    )
    status = remote.status()
    expect_equal(status["height"], 4, "height after catching up to height 3")
    expect_equal(status["state_root"], cert.post_root.hex(), "state root after catching up")


@pytest.mark.req("R3.1", "R2.3", "R4.3")
@pytest.mark.rejects("R3.1", "R2.3", "R4.3")
def test_a_member_dropped_on_the_way_does_not_count_in_the_target_certificate(
    impl: Implementation, replica_api: ReplicaAPI
) -> None:
    """Block 2 drops v000 (1,200 -> 960, below the minimum). Its COMMIT in the certificate of
    height 3 gives v000 + v001 + v002 21,200 >= q = 20,801 by the stakes of height 1, but height
    3's set is v001..v003 (30,000, q = 20,001), where v001 + v002 hold 20,000: no quorum."""
    chain = slashed_chain(DROPPED)
    remote = fresh_replica(replica_api, chain, "v003")
    cert = chain.certificate(3, ["v000", "v001", "v002"])
    block = chain.commits[2].block
    expect_not_adopted(
        remote,
        lambda: remote.on_sync_completed_with_chain(
            [chain.link(1), chain.link(2)], cert.to_wire(), block.to_wire(), chain.state(3), NOW
        ),
        "a certificate of height 3 with a quorum only by the stale stakes of height 1",
    )


@pytest.mark.req("R3.1", "R2.3")
@pytest.mark.rejects("R3.1", "R2.3")
def test_a_chain_signed_by_a_third_of_the_stake_is_refused(
    impl: Implementation, replica_api: ReplicaAPI
) -> None:
    """Three invented blocks, each certified by v000 + v001 (75,000 of 150,000): more than a
    third, short of q(W). A third of COMMIT stake is no commit, at any height of the chain."""
    chain = slashed_chain(FIVE)
    remote = fresh_replica(replica_api, chain, "v004")
    invented = invented_chain(chain.signers, "v000", ["v000", "v001"], 3)
    links = [{"block": b.to_wire(), "certificate": c.to_wire()} for b, c in invented]
    last = links.pop()
    expect_not_adopted(
        remote,
        lambda: remote.on_sync_completed_with_chain(
            links, last["certificate"], last["block"], chain.state(3), NOW
        ),
        "a chain certified by a third of the stake",
    )


@pytest.mark.req("R3.1")
@pytest.mark.rejects("R3.1")
def test_a_chain_with_a_missing_height_is_refused(
    impl: Implementation, replica_api: ReplicaAPI
) -> None:
    """The link of height 2 (the block whose evidence changes the set) is left out."""
    chain = slashed_chain(FIVE)
    _sync_without_height_2(fresh_replica(replica_api, chain, "v004"), chain)


def _sync_without_height_2(remote: Any, chain: SlashedChain) -> None:
    """Hand ``remote`` (at height 1) the state of height 3 with the link of height 1 only: it
    must refuse it."""
    committed = chain.commits[2]
    expect_not_adopted(
        remote,
        lambda: remote.on_sync_completed_with_chain(
            [chain.link(1)],
            committed.certificate.to_wire(),
            committed.block.to_wire(),
            chain.state(3),
            NOW,
        ),
        "a chain without height 2",
    )


@pytest.mark.req("R3.1", "R7.5")
@pytest.mark.rejects("R3.1")
@pytest.mark.parametrize(
    "links",
    [
        pytest.param([{"block": {}}], id="link-without-certificate"),
        pytest.param(["link"], id="link-not-an-object"),
        pytest.param([{"block": {}, "certificate": {}, "x": 1}], id="link-with-extra-member"),
    ],
)
def test_malformed_links_are_rejected(
    impl: Implementation, replica_api: ReplicaAPI, links: object
) -> None:
    chain = slashed_chain(FIVE)
    remote = fresh_replica(replica_api, chain, "v004")
    committed = chain.commits[2]
    expect_rejected(
        lambda: remote.on_sync_completed_with_chain(
            links,
            committed.certificate.to_wire(),
            committed.block.to_wire(),
            chain.state(3),
            NOW,
        ),
        "malformed chain links",
    )
    expect_equal(remote.status()["height"], 1, "height after a malformed sync")


def _sync_over_forged_link(remote: Any, chain: SlashedChain, link: Any, what: str) -> None:
    """Hand ``remote`` (at height 1) the state of height 3 over the link of height 1, ``link``
    (a block standing for height 2 and its certificate) and a block 3 on top of ``link``'s
    block, certified by every member: it must refuse it."""
    wrong, wrong_cert = link
    top = chain.resigned(chain.commits[2].block, parent=wrong.digest, last_commit=wrong_cert)
    top_cert = chain.certify(3, top.digest, chain.commits[2].certificate.post_root)
    links = [chain.link(1), {"block": wrong.to_wire(), "certificate": wrong_cert.to_wire()}]
    expect_not_adopted(
        remote,
        lambda: remote.on_sync_completed_with_chain(
            links, top_cert.to_wire(), top.to_wire(), chain.state(3), NOW
        ),
        what,
    )


@pytest.mark.req("R3.1", "R2.3")
@pytest.mark.rejects("R3.1")
def test_a_link_whose_block_is_of_another_height_is_refused(
    impl: Implementation, replica_api: ReplicaAPI
) -> None:
    """The chain of heights 1 and 2 leading to height 3, except that block 2 states height 1:
    the same parent, items and evidence, certified at height 2 (and block 3 on top of it) by
    every member, so every certificate is valid and every parent link holds. Block 2 is not a
    block of height 2 (spec/consensus.md, "Catching up": block k, certified for k), and the
    state of height 3 must not be adopted. Only a quorum signing a block of another height
    makes this chain (beyond the fault model), which is why a forged one tests the check."""
    chain = slashed_chain(FIVE)
    wrong = chain.resigned(chain.commits[1].block, height=1)
    link = (wrong, chain.certify(2, wrong.digest, chain.commits[1].certificate.post_root))
    _sync_over_forged_link(
        fresh_replica(replica_api, chain, "v004"),
        chain,
        link,
        "a chain whose block 2 states height 1",
    )


@pytest.mark.req("R3.1", "R3.3", "R2.3")
@pytest.mark.rejects("R3.1", "R3.3")
@pytest.mark.parametrize("flaw", ["not-on-block-1", "certificate-of-another-block"])
def test_a_link_that_breaks_the_chain_is_refused(
    impl: Implementation, replica_api: ReplicaAPI, flaw: str
) -> None:
    """spec/consensus.md, Catching up: the replica adopts a later state only once "each block
    extends the previous one and each certificate [is] for that block" (block k certified for
    k). The chain of heights 1 and 2 leading to height 3, except for its link of height 2,
    whose certificate, like block 3's, every member signed:

    - ``not-on-block-1``: block 2, signed again on another parent (height 1's parent), so it
      does not extend block 1 (R3.3);
    - ``certificate-of-another-block``: block 2 as certified, but its certificate is for
      another block of height 2 (the same block on another parent), so nothing certifies the
      block the chain goes through (R2.3).

    Either way block 3 extends block 2 and every certificate holds q(W): only the links tell
    the chain is broken, and the state of height 3 must not be adopted.

    Written from the module campaign of aethel/consensus/catchup.py (``verify_certified_chain``:
    the parent check and the certificate-digest check of a link each removed)."""
    chain = slashed_chain(FIVE)
    first, second = chain.commits[0].block, chain.commits[1].block
    root = chain.commits[1].certificate.post_root
    elsewhere = chain.resigned(second, parent=first.parent)
    certificate = chain.certify(2, elsewhere.digest, root)
    link = (elsewhere if flaw == "not-on-block-1" else second, certificate)
    _sync_over_forged_link(
        fresh_replica(replica_api, chain, "v004"),
        chain,
        link,
        f"a chain whose link of height 2 is broken ({flaw.replace('-', ' ')})",
    )


@pytest.mark.req("R3.1", "R3.5")
def test_after_a_refused_chain_the_next_hint_asks_again(
    impl: Implementation, replica_api: ReplicaAPI
) -> None:
    """spec/consensus.md, Catching up: "if a link is missing or fails, it adopts nothing and asks
    again". The replica at height 1 gets the commit certificate of height 3 (a hint: it asks for
    a sync to height 3), then that sync's answer with the link of height 2 left out, which it
    refuses; the same certificate reaching it again must bring a new request for height 3.

    Written from the module campaign of aethel/consensus/syncing.py (survivor
    ``SyncRules.on_sync_completed:RemoveStatement`` at line 92: the refusal did not end the
    pending request, so the height it named was never asked for again)."""
    chain = slashed_chain(FIVE)
    remote = fresh_replica(replica_api, chain, "v004")
    hint = chain.commits[2].certificate.to_wire()

    def requests(outputs: Any) -> list[Any]:
        return [out.height for out in parsed(outputs) if isinstance(out, RequestSync)]

    expect_equal(requests(remote.on_message(hint, NOW)), [3], "sync requests after the hint")
    _sync_without_height_2(remote, chain)
    expect_equal(
        requests(remote.on_message(hint, NOW + 1)),
        [3],
        "sync requests after the hint reached the replica again, its first sync refused",
    )


#: v000 holds 3,000 and the others 1,800 each; block 2 burns 20% of v000's stake, so v001, v002
#: and v003 (5,400) hold q(W) only from height 3 on (5,201 of 7,800; 5,601 of 8,400 before).
SLASHED_STAKES = (3_000, 1_800, 1_800, 1_800)
UNSLASHED = ("v001", "v002", "v003")


@pytest.mark.req("R2.3", "R4.3", "R3.1")
def test_a_replica_synced_past_a_slashing_checks_the_next_last_commit_by_the_slashed_set(
    impl: Implementation, replica_api: ReplicaAPI
) -> None:
    """A fresh replica adopts the state of height 3 over the certified chain of heights 1 and 2
    (block 2 slashed v000). It is then shown the block of height 4 from its leader, whose last
    commit (height 3) only v001, v002 and v003 signed: q(W) of height 3's set, which the chain
    derived, not of the epoch's. It must PREPARE it, as a replica that committed the heights
    itself does (the control).

    Written from the module campaign of aethel/consensus/syncing.py (survivor
    ``SyncRules.on_sync_completed:RemoveStatement`` at line 103: the set that signed the synced
    height not kept, so the next block's last commit was checked by the set before the sync)."""
    chain = slashed_chain(SLASHED_STAKES)
    after = chain.cluster.validators.with_stakes({"v000": chain.state(2)["stake:v000"]})
    leader = after.get_leader(4, 0).id
    name = next(m for m in UNSLASHED if m != leader)
    height_3 = chain.commits[2]
    last_commit = chain.certificate(3, list(UNSLASHED))
    block = ProofBlock.create(
        chain.signers[leader], 4, height_3.certificate.digest, [], [], [], last_commit
    )
    proposal = PrePrepare.create(chain.signers[leader], 0, block)

    def prepares(remote: Any) -> bool:
        outputs = remote.on_message(proposal.to_wire(), NOW + 1)
        return bool(sent(outputs, Prepare, lambda m: m.digest == block.digest))

    control = new_replica(replica_api, chain, name, "broadcast")
    control.start(0)
    drive_to(control, chain, 4, NOW)
    if not prepares(control):
        raise AssertionError(
            f"control: {name}, having committed heights 1-3 itself, did not PREPARE {leader}'s "
            "block of height 4 whose last commit v001, v002 and v003 signed (the case cannot "
            "judge the synced replica)"
        )
    synced = new_replica(replica_api, chain, name, "broadcast")
    synced.start(0)
    synced.on_sync_completed_with_chain(
        [chain.link(1), chain.link(2)],
        height_3.certificate.to_wire(),
        height_3.block.to_wire(),
        chain.state(3),
        NOW,
    )
    expect_equal(synced.status()["height"], 4, "height after adopting height 3's state")
    if not prepares(synced):
        raise AssertionError(
            f"{name}, synced to height 3 over the chain (block 2 slashed v000), did not PREPARE "
            f"{leader}'s block of height 4 whose last commit v001, v002 and v003 signed: 5,400 "
            "of 7,800, q(W) of the set that signed height 3 (R2.3, R4.3)"
        )
