"""Commands of the consensus capabilities: replica (R2, R6.5, R7: its pure rules and its sans-IO
core), history (R3.3, R7.4: verifying presented histories and choosing between them),
catch-up (R2.3, R3.1: adopting a synced state over the certified chain that leads to it),
vote-journal (R2.4, R5.4: a replica whose vote journal lives in a directory the harness chooses,
so that the harness can kill its process and open it again there), lost-journal (R2.4, R2.5:
a replica restarted without its vote journal) and lost-journal-on-disk (R2.4: the same replica
keeping its new journal in a directory, so that a further crash is tested too).
"""

from __future__ import annotations

from conformance.capabilities import Capability
from conformance.protocol.commands.model import (
    ANY,
    BOOL,
    HASH,
    INT,
    NAT,
    NULL,
    STR,
    Command,
    Schema,
    array,
    create,
    function,
    method,
    record,
)

REP = Capability.REPLICA
HIS = Capability.HISTORY
CAT = Capability.CATCH_UP
VJ = Capability.VOTE_JOURNAL
LJ = Capability.LOST_JOURNAL
LJD = Capability.LOST_JOURNAL_ON_DISK

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

REPLICA: tuple[Command, ...] = (
    # pure rules
    function(
        REP,
        "timeout",
        {"observed_latency_ns": INT, "view": INT},
        NAT,
        "Return the view timeout in ns for an observed one-way latency (R2.6, R6.5).",
    ),
    # the sans-IO core
    create(
        REP,
        "new",
        {"validator_set": ANY, "validator_id": STR, "seed": STR, "mode": STR, "genesis": ANY},
        "Create a replica of validator_id (Ed25519 seed) in the validator set (wire form), in "
        "dissemination mode 'broadcast' or 'collector', over the genesis ledger state.",
    ),
    method(
        REP,
        "offer",
        {"height": INT, "pre_root": STR, "transactions": array(ANY), "proofs": array(ANY)},
        NULL,
        "Hand the replica the transactions and proofs to propose at height on the state pre_root "
        "(its mempool's selection; the replica proposes nothing else).",
        mutates=True,
    ),
    method(REP, "start", {"now": INT}, OUTPUTS, "Start at virtual time now (ns).", mutates=True),
    method(
        REP,
        "on_message",
        {"message": ANY, "now": INT},
        OUTPUTS,
        "Process one received message (wire form).",
        mutates=True,
    ),
    method(
        REP,
        "on_timer",
        {"height": INT, "view": INT, "kind": STR, "now": INT},
        OUTPUTS,
        "Process an expired timer the replica set.",
        mutates=True,
    ),
    method(
        REP,
        "on_sync_completed",
        {"certificate": ANY, "block": ANY, "state": ANY, "now": INT},
        OUTPUTS,
        "Adopt the synced state the certificate vouches for (R3.1); reject a state "
        "whose root differs.",
        mutates=True,
    ),
    method(
        REP,
        "batch_process_messages",
        {"messages": array(ANY), "now": INT},
        OUTPUTS,
        "Process messages as one batch: exactly the outputs of one at a time (T22.2b).",
        mutates=True,
    ),
    method(
        REP,
        "status",
        {},
        record({"height": NAT, "view": NAT, "state_root": HASH}),
        "Return the current height, view and state root.",
    ),
    method(
        REP,
        "get_performance_stats",
        {},
        {"type": "object"},
        "Return the engine's counters (T22.2e).",
    ),
)

HISTORY: tuple[Command, ...] = (
    function(
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
    function(
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
)

CATCH_UP: tuple[Command, ...] = (
    method(
        CAT,
        "on_sync_completed_with_chain",
        {
            # Each item is {block, certificate}; malformed items are the implementation's to
            # reject (the suite sends some on purpose), so the schema does not refuse them.
            "links": array(ANY),
            "certificate": ANY,
            "block": ANY,
            "state": ANY,
            "now": INT,
        },
        OUTPUTS,
        "On a replica's handle: as replica.on_sync_completed, with the certified chain from the "
        "replica's height to the target: links holds the block and commit certificate (wire "
        "forms) of every height from the replica's current height to the certificate's height "
        "- 1, in order. Adopt the state only if every link extends the previous block and its "
        "certificate holds q(W) of the stake of its own height's validator set, each set derived "
        "from the one before by the slashing of that height's evidence (spec/consensus.md, "
        "'Catching up'); otherwise change nothing (R2.3, R3.1, R4.2, R4.3).",
        mutates=True,
        target=REP,
    ),
)

#: The parameters of a replica opened on a directory: replica.new's and the directory.
OPEN_ON_A_DIRECTORY: dict[str, Schema] = {
    "validator_set": ANY,
    "validator_id": STR,
    "seed": STR,
    "mode": STR,
    "genesis": ANY,
    "journal": STR,
}

VOTE_JOURNAL: tuple[Command, ...] = (
    create(
        VJ,
        "open",
        OPEN_ON_A_DIRECTORY,
        "As replica.new, a replica that keeps its vote journal (and whatever else it persists) "
        "in the directory journal, which the harness chooses (created if missing). Opened again "
        "on that directory, in a new process after the old one was killed with SIGKILL, it never "
        "signs a vote conflicting with one it signed there before (another block or root at the "
        "same height, view and phase; spec/consensus.md, 'a validator records each vote durably "
        "before sending it'). The object is a replica: the replica commands run on its handle.",
    ),
)

LOST_JOURNAL: tuple[Command, ...] = (
    create(
        LJ,
        "new",
        {
            "validator_set": ANY,
            "validator_id": STR,
            "seed": STR,
            "mode": STR,
            "genesis": ANY,
        },
        "As replica.new, a replica of a validator that restarted without its vote journal: it "
        "may have signed votes at heights it does not know. It first learns the peers' latest "
        "certified height h (the harness answers with on_sync_completed), signs nothing below "
        "h + 2 and, from h + 2 on, votes as any validator (spec/consensus.md, 'a validator that "
        "lost that record'). The object is a replica: the replica commands run on its handle.",
    ),
)

LOST_JOURNAL_ON_DISK: tuple[Command, ...] = (
    create(
        LJD,
        "open",
        OPEN_ON_A_DIRECTORY,
        "As lost-journal.new, a replica of a validator that restarted without its vote journal, "
        "keeping its new journal in the directory journal, as vote-journal.open does. What it "
        "learns is on disk too: opened again there with vote-journal.open (a further crash and a "
        "restart with the journal it kept since), it is as careful as before the crash: it signs "
        "nothing until it learns the peers' latest certified height if it had not learned it, and "
        "nothing below h + 2 if it had, and votes from h + 2 on without asking again "
        "(spec/consensus.md, 'it records this durably too').",
    ),
)

#: The capability of the objects a ``create`` command makes, where it is not the command's
#: own: ``vote-journal.open``, ``lost-journal.new`` and ``lost-journal-on-disk.open`` make
#: replicas, which answer the replica commands (and the catch-up commands that run on replicas)
#: on their handles.
OBJECT_CAPABILITY: dict[str, Capability] = {
    "vote-journal.open": REP,
    "lost-journal.new": REP,
    "lost-journal-on-disk.open": REP,
}

#: The commands of each capability of this module.
TABLE: dict[Capability, tuple[Command, ...]] = {
    REP: REPLICA,
    HIS: HISTORY,
    CAT: CATCH_UP,
    VJ: VOTE_JOURNAL,
    LJ: LOST_JOURNAL,
    LJD: LOST_JOURNAL_ON_DISK,
}
