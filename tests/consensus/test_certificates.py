"""A forged certificate moves no honest replica (R2.3, R7.5, R7.2).

In collector mode one node, the leader, assembles the PREPARE and COMMIT certificates; a
Byzantine leader could send a certificate it did not earn, to make honest replicas lock, send
COMMIT or commit a block no quorum voted for. A replica that holds the proposal is shown each
forgery below and must neither vote COMMIT (prepare certificates) nor commit (commit
certificates); the genuine certificate then moves it (the control).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import pytest

from aethel.consensus.events import Committed, Output, Send
from aethel.consensus.messages import (
    Commit,
    CommitCertificate,
    Prepare,
    PrepareCertificate,
    PrePrepare,
)
from aethel.consensus.replica import Replica
from aethel.consensus.signing import KeySigner

from .slashing import SlashedChain, make_slashed_chain

NOW = 10**9
MEMBERS = ["v000", "v001", "v002", "v003"]


@functools.cache
def _chain() -> SlashedChain:
    """Four validators of 10,000: q(W) = 26,667, so any three make a quorum, two do not."""
    return make_slashed_chain([10_000] * 4, ["v000"], heights=2)


def _voter(chain: SlashedChain) -> tuple[Replica, list[Output]]:
    """A fresh replica that is not the proposer of height 1, shown its PRE-PREPARE."""
    block = chain.link(1)[0]
    name = next(m for m in MEMBERS[1:] if m != block.proposer)
    replica = chain.fresh_replica(name)
    outputs = replica.on_message(PrePrepare.create(chain.signers[block.proposer], 0, block), NOW)
    return replica, outputs


def _flip(signature: bytes) -> bytes:
    return bytes([signature[0] ^ 0x80]) + signature[1:]


def _prepares(chain: SlashedChain, members: list[str], digest: bytes) -> list[Prepare]:
    return [Prepare.create(chain.signers[m], 1, 0, digest) for m in members]


def _commits(chain: SlashedChain, members: list[str], root: bytes) -> list[Commit]:
    digest = chain.link(1)[0].digest
    return [Commit.create(chain.signers[m], 1, 0, digest, root) for m in members]


# Each forgery of a PREPARE certificate for height 1's block (digest d).
PREPARE_FORGERIES: dict[str, Callable[[SlashedChain, bytes], list[Prepare]]] = {
    "two-of-four-below-quorum": lambda c, d: _prepares(c, ["v001", "v002"], d),
    "one-vote-with-a-flipped-signature": lambda c, d: [
        *_prepares(c, ["v001", "v002"], d),
        *[dataclasses.replace(v, signature=_flip(v.signature)) for v in _prepares(c, ["v003"], d)],
    ],
    "a-vote-signed-with-another-key": lambda c, d: [
        *_prepares(c, ["v001", "v002"], d),
        Prepare.create(KeySigner("v003", c.signers["v001"].key), 1, 0, d),
    ],
    "one-vote-counted-twice": lambda c, d: _prepares(c, ["v001", "v002", "v002"], d),
    "a-vote-from-outside-the-set": lambda c, d: [
        *_prepares(c, ["v001", "v002"], d),
        Prepare.create(KeySigner("v999", c.signers["v003"].key), 1, 0, d),
    ],
    "a-vote-for-another-block": lambda c, d: [
        *_prepares(c, ["v001", "v002"], d),
        *_prepares(c, ["v003"], bytes(32)),
    ],
}


def _committed(outputs: list[Output]) -> bool:
    return any(isinstance(o, Committed) for o in outputs)


def _sent_commit(outputs: list[Output]) -> bool:
    return any(isinstance(o, Send) and isinstance(o.message, Commit) for o in outputs)


@pytest.mark.req("R2.3", "R7.5", "R7.2")
@pytest.mark.parametrize("case", sorted(PREPARE_FORGERIES))
def test_a_forged_prepare_certificate_gets_no_commit_vote(case: str) -> None:
    chain = _chain()
    replica, outputs = _voter(chain)
    digest = chain.link(1)[0].digest
    assert any(isinstance(o, Send) and isinstance(o.message, Prepare) for o in outputs)
    forged = PrepareCertificate(1, 0, digest, tuple(PREPARE_FORGERIES[case](chain, digest)))
    assert not _sent_commit(replica.on_message(forged, NOW + 1))
    assert replica.prepared is None
    genuine = PrepareCertificate(1, 0, digest, tuple(_prepares(chain, MEMBERS[1:], digest)))
    assert _sent_commit(replica.on_message(genuine, NOW + 2))  # the control


# Each forgery of a COMMIT certificate for height 1's block with its true post-state root r.
COMMIT_FORGERIES: dict[str, Callable[[SlashedChain, bytes], list[Commit]]] = {
    "two-of-four-below-quorum": lambda c, r: _commits(c, ["v001", "v002"], r),
    "a-vote-signed-with-another-key": lambda c, r: [
        *_commits(c, ["v001", "v002"], r),
        Commit.create(KeySigner("v003", c.signers["v002"].key), 1, 0, c.link(1)[0].digest, r),
    ],
    "one-vote-counted-twice": lambda c, r: _commits(c, ["v001", "v002", "v002"], r),
    "a-vote-for-another-root": lambda c, r: [
        *_commits(c, ["v001", "v002"], r),
        *_commits(c, ["v003"], bytes(32)),
    ],
}


@pytest.mark.req("R2.3", "R7.5", "R3.2")
@pytest.mark.parametrize("case", sorted(COMMIT_FORGERIES))
def test_a_forged_commit_certificate_commits_nothing(case: str) -> None:
    chain = _chain()
    replica, _ = _voter(chain)
    block, genuine = chain.link(1)
    root = genuine.post_root
    votes = tuple(COMMIT_FORGERIES[case](chain, root))
    forged = CommitCertificate(1, 0, block.digest, root, votes)
    assert not _committed(replica.on_message(forged, NOW + 1))
    assert replica.height == 1
    assert _committed(replica.on_message(genuine, NOW + 2))  # the control
    assert replica.height == 2
