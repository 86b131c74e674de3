"""The verifier cases: proofs with the outcome, reason, effort and difficulty a conforming
verifier gives them (vectors under ``verifier/verify_proof/``; importable by the suite).

* **Valid proofs** with their effort (the known answers of N7) are not repeated here: they are
  the effort known answers of ``conformance/vectors/verifier/effort.json`` (13 formula families,
  the standard mix's among them, from :mod:`conformance.testvectors.effort`), which the export
  copies to ``verifier/known-answers/`` and the release runner replays. Here one judge proof of a
  transfer serves as the base of the signature cases, and a proof claiming ``sat`` is valid.
* **Outcomes other than valid**: a false claim (``wrong-outcome``, R1.5), a flipped signature and
  a foreign submitter (``bad-signature``, R7.5), a budget too small to decide (``unknown``).
* **Objects of another shape** (E12): a proof whose only fault is its shape (a member missing,
  a member its type does not define, a member of another JSON type or outside its values),
  signed over its members as sent (:data:`MALFORMED_PROOFS`, which
  conformance/suite/test_shapes.py sends too).
* **Hostile texts** (N6): every piece of every hostile class of the suite's grammar
  (:mod:`conformance.suite.smt_grammar`: forbidden sorts, terms, declarations, reserved names,
  forbidden commands, bad tokens and characters, unbalanced and ill-shaped texts, top-level
  atoms, each limit one past its value), and the suite's hand-written hostile texts
  (:data:`HOSTILE_TEXTS`, which conformance/suite/test_verifier.py sends too, with
  :data:`HUGE_TEXT`, a 2 MB text no vector holds: the text-limit pieces cover the limit).

The expected results come from the reference (the pinned Z3), except the reason of a grammar
piece or a hand-written hostile text, which the grammar or :data:`HOSTILE_REASONS` states and
generation checks against the reference.

Spec: R1.1, R1.4, R1.5, R5.1, R7.5, E12, N6, N7, P4.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from aethel.encoding import Domain, KeyPair
from aethel.proofs.judge import BATCH_SIZES, SPLIT_SIZES, Account, Judge
from aethel.proofs.model import (
    Outcome,
    Proof,
    ProofKind,
    sign_proof,
    sign_transfer,
)
from aethel.proofs.obligations import get_transfer_obligation

#: (case, rules, proof JSON, the reason a grammar piece states or None).
VerifierCase = tuple[str, tuple[str, ...], dict[str, Any], str | None]

SUBMITTER = KeyPair.from_seed(bytes(range(1, 33)))
VALID_RULES = ("R1.4", "N7", "P4")
HOSTILE_RULES = ("N6", "R1.1")

#: The suite's hand-written hostile texts (besides the grammar's), by name.
HOSTILE_TEXTS: dict[str, str] = {
    "push-pop": "(declare-const x Int)(push 1)(assert (> x 0))(pop 1)(assert (< x 0))",
    "reset": "(declare-const x Int)(assert (> x 0))(reset)(assert false)",
    "check-sat": "(declare-const x Int)(assert (> x 0))(check-sat)",
    "set-option": "(set-option :timeout 1)(declare-const x Int)(assert (and (> x 0) (< x 0)))",
    "exit": "(declare-const x Int)(exit)",
    "unbalanced": "(declare-const x Int)(assert (and (> x 0) (< x 0))",
    "deep-nesting": "(assert " + "(not " * 5_000 + "false" + ")" * 5_001,
}
#: The reason spec/proofs.md gives each hand-written hostile text (the first check it fails).
HOSTILE_REASONS: dict[str, str] = {
    "push-pop": "forbidden-command",
    "reset": "forbidden-command",
    "check-sat": "forbidden-command",
    "set-option": "forbidden-command",
    "exit": "forbidden-command",
    "unbalanced": "parse-error",
    "deep-nesting": "text-limit",
    "huge-text": "text-limit",
}
#: A text of 2,000,035 bytes, far past the 65,536-byte text limit: the suite sends it, no vector
#: holds it (the grammar's text-limit pieces cover the limit at a size a vector file can carry).
#: Its proof object is also past the proof encoding limit (262,144 bytes, spec/proofs.md,
#: "Limits"), so a verifier may refuse the object naming N6 instead of answering ``text-limit``.
HUGE_TEXT = "(declare-const x Int)" + " " * 2_000_000 + "(assert false)"

#: A satisfiable text whose proof claims sat (valid: the claim is the solver's answer).
SAT_TEXT = "(declare-const x Int)(assert (> x 5))(assert (< x 9))"
#: A satisfiable cubic a budget of 100 cannot decide (unknown, never valid: R1.1).
HARD_TEXT = (
    "(declare-const x Int)(declare-const y Int)(declare-const z Int)"
    "(assert (= (+ (* x x x) (* y y y) (* z z z)) 33))"
)


def _families() -> Iterator[tuple[str, Proof]]:
    """Yield one judge proof of each formula family of the standard mix."""
    rng = random.Random("aethel-vectors/verifier-families")
    judge = Judge(KeyPair.generate(rng))
    keys = [KeyPair.generate(rng) for _ in range(24)]
    accounts = {k.public_key: Account(rng.randrange(10_000, 10_000_000), 0) for k in keys}

    def transfers(count: int) -> list[Any]:
        state = dict(accounts)
        made = []
        for _ in range(count):
            sender, receiver = rng.sample(keys, 2)
            account = state[sender.public_key]
            amount = rng.randrange(1, max(2, account.balance // 10))
            tx = sign_transfer(
                sender, receiver=receiver.public_key, amount=amount, nonce=account.nonce
            )
            made.append(tx)
            state[sender.public_key] = Account(account.balance - amount, account.nonce + 1)
            target = state[receiver.public_key]
            state[receiver.public_key] = Account(target.balance + amount, target.nonce)
        return made

    tx = transfers(1)[0]
    sender = accounts[tx.sender]
    yield "transfer", judge.prove_transfer(tx, sender.balance, sender.nonce)
    for size in BATCH_SIZES:
        yield f"batch-of-{size}", judge.prove_batch(transfers(size), accounts)
    for size in SPLIT_SIZES:
        stakes = [rng.randrange(1, 10**6) for _ in range(size)]
        yield (
            f"reward-split-of-{size}",
            judge.prove_reward_split(stakes, rng.randrange(10**6, 10**15)),
        )


def signed(smt: str, budget: int = 1_000_000, claimed: Outcome = Outcome.UNSAT) -> dict[str, Any]:
    """Return the proof of ``smt`` signed by :data:`SUBMITTER` (kind ``transfer``)."""
    proof = sign_proof(SUBMITTER, kind=ProofKind.TRANSFER, smt=smt, claimed=claimed, budget=budget)
    return proof.to_json()


SHAPE_KEY = KeyPair.from_seed(bytes([12] * 32))
#: A well-formed proof (valid: its text is satisfiable and it claims sat) that each
#: :data:`MALFORMED_PROOFS` case changes in its shape only.
SHAPE_BODY: dict[str, Any] = {
    "budget": 10_000,
    "claimed": "sat",
    "ghost": False,
    "kind": "generic",
    "smt": "(declare-const x Int)(assert (> x 0))",
    "subjects": [],
    "submitter": SHAPE_KEY.public_key.hex(),
}


def signed_as_sent(body: dict[str, Any]) -> dict[str, Any]:
    """Return ``body`` with a signature over its members as they are (E7)."""
    return {**body, "signature": SHAPE_KEY.sign(Domain.PROOF, body).hex()}


def _without(name: str) -> dict[str, Any]:
    return signed_as_sent({k: v for k, v in SHAPE_BODY.items() if k != name})


def _changed(**members: Any) -> dict[str, Any]:
    return signed_as_sent({**SHAPE_BODY, **members})


#: (case, the proof object): each breaks E12 and nothing else (its bytes are canonical, E4, and
#: its signature covers what was sent, E7).
MALFORMED_PROOFS: dict[str, Any] = {
    "smt-missing": _without("smt"),
    "kind-missing": _without("kind"),
    "ghost-missing": _without("ghost"),
    "undefined-member": _changed(note="hello"),
    "undefined-member-null": _changed(expires=None),
    "smt-a-number": _changed(smt=7),
    "ghost-a-number": _changed(ghost=1),
    "subjects-a-string": _changed(subjects="00" * 32),
    "claimed-a-list": _changed(claimed=["sat"]),
    "unknown-kind": _changed(kind="nonsense"),
    "unknown-claimed": _changed(claimed="unknown"),
    "subjects-repeated": _changed(subjects=["ab" * 32, "ab" * 32]),
    "not-an-object": ["proof", SHAPE_BODY],
    "budget-a-string": _changed(budget="10000"),
    "budget-true": _changed(budget=True),
    "budget-null": _changed(budget=None),
}

#: One more than MAX_PROOF_SUBJECTS (spec/proofs.md, "Limits").
TOO_MANY_SUBJECTS = 257

#: (case, (the rule spec/encoding.md's table names, the proof object)): each breaks one rule
#: beside E12 in one member, signed as sent: a byte string of another length or case (E5) and
#: one subject past the limit (N6).
MEMBER_FAULTS: dict[str, tuple[str, Any]] = {
    "subjects-past-the-limit": (
        "N6",
        _changed(subjects=[i.to_bytes(32, "big").hex() for i in range(TOO_MANY_SUBJECTS)]),
    ),
    "subject-of-31-bytes": ("E5", _changed(subjects=["ab" * 31])),
    "subject-in-uppercase-hex": ("E5", _changed(subjects=["AB" * 32])),
    "subject-with-a-0x-prefix": ("E5", _changed(subjects=["0x" + "ab" * 32])),
    "submitter-in-uppercase-hex": ("E5", _changed(submitter=str(SHAPE_BODY["submitter"]).upper())),
}
#: The limit itself is a proof (the control of subjects-past-the-limit).
AT_THE_SUBJECT_LIMIT = _changed(subjects=[i.to_bytes(32, "big").hex() for i in range(256)])


def false_claim() -> dict[str, Any]:
    """A transfer overdrawing a balance of 10 whose satisfiable obligation claims unsat (R1.5)."""
    sender, receiver = KeyPair.from_seed(bytes(32)), KeyPair.from_seed(bytes([1] * 32))
    tx = sign_transfer(sender, receiver=receiver.public_key, amount=10**9, nonce=0)
    smt = get_transfer_obligation(tx, 10, 0)
    return sign_proof(
        SUBMITTER,
        kind=ProofKind.TRANSFER,
        smt=smt,
        claimed=Outcome.UNSAT,
        budget=1_000_000,
        subjects=(tx.transaction_id,),
    ).to_json()


def _slug(text: str) -> str:
    out = "".join(c if c.isascii() and c.isalnum() else "-" for c in text.lower())
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-") or "piece"


def iter_verifier_cases() -> Iterator[VerifierCase]:
    """Yield every verifier case, in a stable order."""
    families = list(_families())
    yield "false-claim", ("R1.5", "R1.4"), false_claim(), None
    honest = families[0][1].to_json()
    flipped = dict(honest)
    signature = bytearray.fromhex(str(flipped["signature"]))
    signature[10] ^= 4
    flipped["signature"] = signature.hex()
    yield "flipped-signature", ("R7.5", "P30"), flipped, None
    foreign = dict(honest, submitter=KeyPair.from_seed(bytes([9] * 32)).public_key.hex())
    yield "other-submitter", ("R7.5", "P30"), foreign, None
    yield "budget-exhausted", ("R1.1", "R1.4"), signed(HARD_TEXT, budget=100), None
    yield "claims-sat", VALID_RULES, signed(SAT_TEXT, claimed=Outcome.SAT), None
    yield "shape-well-formed", VALID_RULES, signed_as_sent(SHAPE_BODY), None
    for name, proof in MALFORMED_PROOFS.items():
        yield f"shape-{name}", ("E12",), proof, None
    yield "member-subjects-at-the-limit", ("N6", *VALID_RULES), AT_THE_SUBJECT_LIMIT, None
    for name, (rule, proof) in MEMBER_FAULTS.items():
        yield f"member-{name}", (rule,), proof, None
    for name, text in HOSTILE_TEXTS.items():
        yield f"hostile-{name}", HOSTILE_RULES, signed(text), HOSTILE_REASONS[name]
    from conformance.suite.smt_grammar import HOSTILE_KINDS, RandomChooser

    seen: set[str] = set()
    for kind in HOSTILE_KINDS.values():
        for index, piece in enumerate(kind.pieces):
            chooser = RandomChooser(random.Random(f"aethel-vectors/hostile/{kind.name}/{index}"))
            hostile = kind.make(chooser, piece)
            name = f"grammar-{kind.name}-{_slug(piece)}"
            if name in seen:
                name = f"{name}-{index}"
            seen.add(name)
            yield name, HOSTILE_RULES, signed(hostile.text), hostile.reason
