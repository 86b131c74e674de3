"""Which rules the vectors check, and why the others are left to live cases (the tables of the
vectors README).

A vector fixes an input and the one answer a conforming implementation gives. Rules whose check
is a measurement (time, rate, size growth), a property of whole runs of mixed clusters, a search
over generated inputs, a proof over unbounded integers, or a secret that must never appear have
no such answer; the suite checks them live (``aethel-conformance run``). Each rule the vectors
leave out gets its reason here; a test fails when a catalog rule is neither covered nor given one.

Spec: every rule of spec/catalog.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from aethel.catalog import Catalog, load_catalog, rule_sort_key
from conformance.testvectors.model import Vector

CLUSTER = (
    "a property of whole runs: the implementation's replicas beside reference and Byzantine ones "
    "in the seeded simulator (faults, partitions, Byzantine stake below W/3), judged by the "
    "checkers over every trace; no single input has a fixed answer"
)
SCALE = "a measured time or rate at scale (1,000 to 10,000 validators, or a benchmark)"
MACHINERY = (
    "counters, caches and parallel speed-ups of the implementation's own machinery, measured "
    "through the adapter"
)
INVARIANT = (
    "an invariant proved with Z3 over unbounded integers (`aethel prove`), with a "
    "broken twin; not an input/output pair"
)
MONITORING = "node metrics and logs over a live mixed-cluster run"
GENERATED = "a property over generated inputs (Hypothesis), not a finite list of answers"

#: Why a rule without vectors is checked only live.
LIVE_REASONS: dict[str, str] = {
    **dict.fromkeys(
        ("R2.2", "R2.4", "R2.5", "R3.4", "R5.2", "R7.3", "R7.6", "P6", "P8", "P9", "P11"),
        CLUSTER,
    ),
    **dict.fromkeys(("P13", "P19", "P28", "P31", "P1"), CLUSTER),
    **dict.fromkeys(("R2.1", "R6.1", "R6.2", "R6.4", "N4", "N5", "P24"), SCALE),
    **dict.fromkeys(("T22.3", "T22.3.B1", "T22.3.B2", "T22.3.B3", "T22.3.B4", "T22.3.B5"), SCALE),
    **dict.fromkeys(("N3", "T22.1b", "T22.2a", "T22.2d", "T22.2e"), MACHINERY),
    **dict.fromkeys(("R8.1", "R8.4", "R8.6", "P32", "P35", "P36"), MONITORING),
    **dict.fromkeys(("I1", "I2", "I3", "I4", "I5", "I6", "I7", "I8", "I9", "I10"), INVARIANT),
    "R4.5": "the time from finalization to credit in a live run (10 s)",
    "P18": "the time from finalization to credit in a live run (10 s)",
    "R5.3": (
        "ghost proofs are signed with fresh one-time keys, so no answer is fixed; the suite "
        "scans every response and the standard error for the holder's secrets"
    ),
    "P22": "ghost secrets and unlinkability: scanned in every output of a live run",
    "R5.4": "durability: the implementation's process is killed and restarted mid-commit",
    "N2": "growth of proof size with the number of keys, measured over generated trees",
    "P2": GENERATED,
    **dict.fromkeys(
        ("V2.1", "V2.2", "V2.3", "V2.4", "V2.5", "V2.6", "V2.7", "V2.8", "V2.9", "V2.10", "V2.11"),
        "protocol version 2: the BLS known answers of `bls/known-answers/` (copied, run through "
        "capability `consensus-v2`) and the live cases of conformance/suite/test_consensus_v2.py "
        "(Ethereum's vectors, certificates, the collector); the replica's version 2 is to come",
    ),
}


def covered_rules(vectors: Iterable[Vector]) -> set[str]:
    """Return the rule IDs the vectors cite."""
    return {rule for vector in vectors for rule in vector.rules}


def live_rules(vectors: Iterable[Vector], catalog: Catalog | None = None) -> list[str]:
    """Return the catalog's rules no vector cites, in catalog order."""
    catalog = catalog or load_catalog()
    covered = covered_rules(vectors)
    return sorted((r for r in catalog.ids() if r not in covered), key=rule_sort_key)


def area_table(vectors: list[Vector], foreign: dict[str, int]) -> list[str]:
    """Return the Markdown rows of the per-area table (vectors, handlers, rules)."""
    counts = Counter(v.runner for v in vectors)
    handlers: dict[str, set[str]] = defaultdict(set)
    rules: dict[str, set[str]] = defaultdict(set)
    for vector in vectors:
        handlers[vector.runner].add(vector.handler)
        rules[vector.runner].update(vector.rules)
    rows = [
        "| area | vectors | handlers | rules checked |",
        "|---|---:|---|---|",
    ]
    for area in sorted(counts):
        listed = ", ".join(sorted(rules[area], key=rule_sort_key))
        rows.append(
            f"| `{area}` | {counts[area]} | {', '.join(sorted(handlers[area]))} | {listed} |"
        )
    for name, count in sorted(foreign.items()):
        rows.append(f"| `{name}` (copied) | {count} | see its README | see its README |")
    return rows


def live_table(vectors: list[Vector], catalog: Catalog | None = None) -> list[str]:
    """Return the Markdown rows of the table of rules left to live cases, by spec area."""
    catalog = catalog or load_catalog()
    by_area: dict[str, list[str]] = defaultdict(list)
    for rule in live_rules(vectors, catalog):
        by_area[catalog[rule].area].append(rule)
    rows = ["| spec area | rules left to live cases | why |", "|---|---|---|"]
    for area in sorted(by_area):
        reasons: dict[str, list[str]] = defaultdict(list)
        for rule in by_area[area]:
            reasons[LIVE_REASONS.get(rule, "not given (add a reason)")].append(rule)
        for reason, ids in reasons.items():
            rows.append(f"| {area} | {', '.join(ids)} | {reason} |")
    return rows


def missing_reasons(vectors: list[Vector], catalog: Catalog | None = None) -> list[str]:
    """Return the rules that neither a vector nor a live reason covers."""
    return [r for r in live_rules(vectors, catalog) if r not in LIVE_REASONS]
