"""What a client checks in a node's answers: balances proven against a certified root.

``GET /accounts/{account}`` answers with the account's balance and nonce, the state root of the
height they are read at, that height's commit certificate, and an inclusion (or absence) proof
of each value under that root (:mod:`aethel.merkle.proofs`). :func:`verify_account_answer`
checks, without trusting the node: the certificate holds q(W) stake of distinct members with
valid signatures for that root (R2.3, R7.5), each proof is for the account's key and recomputes
the certified root (E9), and the values are the proven ones. A node cannot make a client
believe a balance the validators did not certify.

A certificate is checked in the protocol version of its height (V2.1, V2.2): signed votes below
the chain's first height of version 2, a signer bitmap and one BLS aggregate over the members'
registered keys from it (V2.7, V2.8); a certificate of the other form is refused naming V2.2.

The validator set a client checks certificates with is the genesis set: it is exact while no
validator was slashed (slashing changes stakes, R4.3); a client following a chain with slashing
checks each height's set along the chain as :func:`aethel.consensus.catchup.
verify_certified_chain` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aethel.consensus.messages import CommitCertificate
from aethel.consensus.signing import DirectSignatureChecker
from aethel.consensus.v2.version import require_version, version_of_height
from aethel.consensus.validators import ValidatorSet
from aethel.consensus.votes import aggregate_certificates, check_certificate
from aethel.consensus.wire import parse_commit_certificate
from aethel.encoding import parse_hex
from aethel.errors import ProtocolViolation
from aethel.merkle.proofs import AbsenceProof, InclusionProof, proof_from_dict, verify_proof
from aethel.state.layout import balance_key, nonce_key


@dataclass(frozen=True, slots=True)
class VerifiedAccount:
    """An account's balance and nonce at a certified height, as a client verified them."""

    account: str
    height: int
    root: bytes
    balance: int
    nonce: int


def _proven_int(proof_json: object, key: str, root: bytes) -> int:
    proof = proof_from_dict(proof_json)
    if proof.key != key:
        raise ProtocolViolation("E9", f"the proof is for {proof.key!r}, not {key!r}")
    if not verify_proof(proof, root):
        raise ProtocolViolation("E9", f"the proof of {key!r} does not recompute the root")
    if isinstance(proof, AbsenceProof):
        return 0
    assert isinstance(proof, InclusionProof)
    value = proof.value
    if type(value) is not int:
        raise ProtocolViolation("E9", f"{key!r} holds a non-integer")
    return value


def check_certified(
    certificate: CommitCertificate, validators: ValidatorSet, activation: int | None = None
) -> None:
    """Raise ProtocolViolation unless ``certificate`` is valid in its height's protocol version.

    ``activation``: the chain's first height of version 2 (the genesis's ``protocol_v2_height``;
    default: a version-2 set's ``first_height``, else version 1 at every height). Spec: R2.3,
    R7.5 (version 1), V2.2, V2.7, V2.8 (version 2).
    """
    if activation is None and validators.v2 is not None:
        activation = validators.v2.first_height
    require_version(certificate.height, activation, certificate.version)
    if version_of_height(certificate.height, activation) == 2:
        reason = aggregate_certificates()(certificate, validators)
    else:
        reason = check_certificate(certificate, validators, DirectSignatureChecker())
    if reason:
        raise ProtocolViolation(reason.split(":", 1)[0], reason)


def verify_account_answer(
    answer: Any, validators: ValidatorSet, activation: int | None = None
) -> VerifiedAccount:
    """Verify a ``GET /accounts`` answer (see the module docstring); raise ProtocolViolation.

    ``activation``: as for :func:`check_certified`."""
    names = {"account", "height", "root", "balance", "nonce", "certificate", "proofs"}
    if not isinstance(answer, dict) or set(answer) != names:
        raise ProtocolViolation("E12", f"an account answer holds exactly {sorted(names)}")
    account = answer["account"]
    if not isinstance(account, str):
        raise ProtocolViolation("E12", "account is a hex string")
    root = parse_hex(answer["root"], length=32)
    certificate = parse_commit_certificate(answer["certificate"])
    if certificate.post_root != root or certificate.height != answer["height"]:
        raise ProtocolViolation("R3.2", "the certificate is not for that height and root")
    check_certified(certificate, validators, activation)
    proofs = answer["proofs"]
    if not isinstance(proofs, dict) or set(proofs) != {"balance", "nonce"}:
        raise ProtocolViolation("E12", "proofs holds exactly balance and nonce")
    balance = _proven_int(proofs["balance"], balance_key(account), root)
    nonce = _proven_int(proofs["nonce"], nonce_key(account), root)
    if (balance, nonce) != (answer["balance"], answer["nonce"]):
        raise ProtocolViolation("E9", "the answered values are not the proven ones")
    return VerifiedAccount(account, certificate.height, root, balance, nonce)


__all__ = ["VerifiedAccount", "check_certified", "verify_account_answer"]
