"""The adapter interface: what the suite asks of an implementation under test, by capability.

Every value crossing this interface is JSON (``None``, ``bool``, ``int``, ``str``, ``list``,
``dict``): byte strings travel as lowercase hex (E5), so a Python adapter and the subprocess
protocol carry exactly the same data. The command table in
:mod:`conformance.protocol.commands` is the normative list (names, parameters, result schemas);
these Protocol classes mirror it for Python implementers and type checkers (a harness test keeps
them in step).

They are not the reference's own interfaces (:mod:`aethel.consensus.interfaces`,
:class:`aethel.state.sync.SnapshotPeer`, ...) and not its classes' method lists
(:class:`aethel.state.store.StateStore` stages and commits typed transitions, say): they are the
contract of an implementation in any language, in JSON and by capability, which the reference
meets through its adapters (``conformance/adapters/reference*.py``) like any other.

A method signals that it refused an input by raising :class:`~conformance.adapters.errors.Rejected`;
anything else it raises is reported as an error of the implementation. Expected answers are never
passed in: the suite compares what comes back.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeAlias, runtime_checkable

#: A JSON value; byte strings are lowercase hex.
JSON: TypeAlias = Any
Hex: TypeAlias = str


@runtime_checkable
class Implementation(Protocol):
    """An implementation under test: its identity, capabilities and one API per capability.

    It may also have ``consensus_versions``, the versions of the consensus protocol it speaks
    (a collection of ints, spec/consensus-v2.md); without it, version 1 only
    (:func:`conformance.capabilities.declared_consensus_versions`).
    """

    name: str
    version: str
    capabilities: frozenset[str]

    def api(self, capability: str) -> Any:
        """Return the object implementing ``capability`` (one of conformance.capabilities)."""
        ...

    def close(self) -> None:
        """Release everything (processes, files); the suite calls it once at the end."""
        ...


class EncodingAPI(Protocol):
    """Capability ``encoding``: canonical JSON, object hashes, signatures (E1-E7, N1)."""

    def canonical_json(self, value: JSON) -> Hex: ...
    def parse_canonical_json(self, data: Hex) -> JSON: ...
    def hash_object(self, value: JSON) -> Hex: ...
    def public_key(self, seed: Hex) -> Hex: ...
    def sign(self, seed: Hex, domain: str, value: JSON) -> Hex: ...
    def verify_signature(
        self, public_key: Hex, domain: str, value: JSON, signature: Hex
    ) -> bool: ...


class ListHashAPI(Protocol):
    """Capability ``list-hash``: RFC 6962 Merkle tree hash of block lists (E10, E11)."""

    def root(self, entries: list[JSON]) -> Hex: ...
    def prove_inclusion(self, entries: list[JSON], index: int) -> list[Hex]: ...
    def prove_consistency(self, entries: list[JSON], size1: int) -> list[Hex]: ...
    def verify_inclusion(
        self, leaf_index: int, tree_size: int, leaf_hash: Hex, proof: list[Hex], root: Hex
    ) -> bool: ...
    def verify_consistency(
        self, size1: int, size2: int, root1: Hex, root2: Hex, proof: list[Hex]
    ) -> bool: ...


class StateTreeAPI(Protocol):
    """Capability ``state-tree``: the sparse Merkle state tree (E8, E9, N2, T22.1a, T22.1b)."""

    def new(self, cache_size: int | None = None) -> StateTreeObject: ...
    def verify_proof(self, proof: JSON, root: Hex) -> bool: ...


class StateTreeObject(Protocol):
    """One state tree (a handle over the subprocess protocol)."""

    def update(self, key: str, value: JSON) -> Hex: ...
    def delete(self, key: str) -> Hex: ...
    def batch_update(self, ops: list[JSON]) -> Hex: ...
    def get(self, key: str) -> JSON: ...
    def root(self) -> Hex: ...
    def prove(self, key: str) -> JSON: ...
    def get_cache_stats(self) -> JSON: ...


class StateStoreAPI(Protocol):
    """Capability ``state-store``: the persistent, versioned state and its transitions."""

    def open(self, path: str) -> StateStoreObject: ...


class StateStoreObject(Protocol):
    """One open store."""

    def commit_genesis(self, balances: dict[str, int], stakes: dict[str, int]) -> Hex: ...
    def commit_transition(self, height: int, operations: list[JSON]) -> JSON: ...
    def latest(self) -> JSON: ...
    def get(self, key: str, height: int | None) -> JSON: ...
    def prove(self, key: str, height: int | None) -> JSON: ...


class VerifierAPI(Protocol):
    """Capability ``verifier``: proof verification, effort and difficulty (R1.4, T22.2a/c/d)."""

    def verify_proof(self, proof: JSON) -> JSON: ...
    def verify_block(self, proofs: list[JSON], parallel: bool) -> list[JSON]: ...
    def batch_verify_signatures(self, items: list[JSON]) -> list[bool]: ...
    def difficulty(self, effort: int, size: int) -> int: ...
    def new(self) -> VerifierObject: ...


class VerifierObject(Protocol):
    """A verifier with its result cache."""

    def verify(self, proof: JSON) -> JSON: ...
    def cache_stats(self) -> JSON: ...


class MempoolAPI(Protocol):
    """Capability ``mempool``: admission, ordering, conflicts, metrics (R5.1, R5.5, R6.3, R7.1)."""

    def new(self, capacity: int | None, judge_seed: Hex) -> MempoolObject: ...


class MempoolObject(Protocol):
    """One node's mempool."""

    def add_proof(self, proof: JSON) -> JSON: ...
    def add_transaction(self, transaction: JSON, balance: int, nonce: int) -> JSON: ...
    def select_for_block(self, max_proofs: int) -> JSON: ...
    def remove_committed(self, proof_ids: list[Hex], transaction_ids: list[Hex]) -> int: ...
    def stats(self) -> JSON: ...


