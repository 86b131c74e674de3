"""The implementation's replica never slashes on forged evidence (R4.2, R1.5, R7.5, P19).

Three scenarios: a scripted one (below), records of both offences with every member changed
alone, and a simulated one, where a ``frame`` validator (see :mod:`aethel.sim.byzantine`)
gossips forged records and leads a view with a block carrying one.

A Byzantine leader gains by framing an honest rival: a block whose evidence record claims that
the rival equivocated, with votes it signed itself under the rival's name. An honest replica
checks every record of a block before voting (spec/consensus.md, "Blocks"), so it gives that
block no vote; the same block with a genuine record gets its PREPARE (the control). The chain is
real: a reference cluster in which v000 equivocated at height 1, driven into the implementation's
replica through PRE-PREPAREs and commit certificates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from aethel.consensus.block import GENESIS_PARENT, ProofBlock
from aethel.consensus.events import Broadcast, Committed, Send
from aethel.consensus.evidence import Evidence
from aethel.consensus.messages import Commit, Prepare, PrePrepare
from aethel.consensus.signing import KeySigner
from aethel.economics import Offence
from aethel.encoding import KeyPair
from aethel.sim.simulator import SimConfig
from conformance.adapters.api import Implementation, ReplicaAPI
from conformance.checks import expect_equal
from conformance.mixed import leader_is_byzantine, run_mixed, seed_where
from conformance.plugin import catalog_threshold
from conformance.replica_wire import outputs_from_json
from conformance.suite.chains import (
    SlashedChain,
    drive_to,
    fresh_replica,
    prepared_by_a_member,
    slashed_chain,
)
from conformance.suite.scene import FOUR, resigned_proof, the_other_outcome

pytestmark = pytest.mark.capability("replica")

NOW = 10**9


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


@pytest.mark.req("R4.2", "R7.5", "P19", "R1.1")
def test_a_block_framing_an_honest_validator_gets_no_vote(
    impl: Implementation, replica_api: ReplicaAPI
) -> None:
    chain = slashed_chain(FOUR)
    proposer = chain.commits[1].block.proposer
    voter = next(name for name in ("v001", "v002", "v003") if name != proposer)
    victim = next(name for name in ("v001", "v002", "v003") if name not in (proposer, voter))
    framed = chain.with_evidence(2, [_framing_record(chain, victim, proposer)])
    remote = fresh_replica(replica_api, chain, voter)
    drive_to(remote, chain, 2, NOW)
    if _prepared(remote.on_message(framed.to_wire(), NOW), framed.digest):
        raise AssertionError(
            f"{voter} voted PREPARE for a block slashing {victim} on votes {proposer} forged"
        )
    # Control: the same block with the genuine record of v000's equivocation gets the vote.
    genuine = chain.with_evidence(2, chain.commits[1].block.evidence)
    control = fresh_replica(replica_api, chain, voter)
    drive_to(control, chain, 2, NOW)
    if not _prepared(control.on_message(genuine.to_wire(), NOW), genuine.digest):
        raise AssertionError(
            f"{voter} gave no PREPARE to height 2 with its genuine evidence (the control)"
        )


# --------------------------------------------------------------------------- members changed alone
#
# A record of each offence, genuine, with one member changed and (unless the change is to the
# reporter or its signature) signed again by its reporter, so that the change is the only thing
# wrong: a block of height 2 carrying it in place of its record gets no PREPARE, so it is never
# committed and slashes no one; the same block with the genuine record gets the PREPARE (the
# control). spec/consensus.md, "Evidence" and "Blocks" rule 3.


def _flipped(signature: bytes) -> bytes:
    return bytes([signature[0] ^ 1]) + signature[1:]


def _resigned(chain: SlashedChain, record: Evidence, **changes: Any) -> Evidence:
    """``record`` with ``changes``, signed again by its reporter (the change alone is wrong)."""
    unsigned = replace(record, **changes, signature=b"")
    return replace(unsigned, signature=chain.signers[record.reporter].sign(unsigned.payload))


def _signed_as(chain: SlashedChain, name: str, key_of: str) -> KeySigner:
    """A signer naming ``name`` with ``key_of``'s key."""
    return KeySigner(name, chain.signers[key_of].key)


def _votes(record: Evidence) -> tuple[Prepare, Prepare]:
    """The two PREPAREs of the genuine equivocation record."""
    first, second = record.first, record.second
    assert isinstance(first, Prepare) and isinstance(second, Prepare)
    return first, second


def _claimed(record: Evidence) -> ProofBlock:
    """The block of the genuine false-claim record."""
    assert record.block is not None
    return record.block


