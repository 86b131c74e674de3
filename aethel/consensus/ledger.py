"""The ledger transition of a committed height, economics included, and block validation.

This module implements :class:`~aethel.consensus.interfaces.BlockValidator` and
:class:`~aethel.consensus.interfaces.Executor` over the real proof package (judge obligations,
Z3 verification of every proof: R1.1) and a content-addressed ledger state. States are
immutable and keyed by their root, so one :class:`StateRepository` can serve many simulated
nodes; a node's own history is what its :class:`ChainStore` commits.

The transition of block h (spec: R1.2, R1.3, R3.6, R4.1-R4.7):

1. Reward of the parent (h-1): its pending reward is split among the members of the commit
   certificate that block h carries, by stake, the remainder to the parent's proposer
   (:func:`aethel.economics.compute_reward_split`); minted, and paid to the members' accounts.
   A COMMIT carries the post-state root, so the members of a block's own certificate cannot
   be known inside its own transition: they are paid in the next one, from the certificate the
   next block carries (agreed by consensus). That is one block time after finality (R4.5).
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
from dataclasses import dataclass, field
from typing import Any

from aethel.consensus.block import ProofBlock
from aethel.consensus.interfaces import BlockVerdict, Execution, ProofCheck, ProofOutcome
from aethel.consensus.validators import ValidatorSet
from aethel.economics import (
    compute_block_reward,
    compute_emission_limit,
    compute_reward_split,
    compute_slash_amount,
)
from aethel.encoding import canonical_json, parse_canonical_json, sha256, to_hex
from aethel.errors import ProtocolViolation
from aethel.proofs.errors import MalformedObjectError, TransactionRejected
from aethel.proofs.judge import check_transfer, get_transfer_obligation
from aethel.proofs.model import Proof, ProofKind, Transfer, proof_from_json, transfer_from_json
from aethel.proofs.verifier import Verdict, VerificationResult, verify_proof


@dataclass(frozen=True, slots=True)
class LedgerState:
    """One immutable ledger state; ``root`` is SHA-256 of its canonical encoding."""

    balances: Mapping[str, int]
    nonces: Mapping[str, int]
    stakes: Mapping[str, int]
    minted: int
    burned: int
    genesis_supply: int
    #: (height, proposer, amount) of the reward awaiting the next height's certificate.
    pending: tuple[int, str, int] | None
    slashed: frozenset[str]
    root: bytes = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", sha256(canonical_json(self.to_json())))

    @property
    def supply(self) -> int:
        """Return the total supply: balances plus stakes."""
        return sum(self.balances.values()) + sum(self.stakes.values())

    def to_json(self) -> dict[str, Any]:
        """Return the canonical JSON form."""
        return {
            "balances": dict(self.balances),
            "nonces": dict(self.nonces),
            "stakes": dict(self.stakes),
            "minted": self.minted,
            "burned": self.burned,
            "genesis_supply": self.genesis_supply,
            "pending": None if self.pending is None else list(self.pending),
            "slashed": sorted(self.slashed),
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> LedgerState:
        """Rebuild a state from :meth:`to_json` output."""
        pending = value["pending"]
        return cls(
            dict(value["balances"]),
            dict(value["nonces"]),
            dict(value["stakes"]),
            value["minted"],
            value["burned"],
            value["genesis_supply"],
            None if pending is None else (pending[0], pending[1], pending[2]),
            frozenset(value["slashed"]),
        )

    def encode(self) -> bytes:
        """Return the canonical bytes."""
        return canonical_json(self.to_json())

    @classmethod
    def decode(cls, data: bytes) -> LedgerState:
        """Parse canonical bytes and check the root is what they hash to."""
        return cls.from_json(parse_canonical_json(data))


def make_genesis(balances: Mapping[str, int], validators: ValidatorSet) -> LedgerState:
    """Return the genesis state: account balances and the validators' stakes."""
    stakes = {v.id: v.stake for v in validators.validators}
    supply = sum(balances.values()) + sum(stakes.values())
    return LedgerState(dict(balances), {}, stakes, 0, 0, supply, None, frozenset())


