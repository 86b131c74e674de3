"""Mutants of consensus protocol version 2's pure rules (capability ``consensus-v2``).

Each replaces one step of the reference's capability (conformance/adapters/reference_v2.py) with
what another implementation's function plausibly does instead: a certificate check that trusts
the bitmap, a registration that never checks the proof, a collector that judges quorum on the
votes it received, a quorum of floor(2W/3), a bitmap read member by member, a key decoder that
lets the point at infinity through (as most BLS libraries' deserializers do), a region table
taken as given, and a few more of the ciphersuite and the collector.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac

from aethel.consensus.v2.aggregation import VoteAggregator
from aethel.consensus.v2.certificate import (
    VALIDITY_RULE,
    Certificate,
    CertificateError,
    VoteTarget,
    bitmap,
    parse_certificate,
)
from aethel.consensus.v2.collector import (
    COLLECTOR_DRAW_TAG,
    RegionTable,
    choose_collector,
    collector_region,
    region_stakes,
)
from aethel.consensus.v2.roster import Member, Roster
from aethel.crypto import _blst, bls
from aethel.encoding import parse_hex, sha256
from aethel.errors import UsageError
from conformance.adapters.api import JSON, Hex
from conformance.adapters.reference import ReferenceImplementation
from conformance.adapters.reference_errors import rejecting
from conformance.adapters.reference_v2 import ReferenceConsensusV2, registrations
from conformance.mutants import Mutant

CAPABILITIES = ("consensus-v2",)


# --------------------------------------------------------------------------- certificates


class BitmapTrusted(ReferenceConsensusV2):
    """Defect: counts the bitmap's stake and never checks the aggregate against it (the
    collector is trusted to have verified the votes)."""

    def certificate_members(self, wire: JSON, roster: Roster) -> list[int]:
        certificate = parse_certificate(wire, len(roster))
        members = certificate.members()
        if roster.stake_of(members) < roster.quorum:
            raise CertificateError(VALIDITY_RULE, "below q(W)")
        return members


class FloorQuorum(ReferenceConsensusV2):
    """Defect: a certificate needs stake >= floor(2W/3), the 'two thirds' read without the
    strict inequality (q(W) is floor(2W/3) + 1)."""

    def certificate_members(self, wire: JSON, roster: Roster) -> list[int]:
        certificate = parse_certificate(wire, len(roster))
        members = certificate.members()
        if roster.stake_of(members) < 2 * roster.total // 3:
            raise CertificateError(VALIDITY_RULE, "below two thirds")
        keys = [roster.members[i].key for i in members]
        if not bls.fast_aggregate_verify(keys, certificate.target.message(), certificate.aggregate):
            raise CertificateError(VALIDITY_RULE, "the aggregate does not verify")
        return members


class PaddingIgnored(ReferenceConsensusV2):
    """Defect: reads the bitmap one member at a time, so bits past the last member are never
    looked at (and a bitmap with them set is taken as the bitmap without them)."""

    def certificate_members(self, wire: JSON, roster: Roster) -> list[int]:
        if isinstance(wire, dict) and isinstance(wire.get("signers"), str):
            size = len(roster)
            try:
                signers = bytearray(bytes.fromhex(wire["signers"]))
            except ValueError:
                signers = bytearray()
            if len(signers) == (size + 7) // 8 and size % 8:
                signers[-1] &= 0xFF ^ (0xFF >> (size % 8))
                wire = {**wire, "signers": signers.hex()}
        return super().certificate_members(wire, roster)


# --------------------------------------------------------------------------- keys and proofs


class PossessionSkipped(ReferenceConsensusV2):
    """Defect: registers a member's key after validating it, without checking its proof of
    possession (the rogue-key attack goes through)."""

    def registered_key(self, key: bytes, proof: bytes) -> bls.PublicKey:
        return self.public_key(key)

    def roster(self, members: JSON) -> Roster:
        found = sorted(registrations(members), key=lambda r: r.id)
        return Roster(
            tuple(Member(r.id, r.stake, self.public_key(r.bls_key), r.region) for r in found)
        )


class InfinityKeyAccepted(ReferenceConsensusV2):
    """Defect: validates a key by decompressing it, as a BLS library's deserializer does,
    which accepts the point at infinity (KeyValidate also refuses the identity)."""

    def public_key(self, data: bytes) -> bls.PublicKey:
        try:
            return bls.PublicKey(data, _blst.decode_g1(data))
        except _blst.DecodeError as exc:
            raise bls.BlsError("V2.4", exc.reason) from None


class InfinitySignatureAccepted(ReferenceConsensusV2):
    """Defect: parses a signature by decompressing it only, so the point at infinity (a valid
    encoding of the group's identity) passes as a signature."""

    def signature(self, data: bytes) -> bls.Signature:
        try:
            return bls.Signature(data, _blst.decode_g2(data))
        except _blst.DecodeError as exc:
            raise bls.BlsError("V2.5", exc.reason) from None


# --------------------------------------------------------------------------- the ciphersuite

#: The ciphersuite without proofs of possession ('NUL'): another suite's domain tag.
NUL_DST = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_"


class NulCiphersuite(ReferenceConsensusV2):
    """Defect: signs and verifies with the basic ('NUL') ciphersuite's tag, the default of
    several libraries, instead of the proof-of-possession suite's (V2.3)."""

    @rejecting
    def sign(self, secret_key: Hex, message: Hex) -> Hex:
        scalar = bls.SecretKey.from_bytes(parse_hex(secret_key)).scalar
        point = _blst.mul_g2(_blst.hash_to_g2(parse_hex(message), NUL_DST), scalar)
        return _blst.encode_g2(point).hex()

    @rejecting
    def verify(self, public_key: Hex, message: Hex, signature: Hex) -> bool:
        key = self.public_key(parse_hex(public_key))
        sig = self.signature(parse_hex(signature))
        hashed = _blst.hash_to_g2(parse_hex(message), NUL_DST)
        return _blst.pairings_equal(key.point, hashed, _blst.g1_generator(), sig.point)


class OldDraftKeygen(ReferenceConsensusV2):
    """Defect: KeyGen of the BLS draft's version 2 (HKDF with the salt used as it is, no
    hashing of the salt, no retry): every key differs from the ciphersuite's (V2.3)."""

    @rejecting
    def keygen(self, seed: Hex, key_info: Hex) -> JSON:
        ikm, info = parse_hex(seed), parse_hex(key_info)
        if len(ikm) < bls.MIN_SEED_SIZE:
            raise UsageError("a BLS seed holds at least 32 bytes")
        prk = hmac.new(b"BLS-SIG-KEYGEN-SALT-", ikm + b"\x00", hashlib.sha256).digest()
        okm, block, counter = b"", b"", 1
        while len(okm) < 48:
            block = hmac.new(
                prk, block + info + (48).to_bytes(2, "big") + bytes([counter]), hashlib.sha256
            ).digest()
            okm += block
            counter += 1
        secret = bls.SecretKey(int.from_bytes(okm[:48], "big") % bls.ORDER)
        return {"secret_key": secret.to_bytes().hex(), "public_key": secret.public_key().data.hex()}


def _lsb_first(signers: str) -> str:
    """Return the bitmap with the bits of every byte reversed (bit i of a byte read as 1 << i)."""
    return bytes(int(f"{b:08b}"[::-1], 2) for b in bytes.fromhex(signers)).hex()


class BitmapLsbFirst(ReferenceConsensusV2):
    """Defect: numbers a bitmap's bits from the least significant bit of each byte (member i is
    bit 1 << (i mod 8)), as bit sets usually are, where V2.7 puts member i at 0x80 >> (i mod 8);
    it reads and writes bitmaps that way."""

    def certificate_members(self, wire: JSON, roster: Roster) -> list[int]:
        if isinstance(wire, dict) and isinstance(wire.get("signers"), str):
            with contextlib.suppress(ValueError):  # not hex: the reference refuses it
                wire = {**wire, "signers": _lsb_first(wire["signers"])}
        return super().certificate_members(wire, roster)

    def aggregator(self, roster: Roster, target: VoteTarget) -> VoteAggregator:
        return LsbFirstAggregator(roster, target)


class LsbFirstAggregator(VoteAggregator):
    """Writes the certificate's bitmap least significant bit first."""

    def certificate(self) -> Certificate | None:
        made = super().certificate()
        if made is None:
            return None
        return Certificate(
            made.target, bytes.fromhex(_lsb_first(made.signers.hex())), made.aggregate
        )


#: The members a certificate has (V2.7); anything else is dropped by the lenient parser.
CERTIFICATE_MEMBERS = frozenset(
    {"type", "height", "view", "digest", "post_root", "signers", "aggregate"}
)


class UnknownMembersIgnored(ReferenceConsensusV2):
    """Defect: decodes a certificate leniently, as JSON libraries do by default: members it does
    not know are skipped instead of making the certificate malformed (V2.7)."""

    def certificate_members(self, wire: JSON, roster: Roster) -> list[int]:
        if isinstance(wire, dict):
            wire = {k: v for k, v in wire.items() if k in CERTIFICATE_MEMBERS}
        return super().certificate_members(wire, roster)


class RosterWithSharedKeys(Roster):
    """A roster that counts its members without looking for two sharing one key."""

    def __post_init__(self) -> None:
        total = sum(m.stake for m in self.members)
        object.__setattr__(self, "total", total)
        object.__setattr__(self, "quorum", 2 * total // 3 + 1)


class SharedKeyAccepted(ReferenceConsensusV2):
    """Defect: registers every member's key and proof on its own and never checks that two
    members hold different keys (V2.6): one key, one proof, counted twice."""

    def roster(self, members: JSON) -> Roster:
        found = sorted(registrations(members), key=lambda r: r.id)
        return RosterWithSharedKeys(
            tuple(
                Member(r.id, r.stake, self.registered_key(r.bls_key, r.bls_pop), r.region)
                for r in found
            )
        )


# --------------------------------------------------------------------------- the collector


class QuorumOnReceivedVotes(VoteAggregator):
    """Judges q(W) on every vote received; once the bad ones are dropped it certifies the rest
    without counting again."""

    def certificate(self) -> Certificate | None:
        if self.stake() < self.roster.quorum:
            return None
        if self.pending:
            self._settle(sorted(self.pending))
        members = sorted(self.kept)
        if not members:
            return None
        aggregate = bls.aggregate([self.kept[i] for i in members])
        return Certificate(self.target, bitmap(members, len(self.roster)), aggregate)


class VotesOutsideCounted(ReferenceConsensusV2):
    """Defect: the collector counts the votes it received toward q(W), bad ones included, so
    after dropping them it certifies a bitmap below q(W)."""

    def aggregator(self, roster: Roster, target: VoteTarget) -> VoteAggregator:
        return QuorumOnReceivedVotes(roster, target)


class BatchDropped(VoteAggregator):
    """When the aggregate of the votes fails, drops all of them and waits for more."""

    def _settle(self, indices: list[int]) -> None:
        if self._verifies(indices):
            for i in indices:
                self.kept[i] = self.pending.pop(i)
            return
        for i in indices:
            self.discarded.add((i, self.pending.pop(i).data))


class BadVotesDropTheBatch(ReferenceConsensusV2):
    """Defect: a collector whose aggregate fails throws the whole batch away instead of
    searching it for the bad votes (V2.9), so one bad vote stalls the certificate."""

    def aggregator(self, roster: Roster, target: VoteTarget) -> VoteAggregator:
        return BatchDropped(roster, target)


class UncheckedTable(RegionTable):
    """A region table taken as the set declares it."""

    def __post_init__(self) -> None:
        pass


class TableUnchecked(ReferenceConsensusV2):
    """Defect: takes the region table as given (no check that it is square, symmetric, of
    non-negative integers, with distinct names): a malformed set still names a collector."""

    def region_table(self, regions: JSON, latency_ms: JSON) -> RegionTable:
        return UncheckedTable(tuple(regions), tuple(tuple(row) for row in latency_ms))


class DrawByCount(ReferenceConsensusV2):
    """Defect: draws the collector among the chosen region's members by count, each member
    equally likely, instead of by stake (V2.10)."""

    def collector(
        self,
        roster: Roster,
        table: RegionTable,
        epoch_seed: bytes,
        height: int,
        view: int,
        leader: int,
    ) -> int:
        stakes = region_stakes(roster, table)
        if view > 0:
            return leader
        leader_region = table.index(roster.members[leader].region)
        chosen = collector_region(table, stakes, roster.quorum, leader_region)
        if chosen == leader_region:
            return leader
        draw = sha256(
            COLLECTOR_DRAW_TAG + epoch_seed + height.to_bytes(8, "big") + view.to_bytes(8, "big")
        )
        region = [i for i, m in enumerate(roster.members) if table.index(m.region) == chosen]
        return region[int.from_bytes(draw, "big") % len(region)]


class LatestVoteKept(VoteAggregator):
    """Keeps each validator's latest vote, unchecked, in place of an earlier one."""

    def add(self, index: int, signature: bls.Signature) -> None:
        if 0 <= index < len(self.roster) and index not in self.kept:
            self.pending[index] = signature


class LaterVoteReplacesEarlier(ReferenceConsensusV2):
    """Defect: a collector that files votes by validator and lets a later vote overwrite an
    earlier one unchecked (V2.9): a garbage vote in a member's name, sent after the member's
    own, pushes the good one out."""

    def aggregator(self, roster: Roster, target: VoteTarget) -> VoteAggregator:
        return LatestVoteKept(roster, target)


class UnknownRegionIgnored(ReferenceConsensusV2):
    """Defect: sums the stake per region with a lookup that skips a member whose region the
    table does not list (V2.10), instead of refusing the set."""

    def collector(
        self,
        roster: Roster,
        table: RegionTable,
        epoch_seed: bytes,
        height: int,
        view: int,
        leader: int,
    ) -> int:
        listed = [m for m in roster.members if m.region in table.names]
        if roster.members[leader] not in listed:
            return leader
        known = Roster(tuple(listed))
        chosen = choose_collector(
            known, table, epoch_seed, height, view, listed.index(roster.members[leader])
        )
        return roster.members.index(listed[chosen])


# --------------------------------------------------------------------------- the mutants


class BitmapTrustedImplementation(ReferenceImplementation):
    name = "mutant-bitmap-counted-without-aggregate-check"

    def make_consensus_v2(self) -> object:
        return BitmapTrusted()


class PossessionSkippedImplementation(ReferenceImplementation):
    name = "mutant-proof-of-possession-skipped"

    def make_consensus_v2(self) -> object:
        return PossessionSkipped()


class VotesOutsideCountedImplementation(ReferenceImplementation):
    name = "mutant-vote-outside-the-bitmap-counted"

    def make_consensus_v2(self) -> object:
        return VotesOutsideCounted()


class FloorQuorumImplementation(ReferenceImplementation):
    name = "mutant-quorum-off-by-one"

    def make_consensus_v2(self) -> object:
        return FloorQuorum()


class PaddingIgnoredImplementation(ReferenceImplementation):
    name = "mutant-padding-bits-ignored"

    def make_consensus_v2(self) -> object:
        return PaddingIgnored()


class InfinityKeyAcceptedImplementation(ReferenceImplementation):
    name = "mutant-infinity-key-accepted"

    def make_consensus_v2(self) -> object:
        return InfinityKeyAccepted()


class TableUncheckedImplementation(ReferenceImplementation):
    name = "mutant-region-table-unchecked"

    def make_consensus_v2(self) -> object:
        return TableUnchecked()


class InfinitySignatureAcceptedImplementation(ReferenceImplementation):
    name = "mutant-infinity-signature-accepted"

    def make_consensus_v2(self) -> object:
        return InfinitySignatureAccepted()


class NulCiphersuiteImplementation(ReferenceImplementation):
    name = "mutant-nul-ciphersuite"

    def make_consensus_v2(self) -> object:
        return NulCiphersuite()


class OldDraftKeygenImplementation(ReferenceImplementation):
    name = "mutant-keygen-of-an-old-draft"

    def make_consensus_v2(self) -> object:
        return OldDraftKeygen()


class BadVotesDropTheBatchImplementation(ReferenceImplementation):
    name = "mutant-bad-vote-drops-the-batch"

    def make_consensus_v2(self) -> object:
        return BadVotesDropTheBatch()


class DrawByCountImplementation(ReferenceImplementation):
    name = "mutant-collector-drawn-by-count"

    def make_consensus_v2(self) -> object:
        return DrawByCount()


class BitmapLsbFirstImplementation(ReferenceImplementation):
    name = "mutant-bitmap-lsb-first"

    def make_consensus_v2(self) -> object:
        return BitmapLsbFirst()


class UnknownMembersIgnoredImplementation(ReferenceImplementation):
    name = "mutant-certificate-unknown-members-ignored"

    def make_consensus_v2(self) -> object:
        return UnknownMembersIgnored()


class SharedKeyAcceptedImplementation(ReferenceImplementation):
    name = "mutant-shared-bls-key-accepted"

    def make_consensus_v2(self) -> object:
        return SharedKeyAccepted()


class LaterVoteReplacesEarlierImplementation(ReferenceImplementation):
    name = "mutant-later-vote-replaces-earlier"

    def make_consensus_v2(self) -> object:
        return LaterVoteReplacesEarlier()


class OddHexKeyPadded(ReferenceConsensusV2):
    """Defect: a member's ``bls_key`` in hex of odd length is read with a ``0`` put in front, as
    a lenient hex decoder does, instead of being refused as malformed hex (E5): the set is then
    refused for whatever key those bytes make, naming another rule, or taken."""

    def roster(self, members: JSON) -> Roster:
        if isinstance(members, list):
            members = [
                {**m, "bls_key": "0" + m["bls_key"]}
                if isinstance(m, dict)
                and isinstance(m.get("bls_key"), str)
                and len(m["bls_key"]) % 2
                else m
                for m in members
            ]
        return super().roster(members)


class OddHexKeyPaddedImplementation(ReferenceImplementation):
    name = "mutant-odd-hex-key-padded"

    def make_consensus_v2(self) -> object:
        return OddHexKeyPadded()


class UnknownRegionIgnoredImplementation(ReferenceImplementation):
    name = "mutant-unknown-region-ignored"

    def make_consensus_v2(self) -> object:
        return UnknownRegionIgnored()


MUTANTS = [
    Mutant(
        name="bitmap-counted-without-aggregate-check",
        defect=(
            "a certificate counts if its bitmap's stake reaches q(W); the aggregate is never "
            "checked against the bitmap's keys"
        ),
        breaks=("V2.8",),
        capabilities=CAPABILITIES,
        build=BitmapTrustedImplementation,
    ),
    Mutant(
        name="proof-of-possession-skipped",
        defect=(
            "a member's key is registered without checking its proof of possession (rogue "
            "keys accepted)"
        ),
        breaks=("V2.6",),
        capabilities=CAPABILITIES,
        build=PossessionSkippedImplementation,
    ),
    Mutant(
        name="vote-outside-the-bitmap-counted",
        defect=(
            "the collector judges q(W) on every vote received, bad ones included, and "
            "certifies the good ones below q(W)"
        ),
        breaks=("V2.8",),
        capabilities=CAPABILITIES,
        build=VotesOutsideCountedImplementation,
    ),
    Mutant(
        name="quorum-off-by-one",
        defect="a certificate needs floor(2W/3) stake instead of q(W) = floor(2W/3) + 1",
        breaks=("V2.8",),
        capabilities=CAPABILITIES,
        build=FloorQuorumImplementation,
    ),
    Mutant(
        name="padding-bits-ignored",
        defect=(
            "bits of the bitmap past the last member are never read, so a bitmap with them "
            "set passes"
        ),
        breaks=("V2.7",),
        capabilities=CAPABILITIES,
        build=PaddingIgnoredImplementation,
    ),
    Mutant(
        name="infinity-key-accepted",
        defect=(
            "a BLS key is validated by decompression alone, which lets the point at infinity "
            "through"
        ),
        breaks=("V2.4",),
        capabilities=CAPABILITIES,
        build=InfinityKeyAcceptedImplementation,
    ),
    Mutant(
        name="region-table-unchecked",
        defect=(
            "the validator set's region table is taken as given: not square, not symmetric, "
            "negative or repeated entries still name a collector"
        ),
        breaks=("V2.10",),
        capabilities=CAPABILITIES,
        build=TableUncheckedImplementation,
    ),
    Mutant(
        name="infinity-signature-accepted",
        defect=(
            "a BLS signature is parsed by decompression alone, which lets the point at "
            "infinity through"
        ),
        breaks=("V2.5",),
        capabilities=CAPABILITIES,
        build=InfinitySignatureAcceptedImplementation,
    ),
    Mutant(
        name="nul-ciphersuite",
        defect=(
            "signs and verifies with the basic (NUL) ciphersuite's domain tag instead of the "
            "proof-of-possession suite's"
        ),
        breaks=("V2.3",),
        capabilities=CAPABILITIES,
        build=NulCiphersuiteImplementation,
    ),
    Mutant(
        name="keygen-of-an-old-draft",
        defect=(
            "KeyGen of the BLS draft's version 2 (the salt not hashed): every derived key differs"
        ),
        breaks=("V2.3",),
        capabilities=CAPABILITIES,
        build=OldDraftKeygenImplementation,
    ),
    Mutant(
        name="bad-vote-drops-the-batch",
        defect=(
            "when the aggregate of the votes fails the collector drops them all instead of "
            "searching for the bad ones"
        ),
        breaks=("V2.9",),
        capabilities=CAPABILITIES,
        build=BadVotesDropTheBatchImplementation,
    ),
    Mutant(
        name="collector-drawn-by-count",
        defect="the collector is drawn among its region's members by count, not by stake",
        breaks=("V2.10",),
        capabilities=CAPABILITIES,
        build=DrawByCountImplementation,
    ),
    Mutant(
        name="bitmap-lsb-first",
        defect=(
            "the bitmap numbers members from each byte's least significant bit (1 << (i mod "
            "8)), reading and writing certificates that way"
        ),
        breaks=("V2.7",),
        capabilities=CAPABILITIES,
        build=BitmapLsbFirstImplementation,
    ),
    Mutant(
        name="certificate-unknown-members-ignored",
        defect=(
            "a certificate is decoded leniently: members it does not know are skipped, not refused"
        ),
        breaks=("V2.7",),
        capabilities=CAPABILITIES,
        build=UnknownMembersIgnoredImplementation,
    ),
    Mutant(
        name="shared-bls-key-accepted",
        defect=(
            "members are registered one by one; two members holding the same BLS key are not "
            "refused"
        ),
        breaks=("V2.6",),
        capabilities=CAPABILITIES,
        build=SharedKeyAcceptedImplementation,
    ),
    Mutant(
        name="later-vote-replaces-earlier",
        defect=(
            "the collector keeps each validator's latest vote unchecked, so garbage sent "
            "after a good vote in its name replaces it"
        ),
        breaks=("V2.9",),
        capabilities=CAPABILITIES,
        build=LaterVoteReplacesEarlierImplementation,
    ),
    Mutant(
        name="unknown-region-ignored",
        defect=(
            "a member whose region the table does not list is left out of the region stakes "
            "instead of the set being refused"
        ),
        breaks=("V2.10",),
        capabilities=CAPABILITIES,
        build=UnknownRegionIgnoredImplementation,
    ),
    Mutant(
        name="odd-hex-key-padded",
        defect="a member's BLS key in odd-length hex is padded with a leading 0, not refused (E5)",
        breaks=("E5",),
        capabilities=CAPABILITIES,
        build=OddHexKeyPaddedImplementation,
    ),
]
