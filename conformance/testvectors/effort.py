"""Effort known answers per formula family (N7, R1.4): conformance/vectors/verifier/.

Effort is Z3's resource count under the verification procedure of spec/proofs.md, and it feeds
difficulty and rewards, so every conforming verifier must report exactly the same number. Which
Z3 build counts like the reference is the question these vectors answer for an implementer: the
same Z3 4.15.4 compiled to WebAssembly counts differently on integer division (N7). The cases:

* the **standard mix** (spec/proofs.md, "The judge"): transfers, batches of 4, 8 and 16
  transfers, reward splits over 8, 16 and 24 stakes, built by the judge from seeded states;
* **integer division**: obligations built around ``div`` and ``mod`` by constants (the
  quotient-remainder identity, remainder ranges, monotonicity, bounded quotients, fees in basis
  points, shares of a reward), the shapes where builds were seen to differ.

Every case is a valid proof (claimed ``unsat``, decided within its budget). ``effort.json``
holds, per case: ``case``, ``family``, ``rules``, ``input`` (``proof``: the signed proof object)
and ``expected`` (``verdict``, ``effort``, ``size``, ``difficulty``: the reference's result with
the pinned Z3). ``aethel-conformance vectors generate`` writes it from :func:`cases` and
``vectors check`` compares; ``conformance/suite/test_verifier_effort.py`` replays it;
``effort.mjs`` beside it recomputes the efforts with Z3 loaded from JavaScript.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aethel.encoding import KeyPair
from aethel.proofs.judge import BATCH_SIZES, SPLIT_SIZES, Account, Judge
from aethel.proofs.model import (
    Outcome,
    Proof,
    ProofKind,
    proof_from_json,
    sign_proof,
    sign_transfer,
)
from aethel.proofs.verifier import Verdict, verify_proof
from conformance.testvectors.model import VECTORS_DIR

DIRECTORY = VECTORS_DIR / "verifier"
VECTORS_FILE = DIRECTORY / "effort.json"
RULES = ("R1.4", "N7")
#: Proofs per family.
PER_FAMILY = 6
SUBMITTER = KeyPair.from_seed(bytes([23] * 32))


@dataclass(frozen=True, slots=True)
class EffortCase:
    """One proof of one family, and the result the pinned solver gives it."""

    case: str
    family: str
    proof: dict[str, Any]
    expected: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "family": self.family,
            "rules": list(RULES),
            "input": {"proof": self.proof},
            "expected": self.expected,
        }

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> EffortCase:
        return cls(record["case"], record["family"], record["input"]["proof"], record["expected"])


# --------------------------------------------------------------------------- the families


def _mix_families(rng: random.Random) -> Iterator[tuple[str, Proof]]:
    judge = Judge(KeyPair.generate(rng))
    keys = [KeyPair.generate(rng) for _ in range(32)]
    accounts = {k.public_key: Account(rng.randrange(10_000, 10**9), 0) for k in keys}

    def transfers(count: int) -> list[Any]:
        made = []
        for index in range(count):
            sender, receiver = keys[index], keys[(index + 1 + rng.randrange(30)) % 32]
            if receiver == sender:
                receiver = keys[(index + 31) % 32]
            amount = rng.randrange(1, accounts[sender.public_key].balance // count)
            made.append(sign_transfer(sender, receiver=receiver.public_key, amount=amount, nonce=0))
        return made

    for _ in range(PER_FAMILY):
        tx = transfers(1)[0]
        yield "transfer", judge.prove_transfer(tx, accounts[tx.sender].balance, 0)
    for size in BATCH_SIZES:
        for _ in range(PER_FAMILY):
            yield f"batch-of-{size}", judge.prove_batch(transfers(size), accounts)
    for size in SPLIT_SIZES:
        for _ in range(PER_FAMILY):
            stakes = [rng.randrange(1, 10**6) for _ in range(size)]
            yield f"reward-split-of-{size}", judge.prove_reward_split(stakes, rng.randrange(10**15))


def _division_texts(rng: random.Random) -> Iterator[tuple[str, str]]:
    """Obligations around div and mod by constants, each unsat."""
    for _ in range(PER_FAMILY):
        k = rng.randrange(2, 10**6)
        yield (
            "div-mod-identity",
            (f"(declare-const x Int)(assert (not (= x (+ (* {k} (div x {k})) (mod x {k})))))"),
        )
    for _ in range(PER_FAMILY):
        k = rng.randrange(2, 10**6)
        yield (
            "mod-range",
            (f"(declare-const x Int)(assert (or (< (mod x {k}) 0) (>= (mod x {k}) {k})))"),
        )
    for _ in range(PER_FAMILY):
        k = rng.randrange(2, 10**4)
        yield (
            "div-monotone",
            (
                "(declare-const x Int)(declare-const y Int)"
                f"(assert (<= x y))(assert (> (div x {k}) (div y {k})))"
            ),
        )
    for _ in range(PER_FAMILY):
        k, n = rng.randrange(2, 1000), rng.randrange(10**3, 10**9)
        yield (
            "bounded-quotient",
            (
                "(declare-const x Int)"
                f"(assert (and (>= x 0) (< x {n})))(assert (> (div x {k}) {n // k}))"
            ),
        )
    for _ in range(PER_FAMILY):
        bp, limit = rng.randrange(1, 10_000), rng.randrange(10**6, 10**12)
        yield (
            "fee-in-basis-points",
            (
                "(declare-const amount Int)(declare-const fee Int)"
                f"(assert (and (> amount 0) (< amount {limit})))"
                f"(assert (= fee (div (* amount {bp}) 10000)))"
                "(assert (or (> fee amount) (< fee 0)))"
            ),
        )
    for _ in range(PER_FAMILY):
        weights = [rng.randrange(1, 1000) for _ in range(rng.randrange(3, 7))]
        total = sum(weights)
        shares = "".join(f"(declare-const s{i} Int)" for i in range(len(weights)))
        defs = "".join(
            f"(assert (= s{i} (div (* reward {w}) {total})))" for i, w in enumerate(weights)
        )
        summed = " ".join(f"s{i}" for i in range(len(weights)))
        yield "shares-of-a-reward", (
            "(declare-const reward Int)" + shares + "(assert (>= reward 0))" + defs
            + f"(assert (> (+ {summed}) reward))"
        )  # fmt: skip


def _proofs() -> Iterator[tuple[str, Proof]]:
    rng = random.Random("aethel-vectors/verifier-effort")
    yield from _mix_families(rng)
    for family, text in _division_texts(rng):
        proof = sign_proof(
            SUBMITTER, kind=ProofKind.ARITHMETIC, smt=text, claimed=Outcome.UNSAT, budget=1_000_000
        )
        yield family, proof


def cases() -> list[EffortCase]:
    """Return every case with the pinned solver's result; every one must verify as valid."""
    made: list[EffortCase] = []
    counts: dict[str, int] = {}
    for family, proof in _proofs():
        counts[family] = counts.get(family, 0) + 1
        result = verify_proof(proof)
        if result.verdict is not Verdict.VALID:
            raise ValueError(f"{family} case {counts[family]} is {result.verdict}: {result.detail}")
        expected = {
            "verdict": result.verdict.value,
            "effort": result.effort,
            "size": result.size,
            "difficulty": result.difficulty,
        }
        made.append(EffortCase(f"{family}-{counts[family]}", family, proof.to_json(), expected))
    return made


