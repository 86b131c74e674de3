"""An exact, scripted cluster: FIFO delivery under the test's control, timers fired on demand
(the node layer's :class:`aethel.node.virtual.FifoCluster`).

The simulator (:mod:`conformance.mixed`) runs realistic networks; this runs the few scenarios
that need a precise interleaving (lose the leader after everyone prepared, feed one replica a
chosen message sequence). Nodes are the implementation's replicas (through
:class:`~conformance.mixed.ImplReplica`) or reference replicas, side by side.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, cast

from aethel.consensus.ledger import LedgerExecutor, LedgerValidator, StateRepository, make_genesis
from aethel.consensus.replica import Replica
from aethel.consensus.replica_config import Mode, ReplicaConfig, Services
from aethel.consensus.signing import DirectSignatureChecker, KeySigner
from aethel.consensus.stores import MemoryChainStore
from aethel.consensus.validators import Validator, ValidatorSet, make_validator_keys
from aethel.consensus.workload import TransferWorkload
from aethel.node.virtual import FifoCluster
from conformance.adapters.api import Implementation
from conformance.adapters.reference_replica import genesis_to_json
from conformance.mixed import ImplReplica


@dataclass(kw_only=True)
class Cluster(FifoCluster):
    """n replicas on the node layer's FIFO network (1 ms per delivery)."""

    validators: ValidatorSet
    repository: StateRepository
    workload: TransferWorkload
    impl_ids: list[str]
    executor: LedgerExecutor
    block_validator: LedgerValidator


def make_cluster(
    impl: Implementation,
    n: int,
    impl_ids: list[str] | None = None,
    *,
    mode: str = "collector",
    stakes: list[int] | None = None,
    seed: int = 1,
    per_block: int = 2,
) -> Cluster:
    """Build n validators (``v000``...); those in ``impl_ids`` run the implementation's replica."""
    keys = make_validator_keys(n, seed)
    stakes = stakes or [10_000] * n
    ids = [f"v{i:03d}" for i in range(n)]
    members = [Validator(i, k.public_key, s) for i, k, s in zip(ids, keys, stakes, strict=True)]
    epoch_seed = random.Random(f"aethel-conformance/epoch/{seed}").randbytes(32)
    validators = ValidatorSet.create(0, epoch_seed, members)
    repository = StateRepository()
    workload = TransferWorkload(repository, seed, accounts=8, per_block=per_block)
    genesis = make_genesis(workload.genesis_balances, validators)
    executor = LedgerExecutor(repository, genesis)
    validator = LedgerValidator(repository)
    impl_ids = list(impl_ids if impl_ids is not None else ids)
    api = impl.api("replica") if impl_ids else None
    nodes: dict[str, Any] = {}
    for name, key in zip(ids, keys, strict=True):
        if name in impl_ids:
            assert api is not None
            remote = api.new(
                validators.to_wire(), name, key.seed.hex(), mode, genesis_to_json(genesis)
            )
            nodes[name] = ImplReplica(
                remote,
                repository,
                workload,
                executor.genesis_root(),
                MemoryChainStore(),
                catch_up="catch-up" in impl.capabilities,
            )
        else:
            services = Services(
                DirectSignatureChecker(), validator, executor, MemoryChainStore(), workload
            )
            nodes[name] = Replica(
                KeySigner(name, key), validators, services, ReplicaConfig(mode=cast(Mode, mode))
            )
    return Cluster(
        nodes=nodes,
        hop_ns=1_000_000,
        validators=validators,
        repository=repository,
        workload=workload,
        impl_ids=impl_ids,
        executor=executor,
        block_validator=validator,
    )
