"""Capability ``consensus-v2`` of the reference: aethel/crypto/bls.py and aethel/consensus/v2/
behind the wire forms of conformance/WIRE.md ("Capability consensus-v2").

The translation from JSON (members, targets, votes, region tables) to the reference's types is
here; every check of a key, signature, proof, certificate or region table is the reference's
own. The steps an implementation could get wrong are methods (:meth:`public_key`,
:meth:`signature`, :meth:`registered_key`, :meth:`roster`, :meth:`certificate_members`,
:meth:`aggregator`, :meth:`region_table`, :meth:`collector`), so the self-test's mutants
(conformance/mutants/consensus_v2.py) replace one of them the way another implementation's
function would differ.

Spec: V2.3, V2.4, V2.5, V2.6, V2.7, V2.8, V2.9, V2.10.
"""

from __future__ import annotations

from collections.abc import Mapping

from aethel.consensus.v2.aggregation import VoteAggregator
from aethel.consensus.v2.certificate import (
    CERTIFICATE_TYPES,
    VoteTarget,
    check_certificate,
    parse_certificate,
)
from aethel.consensus.v2.collector import RegionTable, choose_collector, region_stakes
from aethel.consensus.v2.roster import Registration, Roster, register
from aethel.crypto import bls
from aethel.encoding import parse_hex
from aethel.errors import ProtocolViolation, UsageError
from conformance.adapters.api import JSON, Hex
from conformance.adapters.errors import Rejected
from conformance.adapters.reference_errors import rejecting

#: Members of one member of a version-2 validator set (WIRE.md).
MEMBER_FIELDS = frozenset({"id", "stake", "bls_key", "bls_pop", "region"})
#: The most a height or view may be: signed 64-bit (E2).
MAX_INT = 2**63 - 1
#: The phases a target names, by the vote type.
PHASES = {phase: phase for phase in CERTIFICATE_TYPES}
EPOCH_SEED_SIZE = 32


def registrations(members: JSON) -> list[Registration]:
    """Read the members of a version-2 validator set (WIRE.md); refuse a malformed one (E12)."""
    if not isinstance(members, list) or not members:
        raise Rejected("members is a non-empty list of member objects", "E12")
    found = []
    for member in members:
        if not isinstance(member, Mapping):
            raise Rejected(f"a member is an object, got {member!r:.80}", "E12")
        if "bls_pop" not in member:
            raise Rejected(f"member {member.get('id')!r:.40} has no proof of possession", "V2.6")
        if set(member) != MEMBER_FIELDS:
            raise Rejected(
                f"a member has exactly {sorted(MEMBER_FIELDS)}, got {sorted(member)}", "E12"
            )
        if not isinstance(member["id"], str) or not isinstance(member["region"], str):
            raise Rejected("a member's id and region are strings", "E12")
        found.append(
            Registration(
                member["id"],
                member["stake"],
                parse_hex(member["bls_key"]),
                parse_hex(member["bls_pop"], rule_id="V2.6"),
                member["region"],
            )
        )
    return found


def target_of(wire: JSON) -> VoteTarget:
    """Read a vote target ``{type, height, view, digest[, post_root]}`` (the signed members of
    a vote, V2.3); refuse a malformed one (E12)."""
    if not isinstance(wire, Mapping) or wire.get("type") not in PHASES:
        raise Rejected(f"a target is an object of type prepare or commit, got {wire!r:.80}", "E12")
    phase = PHASES[wire["type"]]
    expected = {"type", "height", "view", "digest"} | (
        {"post_root"} if phase == "commit" else set()
    )
    if set(wire) != expected:
        raise Rejected(
            f"a {phase} target has exactly {sorted(expected)}, got {sorted(wire)}", "E12"
        )
    height, view = wire["height"], wire["view"]
    if type(height) is not int or not 1 <= height <= MAX_INT:
        raise Rejected(f"height must be an integer in [1, 2^63), got {height!r:.40}", "E2")
    if type(view) is not int or not 0 <= view <= MAX_INT:
        raise Rejected(f"view must be an integer in [0, 2^63), got {view!r:.40}", "E2")
    root = parse_hex(wire["post_root"], length=32) if phase == "commit" else None
    return VoteTarget(phase, height, view, parse_hex(wire["digest"], length=32), root)


