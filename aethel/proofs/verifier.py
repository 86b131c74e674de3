"""Verify proofs: signature, SMT subset, a real Z3 run, claimed outcome, effort, difficulty.

Spec: R1.4, R1.5, R5.5, R7.5, N6, N7, T22.2c. Verifying one proof, in this order:

1. the submitter's Ed25519 signature (E7); a bad one makes the proof ``invalid``
   (``bad-signature``) and nothing else runs;
2. the text check of :mod:`aethel.proofs.smt_text`; a violation makes the proof ``invalid``
   (``text-limit``, ``forbidden-command``, ``forbidden-construct`` or ``parse-error``) before
   the solver sees the text;
3. :func:`aethel.proofs.solver.run_solver` with the proof's budget; a Z3 parse error makes it
   ``invalid`` (``parse-error``); an ``unknown`` solver outcome (budget exhausted, or the solver
   gave up) makes it ``unknown``, which is never valid;
4. the solver outcome against the claimed one: equal makes the proof ``valid``, different makes
   it ``invalid`` (``wrong-outcome``: a false verification claim, R1.5).

Effort is the rlimit delta of the run (0 when the solver never ran); difficulty is
:func:`aethel.proofs.difficulty.compute_difficulty` of effort and text size for a valid proof
and 0 otherwise (only valid proofs earn, R1.2). Every field of a result is a deterministic
function of the proof (the ``detail`` text included), so honest nodes agree on all of them.

Parallel block verification and the result cache live in :mod:`aethel.proofs.parallel`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from aethel.encoding import to_hex, verify_signature_bytes
from aethel.proofs.difficulty import compute_difficulty
from aethel.proofs.errors import (
    ForbiddenCommandError,
    ForbiddenConstructError,
    SmtLimitError,
    SmtTextError,
)
from aethel.proofs.model import Proof, Transfer
from aethel.proofs.smt_text import check_smt_text
from aethel.proofs.solver import run_solver


class Verdict(StrEnum):
    """The outcome of verifying a proof."""

    VALID = "valid"
    INVALID = "invalid"
    UNKNOWN = "unknown"


class InvalidReason(StrEnum):
    """Why a proof is invalid."""

    BAD_SIGNATURE = "bad-signature"
    TEXT_LIMIT = "text-limit"
    FORBIDDEN_COMMAND = "forbidden-command"
    FORBIDDEN_CONSTRUCT = "forbidden-construct"
    PARSE_ERROR = "parse-error"
    WRONG_OUTCOME = "wrong-outcome"


#: The rule each invalid reason breaks (for errors and evidence records).
REASON_RULES: dict[InvalidReason, str] = {
    InvalidReason.BAD_SIGNATURE: "R7.5",
    InvalidReason.TEXT_LIMIT: "N6",
    InvalidReason.FORBIDDEN_COMMAND: "N6",
    InvalidReason.FORBIDDEN_CONSTRUCT: "N6",
    InvalidReason.PARSE_ERROR: "N6",
    InvalidReason.WRONG_OUTCOME: "R1.5",
}


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """The verdict on one proof with its measured effort and difficulty (R1.4)."""

    proof_id: bytes
    verdict: Verdict
    reason: InvalidReason | None
    #: What Z3 said: ``sat``, ``unsat``, ``unknown``, or None when it never ran.
    solver_outcome: str | None
    effort: int
    size: int
    difficulty: int
    detail: str = ""

    @property
    def is_valid(self) -> bool:
        """Return whether the proof verified."""
        return self.verdict is Verdict.VALID

    def to_json(self) -> dict[str, Any]:
        """Return the result as a JSON object (for reports and the conformance harness)."""
        return {
            "proof_id": to_hex(self.proof_id),
            "verdict": self.verdict.value,
            "reason": None if self.reason is None else self.reason.value,
            "solver_outcome": self.solver_outcome,
            "effort": self.effort,
            "size": self.size,
            "difficulty": self.difficulty,
            "detail": self.detail,
        }


def _invalid(
    proof: Proof, reason: InvalidReason, detail: str, *, outcome: str | None = None, effort: int = 0
) -> VerificationResult:
    return VerificationResult(
        proof.proof_id, Verdict.INVALID, reason, outcome, effort, proof.size, 0, detail
    )


def _text_reason(error: SmtTextError) -> InvalidReason:
    if isinstance(error, SmtLimitError):
        return InvalidReason.TEXT_LIMIT
    if isinstance(error, ForbiddenCommandError):
        return InvalidReason.FORBIDDEN_COMMAND
    if isinstance(error, ForbiddenConstructError):
        return InvalidReason.FORBIDDEN_CONSTRUCT
    return InvalidReason.PARSE_ERROR


def verify_proof(
    proof: Proof, *, text_check: Callable[[str], None] = check_smt_text
) -> VerificationResult:
    """Verify one proof as the module docstring says; never raises for a bad proof.

    ``text_check`` is the check of step 2 (the protocol's is :func:`check_smt_text`; the
    suite's self-test passes others to build defective verifiers).
    """
    if not proof.is_signature_valid():
        return _invalid(proof, InvalidReason.BAD_SIGNATURE, "signature does not verify")
    try:
        text_check(proof.smt)
    except SmtTextError as error:
        return _invalid(proof, _text_reason(error), error.detail)
    run = run_solver(proof.smt, proof.budget)
    if run.outcome == "error":
        return _invalid(proof, InvalidReason.PARSE_ERROR, run.detail, effort=run.effort)
    if run.outcome == "unknown":
        return VerificationResult(
            proof.proof_id,
            Verdict.UNKNOWN,
            None,
            "unknown",
            run.effort,
            proof.size,
            0,
            f"solver gave up ({run.detail}) after {run.effort} of {proof.budget} rlimit",
        )
    if run.outcome != proof.claimed.value:
        return _invalid(
            proof,
            InvalidReason.WRONG_OUTCOME,
            f"claimed {proof.claimed.value}, solver says {run.outcome}",
            outcome=run.outcome,
            effort=run.effort,
        )
    return VerificationResult(
        proof.proof_id,
        Verdict.VALID,
        None,
        run.outcome,
        run.effort,
        proof.size,
        compute_difficulty(run.effort, proof.size),
    )


def verify_proofs(proofs: Iterable[Proof]) -> list[VerificationResult]:
    """Verify proofs one after another in this process (the unit of work of a parallel chunk)."""
    return [verify_proof(proof) for proof in proofs]


# --------------------------------------------------------------------------- signatures (T22.2c)


@dataclass(frozen=True, slots=True)
class SignedMessage:
    """A raw signature check: ``signature`` by ``public_key`` over ``message`` (domain included)."""

    public_key: bytes
    message: bytes
    signature: bytes


SignedItem = Proof | Transfer | SignedMessage


def _signature_triple(item: object) -> tuple[bytes, bytes, bytes] | None:
    if isinstance(item, Proof | Transfer):
        return (item.signer, item.signing_bytes(), item.signature)
    if isinstance(item, SignedMessage):
        return (item.public_key, item.message, item.signature)
    return None


def batch_verify_signatures(items: Sequence[SignedItem]) -> list[bool]:
    """Return one verdict per item: True iff its Ed25519 signature verifies (T22.2c, R7.5).

    Items are proofs, transfers or raw :class:`SignedMessage` checks, mixed freely. Identical
    checks (same key, message and signature) are verified once. Malformed items are False;
    this never raises.
    """
    seen: dict[tuple[bytes, bytes, bytes], bool] = {}
    verdicts: list[bool] = []
    for item in items:
        triple = _signature_triple(item)
        if triple is None:
            verdicts.append(False)
            continue
        verdict = seen.get(triple)
        if verdict is None:
            verdict = verify_signature_bytes(*triple)
            seen[triple] = verdict
        verdicts.append(verdict)
    return verdicts
