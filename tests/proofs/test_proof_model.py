"""Proof and transfer values: canonical encoding, ids, signatures, strict parsing (E6, E7)."""

from __future__ import annotations

import hashlib
import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aethel.encoding import (
    Domain,
    KeyPair,
    canonical_json,
    signing_bytes,
    verify_signature,
)
from aethel.errors import EncodingError
from aethel.proofs.errors import MalformedObjectError
from aethel.proofs.model import (
    MAX_BUDGET,
    MAX_SUBJECTS,
    Outcome,
    Proof,
    ProofKind,
    Transfer,
    compute_proofs_root,
    compute_transactions_root,
    parse_proof,
    parse_transfer,
    sign_proof,
    sign_transfer,
)
from aethel.rfc6962 import compute_list_root

KEY = KeyPair.generate(random.Random(1))
OTHER = KeyPair.generate(random.Random(2))
SMT = "(declare-const x Int)(assert (> x 0))(assert (< x 0))"


def make_proof(**changes: Any) -> Proof:
    fields: dict[str, Any] = {
        "kind": ProofKind.GENERIC,
        "smt": SMT,
        "claimed": Outcome.UNSAT,
        "budget": 10_000,
        "subjects": (hashlib.sha256(b"tx").digest(),),
    }
    fields.update(changes)
    return sign_proof(KEY, **fields)


@pytest.mark.req("E6")
def test_proof_id_is_sha256_of_canonical_body_without_signature() -> None:
    proof = make_proof()
    body = proof.to_json()
    del body["signature"]
    assert proof.proof_id == hashlib.sha256(canonical_json(body)).digest()
    resigned = Proof(
        proof.kind,
        proof.smt,
        proof.claimed,
        proof.budget,
        proof.submitter,
        bytes(64),
        proof.subjects,
    )
    assert resigned.proof_id == proof.proof_id
    assert make_proof(budget=10_001).proof_id != proof.proof_id


@pytest.mark.req("E6")
def test_transaction_id_is_sha256_of_canonical_body_without_signature() -> None:
    tx = sign_transfer(KEY, receiver=OTHER.public_key, amount=5, nonce=0)
    body = tx.to_json()
    del body["signature"]
    assert tx.transaction_id == hashlib.sha256(canonical_json(body)).digest()


@pytest.mark.req("E7", "R7.5")
def test_signatures_are_domain_separated_and_cover_every_field() -> None:
    proof = make_proof()
    assert proof.is_signature_valid()
    assert verify_signature(KEY.public_key, Domain.PROOF, proof.to_json(), proof.signature)
    # The same body signed in another domain does not verify as a proof, and vice versa.
    assert not verify_signature(
        KEY.public_key, Domain.TRANSACTION, proof.to_json(), proof.signature
    )
    assert proof.signing_bytes() == signing_bytes(Domain.PROOF, proof.to_json())
    tx = sign_transfer(KEY, receiver=OTHER.public_key, amount=5, nonce=0)
    assert tx.is_signature_valid()
    assert tx.signing_bytes() == signing_bytes(Domain.TRANSACTION, tx.to_json())
    forged = Transfer(tx.sender, tx.receiver, 6, tx.nonce, tx.signature)
    assert not forged.is_signature_valid()


