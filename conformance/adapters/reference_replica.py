"""The reference replica (aethel.consensus) behind the ``replica`` capability.

Each replica gets its own services, as a separate node would: Ed25519 checks, a ledger that
verifies every proof with the solver, an in-memory chain store, and a block source that proposes
exactly what the harness offered for (height, pre-state root).

Protocol version 2 (spec/consensus-v2.md): a validator set of version 2 and a genesis naming
``protocol_v2_height`` make a replica that runs version 2 from that height (V2.1); its BLS key
is derived from its seed (:func:`aethel.consensus.signing.derive_bls_key`, WIRE.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aethel.consensus.catchup import ChainLink
from aethel.consensus.events import Output, Timer
from aethel.consensus.ledger import LedgerExecutor, LedgerValidator, StateRepository
from aethel.consensus.messages import CommitCertificate
from aethel.consensus.replica import Replica
from aethel.consensus.replica_config import MODES, ReplicaConfig, Services
from aethel.consensus.signing import DirectSignatureChecker, KeySigner, derive_bls_key
from aethel.consensus.stores import MemoryChainStore
from aethel.consensus.timeouts import compute_timeout
from aethel.consensus.validators import parse_validator_set
from aethel.consensus.wire import parse_block, parse_commit_certificate, parse_message
from aethel.encoding import JSONValue, KeyPair, parse_hex
from aethel.merkle.hashing import EMPTY_HASH
from aethel.monitoring.node import NodeMonitor
from aethel.state.transitions import Genesis
from conformance.adapters.api import JSON, Hex
from conformance.adapters.errors import Rejected
from conformance.adapters.reference_errors import rejecting
from conformance.adapters.reference_monitoring import accuracy_json, metrics_json
from conformance.replica_wire import output_to_json

Items = tuple[Sequence[dict[str, JSONValue]], Sequence[dict[str, JSONValue]]]


def parse_chain_links(links: JSON) -> list[ChainLink]:
    """Parse ``[{block, certificate}...]`` (wire forms) strictly; reject anything else (R3.1)."""
    if not isinstance(links, list):
        raise Rejected("links must be a list of {block, certificate}", "R3.1")
    chain = []
    for link in links:
        if not isinstance(link, dict) or set(link) != {"block", "certificate"}:
            raise Rejected("each link has exactly a block and a certificate", "R3.1")
        chain.append((parse_block(link["block"]), parse_commit_certificate(link["certificate"])))
    return chain


def genesis_to_json(genesis: Genesis, protocol_v2_height: int | None = None) -> JSON:
    """Return the JSON form of a genesis: ``{"balances": {...}, "stakes": {...}}``, and
    ``protocol_v2_height`` when it names one (V2.1)."""
    value: dict[str, JSON] = {"balances": dict(genesis.balances), "stakes": dict(genesis.stakes)}
    if protocol_v2_height is not None:
        value["protocol_v2_height"] = protocol_v2_height
    return value


#: The members of a genesis; ``protocol_v2_height`` is optional (V2.1).
GENESIS_FIELDS = frozenset({"balances", "stakes"})


def genesis_from_json(value: JSON) -> Genesis:
    """Parse a genesis strictly (R3.6: integers only; V2.1: the activation height)."""
    if not isinstance(value, dict) or set(value) - {"protocol_v2_height"} != GENESIS_FIELDS:
        raise Rejected("a genesis has exactly balances and stakes", "R3.6")
    protocol_v2_height_of(value)
    for book in ("balances", "stakes"):
        entries = value[book]
        if not isinstance(entries, dict) or any(type(v) is not int for v in entries.values()):
            raise Rejected(f"genesis {book} map names to integers", "R3.6")
    return Genesis(dict(value["balances"]), dict(value["stakes"]))


def protocol_v2_height_of(genesis: JSON) -> int | None:
    """Return the genesis's ``protocol_v2_height`` (None if absent); refuse one below 1 (V2.1)."""
    if not isinstance(genesis, dict) or "protocol_v2_height" not in genesis:
        return None
    height = genesis["protocol_v2_height"]
    if type(height) is not int or height < 1:
        raise Rejected(f"protocol_v2_height must be an integer >= 1, got {height!r:.40}", "V2.1")
    return height


class OfferedSource:
    """A block source that proposes what was offered for (height, pre-state root), else nothing."""

    def __init__(self) -> None:
        self.offered: dict[tuple[int, bytes], Items] = {}

    def select(self, height: int, pre_root: bytes) -> Items:
        return self.offered.get((height, pre_root), ([], []))

    def on_commit(self, block: object) -> None:
        """Forget offers of heights that are now committed."""
        height = getattr(block, "height", 0)
        for key in [k for k in self.offered if k[0] <= height]:
            del self.offered[key]


