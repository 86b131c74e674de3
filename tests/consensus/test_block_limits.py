"""Block limits (N6): voters refuse an oversized block or a repeated proof before any solver
work, with the same rule a history verifier applies (spec/consensus.md, "Blocks")."""

from __future__ import annotations

import functools
from collections.abc import Callable

import pytest

from aethel.consensus.block import ProofBlock
from aethel.consensus.block_rules import (
    MAX_BLOCK_EVIDENCE,
    MAX_BLOCK_PROOFS,
    check_block_limits,
)
from aethel.consensus.events import Log
from aethel.consensus.evidence import Evidence
from aethel.consensus.history import History, HistoryAnchor, HistoryLink
from aethel.consensus.history_verifier import HistoryVerifier
from aethel.consensus.messages import Prepare, PrePrepare
from aethel.errors import ProtocolViolation
from aethel.proofs.model import Proof
from aethel.proofs.verifier import VerificationResult, verify_proof
from conformance.histories import Chain, make_chain, recertify, resign_block

from .slashing import SlashedChain, make_slashed_chain, prepares

Items = tuple[list, list, list]  # type: ignore[type-arg]


@functools.cache
def _chain() -> SlashedChain:
    return make_slashed_chain([10_000] * 4, ["v000"], heights=2)


def _items(chain: SlashedChain) -> tuple[dict, dict, Evidence]:  # type: ignore[type-arg]
    block = chain.link(1)[0]
    return block.transactions[0], block.proofs[0], chain.link(2)[0].evidence[0]


def _duplicate(chain: SlashedChain) -> Items:
    tx, proof, _ = _items(chain)
    return [tx, tx], [proof, proof], []


def _too_many_proofs(chain: SlashedChain) -> Items:
    tx, proof, _ = _items(chain)
    return [tx] * (MAX_BLOCK_PROOFS + 1), [proof] * (MAX_BLOCK_PROOFS + 1), []


def _too_much_evidence(chain: SlashedChain) -> Items:
    signer = chain.signers["v002"]
    records = [
        Evidence.equivocation(
            signer,
            Prepare.create(chain.signers["v003"], 1, view, bytes([1]) * 32),
            Prepare.create(chain.signers["v003"], 1, view, bytes([2]) * 32),
        )
        for view in range(MAX_BLOCK_EVIDENCE + 1)
    ]
    return [], [], records


def _proof_reused(chain: SlashedChain) -> Items:
    tx, proof, _ = _items(chain)
    other = chain.link(1)[0].transactions[1]
    return [tx, other], [proof, proof], []


#: case -> (the block's items, the rule it breaks)
CASES: dict[str, tuple[Callable[[SlashedChain], Items], str]] = {
    "repeated-transaction-and-proof": (_duplicate, "R7.1"),
    "proof-reused-for-another-transaction": (_proof_reused, "R1.1"),
    "too-many-proofs": (_too_many_proofs, "N6"),
    "too-much-evidence": (_too_much_evidence, "N6"),
}


@pytest.mark.req("N6", "R1.1", "R7.1")
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_voter_refuses_a_block_beyond_the_limits_before_verifying_a_proof(case: str) -> None:
    chain = _chain()
    replica = chain.fresh_replica("v001")
    make, rule = CASES[case]
    transactions, proofs, evidence = make(chain)
    leader = replica.validators.get_leader(1, 0).id
    signer = chain.signers[leader]
    block = ProofBlock.create(signer, 1, replica.parent, transactions, proofs, evidence, None)
    outputs = replica.on_message(PrePrepare.create(signer, 0, block), 10**9)
    assert not prepares(outputs)
    rejected = [o.detail for o in outputs if isinstance(o, Log) and o.event == "rejected"]
    assert rejected and rejected[0].startswith(f"[{rule}]"), rejected
    assert replica.stats.blocks_validated == 0  # no proof was verified for it
    with pytest.raises(ProtocolViolation) as raised:
        check_block_limits(block)
    assert raised.value.rule_id == rule


@pytest.mark.req("N6")
def test_blocks_within_the_limits_pass() -> None:
    chain = _chain()
    for height in (1, 2):
        check_block_limits(chain.link(height)[0])


@functools.cache
def _history_chain() -> Chain:
    return make_chain()


@pytest.mark.req("R7.1", "R7.4")
def test_a_history_whose_block_repeats_a_proof_is_rejected_before_solving() -> None:
    chain = _history_chain()
    link = chain.history.links[0]
    block = link.block
    doubled = resign_block(
        chain,
        block,
        transactions=[*block.transactions, block.transactions[0]],
        proofs=[*block.proofs, block.proofs[0]],
    )
    forged = HistoryLink(doubled, recertify(chain, doubled, link.certificate.post_root))
    solved: list[object] = []

    def verify(proof: Proof) -> VerificationResult:
        solved.append(proof)
        return verify_proof(proof)

    verifier = HistoryVerifier(chain.validators, verify=verify)
    verdict = verifier.check(HistoryAnchor.genesis(chain.genesis), History((forged,)))
    assert not verdict.accepted
    assert (verdict.height, verdict.rule_id) == (1, "R7.1"), verdict.reason
    assert "repeats" in verdict.reason and not solved
