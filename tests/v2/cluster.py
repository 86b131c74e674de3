"""Reference replicas of protocol version 2 on the node layer's FIFO network, for exact tests.

Each validator's BLS key is derived from its Ed25519 seed (:func:`derive_bls_key`), and the set
is a version-2 one (regions of WAN-7, its latency table). ``activation`` is the genesis's
``protocol_v2_height``: heights below it run version 1, the others version 2 (V2.1).
"""

from __future__ import annotations

from dataclasses import dataclass

from aethel.consensus.ledger import StateRepository
from aethel.consensus.replica import Replica
from aethel.consensus.replica_config import Mode, ReplicaConfig
from aethel.consensus.signing import KeySigner, derive_bls_key
from aethel.consensus.validators import Validator, ValidatorSet, make_validator_keys
from aethel.consensus.workload import TransferWorkload
from aethel.encoding import KeyPair
from aethel.node.virtual import FifoCluster
from aethel.sim.network import LATENCY_MS, REGIONS
from tests.consensus.cluster import Ledger


@dataclass(kw_only=True)
class Cluster(FifoCluster):
    """n reference replicas of a version-2 set on a FIFO network."""

    validators: ValidatorSet
    repository: StateRepository
    workload: TransferWorkload
    signers: dict[str, KeySigner]

    @property
    def replicas(self) -> dict[str, Replica]:
        """The replicas by validator id."""
        return self.nodes


def version_two_member(name: str, key: KeyPair, stake: int, region: str) -> Validator:
    """Return a member of a version-2 set whose BLS key derives from ``key``'s seed."""
    secret = derive_bls_key(key.seed)
    return Validator(
        name,
        key.public_key,
        stake,
        secret.public_key().data,
        secret.prove_possession().data,
        region,
    )


def make_cluster(
    n: int,
    mode: Mode = "collector",
    activation: int = 1,
    seed: int = 1,
    per_block: int = 2,
) -> Cluster:
    """Return ``n`` replicas (stake 10,000 each; member i in WAN-7 region i mod 7)."""
    keys = make_validator_keys(n, seed)
    names = [f"v{i:03d}" for i in range(n)]
    members = [
        version_two_member(name, key, 10_000, REGIONS[i % len(REGIONS)])
        for i, (name, key) in enumerate(zip(names, keys, strict=True))
    ]
    validators = ValidatorSet.create(
        0, bytes(32), members, first_height=activation, regions=REGIONS, latency_ms=LATENCY_MS
    )
    ledger = Ledger.create(validators, seed, per_block)
    replicas = {}
    signers = {}
    for name, key in zip(names, keys, strict=True):
        signer = signers[name] = KeySigner(name, key, derive_bls_key(key.seed))
        config = ReplicaConfig(mode=mode, protocol_v2_height=activation)
        replicas[name] = Replica(signer, validators, ledger.services(), config)
    return Cluster(
        nodes=replicas,
        validators=validators,
        repository=ledger.repository,
        workload=ledger.workload,
        signers=signers,
    )


def run_heights(cluster: Cluster, heights: int) -> None:
    """Run until every replica committed ``heights`` heights (or nothing is left to do)."""
    cluster.start()
    while min(cluster.heights().values()) < heights and cluster.queue:
        cluster.run(max_steps=50)
