"""Replicas that verify a block's proofs before the checks that must come first (spec/
consensus.md, Blocks: "The limits (N6) are checked before any proof is verified, and so is that no
proof id appears twice in a block").

Both refuse the same blocks as the reference, naming a rule the spec allows, so every verdict
looks right; what they get wrong is the cost, which a Byzantine leader chooses:

* ``proofs-verified-before-block-limits``: the replica verifies every proof as it reads the
  block, then checks the limits and repeats (a block of 1,001 proofs is solved before it is
  refused as too large);
* ``repeated-proofs-found-by-validation``: the replica checks the limits first but finds a
  repeated proof only when validation books the block (the second copy is a double spend, or
  covers the wrong transfer), after verifying every proof.

Caught by conformance/suite/test_block_checks_first.py (the replica's ``proofs_checked``).
"""

from __future__ import annotations

from aethel.consensus.block import ProofBlock
from aethel.consensus.replica import Replica
from conformance.mutants import Mutant, replica_implementation


class _VerifiesFirst(Replica):
    """Verify the block's proofs (counted, as the engine did the work) when the limits check
    would refuse it for one of ``verified_for``; then refuse it as the reference does."""

    verified_for: tuple[str, ...] = ()

    def _limits_and_last_commit_reason(self, block: ProofBlock) -> str:
        reason = super()._limits_and_last_commit_reason(block)
        if reason.split(":", 1)[0] in self.verified_for:
            verdict = self.services.validator.validate_block(block, self.state_root)
            self.stats.blocks_validated += 1
            self.stats.proofs_checked += len(verdict.checks)
        return reason


class VerifiesBeforeLimitsReplica(_VerifiesFirst):
    """Defect: every proof is verified before the limits and repeats are checked."""

    verified_for = ("N6", "R7.1", "R1.1")


class RepeatsFoundByValidationReplica(_VerifiesFirst):
    """Defect: the limits come first, but a repeated proof is found by validation."""

    verified_for = ("R7.1", "R1.1")


VerifiesBeforeLimits = replica_implementation(
    "VerifiesBeforeLimits", __name__, replica_class=VerifiesBeforeLimitsReplica
)
RepeatsFoundByValidation = replica_implementation(
    "RepeatsFoundByValidation", __name__, replica_class=RepeatsFoundByValidationReplica
)

MUTANTS = [
    Mutant(
        name="proofs-verified-before-block-limits",
        defect="a replica verifies every proof of a proposed block before it checks the block's "
        "limits and repeated proofs, so a block of 1,001 proofs is solved before it is refused",
        breaks=("N6",),
        capabilities=("replica",),
        build=VerifiesBeforeLimits,
    ),
    Mutant(
        name="repeated-proofs-found-by-validation",
        defect="a replica checks a block's limits first but finds a repeated proof only when "
        "validation books the block, after verifying every proof",
        breaks=("R7.1", "R1.1"),
        capabilities=("replica",),
        build=RepeatsFoundByValidation,
    ),
]
