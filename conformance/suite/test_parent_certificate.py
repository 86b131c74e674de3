"""A block past height 1 gets a vote only with its parent's valid commit certificate (R2.3, R3.2).

spec/consensus.md, "Blocks", rule 2: the last commit of a block of height h > 1 is a valid commit
certificate for height h - 1 and its parent block, whose post-state root is the node's committed
state root, valid by the validator set of height h - 1. The chain is real (a reference cluster,
:mod:`conformance.suite.chains`): the implementation's replica commits height 1 from its
proposal and certificate, then is shown height 2 as committed with its last commit replaced,
the block signed again by its proposer so that the replacement is the only thing wrong. Each
such proposal gets no PREPARE; the genuine one gets it (the control, on a fresh replica).

Written from the mechanical survivor ``aethel/consensus/proposals.py:ProposalRules.
_limits_and_last_commit_reason:RemoveStatement:9b588f56`` (the replica's check of the last
commit removed): the only case that refused a last commit was at height 1, where a block must
carry none, so a replica checking the parent certificate at height 1 alone passed the suite.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from aethel.consensus.block import ProofBlock
from aethel.consensus.messages import Commit, CommitCertificate, PrePrepare
from conformance.adapters.api import ReplicaAPI
from conformance.suite.chains import SlashedChain, prepared_by_a_member, slashed_chain
from conformance.suite.scene import FOUR, flipped

pytestmark = pytest.mark.capability("replica")

NOW = 10**9
#: The members whose COMMITs the genuine certificate of height 1 holds (q(W) of four equal
#: stakes is three of them).
SIGNERS = ("v000", "v001", "v002")


def _signed(
    chain: SlashedChain,
    members: tuple[str, ...],
    height: int = 1,
    digest: bytes | None = None,
    root: bytes | None = None,
) -> CommitCertificate:
    """A certificate of height 1's commit, each vote signed by its member, with ``height``,
    ``digest`` or ``root`` changed where given."""
    genuine = chain.commits[0].certificate
    digest = genuine.digest if digest is None else digest
    root = genuine.post_root if root is None else root
    votes = tuple(
        Commit.create(chain.signers[m], height, genuine.view, digest, root) for m in members
    )
    return CommitCertificate(height, genuine.view, digest, root, votes)


def _forged_vote(chain: SlashedChain) -> CommitCertificate:
    """Three votes, v002's signature damaged: two valid votes are below q(W)."""
    certificate = _signed(chain, SIGNERS)
    last = certificate.votes[-1]
    return replace(certificate, votes=(*certificate.votes[:-1], flipped(last)))


#: variant -> (the rule a refusal names, the last commit height 2 carries instead of its own).
LAST_COMMITS: dict[str, tuple[str, Callable[[SlashedChain], CommitCertificate | None]]] = {
    "none": ("R2.3", lambda c: None),
    "of-another-block": ("R2.3", lambda c: _signed(c, SIGNERS, digest=bytes([9]) * 32)),
    "of-another-height": ("R2.3", lambda c: _signed(c, SIGNERS, height=2)),
    "vouching-for-another-root": ("R3.2", lambda c: _signed(c, SIGNERS, root=bytes([9]) * 32)),
    "below-the-quorum": ("R2.3", lambda c: _signed(c, SIGNERS[:2])),
    "with-a-damaged-vote": ("R2.3", _forged_vote),
    "naming-a-member-twice": ("R2.3", lambda c: _signed(c, ("v001", "v001", "v002"))),
}


def _height_2_with(chain: SlashedChain, last_commit: CommitCertificate | None) -> PrePrepare:
    """Height 2 as committed, with ``last_commit`` in place of its own, signed again by its
    proposer."""
    committed = chain.commits[1]
    block = committed.block
    signer = chain.signers[block.proposer]
    changed = ProofBlock.create(
        signer, 2, block.parent, block.transactions, block.proofs, block.evidence, last_commit
    )
    return PrePrepare.create(signer, committed.view, changed)


def _prepares(replica_api: ReplicaAPI, chain: SlashedChain, proposal: PrePrepare) -> bool:
    """Return whether a replica that committed height 1 gives ``proposal`` a PREPARE."""
    return prepared_by_a_member(replica_api, chain, proposal, NOW)[0]


def _params() -> list[object]:
    return [
        pytest.param(name, id=name, marks=[pytest.mark.rejects(rule)])
        for name, (rule, _) in LAST_COMMITS.items()
    ]


@pytest.mark.req("R2.3", "R3.2")
@pytest.mark.parametrize("variant", _params())
def test_a_block_with_a_wrong_parent_certificate_gets_no_vote(
    replica_api: ReplicaAPI, variant: str
) -> None:
    chain = slashed_chain(FOUR)
    rule, last_commit = LAST_COMMITS[variant]
    wrong = _height_2_with(chain, last_commit(chain))
    if _prepares(replica_api, chain, wrong):
        raise AssertionError(
            f"a replica at height 2 voted PREPARE for height 2 whose last commit is {variant} "
            f"(spec/consensus.md, Blocks rule 2; {rule})"
        )
    genuine = _height_2_with(chain, chain.commits[1].block.last_commit)
    if not _prepares(replica_api, chain, genuine):
        raise AssertionError("height 2 with its genuine last commit got no PREPARE (the control)")
