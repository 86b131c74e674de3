"""The implementation's replica is moved by no forged certificate (R2.3, R7.5).

In collector mode the leader assembles PREPARE and COMMIT certificates; a Byzantine leader
could send ones it did not earn. The implementation's replica, holding the proposal of height 1
of a real chain, is shown forged certificates (below q(W), a vote whose signature was made with
another key, one vote counted twice): it must send no COMMIT and commit nothing. The genuine
certificates then move it (the control).
"""

from __future__ import annotations

import pytest

from aethel.consensus.events import Broadcast, Send
from aethel.consensus.messages import (
    Commit,
    CommitCertificate,
    Prepare,
    PrepareCertificate,
    PrePrepare,
)
from aethel.consensus.signing import KeySigner
from conformance.adapters import Implementation
from conformance.adapters.api import ReplicaAPI
from conformance.replica_wire import outputs_from_json
from conformance.suite.chains import SlashedChain, fresh_replica, slashed_chain

pytestmark = pytest.mark.capability("replica")

NOW = 10**9
FOUR = (10_000, 10_000, 10_000, 10_000)  # q(W) = 26,667: three members, never two


def _sends(outputs: object, kind: type) -> bool:
    for out in outputs_from_json(outputs):
        if isinstance(out, Send | Broadcast) and isinstance(out.message, kind):
            return True
    return False


def _forgeries(voters: list[str]) -> dict[str, list[str]]:
    """Who signs each forged certificate ("x:y" = y's vote signed with x's key)."""
    a, b, c = voters
    return {
        "below-quorum": [a, b],
        "a-vote-signed-with-another-key": [a, b, f"{a}:{c}"],
        "one-vote-counted-twice": [a, b, b],
    }


def _signer(chain: SlashedChain, spec: str) -> KeySigner:
    key_of, _, name = spec.rpartition(":")
    return KeySigner(name, chain.signers[key_of or name].key)


@pytest.mark.req("R2.3", "R7.5")
def test_forged_certificates_move_no_replica(impl: Implementation, replica_api: ReplicaAPI) -> None:
    chain = slashed_chain(FOUR)
    committed = chain.commits[0]
    block, genuine_commit = committed.block, committed.certificate
    voter = next(n for n in ("v001", "v002", "v003") if n != block.proposer)
    others = [n for n in ("v000", "v001", "v002", "v003") if n != voter][:3]
    remote = fresh_replica(replica_api, chain, voter)
    proposal = PrePrepare.create(chain.signers[block.proposer], committed.view, block)
    if not _sends(remote.on_message(proposal.to_wire(), NOW), Prepare):
        raise AssertionError(f"{voter} sent no PREPARE for the valid proposal of height 1")
    view, digest, root = committed.view, block.digest, genuine_commit.post_root
    for name, signers in _forgeries(others).items():
        prepares = tuple(Prepare.create(_signer(chain, s), 1, view, digest) for s in signers)
        forged = PrepareCertificate(1, view, digest, prepares)
        if _sends(remote.on_message(forged.to_wire(), NOW), Commit):
            raise AssertionError(f"{voter} sent COMMIT on a forged prepare certificate ({name})")
        commits = tuple(Commit.create(_signer(chain, s), 1, view, digest, root) for s in signers)
        remote.on_message(CommitCertificate(1, view, digest, root, commits).to_wire(), NOW)
        if remote.status()["height"] != 1:
            raise AssertionError(f"{voter} committed height 1 on a forged certificate ({name})")
    prepares = tuple(Prepare.create(chain.signers[s], 1, view, digest) for s in others)
    genuine = PrepareCertificate(1, view, digest, prepares)
    if not _sends(remote.on_message(genuine.to_wire(), NOW), Commit):
        raise AssertionError(f"{voter} sent no COMMIT on a genuine prepare certificate")
    remote.on_message(genuine_commit.to_wire(), NOW)
    if remote.status()["height"] != 2:
        raise AssertionError(f"{voter} did not commit height 1 on its genuine certificate")