class ReferenceReplicaObject:
    """One reference replica (see the module docstring)."""

    replica_class: type[Replica] = Replica
    validator_class: type[LedgerValidator] = LedgerValidator
    executor_class: type[LedgerExecutor] = LedgerExecutor

    def __init__(
        self,
        validator_set: JSON,
        validator_id: str,
        seed: Hex,
        mode: str,
        genesis: JSON,
        lost_journal: bool = False,
    ) -> None:
        if mode not in MODES:
            raise Rejected(f"mode must be one of {MODES}, got {mode!r}")
        validators = parse_validator_set(validator_set)
        if validators.get(validator_id) is None:
            raise Rejected(f"{validator_id} is not in the validator set", "R4.3")
        key = KeyPair.from_seed(parse_hex(seed, length=32))
        member = validators.get(validator_id)
        if member is None or member.public_key != key.public_key:
            raise Rejected(f"the seed is not the key of {validator_id}", "R7.5")
        activation = protocol_v2_height_of(genesis)
        bls_key = None
        if validators.v2 is not None or activation is not None:
            if validators.v2 is None:
                raise Rejected("version 2 is named but the set has no BLS keys", "V2.1")
            bls_key = derive_bls_key(key.seed)
            if member.bls_key != bls_key.public_key().data:
                raise Rejected(f"the seed is not the BLS key of {validator_id}", "V2.6")
        self.repository = StateRepository()
        self.source = OfferedSource()
        self.store = MemoryChainStore()
        services = Services(
            DirectSignatureChecker(),
            self.validator_class(self.repository),
            self.executor_class(self.repository, genesis_from_json(genesis)),
            self.store,
            self.source,
        )
        config = ReplicaConfig(mode=mode, protocol_v2_height=activation, lost_journal=lost_journal)
        self.replica = self.replica_class(
            KeySigner(validator_id, key, bls_key), validators, services, config
        )
        #: The node's monitoring (capability ``monitoring``), fed as a node shell would feed it.
        self.monitor = NodeMonitor(validator_id, validators)

    def _json(self, outputs: list[Output]) -> list[JSON]:
        self.monitor.on_outputs(outputs)
        return [output_to_json(out) for out in outputs]

    @rejecting
    def offer(
        self, height: int, pre_root: Hex, transactions: list[JSON], proofs: list[JSON]
    ) -> None:
        self.source.offered[(height, parse_hex(pre_root, length=32))] = (transactions, proofs)

    @rejecting
    def start(self, now: int) -> list[JSON]:
        return self._json(self.replica.start(now))

    @rejecting
    def on_message(self, message: JSON, now: int) -> list[JSON]:
        parsed = parse_message(message)
        self.monitor.on_message(parsed)
        return self._json(self.replica.on_message(parsed, now))

    @rejecting
    def on_timer(self, height: int, view: int, kind: str, now: int) -> list[JSON]:
        return self._json(self.replica.on_timer(Timer(height, view, kind), now))

    def _load_synced_state(self, state: JSON, certificate: CommitCertificate) -> None:
        """Store the synced state; reject it unless its root is the certified post-state root."""
        if not isinstance(state, dict):
            raise Rejected("a synced state is an object of state keys and values", "R3.1")
        root = self.repository.apply(EMPTY_HASH, state)
        if root != certificate.post_root:
            raise Rejected(
                "the synced state's root differs from the certified post-state root", "R3.1"
            )

    @rejecting
    def on_sync_completed(
        self, certificate: JSON, block: JSON, state: JSON, now: int
    ) -> list[JSON]:
        cert = parse_commit_certificate(certificate)
        parsed_block = parse_block(block)
        self._load_synced_state(state, cert)
        self.store.install_snapshot(cert, parsed_block)
        return self._json(self.replica.on_sync_completed(cert, parsed_block, now))

    @rejecting
    def on_sync_completed_with_chain(
        self, links: list[JSON], certificate: JSON, block: JSON, state: JSON, now: int
    ) -> list[JSON]:
        """Capability ``catch-up``: the replica judges the chain; the snapshot is installed in
        the node's store only once the chain verifies, so a refused sync changes nothing."""
        chain = parse_chain_links(links)
        cert = parse_commit_certificate(certificate)
        parsed_block = parse_block(block)
        self._load_synced_state(state, cert)
        if not self.replica.check_sync(cert, parsed_block, chain):
            self.store.install_snapshot(cert, parsed_block)
        return self._json(self.replica.on_sync_completed(cert, parsed_block, now, chain))

    @rejecting
    def batch_process_messages(self, messages: list[JSON], now: int) -> list[JSON]:
        parsed = [parse_message(m) for m in messages]
        for item in parsed:
            self.monitor.on_message(item)
        return self._json(self.replica.batch_process_messages(parsed, now))

    def status(self) -> JSON:
        r = self.replica
        return {"height": r.height, "view": r.view, "state_root": r.state_root.hex()}

    def get_performance_stats(self) -> JSON:
        return dict(self.replica.get_performance_stats())

    def metrics(self) -> JSON:
        """Return the node's monitoring view (capability ``monitoring``, R8.1, R8.4, R8.6)."""
        return metrics_json(self.monitor, self.replica.view)

    def accuracy(self) -> JSON:
        """Return the node's live verification accuracy (capability ``live-accuracy``, R8.3)."""
        return accuracy_json(self.monitor)


class ReferenceReplica:
    """Capability ``replica`` of the reference: the timeout rule and sans-IO replicas."""

    object_class: type[ReferenceReplicaObject] = ReferenceReplicaObject

    @rejecting
    def timeout(self, observed_latency_ns: int, view: int) -> int:
        return compute_timeout(observed_latency_ns, view)

    @rejecting
    def new(
        self, validator_set: JSON, validator_id: str, seed: Hex, mode: str, genesis: JSON
    ) -> Any:
        return self.object_class(validator_set, validator_id, seed, mode, genesis)


class ReferenceLostJournal:
    """Capability ``lost-journal`` of the reference: replicas of the ``replica`` capability
    given (so a mutant's replica is the one restarted), started without their vote journal."""

    def __init__(self, replicas: ReferenceReplica) -> None:
        self.replicas = replicas

    @rejecting
    def new(
        self, validator_set: JSON, validator_id: str, seed: Hex, mode: str, genesis: JSON
    ) -> Any:
        object_class = self.replicas.object_class
        return object_class(validator_set, validator_id, seed, mode, genesis, lost_journal=True)