class EconomicsAPI(Protocol):
    """Capability ``economics``: the integer economics functions (R1.2-R1.3, R4.2-R4.4, R4.7)."""

    def proof_reward(self, difficulty: int) -> int: ...
    def block_reward(self, total_difficulty: int) -> int: ...
    def emission_limit(self, height: int) -> int: ...
    def reward_split(
        self, reward: int, member_stakes: dict[str, int], proposer: str
    ) -> dict[str, int]: ...
    def slash_amount(self, stake: int, offence: str) -> int: ...
    def is_eligible_stake(self, stake: int) -> bool: ...


class ReplicaAPI(Protocol):
    """Capability ``replica``: the sans-IO consensus replica and its pure rules (R2, R6.5)."""

    def timeout(self, observed_latency_ns: int, view: int) -> int: ...
    def new(
        self, validator_set: JSON, validator_id: str, seed: Hex, mode: str, genesis: JSON
    ) -> ReplicaObject: ...


class ReplicaObject(Protocol):
    """One validator's replica: events in, outputs out (conformance/replica_wire.py)."""

    def offer(
        self, height: int, pre_root: Hex, transactions: list[JSON], proofs: list[JSON]
    ) -> None: ...
    def start(self, now: int) -> list[JSON]: ...
    def on_message(self, message: JSON, now: int) -> list[JSON]: ...
    def on_timer(self, height: int, view: int, kind: str, now: int) -> list[JSON]: ...
    def on_sync_completed(
        self, certificate: JSON, block: JSON, state: JSON, now: int
    ) -> list[JSON]: ...
    def batch_process_messages(self, messages: list[JSON], now: int) -> list[JSON]: ...
    def status(self) -> JSON: ...
    def get_performance_stats(self) -> JSON: ...


class SyncAPI(Protocol):
    """Capability ``sync``: verified state sync from peers the harness plays (R3.1, R3.5, N5)."""

    def new(self, root: Hex, prefix_bits: int, peers: list[str]) -> SyncSession: ...


class SyncSession(Protocol):
    """One sync to a trusted root: polled with the peers' answers until it concludes."""

    def poll(self, responses: list[JSON]) -> JSON: ...
    def outcome(self) -> JSON: ...
    def get(self, keys: list[str]) -> list[JSON]: ...
    def get_manifest(self, prefix_bits: int) -> Hex: ...
    def get_chunk(self, prefix_bits: int, prefix: int) -> Hex: ...


class MonitoringAPI(Protocol):
    """Capability ``monitoring``: the accuracy alert rule (R8.3); node views are on replicas."""

    def accuracy_alerts(self, verdicts: list[JSON]) -> list[JSON]: ...


class MonitoredReplicaObject(Protocol):
    """What capability ``monitoring`` adds to a replica object (R8.1, R8.4, R8.6)."""

    def metrics(self) -> JSON: ...


class LiveAccuracyReplicaObject(Protocol):
    """What capability ``live-accuracy`` adds to a replica object (R8.3, R8.6)."""

    def accuracy(self) -> JSON: ...


class GhostAPI(Protocol):
    """Capability ``ghost``: ghost identities (R5.3)."""

    def new(self, secret: Hex) -> GhostHolderObject: ...


class GhostHolderObject(Protocol):
    """One holder secret, signing each ghost proof with a fresh one-time key."""

    def sign_proof(
        self, kind: str, smt: str, claimed: str, budget: int, subjects: list[Hex]
    ) -> JSON: ...


