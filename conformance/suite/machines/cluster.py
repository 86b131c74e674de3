"""A small cluster of replicas whose network is driven step by step by a state machine.

Every network event is an explicit action: deliver a chosen in-flight message, drop it,
duplicate it, let time pass, partition, heal, crash, restart, fire a timer, or let the Byzantine
validator send something. Nothing happens on its own, so a Hypothesis machine can search the
interleavings and shrink a failure to the few actions that matter.

The replicas talk through the sans-IO interface of :mod:`aethel.consensus.events` (events in,
outputs out). The honest validators run either ``replica_class`` in process (the reference
:class:`~aethel.consensus.replica.Replica`, or a subclass with a planted defect) or, when an
``implementation`` is given, that implementation's replicas through the conformance adapter
(capability ``replica``, wrapped by :class:`conformance.mixed.ImplReplica`). The Byzantine
validator always runs the reference. An adapter replica cannot be rebuilt from a store, so for
it "crash" pauses the node (messages to it are lost, its timer is dropped) and "restart"
starts it again with its memory.

Cluster: four validators with stakes 20k, 20k, 10k, 10k (W = 60k, q(W) = 40,001). ``v003``
(10k < W/3) is Byzantine: it runs the replica code, and the machine may also make it equivocate,
forge, or propose a block holding an invalid proof. The three honest validators hold 50k >= q(W),
so they must keep committing once the network heals (R2.5). Stakes are unequal on purpose: a
quorum counted by heads, or without the + 1, differs from q(W) here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aethel.consensus.block import GENESIS_PARENT, ProofBlock
from aethel.consensus.catchup import collect_chain_links
from aethel.consensus.events import (
    Committed,
    EvidenceFound,
    Log,
    Output,
    RequestSync,
    SetTimer,
    Timer,
)
from aethel.consensus.ledger import (
    LedgerExecutor,
    LedgerValidator,
    StateRepository,
    make_genesis,
)
from aethel.consensus.messages import Commit, CommitCertificate, Message, Prepare, PrePrepare
from aethel.consensus.replica import Replica
from aethel.consensus.replica_config import Mode, ReplicaConfig, Services
from aethel.consensus.signing import DirectSignatureChecker, KeySigner
from aethel.consensus.stores import MemoryChainStore
from aethel.consensus.validators import Validator, ValidatorSet, make_validator_keys
from aethel.consensus.workload import TransferWorkload
from aethel.encoding import sha256
from aethel.errors import ProtocolViolation
from aethel.node.shell import Shell, adopt_sync, find_certified_block, latest_certificate
from aethel.proofs.model import Outcome, Proof, proof_from_json, sign_proof
from aethel.proofs.verifier import VerificationResult, verify_proof
from aethel.state.transitions import Genesis
from conformance.adapters.api import Implementation
from conformance.adapters.errors import Rejected
from conformance.adapters.reference_replica import genesis_to_json
from conformance.mixed import ImplReplica
from conformance.suite.machines.common import ModelMismatch
from conformance.suite.machines.consensus_views import ViewWitness

NAMES = ("v000", "v001", "v002", "v003")
STAKES = (20_000, 20_000, 10_000, 10_000)
BYZANTINE = "v003"
HONEST = tuple(name for name in NAMES if name != BYZANTINE)
#: Epoch seed of the leader draw, chosen so that v003 leads height 1 and height 5 at view 0
#: (its false proposals and equivocations then come from a real leader).
EPOCH_SEED = (37).to_bytes(32, "big")
#: One-way delivery time of a message in virtual ns (1 ms).
HOP_NS = 1_000_000

ReplicaClass = Callable[..., Replica]


@dataclass(frozen=True, slots=True)
class Envelope:
    """A message in flight from ``source`` to ``target`` (a Timer for local propose events);
    ``injected`` marks what the Byzantine validator made up (which a replica may refuse)."""

    source: str
    target: str
    message: Message | Timer
    injected: bool = False


class RefusedValidMessage(ModelMismatch):
    """An implementation refused (as malformed) a message an honest replica sent (E4, E12)."""


class MalformedOutput(ModelMismatch):
    """An implementation's replica answered with output that has no valid wire form (E12)."""


class MemoVerifier:
    """Proof verification memoized by (proof id, signature): a pure function (ARCHITECTURE.md)."""

    def __init__(self) -> None:
        self._memo: dict[tuple[bytes, bytes], VerificationResult] = {}

    def __call__(self, proof: Proof) -> VerificationResult:
        key = (proof.proof_id, proof.signature)
        result = self._memo.get(key)
        if result is None:
            result = self._memo[key] = verify_proof(proof)
        return result


