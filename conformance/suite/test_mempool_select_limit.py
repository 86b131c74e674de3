"""The mempool's block listing at its limits: ``select_for_block(n)`` with n of 0 and n of 1
(R6.3, spec/proofs.md "Mempool": "n is a non-negative integer, and n of 0 lists nothing").

Written from the mechanical campaign's survivor
``aethel/proofs/mempool.py:Mempool.select_for_block:NumberReplacer:59cabe97`` (a limit check
``max_proofs < 1`` that refuses 0), and the hand-written mutant ``mempool-select-zero-refused``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aethel.proofs.judge import generate_standard_mix
from aethel.proofs.model import proof_from_json
from conformance.adapters.api import MempoolAPI, MempoolObject
from conformance.checks import expect_equal
from conformance.testvectors import mempool_cases

pytestmark = pytest.mark.capability("mempool")


@pytest.fixture
def pool(mempool_api: MempoolAPI) -> Iterator[MempoolObject]:
    made = mempool_api.new(None, mempool_cases.JUDGE_SEED.hex())
    yield made
    getattr(made, "close", lambda: None)()


@pytest.mark.req("R6.3")
def test_a_listing_of_zero_proofs_lists_nothing_and_changes_nothing(pool: MempoolObject) -> None:
    """Two pending proofs: n = 0 answers an empty listing (not a refusal), n = 1 the first in
    block order, and the pool still holds both."""
    proofs = [p.to_json() for p in generate_standard_mix(2, 21)]
    for proof in proofs:
        pool.add_proof(proof)
    everything = pool.select_for_block(10)
    expect_equal(
        sorted(everything["proofs"]),
        sorted(proof_from_json(p).proof_id.hex() for p in proofs),
        "the pending proofs",
    )
    expect_equal(
        pool.select_for_block(0),
        {"proofs": [], "transactions": []},
        "select_for_block(0): n of 0 lists nothing (spec/proofs.md)",
    )
    expect_equal(
        pool.select_for_block(1)["proofs"], everything["proofs"][:1], "select_for_block(1)"
    )
    expect_equal(pool.stats()["size"], 2, "pending after listing (it changes nothing)")
    expect_equal(pool.select_for_block(10), everything, "the listing after the others")
