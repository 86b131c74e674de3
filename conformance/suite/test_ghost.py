"""Ghost identities: valid ghost proofs, no holder secret in any output, no link between two
ghost proofs of one holder (R5.3, P22).

The suite hands the implementation a holder secret and asks for ghost proofs of judge
obligations. It checks each proof with the reference (strict parse, ``ghost`` true, signature by
its submitter, Z3 verdict valid), then scans everything the implementation emitted during the
case for the secret and what is as good as it (conformance/leaks.py): over the subprocess
protocol every response line and the implementation's standard error; in process the values
returned, standard output and error, and log records. Finally no public value of one ghost proof
may appear in another of the same holder.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from aethel.encoding import KeyPair
from aethel.errors import AethelError
from aethel.proofs.model import proof_from_json, sign_transfer
from aethel.proofs.obligations import get_transfer_obligation
from aethel.proofs.verifier import verify_proof
from conformance.adapters.api import GhostAPI, GhostHolderObject, Implementation, MempoolAPI
from conformance.checks import expect_equal, expect_rejected
from conformance.leaks import find_leaks, find_links, ghost_needles

pytestmark = pytest.mark.capability("ghost")
BUDGET = 100_000
PROOFS = 6


@dataclass
class Emitted:
    """What the implementation emitted during a case, gathered for the leak scan."""

    impl: Implementation
    capfd: pytest.CaptureFixture[str]
    caplog: pytest.LogCaptureFixture
    returned: list[tuple[str, str]] = field(default_factory=list)

    def add(self, where: str, value: Any) -> Any:
        """Keep a value the implementation returned (in process there is no transcript)."""
        self.returned.append((where, json.dumps(value, sort_keys=True, default=repr)))
        return value

    def everything(self) -> list[tuple[str, str]]:
        """Return (where, text) of every emission: responses, stderr, stdout, logs."""
        out = list(self.returned)
        transcript = getattr(self.impl, "transcript", None)
        if transcript is not None:
            out += [(f"protocol response {i}", line) for i, line in enumerate(transcript)]
        peek = getattr(self.impl, "peek_stderr", None)
        if callable(peek):
            out.append(("the implementation's standard error", peek()))
        captured = self.capfd.readouterr()
        out += [("standard output", captured.out), ("standard error", captured.err)]
        out.append(("log records", "\n".join(r.getMessage() for r in self.caplog.records)))
        return out


@pytest.fixture
def emitted(
    impl: Implementation, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> Iterator[Emitted]:
    caplog.set_level(logging.DEBUG)
    recording = hasattr(impl, "transcript")
    if recording:
        impl.transcript = []  # type: ignore[attr-defined]
    try:
        yield Emitted(impl, capfd, caplog)
    finally:
        if recording:
            impl.transcript = None  # type: ignore[attr-defined]


def holder_secret(seed: int, label: str = "holder") -> bytes:
    return random.Random(f"aethel-conformance/ghost/{label}/{seed}").randbytes(32)


def obligations(seed: int, count: int) -> list[dict[str, Any]]:
    """Return ``count`` transfer obligations (distinct texts and subjects) for ghost proofs."""
    rng = random.Random(f"aethel-conformance/ghost/obligations/{seed}")
    sender = KeyPair.from_seed(rng.randbytes(32))
    out = []
    for nonce in range(count):
        receiver = KeyPair.from_seed(rng.randbytes(32))
        tx = sign_transfer(sender, receiver=receiver.public_key, amount=10 + nonce, nonce=nonce)
        out.append(
            {
                "kind": "transfer",
                "smt": get_transfer_obligation(tx, 1_000, nonce),
                "claimed": "unsat",
                "budget": BUDGET,
                "subjects": [tx.transaction_id.hex()],
            }
        )
    return out


def sign_all(
    holder: GhostHolderObject, asks: list[dict[str, Any]], emitted: Emitted
) -> list[tuple[dict[str, Any], str]]:
    """Ask for one ghost proof per obligation; check each with the reference; return
    (proof, proof id) pairs."""
    proofs = []
    for index, ask in enumerate(asks):
        proof = emitted.add(f"ghost proof {index}", holder.sign_proof(**ask))
        try:
            parsed = proof_from_json(proof)
        except AethelError as exc:
            raise AssertionError(
                f"ghost proof {index} is not a valid proof object: {exc}"
            ) from None
        expect_equal({k: proof.get(k) for k in ask}, ask, f"obligation of ghost proof {index}")
        if parsed.ghost is not True:
            raise AssertionError(f"ghost proof {index} does not carry ghost = true")
        if not parsed.is_signature_valid():
            raise AssertionError(f"ghost proof {index} is not signed by its submitter key")
        verdict = verify_proof(parsed)
        if not verdict.is_valid:
            raise AssertionError(f"ghost proof {index} does not verify: {verdict.to_json()}")
        proofs.append((proof, parsed.proof_id.hex()))
    return proofs


def require_no_leak_or_link(
    secret: bytes, proofs: list[tuple[dict[str, Any], str]], emitted: Emitted
) -> None:
    leaks = find_leaks(emitted.everything(), ghost_needles(secret, len(proofs)))
    links = find_links(proofs)
    problems = leaks + links
    if problems:
        raise AssertionError(f"{len(problems)} problem(s): " + "; ".join(problems[:6]))


@pytest.mark.req("R5.3", "P22")
def test_ghost_proofs_carry_no_secret_and_no_link(
    ghost_api: GhostAPI, emitted: Emitted, seed: int
) -> None:
    """Six ghost proofs of one holder: each valid, one-time keys all distinct, nothing the
    implementation emitted holds the secret, its HKDF key or a one-time seed, and no public value
    of one proof recurs in another."""
    secret = holder_secret(seed)
    holder = ghost_api.new(secret.hex())
    try:
        proofs = sign_all(holder, obligations(seed, PROOFS), emitted)
    finally:
        getattr(holder, "close", lambda: None)()
    require_no_leak_or_link(secret, proofs, emitted)


@pytest.mark.req("R5.3", "P22")
@pytest.mark.capability("mempool")
def test_ghost_proofs_through_the_mempool_leak_nothing(
    ghost_api: GhostAPI, mempool_api: MempoolAPI, emitted: Emitted, seed: int
) -> None:
    """Ghost proofs enter the implementation's mempool and a block selection like any proof; its
    answers, metrics and logs still hold no secret and link no two proofs."""
    secret = holder_secret(seed, "mempool")
    holder = ghost_api.new(secret.hex())
    pool = mempool_api.new(None, holder_secret(seed, "judge").hex())
    try:
        proofs = sign_all(holder, obligations(seed + 1, 4), emitted)
        for index, (proof, proof_id) in enumerate(proofs):
            admitted = emitted.add(f"admission {index}", pool.add_proof(proof))
            expect_equal(admitted.get("proof_id"), proof_id, f"id of admitted ghost proof {index}")
        selected = emitted.add("block selection", pool.select_for_block(10))
        expect_equal(
            sorted(selected.get("proofs", [])), sorted(i for _, i in proofs), "ghost proofs taken"
        )
        emitted.add("mempool stats", pool.stats())
    finally:
        for obj in (holder, pool):
            getattr(obj, "close", lambda: None)()
    require_no_leak_or_link(secret, proofs, emitted)


@pytest.mark.req("R5.3")
@pytest.mark.rejects("R5.3")
def test_short_holder_secret_is_rejected(ghost_api: GhostAPI) -> None:
    """A holder secret is at least 32 bytes; a shorter one is refused naming R5.3
    (spec/security.md, "Ghost identities")."""
    expect_rejected(
        lambda: ghost_api.new(bytes(range(16)).hex()), "a 16-byte holder secret", rule="R5.3"
    )
