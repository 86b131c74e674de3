"""A cluster whose block 2 slashes chosen validators, and a fresh replica to drive by hand."""

from __future__ import annotations

from dataclasses import dataclass

from aethel.consensus.block import ProofBlock
from aethel.consensus.events import Committed, Output
from aethel.consensus.evidence import Evidence
from aethel.consensus.messages import Commit, CommitCertificate, Prepare, PrePrepare
from aethel.consensus.replica import Replica
from aethel.consensus.replica_config import ReplicaConfig, Services
from aethel.consensus.signing import DirectSignatureChecker, KeySigner
from aethel.consensus.stores import MemoryChainStore
from aethel.consensus.validators import make_validator_keys
from aethel.consensus.workload import TransferWorkload

from .cluster import Cluster, make_cluster


@dataclass
class SlashedChain:
    """A committed chain of a 4- or 5-validator cluster; block 2 carries the evidence."""

    cluster: Cluster
    signers: dict[str, KeySigner]
    commits: list[Committed]

    def link(self, height: int) -> tuple[ProofBlock, CommitCertificate]:
        committed = self.commits[height - 1]
        return committed.block, committed.certificate

    def fresh_replica(self, name: str) -> Replica:
        """Return a new, started replica of ``name`` at height 1 with its own store."""
        one = self.cluster.replicas[name]
        workload = TransferWorkload(self.cluster.repository, 1, accounts=8, per_block=2)
        services = Services(
            DirectSignatureChecker(),
            one.services.validator,
            one.services.executor,
            MemoryChainStore(),
            workload,
        )
        replica = Replica(self.signers[name], self.cluster.validators, services, ReplicaConfig())
        replica.start(0)
        return replica

    def certificate(self, height: int, members: list[str]) -> CommitCertificate:
        """Return a certificate of committed ``height`` signed by ``members`` (their own keys)."""
        cert = self.commits[height - 1].certificate
        votes = tuple(
            Commit.create(self.signers[m], height, cert.view, cert.digest, cert.post_root)
            for m in members
        )
        return CommitCertificate(height, cert.view, cert.digest, cert.post_root, votes)


def make_slashed_chain(stakes: list[int], offenders: list[str], heights: int = 3) -> SlashedChain:
    """Run a collector cluster to ``heights`` commits; each offender equivocates at height 1,
    and the evidence is gossiped to everyone before the first block, so block 2 slashes them."""
    cluster = make_cluster(len(stakes), "collector", stakes=stakes)
    keys = make_validator_keys(len(stakes), 1)
    signers = {f"v{i:03d}": KeySigner(f"v{i:03d}", k) for i, k in enumerate(keys)}
    for offender in offenders:
        first = Prepare.create(signers[offender], 1, 0, bytes([1]) * 32)
        second = Prepare.create(signers[offender], 1, 0, bytes([2]) * 32)
        evidence = Evidence.equivocation(signers["v001"], first, second)
        for name in cluster.replicas:
            cluster.queue.append(("v001", name, evidence))
    cluster.start()
    while min(cluster.heights().values()) < heights and cluster.queue:
        cluster.run(max_steps=1)
    commits = cluster.commits["v001"][:heights]
    assert len(commits) == heights
    assert {e.offender for e in commits[1].block.evidence} == set(offenders)
    assert all(c.view == 0 for c in commits)
    return SlashedChain(cluster, signers, commits)


def drive_to(chain: SlashedChain, replica: Replica, height: int) -> None:
    """Commit heights 1 .. ``height`` - 1 at ``replica`` through PRE-PREPARE and certificate."""
    for h in range(1, height):
        block, cert = chain.link(h)
        leader = replica.validators.get_leader(h, 0).id
        replica.on_message(PrePrepare.create(chain.signers[leader], 0, block), 1_000 * h)
        replica.on_message(cert, 1_000 * h + 1)
        assert replica.height == h + 1, f"height {h} did not commit"


def propose(chain: SlashedChain, replica: Replica, last_commit: CommitCertificate) -> list[Output]:
    """Deliver an empty block for ``replica``'s height carrying ``last_commit``, proposed by
    the view-0 leader of that height; return the replica's outputs."""
    leader = replica.validators.get_leader(replica.height, 0).id
    block = ProofBlock.create(
        chain.signers[leader], replica.height, replica.parent, [], [], [], last_commit
    )
    return replica.on_message(PrePrepare.create(chain.signers[leader], 0, block), 10**9)


def prepares(outputs: list[Output]) -> list[Prepare]:
    """Return the PREPAREs among ``outputs``."""
    found = []
    for out in outputs:
        message = getattr(out, "message", None)
        if isinstance(message, Prepare):
            found.append(message)
    return found
