"""Mempool sequences: arrivals in; admissions, refusals with their rule, block order and
evictions out (vectors under ``mempool/sequence/``; importable by the suite).

A case creates one mempool (``mempool.new`` with a capacity and the judge's seed) and makes a
list of calls: ``add_proof``, ``add_transaction`` (with the sender's balance and next nonce),
``select_for_block``, ``remove_committed`` and ``stats``. The outcome of each call is recorded:
its result, or ``{"reject": true, "rule": ID}`` for a refusal (spec/proofs.md fixes the rule of
each refusal: R5.5 a bad signature, R7.1 nonce order and conflicts, N6 a full mempool).
``stats`` is compared without ``processing_rate`` (a rate over wall-clock time).

The scenarios are those of the suite's mempool cases (conformance/suite/test_mempool.py):
block order with ties, conflicts, nonce order, judge proofs, signatures first, a full mempool,
an evicted judge proof taking its transfer along, commits and counters.

Spec: R5.1, R5.5, R6.3, R7.1, R8.2, N3, N6, P21, P23, P25, P30, P33.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterator
from typing import Any

from aethel.encoding import Domain, KeyPair
from aethel.proofs.judge import generate_standard_mix
from aethel.proofs.model import proof_from_json, sign_transfer, transfer_from_json
from aethel.proofs.verifier import verify_proof
from conformance.adapters.api import Implementation
from conformance.adapters.errors import Rejected

#: (case, rules, input).
MempoolCase = tuple[str, tuple[str, ...], dict[str, Any]]

JUDGE_SEED = bytes([7] * 32)
ALICE, BOB, CAROL = (KeyPair.from_seed(bytes([i] * 32)) for i in (11, 12, 13))
#: Counters of ``stats`` that a sequence compares (``processing_rate`` is wall-clock).
STATS = ("size", "transactions", "capacity", "admitted", "rejected", "evicted", "committed")

#: Conflicts of ALICE (balance 100, nonce 0): her pending transfers (amount, nonce), the new one,
#: and which of her pending nonces stay. A double spend removes the pending transfer of that nonce
#: and her later ones; an overdraft removes all of hers; the new one is refused either way (R7.1).
CONFLICTS: dict[str, tuple[list[tuple[int, int]], tuple[int, int], list[int]]] = {
    "same-nonce": ([(60, 0)], (30, 0), []),
    "overdraft": ([(60, 0)], (50, 1), []),
    "same-nonce-with-successors": ([(10, 0), (10, 1), (10, 2)], (20, 1), [0]),
    "overdraft-of-several": ([(30, 0), (30, 1)], (50, 2), []),
}


def transfer(sender: KeyPair, receiver: KeyPair, amount: int, nonce: int) -> dict[str, Any]:
    """Return a signed transfer in its canonical JSON form."""
    return sign_transfer(sender, receiver=receiver.public_key, amount=amount, nonce=nonce).to_json()


def nonce_cases() -> dict[str, tuple[list[dict[str, Any]], tuple[int, int], dict[str, Any]]]:
    """Return the out-of-order nonces of ALICE by case: her transfers admitted first, her account
    (balance, next nonce) and the transfer refused naming R7.1 (a nonce that skips one, or one
    the account already used)."""
    return {
        "skips-the-first": ([], (100, 0), transfer(ALICE, BOB, 5, 1)),
        "skips-after-pending": ([transfer(ALICE, BOB, 5, 0)], (100, 0), transfer(ALICE, BOB, 5, 2)),
        "already-used": ([], (100, 3), transfer(ALICE, BOB, 5, 2)),
    }


def signed_transfer_as_sent(**members: Any) -> dict[str, Any]:
    """Return ALICE's 5-unit transfer to BOB (nonce 0) with ``members`` changed (a value of
    ``None`` removes the member), signed by ALICE over the members as sent (E7)."""
    body = {k: v for k, v in transfer(ALICE, BOB, 5, 0).items() if k != "signature"}
    body = {k: v for k, v in {**body, **members}.items() if v is not None}
    return {**body, "signature": ALICE.sign(Domain.TRANSACTION, body).hex()}


#: case -> (the rule spec/encoding.md's table names, the transfer): each is ALICE's transfer to
#: BOB changed in one member and signed as sent, so only its form is wrong (spec/economics.md:
#: two different accounts, an amount of at least 1, a nonce of at least 0).
MALFORMED_TRANSFERS: dict[str, tuple[str, dict[str, Any]]] = {
    "receiver-is-the-sender": (
        "E12",
        signed_transfer_as_sent(receiver=ALICE.public_key.hex()),
    ),
    "amount-zero": ("E2", signed_transfer_as_sent(amount=0)),
    "amount-negative": ("E2", signed_transfer_as_sent(amount=-5)),
    "amount-a-string": ("E12", signed_transfer_as_sent(amount="5")),
    "nonce-negative": ("E2", signed_transfer_as_sent(nonce=-1)),
    "nonce-true": ("E12", signed_transfer_as_sent(nonce=True)),
    "undefined-member": ("E12", signed_transfer_as_sent(memo="hello")),
    "receiver-missing": ("E12", signed_transfer_as_sent(receiver=None)),
    "sender-in-uppercase-hex": (
        "E5",
        signed_transfer_as_sent(sender=ALICE.public_key.hex().upper()),
    ),
    "receiver-of-31-bytes": ("E5", signed_transfer_as_sent(receiver="ab" * 31)),
}


def flipped(item: dict[str, Any]) -> dict[str, Any]:
    """Return ``item`` with one bit of its signature flipped."""
    bad = dict(item)
    signature = bytearray.fromhex(str(bad["signature"]))
    signature[7] ^= 2
    bad["signature"] = signature.hex()
    return bad


def proof_id(proof: dict[str, Any]) -> str:
    """Return the hex id of a proof in its JSON form."""
    return proof_from_json(proof).proof_id.hex()


def tx_id(tx: dict[str, Any]) -> str:
    """Return the hex id of a transfer in its JSON form."""
    return transfer_from_json(tx).transaction_id.hex()


def _call(name: str, **params: Any) -> dict[str, Any]:
    return {"call": name, "params": params}


def _add_tx(tx: dict[str, Any], balance: int = 100, nonce: int = 0) -> dict[str, Any]:
    return _call("add_transaction", transaction=tx, balance=balance, nonce=nonce)


def _sequence(capacity: int | None, calls: list[dict[str, Any]]) -> dict[str, Any]:
    return {"capacity": capacity, "judge_seed": JUDGE_SEED.hex(), "calls": calls}


@functools.cache
def ranked_proofs() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Return three standard proofs of the lowest difficulty and two of distinct higher ones."""
    low: list[dict[str, Any]] = []
    high: dict[int, dict[str, Any]] = {}
    for proof in generate_standard_mix(60, 21):
        difficulty = verify_proof(proof).difficulty
        if difficulty == 46 and len(low) < 3:
            low.append(proof.to_json())
        elif difficulty > 46:
            high.setdefault(difficulty, proof.to_json())
    if len(low) != 3 or len(high) < 2:
        raise ValueError("the standard mix of seed 21 must hold both kinds of proof")
    return low, [high[d] for d in sorted(high)[:2]]


