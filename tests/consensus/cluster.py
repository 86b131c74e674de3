"""A tiny in-memory network of reference replicas for exact tests (aethel.node.virtual)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aethel.consensus.events import Timer
from aethel.consensus.ledger import LedgerExecutor, LedgerValidator, StateRepository, make_genesis
from aethel.consensus.messages import Message
from aethel.consensus.replica import Replica
from aethel.consensus.replica_config import Mode, ReplicaConfig, Services
from aethel.consensus.signing import DirectSignatureChecker, KeySigner
from aethel.consensus.stores import MemoryChainStore
from aethel.consensus.validators import Validator, ValidatorSet, make_validator_keys
from aethel.consensus.workload import TransferWorkload
from aethel.node.virtual import FifoCluster

#: Which queued items a test's network loses: (source, target, item) -> lost.
Lost = Callable[[str, str, Message | Timer], bool]


@dataclass(kw_only=True)
class Cluster(FifoCluster):
    """n reference replicas on the node layer's FIFO network (1 us per delivery)."""

    validators: ValidatorSet
    repository: StateRepository
    workload: TransferWorkload

    @property
    def replicas(self) -> dict[str, Replica]:
        """The replicas by validator id."""
        return self.nodes

    def step_losing(self, lost: Lost) -> None:
        """Deliver the first queued item, or drop it if ``lost`` names it (a cut link)."""
        source, target, item = self.queue[0]
        if lost(source, target, item):
            self.queue.popleft()
        else:
            self.step()

    def deliver(self, lost: Lost) -> None:
        """Deliver every queued item, losing those ``lost`` names."""
        while self.queue:
            self.step_losing(lost)

    def fire(self, *names: str) -> None:
        """Fire the pending view timers of ``names`` alone, in order, each at its deadline."""
        for name in names:
            pending = self.timers.pop(name)
            self.now = max(self.now, pending.deadline)
            self.route(name, self.replicas[name].on_timer(pending.timer, self.now))


@dataclass(frozen=True)
class Ledger:
    """The reference ledger a test cluster's replicas share: one state repository under a
    seeded transfer workload (8 funded accounts), its genesis over ``validators``."""

    repository: StateRepository
    workload: TransferWorkload
    executor: LedgerExecutor
    validator: LedgerValidator

    @classmethod
    def create(cls, validators: ValidatorSet, seed: int, per_block: int) -> Ledger:
        repository = StateRepository()
        workload = TransferWorkload(repository, seed, accounts=8, per_block=per_block)
        genesis = make_genesis(workload.genesis_balances, validators)
        executor = LedgerExecutor(repository, genesis)
        return cls(repository, workload, executor, LedgerValidator(repository))

    def services(self) -> Services:
        """Return one replica's services over the shared ledger, with a chain store of its own."""
        return Services(
            DirectSignatureChecker(),
            self.validator,
            self.executor,
            MemoryChainStore(),
            self.workload,
        )


def make_cluster(
    n: int,
    mode: Mode = "collector",
    stakes: list[int] | None = None,
    seed: int = 1,
    per_block: int = 2,
) -> Cluster:
    keys = make_validator_keys(n, seed)
    stakes = stakes or [10_000] * n
    validators = ValidatorSet.create(
        0,
        bytes(32),
        [
            Validator(f"v{i:03d}", k.public_key, s)
            for i, (k, s) in enumerate(zip(keys, stakes, strict=True))
        ],
    )
    ledger = Ledger.create(validators, seed, per_block)
    replicas = {}
    for i, key in enumerate(keys):
        name = f"v{i:03d}"
        replicas[name] = Replica(
            KeySigner(name, key), validators, ledger.services(), ReplicaConfig(mode=mode)
        )
    return Cluster(
        nodes=replicas,
        validators=validators,
        repository=ledger.repository,
        workload=ledger.workload,
    )
