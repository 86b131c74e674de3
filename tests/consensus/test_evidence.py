"""Evidence proves its offence or is refused: nobody is slashed on a forged record (R4.2, R1.5,
R7.5, P19).

A Byzantine validator gains by framing an honest one: a slashed rival loses stake and may drop
out of the set. Every way of forging a record below (a reporter outside the set, a message
signed with another key, messages that do not conflict, a false claim whose proof verifies) is
refused by :func:`aethel.consensus.evidence.check_evidence`, by a replica that is gossiped the
record, and by a voter shown a block that carries it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import pytest

from aethel.consensus.block import ProofBlock
from aethel.consensus.events import Broadcast, EvidenceFound, Log
from aethel.consensus.evidence import Evidence, check_evidence
from aethel.consensus.messages import Commit, Prepare, PrePrepare, SignedMessage
from aethel.consensus.signing import DirectSignatureChecker, KeySigner
from aethel.consensus.wire import parse_evidence
from aethel.economics import Offence
from aethel.encoding import KeyPair
from aethel.errors import EncodingError, ProtocolViolation

from .slashing import SlashedChain, make_slashed_chain, prepares

CHECKER = DirectSignatureChecker()
A, B = bytes([1]) * 32, bytes([2]) * 32


@functools.cache
def _chain() -> SlashedChain:
    return make_slashed_chain([10_000] * 4, ["v000"], heights=2)


def _forger(chain: SlashedChain, claims: str, key_of: str) -> KeySigner:
    """A signer that names ``claims`` but holds the key of ``key_of``."""
    return KeySigner(claims, chain.signers[key_of].key)


def _record(
    reporter: KeySigner,
    offence: Offence,
    offender: str,
    first: SignedMessage,
    second: SignedMessage | None = None,
    block: ProofBlock | None = None,
    proof_index: int = -1,
) -> Evidence:
    """Build a record exactly as given, signed by ``reporter`` (no checks)."""
    args = (offence, offender, first, second, block, proof_index, reporter.validator_id)
    unsigned = Evidence(*args, b"")
    return Evidence(*args, reporter.sign(unsigned.payload))


def _equivocation_of_v003(
    chain: SlashedChain, first: SignedMessage, second: SignedMessage | None = None
) -> Evidence:
    """An equivocation record against v003 reported by v001, holding the messages as given."""
    return _record(chain.signers["v001"], Offence.EQUIVOCATION, "v003", first, second)


def _false_claim_on_v003(
    chain: SlashedChain, vote: SignedMessage, block: ProofBlock | None = None, proof_index: int = 0
) -> Evidence:
    """A false-claim record against v003's ``vote`` reported by v001, as given."""
    return _record(
        chain.signers["v001"], Offence.FALSE_CLAIM, "v003", vote, None, block, proof_index
    )


def _bad_proof_block(chain: SlashedChain) -> ProofBlock:
    """A block of height 1 whose proof 0 carries a flipped signature bit (it fails on its own)."""
    block = chain.link(1)[0]
    proof = dict(block.proofs[0])
    signature = str(proof["signature"])
    proof["signature"] = ("1" if signature[0] == "0" else "0") + signature[1:]
    return ProofBlock.create(
        chain.signers[block.proposer], 1, block.parent, block.transactions, [proof], [], None
    )


def _equivocation(chain: SlashedChain) -> Evidence:
    honest = chain.signers["v003"]
    return Evidence.equivocation(
        chain.signers["v001"], Prepare.create(honest, 1, 0, A), Prepare.create(honest, 1, 0, B)
    )


