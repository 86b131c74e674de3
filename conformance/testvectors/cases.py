"""The generated vectors: their inputs and how each handler runs on an implementation.

:data:`HANDLERS` maps ``(runner, handler)`` to a function of the implementation and the input
that returns the outcome (``{"result": ...}`` or ``{"reject": true}``); verifiers answering
``false`` count as rejecting. :func:`iter_cases` yields every case to generate. Inputs are fixed
or drawn from seeded RNGs, so generation is deterministic.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

from aethel.encoding import Domain
from conformance.adapters.api import Implementation
from conformance.adapters.errors import Rejected
from conformance.testvectors.model import outcome

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
    ("replica", "timeout"): _function("replica", "timeout"),
}


def _nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


def _encoding_cases() -> Iterator[Case]:
    values: list[tuple[str, tuple[str, ...], Any]] = [
        ("empty-object", ("E1",), {}),
        ("sorted-members", ("E1",), {"b": 1, "a": [True, None, "x"]}),
        ("escapes", ("E1",), {"s": '"\\\n\t\x01\x7f\u2028'}),
        ("utf16-member-order", ("E1",), {"\ue000": 1, "\U0001f600": 2, "a": 0}),
        ("int-range", ("E2",), [-(2**63), 2**63 - 1, 0, -1]),
        ("non-ascii", ("E1", "E3"), {"memo": "h\u00e9llo \u20ac \U0001f600"}),
        ("deepest-nesting", ("E4",), _nested(64)),
        ("float", ("E2",), 1.5),
        ("integral-float", ("E2",), 2.0),
        ("above-range", ("E2",), 2**63),
        ("non-nfc", ("E3",), "e\u0301"),
        ("lone-surrogate", ("E3",), "\ud800"),
        ("too-deep", ("E4",), _nested(65)),
    ]
    for name, rules, value in values:
        yield ("encoding", "canonical_json", name, rules, {"value": value})
        if name in ("empty-object", "sorted-members", "non-ascii", "int-range"):
            yield ("encoding", "hash_object", name, ("E6", "N1"), {"value": value})
    raw: list[tuple[str, tuple[str, ...], bytes]] = [
        ("canonical", ("E4",), b'{"a":[1,"x",null],"b":{}}'),
        ("whitespace", ("E4",), b'{"a": 1}'),
        ("member-order", ("E1", "E4"), b'{"b":1,"a":2}'),
        ("duplicate-member", ("E4",), b'{"a":1,"a":1}'),
        ("fraction", ("E2",), b"1.5"),
        ("exponent", ("E2",), b"1e3"),
        ("negative-zero", ("E2",), b"-0"),
        ("out-of-range", ("E2",), b"9223372036854775808"),
        ("trailing-data", ("E4",), b"{}{}"),
        ("byte-order-mark", ("E4",), b"\xef\xbb\xbf{}"),
        ("non-nfc", ("E3",), '"e\u0301"'.encode()),
        ("invalid-utf8", ("E4",), b'"\xff"'),
        ("lone-surrogate", ("E3",), b'"\\ud800"'),
        ("unneeded-escape", ("E1", "E4"), b'"\\u0041"'),
    ]
    for name, rules, data in raw:
        yield ("encoding", "parse_canonical_json", name, rules, {"data": data.hex()})
    seed = bytes(range(32)).hex()
    body = {"amount": 7, "nonce": 1, "receiver": "bob", "sender": "alice"}
    for domain in Domain:
        yield (
            "encoding",
            "sign",
            domain.name.lower().replace("_", "-"),
            ("E7",),
            {"seed": seed, "domain": domain.value, "value": body},
        )


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


def _state_tree_cases() -> Iterator[Case]:
    rng = random.Random(6)
    for size in (0, 1, 2, 3, 10, 100):
        ops = [
            {"op": "set", "key": f"account:{i}", "value": {"balance": rng.randrange(10**6)}}
            for i in range(size)
        ]
        yield ("state-tree", "root_after_batch", f"accounts-{size}", ("E8",), {"ops": ops})
        if size:
            yield (
                "state-tree",
                "prove",
                f"present-in-{size}",
                ("E9",),
                {"ops": ops, "key": "account:0"},
            )
        yield ("state-tree", "prove", f"absent-in-{size}", ("E9",), {"ops": ops, "key": "missing"})
    batch: list[dict[str, object]] = [
        {"op": "set", "key": "a", "value": 1},
        {"op": "set", "key": "b", "value": 2},
        {"op": "delete", "key": "a"},
        {"op": "set", "key": "b", "value": 3},
    ]
    yield ("state-tree", "root_after_batch", "last-write-wins", ("T22.1a",), {"ops": batch})
    yield (
        "state-tree",
        "root_after_batch",
        "non-nfc-key",
        ("E3", "E8"),
        {"ops": [{"op": "set", "key": "e\u0301", "value": 1}]},
    )


def _economics_cases() -> Iterator[Case]:
    for d in (0, 1, 12_345):
        yield ("economics", "proof_reward", f"difficulty-{d}", ("R1.2",), {"difficulty": d})
    for d in (0, 499_999, 500_000, 10**12):
        yield ("economics", "block_reward", f"total-{d}", ("R4.4",), {"total_difficulty": d})
    for h in (0, 1, 1000):
        yield ("economics", "emission_limit", f"height-{h}", ("P20",), {"height": h})
    three = {"a": 1, "b": 1, "c": 1}
    yield (
        "economics",
        "reward_split",
        "three-members",
        ("P3",),
        {"reward": 1000, "member_stakes": three, "proposer": "b"},
    )
    yield (
        "economics",
        "reward_split",
        "proposer-outside",
        ("P3",),
        {"reward": 10, "member_stakes": {"a": 3, "b": 4}, "proposer": "p"},
    )
    yield (
        "economics",
        "reward_split",
        "empty-certificate",
        ("P3",),
        {"reward": 10, "member_stakes": {}, "proposer": "p"},
    )
    for offence in ("false-claim", "equivocation"):
        for stake in (99, 10_000, 123_456_789):
            yield (
                "economics",
                "slash_amount",
                f"{offence}-{stake}",
                ("R4.2",),
                {"stake": stake, "offence": offence},
            )
    yield (
        "economics",
        "slash_amount",
        "offline-is-no-offence",
        ("R4.2",),
        {"stake": 10_000, "offence": "offline"},
    )


def _replica_cases() -> Iterator[Case]:
    for latency_ms in (0, 501, 2_000, 60_000):
        for view in (0, 3, 9):
            yield (
                "replica",
                "timeout",
                f"latency-{latency_ms}ms-view-{view}",
                ("P26",),
                {"observed_latency_ns": latency_ms * 1_000_000, "view": view},
            )


def iter_cases() -> Iterator[Case]:
    """Yield every case to generate, in a stable order."""
    yield from _encoding_cases()
    yield from _list_hash_cases()
    yield from _state_tree_cases()
    yield from _economics_cases()
    yield from _replica_cases()
