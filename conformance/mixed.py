"""Mixed clusters: the implementation's replicas run in the simulator beside reference and
Byzantine ones (capability ``replica``).

The reference simulator (:mod:`aethel.sim`) builds the validators, keys, genesis, workload,
WAN-7 network, faults and Byzantine behaviours as usual; then the nodes chosen for the
implementation get an :class:`ImplReplica` instead of a reference replica. It turns the
simulator's typed events into adapter calls and the JSON outputs back into typed outputs (parsed
strictly: a malformed output is an error of the implementation), offers each height's workload
to the implementation's block source, and records what the implementation sent and committed.
The simulator's checkers then judge the whole trace, and :func:`check_impl_messages` re-checks
every message the implementation signed with the reference's rules.

Honest limits: an implementation's replica is charged only the message-handling CPU time of the
CPU model (its own signature and proof checks happen outside virtual time), and it is never
crashed and restarted by a fault plan (its state lives in another process).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from types import SimpleNamespace
from typing import Any

from aethel.consensus.block import ProofBlock
from aethel.consensus.events import (
    Broadcast,
    Committed,
    EvidenceFound,
    Output,
    Send,
    SetTimer,
    Timer,
)
from aethel.consensus.interfaces import ChainStore
from aethel.consensus.ledger import StateRepository, make_genesis
from aethel.consensus.messages import (
    Commit,
    CommitCertificate,
    Message,
    NewView,
    Prepare,
    PrePrepare,
    SignedMessage,
    ViewChange,
)
from aethel.consensus.signing import DirectSignatureChecker
from aethel.consensus.v2.checks import DIRECT, signed_by_registered_key
from aethel.consensus.v2.version import version_of_height
from aethel.consensus.validators import Validator
from aethel.consensus.viewchange import check_new_view
from aethel.consensus.votes import certificates_by_form
from aethel.consensus.workload import TransferWorkload
from aethel.sim.engine import CommitRecord
from aethel.sim.report import SimulationResult
from aethel.sim.simulator import SimConfig, Simulation
from conformance.adapters.api import Implementation
from conformance.adapters.reference_replica import genesis_to_json
from conformance.replica_wire import outputs_from_json


class ImplReplica:
    """The implementation's replica of one simulated node, as the simulator's engine sees it."""

    def __init__(
        self,
        remote: Any,
        repository: StateRepository,
        workload: TransferWorkload,
        genesis_root: bytes,
        store: ChainStore,
        *,
        catch_up: bool = False,
    ) -> None:
        self.remote = remote
        #: The implementation declares capability ``catch-up``: syncs carry the certified chain.
        self.catch_up = catch_up
        self.repository = repository
        self.workload = workload
        self.store = store
        self.sent: list[Message] = []
        self.committed: list[Committed] = []
        #: (height, view, duration ns) of every view timer the replica set (R6.5).
        self.view_timers: list[tuple[int, int, int]] = []
        #: Evidence the replica reported.
        self.evidence: list[EvidenceFound] = []
        self.height = 1
        self.pre_root = genesis_root
        self._offered: set[tuple[int, bytes]] = set()
        self._offer()

    # -- what the engine calls

    def start(self, now: int) -> list[Output]:
        return self._outputs(self.remote.start(now), now)

    def on_message(self, message: Message, now: int, sender: str = "") -> list[Output]:
        return self._outputs(self.remote.on_message(message.to_wire(), now), now)

    def on_timer(self, timer: Timer, now: int) -> list[Output]:
        return self._outputs(self.remote.on_timer(timer.height, timer.view, timer.kind, now), now)

    def check_sync(
        self, certificate: CommitCertificate, block: ProofBlock, links: Sequence[Any] = ()
    ) -> str:
        """Let the engine install the snapshot in the node's store; the implementation judges.

        The implementation is handed the certificate, block and state (and, with capability
        ``catch-up``, the certified chain) in one call, where it checks them itself (R3.1), so
        the shell installs first, as it did before replicas checked a chain before installing.
        """
        return ""

    def on_sync_completed(
        self,
        certificate: CommitCertificate,
        block: ProofBlock,
        now: int,
        links: Sequence[Any] = (),
    ) -> list[Output]:
        state = self.repository.get(certificate.post_root).leaves()
        if self.catch_up:
            chain = [{"block": b.to_wire(), "certificate": c.to_wire()} for b, c in links]
            answer = self.remote.on_sync_completed_with_chain(
                chain, certificate.to_wire(), block.to_wire(), state, now
            )
        else:  # capability replica alone: no chain (see conformance/PROTOCOL.md)
            answer = self.remote.on_sync_completed(
                certificate.to_wire(), block.to_wire(), state, now
            )
        outputs = self._outputs(answer, now)
        # Ask where the replica stands: it may have refused the sync (R3.1), and the offers
        # for its next proposal must follow its real height and root, not the certificate's.
        status = self.remote.status()
        height, root = int(status["height"]), bytes.fromhex(status["state_root"])
        if (height, root) != (self.height, self.pre_root):
            self.height, self.pre_root = height, root
            self._offer()
        return outputs

    @property
    def view(self) -> int:
        return int(self.remote.status()["view"])

    @property
    def state_root(self) -> bytes:
        return bytes.fromhex(self.remote.status()["state_root"])

    @property
    def stats(self) -> SimpleNamespace:
        counters = self.remote.get_performance_stats()
        return SimpleNamespace(**{"view_changes": 0, **counters})

    # -- plumbing

    def _offer(self) -> None:
        key = (self.height, self.pre_root)
        if key in self._offered:
            return
        self._offered.add(key)
        if self.pre_root in self.repository:
            transactions, proofs = self.workload.select(self.height, self.pre_root)
        else:  # the implementation diverged: nothing sensible to offer
            transactions, proofs = [], []
        self.remote.offer(self.height, self.pre_root.hex(), list(transactions), list(proofs))

    def _outputs(self, items: Any, now: int = 0) -> list[Output]:
        outputs = outputs_from_json(items)
        for out in outputs:
            if isinstance(out, Send | Broadcast):
                self.sent.append(out.message)
            elif isinstance(out, SetTimer) and out.timer.kind == "view":
                self.view_timers.append((out.timer.height, out.timer.view, out.deadline - now))
            elif isinstance(out, EvidenceFound):
                self.evidence.append(out)
            elif isinstance(out, Committed):
                self.committed.append(out)
                self.store.commit_height(out.block, out.certificate, out.execution)
                if out.height + 1 > self.height:
                    self.height, self.pre_root = out.height + 1, out.certificate.post_root
        self._offer()
        return outputs


@dataclass
class MixedResult:
    """A finished mixed-cluster run."""

    sim: Simulation
    result: SimulationResult
    impl_nodes: list[int]
    impl_replicas: dict[int, ImplReplica] = field(default_factory=dict)

    @property
    def commits(self) -> list[CommitRecord]:
        return self.sim.engine.commits

    def heights_committed_by(self, node: int) -> list[int]:
        """Return the heights node committed, in order."""
        return [r.height for r in self.commits if r.node == node]

    def failed_checkers(self) -> dict[str, str]:
        """Return {checker: detail} of every checker that failed."""
        return {k: str(v.get("detail", "")) for k, v in self.result.checkers.items() if not v["ok"]}


def run_mixed(
    impl: Implementation,
    config: SimConfig,
    impl_nodes: int | list[int],
    *,
    setup: Callable[[Simulation], None] | None = None,
) -> MixedResult:
    """Run ``config`` with honest nodes handed to ``impl``'s replicas.

    ``impl_nodes`` is a count (the first honest nodes in index order are taken) or a list of
    node indices, which must be honest and not crashed by the fault plan.
    """
    config = replace(config, record_messages=True)
    sim = Simulation(config)
    if setup is not None:
        setup(sim)
    faulted = {f.node for f in sim.faults.nodes if f.kind != "late"}
    honest = [n.index for n in sim.engine.nodes if n.honest and n.index < config.validators]
    if isinstance(impl_nodes, int):
        chosen = [i for i in honest if i not in faulted][:impl_nodes]
        if len(chosen) < impl_nodes:
            raise ValueError(
                f"only {len(chosen)} honest, unfaulted nodes for {impl_nodes} requested"
            )
    else:
        chosen = list(impl_nodes)
        bad = [i for i in chosen if i not in honest or i in faulted]
        if bad:
            raise ValueError(
                f"nodes {bad} are Byzantine or faulted; cannot host the implementation"
            )
    api = impl.api("replica")
    catch_up = "catch-up" in impl.capabilities
    mixed = MixedResult(sim, None, chosen)  # type: ignore[arg-type]
    genesis_root = sim.ledger_executor.genesis_root()
    genesis = genesis_to_json(make_genesis(sim.workload.genesis_balances, sim.validators))
    for index in chosen:
        node = sim.engine.nodes[index]
        key = sim.keys[index]

        def make(
            store: ChainStore,
            lost_journal: bool,
            sync_on_start: bool = False,
            *,
            index: int = index,
            key: Any = key,
        ) -> Any:
            # A fresh implementation replica learns it is behind from the certificates it sees
            # and asks for a sync itself (RequestSync); the protocol has no start-up flag for it.
            remote = api.new(
                sim.validators.to_wire(), sim.ids[index], key.seed.hex(), config.mode, genesis
            )
            proxy = ImplReplica(
                remote, sim.repository, sim.workload, genesis_root, store, catch_up=catch_up
            )
            mixed.impl_replicas[index] = proxy
            return proxy

        node.make_replica = make
    mixed.result = sim.run()
    return mixed


def check_impl_messages(mixed: MixedResult) -> list[str]:
    """Re-check every message the implementation's replicas sent with the reference's rules.

    Signed consensus messages must be signed by the sender's key in their domain (R7.5, E7), and
    every NEW-VIEW must be valid: q(W) VIEW-CHANGEs and the highest prepared block re-proposed
    (R2.6). Returns the problems found.
    """
    sim = mixed.sim
    checker = DirectSignatureChecker()
    problems: list[str] = []
    for index, proxy in sorted(mixed.impl_replicas.items()):
        own = sim.ids[index]
        member = sim.validators.get(own)
        assert member is not None
        for message in proxy.sent:
            if isinstance(message, Prepare | Commit | PrePrepare | ViewChange | NewView):
                signed: SignedMessage = message
                if signed.validator != own:
                    problems.append(
                        f"{own} sent a {type(message).__name__} naming {signed.validator}"
                    )
                elif not _signed_in_its_version(sim, member, signed, checker):
                    problems.append(f"{own} sent a {type(message).__name__} with a bad signature")
            if isinstance(message, NewView):
                reason = _check_new_view(sim, message, checker)
                if reason:
                    problems.append(
                        f"{own} sent an invalid NEW-VIEW for view {message.view}: {reason}"
                    )
    return problems


def _check_new_view(sim: Simulation, nv: NewView, checker: DirectSignatureChecker) -> str:
    """Return "" if ``nv`` is valid by the reference's rules (R2.6), checked in the version of
    its height, each certificate it carries in the form of its own height (V2.2)."""
    activation = sim.config.protocol_v2_height
    if activation is None:
        return check_new_view(nv, sim.validators, checker)
    version = version_of_height(nv.height, activation)
    certificates = certificates_by_form(checker)
    return check_new_view(nv, sim.validators, checker, certificates, version, True)


def _signed_in_its_version(
    sim: Simulation, member: Validator, message: SignedMessage, checker: DirectSignatureChecker
) -> bool:
    """Return whether ``member`` signed ``message`` in the version of its height (V2.2): Ed25519
    over the version-1 payload, or at a version-2 height a BLS vote under the member's
    registered key (V2.3) and every other message Ed25519 in the version-2 domain."""
    activation = sim.config.protocol_v2_height
    if activation is None or version_of_height(message.height, activation) == 1:
        return checker.verify(member.public_key, message.payload, message.signature)
    if isinstance(message, Prepare | Commit):
        v2 = sim.validators.v2
        return message.version == 2 and signed_by_registered_key(
            None if v2 is None else v2.roster,
            message.validator,
            message.payload,
            message.signature,
            DIRECT,
        )
    return checker.verify(member.public_key, message.payload_for(2), message.signature)


def seed_where(
    predicate: Callable[[Simulation], bool], make: Callable[[int], SimConfig]
) -> SimConfig:
    """Return the first config (seeds 0..199) whose built simulation satisfies ``predicate``."""
    for seed in range(200):
        config = make(seed)
        if predicate(Simulation(config)):
            return config
    raise AssertionError("no seed gives the scenario its shape")


def leader_is_byzantine(height: int) -> Callable[[Simulation], bool]:
    """Return a predicate for :func:`seed_where`: the view-0 leader of ``height`` is Byzantine."""

    def holds(sim: Simulation) -> bool:
        leader = sim.validators.get_leader(height, 0).id
        return sim.ids.index(leader) in sim.behaviours

    return holds
