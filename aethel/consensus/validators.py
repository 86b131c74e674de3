"""The validator set: who votes, with how much stake, and who leads each (height, view).

Rules kept here:

* A validator set is fixed per epoch, signed by the epoch authority (Domain.VALIDATOR_SET) and
  holds only members with stake >= MIN_STAKE (R4.3, P17). Voting power is stake (R7.2, P27).
* The quorum is q(W) = floor(2W/3) + 1 stake (R2.3, :func:`aethel.consensus.quorum.compute_quorum`).
* The leader of (height, view) is drawn by stake from SHA-256(epoch seed || height || view): the
  same on every node, proportional to stake, new for every view (R2.6).
* Slashing lowers a member's stake inside the epoch; a member that falls below MIN_STAKE stops
  counting at once (R4.3). :meth:`ValidatorSet.with_stakes` gives the set of the next height.
* A set of protocol version 2 (spec/consensus-v2.md, "The validator set of version 2") also
  lists each member's BLS key, proof of possession and region, and the set's first height and
  region latency table; it is signed in the domain ``aethel/validator-set/v2``. Its keys are
  registered once, when the set is created (V2.4, V2.6), and kept by every set derived from it
  (:class:`VersionTwo`).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from aethel.consensus.quorum import compute_quorum
from aethel.consensus.v2.collector import COLLECTOR_RULE, RegionTable, choose_collector
from aethel.consensus.v2.roster import Registration, Roster, register
from aethel.economics import MIN_STAKE
from aethel.encoding import (
    HASH_SIZE,
    Domain,
    DomainV2,
    KeyPair,
    SigningDomain,
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
    """One member of the validator set: id, Ed25519 public key and stake (base units); in a set
    of protocol version 2 also its BLS key, proof of possession and region (V2.4, V2.6, V2.10)."""

    id: str
    public_key: bytes
    stake: int
    bls_key: bytes | None = field(default=None, repr=False)
    bls_pop: bytes | None = field(default=None, repr=False)
    region: str | None = field(default=None, repr=False)

    def to_wire(self) -> dict[str, object]:
        """Return the canonical JSON form."""
        wire: dict[str, object] = {
            "id": self.id,
            "public_key": to_hex(self.public_key),
            "stake": self.stake,
        }
        if self.bls_key is not None:
            wire["bls_key"] = to_hex(self.bls_key)
            wire["bls_pop"] = to_hex(self.bls_pop or b"")
            wire["region"] = self.region
        return wire

    def with_stake(self, stake: int) -> Validator:
        """Return the member with ``stake`` (its keys and region unchanged)."""
        return Validator(self.id, self.public_key, stake, self.bls_key, self.bls_pop, self.region)


@dataclass(frozen=True, slots=True)
class VersionTwo:
    """What a validator set of protocol version 2 adds (spec/consensus-v2.md).

    ``roster`` holds every member of the epoch's signed set in set order, with its BLS key
    registered once (V2.4, V2.6) and its stake at this height: a member slashed below
    MIN_STAKE keeps its place with stake 0, so a certificate's bitmap (V2.7) means the same
    members at every height of the epoch.
    """

    first_height: int
    table: RegionTable
    roster: Roster
    #: (height, view, leader) -> the collector's index: the choice is a pure function of the
    #: set, so every replica holding this set shares it.
    _collectors: dict[tuple[int, int, int], int] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def collector(self, seed: bytes, height: int, view: int, leader: int) -> int:
        """Return the index of the collector of (height, view) led by member ``leader``
        (:func:`aethel.consensus.v2.collector.choose_collector`, V2.10)."""
        key = (height, view, leader)
        chosen = self._collectors.get(key)
        if chosen is None:
            if len(self._collectors) >= 1024:
                self._collectors.clear()
            chosen = choose_collector(self.roster, self.table, seed, height, view, leader)
            self._collectors[key] = chosen
        return chosen

    def to_wire(self) -> dict[str, object]:
        """Return the set-level members of the canonical JSON form."""
        return {
            "first_height": self.first_height,
            "regions": list(self.table.names),
            "latency_ms": [list(row) for row in self.table.latency_ms],
        }


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
    #: Protocol version 2's members (None: a version-1 set).
    v2: VersionTwo | None = field(default=None, repr=False)

    @classmethod
    def create(
        cls,
        epoch: int,
        seed: bytes,
        validators: Iterable[Validator],
        *,
        first_height: int | None = None,
        regions: Sequence[str] | None = None,
        latency_ms: Sequence[Sequence[int]] | None = None,
    ) -> ValidatorSet:
        """Validate members and build the set; raise ProtocolViolation naming the broken rule.

        A set of protocol version 2 names ``first_height``, ``regions`` and ``latency_ms``, and
        every member its BLS key, proof of possession and region: each key is registered here
        (V2.4, V2.6), once, and the region table checked (V2.10).
        """
        members = sorted(validators, key=lambda v: v.id)
        built = cls._build(epoch, seed, members)
        versioned = first_height is not None or any(m.bls_key is not None for m in members)
        if not versioned:
            if regions is not None or latency_ms is not None:
                raise ProtocolViolation("V2.1", "a region table without a first height")
            return built
        if type(first_height) is not int or first_height < 1:
            raise ProtocolViolation("V2.1", f"first_height {first_height!r} is not an int >= 1")
        if regions is None or latency_ms is None:
            raise ProtocolViolation(COLLECTOR_RULE, "a version-2 set has regions and latency_ms")
        table = RegionTable(tuple(regions), tuple(tuple(row) for row in latency_ms))
        for member in members:
            if member.bls_key is None or member.bls_pop is None or member.region is None:
                raise ProtocolViolation(
                    "V2.6", f"validator {member.id} has no BLS key, proof or region"
                )
            table.index(member.region)
        roster = register(
            [
                Registration(m.id, m.stake, m.bls_key or b"", m.bls_pop or b"", m.region or "")
                for m in members
            ]
        )
        return replace(built, v2=VersionTwo(first_height, table, roster))

    @classmethod
    def _build(
        cls,
        epoch: int,
        seed: bytes,
        members: list[Validator],
        v2: VersionTwo | None = None,
    ) -> ValidatorSet:
        """Check the version-1 rules of sorted ``members`` and build the set."""
        if not members:
            raise ProtocolViolation("R4.3", "a validator set has at least one member")
        if type(epoch) is not int or epoch < 0:
            raise ProtocolViolation("E2", f"epoch must be a non-negative int, got {epoch!r}")
        if not isinstance(seed, bytes) or len(seed) != HASH_SIZE:
            raise ProtocolViolation("E5", "the epoch seed is 32 bytes")
        seen_ids: set[str] = set()
        seen_keys: set[bytes] = set()
        for member in members:
            if not isinstance(member.id, str) or not VALIDATOR_ID_PATTERN.match(member.id):
                raise ProtocolViolation("E12", f"validator id {member.id!r} is not a valid name")
            if member.id in seen_ids:
                raise ProtocolViolation("R4.3", f"validator id {member.id} appears twice")
            if not isinstance(member.public_key, bytes) or len(member.public_key) != 32:
                raise ProtocolViolation("E5", f"validator {member.id} has no 32-byte public key")
            if member.public_key in seen_keys:
                # Two members with one key would let one signer vote twice (R7.2).
                raise ProtocolViolation("R4.3", f"validator {member.id} reuses another's key")
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
            v2=v2,
        )

    @property
    def version(self) -> int:
        """Return the protocol version of the set's form: 2 if it lists BLS keys, else 1."""
        return 1 if self.v2 is None else 2

    @property
    def domain(self) -> SigningDomain:
        """Return the domain its authority signs it in (E7, V2.2)."""
        return Domain.VALIDATOR_SET if self.v2 is None else DomainV2.VALIDATOR_SET

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
                updated.append(
                    Validator(member.id, member.public_key, stake)
                    if self.v2 is None
                    else member.with_stake(stake)
                )
        if not updated:
            raise ProtocolViolation("R4.3", "slashing left no member with the minimum stake")
        if self.v2 is None:
            return ValidatorSet.create(self.epoch, self.seed, updated)
        # Version 2: the registered keys are kept (never parsed again); members dropped below
        # MIN_STAKE keep their place in the roster with stake 0.
        kept = {m.id: m.stake for m in updated}
        roster = self.v2.roster.with_stakes([kept.get(m.id, 0) for m in self.v2.roster.members])
        v2 = VersionTwo(self.v2.first_height, self.v2.table, roster)
        return ValidatorSet._build(self.epoch, self.seed, updated, v2)

    def to_wire(self) -> dict[str, object]:
        """Return the canonical JSON form (the signed body of a validator set)."""
        wire: dict[str, object] = {
            "epoch": self.epoch,
            "seed": to_hex(self.seed),
            "validators": [m.to_wire() for m in self.validators],
        }
        if self.v2 is not None:
            wire.update(self.v2.to_wire())
        return wire