def _equivocation(chain: SlashedChain) -> Evidence:
    """The genuine record of block 2: v000's two PREPAREs of height 1, view 0, reported by
    v001."""
    record = chain.commits[1].block.evidence[0]
    assert record.offence is Offence.EQUIVOCATION and record.offender == "v000"
    return record


#: member -> the record with that member changed (unless noted, signed again by its reporter).
EQUIVOCATION_CHANGES: dict[str, Callable[[SlashedChain, Evidence], Evidence]] = {
    "offence": lambda c, e: _resigned(c, e, offence=Offence.FALSE_CLAIM),
    "offender": lambda c, e: _resigned(c, e, offender="v002"),
    "first-signature": lambda c, e: _resigned(
        c, e, first=replace(_votes(e)[0], signature=_flipped(_votes(e)[0].signature))
    ),
    "first-signed-with-another-key": lambda c, e: _resigned(
        c, e, first=Prepare.create(_signed_as(c, "v000", "v002"), 1, 0, _votes(e)[0].digest)
    ),
    "first-of-another-type": lambda c, e: _resigned(
        c, e, first=Commit.create(c.signers["v000"], 1, 0, _votes(e)[0].digest, bytes(32))
    ),
    "first-repeats-second": lambda c, e: _resigned(c, e, first=e.second),
    "second-signature": lambda c, e: _resigned(
        c, e, second=replace(_votes(e)[1], signature=_flipped(_votes(e)[1].signature))
    ),
    "second-signed-with-another-key": lambda c, e: _resigned(
        c, e, second=Prepare.create(_signed_as(c, "v000", "v003"), 1, 0, _votes(e)[1].digest)
    ),
    "second-of-another-view": lambda c, e: _resigned(
        c, e, second=Prepare.create(c.signers["v000"], 1, 1, _votes(e)[1].digest)
    ),
    "second-of-another-validator": lambda c, e: _resigned(
        c, e, second=Prepare.create(c.signers["v002"], 1, 0, _votes(e)[1].digest)
    ),
    "second-missing": lambda c, e: _resigned(c, e, second=None),
    "block": lambda c, e: _resigned(c, e, block=c.commits[0].block),
    "proof-index": lambda c, e: _resigned(c, e, proof_index=0),
    "reporter-not-a-member": lambda c, e: _reporter(c, e, "v999"),
    "reporter-another-member": lambda c, e: _reporter(c, e, "v002"),
    "signature": lambda c, e: replace(e, signature=_flipped(e.signature)),
}


def _reporter(chain: SlashedChain, record: Evidence, name: str) -> Evidence:
    """``record`` naming reporter ``name`` but signed with its true reporter's key."""
    unsigned = replace(record, reporter=name, signature=b"")
    return replace(unsigned, signature=chain.signers[record.reporter].sign(unsigned.payload))


def _proposal(record: Evidence) -> PrePrepare:
    """The PRE-PREPARE of the genuine false-claim record."""
    assert isinstance(record.first, PrePrepare)
    return record.first


def _false_claim(chain: SlashedChain) -> tuple[Evidence, ProofBlock]:
    """A genuine false-claim record: v003 proposed, at height 1, a block whose proof 1 claims
    the wrong outcome; reported by v001. Also returns a block of v003 whose proofs all verify."""
    honest = chain.commits[0].block
    wrong = resigned_proof(honest.proofs[1], claimed=the_other_outcome(honest.proofs[1]))
    signer = chain.signers["v003"]
    proofs = [honest.proofs[0], wrong]
    claimed = ProofBlock.create(signer, 1, GENESIS_PARENT, honest.transactions, proofs, [], None)
    valid = ProofBlock.create(
        signer, 1, GENESIS_PARENT, honest.transactions, honest.proofs, [], None
    )
    vote = PrePrepare.create(signer, 0, claimed)
    return Evidence.false_claim(chain.signers["v001"], vote, claimed, 1), valid


