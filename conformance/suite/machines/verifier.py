"""Verifier machine: cache coherence and determinism of effort.

The model is a table of expected verdicts per proof template (valid, wrong outcome, forbidden
command, parse error, budget exhausted) and, per exact proof (id and signature), the first result
the implementation gave. The machine verifies proofs one at a time through a node's cache, as a
block (sequentially or in parallel), with a fresh verifier that has never seen them, and with a
flipped signature bit; it checks that:

* every result has the template's verdict and a reason the spec allows, and its difficulty is
  compute_difficulty(effort, size) for a valid proof and 0 otherwise (R1.4, R1.2);
* every later result for the same proof equals the first one field by field: effort is a
  function of the proof alone, cached or not, parallel or not, in a fresh verifier or not (R1.4);
* a proof whose signature differs from a cached one's is never served that result (T22.2d, R7.5);
* cache statistics are true: each single verification is one lookup, an immediate repeat is a
  hit, the size never exceeds the maximum (T22.2d).

Spec: R1.4, R1.5, R7.5, T22.2a, T22.2d, P5, P30.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from aethel.encoding import KeyPair, canonical_json, sha256
from aethel.proofs.difficulty import compute_difficulty
from aethel.proofs.judge import generate_standard_mix
from aethel.proofs.model import Outcome, ProofKind, sign_proof
from conformance.adapters.api import VerifierAPI
from conformance.suite.machines.common import ModelMismatch

JSON = Any


@dataclass(frozen=True, slots=True)
class Template:
    """An SMT obligation, the outcome claimed for it, a budget, and the verdict it must get."""

    name: str
    smt: str
    claimed: Outcome
    budget: int
    verdict: str
    #: The reasons the spec allows for this template's verdict (one, except for text errors,
    #: where the reference is finer than spec/proofs.md's list).
    reasons: frozenset[str | None]


TEXT_REJECTED = frozenset({"parse-error", "forbidden-construct"})

TEMPLATES = (
    Template(
        "holds",
        "(declare-const x Int)(assert (> x 5))(assert (< x 3))",
        Outcome.UNSAT,
        100_000,
        "valid",
        frozenset({None}),
    ),
    Template(
        "satisfiable, claimed sat",
        "(declare-const x Int)(assert (> x 5))",
        Outcome.SAT,
        100_000,
        "valid",
        frozenset({None}),
    ),
    Template(
        "transfer conservation",
        "(declare-const a Int)(declare-const b Int)(declare-const m Int)"
        "(assert (and (>= a m) (>= m 1) (>= b 0)))"
        "(assert (not (= (+ (- a m) (+ b m)) (+ a b))))",
        Outcome.UNSAT,
        100_000,
        "valid",
        frozenset({None}),
    ),
    Template(
        "false claim",
        "(declare-const x Int)(assert (> x 5))",
        Outcome.UNSAT,
        100_000,
        "invalid",
        frozenset({"wrong-outcome"}),
    ),
    Template(
        "forbidden command",
        "(declare-const x Int)(check-sat)",
        Outcome.UNSAT,
        100_000,
        "invalid",
        frozenset({"forbidden-command"}),
    ),
    Template(
        "undeclared symbol", "(assert (> y 1))", Outcome.UNSAT, 100_000, "invalid", TEXT_REJECTED
    ),
    Template(
        "budget exhausted",
        "(declare-const x Int)(declare-const y Int)(declare-const z Int)"
        "(assert (= (+ (* x x x) (* y y y) (* z z z)) 33))",
        Outcome.UNSAT,
        2_000,
        "unknown",
        frozenset({None}),
    ),
)
KEYS = tuple(KeyPair.from_seed(bytes([i]) * 32) for i in (1, 2))
JUDGE_PROOFS = 4


@dataclass(frozen=True, slots=True)
class Entry:
    """A proof of the pool and the verdict (and reason) it must get."""

    name: str
    verdict: str
    reasons: frozenset[str | None]
    proof: JSON


def _proof_pool() -> list[Entry]:
    pool = []
    for template in TEMPLATES:
        for key in KEYS:
            proof = sign_proof(
                key,
                kind=ProofKind.GENERIC,
                smt=template.smt,
                claimed=template.claimed,
                budget=template.budget,
            )
            pool.append(Entry(template.name, template.verdict, template.reasons, proof.to_json()))
    # Real judge proofs (transfer obligations of ~600 bytes): large enough that an effort
    # measurement that depends on solver history shows it.
    for proof in generate_standard_mix(JUDGE_PROOFS, seed=7):
        pool.append(Entry(f"judge {proof.kind.value}", "valid", frozenset({None}), proof.to_json()))
    return pool


POOL = _proof_pool()
pool_indices = st.integers(0, len(POOL) - 1)


def flip_signature(proof: JSON) -> JSON:
    """Return ``proof`` with the last bit of its signature flipped (same id, bad signature)."""
    signature = bytearray(bytes.fromhex(proof["signature"]))
    signature[-1] ^= 1
    return dict(proof, signature=signature.hex())


def proof_id(proof: JSON) -> str:
    """Return the proof id of E6: SHA-256 of the canonical proof without its signature."""
    body = {name: value for name, value in proof.items() if name != "signature"}
    return sha256(canonical_json(body)).hex()


def _identity(proof: JSON) -> bytes:
    return canonical_json(proof)


class VerifierMachine(RuleBasedStateMachine):
    """Drive one node's verifier (and fresh ones) beside a table of expected results."""

    api_factory: ClassVar[Callable[[], VerifierAPI]]

    def __init__(self) -> None:
        super().__init__()
        self.api = type(self).api_factory()
        self.verifier = self.api.new()
        self.first_result: dict[bytes, JSON] = {}
        self.lookups = 0

    def _check(self, entry: Entry, proof: JSON, result: JSON, tampered: bool = False) -> None:
        verdict, reasons = (entry.verdict, entry.reasons)
        if tampered:
            verdict, reasons = "invalid", frozenset({"bad-signature"})
        if result["verdict"] != verdict or result["reason"] not in reasons:
            expected = f"{verdict}/{'|'.join(sorted(map(str, reasons)))}"
            raise ModelMismatch(
                "P30 R1.5 R7.5",
                f"{entry.name}{' (bad signature)' if tampered else ''}: got "
                f"{result['verdict']}/{result['reason']}, expected {expected}",
            )
        expected_difficulty = (
            compute_difficulty(result["effort"], result["size"]) if verdict == "valid" else 0
        )
        if result["difficulty"] != expected_difficulty:
            raise ModelMismatch(
                "R1.4", f"{entry.name}: difficulty {result['difficulty']} for {result}"
            )
        if result["proof_id"] != proof_id(proof):
            raise ModelMismatch("E6 T22.2a", f"{entry.name}: result of another proof {result}")
        first = self.first_result.setdefault(_identity(proof), result)
        if first != result:
            raise ModelMismatch(
                "R1.4 T22.2d",
                f"{entry.name}: result changed between verifications: {first} then {result}",
            )

    @rule(index=pool_indices)
    def verify_one(self, index: int) -> None:
        entry = POOL[index]
        proof = entry.proof
        self.lookups += 1
        self._check(entry, proof, self.verifier.verify(proof))

    @rule(index=pool_indices)
    def verify_twice(self, index: int) -> None:
        entry = POOL[index]
        proof = entry.proof
        self.verifier.verify(proof)
        hits = self.verifier.cache_stats()["hits"]
        result = self.verifier.verify(proof)
        self.lookups += 2
        if self.verifier.cache_stats()["hits"] != hits + 1:
            raise ModelMismatch("T22.2d", f"re-verifying {entry.name} at once was not a hit")
        self._check(entry, proof, result)

    @rule(index=pool_indices)
    def verify_with_bad_signature(self, index: int) -> None:
        entry = POOL[index]
        proof = entry.proof
        self.lookups += 1
        self._check(
            entry, flip_signature(proof), self.verifier.verify(flip_signature(proof)), tampered=True
        )

    @rule(index=pool_indices)
    def verify_in_a_fresh_verifier(self, index: int) -> None:
        entry = POOL[index]
        proof = entry.proof
        self._check(entry, proof, self.api.new().verify(proof))

    @rule(index=pool_indices)
    def verify_without_cache(self, index: int) -> None:
        entry = POOL[index]
        self._check(entry, entry.proof, self.api.verify_proof(entry.proof))

    @rule(indices=st.lists(pool_indices, min_size=1, max_size=6), parallel=st.booleans())
    def verify_block(self, indices: list[int], parallel: bool) -> None:
        proofs = [POOL[i].proof for i in indices]
        results = self.api.verify_block(proofs, parallel)
        if len(results) != len(proofs):
            raise ModelMismatch("R1.1 T22.2a", f"{len(proofs)} proofs gave {len(results)} results")
        for index, result in zip(indices, results, strict=True):
            entry = POOL[index]
            self._check(entry, entry.proof, result)

    @invariant()
    def cache_statistics_are_true(self) -> None:
        stats = self.verifier.cache_stats()
        if stats["size"] > stats["max_size"]:
            raise ModelMismatch("T22.2d", f"cache holds {stats['size']} > max {stats['max_size']}")
        # Blocks look proofs up too, so the statistics may count more than the single calls.
        if stats["hits"] + stats["misses"] < self.lookups:
            raise ModelMismatch(
                "T22.2d",
                f"{self.lookups} lookups made, statistics count {stats['hits'] + stats['misses']}",
            )


def make_verifier_machine(
    factory: Callable[[], VerifierAPI], name: str = "reference"
) -> type[VerifierMachine]:
    """Return a verifier machine class bound to ``factory`` (the capability under test)."""
    return type(
        f"VerifierMachine[{name}]", (VerifierMachine,), {"api_factory": staticmethod(factory)}
    )