class HistoryAPI(Protocol):
    """Capability ``history``: verify presented histories and choose between two (R3.3, R7.4)."""

    def verify(self, genesis: JSON, validator_set: JSON, history: JSON) -> JSON: ...
    def choose(self, genesis: JSON, validator_set: JSON, first: JSON, second: JSON) -> JSON: ...


class CatchUpAPI(Protocol):
    """Capability ``catch-up``: no functions of its own; it adds a method to replica objects."""


class CatchUpReplicaObject(Protocol):
    """What capability ``catch-up`` adds to a replica object (R2.3, R3.1)."""

    def on_sync_completed_with_chain(
        self, links: list[JSON], certificate: JSON, block: JSON, state: JSON, now: int
    ) -> list[JSON]: ...


class VoteJournalAPI(Protocol):
    """Capability ``vote-journal``: a replica whose vote journal is in a directory (R2.4, R5.4).

    The object it opens is a replica (:class:`ReplicaObject`).
    """

    def open(
        self,
        validator_set: JSON,
        validator_id: str,
        seed: Hex,
        mode: str,
        genesis: JSON,
        journal: str,
    ) -> ReplicaObject: ...


class LostJournalAPI(Protocol):
    """Capability ``lost-journal``: a replica restarted without its vote journal (R2.4).

    The object it makes is a replica (:class:`ReplicaObject`).
    """

    def new(
        self, validator_set: JSON, validator_id: str, seed: Hex, mode: str, genesis: JSON
    ) -> ReplicaObject: ...


class LostJournalOnDiskAPI(Protocol):
    """Capability ``lost-journal-on-disk``: the replica of ``lost-journal`` keeping its new
    journal in a directory, which ``vote-journal.open`` opens again after a further crash (R2.4).

    The object it opens is a replica (:class:`ReplicaObject`). Each capability's protocol
    declares its own commands (the contract test reads them from it), so ``open`` is written
    out as in :class:`VoteJournalAPI`.
    """

    def open(
        self,
        validator_set: JSON,
        validator_id: str,
        seed: Hex,
        mode: str,
        genesis: JSON,
        journal: str,
    ) -> ReplicaObject: ...


class ConsensusV2API(Protocol):
    """Capability ``consensus-v2``: the pure rules of consensus protocol version 2 (V2.3-V2.10).

    Members, targets, votes and certificates are the wire forms of conformance/WIRE.md.
    """

    def keygen(self, seed: Hex, key_info: Hex) -> JSON: ...
    def sign(self, secret_key: Hex, message: Hex) -> Hex: ...
    def prove_possession(self, secret_key: Hex) -> Hex: ...
    def verify(self, public_key: Hex, message: Hex, signature: Hex) -> bool: ...
    def aggregate(self, signatures: list[Hex]) -> Hex: ...
    def fast_aggregate_verify(
        self, public_keys: list[Hex], message: Hex, signature: Hex
    ) -> bool: ...
    def key_validate(self, public_key: Hex) -> Hex: ...
    def signature_validate(self, signature: Hex) -> Hex: ...
    def register_key(self, public_key: Hex, proof: Hex) -> Hex: ...
    def check_certificate(self, members: JSON, certificate: JSON) -> list[int]: ...
    def aggregate_votes(self, members: JSON, target: JSON, votes: JSON) -> JSON: ...
    def choose_collector(
        self,
        members: JSON,
        regions: JSON,
        latency_ms: JSON,
        epoch_seed: Hex,
        height: int,
        view: int,
        leader: str,
    ) -> str: ...


#: The Protocol class of the objects a capability creates (checked like API_CLASSES).
OBJECT_CLASSES: dict[str, type] = {
    "state-tree": StateTreeObject,
    "replica": ReplicaObject,
    "state-store": StateStoreObject,
    "verifier": VerifierObject,
    "mempool": MempoolObject,
    "sync": SyncSession,
    "monitoring": MonitoredReplicaObject,
    "ghost": GhostHolderObject,
    "catch-up": CatchUpReplicaObject,
}

#: The Protocol class of each capability (checked against the command table by a harness test).
API_CLASSES: dict[str, type] = {
    "encoding": EncodingAPI,
    "list-hash": ListHashAPI,
    "state-tree": StateTreeAPI,
    "state-store": StateStoreAPI,
    "verifier": VerifierAPI,
    "mempool": MempoolAPI,
    "economics": EconomicsAPI,
    "replica": ReplicaAPI,
    "sync": SyncAPI,
    "monitoring": MonitoringAPI,
    "ghost": GhostAPI,
    "history": HistoryAPI,
    "catch-up": CatchUpAPI,
    "vote-journal": VoteJournalAPI,
    "lost-journal": LostJournalAPI,
    "lost-journal-on-disk": LostJournalOnDiskAPI,
    "consensus-v2": ConsensusV2API,
}
