"""Evidence of Byzantine behaviour: self-proving bundles of signed messages (R1.5, R4.2).

Owns: R1.5 (a signed vote or proposal for a block with an intrinsically invalid proof is a
false claim), R4.2 (what proves an equivocation or a false claim, and what it costs), R4.6 (no
evidence without the offender's signature: being offline is never evidence).

* Equivocation: two messages of one type signed by one validator for the same (height, view)
  with different content (two blocks, two digests, two post-state roots, two claims). Costs 20%
  of stake (R4.2).
* False claim: a signed PRE-PREPARE, PREPARE or COMMIT for a block whose proof at
  ``proof_index`` fails re-verification (R1.5). Costs 5% of stake (R4.2). Only failures of the
  proof itself count (solver outcome, signature, forbidden command); they can be re-checked at
  any later height without the state the block was proposed on.

Being offline is never evidence (R4.6): every piece of evidence is signed by its offender.
The reporter signs the bundle (Domain.EVIDENCE) so logs say who found it. A validator is
slashed at most once per (offence, height): :attr:`Evidence.slash_key`.

Evidence of an offence at a height of protocol version 2 is signed in ``aethel/evidence/v2``
and its messages are checked as that version's (V2.2): PREPARE and COMMIT by their BLS
signature over the vote bytes (V2.3), with the offender's registered key (V2.6).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from aethel.consensus.messages import Commit, Prepare, PrePrepare, SignedMessage
from aethel.consensus.v2.checks import DIRECT, signed_by_registered_key
from aethel.consensus.v2.version import ONE_VERSION_RULE, version_of_height
from aethel.economics import Offence
from aethel.encoding import Domain, canonical_json, domain_of, signing_bytes, to_hex
from aethel.errors import ProtocolViolation

if TYPE_CHECKING:
    from aethel.consensus.block import ProofBlock
    from aethel.consensus.signing import SignatureChecker, Signer
    from aethel.consensus.validators import ValidatorSet


@dataclass(frozen=True, slots=True)
class Evidence:
    """A self-proving record of one offence by ``offender`` (see the module docstring)."""

    offence: Offence
    offender: str
    first: SignedMessage
    second: SignedMessage | None
    block: ProofBlock | None
    proof_index: int
    reporter: str
    signature: bytes
    payload: bytes = field(init=False, repr=False, compare=False)
    _size: int = field(default=-1, init=False, repr=False, compare=False)

    TYPE: ClassVar[str] = "evidence"
    DOMAIN: ClassVar[Domain] = Domain.EVIDENCE

    def payload_for(self, version: int) -> bytes:
        """Return the bytes the reporter signs in protocol ``version`` (V2.2)."""
        if version == 1:
            return self.payload
        return signing_bytes(domain_of(Domain.EVIDENCE, version), self.body())

    def __post_init__(self) -> None:
        object.__setattr__(self, "payload", signing_bytes(Domain.EVIDENCE, self.body()))

    @property
    def wire_size(self) -> int:
        """Return the length of the canonical encoding (evidence is gossiped)."""
        if self._size < 0:
            object.__setattr__(self, "_size", len(canonical_json(self.to_wire())))
        return self._size

    @property
    def height(self) -> int:
        """Return the height of the offence."""
        return self.first.height

    @property
    def view(self) -> int:
        """Return the view of the offence."""
        return self.first.view

    @property
    def slash_key(self) -> tuple[str, str, int]:
        """Return (offence, offender, height): a validator is slashed once per key."""
        return (self.offence.value, self.offender, self.height)

    def body(self) -> dict[str, object]:
        """Return the signed body."""
        return {
            "type": "evidence",
            "offence": self.offence.value,
            "offender": self.offender,
            "first": self.first.to_wire(),
            "second": None if self.second is None else self.second.to_wire(),
            "block": None if self.block is None else self.block.to_wire(),
            "proof_index": self.proof_index,
            "reporter": self.reporter,
        }

    def to_wire(self) -> dict[str, object]:
        """Return the canonical JSON form."""
        return {**self.body(), "signature": to_hex(self.signature)}

    @classmethod
    def equivocation(
        cls, reporter: Signer, first: SignedMessage, second: SignedMessage, version: int = 1
    ) -> Evidence:
        """Build signed equivocation evidence from two conflicting messages (``version``: of
        the offence's height)."""
        # Order the pair canonically so two reporters of one offence build the same bundle.
        a, b = sorted((first, second), key=lambda m: m.signature)
        unsigned = cls(
            Offence.EQUIVOCATION, a.validator, a, b, None, -1, reporter.validator_id, b""
        )
        return cls(
            Offence.EQUIVOCATION,
            a.validator,
            a,
            b,
            None,
            -1,
            reporter.validator_id,
            reporter.sign(unsigned.payload_for(version)),
        )

    @classmethod
    def false_claim(
        cls,
        reporter: Signer,
        vote: SignedMessage,
        block: ProofBlock,
        proof_index: int,
        version: int = 1,
    ) -> Evidence:
        """Build signed false-claim evidence: ``vote`` backs ``block`` whose proof is invalid."""
        args = (Offence.FALSE_CLAIM, vote.validator, vote, None, block, proof_index)
        unsigned = cls(*args, reporter.validator_id, b"")
        return cls(*args, reporter.validator_id, reporter.sign(unsigned.payload_for(version)))


def signed_by(
    message: SignedMessage,
    validators: ValidatorSet,
    checker: SignatureChecker,
    version: int = 1,
) -> bool:
    """Return True if a member of ``validators`` signed ``message`` as a message of protocol
    ``version``: a version-2 vote with the member's registered BLS key (V2.3, V2.6), anything
    else with its Ed25519 key in that version's domain (E7, V2.2)."""
    member = validators.get(message.validator)
    if member is None:
        return False
    if isinstance(message, Prepare | Commit) and message.version == 2:
        roster = None if validators.v2 is None else validators.v2.roster
        return signed_by_registered_key(
            roster, message.validator, message.payload, message.signature, DIRECT
        )
    payload = message.payload if version == 1 else message.payload_for(version)
    return checker.verify(member.public_key, payload, message.signature)


def check_evidence(
    evidence: Evidence,
    validators: ValidatorSet,
    checker: SignatureChecker,
    is_proof_invalid: Any,
    activation: int | None = None,
) -> None:
    """Raise ProtocolViolation("R1.5"/"R4.2") unless ``evidence`` proves its offence.

    ``is_proof_invalid(block, index) -> bool`` re-verifies one proof of a block (used for false
    claims only). Signatures of the offender's messages and of the reporter are checked (R7.5).
    The members of the other offence are empty (spec/consensus.md, "Evidence"): an equivocation
    holds no block and proof index -1, a false claim no second message. ``activation`` is the
    height version 2 starts at (V2.1): the evidence and its messages are of the version of the
    offence's height (V2.2).
    """
    rule = "R4.2" if evidence.offence is Offence.EQUIVOCATION else "R1.5"
    version = version_of_height(evidence.height, activation)
    reporter = validators.get(evidence.reporter)
    if reporter is None or not checker.verify(
        reporter.public_key, evidence.payload_for(version), evidence.signature
    ):
        raise ProtocolViolation("R7.5", "evidence is not signed by a validator")
    for message in (evidence.first, evidence.second):
        if isinstance(message, Prepare | Commit) and message.version != version:
            raise ProtocolViolation(
                ONE_VERSION_RULE,
                f"a version-{message.version} vote in evidence of height {evidence.height}, "
                f"which runs version {version}",
            )
    first = evidence.first
    if first.validator != evidence.offender:
        raise ProtocolViolation(rule, "the evidence is not signed by the named offender")
    if not signed_by(first, validators, checker, version):
        raise ProtocolViolation(rule, "the offender's message does not verify")
    if evidence.offence is Offence.EQUIVOCATION:
        if evidence.block is not None or evidence.proof_index != -1:
            raise ProtocolViolation(rule, "equivocation evidence holds no block, proof index -1")
        second = evidence.second
        if second is None or type(second) is not type(first):
            raise ProtocolViolation(rule, "equivocation needs two messages of one type")
        if (second.validator, second.height, second.view) != (
            first.validator,
            first.height,
            first.view,
        ):
            raise ProtocolViolation(
                rule, "the two messages are not from one (signer, height, view)"
            )
        if second.key == first.key:
            raise ProtocolViolation(rule, "the two messages do not conflict")
        if not signed_by(second, validators, checker, version):
            raise ProtocolViolation(rule, "the second message does not verify")
        return
    if evidence.second is not None:
        raise ProtocolViolation(rule, "false-claim evidence holds one message, second is null")
    block = evidence.block
    if block is None or not isinstance(first, Prepare | Commit | PrePrepare):
        raise ProtocolViolation(rule, "a false claim is a signed vote or proposal plus its block")
    if first.digest != block.digest:
        raise ProtocolViolation(rule, "the vote is not for the enclosed block")
    if not 0 <= evidence.proof_index < len(block.proofs):
        raise ProtocolViolation(rule, "proof index out of range")
    if not is_proof_invalid(block, evidence.proof_index):
        raise ProtocolViolation(rule, "the named proof verifies: no false claim")