# A forged record, the rule it is refused under, and what forging it takes.
FORGERIES: dict[str, tuple[Callable[[SlashedChain], Evidence], str]] = {
    "reporter-outside-the-set": (
        lambda c: _record(
            KeySigner("x999", KeyPair.from_seed(bytes(32))),
            Offence.EQUIVOCATION,
            "v000",
            Prepare.create(c.signers["v000"], 1, 0, A),
            Prepare.create(c.signers["v000"], 1, 0, B),
        ),
        "R7.5",
    ),
    "reporter-signature-by-another-key": (
        lambda c: _record(
            _forger(c, "v001", "v002"),
            Offence.EQUIVOCATION,
            "v000",
            Prepare.create(c.signers["v000"], 1, 0, A),
            Prepare.create(c.signers["v000"], 1, 0, B),
        ),
        "R7.5",
    ),
    "honest-validator-framed-with-forged-votes": (
        lambda c: _equivocation_of_v003(
            c,
            Prepare.create(_forger(c, "v003", "v001"), 1, 0, A),
            Prepare.create(_forger(c, "v003", "v001"), 1, 0, B),
        ),
        "R4.2",
    ),
    "one-real-vote-and-one-forged": (
        lambda c: _equivocation_of_v003(
            c,
            Prepare.create(c.signers["v003"], 1, 0, A),
            Prepare.create(_forger(c, "v003", "v001"), 1, 0, B),
        ),
        "R4.2",
    ),
    "one-forged-vote-and-one-real": (
        lambda c: _equivocation_of_v003(
            c,
            Prepare.create(_forger(c, "v003", "v001"), 1, 0, B),
            Prepare.create(c.signers["v003"], 1, 0, A),
        ),
        "R4.2",
    ),
    "messages-by-someone-else-than-the-offender": (
        lambda c: _equivocation_of_v003(
            c,
            Prepare.create(c.signers["v000"], 1, 0, A),
            Prepare.create(c.signers["v000"], 1, 0, B),
        ),
        "R4.2",
    ),
    "equivocation-with-one-message": (
        lambda c: _equivocation_of_v003(c, Prepare.create(c.signers["v003"], 1, 0, A)),
        "R4.2",
    ),
    "votes-of-two-views-do-not-conflict": (
        lambda c: _equivocation_of_v003(
            c,
            Prepare.create(c.signers["v003"], 1, 0, A),
            Prepare.create(c.signers["v003"], 1, 1, B),
        ),
        "R4.2",
    ),
    "a-prepare-and-a-commit-do-not-conflict": (
        lambda c: _equivocation_of_v003(
            c,
            Prepare.create(c.signers["v003"], 1, 0, A),
            Commit.create(c.signers["v003"], 1, 0, B, A),
        ),
        "R4.2",
    ),
    "the-same-vote-twice": (
        lambda c: _equivocation_of_v003(
            c,
            Prepare.create(c.signers["v003"], 1, 0, A),
            Prepare.create(c.signers["v003"], 1, 0, A),
        ),
        "R4.2",
    ),
    "false-claim-without-the-block": (
        lambda c: _false_claim_on_v003(c, Prepare.create(c.signers["v003"], 1, 0, A)),
        "R1.5",
    ),
    "false-claim-vote-for-another-block": (
        lambda c: _false_claim_on_v003(
            c,
            Prepare.create(c.signers["v003"], 1, 0, A),
            block=_bad_proof_block(c),
        ),
        "R1.5",
    ),
    "false-claim-proof-index-out-of-range": (
        lambda c: _false_claim_on_v003(
            c,
            Prepare.create(c.signers["v003"], 1, 0, _bad_proof_block(c).digest),
            block=_bad_proof_block(c),
            proof_index=1,
        ),
        "R1.5",
    ),
    "false-claim-whose-proof-verifies": (
        lambda c: _false_claim_on_v003(
            c,
            Prepare.create(c.signers["v003"], 1, 0, c.link(1)[0].digest),
            block=c.link(1)[0],
        ),
        "R1.5",
    ),
}


def _is_proof_invalid(chain: SlashedChain) -> Callable[[ProofBlock, int], bool]:
    return chain.cluster.replicas["v001"].services.validator.is_proof_invalid


