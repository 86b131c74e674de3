"""What each handler of the vector release holds and how to compare it: the text of the README of
``<area>/<handler>/`` in an export (conformance/testvectors/export.py).

Every handler's expected member is ``{"result": VALUE}`` (the answer) or ``{"reject": true}``
(the input must be refused: the command answers an error of kind ``rejected``, PROTOCOL.md).
The commands named are those of the subprocess protocol (conformance/PROTOCOL.md,
``aethel-conformance protocol-schema``); their wire forms are in conformance/WIRE.md and spec/.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class HandlerDoc:
    """The README of one handler."""

    title: str
    command: str
    input: str
    expected: str
    compare: str = "JSON equality of `expected.json` and your outcome (see the top README)."


def _function(title: str, command: str, params: str, result: str) -> HandlerDoc:
    return HandlerDoc(
        title,
        command,
        f"the parameters of `{command}`: {params}.",
        f'`{{"result": ...}}`: {result}; or `{{"reject": true}}`.',
    )


HANDLER_DOCS: dict[tuple[str, str], HandlerDoc] = {
    ("encoding", "canonical_json"): _function(
        "Canonical JSON encoding (RFC 8785 with the spec's restrictions)",
        "encoding.canonical_json",
        "`value`, any JSON value (integers up to 64 bits and beyond, `2.0`, lone surrogates and "
        "non-NFC strings appear on purpose)",
        "the lowercase hex of the canonical encoding",
    ),
    ("encoding", "parse_canonical_json"): _function(
        "Strict parsing of canonical JSON",
        "encoding.parse_canonical_json",
        "`data`, the hex of the bytes to parse",
        "the value the bytes encode (only bytes in canonical form parse)",
    ),
    ("encoding", "hash_object"): _function(
        "Object hash",
        "encoding.hash_object",
        "`value`",
        "the hex SHA-256 of the canonical encoding",
    ),
    ("encoding", "sign"): _function(
        "Ed25519 signature over domain tag, a zero byte and the canonical body",
        "encoding.sign",
        "`seed` (hex Ed25519 seed), `domain` (tag), `value` (its `signature` member, if any, is "
        "not signed)",
        "the hex signature (Ed25519 is deterministic)",
    ),
    ("encoding", "public_key"): _function(
        "Ed25519 public key of a seed", "encoding.public_key", "`seed`", "the hex public key"
    ),
    ("encoding", "verify_signature"): HandlerDoc(
        "Signature verification and strict hex",
        "encoding.verify_signature",
        "the parameters of `encoding.verify_signature`: `public_key`, `domain`, `value`, "
        "`signature`.",
        '`{"result": true}`, or `{"reject": true}`: refused (an error) or answered `false`.',
        "A `false` answer counts as a refusal.",
    ),
    ("list-hash", "root"): _function(
        "RFC 6962 Merkle tree hash of a list",
        "list-hash.root",
        "`entries`, JSON values whose canonical encodings are the leaves",
        "the hex root",
    ),
    ("list-hash", "prove_inclusion"): _function(
        "RFC 6962 inclusion proof",
        "list-hash.prove_inclusion",
        "`entries`, `index`",
        "the list of hex hashes of the audit path",
    ),
    ("list-hash", "prove_consistency"): _function(
        "RFC 6962 consistency proof",
        "list-hash.prove_consistency",
        "`entries`, `size1`",
        "the list of hex hashes",
    ),
    ("state-tree", "root_after_batch"): HandlerDoc(
        "State tree root after a batch of writes",
        "state-tree.new, then state-tree.batch_update",
        '`ops`: `[{"op": "set", "key", "value"} | {"op": "delete", "key"}]`, applied '
        "to a new, empty tree.",
        '`{"result": ROOT}` (hex), or `{"reject": true}`: the batch holds a write the tree must '
        "refuse (refused whole).",
    ),
    ("state-tree", "prove"): HandlerDoc(
        "State proof of a key",
        "state-tree.new, state-tree.batch_update, state-tree.prove",
        "`ops` (as root_after_batch) and `key`.",
        '`{"result": PROOF}`: the proof object of spec/state-tree.md (E9).',
    ),
    ("economics", "proof_reward"): _function(
        "Reward of a proof", "economics.proof_reward", "`difficulty`", "an integer"
    ),
    ("economics", "block_reward"): _function(
        "Capped block reward", "economics.block_reward", "`total_difficulty`", "an integer"
    ),
    ("economics", "emission_limit"): _function(
        "Emission schedule E(h)", "economics.emission_limit", "`height`", "an integer"
    ),
    ("economics", "reward_split"): _function(
        "Reward split among certificate members",
        "economics.reward_split",
        "`reward`, `member_stakes` (id to stake), `proposer`",
        "id to share: every member (zero shares included) and the proposer",
    ),
    ("economics", "slash_amount"): _function(
        "Stake burned by an offence",
        "economics.slash_amount",
        "`stake`, `offence` (`false-claim`, `equivocation`; anything else is refused)",
        "an integer",
    ),
    ("economics", "is_eligible_stake"): _function(
        "Minimum stake", "economics.is_eligible_stake", "`stake`", "a boolean"
    ),
    ("replica", "timeout"): _function(
        "View timeout", "replica.timeout", "`observed_latency_ns`, `view`", "nanoseconds"
    ),
    ("replica", "trace"): HandlerDoc(
        "Replica traces: events in, outputs and status out",
        "replica.new, then one command per step (replica.offer, start, on_message, on_timer, "
        "on_sync_completed, batch_process_messages, catch-up.on_sync_completed_with_chain), "
        "replica.status at each checkpoint",
        '`replica`: the parameters of `replica.new`; `steps`: a list of `{"call", "params", '
        '"check"?, "refusal_allowed"?}`, each a command on the replica. `meta.json` lists '
        "the capabilities the trace needs.",
        '`{"result": {"checks": [{"step", "outputs", "status", "refused"}]}}`: one record per '
        "step marked `check`: the outputs produced since the previous checkpoint in their "
        "compared form, sorted; the `replica.status` after the step; the indexes of the steps "
        "since the previous checkpoint that were refused with an error.",
        "Build the compared form of every output: drop `log` outputs; drop `set_timer` of kind "
        "`propose` and the `deadline` of the others (keep `type`, `height`, `view`, `kind`); drop "
        "a `send` whose `to` is the replica's own id (a loopback: the trace delivers it as a "
        "later step); drop `started` from `committed`; write evidence (in `evidence` outputs and "
        "sent or broadcast messages) as `{type, offence, offender, reporter, messages, block, "
        "proof_index}` with `messages` the non-null of `first` and `second` sorted. Sort the "
        "outputs of a checkpoint by their canonical JSON (members sorted, no spaces) and compare "
        "with JSON equality. A step with `refusal_allowed` may be refused or not: neither its "
        "outputs nor a refusal are recorded, only the status after it counts.",
    ),
    ("verifier", "verify_proof"): _function(
        "Proof verification: outcome, reason, effort, difficulty",
        "verifier.verify_proof",
        "`proof`, a proof in its canonical JSON form (spec/proofs.md)",
        "`{proof_id, verdict, effort, size, difficulty, reason}`; effort is Z3 4.15.4's resource "
        "count under the verification procedure (N7) and must match exactly",
    ),
    ("verifier", "difficulty"): _function(
        "Difficulty formula", "verifier.difficulty", "`effort`, `size`", "an integer"
    ),
    ("verifier", "batch_verify_signatures"): _function(
        "Batch signature verification",
        "verifier.batch_verify_signatures",
        "`items`: `[{public_key, message, signature}]`, raw Ed25519",
        "one boolean per item",
    ),
    ("mempool", "sequence"): HandlerDoc(
        "Mempool sequences: arrivals in, admissions, refusals, block order and evictions out",
        "mempool.new, then one command per call",
        "`capacity` (null: the default) and `judge_seed` for `mempool.new`; `calls`: "
        '`[{"call", "params"}]`, each `add_proof`, `add_transaction`, `select_for_block`, '
        "`remove_committed` or `stats`.",
        '`{"result": [OUTCOME...]}`, one per call: `{"result": ANSWER}` or `{"reject": true, '
        '"rule": ID}`.',
        "JSON equality, after keeping only `size`, `transactions`, `capacity`, `admitted`, "
        "`rejected`, `evicted` and `committed` of a `stats` answer. A refusal must name the rule "
        "given (`rule`): the spec fixes it.",
    ),
    ("state-store", "sequence"): HandlerDoc(
        "State-store sequences: a genesis, transitions, roots, books and refusals",
        "state-store.open (a fresh file), state-store.commit_genesis, then one command per call",
        '`genesis`: `{balances, stakes}`; `calls`: `[{"call", "params"}]`, each '
        "`commit_transition`, `get` or `latest`.",
        '`{"result": {"genesis": ROOT, "calls": [OUTCOME...]}}`: each outcome '
        '`{"result": ANSWER}` or `{"reject": true, "rule": ID}`.',
        "JSON equality. A refusal must name the rule given (`rule`): spec/economics.md fixes it.",
    ),
    ("sync", "session"): HandlerDoc(
        "State sync from peers: manifests and chunks, valid and corrupt, with each verdict",
        "sync.new, then sync.poll until the sync concludes, sync.outcome, sync.get",
        '`root` (trusted), `prefix_bits`, `peers`: per peer `{"manifest": ITEM, "chunks": '
        '{PREFIX: ITEM}}` where ITEM is `{"data": HEX, "verdict": "valid" | RULE}` or '
        '`{"error": "unavailable"}`; `read_back`: keys to read after a completed sync. The '
        "runner plays the peers: it answers each request of `poll` from these items (a part a "
        "peer lacks is unavailable), the answers to one poll going with the next.",
        '`{"result": {"state", "rule", "root", "keys", ...}}`; a completed sync adds '
        "`rejection_problems` (empty) and `read_back` (the answer of `sync.get` for the input's "
        "`read_back` keys); a failed sync adds `unasked` (empty).",
        "`rejection_problems`: the runner compares the rejections `sync.outcome` reports with "
        "the items it served: every item with a rule as verdict must be reported under that "
        "rule, no valid item may be. `unasked`: for a failed sync, each peer must have been "
        "asked for each item no peer served validly. Which peer you ask first is yours, so these "
        "are computed, then the whole is compared with JSON equality.",
    ),
    ("history", "verify"): HandlerDoc(
        "Verifying a presented history",
        "history.verify",
        "`genesis`, `validator_set`, `history` (conformance/WIRE.md).",
        '`{"result": {"accepted": true, "height", "root"}}` or `{"result": {"accepted": false, '
        '"height"}}`: the first height that does not verify.',
        "JSON equality after dropping `rule` and `reason` from a refusal verdict (informative).",
    ),
    ("history", "choose"): _function(
        "Choosing between two histories",
        "history.choose",
        "`genesis`, `validator_set`, `first`, `second`",
        "`{chosen, conflict}`",
    ),
    ("monitoring", "accuracy_alerts"): _function(
        "Verification accuracy alerts",
        "monitoring.accuracy_alerts",
        "`verdicts`: `[{validator, correct}]`",
        "the alerts raised, `[{index, validator, correct, verdicts}]`",
    ),
}
