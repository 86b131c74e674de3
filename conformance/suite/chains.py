"""Real certified chains for the suite's scripted cases: a reference cluster whose block 2
slashes one validator, and the implementation's replica started beside it.

The chain is built once per stake list with reference replicas only (it does not depend on the
implementation under test); cases hand its links, certificates, blocks and states to the
implementation and judge what it does with them.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aethel.consensus.block import GENESIS_PARENT, ProofBlock
from aethel.consensus.events import Committed
from aethel.consensus.evidence import Evidence
from aethel.consensus.ledger import make_genesis
from aethel.consensus.messages import Commit, CommitCertificate, Prepare, PrePrepare
from aethel.consensus.signing import KeySigner
from aethel.consensus.validators import make_validator_keys
from conformance.adapters.api import JSON, ReplicaAPI
from conformance.adapters.reference import ReferenceImplementation
from conformance.adapters.reference_replica import genesis_to_json
from conformance.cluster import Cluster, make_cluster
from conformance.suite.scene import sent

SEED = 1


@dataclass(frozen=True)
class SlashedChain:
    """Three committed heights of a reference cluster; block 2 slashes ``v000``."""

    cluster: Cluster
    signers: dict[str, KeySigner]
    commits: tuple[Committed, ...]

    def link(self, height: int) -> dict[str, Any]:
        committed = self.commits[height - 1]
        return {"block": committed.block.to_wire(), "certificate": committed.certificate.to_wire()}

    def proposal(self, height: int) -> PrePrepare:
        """Return the PRE-PREPARE of committed ``height`` from its proposer."""
        committed = self.commits[height - 1]
        block = committed.block
        return PrePrepare.create(self.signers[block.proposer], committed.view, block)

    def certificate(self, height: int, members: list[str]) -> CommitCertificate:
        """Return a certificate of committed ``height`` signed by ``members`` only."""
        cert = self.commits[height - 1].certificate
        return self.certify(height, cert.digest, cert.post_root, members, cert.view)

    def certify(
        self,
        height: int,
        digest: bytes,
        root: bytes,
        members: Sequence[str] | None = None,
        view: int = 0,
    ) -> CommitCertificate:
        """Return a commit certificate of ``height`` for ``digest`` and ``root`` in ``view``,
        signed by ``members`` (default: every member)."""
        signers = sorted(self.signers) if members is None else members
        votes = tuple(Commit.create(self.signers[m], height, view, digest, root) for m in signers)
        return CommitCertificate(height, view, digest, root, votes)

    def resigned(
        self,
        block: ProofBlock,
        *,
        height: int | None = None,
        parent: bytes | None = None,
        evidence: Sequence[Evidence] | None = None,
        last_commit: CommitCertificate | bool | None = False,
    ) -> ProofBlock:
        """Return ``block`` with the given members replaced (``last_commit=False``: kept),
        signed again by its proposer."""
        return ProofBlock.create(
            self.signers[block.proposer],
            block.height if height is None else height,
            block.parent if parent is None else parent,
            block.transactions,
            block.proofs,
            block.evidence if evidence is None else list(evidence),
            block.last_commit if last_commit is False else last_commit,  # type: ignore[arg-type]
        )

    def with_evidence(self, height: int, evidence: Sequence[Evidence]) -> PrePrepare:
        """Return the PRE-PREPARE of ``height`` as committed, with ``evidence`` in place of its
        block's records, the block signed again by its proposer (so the records are the only
        change)."""
        committed = self.commits[height - 1]
        changed = self.resigned(committed.block, evidence=evidence)
        return PrePrepare.create(self.signers[committed.block.proposer], committed.view, changed)

    def state(self, height: int) -> dict[str, Any]:
        root = self.commits[height - 1].certificate.post_root
        return dict(self.cluster.repository.get(root).leaves())


@functools.cache
def slashed_chain(stakes: tuple[int, ...]) -> SlashedChain:
    """Run reference replicas to height 3; ``v000`` equivocates at height 1 and its evidence
    reaches every node before the first block, so block 2 carries it."""
    cluster = make_cluster(ReferenceImplementation(), len(stakes), [], stakes=list(stakes))
    keys = make_validator_keys(len(stakes), SEED)
    signers = {f"v{i:03d}": KeySigner(f"v{i:03d}", key) for i, key in enumerate(keys)}
    first = Prepare.create(signers["v000"], 1, 0, bytes([1]) * 32)
    second = Prepare.create(signers["v000"], 1, 0, bytes([2]) * 32)
    evidence = Evidence.equivocation(signers["v001"], first, second)
    for name in cluster.nodes:
        cluster.queue.append(("v001", name, evidence))
    cluster.start()
    steps = 0
    while len(cluster.commits.get("v001", [])) < 3 and cluster.queue and steps < 50_000:
        cluster.step()
        steps += 1
    commits = tuple(cluster.commits.get("v001", [])[:3])
    if len(commits) < 3 or [e.offender for e in commits[1].block.evidence] != ["v000"]:
        raise RuntimeError("the reference cluster did not build the slashed chain (suite bug)")
    return SlashedChain(cluster, signers, commits)


def genesis_of(chain: SlashedChain) -> JSON:
    """Return the genesis the chain's cluster started from, in its JSON form."""
    cluster = chain.cluster
    return genesis_to_json(make_genesis(cluster.workload.genesis_balances, cluster.validators))