@dataclass(frozen=True, slots=True)
class SignedValidatorSet:
    """A validator set signed by its epoch authority (R7.5)."""

    validator_set: ValidatorSet
    authority: bytes
    signature: bytes

    @classmethod
    def sign(cls, validator_set: ValidatorSet, authority: KeyPair) -> SignedValidatorSet:
        """Sign ``validator_set`` with the authority key."""
        signature = authority.sign(validator_set.domain, validator_set.to_wire())
        return cls(validator_set, authority.public_key, signature)

    def verify(self, authority: bytes) -> ValidatorSet:
        """Return the set if it is signed by ``authority``; raise ProtocolViolation otherwise."""
        domain = self.validator_set.domain
        if self.authority != authority or not verify_signature(
            authority, domain, self.validator_set.to_wire(), self.signature
        ):
            raise ProtocolViolation("R7.5", "the validator set is not signed by the authority")
        return self.validator_set

    def signing_payload(self) -> bytes:
        """Return the bytes the authority signs."""
        return signing_bytes(self.validator_set.domain, self.validator_set.to_wire())


_SET_FIELDS = {"epoch", "seed", "validators"}
_SET_FIELDS_V2 = _SET_FIELDS | {"first_height", "regions", "latency_ms"}
_MEMBER_FIELDS = {"id", "public_key", "stake"}
_MEMBER_FIELDS_V2 = _MEMBER_FIELDS | {"bls_key", "bls_pop", "region"}