@pytest.mark.req("R4.2", "R1.5", "R7.5", "P19")
@pytest.mark.parametrize("case", sorted(FORGERIES))
def test_a_forged_record_proves_nothing(case: str) -> None:
    chain = _chain()
    make, rule = FORGERIES[case]
    with pytest.raises(ProtocolViolation) as refused:
        check_evidence(make(chain), chain.cluster.validators, CHECKER, _is_proof_invalid(chain))
    assert refused.value.rule_id == rule, refused.value


@pytest.mark.req("R4.2", "R1.5")
def test_real_records_of_both_offences_prove_them() -> None:
    chain = _chain()
    invalid = _is_proof_invalid(chain)
    check_evidence(_equivocation(chain), chain.cluster.validators, CHECKER, invalid)
    block = _bad_proof_block(chain)
    vote = Prepare.create(chain.signers["v003"], 1, 0, block.digest)
    claim = Evidence.false_claim(chain.signers["v001"], vote, block, 0)
    check_evidence(claim, chain.cluster.validators, CHECKER, invalid)
    assert parse_evidence(claim.to_wire()) == claim


@pytest.mark.req("R4.2", "R7.5", "P19", "R8.5")
@pytest.mark.parametrize("case", sorted(FORGERIES))
def test_a_replica_gossiped_a_forged_record_neither_pools_nor_repeats_it(case: str) -> None:
    chain = _chain()
    replica = chain.fresh_replica("v002")
    make, rule = FORGERIES[case]
    outputs = replica.on_message(make(chain), 10**9)
    rejected = [o.detail for o in outputs if isinstance(o, Log) and o.event == "rejected"]
    assert rejected and rejected[0].startswith(f"[{rule}]"), outputs
    assert not any(isinstance(o, EvidenceFound | Broadcast) for o in outputs)
    # Nothing was pooled, so the replica's own next proposal carries no record.
    assert not replica.evidence.pending


@pytest.mark.req("R4.2", "R7.5", "P19", "R1.1")
def test_a_block_that_slashes_an_honest_validator_on_forged_evidence_gets_no_vote() -> None:
    chain = _chain()
    replica = chain.fresh_replica("v001")
    leader = replica.validators.get_leader(1, 0).id
    framed = FORGERIES["honest-validator-framed-with-forged-votes"][0](chain)
    signer = chain.signers[leader]
    block = ProofBlock.create(signer, 1, replica.parent, [], [], [framed], None)
    outputs = replica.on_message(PrePrepare.create(signer, 0, block), 10**9)
    assert not prepares(outputs)
    rejected = [o.detail for o in outputs if isinstance(o, Log) and o.event == "rejected"]
    assert rejected and rejected[0].startswith("[R4.2]"), rejected


@pytest.mark.req("E12", "E2", "R4.2")
@pytest.mark.parametrize(
    ("mutate", "rule"),
    [
        pytest.param(lambda w: {**w, "type": "vote"}, "E12", id="wrong-type"),
        pytest.param(
            lambda w: {k: v for k, v in w.items() if k != "reporter"}, "E12", id="no-reporter"
        ),
        pytest.param(lambda w: {**w, "extra": 1}, "E12", id="extra-member"),
        pytest.param(lambda w: {**w, "offence": "laziness"}, "R4.2", id="unknown-offence"),
        pytest.param(lambda w: {**w, "proof_index": -2}, "E2", id="index-below-minus-one"),
        pytest.param(lambda w: {**w, "proof_index": 1.0}, "E2", id="index-not-an-integer"),
        pytest.param(lambda w: {**w, "offender": 7}, "E12", id="offender-not-a-string"),
        pytest.param(lambda w: {**w, "first": {"type": "prepare"}}, "E12", id="malformed-message"),
    ],
)
def test_malformed_evidence_does_not_parse(mutate: Callable[[dict], dict], rule: str) -> None:  # type: ignore[type-arg]
    wire = _equivocation(_chain()).to_wire()
    with pytest.raises(EncodingError) as refused:
        parse_evidence(mutate(dict(wire)))
    assert refused.value.rule_id == rule, refused.value