# --------------------------------------------------------------------------- the file


def _text(found: list[EffortCase]) -> str:
    records = [c.to_json() for c in found]
    return json.dumps(records, indent=1, sort_keys=True, ensure_ascii=True) + "\n"


def write(directory: Path = DIRECTORY) -> int:
    """Write ``effort.json`` under ``directory``; return the number of cases."""
    found = cases()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / VECTORS_FILE.name).write_text(_text(found), encoding="utf-8")
    return len(found)


def compare(directory: Path = DIRECTORY) -> list[str]:
    """Return the differences between the committed file and the definitions (empty: agree)."""
    path = directory / VECTORS_FILE.name
    if not path.exists():
        return [f"missing: {path}"]
    if path.read_text(encoding="utf-8") != _text(cases()):
        return [f"differs from the definitions and the pinned solver: {path}"]
    return []


def load(path: Path = VECTORS_FILE) -> list[EffortCase]:
    """Return the committed cases."""
    records = json.loads(path.read_text(encoding="utf-8"))
    found = [EffortCase.from_json(record) for record in records]
    for case in found:
        proof_from_json(case.proof)  # a committed case is a well-formed proof
    return found


def main(argv: list[str] | None = None) -> int:
    """``python -m conformance.testvectors.effort [--write]``: check (or write) the file."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if args == ["--write"]:
        print(f"wrote {write()} effort known answers to {VECTORS_FILE}")
        return 0
    problems = compare()
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"{VECTORS_FILE} agrees with the definitions and the pinned solver")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
