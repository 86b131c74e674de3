"""Commands of the proof capabilities: verifier (R1.4, T22.2) and mempool (R5, R6.3, R8.2)."""

from __future__ import annotations

from conformance.capabilities import Capability
from conformance.protocol.commands.model import (
    ANY,
    BOOL,
    HASH,
    INT,
    NAT,
    STR,
    Command,
    Schema,
    array,
    create,
    function,
    method,
    record,
)

VER = Capability.VERIFIER
MEM = Capability.MEMPOOL

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

VERIFIER: tuple[Command, ...] = (
    function(
        VER,
        "verify_proof",
        {"proof": ANY},
        VERDICT,
        "Verify one proof (signature, SMT subset, Z3 with rlimit = budget); reject a malformed "
        "proof object.",
    ),
    function(
        VER,
        "verify_block",
        {"proofs": array(ANY), "parallel": BOOL},
        array(VERDICT),
        "Verify a block's proofs, on the implementation's worker pool if parallel; results in "
        "order, identical either way (T22.2a).",
    ),
    function(
        VER,
        "batch_verify_signatures",
        {"items": array(ANY)},
        array(BOOL),
        "Return one verdict per {public_key, message, signature} item (hex), in order (T22.2c).",
    ),
    function(
        VER,
        "difficulty",
        {"effort": INT, "size": INT},
        NAT,
        "Return the difficulty of a proof of this solver effort and size in bytes (R1.4).",
    ),
    create(VER, "new", {}, "Create a verifier with its result cache (T22.2d)."),
    method(
        VER,
        "verify",
        {"proof": ANY},
        VERDICT,
        "Verify one proof through the cache.",
        mutates=True,
    ),
    method(
        VER,
        "cache_stats",
        {},
        record({"hits": NAT, "misses": NAT, "size": NAT}, {"evictions": NAT, "max_size": NAT}),
        "Return the result cache's statistics.",
    ),
)

MEMPOOL: tuple[Command, ...] = (
    create(
        MEM,
        "new",
        {"capacity": {"type": ["integer", "null"]}, "judge_seed": STR},
        "Create a mempool (capacity null: the default) whose judge signs with judge_seed.",
    ),
    method(
        MEM,
        "add_proof",
        {"proof": ANY},
        record({"proof_id": HASH, "difficulty": NAT}),
        "Admit a proof (signature first, then verification); reject it naming the rule.",
        mutates=True,
    ),
    method(
        MEM,
        "add_transaction",
        {"transaction": ANY, "balance": INT, "nonce": INT},
        {"type": "object"},
        "Admit a transfer given its sender's committed balance and nonce; return the judge's "
        "proof of it (R5.1); reject conflicts (R7.1).",
        mutates=True,
    ),
    method(
        MEM,
        "select_for_block",
        {"max_proofs": INT},
        record({"proofs": array(HASH), "transactions": array(HASH)}),
        "Return the ids of the first n pending proofs in block order (n = max_proofs; the "
        "mempool order, a proof whose transactions follow an earlier pending nonce of the same "
        "sender right after the proof carrying that nonce; every pending proof, whatever its "
        "kind) and of the pending transfers they cover; change nothing (R6.3).",
    ),
    method(
        MEM,
        "remove_committed",
        {"proof_ids": array(STR), "transaction_ids": array(STR)},
        NAT,
        "Remove what a committed block holds (each listed proof with the transfers it covers, "
        "each listed transfer with its proof); return the number of pending proofs that left "
        "this way, each counted once (an id that is not pending removes and counts nothing).",
        mutates=True,
    ),
    method(
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
)

#: The commands of each capability of this module.
TABLE: dict[Capability, tuple[Command, ...]] = {
    VER: VERIFIER,
    MEM: MEMPOOL,
}
