"""The validator set: who votes, with how much stake, and who leads each (height, view).

Rules kept here:

* A validator set is fixed per epoch, signed by the epoch authority (Domain.VALIDATOR_SET) and
  holds only members with stake >= MIN_STAKE (R4.3, P17). Voting power is stake (R7.2, P27).
* The quorum is q(W) = floor(2W/3) + 1 stake (R2.3, :func:`aethel.consensus.quorum.compute_quorum`).
* The leader of (height, view) is drawn by stake from SHA-256(epoch seed || height || view): the
  same on every node, proportional to stake, new for every view (R2.6).
* Slashing lowers a member's stake inside the epoch; a member that falls below MIN_STAKE stops
  counting at once (R4.3). :meth:`ValidatorSet.with_stakes` gives the set of the next height.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from aethel.consensus.quorum import compute_quorum
from aethel.economics import MIN_STAKE
from aethel.encoding import (
    HASH_SIZE,
    Domain,
    KeyPair,
    parse_hex,
    sha256,
    signing_bytes,
    to_hex,
    verify_signature,
)
from aethel.errors import ProtocolViolation, UsageError

#: Validator ids are short ASCII names so canonical encodings of votes stay cheap and exact.
VALIDATOR_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


@dataclass(frozen=True, slots=True)
class Validator:
    """One member of the validator set: id, Ed25519 public key and stake (base units)."""

    id: str
    public_key: bytes
    stake: int

    def to_wire(self) -> dict[str, object]:
        """Return the canonical JSON form."""
        return {"id": self.id, "public_key": to_hex(self.public_key), "stake": self.stake}


@dataclass(frozen=True, slots=True)
class ValidatorSet:
    """An ordered validator set with its total stake W and quorum q(W) (R2.3, R4.3).

    Members are sorted by id; ``index`` maps an id to its position. Build it with
    :meth:`create`, which checks every rule.
    """

    epoch: int
    seed: bytes
    validators: tuple[Validator, ...]
    total_stake: int
    quorum: int
    index: Mapping[str, int] = field(repr=False, compare=False)
    _cumulative: tuple[int, ...] = field(repr=False, compare=False)

    @classmethod
    def create(cls, epoch: int, seed: bytes, validators: Iterable[Validator]) -> ValidatorSet:
        """Validate members and build the set; raise ProtocolViolation naming the broken rule."""
        members = sorted(validators, key=lambda v: v.id)
        if not members:
            raise ProtocolViolation("R2.2", "a validator set has at least one member")
        if type(epoch) is not int or epoch < 0:
            raise ProtocolViolation("R2.2", f"epoch must be a non-negative int, got {epoch!r}")
        if not isinstance(seed, bytes) or len(seed) != HASH_SIZE:
            raise ProtocolViolation("R2.2", "the epoch seed is 32 bytes")
        seen_ids: set[str] = set()
        seen_keys: set[bytes] = set()
        for member in members:
            if not isinstance(member.id, str) or not VALIDATOR_ID_PATTERN.match(member.id):
                raise ProtocolViolation("R2.2", f"validator id {member.id!r} is not a valid name")
            if member.id in seen_ids:
                raise ProtocolViolation("R2.2", f"validator id {member.id} appears twice")
            if not isinstance(member.public_key, bytes) or len(member.public_key) != 32:
                raise ProtocolViolation("R7.5", f"validator {member.id} has no 32-byte public key")
            if member.public_key in seen_keys:
                # Two members with one key would let one signer vote twice (R7.2).
                raise ProtocolViolation("R7.2", f"validator {member.id} reuses another's key")
            if type(member.stake) is not int or member.stake < MIN_STAKE:
                raise ProtocolViolation(
                    "R4.3", f"validator {member.id} stake {member.stake!r} < MIN_STAKE {MIN_STAKE}"
                )
            seen_ids.add(member.id)
            seen_keys.add(member.public_key)
        cumulative = []
        total = 0
        for member in members:
            total += member.stake
            cumulative.append(total)
        return cls(
            epoch=epoch,
            seed=seed,
            validators=tuple(members),
            total_stake=total,
            quorum=compute_quorum(total),
            index={m.id: i for i, m in enumerate(members)},
            _cumulative=tuple(cumulative),
        )

    def __len__(self) -> int:
        return len(self.validators)

    def get(self, validator_id: str) -> Validator | None:
        """Return the member named ``validator_id`` or None."""
        position = self.index.get(validator_id)
        return None if position is None else self.validators[position]

    def stake_of(self, validator_id: str) -> int:
        """Return the voting stake of ``validator_id`` (0 for a non-member: R4.3)."""
        position = self.index.get(validator_id)
        return 0 if position is None else self.validators[position].stake

    def get_leader(self, height: int, view: int) -> Validator:
        """Return the leader of (height, view), drawn by stake from the epoch seed (R2.6)."""
        draw = sha256(self.seed + height.to_bytes(8, "big") + view.to_bytes(8, "big"))
        ticket = int.from_bytes(draw, "big") % self.total_stake
        return self.validators[bisect.bisect_right(self._cumulative, ticket)]

    def with_stakes(self, stakes: Mapping[str, int]) -> ValidatorSet:
        """Return the set with new stakes for some members; drop those below MIN_STAKE (R4.3)."""
        if not stakes:
            return self
        updated = []
        for member in self.validators:
            stake = stakes.get(member.id, member.stake)
            if stake >= MIN_STAKE:
                updated.append(Validator(member.id, member.public_key, stake))
        if not updated:
            raise ProtocolViolation("R4.3", "slashing left no member with the minimum stake")
        return ValidatorSet.create(self.epoch, self.seed, updated)

    def to_wire(self) -> dict[str, object]:
        """Return the canonical JSON form (the signed body of a validator set)."""
        return {
            "epoch": self.epoch,
            "seed": to_hex(self.seed),
            "validators": [m.to_wire() for m in self.validators],
        }


@dataclass(frozen=True, slots=True)
class SignedValidatorSet:
    """A validator set signed by its epoch authority (R7.5)."""

    validator_set: ValidatorSet
    authority: bytes
    signature: bytes

    @classmethod
    def sign(cls, validator_set: ValidatorSet, authority: KeyPair) -> SignedValidatorSet:
        """Sign ``validator_set`` with the authority key."""
        signature = authority.sign(Domain.VALIDATOR_SET, validator_set.to_wire())
        return cls(validator_set, authority.public_key, signature)

    def verify(self, authority: bytes) -> ValidatorSet:
        """Return the set if it is signed by ``authority``; raise ProtocolViolation otherwise."""
        if self.authority != authority or not verify_signature(
            authority, Domain.VALIDATOR_SET, self.validator_set.to_wire(), self.signature
        ):
            raise ProtocolViolation("R7.5", "the validator set is not signed by the authority")
        return self.validator_set

    def signing_payload(self) -> bytes:
        """Return the bytes the authority signs."""
        return signing_bytes(Domain.VALIDATOR_SET, self.validator_set.to_wire())


def parse_validator_set(value: object) -> ValidatorSet:
    """Parse the canonical JSON form of a validator set strictly (R2.2, R4.3)."""
    if not isinstance(value, dict) or set(value) != {"epoch", "seed", "validators"}:
        raise ProtocolViolation("R2.2", "a validator set has exactly epoch, seed, validators")
    members = value["validators"]
    if not isinstance(members, list):
        raise ProtocolViolation("R2.2", "validators must be a list")
    parsed = []
    for item in members:
        if not isinstance(item, dict) or set(item) != {"id", "public_key", "stake"}:
            raise ProtocolViolation("R2.2", "a validator has exactly id, public_key, stake")
        stake = item["stake"]
        if type(stake) is not int:
            raise ProtocolViolation("R4.3", "stake must be an integer")
        parsed.append(Validator(str(item["id"]), parse_hex(item["public_key"], length=32), stake))
    epoch = value["epoch"]
    if type(epoch) is not int:
        raise ProtocolViolation("R2.2", "epoch must be an integer")
    return ValidatorSet.create(epoch, parse_hex(value["seed"], length=HASH_SIZE), parsed)


def make_validator_keys(count: int, seed: int) -> list[KeyPair]:
    """Return ``count`` deterministic key pairs for tests and simulations (never for production)."""
    import random

    if type(count) is not int or count < 1:
        raise UsageError(f"count must be a positive int, got {count!r}")
    rng = random.Random(f"aethel-validator-keys/{seed}")
    return [KeyPair.generate(rng) for _ in range(count)]
