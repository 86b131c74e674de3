"""An exact, scripted cluster: FIFO delivery under the test's control, timers fired on demand.

The simulator (:mod:`conformance.mixed`) runs realistic networks; this runs the few scenarios
that need a precise interleaving (lose the leader after everyone prepared, feed one replica a
chosen message sequence). Nodes are the implementation's replicas (through
:class:`~conformance.mixed.ImplReplica`) or reference replicas, side by side.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field
from typing import Any, cast

from aethel.consensus.events import (
    Broadcast,
    Committed,
    EvidenceFound,
    Output,
    RequestSync,
    Send,
    SetTimer,
    Timer,
)
from aethel.consensus.ledger import LedgerExecutor, LedgerValidator, StateRepository, make_genesis
from aethel.consensus.messages import Message
from aethel.consensus.replica import Mode, Replica, ReplicaConfig, Services
from aethel.consensus.signing import DirectSignatureChecker, KeySigner
from aethel.consensus.stores import MemoryChainStore
from aethel.consensus.validators import Validator, ValidatorSet, make_validator_keys
from aethel.consensus.workload import TransferWorkload
from conformance.adapters.api import Implementation
from conformance.adapters.reference_replica import genesis_to_json
from conformance.mixed import ImplReplica


@dataclass
class Cluster:
    """n replicas joined by an in-memory FIFO network."""

    nodes: dict[str, Any]
    validators: ValidatorSet
    repository: StateRepository
    workload: TransferWorkload
    impl_ids: list[str]
    executor: LedgerExecutor
    block_validator: LedgerValidator
    #: Deliver every message twice (a duplicating network).
    duplicate: bool = False
    queue: deque[tuple[str, str, Message | Timer]] = field(default_factory=deque)
    commits: dict[str, list[Committed]] = field(default_factory=dict)
    evidence: list[tuple[str, EvidenceFound]] = field(default_factory=list)
    timers: dict[str, SetTimer] = field(default_factory=dict)
    syncs: list[tuple[str, RequestSync]] = field(default_factory=list)
    down: set[str] = field(default_factory=set)
    now: int = 0

    def route(self, source: str, outputs: list[Output]) -> None:
        for out in outputs:
            copies = 2 if self.duplicate else 1
            if isinstance(out, Send):
                self.queue.extend([(source, out.to, out.message)] * copies)
            elif isinstance(out, Broadcast):
                for target in self.nodes:
                    if target != source:
                        self.queue.extend([(source, target, out.message)] * copies)
            elif isinstance(out, Committed):
                self.commits.setdefault(source, []).append(out)
            elif isinstance(out, EvidenceFound):
                self.evidence.append((source, out))
            elif isinstance(out, SetTimer):
                if out.timer.kind == "propose":
                    self.queue.append((source, source, out.timer))
                else:
                    self.timers[source] = out
            elif isinstance(out, RequestSync):
                self.syncs.append((source, out))

    def start(self) -> None:
        for name, node in self.nodes.items():
            self.route(name, node.start(self.now))

    def step(self) -> None:
        """Deliver the first queued message (or propose timer)."""
        source, target, item = self.queue.popleft()
        if target in self.down or source in self.down:
            return
        self.now += 1_000_000
        node = self.nodes[target]
        if isinstance(item, Timer):
            self.route(target, node.on_timer(item, self.now))
        else:
            self.route(target, node.on_message(item, self.now))

    def run(self, max_steps: int = 200_000) -> None:
        steps = 0
        while self.queue and steps < max_steps:
            self.step()
            steps += 1

    def fire_timers(self) -> None:
        """Fire every pending view timer (a view timeout at every live node)."""
        pending, self.timers = self.timers, {}
        for name, timer in sorted(pending.items()):
            if name in self.down:
                continue
            self.now = max(self.now, timer.deadline)
            self.route(name, self.nodes[name].on_timer(timer.timer, self.now))

    def committed_heights(self, name: str) -> list[int]:
        return [c.height for c in self.commits.get(name, [])]


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
    return Cluster(nodes, validators, repository, workload, impl_ids, executor, validator)