@pytest.mark.req("E7", "R7.5")
@given(st.integers(0, 64 * 8 - 1))
def test_any_flipped_signature_bit_invalidates(bit: int) -> None:
    proof = make_proof()
    signature = bytearray(proof.signature)
    signature[bit // 8] ^= 1 << (bit % 8)
    flipped = Proof(
        proof.kind,
        proof.smt,
        proof.claimed,
        proof.budget,
        proof.submitter,
        bytes(signature),
        proof.subjects,
    )
    assert not flipped.is_signature_valid()


@pytest.mark.req("E7", "R7.5")
def test_a_proof_claimed_by_another_key_is_invalid() -> None:
    proof = make_proof()
    stolen = Proof(
        proof.kind,
        proof.smt,
        proof.claimed,
        proof.budget,
        OTHER.public_key,
        proof.signature,
        proof.subjects,
    )
    assert not stolen.is_signature_valid()


def _canonical_text(text: str) -> bool:
    try:
        canonical_json(text)
    except EncodingError:
        return False
    return True


@pytest.mark.req("E6")
@given(
    st.sampled_from(ProofKind),
    st.text(max_size=60).filter(_canonical_text),
    st.sampled_from(Outcome),
    st.integers(1, MAX_BUDGET),
    st.lists(st.binary(min_size=32, max_size=32), unique=True, max_size=4),
    st.booleans(),
)
def test_proof_encoding_round_trips(
    kind: ProofKind, smt: str, claimed: Outcome, budget: int, subjects: list[bytes], ghost: bool
) -> None:
    proof = sign_proof(
        KEY, kind=kind, smt=smt, claimed=claimed, budget=budget, subjects=subjects, ghost=ghost
    )
    parsed = parse_proof(proof.encode())
    assert parsed == proof
    assert parsed.proof_id == proof.proof_id
    assert parsed.encode() == proof.encode()


@pytest.mark.req("E6")
@given(st.integers(1, 2**63 - 1), st.integers(0, 2**63 - 1))
def test_transfer_encoding_round_trips(amount: int, nonce: int) -> None:
    tx = sign_transfer(KEY, receiver=OTHER.public_key, amount=amount, nonce=nonce)
    parsed = parse_transfer(tx.encode())
    assert parsed == tx
    assert parsed.transaction_id == tx.transaction_id


def _mutated(change: dict[str, Any], drop: str | None = None) -> bytes:
    value = make_proof().to_json()
    value.update(change)
    if drop:
        del value[drop]
    return canonical_json(value)


@pytest.mark.req("E12", "E2", "E4", "E5", "N6")
@pytest.mark.parametrize(
    ("data", "rule"),
    [
        (_mutated({}, drop="smt"), "E12"),
        (_mutated({"extra": 1}), "E12"),
        (_mutated({"kind": "nonsense"}), "E12"),
        (_mutated({"claimed": "unknown"}), "E12"),
        (_mutated({"budget": 0}), "N6"),
        (_mutated({"budget": MAX_BUDGET + 1}), "N6"),
        (_mutated({"budget": "10"}), "E12"),
        (_mutated({"budget": True}), "E12"),
        (_mutated({"ghost": 1}), "E12"),
        (_mutated({"smt": 7}), "E12"),
        (_mutated({"submitter": "AB" * 32}), "E5"),
        (_mutated({"submitter": "ab" * 31}), "E5"),
        (_mutated({"signature": "00" * 63}), "E5"),
        (_mutated({"subjects": ["00" * 32, "00" * 32]}), "E12"),
        (_mutated({"subjects": "00" * 32}), "E12"),
        (_mutated({"subjects": [i.to_bytes(32).hex() for i in range(MAX_SUBJECTS + 1)]}), "N6"),
        (_mutated({"subjects": ["00" * 31]}), "E5"),
        (b'{"budget":1}', "E12"),
        (b"[]", "E12"),
        (make_proof().encode().replace(b",", b", ", 1), "E4"),
        (make_proof().encode() + b" ", "E4"),
    ],
)
def test_malformed_proofs_are_rejected_with_typed_errors(data: bytes, rule: str) -> None:
    with pytest.raises(EncodingError) as info:
        parse_proof(data)
    assert info.value.rule_id == rule


@pytest.mark.parametrize(
    "change",
    [
        {"amount": 0},
        {"amount": -5},
        {"nonce": -1},
        {"sender": "00" * 32, "receiver": "00" * 32},
        {"signature": "zz" * 64},
        {"fee": 1},
    ],
)
def test_malformed_transfers_are_rejected_with_typed_errors(change: dict[str, Any]) -> None:
    value = sign_transfer(KEY, receiver=OTHER.public_key, amount=5, nonce=0).to_json()
    value.update(change)
    with pytest.raises(MalformedObjectError):
        parse_transfer(canonical_json(value))


@pytest.mark.req("E10")
def test_block_list_roots_hash_canonical_objects() -> None:
    items = [make_proof(budget=b) for b in (1, 2, 3)]
    assert compute_proofs_root(items) == compute_list_root([p.to_json() for p in items])
    txs = [sign_transfer(KEY, receiver=OTHER.public_key, amount=5, nonce=n) for n in range(3)]
    assert compute_transactions_root(txs) == compute_list_root([t.to_json() for t in txs])
    assert compute_transactions_root(txs) != compute_transactions_root(txs[::-1])
