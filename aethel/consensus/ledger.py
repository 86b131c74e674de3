"""The ledger transition of a committed height, economics included, and block validation.

This module implements :class:`~aethel.consensus.interfaces.BlockValidator` and
:class:`~aethel.consensus.interfaces.Executor` over the real proof package (judge obligations,
Z3 verification of every proof: R1.1) and the real state package: states are versions of the
sparse Merkle state tree (:mod:`aethel.merkle`) and transitions are validated and booked by
:func:`aethel.state.transitions.compute_transition`. Tree nodes are content-addressed, so one
:class:`StateRepository` serves many simulated nodes; a node's history is what its
:class:`ChainStore` commits.

The transition of block h (spec: R1.2, R1.3, R3.6, R4.1-R4.7):

1. Reward of the parent (h-1): its pending reward is split among the members of the commit
   certificate that block h carries, by stake, the remainder to the parent's proposer
   (:func:`aethel.economics.compute_reward_split`); minted, and paid to the members' accounts.
   If slashing left none of the members with stake in the set of h, the reward is forfeited
   (not minted). A COMMIT carries the post-state root, so the members of a block's own
   certificate cannot be known inside its own transition: they are paid in the next one, from
   the certificate the next block carries (agreed by consensus). That is one block time after
   finality (R4.5).
2. Slashing for every evidence item: 5% (false claim) or 20% (equivocation) of stake, floor,
   burned and recorded; once per (offence, offender, height). Being offline is never slashed.
3. Transfers, each covered by its judge proof, checked against the running state (R7.1).
4. This block's reward: compute_block_reward(total difficulty of its valid proofs) (R1.2, R4.4),
   capped per block so minted never exceeds E(h) (R4.7); pending until the next height.
5. Books: supply = balances + stakes; supply = genesis + minted - burned is checked, and
   minted <= E(h); a violation raises and commits nothing (R3.6, R4.7).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from aethel.consensus.block import ProofBlock
from aethel.consensus.interfaces import BlockVerdict, Execution, ProofCheck, ProofOutcome
from aethel.consensus.validators import ValidatorSet
from aethel.consensus.votes import certificate_members
from aethel.economics import compute_block_reward, compute_emission_limit, compute_reward_split
from aethel.encoding import canonical_json, parse_canonical_json, to_hex
from aethel.errors import ProtocolViolation
from aethel.merkle.cache import NodeCache
from aethel.merkle.hashing import EMPTY_HASH
from aethel.merkle.nodes import MemoryNodeStore
from aethel.merkle.tree import StateTree
from aethel.proofs.errors import MalformedObjectError
from aethel.proofs.items import decode_block_items
from aethel.proofs.model import Proof, ProofKind, Transfer, proof_from_json
from aethel.proofs.obligations import is_obligation_for
from aethel.proofs.verifier import Verdict, VerificationResult, verify_proof
from aethel.spending import RunningAccounts
from aethel.state.layout import (
    BALANCE,
    NONCE,
    STAKE,
    SUPPLY_BURNED,
    SUPPLY_GENESIS,
    SUPPLY_MINTED,
    balance_key,
    meta_key,
    nonce_key,
    stake_key,
)
from aethel.state.transitions import (
    Genesis,
    Operation,
    Reward,
    SetMeta,
    Slash,
    TransferOperation,
    Transition,
    TransitionOutcome,
    compute_genesis,
    compute_transition,
)


class LedgerView:
    """Read access to one ledger state: a version of the sparse Merkle state tree.

    Keys follow :mod:`aethel.state.layout` (``balance:``, ``nonce:``, ``stake:``, ``supply:*``,
    ``meta:``); this module adds two meta entries: ``meta:pending-reward`` = [height, proposer,
    amount] and ``meta:slash/<offence>/<offender>/<height>`` = true once evidence was slashed.
    """

    __slots__ = ("_leaves", "root", "tree")

    def __init__(self, tree: StateTree) -> None:
        self.tree = tree
        self.root = tree.root()
        self._leaves: dict[str, Any] | None = None

    def get(self, key: str, default: Any = None) -> Any:
        """Return the value of ``key``."""
        return self.tree.get(key, default)

    def balance(self, account: str) -> int:
        """Return ``account``'s balance."""
        return int(self.tree.get(balance_key(account), 0))

    def nonce(self, account: str) -> int:
        """Return ``account``'s next nonce."""
        return int(self.tree.get(nonce_key(account), 0))

    def leaves(self) -> dict[str, Any]:
        """Return every key and value (walks the whole tree once, then cached)."""
        if self._leaves is None:
            self._leaves = {
                key: parse_canonical_json(value) for _, _, _, key, value in self.tree.iter_leaves()
            }
        return self._leaves

    def _prefixed(self, prefix: str) -> dict[str, int]:
        size = len(prefix)
        return {k[size:]: v for k, v in self.leaves().items() if k.startswith(prefix)}

    @property
    def balances(self) -> dict[str, int]:
        """Return account -> balance."""
        return self._prefixed(BALANCE)

    @property
    def nonces(self) -> dict[str, int]:
        """Return account -> next nonce."""
        return self._prefixed(NONCE)

    @property
    def stakes(self) -> dict[str, int]:
        """Return validator -> stake."""
        return self._prefixed(STAKE)

    @property
    def minted(self) -> int:
        """Return the minted book."""
        return int(self.tree.get(SUPPLY_MINTED, 0))

    @property
    def burned(self) -> int:
        """Return the burned book."""
        return int(self.tree.get(SUPPLY_BURNED, 0))

    @property
    def genesis_supply(self) -> int:
        """Return the genesis book."""
        return int(self.tree.get(SUPPLY_GENESIS, 0))

    @property
    def pending(self) -> tuple[int, str, int] | None:
        """Return (height, proposer, amount) of the reward awaiting the next certificate."""
        value = self.tree.get(meta_key(PENDING))
        return None if value is None else (value[0], value[1], value[2])

    def is_slashed(self, slash_key: tuple[str, str, int]) -> bool:
        """Return True if ``slash_key`` was slashed."""
        return self.tree.get(meta_key(slash_mark(slash_key))) is not None

    @property
    def supply(self) -> int:
        """Return the total supply: balances plus stakes."""
        return sum(self.balances.values()) + sum(self.stakes.values())

    def encode(self) -> bytes:
        """Return the canonical JSON of every key and value (a flat snapshot)."""
        return canonical_json(self.leaves())


