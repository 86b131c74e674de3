"""RFC 6962 cases written from the survivors of the mechanical campaign (E11).

Negative indexes and sizes: no case sent one before, so an implementation that let ``-1``
through its range checks passed the suite. Python's integers (and any language's arithmetic
shift) make ``-1`` behave like "all ones", which RFC 9162's walk reads as the last leaf of a
perfect tree: with the proof of leaf 3 of a 4-entry list, an index of ``-1`` leads to the right
root. The spec's answer is a refusal (E11: "a proof with a wrong ... index ... is rejected").
"""

from __future__ import annotations

import pytest

from aethel.encoding import canonical_json
from conformance.adapters.api import ListHashAPI
from conformance.checks import expect_equal, expect_refused, expect_rejected
from conformance.suite import oracle

pytestmark = pytest.mark.capability("list-hash")


def _entries(size: int) -> list[object]:
    return [{"index": i, "memo": "entry"} for i in range(size)]


@pytest.mark.req("E11")
@pytest.mark.rejects("E11")
@pytest.mark.parametrize("value", [-1, -4], ids=lambda v: f"value-{v}")
def test_a_negative_index_or_size_gets_no_proof(list_hash_api: ListHashAPI, value: int) -> None:
    entries = _entries(5)
    expect_rejected(
        lambda: list_hash_api.prove_inclusion(entries, value), f"inclusion of {value}", rule="E11"
    )
    expect_rejected(
        lambda: list_hash_api.prove_consistency(entries, value),
        f"consistency from size {value}",
        rule="E11",
    )


@pytest.mark.req("E11")
@pytest.mark.rejects("E11")
def test_index_minus_one_does_not_pass_for_the_last_leaf(list_hash_api: ListHashAPI) -> None:
    """Leaf 3's true proof in a 4-entry list, presented at index -1, is refused."""
    entries = _entries(4)
    leaves = [canonical_json(e) for e in entries]
    root = oracle.mth(leaves).hex()
    leaf = oracle.mth([leaves[3]]).hex()
    proof = [h.hex() for h in oracle.inclusion_path(3, leaves)]
    ok = list_hash_api.verify_inclusion(3, 4, leaf, proof, root)
    expect_equal(ok, True, "control: the proof of leaf 3 at index 3")
    expect_refused(
        lambda: list_hash_api.verify_inclusion(-1, 4, leaf, proof, root),
        "the proof of leaf 3 at index -1",
        rule="E11",
    )
    expect_refused(
        lambda: list_hash_api.verify_inclusion(3, -4, leaf, proof, root),
        "the proof of leaf 3 in a tree of size -4",
        rule="E11",
    )


@pytest.mark.req("E11")
@pytest.mark.rejects("E11")
@pytest.mark.parametrize(("size1", "size2"), [(-1, 5), (3, -1), (-2, -2)], ids=str)
def test_a_consistency_proof_between_negative_sizes_is_refused(
    list_hash_api: ListHashAPI, size1: int, size2: int
) -> None:
    entries = _entries(5)
    leaves = [canonical_json(e) for e in entries]
    proof = [h.hex() for h in oracle.consistency_proof(3, leaves)]
    root3, root5 = oracle.mth(leaves[:3]).hex(), oracle.mth(leaves).hex()
    ok = list_hash_api.verify_consistency(3, 5, root3, root5, proof)
    expect_equal(ok, True, "control: the proof from 3 to 5")
    expect_refused(
        lambda: list_hash_api.verify_consistency(size1, size2, root3, root5, proof),
        f"the proof from 3 to 5 presented from {size1} to {size2}",
        rule="E11",
    )
