"""Commands of the state capabilities: the sparse Merkle tree, its store, and snapshot sync.

state-tree (E8, E9, N2), state-store (R3.6, R5.4) and sync (R3.1, R3.5, N5).
"""

from __future__ import annotations

from conformance.capabilities import Capability
from conformance.protocol.commands.model import (
    ANY,
    BOOL,
    HASH,
    HEX,
    INT,
    NAT,
    NULL,
    NULLABLE_NAT,
    STR,
    Command,
    Schema,
    array,
    create,
    function,
    mapping,
    method,
    record,
)

T = Capability.STATE_TREE
ST = Capability.STATE_STORE
SYN = Capability.SYNC

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

STATE_TREE: tuple[Command, ...] = (
    create(
        T,
        "new",
        {"cache_size": {"type": ["integer", "null"]}},
        "Create an empty state tree whose nodes sit in a node store read through an LRU cache "
        "of cache_size nodes (null: the implementation's default).",
    ),
    method(
        T,
        "update",
        {"key": STR, "value": ANY},
        HASH,
        "Set key to value; return the new root.",
        mutates=True,
    ),
    method(
        T,
        "delete",
        {"key": STR},
        HASH,
        "Remove key (nothing if absent); return the new root.",
        mutates=True,
    ),
    method(
        T,
        "batch_update",
        {"ops": array(ANY)},
        HASH,
        "Apply [{'op': 'set', 'key', 'value'} | {'op': 'delete', 'key'}...] in one pass, the "
        "last write of a key winning; return the new root (T22.1a).",
        mutates=True,
    ),
    method(
        T,
        "get",
        {"key": STR},
        record({"found": BOOL}, {"value": ANY}),
        "Return {'found': true, 'value': V} or {'found': false}.",
    ),
    method(T, "root", {}, HASH, "Return the root (32 zero bytes for an empty tree)."),
    method(
        T,
        "prove",
        {"key": STR},
        {"type": "object"},
        "Return the inclusion proof of a present key or the absence proof of an absent one, in "
        "the JSON form of spec/state-tree.md (E9).",
    ),
    method(
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
    function(
        T,
        "verify_proof",
        {"proof": ANY, "root": STR},
        BOOL,
        "Return whether the proof (JSON object) proves its claim under root; reject a malformed "
        "proof (E9).",
    ),
)

STATE_STORE: tuple[Command, ...] = (
    create(
        ST,
        "open",
        {"path": STR},
        "Open (or create) the persistent store at path; reopening must not rebuild the tree.",
    ),
    # The store persists: its commits are not replayed after a crash (mutates=False).
    method(
        ST,
        "commit_genesis",
        {"balances": mapping(ANY), "stakes": mapping(ANY)},
        HASH,
        "Validate and commit the genesis (height 0); return its root.",
    ),
    method(
        ST,
        "commit_transition",
        {"height": INT, "operations": array(ANY)},
        record(
            {
                "root": HASH,
                "minted": NAT,
                "burned": NAT,
                "total_supply": NAT,
                "genesis_supply": NAT,
            }
        ),
        "Validate the operations ({op: transfer|reward|bond|unbond|slash, ...}) on the latest "
        "height and commit them atomically as the next height; reject the whole transition "
        "naming the rule, writing nothing (R3.6, R4.7, R7.1). Not replayed after a crash: "
        "the store persists.",
    ),
    method(
        ST,
        "latest",
        {},
        record({"height": {"type": ["integer", "null"]}, "root": HASH}),
        "Return the latest committed height (null if none) and its root.",
    ),
    method(
        ST,
        "get",
        {"key": STR, "height": {"type": ["integer", "null"]}},
        record({"found": BOOL}, {"value": ANY}),
        "Read a key at a height (null: the latest).",
    ),
    method(
        ST,
        "prove",
        {"key": STR, "height": {"type": ["integer", "null"]}},
        {"type": "object"},
        "Return the state-tree proof of a key at a height (E9).",
    ),
)

SYNC: tuple[Command, ...] = (
    create(
        SYN,
        "new",
        {"root": STR, "prefix_bits": INT, "peers": array(STR)},
        "Start syncing the state with this trusted root (a commit certificate vouches for it) "
        "from the named peers, which the harness plays and whose snapshots split the state "
        "into 2**prefix_bits parts (spec/sync.md); reject a malformed root.",
    ),
    method(
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
    method(
        SYN,
        "outcome",
        {},
        SYNC_OUTCOME,
        "Return the state, the failure's rule, and once done the root and key count of the "
        "adopted state and every manifest and chunk rejected ({peer, prefix, rule}).",
    ),
    method(
        SYN,
        "get",
        {"keys": array(STR)},
        array(record({"found": BOOL}, {"value": ANY})),
        "Read keys of the synced state: [{found, value?}] in order; reject before it is done.",
    ),
    method(
        SYN,
        "get_manifest",
        {"prefix_bits": INT},
        HEX,
        "Serve the manifest (hex of its canonical JSON) of the synced state with these prefix "
        "bits, as a peer would (spec/sync.md).",
    ),
    method(
        SYN,
        "get_chunk",
        {"prefix_bits": INT, "prefix": INT},
        HEX,
        "Serve the chunk (hex of its canonical JSON) of one part of the synced state.",
    ),
)

#: The commands of each capability of this module.
TABLE: dict[Capability, tuple[Command, ...]] = {
    T: STATE_TREE,
    ST: STATE_STORE,
    SYN: SYNC,
}