PENDING = "pending-reward"


def make_genesis(balances: Mapping[str, int], validators: ValidatorSet) -> Genesis:
    """Return the genesis: account balances and the validators' stakes."""
    return Genesis(dict(balances), {v.id: v.stake for v in validators.validators})


def slash_mark(slash_key: tuple[str, str, int]) -> str:
    """Return the meta name recording that ``slash_key`` was slashed."""
    return "slash/" + "/".join(str(part) for part in slash_key)


def reward_account(validators: ValidatorSet, validator_id: str) -> str:
    """Return the account (hex public key) a validator's rewards are paid to."""
    member = validators.get(validator_id)
    return to_hex(member.public_key) if member is not None else validator_id


class StateRepository:
    """Ledger states as versions of one sparse Merkle tree over a shared node store.

    The node store is content-addressed, so any number of simulated nodes share it: a state is
    its root, and a transition writes only the nodes it changes (aethel.merkle).
    """

    def __init__(self, cache_size: int = 200_000) -> None:
        self.nodes = MemoryNodeStore()
        self.cache = NodeCache(self.nodes, cache_size)
        self._views: dict[bytes, LedgerView] = {}

    def tree(self, root: bytes) -> StateTree:
        """Return the tree at ``root``."""
        return StateTree(self.nodes, root=root, cache=self.cache)

    def __contains__(self, root: object) -> bool:
        return root == EMPTY_HASH or (
            isinstance(root, bytes) and self.nodes.get_node(root) is not None
        )

    def get(self, root: bytes) -> LedgerView:
        """Return the state at ``root``; raise ProtocolViolation("R3.1") if unknown."""
        view = self._views.get(root)
        if view is None:
            if root not in self:
                raise ProtocolViolation("R3.1", f"no state with root {to_hex(root)[:16]}")
            if len(self._views) > 256:
                self._views.clear()
            view = self._views[root] = LedgerView(self.tree(root))
        return view

    def apply(self, root: bytes, writes: Mapping[str, Any]) -> bytes:
        """Write ``writes`` on top of the state at ``root``; return the new root."""
        return self.tree(root).batch_update(writes)

    def load(self, data: bytes) -> bytes:
        """Rebuild a state from :meth:`LedgerView.encode` output; return its root."""
        values = parse_canonical_json(data)
        if not isinstance(values, dict):
            raise ProtocolViolation("R5.4", "a stored state is a JSON object")
        return self.apply(EMPTY_HASH, values)


class StateSource(Protocol):
    """Where blocks are validated against: a :class:`StateRepository` or a node's persistent
    ledger (:class:`aethel.consensus.persistent.PersistentLedger`)."""

    def get(self, root: bytes) -> LedgerView:
        """Return the state at ``root``; raise ProtocolViolation("R3.1") if unknown."""
        ...


