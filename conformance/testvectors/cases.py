"""The generated vectors: their inputs and how each handler runs on an implementation.

:data:`HANDLERS` maps ``(runner, handler)`` to a function of the implementation and the input
that returns the outcome (``{"result": ...}`` or ``{"reject": true}``); verifiers answering
``false`` count as rejecting. :func:`iter_cases` yields every case to generate. Inputs are fixed
or drawn from seeded RNGs, so generation is deterministic.

The case definitions of each area live in one module that the suite can import as well (one
source, no second list): :mod:`.encoding_cases` (read by conformance/suite/test_encoding.py),
:mod:`.state_tree_cases`, :mod:`.verifier_cases`, :mod:`.mempool_cases`, :mod:`.store_cases`,
:mod:`.sync_cases` and :mod:`.trace_cases` (replayed by conformance/suite/test_replica_traces.py).
Stateful areas run a whole scenario per vector (a mempool sequence, a store sequence, a sync
session, a replica trace) and record one outcome for it.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterator
from typing import Any

from aethel.encoding import Domain, KeyPair
from conformance.adapters.api import Implementation
from conformance.adapters.errors import Rejected
from conformance.testvectors import history_cases, mempool_cases, store_cases, sync_cases
from conformance.testvectors.encoding_cases import (
    ENCODE_MUST_REJECT,
    KNOWN_ANSWERS,
    MORE_VALUES,
    PARSE_ACCEPT,
    PARSE_MUST_REJECT,
    SIGNED_BODY,
    SIGNING_SEED,
    malformed_hex,
)
from conformance.testvectors.model import outcome
from conformance.testvectors.state_tree_cases import iter_state_tree_cases
from conformance.testvectors.trace_cases import iter_trace_cases
from conformance.testvectors.traces import run_trace
from conformance.testvectors.verifier_cases import iter_verifier_cases

Case = tuple[str, str, str, tuple[str, ...], dict[str, Any]]
Handler = Callable[[Implementation, dict[str, Any]], dict[str, Any]]


def _function(runner: str, handler: str) -> Handler:
    def run(impl: Implementation, data: dict[str, Any]) -> dict[str, Any]:
        return outcome(lambda: getattr(impl.api(runner), handler)(**data))

    return run


def _verifier(runner: str, handler: str) -> Handler:
    def run(impl: Implementation, data: dict[str, Any]) -> dict[str, Any]:
        try:
            verdict = getattr(impl.api(runner), handler)(**data)
        except Rejected:
            return {"reject": True}
        if verdict is False:
            return {"reject": True}
        return {"result": verdict}

    return run


def _tree_root(impl: Implementation, data: dict[str, Any]) -> dict[str, Any]:
    tree = impl.api("state-tree").new(None)
    try:
        return outcome(lambda: tree.batch_update(data["ops"]))
    finally:
        getattr(tree, "close", lambda: None)()


def _tree_prove(impl: Implementation, data: dict[str, Any]) -> dict[str, Any]:
    tree = impl.api("state-tree").new(None)
    try:
        tree.batch_update(data["ops"])
        return outcome(lambda: tree.prove(data["key"]))
    finally:
        getattr(tree, "close", lambda: None)()


HANDLERS: dict[tuple[str, str], Handler] = {
    ("encoding", "canonical_json"): _function("encoding", "canonical_json"),
    ("encoding", "parse_canonical_json"): _function("encoding", "parse_canonical_json"),
    ("encoding", "hash_object"): _function("encoding", "hash_object"),
    ("encoding", "sign"): _function("encoding", "sign"),
    ("encoding", "public_key"): _function("encoding", "public_key"),
    ("encoding", "verify_signature"): _verifier("encoding", "verify_signature"),
    ("list-hash", "root"): _function("list-hash", "root"),
    ("list-hash", "prove_inclusion"): _function("list-hash", "prove_inclusion"),
    ("list-hash", "prove_consistency"): _function("list-hash", "prove_consistency"),
    ("state-tree", "root_after_batch"): _tree_root,
    ("state-tree", "prove"): _tree_prove,
    ("state-tree", "verify_proof"): _verifier("state-tree", "verify_proof"),
    ("economics", "proof_reward"): _function("economics", "proof_reward"),
    ("economics", "block_reward"): _function("economics", "block_reward"),
    ("economics", "emission_limit"): _function("economics", "emission_limit"),
    ("economics", "reward_split"): _function("economics", "reward_split"),
    ("economics", "slash_amount"): _function("economics", "slash_amount"),
    ("economics", "is_eligible_stake"): _function("economics", "is_eligible_stake"),
    ("replica", "timeout"): _function("replica", "timeout"),
    ("replica", "trace"): run_trace,
    ("verifier", "verify_proof"): _function("verifier", "verify_proof"),
    ("verifier", "difficulty"): _function("verifier", "difficulty"),
    ("mempool", "sequence"): mempool_cases.run_sequence,
    ("state-store", "sequence"): store_cases.run_sequence,
    ("sync", "session"): sync_cases.run_session,
    ("history", "verify"): history_cases.run_verify,
    ("history", "choose"): history_cases.run_choose,
    ("monitoring", "accuracy_alerts"): _function("monitoring", "accuracy_alerts"),
    ("verifier", "batch_verify_signatures"): _function("verifier", "batch_verify_signatures"),
}

#: What an oracle independent of the reference says of some cases: {(runner, handler, case):
#: check(expected) -> problem or None}. Generation fails when the reference disagrees.
Oracle = Callable[[dict[str, Any]], str | None]
ORACLES: dict[tuple[str, str, str], Oracle] = {}


def _equals(want: dict[str, Any]) -> Oracle:
    def check(got: dict[str, Any]) -> str | None:
        return None if got == want else f"the oracle says {want!r}"[:300]

    return check


def _reason(reason: str) -> Oracle:
    def check(got: dict[str, Any]) -> str | None:
        found = got.get("result", {}).get("reason")
        return None if found == reason else f"the grammar gives reason {reason}, not {found}"

    return check


#: Handlers whose vectors the suite replays in their own file, not conformance/suite/
#: test_vectors.py: replica traces (conformance/suite/test_replica_traces.py), which need the
#: capabilities their steps use.
OWN_SUITE_FILE = {("replica", "trace")}


def _encoding_cases() -> Iterator[Case]:
    known = {name for name, _, _ in KNOWN_ANSWERS}
    for name, value, expected in KNOWN_ANSWERS:
        ORACLES["encoding", "canonical_json", name] = _equals({"result": expected.hex()})
        ORACLES["encoding", "parse_canonical_json", name] = _equals({"result": value})
        digest = hashlib.sha256(expected).hexdigest()
        ORACLES["encoding", "hash_object", name] = _equals({"result": digest})
        yield ("encoding", "canonical_json", name, ("E1", "E2", "E3"), {"value": value})
    for name, rules, value in MORE_VALUES:
        yield ("encoding", "canonical_json", name, rules, {"value": value})
    for name, rules, value in ENCODE_MUST_REJECT:
        ORACLES["encoding", "canonical_json", f"reject-{name}"] = _equals({"reject": True})
        yield ("encoding", "canonical_json", f"reject-{name}", rules, {"value": value})
    for name, value, _ in KNOWN_ANSWERS:
        yield ("encoding", "hash_object", name, ("E6", "N1"), {"value": value})
    for name, _, expected in KNOWN_ANSWERS:
        data = {"data": expected.hex()}
        yield ("encoding", "parse_canonical_json", name, ("E1", "E4"), data)
    for name, rules, raw in PARSE_ACCEPT:
        if name not in known:
            yield ("encoding", "parse_canonical_json", name, rules, {"data": raw.hex()})
    for name, rules, raw in PARSE_MUST_REJECT:
        ORACLES["encoding", "parse_canonical_json", f"reject-{name}"] = _equals({"reject": True})
        data = {"data": raw.hex()}
        yield ("encoding", "parse_canonical_json", f"reject-{name}", rules, data)
    seed = SIGNING_SEED.hex()
    for domain in Domain:
        yield (
            "encoding",
            "sign",
            domain.name.lower().replace("_", "-"),
            ("E7",),
            {"seed": seed, "domain": domain.value, "value": SIGNED_BODY},
        )
    yield ("encoding", "public_key", "seed-0-to-31", ("E7", "N1"), {"seed": seed})
    key = KeyPair.from_seed(SIGNING_SEED)
    domain = Domain.TRANSACTION
    signature = key.sign(domain, SIGNED_BODY).hex()
    public = key.public_key.hex()
    verify: dict[str, Any] = {"public_key": public, "domain": domain.value, "value": SIGNED_BODY}
    yield ("encoding", "verify_signature", "valid", ("E7",), {**verify, "signature": signature})
    for name, change in malformed_hex(public, signature).items():
        data = {**verify, "signature": signature, **change}
        ORACLES["encoding", "verify_signature", name] = _equals({"reject": True})
        yield ("encoding", "verify_signature", name, ("E5", "E7"), data)


def _list_hash_cases() -> Iterator[Case]:
    for size in (0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 17):
        entries = [{"index": i} for i in range(size)]
        yield ("list-hash", "root", f"size-{size}", ("E10",), {"entries": entries})
        if size:
            yield (
                "list-hash",
                "prove_inclusion",
                f"size-{size}-last",
                ("E11",),
                {"entries": entries, "index": size - 1},
            )
        if size > 1:
            yield (
                "list-hash",
                "prove_consistency",
                f"size-{size}-from-1",
                ("E11",),
                {"entries": entries, "size1": 1},
            )


def _split(case: str, rules: tuple[str, ...], reward: int, stakes: dict[str, int], by: str) -> Case:
    data = {"reward": reward, "member_stakes": stakes, "proposer": by}
    return ("economics", "reward_split", case, rules, data)


def _economics_cases() -> Iterator[Case]:
    """The integer economics, with every edge spec/economics.md names: zero stake, a proposer
    outside the certificate, the block reward cap and the emission schedule, slashing down to
    (and below) the minimum stake."""
    for d in (0, 1, 12_345):
        yield ("economics", "proof_reward", f"difficulty-{d}", ("R1.2",), {"difficulty": d})
    for d in (0, 1, 499_999, 500_000, 500_001, 10**12, 2**63 - 1):
        yield ("economics", "block_reward", f"total-{d}", ("R4.4",), {"total_difficulty": d})
    for h in (0, 1, 1000, 1_844_674_407_370):
        yield ("economics", "emission_limit", f"height-{h}", ("P20", "R4.7"), {"height": h})
    yield _split("three-members", ("P3", "R1.3"), 1000, {"a": 1, "b": 1, "c": 1}, "b")
    yield _split("proposer-outside", ("P3", "R1.3"), 10, {"a": 3, "b": 4}, "p")
    yield _split("proposer-outside-no-remainder", ("P3", "R1.3"), 9, {"a": 3, "b": 6}, "p")
    yield _split("zero-stake-member", ("P3", "R1.3"), 10, {"a": 0, "b": 10}, "b")
    yield _split("every-stake-zero", ("R1.3",), 10, {"a": 0, "b": 0}, "b")
    yield _split("empty-certificate", ("P3", "R1.3"), 10, {}, "p")
    yield _split("zero-reward", ("P3", "R1.3"), 0, {"a": 5, "b": 7}, "a")
    stakes = (0, 99, 1_000, 1_052, 1_053, 1_250, 1_251, 10_000, 123_456_789)
    for offence in ("false-claim", "equivocation"):
        for stake in stakes:
            data = {"stake": stake, "offence": offence}
            yield ("economics", "slash_amount", f"{offence}-{stake}", ("R4.2",), data)
    yield (
        "economics",
        "slash_amount",
        "offline-is-no-offence",
        ("R4.2", "R4.6"),
        {"stake": 10_000, "offence": "offline"},
    )
    for stake in (0, 950, 999, 1_000, 1_001):
        yield (
            "economics",
            "is_eligible_stake",
            f"stake-{stake}",
            ("R4.3", "P17"),
            {"stake": stake},
        )


def _replica_cases() -> Iterator[Case]:
    for latency_ms in (0, 501, 2_000, 60_000):
        for view in (0, 3, 9):
            yield (
                "replica",
                "timeout",
                f"latency-{latency_ms}ms-view-{view}",
                ("P26", "R6.5"),
                {"observed_latency_ns": latency_ms * 1_000_000, "view": view},
            )


def _verifier_cases() -> Iterator[Case]:
    for name, rules, proof, reason in iter_verifier_cases():
        if reason is not None:
            ORACLES["verifier", "verify_proof", name] = _reason(reason)
        yield ("verifier", "verify_proof", name, rules, {"proof": proof})
    items, verdicts = signature_batch()
    ORACLES["verifier", "batch_verify_signatures", "forty-one-items"] = _equals(
        {"result": verdicts}
    )
    yield (
        "verifier",
        "batch_verify_signatures",
        "forty-one-items",
        ("T22.2c", "R7.5"),
        {"items": items},
    )
    for effort, size in ((0, 0), (0, 1), (41, 294), (1, 64), (1, 65), (10**9, 65_536)):
        data = {"effort": effort, "size": size}
        yield ("verifier", "difficulty", f"effort-{effort}-size-{size}", ("R1.4", "P4"), data)


def signature_batch() -> tuple[list[dict[str, str]], list[bool]]:
    """Return 41 signed items, every third one with a flipped bit, the second repeated at the
    end, and the verdict each must get (T22.2c)."""
    rng = random.Random(7)
    items, verdicts = [], []
    for index in range(40):
        key = KeyPair.from_seed(bytes([index + 1] * 32))
        message = rng.randbytes(48)
        signature = bytearray(key.sign_bytes(message))
        good = index % 3 != 0
        if not good:
            signature[index % 64] ^= 1
        items.append(
            {
                "public_key": key.public_key.hex(),
                "message": message.hex(),
                "signature": bytes(signature).hex(),
            }
        )
        verdicts.append(good)
    items.append(dict(items[1]))
    verdicts.append(verdicts[1])
    return items, verdicts


def accuracy_sequences() -> dict[str, list[tuple[str, bool]]]:
    """Return verdict sequences for the accuracy alert rule (R8.3: a window of 100 verdicts per
    validator, no alert before 20, an alert when the window falls below 95% correct).
    conformance/suite/test_monitoring.py sends them too."""
    return {
        "steady": [("v1", True)] * 150,
        "boundary": [("v1", True)] * 95 + [("v1", False)] * 5 + [("v1", False)],
        "early-wrong-verdicts": [("v1", False)] + [("v1", True)] * 18 + [("v1", False)]
        + [("v1", True)] * 10,
        "recovers-and-falls-again": [("v1", False)] * 21 + [("v1", True)] * 120
        + [("v1", False)] * 6,
        "below-back-as-errors-slide-out-below-again": [("v1", True)] * 100
        + [("v1", False)] * 6 + [("v1", True)] * 101 + [("v1", False)] * 6,
        "two-validators-interleaved": [("v1", True), ("v2", False)] * 30,
    }  # fmt: skip


def _stateful_cases() -> Iterator[Case]:
    for name, rules, data in mempool_cases.iter_mempool_cases():
        yield ("mempool", "sequence", name, rules, data)
    for name, rules, data in store_cases.iter_store_cases():
        yield ("state-store", "sequence", name, rules, data)
    for name, rules, data in sync_cases.iter_sync_cases():
        sync_cases.check_labels(data)
        yield ("sync", "session", name, rules, data)
    for handler, name, rules, data, expected in history_cases.iter_history_cases():
        ORACLES["history", handler, name] = _equals(expected)
        yield ("history", handler, name, rules, data)
    for name, verdicts in accuracy_sequences().items():
        data = {"verdicts": [{"validator": v, "correct": c} for v, c in verdicts]}
        yield ("monitoring", "accuracy_alerts", name, ("R8.3", "P34"), data)
    for name, rules, data in iter_trace_cases():
        yield ("replica", "trace", name, rules, data)


def iter_cases() -> Iterator[Case]:
    """Yield every case to generate, in a stable order."""
    yield from _encoding_cases()
    yield from _list_hash_cases()
    yield from iter_state_tree_cases()
    yield from _economics_cases()
    yield from _replica_cases()
    yield from _verifier_cases()
    yield from _stateful_cases()