class _MachineHost:
    """One node's side of the machine's network: what its shell routes to."""

    __slots__ = ("cluster", "name")

    def __init__(self, cluster: Cluster, name: str) -> None:
        self.cluster = cluster
        self.name = name

    def send(self, to: str, message: Message) -> None:
        self.cluster.witness.on_sent(self.name, message)
        self.cluster.in_flight.append(Envelope(self.name, to, message))

    def loopback(self, message: Message) -> None:
        self.send(self.name, message)

    def broadcast(self, message: Message) -> None:
        self.cluster.witness.on_sent(self.name, message)
        for target in NAMES:
            if target != self.name:
                self.cluster.in_flight.append(Envelope(self.name, target, message))

    def set_timer(self, timer: Timer, deadline: int) -> None:
        if timer.kind == "propose":
            self.cluster.in_flight.append(Envelope(self.name, self.name, timer))
        else:
            self.cluster.timers[self.name] = SetTimer(timer, deadline)

    def committed(self, out: Committed) -> None:
        self.cluster.commits.setdefault(self.name, []).append(out)
        self.cluster.history.append(
            (self.name, out.height, out.block.digest, out.certificate.post_root)
        )

    def evidence(self, out: EvidenceFound) -> None:
        self.cluster.evidence.append(out)

    def request_sync(self, out: RequestSync) -> None:
        self.cluster._sync(self.name, out)

    def log(self, out: Log) -> None:
        """Log lines are not part of the model."""