def parse_block_items(block: ProofBlock) -> tuple[list[Transfer], list[Proof]]:
    """Parse a block's transactions and proofs strictly (E2-E5, E12); raise MalformedObjectError.

    Decoded once per process (:func:`aethel.proofs.items.decode_block_items`, keyed by the
    block's digest): validation, execution and the mempool's commit share the typed items.
    """
    items = decode_block_items(block.digest, block.transactions, block.proofs)
    return list(items.transfers), list(items.proofs)


class LedgerValidator:
    """Verify every proof of a block with Z3 against the pre-state (R1.1, R1.5, R7.1).

    A block is valid when every transaction is signed (R5.5), applies in order without
    overdraft or nonce gap (R7.1), and is covered by exactly one transfer proof whose text is
    the judge's obligation on the running state and which re-verifies as valid with Z3.
    ``verify`` is the proof verifier (memoizable: a pure function of the proof).
    """

    def __init__(self, repository: StateSource, verify: Any = verify_proof) -> None:
        self.repository = repository
        self.verify = verify

    def validate_block(self, block: ProofBlock, pre_root: bytes) -> BlockVerdict:
        """Return the verdict on ``block`` applied to the state at ``pre_root``."""
        try:
            transfers, proofs = parse_block_items(block)
        except MalformedObjectError as exc:
            return BlockVerdict(False, (), 0, exc.rule_id, f"malformed block item: {exc.detail}")
        state = self.repository.get(pre_root)
        if len(proofs) != len(transfers):
            return BlockVerdict(False, (), 0, "R1.1", "every transaction needs exactly one proof")
        # The block's transactions booked one by one on a staged copy of the pre-state (R7.1).
        running: RunningAccounts[str] = RunningAccounts(state.balance, state.nonce)
        checks: list[ProofCheck] = []
        total = 0
        failure = ("", "")
        for index, (tx, proof) in enumerate(zip(transfers, proofs, strict=True)):
            result: VerificationResult = self.verify(proof)
            intrinsic = result.verdict is not Verdict.VALID
            outcome = ProofOutcome(result.verdict.value)
            reason = result.detail or (result.reason.value if result.reason else "")
            sender, receiver = to_hex(tx.sender), to_hex(tx.receiver)
            if not failure[0]:
                if intrinsic:
                    failure = ("R1.5", f"proof {index} is {outcome.value}: {reason}")
                elif not tx.is_signature_valid():
                    failure = ("R5.5", f"transaction {index} has a bad signature")
                elif proof.kind is not ProofKind.TRANSFER or proof.subjects != (tx.transaction_id,):
                    failure = ("R1.1", f"proof {index} does not cover transaction {index}")
                else:
                    found = running.check(sender, tx.amount, tx.nonce)
                    if found is not None:
                        failure = ("R7.1", f"transaction {index}: {found.detail}")
                    elif not is_obligation_for(
                        proof.smt, tx, running.balance(sender), running.nonce(sender)
                    ):
                        failure = ("R1.1", f"proof {index} is not the obligation on this state")
            checks.append(
                ProofCheck(
                    index,
                    to_hex(result.proof_id),
                    outcome,
                    result.difficulty,
                    result.effort,
                    reason,
                    intrinsic,
                )
            )
            total += result.difficulty
            running.apply(sender, receiver, tx.amount)
        if failure[0]:
            return BlockVerdict(False, tuple(checks), total, failure[0], failure[1])
        return BlockVerdict(True, tuple(checks), total)

    def is_proof_invalid(self, block: ProofBlock, index: int) -> bool:
        """Re-verify proof ``index`` of ``block`` on its own (false-claim evidence, R1.5)."""
        try:
            proof = parse_block_items(block)[1][index]
        except MalformedObjectError:
            # Another item of the block does not decode: this one may still.
            try:
                proof = proof_from_json(block.proofs[index])
            except (MalformedObjectError, IndexError):
                return True
        except IndexError:
            return True
        result: VerificationResult = self.verify(proof)
        return result.verdict is not Verdict.VALID