#: member -> the false-claim record with that member changed (the valid block at hand).
FALSE_CLAIM_CHANGES: dict[str, Callable[[SlashedChain, Evidence, ProofBlock], Evidence]] = {
    "offence": lambda c, e, v: _resigned(c, e, offence=Offence.EQUIVOCATION),
    "offender": lambda c, e, v: _resigned(c, e, offender="v002"),
    "first-signature": lambda c, e, v: _resigned(
        c, e, first=replace(_proposal(e), signature=_flipped(_proposal(e).signature))
    ),
    "first-signed-with-another-key": lambda c, e, v: _resigned(
        c, e, first=PrePrepare.create(_signed_as(c, "v003", "v002"), 0, _claimed(e))
    ),
    "first-for-another-block": lambda c, e, v: _resigned(
        c, e, first=PrePrepare.create(c.signers["v003"], 0, v)
    ),
    "second-present": lambda c, e, v: _resigned(
        c, e, second=PrePrepare.create(c.signers["v003"], 0, v)
    ),
    "block": lambda c, e, v: _resigned(c, e, block=v),
    "block-missing": lambda c, e, v: _resigned(c, e, block=None),
    "proof-index-of-a-valid-proof": lambda c, e, v: _resigned(c, e, proof_index=0),
    "proof-index-past-the-end": lambda c, e, v: _resigned(c, e, proof_index=2),
    "proof-index-minus-one": lambda c, e, v: _resigned(c, e, proof_index=-1),
    "reporter-not-a-member": lambda c, e, v: _reporter(c, e, "v999"),
    "signature": lambda c, e, v: replace(e, signature=_flipped(e.signature)),
}


def _vote_for_height_2(
    replica_api: ReplicaAPI, chain: SlashedChain, evidence: list[Evidence]
) -> tuple[bool, str]:
    """Return whether a replica at height 2 gives a PREPARE to height 2 carrying ``evidence``,
    and the replica's name."""
    return prepared_by_a_member(replica_api, chain, chain.with_evidence(2, evidence), NOW)


def _require_no_vote_for_the_changed_record(
    replica_api: ReplicaAPI, chain: SlashedChain, changed: Evidence, genuine: Evidence, what: str
) -> None:
    """Fail unless a block carrying ``changed`` gets no PREPARE and one carrying ``genuine``
    gets one (so the refusal is the record's doing); ``what`` says whose member changed."""
    voted, voter = _vote_for_height_2(replica_api, chain, [changed])
    if voted:
        raise AssertionError(f"{voter} voted PREPARE for a block whose {what} changed")
    if not _vote_for_height_2(replica_api, chain, [genuine])[0]:
        raise AssertionError(f"{voter} gave no PREPARE to height 2 with the genuine record")


@pytest.mark.req("R4.2", "R7.5", "P19", "R1.1")
@pytest.mark.rejects("R4.2", "R7.5")
@pytest.mark.parametrize("member", list(EQUIVOCATION_CHANGES), ids=str)
def test_an_equivocation_record_with_one_member_changed_gets_no_vote(
    impl: Implementation, replica_api: ReplicaAPI, member: str
) -> None:
    """Offence, offender, either message (signature, key, type, view, signer, the same message
    twice, missing), a block or proof index where an equivocation has none, the reporter and
    its signature: each changed alone makes the record prove nothing, and a block carrying it
    gets no PREPARE (no vote, so no slashing)."""
    chain = slashed_chain(FOUR)
    genuine = _equivocation(chain)
    changed = EQUIVOCATION_CHANGES[member](chain, genuine)
    _require_no_vote_for_the_changed_record(
        replica_api, chain, changed, genuine, f"equivocation record against v000 has its {member}"
    )


def _two_proposals(chain: SlashedChain) -> Evidence:
    """Height 1's proposer signs PRE-PREPAREs of two blocks for view 0; another member reports
    it."""
    proposer = chain.commits[0].block.proposer
    signer = chain.signers[proposer]
    blocks = [
        ProofBlock.create(signer, 1, GENESIS_PARENT, [], [], [], None),
        chain.commits[0].block,
    ]
    first, second = (PrePrepare.create(signer, 0, b) for b in blocks)
    reporter = next(m for m in ("v001", "v002") if m != proposer)
    return Evidence.equivocation(chain.signers[reporter], first, second)


def _two_roots(chain: SlashedChain) -> Evidence:
    """v000 signs COMMITs of height 1's block with two post-state roots."""
    certificate = chain.commits[0].certificate
    first, second = (
        Commit.create(chain.signers["v000"], 1, certificate.view, certificate.digest, root)
        for root in (certificate.post_root, bytes([9]) * 32)
    )
    return Evidence.equivocation(chain.signers["v001"], first, second)


#: what the offender signed twice -> the genuine record of it.
EQUIVOCATIONS: dict[str, Callable[[SlashedChain], Evidence]] = {
    "pre-prepares-of-two-blocks": _two_proposals,
    "commits-of-two-roots": _two_roots,
}


