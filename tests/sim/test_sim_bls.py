"""The simulator's version-2 BLS work: what it computes once instead of per vote gives the same
bytes and verdicts as the real operations, the CPU charges stay as modelled, and every node is
charged the registration of the validator set (proofs of possession) when its replica starts
(spec/consensus-v2.md V2.3-V2.6; aethel/sim/services.py, aethel/sim/cpu.py)."""

from __future__ import annotations

import dataclasses
import random

import pytest

from aethel.consensus.signing import derive_bls_key
from aethel.consensus.v2.aggregation import VoteAggregator
from aethel.consensus.v2.certificate import VoteTarget
from aethel.consensus.v2.roster import Member, Roster
from aethel.crypto import _blst, bls
from aethel.sim.cpu import FREE_BLS, BlsCpuModel
from aethel.sim.services import (
    TABLE_MIN_SIGNERS,
    WIDE_TABLE_MIN_SIGNERS,
    BlsSignatures,
    FixedBaseTable,
    Meter,
    SimAggregateChecker,
)
from aethel.sim.simulator import SimConfig, Simulation

MESSAGE = VoteTarget("commit", 7, 0, b"\x01" * 32, b"\x02" * 32).message()


def _secrets(count: int, seed: int = 5) -> list[bls.SecretKey]:
    rng = random.Random(seed)
    return [derive_bls_key(rng.randbytes(32)) for _ in range(count)]


@pytest.mark.req("V2.3")
@pytest.mark.parametrize("bits", [8, 10])
def test_a_fixed_base_table_gives_the_scalar_multiple(bits: int) -> None:
    base = _blst.hash_to_g2(MESSAGE, bls.SIGNATURE_DST)
    table = FixedBaseTable.build(base, bits)
    scalars = [1, 2, (1 << bits) - 1, 1 << bits, bls.ORDER - 1]
    scalars += [s.scalar for s in _secrets(6)]
    for scalar in scalars:
        expected = _blst.encode_g2(_blst.mul_g2(base, scalar))
        assert _blst.encode_g2(table.multiply(scalar)) == expected, scalar


@pytest.mark.req("V2.3")
@pytest.mark.parametrize("signers", [4, TABLE_MIN_SIGNERS, WIDE_TABLE_MIN_SIGNERS])
def test_simulated_signing_makes_the_bytes_of_real_signing(signers: int) -> None:
    made = BlsSignatures(signers)
    for secret in _secrets(5):
        signature = made.sign(secret, MESSAGE)
        assert signature.data == secret.sign(MESSAGE).data
        assert bls.verify(secret.public_key(), MESSAGE, signature)
        # Parsing bytes it made returns the point decoding would give.
        kept = made.parsed(signature.data)
        assert kept is not None
        assert _blst.encode_g2(kept.point) == _blst.encode_g2(
            bls.Signature.from_bytes(signature.data).point
        )


@pytest.mark.req("V2.5")
@pytest.mark.rejects("V2.5")
def test_bytes_the_simulator_did_not_make_are_parsed_for_real_and_every_parse_is_charged() -> None:
    meter, cpu = Meter(), BlsCpuModel()
    made = BlsSignatures()
    checker = SimAggregateChecker(meter, cpu, made)
    secret = _secrets(1)[0]
    own = made.sign(secret, MESSAGE)
    assert checker.signature(own.data) is made.parsed(own.data)
    foreign = secret.sign(b"another message")
    assert made.parsed(foreign.data) is None
    assert checker.signature(foreign.data).data == foreign.data
    infinity = b"\xc0" + bytes(95)
    for _ in range(2):  # refused, and refused again from the memo
        with pytest.raises(bls.BlsError) as refused:
            checker.signature(infinity)
        assert refused.value.rule_id == "V2.5"
    assert meter.ns == 4 * cpu.parse_ns


@pytest.mark.req("V2.8")
def test_an_uncharged_twin_shares_verdicts_and_charges_nothing() -> None:
    meter = Meter()
    checker = SimAggregateChecker(meter, BlsCpuModel())
    twin = checker.uncharged()
    secrets = _secrets(3)
    keys = [s.public_key() for s in secrets]
    aggregate = bls.aggregate([s.sign(MESSAGE) for s in secrets])
    assert twin.fast_aggregate_verify(keys, MESSAGE, aggregate)
    assert not twin.fast_aggregate_verify(keys[:2], MESSAGE, aggregate)
    assert meter.ns == 0 and twin.cpu == FREE_BLS
    assert checker.fast_aggregate_verify(keys, MESSAGE, aggregate)
    assert meter.ns == BlsCpuModel().aggregate_verify_ns(3)


