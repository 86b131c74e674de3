"""A block's transactions and proofs pair up (spec/consensus.md, "Blocks", rule 4; R1.1): "there
are as many proofs as transactions, and for each i, proof i has kind transfer, its subjects are
exactly the id of transaction i".

The leader's PRE-PREPARE carries a block of the two valid transfers of the funded scene with
their items out of pairs: a transfer without its proof, a proof without its transfer, the two
proofs swapped, a proof of its transfer's obligation but of kind ``arithmetic`` (a block carries
only transfer proofs), or a transfer whose signature is damaged (R5.5: "transaction i is signed
by its sender"). Each must get no PREPARE; the block of the same
items in pairs does. A validator that walks the two lists side by side and stops at the shorter
one (zip) would execute a transfer no proof covers.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from aethel.consensus.block import GENESIS_PARENT, ProofBlock
from aethel.consensus.ledger import make_genesis
from aethel.consensus.messages import Prepare
from aethel.encoding import JSONValue, KeyPair, to_hex
from aethel.proofs.model import ProofKind, Transfer, sign_proof, sign_transfer
from aethel.proofs.obligations import get_transfer_obligation
from conformance.adapters.api import ReplicaAPI
from conformance.suite.scene import (
    FOUR,
    RESIGNER,
    Items,
    Scene,
    funded_scene,
    make_scene,
    resigned_proof,
    sent,
)

pytestmark = pytest.mark.capability("replica")


def _flipped(transfer: dict[str, JSONValue]) -> dict[str, JSONValue]:
    """The transfer with one bit of its signature flipped (its id, which its proof covers,
    leaves the signature out, E6)."""
    signature = bytearray.fromhex(str(transfer["signature"]))
    signature[5] ^= 0x10
    return {**transfer, "signature": signature.hex()}


#: name -> the block's (transactions, proofs) made from the two transfers and their proofs
UNPAIRED: dict[str, Callable[[Items], Items]] = {
    "a-transfer-without-its-proof": lambda i: (i[0], i[1][:1]),
    "a-proof-without-its-transfer": lambda i: (i[0][:1], i[1]),
    "the-proofs-swapped": lambda i: (i[0], i[1][::-1]),
    "a-proof-of-another-kind": lambda i: (
        i[0],
        [resigned_proof(i[1][0], kind=ProofKind.ARITHMETIC), i[1][1]],
    ),
    "a-transfer-badly-signed": lambda i: ([_flipped(i[0][0]), i[0][1]], i[1]),
}


@pytest.mark.req("R1.1", "R5.5", "P1")
@pytest.mark.rejects("R1.1", "R5.5")
@pytest.mark.parametrize("variant", sorted(UNPAIRED), ids=str)
def test_a_block_whose_items_do_not_pair_up_gets_no_prepare(
    replica_api: ReplicaAPI, variant: str
) -> None:
    scene, items = funded_scene("block-items")
    leader = scene.signers[scene.leader(0)]
    member = scene.others(scene.leader(0))[0]
    transactions, proofs = UNPAIRED[variant](items)
    block = ProofBlock.create(leader, 1, GENESIS_PARENT, transactions, proofs, [], None)
    remote = scene.replica(replica_api, member)
    if sent(remote.on_message(scene.pre_prepare(block).to_wire(), 1_000), Prepare):
        raise AssertionError(f"{member} sent PREPARE for a block with {variant.replace('-', ' ')}")
    paired = ProofBlock.create(leader, 1, GENESIS_PARENT, items[0], items[1], [], None)
    fresh = scene.replica(replica_api, member)
    if not sent(fresh.on_message(scene.pre_prepare(paired).to_wire(), 1_000), Prepare):
        raise AssertionError(f"control: {member} sent no PREPARE for the block of paired items")


#: Three funded accounts for the stated-balance cases (their balance at genesis).
ACCOUNTS = [KeyPair.from_seed(bytes([60 + i] * 32)) for i in range(3)]
GENESIS_BALANCE = 1_000_000


def _proved(tx: Transfer, stated: int) -> dict[str, JSONValue]:
    """``tx`` with the judge's proof of its obligation stating the balance ``stated``."""
    return sign_proof(
        RESIGNER,
        kind=ProofKind.TRANSFER,
        smt=get_transfer_obligation(tx, stated, tx.nonce),
        budget=100_000,
        subjects=(tx.transaction_id,),
    ).to_json()


@pytest.mark.req("R1.1", "R7.1")
@pytest.mark.parametrize("stated", ["the-balance-before-a-receipt", "more-than-the-balance"])
def test_a_proof_may_state_less_than_the_running_balance(
    replica_api: ReplicaAPI, stated: str
) -> None:
    """Bob pays Alice 10, then Alice pays Carol 5 in the same block. Alice's proof may state her
    balance before Bob's payment (less than her running balance: a mempool proves against what
    it knew, and a receipt earlier in the block only adds), so the block gets a PREPARE; a proof
    stating more than her running balance does not cover her transfer (spec/consensus.md,
    "Blocks", rule 4: "a stated balance B at most that balance")."""
    base = make_scene(list(FOUR), epoch="stated-balance")
    alice, bob, carol = ACCOUNTS
    genesis = make_genesis(
        {to_hex(k.public_key): GENESIS_BALANCE for k in ACCOUNTS}, base.validators
    )
    scene = Scene(base.validators, base.signers, genesis)
    receipt = sign_transfer(bob, receiver=alice.public_key, amount=10, nonce=0)
    spend = sign_transfer(alice, receiver=carol.public_key, amount=5, nonce=0)
    balance = GENESIS_BALANCE if stated == "the-balance-before-a-receipt" else GENESIS_BALANCE + 20
    block = ProofBlock.create(
        scene.signers[scene.leader(0)],
        1,
        GENESIS_PARENT,
        [receipt.to_json(), spend.to_json()],
        [_proved(receipt, GENESIS_BALANCE), _proved(spend, balance)],
        [],
        None,
    )
    member = scene.others(scene.leader(0))[0]
    remote = scene.replica(replica_api, member)
    prepared = bool(sent(remote.on_message(scene.pre_prepare(block).to_wire(), 1_000), Prepare))
    if stated == "the-balance-before-a-receipt" and not prepared:
        raise AssertionError(
            f"{member} sent no PREPARE for a block whose second proof states Alice's balance "
            f"before the first transfer paid her ({balance}, running {GENESIS_BALANCE + 10})"
        )
    if stated == "more-than-the-balance" and prepared:
        raise AssertionError(
            f"{member} sent PREPARE for a block whose proof states {balance} for Alice, whose "
            f"running balance is {GENESIS_BALANCE + 10}"
        )