def slash_mark(slash_key: tuple[str, str, int]) -> str:
    """Return how the state records that ``slash_key`` was slashed."""
    return "/".join(str(part) for part in slash_key)


def reward_account(validators: ValidatorSet, validator_id: str) -> str:
    """Return the account (hex public key) a validator's rewards are paid to."""
    member = validators.get(validator_id)
    return to_hex(member.public_key) if member is not None else validator_id


class StateRepository:
    """Content-addressed ledger states: root -> state (shared by simulated nodes)."""

    def __init__(self) -> None:
        self._states: dict[bytes, LedgerState] = {}

    def put(self, state: LedgerState) -> bytes:
        """Store ``state`` and return its root."""
        self._states.setdefault(state.root, state)
        return state.root

    def get(self, root: bytes) -> LedgerState:
        """Return the state at ``root``; raise ProtocolViolation("R3.1") if unknown."""
        state = self._states.get(root)
        if state is None:
            raise ProtocolViolation("R3.1", f"no state with root {to_hex(root)[:16]}")
        return state

    def __contains__(self, root: bytes) -> bool:
        return root in self._states


def parse_block_items(block: ProofBlock) -> tuple[list[Transfer], list[Proof]]:
    """Parse a block's transactions and proofs strictly (E4); raise MalformedObjectError."""
    return (
        [transfer_from_json(t) for t in block.transactions],
        [proof_from_json(p) for p in block.proofs],
    )


class LedgerValidator:
    """Verify every proof of a block with Z3 against the pre-state (R1.1, R1.5, R7.1).

    A block is valid when every transaction is signed (R5.5), applies in order without
    overdraft or nonce gap (R7.1), and is covered by exactly one transfer proof whose text is
    the judge's obligation on the running state and which re-verifies as valid with Z3.
    ``verify`` is the proof verifier (memoizable: a pure function of the proof).
    """

    def __init__(self, repository: StateRepository, verify: Any = verify_proof) -> None:
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
        balances = dict(state.balances)
        nonces = dict(state.nonces)
        checks: list[ProofCheck] = []
        total = 0
        failure = ("", "")
        for index, (tx, proof) in enumerate(zip(transfers, proofs, strict=True)):
            result: VerificationResult = self.verify(proof)
            intrinsic = result.verdict is not Verdict.VALID
            outcome = ProofOutcome(result.verdict.value)
            reason = result.detail or (result.reason.value if result.reason else "")
            sender, receiver = to_hex(tx.sender), to_hex(tx.receiver)
            balance, nonce = balances.get(sender, 0), nonces.get(sender, 0)
            if not failure[0]:
                if intrinsic:
                    failure = ("R1.5", f"proof {index} is {outcome.value}: {reason}")
                elif not tx.is_signature_valid():
                    failure = ("R5.5", f"transaction {index} has a bad signature")
                elif proof.kind is not ProofKind.TRANSFER or proof.subjects != (tx.transaction_id,):
                    failure = ("R1.1", f"proof {index} does not cover transaction {index}")
                else:
                    try:
                        check_transfer(tx, balance, nonce)
                    except TransactionRejected as exc:
                        failure = ("R7.1", f"transaction {index}: {exc.detail}")
                    else:
                        if proof.smt != get_transfer_obligation(tx, balance, nonce):
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
            balances[sender] = balance - tx.amount
            balances[receiver] = balances.get(receiver, 0) + tx.amount
            nonces[sender] = nonce + 1
        if failure[0]:
            return BlockVerdict(False, tuple(checks), total, failure[0], failure[1])
        return BlockVerdict(True, tuple(checks), total)

    def is_proof_invalid(self, block: ProofBlock, index: int) -> bool:
        """Re-verify proof ``index`` of ``block`` on its own (false-claim evidence, R1.5)."""
        try:
            proof = proof_from_json(block.proofs[index])
        except (MalformedObjectError, IndexError):
            return True
        result: VerificationResult = self.verify(proof)
        return result.verdict is not Verdict.VALID