@pytest.mark.req("R4.2", "P19")
@pytest.mark.parametrize("signed_twice", list(EQUIVOCATIONS), ids=str)
def test_an_equivocation_of_each_message_type_gets_the_vote(
    replica_api: ReplicaAPI, signed_twice: str
) -> None:
    """spec/consensus.md, Evidence: an equivocation is two messages of one type signed by one
    validator for the same height and view with different contents, two blocks or two
    post-state roots as well as two digests. A block of height 2 carrying such a record, in
    place of its record of two PREPAREs, is valid and gets the PREPARE.

    Written from the mechanical survivor ``aethel/consensus/messages.py:PrePrepare.key:
    RemoveRaiseOrReturn:08ea14e7`` (every PRE-PREPARE of a view the same as any other, so two
    blocks were no conflict): the records cases sent held PREPAREs only."""
    chain = slashed_chain(FOUR)
    record = EQUIVOCATIONS[signed_twice](chain)
    voted, voter = _vote_for_height_2(replica_api, chain, [record])
    if not voted:
        raise AssertionError(
            f"{voter} gave no PREPARE to height 2 carrying a genuine record of {record.offender}'s "
            f"{signed_twice} at height 1"
        )


@pytest.mark.req("R4.2", "R7.5", "P19")
@pytest.mark.rejects("R4.2")
def test_a_record_against_a_non_member_gets_no_vote(replica_api: ReplicaAPI) -> None:
    """spec/consensus.md, Evidence: evidence is checked against the validator set the epoch
    started with. A record of two conflicting PREPAREs signed by ``v999``, no member, with its
    own key (so every signature in the record verifies), reported by v001: no offence of the
    set, so height 2 carrying it gets no PREPARE; with the genuine record it does.

    Written from the mechanical survivor ``aethel/consensus/evidence.py:signed_by:
    ReplaceFalseWithTrue:5b1b2a91`` (a non-member's message taken as signed), which no case
    reached: every record sent named a member."""
    chain = slashed_chain(FOUR)
    genuine = _equivocation(chain)
    stranger = KeySigner("v999", KeyPair.from_seed(bytes([99]) * 32))
    first, second = _votes(genuine)
    record = Evidence.equivocation(
        chain.signers[genuine.reporter],
        Prepare.create(stranger, 1, 0, first.digest),
        Prepare.create(stranger, 1, 0, second.digest),
    )
    _require_no_vote_for_the_changed_record(
        replica_api, chain, record, genuine, "offender (now v999, no member, with its own key)"
    )


def _same_offence_other_votes(chain: SlashedChain) -> Evidence:
    """v000's equivocation at height 1, view 0, proved by two other PREPAREs, reported by v002:
    another record of the offence block 2 slashes (the same offence, offender and height)."""
    signer = chain.signers["v000"]
    first = Prepare.create(signer, 1, 0, bytes([3]) * 32)
    second = Prepare.create(signer, 1, 0, bytes([4]) * 32)
    return Evidence.equivocation(chain.signers["v002"], first, second)


#: name -> (the height of the block, its records from the chain)
REPEATED_RECORDS: dict[str, tuple[int, Callable[[SlashedChain], list[Evidence]]]] = {
    "twice-in-the-block": (2, lambda c: [_equivocation(c), _equivocation(c)]),
    "the-same-offence-proved-twice": (
        2,
        lambda c: [_equivocation(c), _same_offence_other_votes(c)],
    ),
    "applied-by-the-parent": (3, lambda c: [_equivocation(c)]),
    "proved-again-after-the-parent-applied-it": (3, lambda c: [_same_offence_other_votes(c)]),
}


@pytest.mark.req("R4.2", "P19")
@pytest.mark.rejects("R4.2")
@pytest.mark.parametrize("variant", list(REPEATED_RECORDS), ids=str)
def test_an_offence_slashed_twice_gets_no_vote(replica_api: ReplicaAPI, variant: str) -> None:
    """spec/consensus.md, Evidence: "the block's transition slashes the offender once per
    offence, offender and height (R4.2): a block repeating evidence already applied is
    invalid". v000's equivocation at height 1, which block 2 applies, carried twice by block 2
    (the same record, or a second record of it proved by other votes), or again by block 3:
    no PREPARE. The control is the same height with its committed records.

    Written from the mechanical survivors ``aethel/consensus/block_rules.py:
    check_block_evidence:ReplaceOrWithAnd:5a736253`` and ``RemoveStatement:010d0271`` (a
    record repeated within a block taken): no case carried an offence twice."""
    chain = slashed_chain(FOUR)
    height, records = REPEATED_RECORDS[variant]
    voted, voter = prepared_by_a_member(
        replica_api, chain, chain.with_evidence(height, records(chain)), NOW
    )
    if voted:
        raise AssertionError(
            f"{voter} voted PREPARE for height {height} slashing v000's height-1 equivocation "
            f"again ({variant})"
        )
    genuine = chain.with_evidence(height, chain.commits[height - 1].block.evidence)
    if not prepared_by_a_member(replica_api, chain, genuine, NOW)[0]:
        raise AssertionError(f"{voter} gave no PREPARE to height {height} as committed")


