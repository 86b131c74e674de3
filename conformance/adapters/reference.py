"""The reference implementation (``aethel``) behind the adapter interface.

Each capability object translates between the JSON values of the interface and the reference's
types, and turns the reference's typed errors (:class:`aethel.errors.AethelError`) into
:class:`~conformance.adapters.errors.Rejected` carrying the rule ID. It adds no checks of its
own: what the suite sees is what ``aethel`` does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aethel import __version__, economics, encoding, rfc6962
from aethel.merkle.batch import DELETE
from aethel.merkle.nodes import MemoryNodeStore
from aethel.merkle.proofs import proof_from_dict, verify_proof
from aethel.merkle.tree import StateTree
from conformance.adapters.api import JSON, Hex
from conformance.adapters.errors import Rejected
from conformance.adapters.reference_errors import rejecting


def _domain(name: str) -> encoding.Domain:
    try:
        return encoding.Domain(name)
    except ValueError:
        raise Rejected(f"unknown signing domain {name!r}", "E7") from None


def _object(value: JSON) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Rejected(f"only objects are signed, got {type(value).__name__}", "E7")
    return value


class ReferenceEncoding:
    """Capability ``encoding`` of the reference."""

    @rejecting
    def canonical_json(self, value: JSON) -> Hex:
        return encoding.canonical_json(value).hex()

    @rejecting
    def parse_canonical_json(self, data: Hex) -> JSON:
        return encoding.parse_canonical_json(encoding.parse_hex(data))

    @rejecting
    def hash_object(self, value: JSON) -> Hex:
        return encoding.hash_canonical(value).hex()

    @rejecting
    def public_key(self, seed: Hex) -> Hex:
        return encoding.KeyPair.from_seed(encoding.parse_hex(seed, length=32)).public_key.hex()

    @rejecting
    def sign(self, seed: Hex, domain: str, value: JSON) -> Hex:
        key = encoding.KeyPair.from_seed(encoding.parse_hex(seed, length=32))
        return key.sign(_domain(domain), _object(value)).hex()

    @rejecting
    def verify_signature(self, public_key: Hex, domain: str, value: JSON, signature: Hex) -> bool:
        key = encoding.parse_hex(public_key, length=encoding.PUBLIC_KEY_SIZE)
        sig = encoding.parse_hex(signature, length=encoding.SIGNATURE_SIZE)
        return encoding.verify_signature(key, _domain(domain), _object(value), sig)


def _hashes(items: object, rule_id: str = "E11") -> list[bytes]:
    if not isinstance(items, list):
        raise Rejected(f"expected a list of hex hashes, got {type(items).__name__}", rule_id)
    return [encoding.parse_hex(item, rule_id=rule_id) for item in items]


class ReferenceListHash:
    """Capability ``list-hash`` of the reference (aethel.rfc6962)."""

    @staticmethod
    def _leaves(entries: list[JSON]) -> list[bytes]:
        return [rfc6962.hash_leaf(encoding.canonical_json(entry)) for entry in entries]

    @rejecting
    def root(self, entries: list[JSON]) -> Hex:
        return rfc6962.compute_list_root(entries).hex()

    @rejecting
    def prove_inclusion(self, entries: list[JSON], index: int) -> list[Hex]:
        return [h.hex() for h in rfc6962.get_inclusion_proof(self._leaves(entries), index)]

    @rejecting
    def prove_consistency(self, entries: list[JSON], size1: int) -> list[Hex]:
        return [h.hex() for h in rfc6962.get_consistency_proof(self._leaves(entries), size1)]

    @rejecting
    def verify_inclusion(
        self, leaf_index: int, tree_size: int, leaf_hash: Hex, proof: list[Hex], root: Hex
    ) -> bool:
        return rfc6962.is_valid_inclusion(
            encoding.parse_hex(leaf_hash, rule_id="E11"),
            leaf_index,
            tree_size,
            _hashes(proof),
            encoding.parse_hex(root, rule_id="E11"),
        )

    @rejecting
    def verify_consistency(
        self, size1: int, size2: int, root1: Hex, root2: Hex, proof: list[Hex]
    ) -> bool:
        return rfc6962.is_valid_consistency(
            size1,
            size2,
            _hashes(proof),
            encoding.parse_hex(root1, rule_id="E11"),
            encoding.parse_hex(root2, rule_id="E11"),
        )


_ABSENT = object()


class ReferenceTree:
    """One reference state tree, over a node store read through its LRU cache."""

    def __init__(self, cache_size: int | None) -> None:
        store = MemoryNodeStore()
        if cache_size is None:
            self.tree = StateTree(store)
        else:
            self.tree = StateTree(store, cache_size=cache_size)

    @rejecting
    def update(self, key: str, value: JSON) -> Hex:
        return self.tree.update(key, value).hex()

    @rejecting
    def delete(self, key: str) -> Hex:
        return self.tree.delete(key).hex()

    @rejecting
    def batch_update(self, ops: list[JSON]) -> Hex:
        pairs: list[tuple[str, Any]] = []
        for op in ops:
            if not isinstance(op, dict) or op.get("op") not in ("set", "delete"):
                raise Rejected(f"an op is {{'op': 'set' | 'delete', ...}}, got {op!r}")
            expected = {"op", "key", "value"} if op["op"] == "set" else {"op", "key"}
            if set(op) != expected:
                raise Rejected(f"op {op['op']} has members {sorted(expected)}, got {sorted(op)}")
            pairs.append((op["key"], op["value"] if op["op"] == "set" else DELETE))
        return self.tree.batch_update(pairs).hex()

    @rejecting
    def get(self, key: str) -> JSON:
        value = self.tree.get(key, _ABSENT)
        return {"found": False} if value is _ABSENT else {"found": True, "value": value}

    @rejecting
    def root(self) -> Hex:
        return self.tree.root().hex()

    @rejecting
    def prove(self, key: str) -> JSON:
        return self.tree.prove(key).to_dict()

    @rejecting
    def get_cache_stats(self) -> JSON:
        return self.tree.get_cache_stats().as_dict()


class ReferenceStateTree:
    """Capability ``state-tree`` of the reference (aethel.merkle)."""

    tree_class: type[ReferenceTree] = ReferenceTree

    @rejecting
    def new(self, cache_size: int | None = None) -> ReferenceTree:
        if cache_size is not None and (type(cache_size) is not int or cache_size < 0):
            raise Rejected(f"cache_size must be a non-negative integer, got {cache_size!r}")
        return self.tree_class(cache_size)

    @rejecting
    def verify_proof(self, proof: JSON, root: Hex) -> bool:
        parsed = proof_from_dict(proof)
        return verify_proof(parsed, encoding.parse_hex(root, length=32, rule_id="E9"))


class ReferenceEconomics:
    """Capability ``economics`` of the reference."""

    @rejecting
    def proof_reward(self, difficulty: int) -> int:
        return economics.compute_proof_reward(difficulty)

    @rejecting
    def block_reward(self, total_difficulty: int) -> int:
        return economics.compute_block_reward(total_difficulty)

    @rejecting
    def emission_limit(self, height: int) -> int:
        return economics.compute_emission_limit(height)

    @rejecting
    def reward_split(
        self, reward: int, member_stakes: dict[str, int], proposer: str
    ) -> dict[str, int]:
        return economics.compute_reward_split(reward, member_stakes, proposer)

    @rejecting
    def slash_amount(self, stake: int, offence: str) -> int:
        try:
            kind = economics.Offence(offence)
        except ValueError:
            raise Rejected(f"unknown offence {offence!r}", "R4.2") from None
        return economics.compute_slash_amount(stake, kind)

    @rejecting
    def is_eligible_stake(self, stake: int) -> bool:
        if type(stake) is not int:
            raise Rejected(f"stake must be an integer, got {stake!r}", "R4.3")
        return economics.is_eligible_stake(stake)


class ReferenceCatchUp:
    """Capability ``catch-up``: its one command runs on replica objects
    (:meth:`~conformance.adapters.reference_replica.ReferenceReplicaObject.on_sync_completed_with_chain`)."""


class ReferenceImplementation:
    """The reference implementation as an implementation under test.

    Subclass it and override one capability factory (or one method of a capability class) to
    build a variant, as the self-test mutants do.
    """

    name = "aethel-reference"
    version = __version__
    #: The consensus protocol versions it speaks (spec/consensus-v2.md).
    consensus_versions = frozenset({1, 2})

    def __init__(self) -> None:
        self._apis: dict[str, Callable[[], object]] = {
            "encoding": self.make_encoding,
            "list-hash": self.make_list_hash,
            "state-tree": self.make_state_tree,
            "state-store": self.make_state_store,
            "verifier": self.make_verifier,
            "mempool": self.make_mempool,
            "economics": self.make_economics,
            "replica": self.make_replica,
            "sync": self.make_sync,
            "monitoring": self.make_monitoring,
            "ghost": self.make_ghost,
            "history": self.make_history,
            "catch-up": self.make_catch_up,
            "vote-journal": self.make_vote_journal,
            "lost-journal": self.make_lost_journal,
            "lost-journal-on-disk": self.make_lost_journal_on_disk,
            "consensus-v2": self.make_consensus_v2,
            "live-accuracy": self.make_live_accuracy,
        }
        self.capabilities = frozenset(self._apis)
        self._cache: dict[str, object] = {}

    def make_encoding(self) -> object:
        return ReferenceEncoding()

    def make_list_hash(self) -> object:
        return ReferenceListHash()

    def make_state_tree(self) -> object:
        return ReferenceStateTree()

    def make_state_store(self) -> object:
        from conformance.adapters.reference_state import ReferenceStateStore

        return ReferenceStateStore()

    def make_verifier(self) -> object:
        from conformance.adapters.reference_proofs import ReferenceVerifier

        return ReferenceVerifier()

    def make_mempool(self) -> object:
        from conformance.adapters.reference_proofs import ReferenceMempool

        return ReferenceMempool()

    def make_economics(self) -> object:
        return ReferenceEconomics()

    def make_replica(self) -> object:
        from conformance.adapters.reference_replica import ReferenceReplica

        return ReferenceReplica()

    def make_sync(self) -> object:
        from conformance.adapters.reference_sync import ReferenceSync

        return ReferenceSync()

    def make_monitoring(self) -> object:
        from conformance.adapters.reference_monitoring import ReferenceMonitoring

        return ReferenceMonitoring()

    def make_ghost(self) -> object:
        from conformance.adapters.reference_ghost import ReferenceGhost

        return ReferenceGhost()

    def make_history(self) -> object:
        from conformance.adapters.reference_history import ReferenceHistory

        return ReferenceHistory()

    def make_catch_up(self) -> object:
        return ReferenceCatchUp()

    def make_vote_journal(self) -> object:
        from conformance.adapters.reference_journal import ReferenceVoteJournal

        return ReferenceVoteJournal()

    def make_lost_journal(self) -> object:
        from conformance.adapters.reference_replica import ReferenceLostJournal

        return ReferenceLostJournal(self.api("replica"))

    def make_lost_journal_on_disk(self) -> object:
        from conformance.adapters.reference_journal import ReferenceLostJournalOnDisk

        return ReferenceLostJournalOnDisk(self.api("vote-journal"))

    def make_consensus_v2(self) -> object:
        from conformance.adapters.reference_v2 import ReferenceConsensusV2

        return ReferenceConsensusV2()

    def make_live_accuracy(self) -> object:
        from conformance.adapters.reference_monitoring import ReferenceLiveAccuracy

        return ReferenceLiveAccuracy()

    def api(self, capability: str) -> Any:
        if capability not in self._apis:
            raise KeyError(f"{self.name} does not implement capability {capability!r}")
        if capability not in self._cache:
            self._cache[capability] = self._apis[capability]()
        return self._cache[capability]

    def close(self) -> None:
        self._cache.clear()