class LedgerExecutor:
    """Apply a block's transition through :func:`aethel.state.transitions.compute_transition`.

    The block becomes the ordered operations of one height (see the module docstring): Reward
    shares of the parent's reward, Slash per evidence item (plus its slash mark), TransferOperation
    per transaction, and the pending reward of this block. The state layer validates them all and
    the books (R3.6, R4.7, R7.1) before a single node of the tree is written.
    """

    def __init__(self, repository: StateRepository, genesis: Genesis) -> None:
        self.repository = repository
        outcome = compute_genesis(genesis)
        self._genesis = repository.apply(EMPTY_HASH, outcome.writes)
        self._validators = tuple(sorted(genesis.stakes))

    def genesis_root(self) -> bytes:
        """Return the genesis root."""
        return self._genesis

    def get_stakes(self, root: bytes) -> Mapping[str, int]:
        """Return the stakes of the genesis validators in the state at ``root``."""
        state = self.repository.get(root)
        return {v: int(state.get(stake_key(v), 0)) for v in self._validators}

    def is_slashed(self, root: bytes, slash_key: tuple[str, str, int]) -> bool:
        """Return True if the state at ``root`` already slashed ``slash_key``."""
        return self.repository.get(root).is_slashed(slash_key)

    def execute(
        self,
        block: ProofBlock,
        verdict: BlockVerdict,
        pre_root: bytes,
        validators: ValidatorSet,
    ) -> Execution:
        """Apply ``block``; raise ProtocolViolation if a rule or book breaks (nothing stored)."""
        if not verdict.valid:
            raise ProtocolViolation(verdict.rule_id or "R1.1", "cannot execute an invalid block")
        state = self.repository.get(pre_root)
        operations, rewards, reward, transfers = build_operations(state, block, verdict, validators)
        outcome = compute_transition(state.get, Transition(block.height, tuple(operations)))
        post_root = self.repository.apply(pre_root, outcome.writes)
        return make_execution(
            block,
            verdict,
            pre_root,
            post_root,
            outcome,
            rewards,
            reward,
            transfers,
            self.repository.get(post_root),
            handle=tuple(operations),
        )


def build_operations(
    state: LedgerView, block: ProofBlock, verdict: BlockVerdict, validators: ValidatorSet
) -> tuple[list[Operation], dict[str, int], int, int]:
    """Return the state operations of ``block`` (see the module docstring) with the reward
    shares they pay, this block's pending reward and the number of transfers."""
    if not verdict.valid:
        raise ProtocolViolation(verdict.rule_id or "R1.1", "cannot execute an invalid block")
    operations: list[Operation] = []
    rewards: dict[str, int] = {}
    pending = state.pending
    if pending is not None:
        height, proposer, amount = pending
        cert = block.last_commit
        if cert is None or cert.height != height:
            raise ProtocolViolation("R4.1", "the block lacks the certificate to pay")
        # Version 2: the members of the bitmap, named by the set's roster (V2.8).
        members = {m: validators.stake_of(m) for m in certificate_members(cert, validators)}
        # Members slashed below MIN_STAKE hold no stake in this height's set; if none holds
        # any, nobody earned the reward and it is forfeited: never minted (economics.md R1.3).
        if amount and any(members.values()):
            rewards = compute_reward_split(amount, members, proposer)
            for validator, share in sorted(rewards.items()):
                if share:
                    operations.append(Reward(reward_account(validators, validator), share))
    for evidence in block.evidence:
        if state.is_slashed(evidence.slash_key):
            raise ProtocolViolation("R4.2", "evidence already slashed")
        operations.append(Slash(evidence.offender, evidence.offence))
        operations.append(SetMeta(slash_mark(evidence.slash_key), True))
    transfers, _ = parse_block_items(block)
    for tx in transfers:
        operations.append(
            TransferOperation(to_hex(tx.sender), to_hex(tx.receiver), tx.amount, tx.nonce)
        )
    minted_after = state.minted + sum(rewards.values())
    limit = compute_emission_limit(block.height)
    reward = min(compute_block_reward(verdict.total_difficulty), max(0, limit - minted_after))
    operations.append(SetMeta(PENDING, [block.height, block.proposer, reward]))
    return operations, rewards, reward, len(transfers)


def make_execution(
    block: ProofBlock,
    verdict: BlockVerdict,
    pre_root: bytes,
    post_root: bytes,
    outcome: TransitionOutcome,
    rewards: dict[str, int],
    reward: int,
    transfers: int,
    after: LedgerView,
    handle: object = None,
) -> Execution:
    """Return the :class:`Execution` of a computed transition."""
    return Execution(
        height=block.height,
        pre_root=pre_root,
        post_root=post_root,
        rewards=rewards,
        slashed=dict(outcome.slashed),
        stakes={v: int(after.get(stake_key(v), 0)) for v in outcome.slashed},
        minted=outcome.minted,
        burned=outcome.burned,
        minted_total=outcome.minted_total,
        burned_total=outcome.burned_total,
        total_supply=outcome.total_supply,
        genesis_supply=outcome.genesis_supply,
        pending_reward=reward,
        proof_count=len(verdict.checks),
        total_difficulty=verdict.total_difficulty,
        transfers=transfers,
        handle=handle,
    )
