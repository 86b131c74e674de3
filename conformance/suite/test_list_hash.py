"""RFC 6962 hashing of block lists and its proofs (E10, E11).

Expected roots and proofs come from :mod:`conformance.suite.oracle` (written from RFC 6962, no
code shared with any implementation) and from the transparency-dev vectors in
``conformance/vectors/external/rfc6962`` (every ``wantErr`` case must be refused).
"""

from __future__ import annotations

import base64
import functools
import json
from pathlib import Path
from typing import Any

import pytest

from aethel.encoding import canonical_json
from conformance.adapters.api import ListHashAPI
from conformance.checks import expect_equal, expect_refused, expect_rejected
from conformance.suite import oracle

pytestmark = pytest.mark.capability("list-hash")

EXTERNAL = Path(__file__).resolve().parent.parent / "vectors" / "external" / "rfc6962"
#: Every size to 9, powers of two and their neighbours, and sizes whose consistency proofs from
#: some smaller size take the verifier's inner shift (RFC 9162 2.1.4.2 step 6) after a bit
#: already consumed: 13 -> 14, 21 -> 22, 25 -> 28 (written from the mechanical survivor
#: ``aethel/rfc6962.py:verify_consistency:NumberReplacer:d1f2e9a3``, which refused those
#: valid proofs and passed every size of the earlier list).
SIZES = [*range(10), 14, 16, 17, 22, 28, 31]


def entries_of(size: int) -> list[object]:
    return [{"index": i, "memo": "entry"} for i in range(size)]


def raw(entries: list[object]) -> list[bytes]:
    return [canonical_json(e) for e in entries]


@pytest.mark.req("E10")
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"size-{s}")
def test_list_root_is_rfc6962_tree_hash(list_hash_api: ListHashAPI, size: int) -> None:
    entries = entries_of(size)
    expect_equal(list_hash_api.root(entries), oracle.mth(raw(entries)).hex(), "list root")


@pytest.mark.req("E11")
@pytest.mark.parametrize("size", [s for s in SIZES if s], ids=lambda s: f"size-{s}")
def test_inclusion_proofs_match_rfc_and_verify(list_hash_api: ListHashAPI, size: int) -> None:
    entries = entries_of(size)
    leaves = raw(entries)
    root = oracle.mth(leaves).hex()
    for index in range(size):
        expected = [h.hex() for h in oracle.inclusion_path(index, leaves)]
        proof = list_hash_api.prove_inclusion(entries, index)
        expect_equal(proof, expected, f"inclusion proof of leaf {index}")
        leaf_hash = oracle.mth([leaves[index]]).hex()
        ok = list_hash_api.verify_inclusion(index, size, leaf_hash, proof, root)
        expect_equal(ok, True, f"verifying the proof of leaf {index}")


@pytest.mark.req("E11")
@pytest.mark.parametrize("size", [s for s in SIZES if s > 1], ids=lambda s: f"size-{s}")
def test_consistency_proofs_match_rfc_and_verify(list_hash_api: ListHashAPI, size: int) -> None:
    entries = entries_of(size)
    leaves = raw(entries)
    root2 = oracle.mth(leaves).hex()
    for size1 in range(1, size + 1):
        expected = [h.hex() for h in oracle.consistency_proof(size1, leaves)]
        proof = list_hash_api.prove_consistency(entries, size1)
        expect_equal(proof, expected, f"consistency proof {size1} -> {size}")
        root1 = oracle.mth(leaves[:size1]).hex()
        ok = list_hash_api.verify_consistency(size1, size, root1, root2, proof)
        expect_equal(ok, True, f"verifying consistency {size1} -> {size}")


