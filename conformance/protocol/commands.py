"""The command table: every operation the suite may ask of an implementation, with JSON Schemas.

This table is the single definition of the adapter interface. The Python adapter classes in
:mod:`conformance.adapters.api` mirror it (a harness test checks they agree), the subprocess
protocol sends exactly these commands (conformance/PROTOCOL.md), and ``--validate-protocol``
checks every request and response against the schemas built from it.

Three kinds of command:

* ``function``: a pure function of its parameters (no handle).
* ``create``: makes a new stateful object (a state tree, a mempool, a replica...) under a handle
  the harness chooses; the object lives until ``close``.
* ``method``: runs on the object of a handle. ``mutates=True`` marks methods that change it: after
  a crash the harness restarts the implementation and replays the creates and mutating methods of
  the live handles, in order. A method whose ``target`` names another capability runs on that
  capability's objects (``monitoring.metrics`` on a replica's handle).

Parameter schemas are deliberately loose where the suite sends hostile input on purpose (a hex
string in upper case, a float where an integer belongs): the implementation must reject such
input itself. Result schemas are strict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from conformance.capabilities import Capability

Schema = dict[str, Any]

#: Any JSON value (the suite sends values without a canonical form on purpose).
ANY: Schema = {}
INT: Schema = {"type": "integer"}
NAT: Schema = {"type": "integer", "minimum": 0}
BOOL: Schema = {"type": "boolean"}
STR: Schema = {"type": "string"}
HEX: Schema = {"type": "string", "pattern": "^([0-9a-f]{2})*$"}
HASH: Schema = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
SIGNATURE: Schema = {"type": "string", "pattern": "^[0-9a-f]{128}$"}
NULL: Schema = {"type": "null"}
#: A verification result.
VERDICT: Schema = {
    "type": "object",
    "properties": {
        "proof_id": HASH,
        "verdict": {"enum": ["valid", "invalid", "unknown"]},
        "effort": NAT,
        "size": NAT,
        "difficulty": NAT,
        "reason": {"type": ["string", "null"]},
    },
    "required": ["proof_id", "verdict", "effort", "size", "difficulty"],
    "additionalProperties": False,
}
OUTPUT_KINDS = ("send", "broadcast", "set_timer", "committed", "evidence", "request_sync", "log")
#: A replica's answer to an event (conformance/replica_wire.py).
OUTPUTS: Schema = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {
            "type": {"enum": list(OUTPUT_KINDS)},
        },
        "required": ["type"],
    },
}


def array(items: Schema) -> Schema:
    """Return the schema of a JSON array of ``items``."""
    return {"type": "array", "items": items}


def mapping(values: Schema) -> Schema:
    """Return the schema of a JSON object with arbitrary names and ``values``."""
    return {"type": "object", "additionalProperties": values}


def record(required: dict[str, Schema], optional: dict[str, Schema] | None = None) -> Schema:
    """Return the schema of a JSON object with exactly these members."""
    return {
        "type": "object",
        "properties": {**required, **(optional or {})},
        "required": sorted(required),
        "additionalProperties": False,
    }


Kind = Literal["function", "create", "method"]


@dataclass(frozen=True, slots=True)
class Command:
    """One operation of the adapter interface."""

    capability: Capability
    method: str
    kind: Kind
    params: tuple[tuple[str, Schema], ...]
    result: Schema
    doc: str
    mutates: bool = False
    optional_params: tuple[str, ...] = field(default=())
    #: The capability whose objects this method runs on (None: its own).
    target: Capability | None = None

    @property
    def name(self) -> str:
        """Return the wire name ``capability.method``."""
        return f"{self.capability.value}.{self.method}"

    @property
    def param_names(self) -> tuple[str, ...]:
        """Return the parameter names in call order."""
        return tuple(name for name, _ in self.params)

    def params_schema(self) -> Schema:
        """Return the JSON Schema of this command's ``params`` object."""
        properties = dict(self.params)
        return {
            "type": "object",
            "properties": properties,
            "required": [n for n in properties if n not in self.optional_params],
            "additionalProperties": False,
        }


def _fn(
    cap: Capability, method: str, params: dict[str, Schema], result: Schema, doc: str
) -> Command:
    return Command(cap, method, "function", tuple(params.items()), result, doc)