def iter_mempool_cases() -> Iterator[MempoolCase]:
    """Yield every mempool sequence, in a stable order."""
    proofs = [p.to_json() for p in generate_standard_mix(40, 41)]
    random.Random(41).shuffle(proofs)
    calls = [_call("add_proof", proof=p) for p in proofs]
    calls += [_call("select_for_block", max_proofs=40), _call("stats")]
    yield "block-order-with-ties", ("R6.3", "P25"), _sequence(None, calls)

    for case, (pending, (amount, nonce), _) in sorted(CONFLICTS.items()):
        calls = [_add_tx(transfer(BOB, CAROL, 7, 0))]
        calls += [_add_tx(transfer(ALICE, BOB, a, n)) for a, n in pending]
        calls += [_add_tx(transfer(ALICE, CAROL, amount, nonce))]
        calls += [_call("select_for_block", max_proofs=10), _call("stats")]
        yield f"conflict-{case}", ("R7.1",), _sequence(None, calls)

    for case, (before, (balance, nonce), bad) in nonce_cases().items():
        calls = [_add_tx(transfer(BOB, CAROL, 7, 0))]
        calls += [_add_tx(tx, balance, nonce) for tx in before]
        calls += [_add_tx(bad, balance, nonce), _call("select_for_block", max_proofs=10)]
        yield f"nonce-{case}", ("R7.1",), _sequence(None, calls)

    judged = [
        _add_tx(transfer(ALICE, BOB, 10, 0)),
        _add_tx(transfer(ALICE, CAROL, 5, 1)),
        _add_tx(transfer(BOB, CAROL, 1, 0), 50, 0),
        _call("select_for_block", max_proofs=10),
    ]
    yield "judge-proofs", ("R5.1", "P21"), _sequence(None, judged)

    mix = [p.to_json() for p in generate_standard_mix(2, 21)]
    good, other = mix
    wrong_claim = dict(good, claimed="sat" if good["claimed"] == "unsat" else "unsat")
    genuine = transfer(ALICE, BOB, 10, 0)
    signatures = [
        _call("add_proof", proof=good),
        _call("add_proof", proof=flipped(other)),
        _call("add_proof", proof=flipped(good)),
        _call("add_proof", proof=wrong_claim),
        _add_tx(genuine),
        _add_tx(flipped(transfer(ALICE, CAROL, 20, 0))),
        _add_tx(flipped(transfer(BOB, CAROL, 5, 0))),
        _call("select_for_block", max_proofs=10),
        _call("stats"),
    ]
    yield "signatures-first", ("R5.5", "P23", "P30"), _sequence(None, signatures)

    (low_a, low_b, low_c), (high_x, high_y) = ranked_proofs()
    full = [
        _call("add_proof", proof=low_a),
        _call("add_proof", proof=high_x),
        _call("add_proof", proof=low_b),
        _call("add_proof", proof=low_c),
        _call("stats"),
        _call("add_proof", proof=high_y),
        _call("select_for_block", max_proofs=3),
        _call("stats"),
    ]
    yield "full-pool-eviction", ("N6", "R6.3", "R8.2"), _sequence(3, full)

    refuse_transfer = [
        _call("add_proof", proof=high_x),
        _call("add_proof", proof=high_y),
        _add_tx(transfer(ALICE, BOB, 5, 0)),
        _call("stats"),
    ]
    yield "full-pool-refuses-a-transfer", ("N6", "R5.1"), _sequence(2, refuse_transfer)

    evicted = [
        _add_tx(transfer(ALICE, BOB, 5, 0)),
        _call("add_proof", proof=high_x),
        _call("add_proof", proof=high_y),
        _call("select_for_block", max_proofs=5),
        _call("stats"),
    ]
    yield "evicted-judge-proof-takes-its-transfer", ("N6", "R7.1", "R8.2"), _sequence(2, evicted)

    twelve = [p.to_json() for p in generate_standard_mix(12, 33)]
    counted = [_call("add_proof", proof=p) for p in twelve[:10]]
    counted += [_call("add_proof", proof=twelve[0])]
    counted += [_call("add_proof", proof=flipped(p)) for p in twelve[10:]]
    counted += [
        _call("stats"),
        _call("remove_committed", proof_ids=[proof_id(twelve[0]), proof_id(twelve[1])],
              transaction_ids=[]),
        _call("remove_committed", proof_ids=[proof_id(twelve[0])], transaction_ids=[]),
        _call("select_for_block", max_proofs=20),
        _call("stats"),
    ]  # fmt: skip
    yield "commits-and-counters", ("R6.3", "R8.2", "P33"), _sequence(None, counted)


def run_sequence(impl: Implementation, data: dict[str, Any]) -> dict[str, Any]:
    """Run a mempool sequence on ``impl``; return ``{"result": [outcome of each call]}``."""
    pool = impl.api("mempool").new(data["capacity"], data["judge_seed"])
    outcomes: list[Any] = []
    try:
        for call in data["calls"]:
            try:
                result = getattr(pool, call["call"])(**call["params"])
            except Rejected as refusal:
                outcomes.append({"reject": True, "rule": refusal.rule_id})
                continue
            if call["call"] == "stats" and isinstance(result, dict):
                result = {k: result.get(k) for k in STATS}
            outcomes.append({"result": result})
    finally:
        getattr(pool, "close", lambda: None)()
    return {"result": outcomes}