def new_replica(api: Any, chain: SlashedChain, name: str, mode: str = "collector") -> Any:
    """Return the replica of ``name`` that ``api`` (``replica``, or a capability whose ``new``
    takes replica.new's parameters) makes at height 1, not started."""
    seed = chain.signers[name].key.seed.hex()
    return api.new(chain.cluster.validators.to_wire(), name, seed, mode, genesis_of(chain))


def fresh_replica(api: ReplicaAPI, chain: SlashedChain, name: str) -> Any:
    """Return the implementation's replica of ``name`` at height 1, started."""
    remote = new_replica(api, chain, name)
    remote.start(0)
    return remote


def drive_to(remote: Any, chain: SlashedChain, height: int, now: int) -> None:
    """Commit heights 1 .. ``height`` - 1 at the implementation's replica ``remote``: each
    height's PRE-PREPARE from its proposer, then its commit certificate (R2.3)."""
    for h in range(1, height):
        remote.on_message(chain.proposal(h).to_wire(), now)
        remote.on_message(chain.commits[h - 1].certificate.to_wire(), now)
        reached = remote.status()["height"]
        if reached != h + 1:
            raise AssertionError(
                f"the replica did not commit height {h} from its PRE-PREPARE and commit "
                f"certificate (it is at height {reached})"
            )


def learn_height(remote: Any, chain: SlashedChain, height: int, now: int) -> None:
    """Hand ``remote`` the certified state of ``height`` as the peers' latest (what the
    harness's sync does): it must then be at ``height`` + 1 (R3.1)."""
    learned = chain.commits[height - 1]
    remote.on_sync_completed(
        learned.certificate.to_wire(), learned.block.to_wire(), chain.state(height), now
    )
    reached = remote.status()["height"]
    if reached != height + 1:
        raise AssertionError(
            f"the replica adopted the certified state of height {height} and is at height "
            f"{reached}, not {height + 1} (R3.1)"
        )


def prepared_by_a_member(
    api: ReplicaAPI, chain: SlashedChain, proposal: PrePrepare, now: int
) -> tuple[bool, str]:
    """Return whether a member other than ``proposal``'s leader, its replica started fresh and
    driven to the proposal's height (:func:`drive_to`), sends a PREPARE for it; and the
    member's name."""
    voter = next(name for name in ("v001", "v002", "v003") if name != proposal.leader)
    remote = fresh_replica(api, chain, voter)
    drive_to(remote, chain, proposal.height, now)
    outputs = remote.on_message(proposal.to_wire(), now)
    return bool(sent(outputs, Prepare, lambda m: m.digest == proposal.digest)), voter


def invented_chain(
    signers: dict[str, KeySigner], proposer: str, members: list[str], heights: int
) -> list[tuple[ProofBlock, CommitCertificate]]:
    """Return ``heights`` empty blocks from genesis by ``proposer``, each with a commit
    certificate signed by ``members`` alone and an invented post-state root (a chain that
    exists only if ``members`` hold q(W) of every height's stake)."""
    parent, chain = GENESIS_PARENT, []
    for height in range(1, heights + 1):
        block = ProofBlock.create(signers[proposer], height, parent, [], [], [], None)
        root = bytes([height]) * 32
        votes = tuple(Commit.create(signers[m], height, 0, block.digest, root) for m in members)
        chain.append((block, CommitCertificate(height, 0, block.digest, root, votes)))
        parent = block.digest
    return chain