def _new(cap: Capability, method: str, params: dict[str, Schema], doc: str) -> Command:
    return Command(cap, method, "create", tuple(params.items()), NULL, doc, mutates=True)


def _m(
    cap: Capability,
    method: str,
    params: dict[str, Schema],
    result: Schema,
    doc: str,
    *,
    mutates: bool = False,
) -> Command:
    return Command(cap, method, "method", tuple(params.items()), result, doc, mutates=mutates)


E = Capability.ENCODING
L = Capability.LIST_HASH
T = Capability.STATE_TREE
ST = Capability.STATE_STORE
VER = Capability.VERIFIER
MEM = Capability.MEMPOOL
ECO = Capability.ECONOMICS
REP = Capability.REPLICA
SYN = Capability.SYNC
MON = Capability.MONITORING
GHO = Capability.GHOST
HIS = Capability.HISTORY
NULLABLE_NAT: Schema = {"type": ["integer", "null"], "minimum": 0}
#: The verdict on a presented history (R3.3, R7.4).
HISTORY_VERDICT: Schema = record(
    {"accepted": BOOL, "height": NAT}, {"root": HASH, "rule": STR, "reason": STR}
)
#: The choice between two presented histories (R3.3).
HISTORY_CHOICE: Schema = record(
    {
        "chosen": {"enum": ["first", "second", "neither", "conflict"]},
        "conflict": {"anyOf": [NULL, record({"height": NAT, "signers": array(STR), "stake": NAT})]},
    }
)
#: A sync session's answer to a poll: its state and the fetches it wants now.
SYNC_POLL: Schema = record(
    {
        "state": {"enum": ["running", "done", "failed"]},
        "requests": array(record({"peer": STR, "prefix": NULLABLE_NAT})),
        "rule": {"type": ["string", "null"]},
    }
)
#: The harness's answer to one fetch: the bytes (hex) or an error.
SYNC_RESPONSE: Schema = {
    "oneOf": [
        record({"peer": STR, "prefix": NULLABLE_NAT, "data": HEX}),
        record({"peer": STR, "prefix": NULLABLE_NAT, "error": STR}),
    ]
}
SYNC_OUTCOME: Schema = record(
    {
        "state": {"enum": ["running", "done", "failed"]},
        "rule": {"type": ["string", "null"]},
        "root": {"anyOf": [HASH, NULL]},
        "keys": NAT,
        "rejected": {
            "type": ["array", "null"],
            "items": record(
                {"peer": STR, "prefix": NULLABLE_NAT, "rule": {"type": ["string", "null"]}}
            ),
        },
    }
)
#: A node's monitoring view (spec/monitoring.md; PROTOCOL.md names the exposition's metrics).
NODE_METRICS: Schema = record(
    {
        "heights": array(
            record(
                {
                    "height": NAT,
                    "view": NAT,
                    "duration_ns": NAT,
                    "participants": NAT,
                    "proof_count": NAT,
                    "total_difficulty": NAT,
                }
            )
        ),
        "rewards": mapping(NAT),
        "health": record(
            {
                "height": NAT,
                "view": NAT,
                "active_validators": mapping(NAT),
                "consensus_latency_ns": array(NAT),
                "proof_throughput_per_s": {"type": "number", "minimum": 0},
            }
        ),
        "exposition": STR,
    }
)