@dataclass
class Cluster:
    """Replicas, their stores, the messages in flight and what the replicas reported."""

    replica_class: ReplicaClass
    mode: Mode
    implementation: Implementation | None
    validators: ValidatorSet
    keys: dict[str, Any]
    repository: StateRepository
    workload: TransferWorkload
    genesis: Genesis
    verify: MemoVerifier
    stores: dict[str, MemoryChainStore]
    replicas: dict[str, Any] = field(default_factory=dict)
    in_flight: list[Envelope] = field(default_factory=list)
    timers: dict[str, SetTimer] = field(default_factory=dict)
    commits: dict[str, list[Committed]] = field(default_factory=dict)
    evidence: list[EvidenceFound] = field(default_factory=list)
    down: set[str] = field(default_factory=set)
    #: The side of a partition; messages between it and the rest are held until heal.
    side: frozenset[str] = frozenset()
    now: int = 0
    #: (node, height, digest, post_root) of every commit in order, across restarts.
    history: list[tuple[str, int, bytes, bytes]] = field(default_factory=list)
    #: The VIEW-CHANGEs and NEW-VIEWs each node heard or sent (R2.6's timer rule).
    witness: ViewWitness = field(default_factory=ViewWitness)
    shells: dict[str, Shell] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ plumbing

    def _services(self, name: str) -> Services:
        return Services(
            DirectSignatureChecker(),
            LedgerValidator(self.repository, verify=self.verify),
            LedgerExecutor(self.repository, self.genesis),
            self.stores[name],
            self.workload,
        )

    def _make_replica(self, name: str) -> Any:
        if self.implementation is not None and name != BYZANTINE:
            remote = self.implementation.api("replica").new(
                self.validators.to_wire(),
                name,
                self.keys[name].seed.hex(),
                self.mode,
                genesis_to_json(self.genesis),
            )
            genesis_root = LedgerExecutor(self.repository, self.genesis).genesis_root()
            return ImplReplica(
                remote, self.repository, self.workload, genesis_root, self.stores[name]
            )
        return self.replica_class(
            KeySigner(name, self.keys[name]),
            self.validators,
            self._services(name),
            ReplicaConfig(mode=self.mode),
        )

    def position(self, name: str) -> tuple[int, int, bytes, bytes, Any]:
        """Return (height, view, parent digest, state root, last certificate) of a node."""
        replica = self.replicas[name]
        if isinstance(replica, ImplReplica):
            latest = self.stores[name].latest()
            parent = GENESIS_PARENT if latest is None else latest.digest
            return replica.height, replica.view, parent, replica.state_root, latest
        return (
            replica.height,
            replica.view,
            replica.parent,
            replica.state_root,
            replica.last_certificate,
        )

    def voting_set(self, name: str) -> ValidatorSet:
        """Return the validator set with the stakes of ``name``'s current state (R4.2, R4.3)."""
        state_root = self.position(name)[3]
        if state_root not in self.repository:
            return self.validators
        return self.validators.with_stakes(dict(self.repository.get(state_root).stakes))

    def route(self, source: str, outputs: list[Output]) -> None:
        """Turn a replica's outputs into messages in flight, timers and records (through the
        node layer's one shell)."""
        shell = self.shells.get(source)
        if shell is None:
            shell = self.shells[source] = Shell(source, _MachineHost(self, source))
        shell.route(outputs)

    def _sync(self, name: str, request: RequestSync) -> None:
        """Serve a state sync from any store that committed the certified block (R3.1); with no
        certificate named, serve the highest certificate an honest store holds."""
        cert = request.certificate
        if cert is None:
            cert = latest_certificate(self.stores[n] for n in HONEST if n != name)
            if cert is None:
                return
        if cert.post_root not in self.repository:
            return  # no spec transition reaches that state: the safety checks report it
        found = find_certified_block((self.stores[other] for other in NAMES), cert)
        links = self._chain_links(name, cert.height)
        if found is not None and links is not None:
            # The replica checks each certificate by its own height's set along the chain
            # (R2.3, R3.1); the snapshot is installed only once it accepts.
            certificate, block, now, store = cert, found, self.now, self.stores[name]
            self.call(name, lambda r: adopt_sync(r, store, certificate, block, links, now))

    def _chain_links(
        self, name: str, target: int
    ) -> tuple[tuple[ProofBlock, CommitCertificate], ...] | None:
        """Return the certified blocks from ``name``'s next height to ``target`` - 1 that some
        store holds, or None if one is missing."""
        latest = self.stores[name].latest()
        start = 1 if latest is None else latest.height + 1
        return collect_chain_links([self.stores[other] for other in NAMES], start, target)

    def is_deliverable(self, envelope: Envelope) -> bool:
        """Return True unless a partition separates the envelope's ends."""
        if envelope.source == envelope.target or not self.side:
            return True
        return (envelope.source in self.side) == (envelope.target in self.side)

    def deliverable(self) -> list[int]:
        """Return the indices of the messages that could be delivered now."""
        return [i for i, e in enumerate(self.in_flight) if self.is_deliverable(e)]

    # ------------------------------------------------------------------ network actions

    def start(self) -> None:
        """Start every replica at time 0."""
        for name in NAMES:
            self.replicas[name] = self._make_replica(name)
        for name in NAMES:
            self.call(name, lambda r: r.start(self.now))

    def call(self, name: str, event: Callable[[Any], list[Output]], injected: bool = False) -> None:
        """Feed one event to ``name``'s replica and route its outputs.

        A replica behind the adapter that refuses an honest message (canonical and of its shape)
        breaks E4 or E12, and one that answers with output that has no valid wire form breaks the
        rule the adapter names (refusing what the Byzantine validator made up is fine: the event
        is then simply lost).
        """
        try:
            outputs = event(self.replicas[name])
        except Rejected as refused:
            if injected:
                return
            raise RefusedValidMessage(
                "E4 E12", f"{name} refused an honest event: {refused}"
            ) from None
        except ProtocolViolation as bad:  # the adapter could not parse what the replica answered
            raise MalformedOutput(bad.rule_id, f"{name} answered: {bad}") from None
        self.route(name, outputs)

    def deliver(self, index: int) -> None:
        """Deliver in-flight message ``index``; a crashed target loses it."""
        envelope = self.in_flight.pop(index)
        if envelope.target in self.down:
            return
        self.now += HOP_NS
        message, source, now = envelope.message, envelope.source, self.now
        if isinstance(message, Timer):
            self.call(envelope.target, lambda r: r.on_timer(message, now))
        else:
            target_height = self.replicas[envelope.target].height
            self.witness.on_delivered(envelope.target, message, target_height)
            self.call(
                envelope.target, lambda r: r.on_message(message, now, source), envelope.injected
            )

    def drop(self, index: int) -> None:
        """Lose in-flight message ``index``."""
        self.in_flight.pop(index)

    def duplicate(self, index: int) -> None:
        """Send in-flight message ``index`` a second time."""
        self.in_flight.append(self.in_flight[index])

    def advance(self, nanoseconds: int) -> None:
        """Let virtual time pass (timers only fire when asked)."""
        self.now += nanoseconds

    def partition(self, side: frozenset[str]) -> None:
        """Cut the network between ``side`` and the rest."""
        self.side = side

    def heal(self) -> None:
        """Join the network again; held messages become deliverable."""
        self.side = frozenset()

    def crash(self, name: str) -> None:
        """Stop ``name``: it loses its in-memory state and pending timer, keeps its store."""
        self.down.add(name)
        self.timers.pop(name, None)
        self.witness.on_crash(name)
        self.in_flight = [e for e in self.in_flight if not (e.target == name == e.source)]

    def restart(self, name: str) -> None:
        """Start ``name`` again from its store (committed chain and vote journal, R5.4)."""
        self.down.discard(name)
        if not isinstance(self.replicas[name], ImplReplica):
            self.replicas[name] = self._make_replica(name)
        self.call(name, lambda r: r.start(self.now))

    def fire_timer(self, name: str) -> bool:
        """Fire ``name``'s view timer (time jumps to its deadline); False if there is none."""
        timer = self.timers.pop(name, None)
        if timer is None or name in self.down:
            return False
        self.now = max(self.now, timer.deadline)
        self.call(name, lambda r: r.on_timer(timer.timer, self.now))
        return True

    def inject(self, message: Message, targets: list[str]) -> None:
        """Put a message the Byzantine validator made on the wire to ``targets``."""
        for target in targets:
            if target != BYZANTINE:
                self.in_flight.append(Envelope(BYZANTINE, target, message, injected=True))

    # ------------------------------------------------------------------ Byzantine messages

    def byzantine_signer(self) -> KeySigner:
        """Return the Byzantine validator's signer (its real key)."""
        return KeySigner(BYZANTINE, self.keys[BYZANTINE])

    def conflicting_vote(self, target: str, salt: int, commit: bool) -> Message:
        """Return a signed vote of the Byzantine validator for a made-up digest at the
        target's current (height, view): a second vote there is equivocation."""
        height, view, _, _, _ = self.position(target)
        digest = sha256(b"byzantine-%d" % salt)
        signer = self.byzantine_signer()
        if commit:
            return Commit.create(signer, height, view, digest, digest)
        return Prepare.create(signer, height, view, digest)

    def forged_copy(self, index: int) -> Message | None:
        """Return in-flight vote ``index`` with its signature altered (R7.5), if it is a vote."""
        message = self.in_flight[index].message
        if not isinstance(message, Prepare | Commit):
            return None
        signature = bytearray(message.signature)
        signature[0] ^= 0x80
        if isinstance(message, Prepare):
            return Prepare(
                message.height, message.view, message.digest, message.validator, bytes(signature)
            )
        return Commit(
            message.height,
            message.view,
            message.digest,
            message.post_root,
            message.validator,
            bytes(signature),
        )

    def invalid_proposal(self, target: str) -> PrePrepare | None:
        """Return a signed proposal by the Byzantine validator, if it leads the target's current
        view 0, of a block whose one proof claims the opposite of what Z3 finds (R1.5)."""
        height, view, parent, state_root, last_certificate = self.position(target)
        if view != 0 or self.validators.get_leader(height, 0).id != BYZANTINE:
            return None
        if state_root not in self.repository:
            return None
        transactions, proofs = self.workload.select(height, state_root)
        if not proofs:
            return None
        honest = proof_from_json(proofs[0])
        false_claim = sign_proof(
            self.keys[BYZANTINE],
            kind=honest.kind,
            smt=honest.smt,
            claimed=Outcome.SAT,  # the obligation holds (unsat): claiming sat is false
            budget=honest.budget,
            subjects=honest.subjects,
        )
        block = ProofBlock.create(
            self.byzantine_signer(),
            height,
            parent,
            transactions[:1],
            [false_claim.to_json()],
            (),
            last_certificate,
        )
        return PrePrepare.create(self.byzantine_signer(), 0, block)

    # ------------------------------------------------------------------ liveness

    def settle(self, max_deliveries: int = 20_000, max_timer_rounds: int = 60) -> None:
        """Run the healed network synchronously until every up honest validator commits again.

        After GST (R2.5): every message in flight is delivered, in order, one hop apart; only
        when none is left does time jump to the earliest timer deadline, which fires alone.
        """
        deliveries = rounds = 0
        baseline = {name: len(self.commits.get(name, [])) for name in HONEST}
        while deliveries < max_deliveries and rounds <= max_timer_rounds:
            if all(
                len(self.commits.get(n, [])) > baseline[n] for n in HONEST if n not in self.down
            ):
                return
            if self.in_flight:
                self.deliver(0)
                deliveries += 1
                continue
            armed = [n for n in self.timers if n not in self.down]
            if not armed:
                return
            rounds += 1
            self.fire_timer(min(armed, key=lambda n: (self.timers[n].deadline, n)))


def make_cluster(
    replica_class: ReplicaClass = Replica,
    mode: Mode = "collector",
    implementation: Implementation | None = None,
) -> Cluster:
    """Return a started cluster: honest validators run ``implementation``'s replicas through
    the adapter if given, else ``replica_class`` in process; v003 runs the reference."""
    keys = make_validator_keys(len(NAMES), seed=7)
    validators = ValidatorSet.create(
        0,
        EPOCH_SEED,
        [
            Validator(name, key.public_key, stake)
            for name, key, stake in zip(NAMES, keys, STAKES, strict=True)
        ],
    )
    repository = StateRepository()
    workload = TransferWorkload(repository, seed=7, accounts=6, per_block=1)
    genesis = make_genesis(workload.genesis_balances, validators)
    cluster = Cluster(
        replica_class=replica_class,
        mode=mode,
        implementation=implementation,
        validators=validators,
        keys=dict(zip(NAMES, keys, strict=True)),
        repository=repository,
        workload=workload,
        genesis=genesis,
        verify=MemoVerifier(),
        stores={name: MemoryChainStore() for name in NAMES},
    )
    cluster.start()
    return cluster