@pytest.mark.req("E11")
@pytest.mark.rejects("E11")
@pytest.mark.parametrize("size", [5, 8, 13], ids=lambda s: f"size-{s}")
def test_every_single_bit_flip_of_a_proof_is_refused(list_hash_api: ListHashAPI, size: int) -> None:
    entries = entries_of(size)
    leaves = raw(entries)
    root = oracle.mth(leaves).hex()
    index = size // 2
    proof = [bytes(h) for h in oracle.inclusion_path(index, leaves)]
    leaf_hash = oracle.mth([leaves[index]]).hex()
    for position, item in enumerate(proof):
        for bit in (0, 77, 255):
            flipped = bytearray(item)
            flipped[bit // 8] ^= 1 << (bit % 8)
            bad = [h.hex() for h in proof]
            bad[position] = bytes(flipped).hex()
            verify = list_hash_api.verify_inclusion
            expect_refused(
                functools.partial(verify, index, size, leaf_hash, bad, root),
                f"proof hash {position} with bit {bit} flipped",
                rule="E11",
            )


EMPTY_ROOT = oracle.mth([]).hex()


@pytest.mark.req("E11")
def test_consistency_at_size_zero(list_hash_api: ListHashAPI) -> None:
    """Equal sizes need the empty proof and equal roots; at size 0 both roots are the empty
    list's root (spec/encoding.md, E11)."""
    verify = list_hash_api.verify_consistency
    expect_equal(verify(0, 0, EMPTY_ROOT, EMPTY_ROOT, []), True, "consistency 0 -> 0")
    root3 = oracle.mth(raw(entries_of(3))).hex()
    expect_equal(verify(3, 3, root3, root3, []), True, "consistency 3 -> 3")


def _size_zero_verifications(list_hash_api: ListHashAPI) -> list[tuple[str, Any]]:
    """Verifications that must fail: answered false or refused naming E11."""
    leaves = raw(entries_of(3))
    root3, root1 = oracle.mth(leaves).hex(), oracle.mth(leaves[:1]).hex()
    verify = list_hash_api.verify_consistency
    other = "11" * 32
    return [
        ("0 -> 0 with another root", functools.partial(verify, 0, 0, other, other, [])),
        ("0 -> 0 with two roots", functools.partial(verify, 0, 0, EMPTY_ROOT, other, [])),
        ("0 -> 0 with a hash", functools.partial(verify, 0, 0, EMPTY_ROOT, EMPTY_ROOT, [root1])),
        ("0 -> 3 with no proof", functools.partial(verify, 0, 3, EMPTY_ROOT, root3, [])),
        ("0 -> 3 with the root", functools.partial(verify, 0, 3, EMPTY_ROOT, root3, [root3])),
        ("3 -> 3 with a hash", functools.partial(verify, 3, 3, root3, root3, [root1])),
        ("3 -> 0", functools.partial(verify, 3, 0, root3, EMPTY_ROOT, [])),
        (
            "inclusion into size 0",
            functools.partial(list_hash_api.verify_inclusion, 0, 0, root1, [], EMPTY_ROOT),
        ),
    ]


def _proofs_that_do_not_exist(list_hash_api: ListHashAPI) -> list[tuple[str, Any]]:
    """Proofs asked for that do not exist: refused naming E11."""
    entries = entries_of(3)
    consistency, inclusion = list_hash_api.prove_consistency, list_hash_api.prove_inclusion
    return [
        ("a consistency proof from size 0", functools.partial(consistency, entries, 0)),
        ("a consistency proof beyond the list", functools.partial(consistency, entries, 4)),
        ("an inclusion proof beyond the list", functools.partial(inclusion, entries, 3)),
        ("an inclusion proof in an empty list", functools.partial(inclusion, [], 0)),
    ]


@pytest.mark.req("E11")
@pytest.mark.rejects("E11")
def test_size_zero_and_out_of_range_proofs_are_refused(list_hash_api: ListHashAPI) -> None:
    """A consistency proof from size 0 proves nothing, a list of size 0 has one root and no
    leaf, and no proof exists outside the list: each verification fails (false, or a refusal
    naming E11) and producing such a proof is refused naming E11."""
    for what, call in _size_zero_verifications(list_hash_api):
        expect_refused(call, what, rule="E11")
    for what, call in _proofs_that_do_not_exist(list_hash_api):
        expect_rejected(call, what, rule="E11")


def _b64hex(text: str | None) -> str:
    return base64.b64decode(text or "").hex()


def _external_cases() -> list[Any]:
    cases = []
    for path in sorted(EXTERNAL.glob("*/*/*.json")):
        case_id = path.relative_to(EXTERNAL).with_suffix("").as_posix()
        refused = json.loads(path.read_text(encoding="utf-8")).get("wantErr")
        marks = [pytest.mark.rejects("E11")] if refused else []
        cases.append(pytest.param(path, id=case_id, marks=marks))
    return cases


@pytest.mark.req("E11")
@pytest.mark.parametrize("path", _external_cases())
def test_external_rfc6962_vector(list_hash_api: ListHashAPI, path: Path) -> None:
    """transparency-dev/merkle vectors: happy paths verify, every wantErr case is refused."""
    vector = json.loads(path.read_text(encoding="utf-8"))
    proof = [_b64hex(h) for h in vector.get("proof") or []]
    kind = path.relative_to(EXTERNAL).parts[0]
    if kind == "inclusion":

        def call() -> bool:
            return list_hash_api.verify_inclusion(
                vector["leafIdx"],
                vector["treeSize"],
                _b64hex(vector["leafHash"]),
                proof,
                _b64hex(vector["root"]),
            )
    else:

        def call() -> bool:
            return list_hash_api.verify_consistency(
                vector["size1"],
                vector["size2"],
                _b64hex(vector["root1"]),
                _b64hex(vector["root2"]),
                proof,
            )

    if vector["wantErr"]:
        expect_refused(call, vector["desc"], rule="E11")
    else:
        expect_equal(call(), True, vector["desc"])
