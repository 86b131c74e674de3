"""The state-tree cases with a deterministic answer: roots of batches, proofs, refused writes and
accepted edges (vectors under ``state-tree/``; importable by the suite).

Spec: E2, E3, E8, E9, T22.1a.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

#: (case, key, value, the rule a refusal names): a key is a non-empty NFC string of at most
#: 1,024 UTF-8 bytes (E8), a value is canonical JSON (E2, E3); spec/state-tree.md.
REFUSED_WRITES: list[tuple[str, str, Any, str]] = [
    ("non-nfc-key", "e\u0301", 1, "E8"),
    ("empty-key", "", 1, "E8"),
    ("key-of-1025-bytes", "k" * 1_025, 1, "E8"),
    ("key-with-lone-surrogate", "k\ud800", 1, "E8"),
    ("float-value", "k", 1.5, "E2"),
    ("integral-float-value", "k", 1.0, "E2"),
    ("value-2-to-the-63", "k", 2**63, "E2"),
    ("value-below-minus-2-to-the-63", "k", -(2**63) - 1, "E2"),
    ("huge-value", "k", 10**30, "E2"),
    ("huge-value-in-an-object", "k", {"balance": 2**64}, "E2"),
    ("non-nfc-string-value", "k", "e\u0301", "E3"),
]

#: Keys and values at the edges of what a state tree accepts (spec/state-tree.md, E2, E3).
ACCEPTED_EDGES: dict[str, tuple[str, Any]] = {
    "zero": ("balance:zero", 0),
    "two-to-the-63-minus-1": ("balance:max", 2**63 - 1),
    "minus-one": ("balance:minus-one", -1),
    "minus-two-to-the-63": ("balance:min", -(2**63)),
    "largest-in-an-object": ("stake:max", {"bonded": 2**63 - 1, "since": -(2**63)}),
    "key-of-1024-bytes": ("k" * 1_024, 1),
    "key-of-one-character": ("k", 1),
    "non-ascii-nfc-key": ("cl\u00e9:\u00e9\U0001d504", 1),
}

#: (runner, handler, case, rules, input) as :mod:`conformance.testvectors.cases` yields.
Case = tuple[str, str, str, tuple[str, ...], dict[str, Any]]


def _set(key: str, value: Any) -> dict[str, Any]:
    return {"op": "set", "key": key, "value": value}


def iter_state_tree_cases() -> Iterator[Case]:
    """Yield every state-tree case, in a stable order."""
    rng = random.Random(6)
    for size in (0, 1, 2, 3, 10, 100):
        ops = [_set(f"account:{i}", {"balance": rng.randrange(10**6)}) for i in range(size)]
        yield ("state-tree", "root_after_batch", f"accounts-{size}", ("E8",), {"ops": ops})
        if size:
            data = {"ops": ops, "key": "account:0"}
            yield ("state-tree", "prove", f"present-in-{size}", ("E9",), data)
        yield ("state-tree", "prove", f"absent-in-{size}", ("E9",), {"ops": ops, "key": "missing"})
    batch: list[dict[str, object]] = [
        _set("a", 1),
        _set("b", 2),
        {"op": "delete", "key": "a"},
        _set("b", 3),
    ]
    yield ("state-tree", "root_after_batch", "last-write-wins", ("T22.1a",), {"ops": batch})
    for case, key, value, rule in REFUSED_WRITES:
        ops = [_set("a", 1), _set(key, value)]
        yield ("state-tree", "root_after_batch", f"refused-{case}", (rule, "T22.1a"), {"ops": ops})
    for case, (key, value) in ACCEPTED_EDGES.items():
        ops = [_set("other", 5), _set(key, value)]
        yield ("state-tree", "root_after_batch", f"edge-{case}", ("E8", "E2"), {"ops": ops})
        yield ("state-tree", "prove", f"edge-{case}", ("E9", "E2"), {"ops": ops, "key": key})
