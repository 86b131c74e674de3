"""The members of a height in version 2: ids, stakes, regions and BLS keys kept after their proof
of possession was checked (V2.4, V2.6). Members are in validator-set order (by id), the order of a
certificate's bitmap (V2.7).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from aethel.consensus.quorum import compute_quorum
from aethel.crypto import bls
from aethel.errors import ProtocolViolation

ROSTER_RULE = "V2.6"


@dataclass(frozen=True, slots=True)
class Registration:
    """What a version-2 validator set lists for one member (before any check)."""

    id: str
    stake: int
    bls_key: bytes
    bls_pop: bytes
    region: str


@dataclass(frozen=True, slots=True)
class Member:
    """A registered member: its key was validated and its proof of possession verified."""

    id: str
    stake: int
    key: bls.PublicKey
    region: str


@dataclass(frozen=True, slots=True)
class Roster:
    """The members of a height, in set order, with their total stake W and quorum q(W)."""

    members: tuple[Member, ...]
    total: int = field(init=False)
    quorum: int = field(init=False)
    #: id -> position in set order (the bit of a certificate's bitmap, V2.7).
    index: dict[str, int] = field(init=False, repr=False, compare=False)
    #: The largest stake of one member (bounds what a count of votes can hold).
    max_stake: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ids = [m.id for m in self.members]
        if not ids or ids != sorted(ids) or len(set(ids)) != len(ids):
            raise ProtocolViolation(ROSTER_RULE, "members must be non-empty, unique, ordered by id")
        if len({m.key.data for m in self.members}) != len(ids):
            raise ProtocolViolation(ROSTER_RULE, "two members share one BLS key")
        # A member slashed below the minimum stake keeps its place with stake 0
        # (:meth:`with_stakes`); a registered member's stake is positive (:func:`register`).
        if any(type(m.stake) is not int or m.stake < 0 for m in self.members):
            raise ProtocolViolation(ROSTER_RULE, "every member's stake is a non-negative int")
        total = sum(m.stake for m in self.members)
        if total < 1:
            raise ProtocolViolation(ROSTER_RULE, "the members hold no stake")
        object.__setattr__(self, "total", total)
        object.__setattr__(self, "quorum", compute_quorum(total))
        object.__setattr__(self, "index", {member_id: i for i, member_id in enumerate(ids)})
        object.__setattr__(self, "max_stake", max(m.stake for m in self.members))

    def __len__(self) -> int:
        return len(self.members)

    def stake_of(self, indices: Sequence[int]) -> int:
        """Return the stake of the members at ``indices``."""
        return sum(self.members[i].stake for i in indices)

    def with_stakes(self, stakes: Sequence[int]) -> Roster:
        """Return the roster with member i holding ``stakes[i]`` (0: slashed below the minimum,
        it keeps its place in set order); the kept keys are reused, never parsed again."""
        if len(stakes) != len(self.members):
            raise ProtocolViolation(ROSTER_RULE, "one stake per member")
        return Roster(
            tuple(
                Member(m.id, stake, m.key, m.region)
                for m, stake in zip(self.members, stakes, strict=True)
            )
        )


def register(registrations: Sequence[Registration]) -> Roster:
    """Check every member's key and proof of possession and return the roster; a set with one
    bad key or proof is refused whole (V2.4, V2.6). Each key is parsed here once and kept."""
    members = [
        Member(r.id, r.stake, bls.register_key(r.bls_key, r.bls_pop), r.region)
        for r in sorted(registrations, key=lambda r: r.id)
    ]
    roster = Roster(tuple(members))
    if any(m.stake < 1 for m in members):
        raise ProtocolViolation(ROSTER_RULE, "every member's stake is a positive int")
    return roster
