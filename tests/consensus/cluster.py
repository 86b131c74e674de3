"""A tiny in-memory network of replicas for exact tests: FIFO delivery, timers on demand."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

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


@dataclass
class Cluster:
    """n replicas joined by an in-memory FIFO network."""

    replicas: dict[str, Replica]
    validators: ValidatorSet
    repository: StateRepository
    workload: TransferWorkload
    queue: deque[tuple[str, str, Message]] = field(default_factory=deque)
    commits: dict[str, list[Committed]] = field(default_factory=dict)
    evidence: list[EvidenceFound] = field(default_factory=list)
    timers: dict[str, SetTimer] = field(default_factory=dict)
    syncs: list[tuple[str, RequestSync]] = field(default_factory=list)
    down: set[str] = field(default_factory=set)
    now: int = 0

    def route(self, source: str, outputs: list[Output]) -> None:
        for out in outputs:
            if isinstance(out, Send):
                self.queue.append((source, out.to, out.message))
            elif isinstance(out, Broadcast):
                for target in self.replicas:
                    if target != source:
                        self.queue.append((source, target, out.message))
            elif isinstance(out, Committed):
                self.commits.setdefault(source, []).append(out)
            elif isinstance(out, EvidenceFound):
                self.evidence.append(out)
            elif isinstance(out, SetTimer):
                if out.timer.kind == "propose":
                    self.queue.append((source, source, out.timer))  # type: ignore[arg-type]
                else:
                    self.timers[source] = out
            elif isinstance(out, RequestSync):
                self.syncs.append((source, out))

    def start(self) -> None:
        for name, replica in self.replicas.items():
            self.route(name, replica.start(self.now))

    def run(self, max_steps: int = 1_000_000) -> int:
        steps = 0
        while self.queue and steps < max_steps:
            source, target, message = self.queue.popleft()
            steps += 1
            if target in self.down or source in self.down:
                continue
            self.now += 1_000
            replica = self.replicas[target]
            if isinstance(message, Timer):
                self.route(target, replica.on_timer(message, self.now))
            else:
                self.route(target, replica.on_message(message, self.now, source))
        return steps

    def fire_timers(self) -> None:
        for name, timer in sorted(self.timers.items()):
            if name in self.down:
                continue
            self.now = max(self.now, timer.deadline)
            self.route(name, self.replicas[name].on_timer(timer.timer, self.now))

    def heights(self) -> dict[str, int]:
        return {name: len(self.commits.get(name, [])) for name in self.replicas}


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
    repository = StateRepository()
    workload = TransferWorkload(repository, seed, accounts=8, per_block=per_block)
    genesis = make_genesis(workload.genesis_balances, validators)
    executor = LedgerExecutor(repository, genesis)
    validator = LedgerValidator(repository)
    replicas = {}
    for i, key in enumerate(keys):
        name = f"v{i:03d}"
        services = Services(
            DirectSignatureChecker(), validator, executor, MemoryChainStore(), workload
        )
        replicas[name] = Replica(
            KeySigner(name, key), validators, services, ReplicaConfig(mode=mode)
        )
    return Cluster(replicas, validators, repository, workload)
