"""Version-2 aggregate certificates: form (V2.7), validity (V2.8), vote bytes (V2.3), keys
registered with proofs of possession (V2.4, V2.6)."""

from __future__ import annotations

import json

import pytest

from aethel.consensus.v2.certificate import (
    Certificate,
    CertificateError,
    VoteTarget,
    bitmap,
    check_certificate,
    parse_certificate,
)
from aethel.consensus.v2.roster import Member, Registration, Roster, register
from aethel.crypto import _blst, bls
from aethel.encoding import canonical_json
from tests.v2.conftest import make_roster, secret

COMMIT = VoteTarget("commit", 12, 0, b"\x11" * 32, b"\x22" * 32)
PREPARE = VoteTarget("prepare", 12, 0, b"\x11" * 32)


def _certificate(roster: Roster, target: VoteTarget, signers: list[int]) -> Certificate:
    signatures = [secret(i).sign(target.message()) for i in signers]
    return Certificate(target, bitmap(signers, len(roster)), bls.aggregate(signatures))


@pytest.mark.req("V2.3")
def test_every_vote_for_one_value_signs_the_same_bytes() -> None:
    assert COMMIT.message() == (
        b"aethel/commit/v2\x00"
        + canonical_json(
            {
                "digest": "11" * 32,
                "height": 12,
                "post_root": "22" * 32,
                "type": "commit",
                "view": 0,
            }
        )
    )
    assert PREPARE.message().startswith(b"aethel/prepare/v2\x00{")
    assert b"validator" not in COMMIT.message()


@pytest.mark.req("V2.7", "V2.8")
def test_a_quorum_certificate_round_trips_and_checks() -> None:
    roster = make_roster([1000] * 10)
    cert = _certificate(roster, COMMIT, [0, 2, 3, 4, 5, 6, 9])
    wire = json.loads(cert.encode())
    assert wire == cert.to_wire()
    assert cert.encode() == canonical_json(wire)
    assert wire["signers"] == "be40"  # 1011 1110 0100 0000: members 0, 2-6, 9
    parsed = parse_certificate(wire, len(roster))
    assert parsed == cert
    assert check_certificate(parsed, roster) == [0, 2, 3, 4, 5, 6, 9]


@pytest.mark.req("V2.8")
@pytest.mark.rejects("V2.8")
def test_quorum_boundary_at_exactly_q_of_w() -> None:
    roster = make_roster([3000, 3001, 2999])  # W = 9000, q(W) = 6001
    assert roster.quorum == 6001
    assert check_certificate(_certificate(roster, COMMIT, [0, 1]), roster) == [0, 1]  # 6001
    with pytest.raises(CertificateError, match="6000 stake, below q") as refused:
        check_certificate(_certificate(roster, COMMIT, [1, 2]), roster)  # 6000
    assert refused.value.rule_id == "V2.8"


@pytest.mark.req("V2.8")
@pytest.mark.rejects("V2.8")
def test_a_forged_bitmap_is_refused() -> None:
    """A member in the bitmap who did not sign, or a signer left out: the aggregate fails."""
    roster = make_roster([1000] * 10)
    signed = [0, 1, 2, 3, 4, 5, 6, 7]  # q(W) = 6,667 of W = 10,000: 7 members suffice
    real = _certificate(roster, COMMIT, signed)
    assert check_certificate(real, roster) == signed
    for claimed in ([*signed, 8], [0, 1, 2, 3, 4, 5, 6], [0, 1, 2, 3, 4, 5, 6, 8]):
        forged = Certificate(COMMIT, bitmap(claimed, len(roster)), real.aggregate)
        with pytest.raises(CertificateError, match="does not verify") as refused:
            check_certificate(forged, roster)
        assert refused.value.rule_id == "V2.8"


@pytest.mark.req("V2.8", "V2.3")
@pytest.mark.rejects("V2.8")
def test_a_certificate_proves_only_its_own_target() -> None:
    roster = make_roster([1000] * 7)
    cert = _certificate(roster, COMMIT, [0, 1, 2, 3, 4])
    others = [
        VoteTarget("commit", 12, 0, b"\x11" * 32, b"\x33" * 32),  # another root
        VoteTarget("commit", 12, 1, b"\x11" * 32, b"\x22" * 32),  # another view
        VoteTarget("commit", 13, 0, b"\x11" * 32, b"\x22" * 32),  # another height
        VoteTarget("commit", 12, 0, b"\x44" * 32, b"\x22" * 32),  # another block
    ]
    for target in others:
        with pytest.raises(CertificateError) as refused:
            check_certificate(Certificate(target, cert.signers, cert.aggregate), roster)
        assert refused.value.rule_id == "V2.8"
    prepare = _certificate(roster, PREPARE, [0, 1, 2, 3, 4])
    relabelled = Certificate(COMMIT, prepare.signers, prepare.aggregate)
    with pytest.raises(CertificateError):
        check_certificate(relabelled, roster)