@pytest.mark.req("R4.2", "P19")
@pytest.mark.rejects("R4.2")
@pytest.mark.parametrize("height", [2, 3], ids=["at-the-blocks-height", "at-a-later-height"])
def test_a_record_of_an_offence_not_below_the_blocks_height_gets_no_vote(
    replica_api: ReplicaAPI, height: int
) -> None:
    """spec/consensus.md, Evidence: a leader puts into its block evidence "for offences at
    heights below the block's". Height 2 carrying v000's genuine equivocation (two PREPAREs of
    view 0) at ``height`` instead of at height 1 gets no PREPARE; with the height-1 record it
    does (the control).

    Written from the mechanical survivor ``aethel/consensus/block_rules.py:check_block_evidence:
    ReplaceComparisonOperator_GtE_Gt:9f0125ef`` (an offence at the block's own height taken):
    every record cases sent was of height 1."""
    chain = slashed_chain(FOUR)
    genuine = _equivocation(chain)
    first, second = _votes(genuine)
    offender = chain.signers[genuine.offender]
    too_late = Evidence.equivocation(
        chain.signers[genuine.reporter],
        Prepare.create(offender, height, 0, first.digest),
        Prepare.create(offender, height, 0, second.digest),
    )
    _require_no_vote_for_the_changed_record(
        replica_api,
        chain,
        too_late,
        genuine,
        f"record's offence height (now {height}, not below 2)",
    )


@pytest.mark.req("R4.2", "R1.5", "R7.5", "P19", "R1.1")
@pytest.mark.rejects("R1.5", "R7.5")
@pytest.mark.parametrize("member", list(FALSE_CLAIM_CHANGES), ids=str)
def test_a_false_claim_record_with_one_member_changed_gets_no_vote(
    impl: Implementation, replica_api: ReplicaAPI, member: str
) -> None:
    """Offence, offender, the proposal (signature, key, another block), a second message where
    a false claim has none, the block (another, missing), the proof index (a valid proof, past
    the end, -1), the reporter and its signature: each changed alone makes the record prove
    nothing, and a block carrying it gets no PREPARE (no vote, so no slashing)."""
    chain = slashed_chain(FOUR)
    genuine, valid = _false_claim(chain)
    changed = FALSE_CLAIM_CHANGES[member](chain, genuine, valid)
    _require_no_vote_for_the_changed_record(
        replica_api, chain, changed, genuine, f"false-claim record against v003 has its {member}"
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


@pytest.mark.req("R4.2", "P16", "R3.2")
def test_the_committed_transition_states_what_it_slashed(replica_api: ReplicaAPI) -> None:
    """spec/economics.md, R4.2: applied equivocation evidence burns floor(stake x 20 / 100) of
    the offender's stake. The reference chain's block 2 carries v000's equivocation: the
    replica, driven through heights 1 and 2 by their proposals and certificates, commits height
    2 with an execution summary (conformance/PROTOCOL.md, replica) whose ``slashed`` is v000's
    burned amount and whose ``stakes`` is v000's stake after it, and nobody else's.

    Written from the mechanical survivor ``aethel/state/transitions.py:_apply_slash:
    NumberReplacer:993a43a5`` (the amount slashed counted from 1, not 0)."""
    chain = slashed_chain(FOUR)
    voter = "v001"
    remote = fresh_replica(replica_api, chain, voter)
    drive_to(remote, chain, 2, NOW)
    committed = chain.commits[1]
    block = committed.block
    proposal = PrePrepare.create(chain.signers[block.proposer], committed.view, block)
    remote.on_message(proposal.to_wire(), NOW)
    outputs = outputs_from_json(remote.on_message(committed.certificate.to_wire(), NOW))
    done = [out for out in outputs if isinstance(out, Committed) and out.height == 2]
    if not done:
        raise AssertionError(f"{voter} did not commit height 2 on its certificate")
    stake = chain.cluster.validators.stake_of("v000")
    percent = int(catalog_threshold("R4.2", "slash_percent_equivocation").value)
    burned = stake * percent // 100
    execution = done[0].execution
    expect_equal(
        {"slashed": dict(execution.slashed), "stakes": dict(execution.stakes)},
        {"slashed": {"v000": burned}, "stakes": {"v000": stake - burned}},
        "what the committed transition of height 2 slashed",
    )