class ReferenceConsensusV2:
    """Capability ``consensus-v2`` of the reference."""

    # ------------------------------------------------------------------ the steps

    def public_key(self, data: bytes) -> bls.PublicKey:
        """Parse and validate a public key (V2.4)."""
        return bls.PublicKey.from_bytes(data)

    def signature(self, data: bytes) -> bls.Signature:
        """Parse a signature (V2.5)."""
        return bls.Signature.from_bytes(data)

    def registered_key(self, key: bytes, proof: bytes) -> bls.PublicKey:
        """Admit a key with its proof of possession (V2.4, V2.6)."""
        return bls.register_key(key, proof)

    def roster(self, members: JSON) -> Roster:
        """Register every member of a version-2 validator set (V2.4, V2.6)."""
        return register(registrations(members))

    def certificate_members(self, wire: JSON, roster: Roster) -> list[int]:
        """Parse (V2.7) and check (V2.8) a certificate; return its members."""
        return check_certificate(parse_certificate(wire, len(roster)), roster)

    def aggregator(self, roster: Roster, target: VoteTarget) -> VoteAggregator:
        """Return the collector's aggregation of one target's votes (V2.9)."""
        return VoteAggregator(roster, target)

    def region_table(self, regions: JSON, latency_ms: JSON) -> RegionTable:
        """Read the region table of a version-2 validator set (V2.10)."""
        if not isinstance(regions, list) or not all(isinstance(r, str) for r in regions):
            raise Rejected(f"regions is a list of names, got {regions!r:.80}", "V2.10")
        if not isinstance(latency_ms, list) or not all(isinstance(r, list) for r in latency_ms):
            raise Rejected(f"latency_ms is a list of rows, got {latency_ms!r:.80}", "V2.10")
        return RegionTable(tuple(regions), tuple(tuple(row) for row in latency_ms))

    def collector(
        self,
        roster: Roster,
        table: RegionTable,
        epoch_seed: bytes,
        height: int,
        view: int,
        leader: int,
    ) -> int:
        """Return the collector's index (V2.10); every member's region must be in the table."""
        region_stakes(roster, table)
        return choose_collector(roster, table, epoch_seed, height, view, leader)

    # ------------------------------------------------------------------ the ciphersuite

    @rejecting
    def keygen(self, seed: Hex, key_info: Hex) -> JSON:
        try:
            secret = bls.SecretKey.from_seed(parse_hex(seed), parse_hex(key_info))
        except UsageError as exc:  # a seed shorter than KeyGen takes (V2.3)
            raise Rejected(str(exc), "V2.3") from None
        return {"secret_key": secret.to_bytes().hex(), "public_key": secret.public_key().data.hex()}

    @rejecting
    def sign(self, secret_key: Hex, message: Hex) -> Hex:
        secret = bls.SecretKey.from_bytes(parse_hex(secret_key))
        return secret.sign(parse_hex(message)).data.hex()

    @rejecting
    def prove_possession(self, secret_key: Hex) -> Hex:
        return bls.SecretKey.from_bytes(parse_hex(secret_key)).prove_possession().data.hex()

    @rejecting
    def verify(self, public_key: Hex, message: Hex, signature: Hex) -> bool:
        key = self.public_key(parse_hex(public_key))
        return bls.verify(key, parse_hex(message), self.signature(parse_hex(signature)))

    @rejecting
    def aggregate(self, signatures: list[Hex]) -> Hex:
        return bls.aggregate([self.signature(parse_hex(s)) for s in signatures]).data.hex()

    @rejecting
    def fast_aggregate_verify(self, public_keys: list[Hex], message: Hex, signature: Hex) -> bool:
        keys = [self.public_key(parse_hex(k)) for k in public_keys]
        signature_point = self.signature(parse_hex(signature))
        return bls.fast_aggregate_verify(keys, parse_hex(message), signature_point)

    # ------------------------------------------------------------------ what a node accepts

    @rejecting
    def key_validate(self, public_key: Hex) -> Hex:
        return self.public_key(parse_hex(public_key)).data.hex()

    @rejecting
    def signature_validate(self, signature: Hex) -> Hex:
        return self.signature(parse_hex(signature)).data.hex()

    @rejecting
    def register_key(self, public_key: Hex, proof: Hex) -> Hex:
        key = parse_hex(public_key)
        return self.registered_key(key, parse_hex(proof, rule_id="V2.6")).data.hex()

    # ------------------------------------------------------------------ certificates

    @rejecting
    def check_certificate(self, members: JSON, certificate: JSON) -> list[int]:
        return self.certificate_members(certificate, self.roster(members))

    @rejecting
    def aggregate_votes(self, members: JSON, target: JSON, votes: JSON) -> JSON:
        roster = self.roster(members)
        collector = self.aggregator(roster, target_of(target))
        index = {member.id: i for i, member in enumerate(roster.members)}
        if not isinstance(votes, list):
            raise Rejected("votes is a list of {validator, signature}", "E12")
        for vote in votes:
            if not isinstance(vote, Mapping) or set(vote) != {"validator", "signature"}:
                raise Rejected(f"a vote here is {{validator, signature}}, got {vote!r:.80}", "E12")
            member = index.get(vote["validator"]) if isinstance(vote["validator"], str) else None
            if member is None:
                continue  # not a member: it counts for nothing
            try:
                signature = self.signature(parse_hex(vote["signature"]))
            except ProtocolViolation:
                continue  # a signature V2.5 refuses counts for nothing
            collector.add(member, signature)
        certificate = collector.certificate()
        return None if certificate is None else certificate.to_wire()

    # ------------------------------------------------------------------ the collector

    @rejecting
    def choose_collector(
        self,
        members: JSON,
        regions: JSON,
        latency_ms: JSON,
        epoch_seed: Hex,
        height: int,
        view: int,
        leader: str,
    ) -> str:
        roster = self.roster(members)
        table = self.region_table(regions, latency_ms)
        seed = parse_hex(epoch_seed, length=EPOCH_SEED_SIZE)
        for name, value, least in (("height", height, 1), ("view", view, 0)):
            if type(value) is not int or not least <= value <= MAX_INT:
                raise Rejected(f"{name} must be an integer in [{least}, 2^63), got {value!r:.40}")
        ids = [member.id for member in roster.members]
        if leader not in ids:
            raise Rejected(f"the leader {leader!r:.40} is not a member")
        chosen = self.collector(roster, table, seed, height, view, ids.index(leader))
        return ids[chosen]