@pytest.mark.req("V2.6", "V2.8")
@pytest.mark.rejects("V2.6")
def test_a_rogue_key_attack_is_refused_at_registration() -> None:
    """The attacker (member 3) registers pk_r = [x]G - (pk_0 + pk_1 + pk_2) and alone makes
    an aggregate that FastAggregateVerify accepts for members 0, 1, 2 and the rogue key."""
    honest = [secret(i).public_key() for i in range(3)]
    attacker = secret(3)
    minus = _blst.mul_g1(bls.aggregate_keys(honest), bls.ORDER - 1)
    rogue = bls.PublicKey.from_bytes(
        _blst.encode_g1(_blst.add_g1(attacker.public_key().point, minus))
    )
    forged = Certificate(COMMIT, bitmap([0, 1, 2, 3], 4), attacker.sign(COMMIT.message()))
    # Without proofs of possession (a roster built around registration) the forgery passes:
    unchecked = Roster(
        tuple(Member(f"v{i:02d}", 1000, key, "us-east") for i, key in enumerate([*honest, rogue]))
    )
    assert check_certificate(forged, unchecked) == [0, 1, 2, 3]
    # With them, the rogue key never enters a roster.
    registrations = [
        Registration(
            f"v{i:02d}", 1000, secret(i).public_key().data, secret(i).prove_possession().data, "a"
        )
        for i in range(3)
    ]
    rogue_entry = Registration("v03", 1000, rogue.data, attacker.prove_possession().data, "a")
    with pytest.raises(bls.BlsError) as refused:
        register([*registrations, rogue_entry])
    assert refused.value.rule_id == "V2.6"


@pytest.mark.req("V2.4", "V2.6")
@pytest.mark.rejects("V2.4")
@pytest.mark.parametrize(
    "key",
    [b"\xc0" + bytes(47), bytes.fromhex("8123456789abcdef" + "0123456789abcdef" * 5)],
    ids=["infinity", "not-in-subgroup"],
)
def test_infinity_and_non_subgroup_keys_never_register(key: bytes) -> None:
    entry = Registration("v00", 1000, key, secret(0).prove_possession().data, "a")
    with pytest.raises(bls.BlsError) as refused:
        register([entry])
    assert refused.value.rule_id == "V2.4"


@pytest.mark.req("V2.5", "V2.7")
@pytest.mark.rejects("V2.5")
@pytest.mark.parametrize(
    "aggregate",
    ["c0" + "00" * 95, "8123456789abcdef" + "0123456789abcdef" * 11],
    ids=["infinity", "not-in-subgroup"],
)
def test_infinity_and_non_subgroup_aggregates_are_refused(aggregate: str) -> None:
    roster = make_roster([1000] * 4)
    wire = _certificate(roster, COMMIT, [0, 1, 2]).to_wire()
    wire["aggregate"] = aggregate
    with pytest.raises(bls.BlsError) as refused:
        parse_certificate(wire, len(roster))
    assert refused.value.rule_id == "V2.5"


def _mutations() -> list[tuple[str, object, object]]:
    return [
        ("bitmap-one-byte-short", "signers", "e0"),
        ("bitmap-one-byte-long", "signers", "e00000"),
        ("padding-bit-set", "signers", "e020"),  # bit 10, past the 10 members
        ("empty-bitmap", "signers", "0000"),
        ("uppercase-hex", "signers", "E000"),
        ("height-zero", "height", 0),
        ("height-true", "height", True),
        ("view-negative", "view", -1),
        ("view-float", "view", 0.0),
        ("digest-short", "digest", "11" * 31),
        ("root-prefixed", "post_root", "0x" + "22" * 31),
        ("aggregate-short", "aggregate", "c0" + "00" * 94),
        ("unknown-type", "type", "certificate"),
        ("extra-member", "votes", []),
    ]


@pytest.mark.req("V2.7")
@pytest.mark.rejects("V2.7")
@pytest.mark.parametrize(
    ("name", "member", "value"), _mutations(), ids=[m[0] for m in _mutations()]
)
def test_malformed_certificates_are_refused_naming_v2_7(
    name: str, member: str, value: object
) -> None:
    roster = make_roster([1000] * 10)
    wire = _certificate(roster, COMMIT, [0, 1, 2]).to_wire()
    wire[member] = value
    with pytest.raises(CertificateError) as refused:
        parse_certificate(wire, len(roster))
    assert refused.value.rule_id == "V2.7", name


@pytest.mark.req("V2.7")
@pytest.mark.rejects("V2.7")
def test_post_root_belongs_to_commit_certificates_only() -> None:
    roster = make_roster([1000] * 4)
    commit = _certificate(roster, COMMIT, [0, 1, 2]).to_wire()
    del commit["post_root"]
    prepare = _certificate(roster, PREPARE, [0, 1, 2]).to_wire()
    prepare["post_root"] = "22" * 32
    for wire in (commit, prepare, []):
        with pytest.raises(CertificateError) as refused:
            parse_certificate(wire, len(roster))
        assert refused.value.rule_id == "V2.7"