def parse_validator_set(value: object) -> ValidatorSet:
    """Parse the canonical JSON form of a validator set strictly (E12, R4.3), of protocol
    version 1 or 2 (V2.4, V2.6, V2.10)."""
    if not isinstance(value, dict) or set(value) not in (_SET_FIELDS, _SET_FIELDS_V2):
        raise ProtocolViolation("E12", "a validator set has exactly epoch, seed, validators")
    versioned = set(value) == _SET_FIELDS_V2
    member_fields = _MEMBER_FIELDS_V2 if versioned else _MEMBER_FIELDS
    members = value["validators"]
    if not isinstance(members, list):
        raise ProtocolViolation("E12", "validators must be a list")
    parsed = []
    for item in members:
        if not isinstance(item, dict) or set(item) != member_fields:
            raise ProtocolViolation(
                "E12", f"a validator has exactly {', '.join(sorted(member_fields))}"
            )
        stake = item["stake"]
        if type(stake) is not int:
            raise ProtocolViolation("E12", "stake must be an integer")
        member = Validator(str(item["id"]), parse_hex(item["public_key"], length=32), stake)
        if versioned:
            region = item["region"]
            if not isinstance(region, str):
                raise ProtocolViolation(COLLECTOR_RULE, "a member's region is a name")
            member = Validator(
                member.id,
                member.public_key,
                stake,
                parse_hex(item["bls_key"], rule_id="V2.4"),
                parse_hex(item["bls_pop"], rule_id="V2.6"),
                region,
            )
        parsed.append(member)
    epoch = value["epoch"]
    if type(epoch) is not int:
        raise ProtocolViolation("E12", "epoch must be an integer")
    seed = parse_hex(value["seed"], length=HASH_SIZE)
    if not versioned:
        return ValidatorSet.create(epoch, seed, parsed)
    regions, latency = value["regions"], value["latency_ms"]
    if not isinstance(regions, list) or not all(isinstance(r, str) for r in regions):
        raise ProtocolViolation(COLLECTOR_RULE, "regions is a list of names")
    if not isinstance(latency, list) or not all(isinstance(row, list) for row in latency):
        raise ProtocolViolation(COLLECTOR_RULE, "latency_ms is a list of rows")
    return ValidatorSet.create(
        epoch,
        seed,
        parsed,
        first_height=value["first_height"],
        regions=regions,
        latency_ms=latency,
    )


def make_validator_keys(count: int, seed: int) -> list[KeyPair]:
    """Return ``count`` deterministic key pairs for tests and simulations (never for production)."""
    import random

    if type(count) is not int or count < 1:
        raise UsageError(f"count must be a positive int, got {count!r}")
    rng = random.Random(f"aethel-validator-keys/{seed}")
    return [KeyPair.generate(rng) for _ in range(count)]