class LedgerExecutor:
    """Apply a block's transition, economics included (see the module docstring)."""

    def __init__(self, repository: StateRepository, genesis: LedgerState) -> None:
        self.repository = repository
        self._genesis = repository.put(genesis)

    def genesis_root(self) -> bytes:
        """Return the genesis root."""
        return self._genesis

    def get_stakes(self, root: bytes) -> Mapping[str, int]:
        """Return the stakes in the state at ``root``."""
        return self.repository.get(root).stakes

    def is_slashed(self, root: bytes, slash_key: tuple[str, str, int]) -> bool:
        """Return True if the state at ``root`` already slashed ``slash_key``."""
        return slash_mark(slash_key) in self.repository.get(root).slashed

    def execute(
        self,
        block: ProofBlock,
        verdict: BlockVerdict,
        pre_root: bytes,
        validators: ValidatorSet,
    ) -> Execution:
        """Apply ``block``; raise ProtocolViolation if a book would break (nothing stored)."""
        if not verdict.valid:
            raise ProtocolViolation(verdict.rule_id or "R1.1", "cannot execute an invalid block")
        state = self.repository.get(pre_root)
        balances = dict(state.balances)
        nonces = dict(state.nonces)
        stakes = dict(state.stakes)
        minted, burned = state.minted, state.burned
        rewards: dict[str, int] = {}
        if state.pending is not None:
            height, proposer, amount = state.pending
            cert = block.last_commit
            if cert is None or cert.height != height:
                raise ProtocolViolation("R4.1", "the block lacks the certificate to pay")
            members = {m: validators.stake_of(m) for m in cert.members}
            if amount:
                rewards = compute_reward_split(amount, members, proposer)
                for validator, share in rewards.items():
                    account = reward_account(validators, validator)
                    balances[account] = balances.get(account, 0) + share
                minted += amount
        slashed: dict[str, int] = {}
        marks = set(state.slashed)
        for evidence in block.evidence:
            mark = slash_mark(evidence.slash_key)
            if mark in marks:
                raise ProtocolViolation("R4.2", "evidence already slashed")
            marks.add(mark)
            stake = stakes.get(evidence.offender, 0)
            amount = compute_slash_amount(stake, evidence.offence)
            stakes[evidence.offender] = stake - amount
            slashed[evidence.offender] = slashed.get(evidence.offender, 0) + amount
            burned += amount
        transfers, _ = parse_block_items(block)
        for tx in transfers:
            sender, receiver = to_hex(tx.sender), to_hex(tx.receiver)
            if balances.get(sender, 0) < tx.amount or nonces.get(sender, 0) != tx.nonce:
                raise ProtocolViolation("R7.1", "a transfer overdraws or breaks nonce order")
            balances[sender] -= tx.amount
            balances[receiver] = balances.get(receiver, 0) + tx.amount
            nonces[sender] = tx.nonce + 1
        limit = compute_emission_limit(block.height)
        reward = min(compute_block_reward(verdict.total_difficulty), max(0, limit - minted))
        after = LedgerState(
            balances,
            nonces,
            stakes,
            minted,
            burned,
            state.genesis_supply,
            (block.height, block.proposer, reward),
            frozenset(marks),
        )
        if after.supply != after.genesis_supply + minted - burned:
            raise ProtocolViolation("R3.6", "the transition breaks conservation")
        if minted > compute_emission_limit(block.height):
            raise ProtocolViolation("R4.7", "minted supply exceeds the emission schedule")
        if any(v < 0 for v in balances.values()) or any(v < 0 for v in stakes.values()):
            raise ProtocolViolation("R3.6", "a balance or stake went negative")
        post_root = self.repository.put(after)
        return Execution(
            height=block.height,
            pre_root=pre_root,
            post_root=post_root,
            rewards=rewards,
            slashed=slashed,
            stakes={v: stakes[v] for v in slashed},
            minted=minted - state.minted,
            burned=burned - state.burned,
            minted_total=minted,
            burned_total=burned,
            total_supply=after.supply,
            genesis_supply=after.genesis_supply,
            pending_reward=reward,
            proof_count=len(verdict.checks),
            total_difficulty=verdict.total_difficulty,
            transfers=len(transfers),
        )
