"""Ghost identity: one-time keys; no secret and no linkable data in any output (R5.3, P22)."""

from __future__ import annotations

import base64
import json
import logging
import pickle
import random
from dataclasses import asdict

import pytest

from aethel.encoding import KeyPair, canonical_json, to_hex
from aethel.errors import SignatureError, UsageError
from aethel.proofs.ghost import GhostHolder, derive_one_time_seed
from aethel.proofs.mempool import Mempool
from aethel.proofs.model import Proof, ProofKind, parse_proof, sign_transfer
from aethel.proofs.obligations import get_transfer_obligation
from aethel.proofs.parallel import Verifier, verify_proof_block
from aethel.rfc6962 import compute_list_root

SECRET = random.Random(2024).randbytes(32)
SOVEREIGN = KeyPair.generate(random.Random(2025))  # the same holder's public identity
PEER = KeyPair.generate(random.Random(2026))


def _forms(data: bytes) -> list[bytes]:
    """Every encoding of ``data`` an output could carry."""
    return [
        data,
        to_hex(data).encode(),
        to_hex(data).upper().encode(),
        base64.b64encode(data),
        base64.urlsafe_b64encode(data),
        repr(data).encode(),
    ]


def _ghost_proofs(holder: GhostHolder, count: int) -> list[Proof]:
    proofs = []
    for nonce in range(count):
        tx = sign_transfer(SOVEREIGN, receiver=PEER.public_key, amount=10, nonce=nonce)
        proofs.append(
            holder.sign_proof(
                kind=ProofKind.TRANSFER,
                smt=get_transfer_obligation(tx, 100, nonce),
                budget=100_000,
                subjects=[tx.transaction_id],
            )
        )
    return proofs


@pytest.mark.req("R5.3")
def test_one_time_keys_are_hkdf_derived_distinct_and_single_use() -> None:
    holder = GhostHolder(SECRET)
    keys = [holder.next_key() for _ in range(50)]
    assert len({key.public_key for key in keys}) == 50
    assert [key.seed for key in keys[:3]] == [derive_one_time_seed(SECRET, i) for i in range(3)]
    assert holder.keys_used == 50
    assert GhostHolder(SECRET).next_key() == keys[0]  # deterministic from the secret
    assert GhostHolder(SECRET, first_counter=7).next_key() == keys[7]
    with pytest.raises(UsageError):
        GhostHolder(b"short secret")
    with pytest.raises(UsageError):
        derive_one_time_seed(SECRET, -1)


@pytest.mark.req("R5.3", "P22")
def test_the_secret_never_appears_in_any_output(caplog: pytest.LogCaptureFixture) -> None:
    holder = GhostHolder(SECRET)
    proofs = _ghost_proofs(holder, 3)
    secrets = [SECRET, SOVEREIGN.seed] + [derive_one_time_seed(SECRET, i) for i in range(3)]
    outputs: list[bytes] = []
    with caplog.at_level(logging.DEBUG, logger="aethel"):
        # Serialized messages, and their parsing back.
        for proof in proofs:
            outputs.append(proof.encode())
            outputs.append(repr(proof).encode())
            assert parse_proof(proof.encode()) == proof
        # Verification results and a block list root.
        verifier = Verifier()
        results = verify_proof_block(proofs, cache=verifier.cache)
        assert all(result.is_valid for result in results)
        outputs += [canonical_json(result.to_json()) for result in results]
        outputs.append(compute_list_root([p.to_json() for p in proofs]))
        # Mempool state: pending entries, stats, block contents, and a refusal's log line.
        mempool = Mempool(verifier=verifier)
        for proof in proofs:
            mempool.add_proof(proof)
        unsigned = Proof(
            proofs[0].kind,
            proofs[0].smt,
            proofs[0].claimed,
            proofs[0].budget,
            proofs[0].submitter,
            bytes(64),
            proofs[0].subjects,
            ghost=True,
        )
        with pytest.raises(SignatureError):
            mempool.add_proof(unsigned)  # its refusal is logged
        outputs += [repr(entry).encode() for entry in mempool.pending()]
        outputs.append(repr(mempool.stats()).encode())
        block = mempool.select_for_block(10)
        outputs += [p.encode() for p in block.proofs]
        # A report (what a benchmark or the harness would write).
        report = {
            "results": [r.to_json() for r in results],
            "mempool": asdict(mempool.stats()),
            "verifier": asdict(verifier.cache_stats()),
        }
        outputs.append(json.dumps(report).encode())
        outputs.append(repr(holder).encode())
    outputs += [record.getMessage().encode() for record in caplog.records]
    assert caplog.records, "the mempool logs admissions and refusals"
    blob = b"\n".join(outputs)
    for secret in secrets:
        for form in _forms(secret):
            assert form not in blob
    assert to_hex(SOVEREIGN.public_key).encode() not in blob  # the holder's public identity
    with pytest.raises(TypeError):
        pickle.dumps(holder)
    assert "hidden" in repr(holder)


@pytest.mark.req("R5.3", "P22")
def test_two_ghost_proofs_of_one_holder_share_no_holder_derived_data() -> None:
    first, second = _ghost_proofs(GhostHolder(SECRET), 2)
    other = _ghost_proofs(GhostHolder(random.Random(9).randbytes(32)), 2)[1]
    assert first.ghost and second.ghost
    # Public fields that depend on the holder differ between its proofs...
    assert first.submitter != second.submitter
    assert first.signature != second.signature
    assert first.proof_id != second.proof_id

    # ...and what the two have in common, a proof of another holder has in common as well.
    def shared(a: Proof, b: Proof) -> set[str]:
        left, right = a.to_json(), b.to_json()
        return {name for name in left if left[name] == right[name]}

    assert shared(first, second) == shared(first, other) == {"budget", "claimed", "ghost", "kind"}
    # No 8-byte window of one proof's key or signature occurs anywhere in the other proof.
    encoded = second.encode() + second.submitter + second.signature
    for value in (first.submitter, first.signature):
        for start in range(len(value) - 7):
            window = value[start : start + 8]
            assert window not in encoded and to_hex(window).encode() not in encoded


@pytest.mark.req("R5.3")
def test_ghost_proofs_verify_and_enter_the_mempool() -> None:
    holder = GhostHolder(SECRET)
    proofs = _ghost_proofs(holder, 2)
    mempool = Mempool()
    for proof in proofs:
        assert mempool.add_proof(proof).result.is_valid
    assert len(mempool) == 2
