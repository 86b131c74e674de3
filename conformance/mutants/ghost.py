"""Mutants of ghost identities."""

from __future__ import annotations

import hashlib
import hmac
import sys
from typing import Any

from aethel.encoding import KeyPair, parse_hex
from aethel.proofs.ghost import INFO, SALT
from aethel.proofs.model import Outcome, ProofKind, sign_proof
from conformance.adapters.reference import ReferenceImplementation
from conformance.adapters.reference_errors import rejecting
from conformance.adapters.reference_ghost import ReferenceGhost, ReferenceGhostHolder
from conformance.mutants import Mutant


class CounterlessHolder(ReferenceGhostHolder):
    """Defect: the one-time key is HKDF of the secret without the counter in its info, so every
    ghost proof of a holder is signed by the same key (linkable)."""

    def __init__(self, secret: str) -> None:
        super().__init__(secret)
        prk = hmac.new(SALT, parse_hex(secret), hashlib.sha256).digest()
        self.key = KeyPair.from_seed(hmac.new(prk, INFO + b"\x01", hashlib.sha256).digest())

    def sign_proof(
        self, kind: str, smt: str, claimed: str, budget: int, subjects: list[str]
    ) -> Any:
        proof = sign_proof(
            self.key,
            kind=ProofKind(kind),
            smt=smt,
            claimed=Outcome(claimed),
            budget=budget,
            subjects=[parse_hex(s, length=32) for s in subjects],
            ghost=True,
        )
        return proof.to_json()


class SeedLoggingHolder(ReferenceGhostHolder):
    """Defect: a debugging line prints each one-time seed to standard error."""

    def sign_proof(
        self, kind: str, smt: str, claimed: str, budget: int, subjects: list[str]
    ) -> Any:
        used = self.holder.keys_used
        proof = super().sign_proof(kind, smt, claimed, budget, subjects)
        prk = self.holder._prk  # the reference keeps only the HKDF key
        seed = hmac.new(prk, INFO + used.to_bytes(8, "big") + b"\x01", hashlib.sha256).digest()
        print(f"debug: ghost proof {used} signed with one-time seed {seed.hex()}", file=sys.stderr)
        return proof


class CounterlessGhost(ReferenceGhost):
    @rejecting
    def new(self, secret: str) -> Any:
        return CounterlessHolder(secret)


class CounterlessGhostImplementation(ReferenceImplementation):
    name = "mutant-counterless-ghost-key"

    def make_ghost(self) -> object:
        return CounterlessGhost()


class SeedLoggingGhost(ReferenceGhost):
    @rejecting
    def new(self, secret: str) -> Any:
        return SeedLoggingHolder(secret)


class SeedLoggingGhostImplementation(ReferenceImplementation):
    name = "mutant-ghost-seed-logged"

    def make_ghost(self) -> object:
        return SeedLoggingGhost()


MUTANTS = [
    Mutant(
        name="counterless-ghost-key",
        defect="ghost one-time key derived without the counter: every ghost proof of a holder "
        "has the same submitter key (linkable)",
        breaks=("R5.3", "P22"),
        capabilities=("ghost",),
        build=CounterlessGhostImplementation,
    ),
    Mutant(
        name="ghost-seed-logged",
        defect="a debug line writes each one-time seed of a ghost holder to standard error",
        breaks=("R5.3", "P22"),
        capabilities=("ghost",),
        build=SeedLoggingGhostImplementation,
    ),
]
