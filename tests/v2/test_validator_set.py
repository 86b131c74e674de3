"""The validator set of protocol version 2: its form, its checks when it is created (V2.4, V2.6,
V2.10), its signing domain (V2.2) and the kept keys of the sets derived from it by slashing."""

from __future__ import annotations

import pytest

from aethel.consensus.v2.certificate import (
    Certificate,
    CertificateError,
    VoteTarget,
    bitmap,
    check_certificate,
)
from aethel.consensus.validators import (
    SignedValidatorSet,
    Validator,
    ValidatorSet,
    make_validator_keys,
    parse_validator_set,
)
from aethel.crypto import bls
from aethel.encoding import Domain, KeyPair, verify_signature
from aethel.errors import ProtocolViolation
from aethel.sim.network import LATENCY_MS, REGIONS
from tests.v2.conftest import secret

SEED = bytes(range(32))


def _members(count: int, stake: int = 10_000) -> list[Validator]:
    keys = make_validator_keys(count, 5)
    return [
        Validator(
            f"v{i}",
            key.public_key,
            stake,
            secret(i).public_key().data,
            secret(i).prove_possession().data,
            REGIONS[i % len(REGIONS)],
        )
        for i, key in enumerate(keys)
    ]


def _create(members: list[Validator], **changes: object) -> ValidatorSet:
    options: dict[str, object] = {
        "first_height": 5,
        "regions": REGIONS,
        "latency_ms": LATENCY_MS,
    }
    options.update(changes)
    return ValidatorSet.create(0, SEED, members, **options)  # type: ignore[arg-type]


def _refused(members: list[Validator], **changes: object) -> str:
    with pytest.raises(ProtocolViolation) as refused:
        _create(members, **changes)
    return refused.value.rule_id


@pytest.mark.req("V2.4", "V2.6", "V2.10")
def test_a_version_2_set_registers_every_key_and_round_trips() -> None:
    validators = _create(_members(4))
    assert validators.version == 2 and validators.v2 is not None
    assert validators.v2.first_height == 5
    assert [m.key.data for m in validators.v2.roster.members] == [
        secret(i).public_key().data for i in range(4)
    ]
    wire = validators.to_wire()
    assert set(wire) == {"epoch", "seed", "validators", "first_height", "regions", "latency_ms"}
    assert set(wire["validators"][0]) == {  # type: ignore[index]
        "id",
        "public_key",
        "stake",
        "bls_key",
        "bls_pop",
        "region",
    }
    again = parse_validator_set(wire)
    assert again == validators and again.to_wire() == wire


@pytest.mark.req("V2.4", "V2.6", "V2.10")
@pytest.mark.rejects("V2.4", "V2.6", "V2.10")
def test_a_set_with_one_bad_member_is_refused_naming_its_rule() -> None:
    members = _members(4)
    infinity = b"\xc0" + bytes(47)
    bad_key = [*members[:3], _swap(members[3], bls_key=infinity)]
    assert _refused(bad_key) == "V2.4"
    wrong_proof = [*members[:3], _swap(members[3], bls_pop=members[2].bls_pop)]
    assert _refused(wrong_proof) == "V2.6"
    shared = [
        *members[:3],
        _swap(members[3], bls_key=members[0].bls_key, bls_pop=members[0].bls_pop),
    ]
    assert _refused(shared) == "V2.6"
    no_proof = [*members[:3], _swap(members[3], bls_pop=None)]
    assert _refused(no_proof) == "V2.6"
    nowhere = [*members[:3], _swap(members[3], region="mars")]
    assert _refused(nowhere) == "V2.10"
    lopsided = [list(row) for row in LATENCY_MS]
    lopsided[0][1] += 1
    assert _refused(members, latency_ms=lopsided) == "V2.10"
    assert _refused(members, first_height=0) == "V2.1"


def _swap(member: Validator, **changes: object) -> Validator:
    fields = {
        "id": member.id,
        "public_key": member.public_key,
        "stake": member.stake,
        "bls_key": member.bls_key,
        "bls_pop": member.bls_pop,
        "region": member.region,
    }
    fields.update(changes)
    return Validator(**fields)  # type: ignore[arg-type]


@pytest.mark.req("E7")
@pytest.mark.rejects("E7")
def test_a_version_2_set_is_signed_in_its_own_domain() -> None:
    authority = KeyPair.from_seed(bytes([7]) * 32)
    validators = _create(_members(4))
    signed = SignedValidatorSet.sign(validators, authority)
    assert signed.verify(authority.public_key) is validators
    assert signed.signing_payload().startswith(b"aethel/validator-set/v2\x00")
    # The same signature does not verify in version 1's domain: a version-1 node cannot read it.
    assert not verify_signature(
        authority.public_key, Domain.VALIDATOR_SET, validators.to_wire(), signed.signature
    )


@pytest.mark.req("V2.4", "V2.7", "V2.8", "R4.3")
@pytest.mark.rejects("V2.8")
def test_slashing_keeps_the_registered_keys_and_every_members_place() -> None:
    validators = _create(_members(4))
    assert validators.v2 is not None
    slashed = validators.with_stakes({"v1": 1})  # below MIN_STAKE: v1 leaves the set
    assert slashed.v2 is not None
    assert [m.id for m in slashed.validators] == ["v0", "v2", "v3"]
    roster = slashed.v2.roster
    assert [m.stake for m in roster.members] == [10_000, 0, 10_000, 10_000]
    assert roster.quorum == slashed.quorum
    for before, after in zip(validators.v2.roster.members, roster.members, strict=True):
        assert after.key is before.key  # the same parsed point: nothing parsed again
    target = VoteTarget("commit", 6, 0, b"\x11" * 32, b"\x22" * 32)
    signers = [0, 2, 3]
    good = Certificate(
        target,
        bitmap(signers, 4),
        bls.aggregate([secret(i).sign(target.message()) for i in signers]),
    )
    assert check_certificate(good, roster) == signers
    # The slashed member still holds a key that verifies, but no stake at this height.
    everyone = [0, 1, 2, 3]
    with_slashed = Certificate(
        target,
        bitmap(everyone, 4),
        bls.aggregate([secret(i).sign(target.message()) for i in everyone]),
    )
    with pytest.raises(CertificateError) as refused:
        check_certificate(with_slashed, roster)
    assert refused.value.rule_id == "V2.8"