@pytest.mark.req("V2.9")
def test_the_quorum_bound_answers_as_the_stake_sum() -> None:
    """VoteAggregator.may_hold_quorum (a count times the largest stake first) decides exactly
    as summing the stakes of the votes held, with unequal stakes."""
    secrets = _secrets(9)
    stakes = [1, 1, 1, 2, 3, 5, 8, 13, 21]
    roster = Roster(
        tuple(
            Member(f"v{i}", stake, secret.public_key(), "r")
            for i, (secret, stake) in enumerate(zip(secrets, stakes, strict=True))
        )
    )
    target = VoteTarget("prepare", 3, 0, b"\x03" * 32)
    for order in (range(9), reversed(range(9))):
        aggregator = VoteAggregator(roster, target)
        for index in order:
            aggregator.add(index, secrets[index].sign(target.message()))
            assert aggregator.may_hold_quorum() == (aggregator.stake() >= roster.quorum)


def _registering(key_parse_ns: int) -> BlsCpuModel:
    return dataclasses.replace(BlsCpuModel(), key_parse_ns=key_parse_ns)


@pytest.mark.req("V2.6", "P8")
def test_every_node_is_charged_the_sets_registration_when_it_starts() -> None:
    """A registration of 4 x 1.25 s (an exaggerated key parse, so it shows): no validator acts
    before it, height 1 starts when it is done, and a late joiner pays it again after joining."""
    bls_cpu = _registering(1_250_000_000)
    config = SimConfig(
        validators=4,
        heights=3,
        seed=2,
        protocol_v2_height=1,
        bls_cpu=bls_cpu,
        faults=("late:3@2s",),
    )
    sim = Simulation(config)
    registration = sim.registration_ns
    assert (
        registration
        == bls_cpu.registration_ns(4)
        == 4 * (1_250_000_000 + bls_cpu.parse_ns + bls_cpu.verify_ns)
    )
    result = sim.run()
    assert result.ok, result.checkers
    assert result.heights[0]["started_at_s"] == registration / 1e9
    assert min(r.time for r in sim.engine.commits) > registration
    late = [r.time for r in sim.engine.commits if r.node == 3]
    assert late and min(late) > 2_000_000_000 + registration
    assert result.to_json()["config"]["bls_cpu_model"]["key_parse_ns"] == 1_250_000_000


@pytest.mark.req("V2.6")
def test_version_1_registers_nothing_and_height_1_starts_at_0() -> None:
    sim = Simulation(SimConfig(validators=4, heights=1, seed=2))
    assert sim.registration_ns == 0
    assert sim.run().heights[0]["started_at_s"] == 0


@pytest.mark.req("V2.8", "V2.6")
def test_checks_of_made_signatures_are_decided_as_the_pairing_decides(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Known origins answer without a pairing; every other check (a subset of the signers, a
    superset, another message, a vote claimed by another key) goes to the real check, and each
    verdict equals the real one."""
    made = BlsSignatures()
    checker = SimAggregateChecker(Meter(), BlsCpuModel(), made)
    secrets = _secrets(4)
    keys = [s.public_key() for s in secrets]
    votes = [made.sign(s, MESSAGE, k.data) for s, k in zip(secrets, keys, strict=True)]
    aggregate = checker.aggregate(votes[:3])
    assert aggregate.data == bls.aggregate(votes[:3]).data  # one multiple, the same point
    assert checker.aggregate([aggregate, votes[3]]).data == bls.aggregate(votes).data
    other = VoteTarget("prepare", 7, 0, b"\x01" * 32).message()
    cases = [
        (keys[:3], MESSAGE, aggregate),
        (list(reversed(keys[:3])), MESSAGE, aggregate),
        (keys[:2], MESSAGE, aggregate),
        (keys, MESSAGE, aggregate),
        (keys[:3], other, aggregate),
        ([keys[1]], MESSAGE, votes[0]),
        ([keys[0]], MESSAGE, votes[0]),
    ]
    expected = [bls.fast_aggregate_verify(k, m, s) for k, m, s in cases]
    assert expected == [True, True, False, False, False, False, True]
    real = bls.fast_aggregate_verify
    calls = []

    def counted(*args: object) -> bool:
        calls.append(args)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(bls, "fast_aggregate_verify", counted)
    assert [checker.fast_aggregate_verify(k, m, s) for k, m, s in cases] == expected
    assert len(calls) == 4  # only the checks whose answer is not known by origin


@pytest.mark.req("V2.7")
@pytest.mark.parametrize("signers", [4, TABLE_MIN_SIGNERS])
def test_an_aggregate_of_made_signatures_is_their_sum(signers: int) -> None:
    made = BlsSignatures(signers)
    secrets = _secrets(5)
    votes = [made.sign(s, MESSAGE, s.public_key().data) for s in secrets]
    aggregate = made.aggregate(votes)
    assert aggregate is not None and aggregate.data == bls.aggregate(votes).data
    other = VoteTarget("prepare", 7, 0, b"\x01" * 32).message()
    mixed = [votes[0], made.sign(secrets[1], other, secrets[1].public_key().data)]
    assert made.aggregate(mixed) is None  # two messages: added for real by the caller
    assert made.aggregate([votes[0], secrets[1].sign(b"not made here")]) is None
    assert made.aggregate([]) is None