_COMMANDS: list[Command] = [
    # ------------------------------------------------------------------ encoding (E1-E7, N1)
    _fn(
        E,
        "canonical_json",
        {"value": ANY},
        HEX,
        "Return the hex of the canonical JSON encoding of value; reject a value without one.",
    ),
    _fn(
        E,
        "parse_canonical_json",
        {"data": STR},
        ANY,
        "Parse the bytes (hex) as canonical JSON; reject anything that is not canonical.",
    ),
    _fn(
        E,
        "hash_object",
        {"value": ANY},
        HASH,
        "Return SHA-256 of the canonical encoding of value (E6).",
    ),
    _fn(
        E,
        "public_key",
        {"seed": STR},
        HASH,
        "Return the Ed25519 public key of a 32-byte secret seed.",
    ),
    _fn(
        E,
        "sign",
        {"seed": STR, "domain": STR, "value": ANY},
        SIGNATURE,
        "Sign value (an object) in the named domain with the key of seed (E7).",
    ),
    _fn(
        E,
        "verify_signature",
        {"public_key": STR, "domain": STR, "value": ANY, "signature": STR},
        BOOL,
        "Return whether signature signs value in domain for public_key (E7, R7.5).",
    ),
    # ------------------------------------------------------------------ list hashing (E10, E11)
    _fn(
        L,
        "root",
        {"entries": array(ANY)},
        HASH,
        "Return the RFC 6962 Merkle tree hash of the canonical encodings of entries (E10).",
    ),
    _fn(
        L,
        "prove_inclusion",
        {"entries": array(ANY), "index": INT},
        array(HASH),
        "Return the RFC 9162 inclusion proof of entry index, leaf to root (E11).",
    ),
    _fn(
        L,
        "prove_consistency",
        {"entries": array(ANY), "size1": INT},
        array(HASH),
        "Return the RFC 9162 proof that the first size1 entries are a prefix of the list (E11).",
    ),
    _fn(
        L,
        "verify_inclusion",
        {"leaf_index": INT, "tree_size": INT, "leaf_hash": STR, "proof": array(STR), "root": STR},
        BOOL,
        "Return whether proof shows leaf_hash at leaf_index in the tree of root (E11).",
    ),
    _fn(
        L,
        "verify_consistency",
        {"size1": INT, "size2": INT, "root1": STR, "root2": STR, "proof": array(STR)},
        BOOL,
        "Return whether proof shows the tree of root1 is a prefix of the tree of root2 (E11).",
    ),
    # ------------------------------------------------------------------ state tree (E8, E9, N2)
    _new(
        T,
        "new",
        {"cache_size": {"type": ["integer", "null"]}},
        "Create an empty state tree whose nodes sit in a node store read through an LRU cache "
        "of cache_size nodes (null: the implementation's default).",
    ),
    _m(
        T,
        "update",
        {"key": STR, "value": ANY},
        HASH,
        "Set key to value; return the new root.",
        mutates=True,
    ),
    _m(
        T,
        "delete",
        {"key": STR},
        HASH,
        "Remove key (nothing if absent); return the new root.",
        mutates=True,
    ),
    _m(
        T,
        "batch_update",
        {"ops": array(ANY)},
        HASH,
        "Apply [{'op': 'set', 'key', 'value'} | {'op': 'delete', 'key'}...] in one pass, the "
        "last write of a key winning; return the new root (T22.1a).",
        mutates=True,
    ),
    _m(
        T,
        "get",
        {"key": STR},
        record({"found": BOOL}, {"value": ANY}),
        "Return {'found': true, 'value': V} or {'found': false}.",
    ),
    _m(T, "root", {}, HASH, "Return the root (32 zero bytes for an empty tree)."),
    _m(
        T,
        "prove",
        {"key": STR},
        {"type": "object"},
        "Return the inclusion proof of a present key or the absence proof of an absent one, in "
        "the JSON form of spec/state-tree.md (E9).",
    ),
    _m(
        T,
        "get_cache_stats",
        {},
        record(
            {
                "hits": NAT,
                "misses": NAT,
                "hit_rate": {"type": "number"},
                "size": NAT,
                "max_size": NAT,
            }
        ),
        "Return the node cache statistics (T22.1b).",
    ),
    _fn(
        T,
        "verify_proof",
        {"proof": ANY, "root": STR},
        BOOL,
        "Return whether the proof (JSON object) proves its claim under root; reject a malformed "
        "proof (E9).",
    ),
    # ------------------------------------------------------------------ state store (R3.6, R5.4)
    _new(
        ST,
        "open",
        {"path": STR},
        "Open (or create) the persistent store at path; reopening must not rebuild the tree.",
    ),
    Command(
        ST,
        "commit_genesis",
        "method",
        (("balances", mapping(ANY)), ("stakes", mapping(ANY))),
        HASH,
        "Validate and commit the genesis (height 0); return its root.",
    ),
    Command(
        ST,
        "commit_transition",
        "method",
        (("height", INT), ("operations", array(ANY))),
        record(
            {"root": HASH, "minted": NAT, "burned": NAT, "total_supply": NAT, "genesis_supply": NAT}
        ),
        "Validate the operations ({op: transfer|reward|bond|unbond|slash, ...}) on the latest "
        "height and commit them atomically as the next height; reject the whole transition "
        "naming the rule, writing nothing (R3.6, R4.7, R7.1). Not replayed after a crash: "
        "the store persists.",
    ),
    _m(
        ST,
        "latest",
        {},
        record({"height": {"type": ["integer", "null"]}, "root": HASH}),
        "Return the latest committed height (null if none) and its root.",
    ),
    _m(
        ST,
        "get",
        {"key": STR, "height": {"type": ["integer", "null"]}},
        record({"found": BOOL}, {"value": ANY}),
        "Read a key at a height (null: the latest).",
    ),
    _m(
        ST,
        "prove",
        {"key": STR, "height": {"type": ["integer", "null"]}},
        {"type": "object"},
        "Return the state-tree proof of a key at a height (E9).",
    ),
    # ------------------------------------------------------------------ verifier (R1.4, T22.2)
    _fn(
        VER,
        "verify_proof",
        {"proof": ANY},
        VERDICT,
        "Verify one proof (signature, SMT subset, Z3 with rlimit = budget); reject a malformed "
        "proof object.",
    ),
    _fn(
        VER,
        "verify_block",
        {"proofs": array(ANY), "parallel": BOOL},
        array(VERDICT),
        "Verify a block's proofs, on the implementation's worker pool if parallel; results in "
        "order, identical either way (T22.2a).",
    ),
    _fn(
        VER,
        "batch_verify_signatures",
        {"items": array(ANY)},
        array(BOOL),
        "Return one verdict per {public_key, message, signature} item (hex), in order (T22.2c).",
    ),
    _fn(
        VER,
        "difficulty",
        {"effort": INT, "size": INT},
        NAT,
        "Return the difficulty of a proof of this solver effort and size in bytes (R1.4).",
    ),
    _new(VER, "new", {}, "Create a verifier with its result cache (T22.2d)."),
    _m(VER, "verify", {"proof": ANY}, VERDICT, "Verify one proof through the cache.", mutates=True),
    _m(
        VER,
        "cache_stats",
        {},
        record({"hits": NAT, "misses": NAT, "size": NAT}, {"evictions": NAT, "max_size": NAT}),
        "Return the result cache's statistics.",
    ),
    # ------------------------------------------------------------------ mempool (R5, R6.3, R8.2)
    _new(
        MEM,
        "new",
        {"capacity": {"type": ["integer", "null"]}, "judge_seed": STR},
        "Create a mempool (capacity null: the default) whose judge signs with judge_seed.",
    ),
    _m(
        MEM,
        "add_proof",
        {"proof": ANY},
        record({"proof_id": HASH, "difficulty": NAT}),
        "Admit a proof (signature first, then verification); reject it naming the rule.",
        mutates=True,
    ),
    _m(
        MEM,
        "add_transaction",
        {"transaction": ANY, "balance": INT, "nonce": INT},
        {"type": "object"},
        "Admit a transfer given its sender's committed balance and nonce; return the judge's "
        "proof of it (R5.1); reject conflicts (R7.1).",
        mutates=True,
    ),
    _m(
        MEM,
        "select_for_block",
        {"max_proofs": INT},
        record({"proofs": array(HASH), "transactions": array(HASH)}),
        "Return the ids of the proofs and transfers a block would take, in block order (R6.3).",
    ),
    _m(
        MEM,
        "remove_committed",
        {"proof_ids": array(STR), "transaction_ids": array(STR)},
        NAT,
        "Remove what a committed block holds; return how many proofs left.",
        mutates=True,
    ),
    _m(
        MEM,
        "stats",
        {},
        record(
            {
                "size": NAT,
                "transactions": NAT,
                "capacity": NAT,
                "admitted": NAT,
                "rejected": NAT,
                "evicted": NAT,
                "committed": NAT,
                "processing_rate": {"type": "number"},
            }
        ),
        "Return the mempool metrics (R8.2).",
    ),
    # ------------------------------------------------------------------ economics (R1, R4)
    _fn(
        ECO,
        "proof_reward",
        {"difficulty": INT},
        NAT,
        "Return the reward of one verified proof of this difficulty (R1.2).",
    ),
    _fn(
        ECO,
        "block_reward",
        {"total_difficulty": INT},
        NAT,
        "Return the block reward for this total difficulty (R4.4).",
    ),
    _fn(
        ECO,
        "emission_limit",
        {"height": INT},
        NAT,
        "Return E(h): the most that may have been minted through this height (R4.7).",
    ),
    _fn(
        ECO,
        "reward_split",
        {"reward": INT, "member_stakes": mapping(ANY), "proposer": STR},
        mapping(NAT),
        "Split reward among certificate members by stake; remainder to the proposer (R1.3).",
    ),
    _fn(
        ECO,
        "slash_amount",
        {"stake": INT, "offence": STR},
        NAT,
        "Return the stake burned for offence 'false-claim' or 'equivocation' (R4.2).",
    ),
    _fn(
        ECO,
        "is_eligible_stake",
        {"stake": INT},
        BOOL,
        "Return whether this stake may sit in a validator set (R4.3).",
    ),
    # ------------------------------------------------------------------ replica: pure rules
    _fn(
        REP,
        "timeout",
        {"observed_latency_ns": INT, "view": INT},
        NAT,
        "Return the view timeout in ns for an observed one-way latency (R2.6, R6.5).",
    ),
    # ------------------------------------------------------------------ replica: sans-IO core
    _new(
        REP,
        "new",
        {"validator_set": ANY, "validator_id": STR, "seed": STR, "mode": STR, "genesis": ANY},
        "Create a replica of validator_id (Ed25519 seed) in the validator set (wire form), in "
        "dissemination mode 'broadcast' or 'collector', over the genesis ledger state.",
    ),
    _m(
        REP,
        "offer",
        {"height": INT, "pre_root": STR, "transactions": array(ANY), "proofs": array(ANY)},
        NULL,
        "Hand the replica the transactions and proofs to propose at height on the state pre_root "
        "(its mempool's selection; the replica proposes nothing else).",
        mutates=True,
    ),
    _m(REP, "start", {"now": INT}, OUTPUTS, "Start at virtual time now (ns).", mutates=True),
    _m(
        REP,
        "on_message",
        {"message": ANY, "now": INT},
        OUTPUTS,
        "Process one received message (wire form).",
        mutates=True,
    ),
    _m(
        REP,
        "on_timer",
        {"height": INT, "view": INT, "kind": STR, "now": INT},
        OUTPUTS,
        "Process an expired timer the replica set.",
        mutates=True,
    ),
    _m(
        REP,
        "on_sync_completed",
        {"certificate": ANY, "block": ANY, "state": ANY, "now": INT},
        OUTPUTS,
        "Adopt the synced state the certificate vouches for (R3.1); reject a state "
        "whose root differs.",
        mutates=True,
    ),
    _m(
        REP,
        "batch_process_messages",
        {"messages": array(ANY), "now": INT},
        OUTPUTS,
        "Process messages as one batch: exactly the outputs of one at a time (T22.2b).",
        mutates=True,
    ),
    _m(
        REP,
        "status",
        {},
        record({"height": NAT, "view": NAT, "state_root": HASH}),
        "Return the current height, view and state root.",
    ),
    _m(
        REP,
        "get_performance_stats",
        {},
        {"type": "object"},
        "Return the engine's counters (T22.2e).",
    ),
    # ------------------------------------------------------------------ sync (R3.1, R3.5, N5)
    _new(
        SYN,
        "new",
        {"root": STR, "prefix_bits": INT, "peers": array(STR)},
        "Start syncing the state with this trusted root (a commit certificate vouches for it) "
        "from the named peers, which the harness plays and whose snapshots split the state "
        "into 2**prefix_bits parts (spec/sync.md); reject a malformed root.",
    ),
    _m(
        SYN,
        "poll",
        {"responses": array(SYNC_RESPONSE)},
        SYNC_POLL,
        "Take the harness's answers to earlier requests ({peer, prefix: null for the manifest, "
        "data: hex} or {peer, prefix, error}); verify what arrived (each chunk on arrival); "
        "return the state (running, done, failed naming the rule) and the fetches wanted now. "
        "While running with nothing to ask, answer no requests: the harness polls again.",
        mutates=True,
    ),
    _m(
        SYN,
        "outcome",
        {},
        SYNC_OUTCOME,
        "Return the state, the failure's rule, and once done the root and key count of the "
        "adopted state and every manifest and chunk rejected ({peer, prefix, rule}).",
    ),
    _m(
        SYN,
        "get",
        {"keys": array(STR)},
        array(record({"found": BOOL}, {"value": ANY})),
        "Read keys of the synced state: [{found, value?}] in order; reject before it is done.",
    ),
    _m(
        SYN,
        "get_manifest",
        {"prefix_bits": INT},
        HEX,
        "Serve the manifest (hex of its canonical JSON) of the synced state with these prefix "
        "bits, as a peer would (spec/sync.md).",
    ),
    _m(
        SYN,
        "get_chunk",
        {"prefix_bits": INT, "prefix": INT},
        HEX,
        "Serve the chunk (hex of its canonical JSON) of one part of the synced state.",
    ),
    # ------------------------------------------------------------------ monitoring (R8)
    _fn(
        MON,
        "accuracy_alerts",
        {"verdicts": array(ANY)},
        array(record({"index": NAT, "validator": STR, "correct": NAT, "verdicts": NAT})),
        "Feed [{validator, correct: bool}...] in order to a fresh accuracy tracker; return each "
        "alert as raised: the index of the verdict that raised it, the validator, and the "
        "correct and total verdicts of its window (R8.3).",
    ),
    Command(
        MON,
        "metrics",
        "method",
        (),
        NODE_METRICS,
        "On a replica's handle: return the node's per-height records, cumulative rewards per "
        "validator, health view and Prometheus text exposition (R8.1, R8.4, R8.6).",
        target=REP,
    ),
    # ------------------------------------------------------------------ ghost identity (R5.3)
    _new(
        GHO,
        "new",
        {"secret": STR},
        "Create a ghost holder with this secret (hex, at least 32 bytes: reject a shorter one).",
    ),
    _m(
        GHO,
        "sign_proof",
        {"kind": STR, "smt": STR, "claimed": STR, "budget": INT, "subjects": array(STR)},
        {"type": "object"},
        "Return a proof of this obligation (canonical JSON form) with ghost true, signed by a "
        "fresh one-time key derived from the secret, and nothing else derived from the holder.",
        mutates=True,
    ),
    # ------------------------------------------------------------------ histories (R3.3, R7.4)
    _fn(
        HIS,
        "verify",
        {"genesis": ANY, "validator_set": ANY, "history": ANY},
        HISTORY_VERDICT,
        "Verify a presented history ({links: [{block, certificate, changes}]}, wire forms) from "
        "the genesis {balances, stakes} under the validator set (wire form): every height's "
        "block, commit certificate, proofs, re-executed transition and claimed changes. Answer "
        "{accepted: true, height: tip, root: tip state root} or {accepted: false, height: the "
        "first height that does not verify, rule, reason}; reject only input that is not a "
        "well-formed history.",
    ),
    _fn(
        HIS,
        "choose",
        {"genesis": ANY, "validator_set": ANY, "first": ANY, "second": ANY},
        HISTORY_CHOICE,
        "Choose between two histories from one genesis (R3.3): the one that verifies; the "
        "longer if both verify and agree; neither if neither verifies; 'conflict' if their "
        "verified parts disagree at some height, with the first such height, the validators "
        "whose COMMIT votes are in both certificates there (in validator-set order) and their "
        "stake.",
    ),
]

COMMANDS: dict[str, Command] = {command.name: command for command in _COMMANDS}


def commands_of(capability: Capability | str) -> dict[str, Command]:
    """Return ``{method: command}`` of one capability."""
    return {c.method: c for c in COMMANDS.values() if c.capability == capability}


#: Methods other capabilities add to a capability's objects: {(object capability, method): command}.
OBJECT_METHODS: dict[tuple[str, str], Command] = {
    (c.target.value, c.method): c for c in COMMANDS.values() if c.target is not None
}
