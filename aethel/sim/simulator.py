"""Build and run one simulation: validators, keys, genesis, nodes, behaviours, faults, checkers.

``run_simulation(SimConfig(...))`` returns a :class:`aethel.sim.report.SimulationResult`;
``result.to_json()`` is what ``aethel simulate --json`` prints. Everything random comes from the
root seed through one named RNG per subsystem and node, so the same seed gives the same trace
hash.

``SimConfig(protocol_v2_height=H)`` runs protocol version 2 from height H on (V2.1; 1: from the
genesis): the validator set is a version-2 one (each member's BLS key derived from its Ed25519
seed, its region its WAN-7 region, WAN-7's latency table), and the BLS work is charged by
``bls_cpu`` (:class:`aethel.sim.cpu.BlsCpuModel`), including each node's registration of the set
(its members' proofs of possession, V2.6) when its replica starts; height 1 starts once the
genesis nodes have done it. Without it nothing differs from version 1.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aethel.consensus.block import ProofBlock
from aethel.consensus.catchup import collect_chain_links
from aethel.consensus.interfaces import ChainStore
from aethel.consensus.ledger import LedgerExecutor, LedgerValidator, StateRepository, make_genesis
from aethel.consensus.messages import CommitCertificate
from aethel.consensus.persistent import PersistentLedger
from aethel.consensus.replica import Replica
from aethel.consensus.replica_config import Mode, ReplicaConfig, Services
from aethel.consensus.signing import derive_bls_key
from aethel.consensus.stores import MemoryChainStore
from aethel.consensus.timeouts import compute_timeout
from aethel.consensus.validators import Validator, ValidatorSet, make_validator_keys
from aethel.consensus.workload import TransferWorkload
from aethel.errors import UsageError
from aethel.monitoring.metrics import NodeMetrics
from aethel.sim.byzantine import KINDS, make_behaviour
from aethel.sim.checkers import run_checkers
from aethel.sim.cpu import BlsCpuModel, CpuModel
from aethel.sim.engine import CONTROL, CommitRecord, Engine, SimNode
from aethel.sim.faults import FaultPlan, Partition, parse_faults
from aethel.sim.network import LATENCY_MS, REGIONS, NetworkModel
from aethel.sim.report import SimulationResult, summarize
from aethel.sim.services import (
    BlsSignatures,
    MemoStats,
    Meter,
    SimAggregateChecker,
    SimBlockValidator,
    SimCertificateChecker,
    SimExecutor,
    SimSignatureChecker,
    SimSigner,
)
from aethel.state.store import StateStore
from aethel.state.sync import InProcessPeer, run_sync

DEFAULT_STAKE = 10_000


@dataclass(frozen=True, slots=True)
class SimConfig:
    """Everything that defines a run (with the code version: the trace)."""

    validators: int = 4
    mode: Mode = "collector"
    heights: int = 3
    seed: int = 0
    byzantine: tuple[tuple[str, float], ...] = ()
    faults: tuple[str, ...] = ()
    stakes: tuple[int, ...] | None = None
    per_block: int = 4
    accounts: int = 16
    max_time_ns: int | None = None
    latency_scale: int = 1
    record_messages: bool | None = None
    #: Extra partitions (used by generated twins scenarios).
    partitions: tuple[Partition, ...] = ()
    #: Directory for per-node SQLite stores (None: in-memory stores).
    storage_dir: str | None = None
    #: Nodes that get a Prometheus registry (None: all up to 64 validators, else the first 8).
    metrics_nodes: tuple[int, ...] | None = None
    cpu: CpuModel = field(default_factory=CpuModel)
    #: The first height of protocol version 2 (the genesis's ``protocol_v2_height``, V2.1);
    #: None: version 1 throughout.
    protocol_v2_height: int | None = None
    bls_cpu: BlsCpuModel = field(default_factory=BlsCpuModel)

    def describe(self) -> dict[str, Any]:
        """Return the configuration as JSON (version 2's members only for a run that has it)."""
        described = self._describe()
        if self.protocol_v2_height is not None:
            described["protocol_v2_height"] = self.protocol_v2_height
            described["bls_cpu_model"] = self.bls_cpu.describe()
        return described

    def _describe(self) -> dict[str, Any]:
        return {
            "validators": self.validators,
            "mode": self.mode,
            "heights": self.heights,
            "seed": self.seed,
            "byzantine": [f"{k}:{f}" for k, f in self.byzantine],
            "faults": list(self.faults),
            "stakes": "equal" if self.stakes is None else list(self.stakes),
            "transactions_per_block": self.per_block,
            "latency_scale": self.latency_scale,
        }


class Simulation:
    """One built simulation; :meth:`run` executes it (use :func:`run_simulation`)."""

    def __init__(self, config: SimConfig) -> None:
        if config.validators < 1 or config.heights < 1:
            raise UsageError("a simulation needs >= 1 validator and >= 1 height")
        self.config = config
        n = config.validators
        stakes = list(config.stakes) if config.stakes is not None else [DEFAULT_STAKE] * n
        if len(stakes) != n:
            raise UsageError(f"{len(stakes)} stakes given for {n} validators")
        width = max(5, len(str(n - 1)))
        keys = make_validator_keys(n, config.seed)
        self.keys = keys
        self.ids = [f"v{i:0{width}d}" for i in range(n)]
        epoch_seed = random.Random(f"aethel-sim/epoch/{config.seed}").randbytes(32)
        if config.protocol_v2_height is None:
            members = [
                Validator(vid, key.public_key, stake)
                for vid, key, stake in zip(self.ids, keys, stakes, strict=True)
            ]
            self.validators = ValidatorSet.create(0, epoch_seed, members)
        else:
            self.validators = self._version_two_set(epoch_seed, stakes)
        self.repository = StateRepository()
        self.workload = TransferWorkload(
            self.repository, config.seed, accounts=config.accounts, per_block=config.per_block
        )
        genesis = make_genesis(self.workload.genesis_balances, self.validators)
        self.genesis = genesis
        self._fresh_count = 0
        self.meter = Meter()
        self.memo = MemoStats()
        cpu = config.cpu
        self.checker = SimSignatureChecker(self.meter, cpu, self.memo)
        #: The BLS vote signatures the simulated validators made (made once, parsed never).
        self.bls_made = BlsSignatures(n)
        self.aggregates = SimAggregateChecker(self.meter, config.bls_cpu, self.bls_made)
        self.certificates = SimCertificateChecker(
            self.checker, self.meter, cpu, config.bls_cpu, self.aggregates
        )
        self.ledger_validator = LedgerValidator(self.repository)
        self.block_validator = SimBlockValidator(self.ledger_validator, self.meter, cpu, self.memo)
        self.ledger_executor = LedgerExecutor(self.repository, genesis)
        self.executor = SimExecutor(self.ledger_executor, self.meter, cpu, self.memo)
        self.faults: FaultPlan = parse_faults(config.faults, n)
        if config.partitions:
            self.faults = FaultPlan(
                self.faults.specs,
                self.faults.link,
                self.faults.partitions + config.partitions,
                self.faults.nodes,
            )
        self.network = NetworkModel(latency_scale=config.latency_scale)
        self.behaviours = self._assign_byzantine()
        #: Version 2: the virtual CPU time a node spends registering the set when its replica
        #: starts (each member's key and proof of possession checked, V2.4-V2.6), at the genesis
        #: and at every later start (a late join, a restart: the new process holds no parsed
        #: key); the slashing sets derived from it keep the keys. 0 in version 1.
        self.registration_ns = (
            0
            if config.protocol_v2_height is None
            else config.bls_cpu.registration_ns(len(self.validators.validators))
        )
        nodes = self._make_nodes()
        record = config.record_messages if config.record_messages is not None else n <= 256
        self.engine = Engine(
            nodes, config.mode, self.network, cpu, self.faults, self.meter, config.seed, record
        )
        self.engine.sync_provider = self._provide_sync
        #: (node, height, bytes received, keys) of every verified state sync.
        self.syncs: list[tuple[int, int, int, int]] = []
        observed = config.metrics_nodes
        if observed is None:
            observed = tuple(range(len(nodes) if len(nodes) <= 64 else 8))
        for index in observed:
            self.engine.metrics[index] = NodeMetrics(nodes[index].validator_id)

    # ------------------------------------------------------------------ building

    def _version_two_set(self, epoch_seed: bytes, stakes: list[int]) -> ValidatorSet:
        """Return the version-2 set: BLS keys from the Ed25519 seeds, WAN-7 regions (V2.10)."""
        members = []
        for index, (vid, key, stake) in enumerate(zip(self.ids, self.keys, stakes, strict=True)):
            secret = derive_bls_key(key.seed)
            members.append(
                Validator(
                    vid,
                    key.public_key,
                    stake,
                    secret.public_key().data,
                    secret.prove_possession().data,
                    REGIONS[NetworkModel.region_of(index)],
                )
            )
        return ValidatorSet.create(
            0,
            epoch_seed,
            members,
            first_height=self.config.protocol_v2_height,
            regions=REGIONS,
            latency_ms=LATENCY_MS,
        )

    def _assign_byzantine(self) -> dict[int, str]:
        n = self.config.validators
        order = list(range(n))
        random.Random(f"aethel-sim/byzantine/{self.config.seed}").shuffle(order)
        assigned: dict[int, str] = {}
        for kind, fraction in self.config.byzantine:
            if kind not in KINDS:
                raise UsageError(f"unknown Byzantine behaviour {kind!r}; known: {', '.join(KINDS)}")
            if not 0.0 <= fraction <= 1.0:
                raise UsageError(f"Byzantine fraction {fraction} is outside [0, 1]")
            count = math.floor(fraction * n + 1e-9)
            for index in order[:count]:
                assigned[index] = kind
            order = order[count:]
        return assigned

    def _make_nodes(self) -> list[SimNode]:
        nodes: list[SimNode] = []
        seed = self.config.seed
        for index, vid in enumerate(self.ids):
            rng = random.Random(f"aethel-sim/link/{seed}/{index}")
            nodes.append(SimNode(index, vid, NetworkModel.region_of(index), rng))
        twins = [i for i, kind in sorted(self.behaviours.items()) if kind == "twins"]
        for twin_of in twins:
            index = len(nodes)
            rng = random.Random(f"aethel-sim/link/{seed}/{index}")
            nodes.append(SimNode(index, self.ids[twin_of], NetworkModel.region_of(index), rng))
        for node in nodes:
            key = (
                self.keys[self.ids.index(node.validator_id)]
                if node.index >= len(self.ids)
                else self.keys[node.index]
            )
            kind = self.behaviours.get(
                node.index if node.index < len(self.ids) else self.ids.index(node.validator_id)
            )
            node.honest = kind is None
            coalition = {self.ids[i] for i, k in self.behaviours.items() if k == "fork"}
            node.behaviour = (
                None
                if kind is None or kind == "twins"
                else make_behaviour(kind, self.workload, coalition)
            )
            node.store = self._make_store(node.index)
            node.make_replica = self._replica_factory(node.validator_id, key)
        return nodes

    def _make_store(self, index: int, suffix: str = "") -> ChainStore:
        """Return a node's chain store: in memory, or its own aethel.state StateStore (R5.4)."""
        if self.config.storage_dir is None:
            return MemoryChainStore()
        path = Path(self.config.storage_dir) / f"node-{index}{suffix}.sqlite"
        return PersistentLedger(StateStore(path, durable=False), self.genesis, f"{path}.votes")

    def _replica_factory(
        self, validator_id: str, key: Any
    ) -> Callable[[ChainStore, bool, bool], Replica]:
        version_two = self.config.protocol_v2_height is not None
        member = self.validators.get(validator_id)
        signer = SimSigner(
            validator_id,
            key,
            self.meter,
            self.config.cpu,
            self.memo,
            derive_bls_key(key.seed) if version_two else None,
            self.config.bls_cpu,
            self.bls_made,
            None if member is None else member.bls_key,
        )

        def make(store: ChainStore, lost_journal: bool, sync_on_start: bool = False) -> Replica:
            services = Services(
                self.checker,
                self.block_validator,
                self.executor,
                store,
                self.workload,
                self.certificates,
                self.aggregates if version_two else None,
            )
            config = ReplicaConfig(
                mode=self.config.mode,
                lost_journal=lost_journal,
                sync_on_start=sync_on_start,
                protocol_v2_height=self.config.protocol_v2_height,
            )
            return Replica(signer, self.validators, services, config)

        return make

    # ------------------------------------------------------------------ control events

    def _start_node(
        self, node: SimNode, time: int, lost_journal: bool, sync_on_start: bool = False
    ) -> None:
        """Start ``node``'s replica at ``time``; in version 2 once its CPU has registered the
        validator set (:attr:`registration_ns`), which a starting process does first."""
        assert node.make_replica is not None
        node.epoch += 1
        node.up = True
        ready = time
        if self.registration_ns:
            ready = max(node.cpu_free, time) + self.registration_ns
        node.cpu_free = max(node.cpu_free, ready)
        node.replica = node.make_replica(node.store, lost_journal, sync_on_start)
        outputs = node.replica.start(ready)
        self.engine.emit(node, outputs, ready)

    def _schedule_faults(self) -> None:
        late = {f.node for f in self.faults.nodes if f.kind == "late"}
        for node in self.engine.nodes:
            if node.index not in late:
                self._start_node(node, 0, False)
        for fault in self.faults.nodes:
            if fault.kind == "late":

                def join(engine: Engine, node: SimNode, at: int) -> None:
                    # A late joiner never signed anything: it has no journal to lose.
                    self._start_node(node, at, False, sync_on_start=True)

                self.engine.push(fault.at, CONTROL, fault.node, join)
                continue

            def crash(engine: Engine, node: SimNode, at: int) -> None:
                node.up = False
                node.epoch += 1

            self.engine.push(fault.at, CONTROL, fault.node, crash)
            if fault.restart_at is not None:
                saved = fault.saved_state

                def restart(engine: Engine, node: SimNode, at: int, saved: bool = saved) -> None:
                    if isinstance(node.store, PersistentLedger):
                        node.store.close()  # a real restart: reopen what is on disk
                        node.store = self._make_store(node.index)
                    if not saved:
                        node.store = self._make_store_fresh(node.index)
                    self._start_node(node, at, not saved, sync_on_start=not saved)

                self.engine.push(fault.restart_at, CONTROL, fault.node, restart)

    def _make_store_fresh(self, index: int) -> ChainStore:
        self._fresh_count += 1
        return self._make_store(index, f"-fresh{self._fresh_count}")

    def _provide_sync(
        self, node: SimNode, certificate: CommitCertificate
    ) -> tuple[ProofBlock, tuple[tuple[ProofBlock, CommitCertificate], ...], int] | None:
        """Fetch the state ``certificate`` vouches for from live peers (R3.1, R3.5).

        The snapshot is transferred with :func:`aethel.state.sync.run_sync`: a manifest checked
        against the certified root, then chunks from up to three peers, each verified on
        arrival. The certified blocks between the node's height and the target come along (the
        replica derives the target's validator set from them, R2.3). Returns the certified
        block, those links and the bytes received (for the transfer time).
        """
        links = self._chain_links(node, certificate.height)
        if links is None:
            return None
        peers = []
        block = None
        for peer in self.engine.nodes:
            if peer is node or not peer.up:
                continue
            candidate = peer.store.get_block(certificate.height)
            if candidate is not None and candidate.digest == certificate.digest:
                block = candidate
                peers.append(peer)
            if len(peers) == 3:
                break
        if block is None or certificate.post_root not in self.repository:
            return None
        repository = self.repository

        def lookup(root: bytes) -> Any:
            return repository.tree(root) if root in repository else None

        # Peer names must be unique: twins share a validator id, so name peers by node.
        first = InProcessPeer(f"node-{peers[0].index}", lookup)
        served = [first, *(first.clone(f"node-{p.index}") for p in peers[1:])]
        result = run_sync(certificate.post_root, served)
        if result.tree.root() != certificate.post_root:
            return None
        self.syncs.append((node.index, certificate.height, result.bytes_received, result.keys))
        if isinstance(node.store, PersistentLedger):
            node.store.receive_snapshot(result.tree)
        size = sum(b.wire_size + c.wire_size for b, c in links)
        return block, links, result.bytes_received + size

    def _chain_links(
        self, node: SimNode, target: int
    ) -> tuple[tuple[ProofBlock, CommitCertificate], ...] | None:
        """Return the certified blocks from ``node``'s next height to ``target`` - 1 that live
        peers hold, or None if a height is missing (the sync is retried later)."""
        latest = node.store.latest()
        start = 1 if latest is None else latest.height + 1
        peers = [peer.store for peer in self.engine.nodes if peer is not node and peer.up]
        return collect_chain_links(peers, start, target)

    # ------------------------------------------------------------------ running

    def honest_nodes(self) -> list[SimNode]:
        """Return the nodes running honest replicas with their own key."""
        return [n for n in self.engine.nodes if n.honest]

    def run(self, progress: Callable[[int, int], None] | None = None) -> SimulationResult:
        """Run to completion and check the trace."""
        config = self.config
        heal = self.faults.heal_time
        # Long enough for the liveness bound after healing (views back off up to 256 s).
        max_time = config.max_time_ns or heal + config.heights * 120_000_000_000 + 1_200_000_000_000
        honest = self.honest_nodes()
        crashed_for_good = {
            f.node for f in self.faults.nodes if f.kind == "crash" and f.restart_at is None
        }
        targets = {n.index for n in honest if n.index not in crashed_for_good}
        reached: set[int] = set()
        state = {"best": 0}
        engine = self.engine

        def on_commit(record: CommitRecord) -> None:
            if record.height > state["best"]:
                state["best"] = record.height
            if (
                record.node in targets
                and record.height >= config.heights
                and record.time >= heal
                and record.node not in reached
            ):
                reached.add(record.node)
                if len(reached) == len(targets):
                    engine.stopped = True

        engine.on_commit = on_commit

        def done() -> bool:
            return engine.stopped

        def report() -> None:
            if progress is not None:
                progress(min(state["best"], config.heights), config.heights)

        start = time.perf_counter()
        self._schedule_faults()
        self.engine.run(max_time, done, report)
        wall = time.perf_counter() - start
        report()
        checkers = run_checkers(self, heal)
        return summarize(self, wall, checkers)

    def liveness_bound(self, heal: int, records: Sequence[CommitRecord] = ()) -> int:
        """Return how long after healing every honest node must commit (P9).

        P9: after GST the first view with an honest leader commits. Views whose leader is
        Byzantine, crashed for good or restarted without its journal may each time out first
        (stake-weighted draws can give several in a row), so the bound allows, beyond the
        highest view a node is in, as many backed-off views as the heights committed after
        healing had such leaders before their committing view; a failed view with a live
        honest leader earns no allowance.
        """
        latency = max(max(row) for row in self.network.latency_table())
        highest_view = max(
            (n.replica.view for n in self.engine.nodes if n.replica is not None), default=0
        )
        # Crashed for good, or restarted without the vote journal: the latter may not propose
        # until the chain passes the heights it may have voted at (ReplicaConfig.lost_journal).
        gone = {
            f.node
            for f in self.faults.nodes
            if f.kind == "crash" and (f.restart_at is None or not f.saved_state)
        }
        absent = {self.ids[i] for i in self.behaviours} | {self.ids[i] for i in gone}
        for record in records:
            if record.time < heal or record.view <= highest_view:
                continue
            stakes = self.ledger_executor.get_stakes(record.committed.execution.pre_root)
            validators = self.validators.with_stakes(dict(stakes))  # the height's own set
            skipped = sum(
                1
                for view in range(record.view)
                if validators.get_leader(record.height, view).id in absent
            )
            highest_view = max(highest_view, skipped)
        return 2 * compute_timeout(4 * latency, highest_view + 2) + 30_000_000_000


def run_simulation(
    config: SimConfig, progress: Callable[[int, int], None] | None = None
) -> SimulationResult:
    """Build and run one simulation."""
    return Simulation(config).run(progress)


__all__ = ["SimConfig", "Simulation", "run_simulation"]
