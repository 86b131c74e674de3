"""Blocks built from the mempool: full blocks in mempool order, stale transfers dropped on commit,
capacity bounds (R6.3, P25, R7.1, N3, N6)."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest

from aethel.consensus.block import ProofBlock
from aethel.consensus.events import Committed, Send, SetTimer
from aethel.consensus.ledger import (
    LedgerExecutor,
    LedgerValidator,
    StateRepository,
    make_genesis,
    parse_block_items,
)
from aethel.consensus.replica import Replica
from aethel.consensus.replica_config import ReplicaConfig, Services
from aethel.consensus.signing import DirectSignatureChecker, KeySigner
from aethel.consensus.stores import MemoryChainStore
from aethel.consensus.validators import Validator, ValidatorSet, make_validator_keys
from aethel.encoding import JSONValue, KeyPair, to_hex
from aethel.errors import UsageError
from aethel.node.mempool_source import MempoolSource
from aethel.proofs.judge import Account, Judge
from aethel.proofs.mempool import MAX_CAPACITY, Mempool
from aethel.proofs.model import (
    Proof,
    ProofKind,
    Transfer,
    proof_from_json,
    sign_transfer,
    transfer_from_json,
)

RNG = random.Random(303)
ALICE, BOB, CAROL = (KeyPair.generate(RNG) for _ in range(3))
BALANCE = 1_000


def transfer(key: KeyPair, amount: int, nonce: int, receiver: KeyPair) -> Transfer:
    return sign_transfer(key, receiver=receiver.public_key, amount=amount, nonce=nonce)


class Chain:
    """A single-validator replica (R5.6) whose leader proposes from a switchable source."""

    def __init__(self) -> None:
        key = make_validator_keys(1, 7)[0]
        validators = ValidatorSet.create(0, bytes(32), [Validator("v0", key.public_key, 10_000)])
        balances = {to_hex(k.public_key): BALANCE for k in (ALICE, BOB, CAROL)}
        self.repository = StateRepository()
        self.store = MemoryChainStore()
        executor = LedgerExecutor(self.repository, make_genesis(balances, validators))
        self.source: MempoolSource | None = None
        services = Services(
            DirectSignatureChecker(), LedgerValidator(self.repository), executor, self.store, self
        )
        self.replica = Replica(KeySigner("v0", key), validators, services, ReplicaConfig())
        self.pending = self.replica.start(0)

    def select(
        self, height: int, pre_root: bytes
    ) -> tuple[Sequence[dict[str, JSONValue]], Sequence[dict[str, JSONValue]]]:
        assert self.source is not None
        return self.source.select(height, pre_root)

    def on_commit(self, block: ProofBlock) -> None:
        assert self.source is not None
        self.source.on_commit(block)

    def commit_next(self, source: MempoolSource) -> Committed:
        """Run until the next commit, proposing from ``source``."""
        self.source = source
        while True:
            out = self.pending.pop(0)
            if isinstance(out, SetTimer) and out.timer.kind == "propose":
                self.pending += self.replica.on_timer(out.timer, 1)
            elif isinstance(out, Send):
                self.pending += self.replica.on_message(out.message, 1)
            elif isinstance(out, Committed):
                return out


def tx_id(data: object) -> bytes:
    return transfer_from_json(data).transaction_id  # type: ignore[arg-type]


@pytest.mark.req("R6.3", "P25")
def test_a_block_takes_up_to_the_limit_in_mempool_order(
    judge_key: KeyPair, mix: list[Proof]
) -> None:
    mempool = Mempool(judge=Judge(judge_key))
    # Peer proofs first: they arrive earlier and rank above the transfers of equal difficulty,
    # but a block cannot carry them (no pending transfer they cover).
    for proof in mix:
        mempool.add_proof(proof)
    assert any(p.kind is not ProofKind.TRANSFER for p in mix)
    for nonce in range(4):
        mempool.add_transaction(transfer(ALICE, 10 + nonce, nonce, BOB), Account(BALANCE, 0))
        mempool.add_transaction(transfer(BOB, 20 + nonce, nonce, CAROL), Account(BALANCE, 0))
    eligible = [
        e.proof.proof_id
        for e in mempool.pending()
        if e.proof.kind is ProofKind.TRANSFER and mempool.has_transaction(e.proof.subjects[0])
    ]
    assert len(eligible) == 8 and len(mempool) == len(mix) + 8
    for limit, expected in ((5, 5), (8, 8), (20, 8)):
        transactions, proofs = MempoolSource(mempool, max_proofs=limit).select(1, bytes(32))
        ids = [proof_from_json(p).proof_id for p in proofs]
        assert len(ids) == len(transactions) == expected
        # Mempool order among what a block can carry, each proof next to its transfer.
        assert ids == eligible[:expected]
        covered = [proof_from_json(p).subjects[0] for p in proofs]
        assert covered == [tx_id(t) for t in transactions]


@pytest.mark.req("R7.1")
def test_a_commit_drops_the_transfers_it_made_stale(judge_key: KeyPair) -> None:
    chain = Chain()
    # Node B's mempool holds Alice's nonce-0 transfer to Bob; node A's holds a different
    # nonce-0 transfer of Alice (to Carol), her nonce-1 transfer after it, and one of Bob's.
    pool_b = Mempool(judge=Judge(judge_key))
    pool_b.add_transaction(transfer(ALICE, 100, 0, BOB), Account(BALANCE, 0))
    pool_a = Mempool(judge=Judge(judge_key))
    conflicting = pool_a.add_transaction(transfer(ALICE, 200, 0, CAROL), Account(BALANCE, 0))
    follower = pool_a.add_transaction(transfer(ALICE, 50, 1, CAROL), Account(BALANCE, 0))
    unrelated = pool_a.add_transaction(transfer(BOB, 5, 0, CAROL), Account(BALANCE, 0))
    source_a = MempoolSource(pool_a, repository=chain.repository, store=chain.store)
    first = chain.commit_next(MempoolSource(pool_b, repository=chain.repository, store=chain.store))
    assert len(pool_b) == 0 and len(first.block.proofs) == 1
    # Node A learns the committed block: Alice's nonce 0 is spent, so A's own nonce-0 transfer
    # is stale; the nonce-1 transfer follows the committed one and its proof states 800 <= 900.
    source_a.on_commit(first.block)
    assert conflicting.proof.proof_id not in pool_a
    assert follower.proof.proof_id in pool_a and unrelated.proof.proof_id in pool_a
    assert len(pool_a) == pool_a.stats().size == 2
    # A's next proposal is a valid block on the committed state: it commits and drains A.
    second = chain.commit_next(source_a)
    transfers, _ = parse_block_items(second.block)
    assert sorted(tx.transaction_id for tx in transfers) == sorted(
        [follower.proof.subjects[0], unrelated.proof.subjects[0]]
    )
    assert len(pool_a) == 0


@pytest.mark.req("R7.1")
def test_a_leader_drops_stale_transfers_before_it_selects(judge_key: KeyPair) -> None:
    chain = Chain()
    pool_b = Mempool(judge=Judge(judge_key))
    pool_b.add_transaction(transfer(ALICE, 900, 0, BOB), Account(BALANCE, 0))
    first = chain.commit_next(MempoolSource(pool_b))
    # Pool A never saw that commit. Its nonce-0 transfer of Alice is stale, and its nonce-1
    # transfer's proof states 900 while Alice now has 100: a block validator would refuse it.
    pool_a = Mempool(judge=Judge(judge_key))
    pool_a.add_transaction(transfer(ALICE, 100, 0, CAROL), Account(BALANCE, 0))
    pool_a.add_transaction(transfer(ALICE, 60, 1, CAROL), Account(BALANCE, 0))
    bob = pool_a.add_transaction(transfer(BOB, 7, 0, CAROL), Account(BALANCE, 0))
    source_a = MempoolSource(pool_a, repository=chain.repository)
    transactions, proofs = source_a.select(2, first.execution.post_root)
    assert [tx_id(t) for t in transactions] == list(bob.proof.subjects)
    assert [proof_from_json(p).proof_id for p in proofs] == [bob.proof.proof_id]
    assert len(pool_a) == 1
    second = chain.commit_next(source_a)  # the block it proposes is valid and commits
    assert len(second.block.proofs) == 1 and len(pool_a) == 0


@pytest.mark.req("R7.1")
def test_stale_checks_keep_a_valid_prefix(judge_key: KeyPair) -> None:
    mempool = Mempool(judge=Judge(judge_key))
    for nonce in range(3):  # proofs state 100, 90 and 80
        mempool.add_transaction(transfer(ALICE, 10, nonce, BOB), Account(100, 0))
    assert mempool.remove_stale(ALICE.public_key, Account(100, 0)) == 0
    # Balance 95 at nonce 0: the nonce-0 proof states 100 > 95, so all three go.
    assert mempool.refresh_accounts({ALICE.public_key: Account(95, 0)}) == 3
    for nonce in range(3):
        mempool.add_transaction(transfer(ALICE, 10, nonce, BOB), Account(100, 0))
    # Balance 100 but the nonce-1 transfer must fit in 100 - 10 = 90: it does; all stay.
    assert mempool.refresh_accounts({ALICE.public_key: Account(100, 0)}) == 0
    # Nonce 3 is already used (a commit elsewhere): every pending transfer is stale.
    assert mempool.refresh_accounts({ALICE.public_key: Account(100, 3)}) == 3
    assert len(mempool) == 0 and mempool.pending_senders() == []


@pytest.mark.req("N3", "N6")
@pytest.mark.parametrize("capacity", [0, -1, MAX_CAPACITY + 1, 10**12, True, 2.0, "10"])
def test_nonsense_capacities_are_refused(capacity: object) -> None:
    with pytest.raises(UsageError, match="capacity"):
        Mempool(capacity=capacity)  # type: ignore[arg-type]


@pytest.mark.req("N3")
@pytest.mark.parametrize("window", [0.0, -1.0, float("inf"), float("nan"), "10"])
def test_nonsense_rate_windows_are_refused(window: object) -> None:
    with pytest.raises(UsageError, match="rate_window"):
        Mempool(rate_window=window)  # type: ignore[arg-type]


def test_the_documented_bounds_are_accepted() -> None:
    assert Mempool(capacity=1).capacity == 1
    assert Mempool(capacity=MAX_CAPACITY).capacity == MAX_CAPACITY
