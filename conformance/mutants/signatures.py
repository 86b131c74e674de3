"""Mutants of N1: implementations whose Ed25519 verification is another library's.

Each mutant is the reference with one thing changed: every signature it checks (the encoding
capability's ``verify_signature``, the verifier's ``batch_verify_signatures`` and proof
signatures, mempool admission of proofs and transfers, and the replica's checks of consensus
messages, certificates and evidence) goes through a verifier written from another library's
rules (:data:`conformance.testvectors.ed25519.MODELS`) instead of libsodium. Ordinary
signatures get the same verdicts; only the edges of N1 differ, which is why suites that test
with honest and tampered signatures alone pass them. Proofs inside proposed blocks are still
checked the reference's way (a replica mutant of that part would add nothing the message checks
do not show).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields, replace
from typing import Any, ClassVar

from aethel.consensus.signing import SignatureItem
from aethel.encoding import PUBLIC_KEY_SIZE, SIGNATURE_SIZE, parse_hex, signing_bytes
from aethel.errors import EncodingError
from aethel.proofs.judge import Account
from aethel.proofs.model import Proof, Transfer, proof_from_json, transfer_from_json
from aethel.proofs.parallel import Verifier, verify_proof_block
from aethel.proofs.verifier import verify_proof
from conformance.adapters.api import JSON, Hex
from conformance.adapters.errors import Rejected
from conformance.adapters.reference import (
    ReferenceEncoding,
    ReferenceImplementation,
    _domain,
    _object,
)
from conformance.adapters.reference_errors import rejecting
from conformance.adapters.reference_proofs import (
    ReferenceMempool,
    ReferenceMempoolObject,
    ReferenceVerifier,
    ReferenceVerifierObject,
    result_to_json,
)
from conformance.adapters.reference_replica import ReferenceReplica, ReferenceReplicaObject
from conformance.mutants import Mutant
from conformance.testvectors.ed25519 import (
    COFACTORED,
    COFACTORLESS,
    PRIME_ORDER_KEYS,
    UNCHECKED,
    VerifierModel,
    model_verify,
)

# --------------------------------------------------------------------------- signed objects


class ModelProof(Proof):
    """A proof whose signature is checked by :attr:`model`."""

    model: ClassVar[VerifierModel]

    def is_signature_valid(self) -> bool:
        return model_verify(self.model, self.submitter, self.signing_bytes(), self.signature)


class ModelTransfer(Transfer):
    """A transfer whose signature is checked by :attr:`model`."""

    model: ClassVar[VerifierModel]

    def is_signature_valid(self) -> bool:
        return model_verify(self.model, self.sender, self.signing_bytes(), self.signature)


# Module-level classes, one per model, so proofs pickle into a process pool (verify_block).
class UncheckedProof(ModelProof):
    model = UNCHECKED


class UncheckedTransfer(ModelTransfer):
    model = UNCHECKED


class CofactorlessProof(ModelProof):
    model = COFACTORLESS


class CofactorlessTransfer(ModelTransfer):
    model = COFACTORLESS


class CofactoredProof(ModelProof):
    model = COFACTORED


class CofactoredTransfer(ModelTransfer):
    model = COFACTORED


class PrimeOrderProof(ModelProof):
    model = PRIME_ORDER_KEYS


class PrimeOrderTransfer(ModelTransfer):
    model = PRIME_ORDER_KEYS


def _convert(cls: type[Any], item: Any) -> Any:
    return cls(**{f.name: getattr(item, f.name) for f in fields(item) if f.init})


# --------------------------------------------------------------------------- capabilities


class ModelEncoding(ReferenceEncoding):
    """``verify_signature`` by the model."""

    model: ClassVar[VerifierModel]

    @rejecting
    def verify_signature(self, public_key: Hex, domain: str, value: JSON, signature: Hex) -> bool:
        key = parse_hex(public_key, length=PUBLIC_KEY_SIZE)
        sig = parse_hex(signature, length=SIGNATURE_SIZE)
        try:
            message = signing_bytes(_domain(domain), _object(value))
        except EncodingError:
            return False
        return model_verify(self.model, key, message, sig)


class ModelVerifierObject(ReferenceVerifierObject):
    """A cached verifier whose proofs' signatures are checked by the model."""

    proof_class: ClassVar[type[ModelProof]]

    def __init__(self) -> None:
        self.verifier = Verifier()

    @rejecting
    def verify(self, proof: JSON) -> JSON:
        parsed = _convert(self.proof_class, proof_from_json(proof))
        return result_to_json(self.verifier.verify(parsed))


class ModelVerifier(ReferenceVerifier):
    """Proof signatures and ``batch_verify_signatures`` by the model."""

    model: ClassVar[VerifierModel]
    proof_class: ClassVar[type[ModelProof]]
    object_class: ClassVar[type[ModelVerifierObject]]

    def _proof(self, proof: JSON) -> Proof:
        parsed: Proof = _convert(self.proof_class, proof_from_json(proof))
        return parsed

    @rejecting
    def verify_proof(self, proof: JSON) -> JSON:
        return result_to_json(verify_proof(self._proof(proof)))

    @rejecting
    def verify_block(self, proofs: list[JSON], parallel: bool) -> list[JSON]:
        parsed = [self._proof(p) for p in proofs]
        return [result_to_json(r) for r in verify_proof_block(parsed, parallel=bool(parallel))]

    @rejecting
    def batch_verify_signatures(self, items: list[JSON]) -> list[bool]:
        verdicts = []
        for item in items:
            if not isinstance(item, dict) or set(item) != {"public_key", "message", "signature"}:
                raise Rejected("an item is {public_key, message, signature}", "T22.2c")
            key, message, signature = (
                parse_hex(item[name]) for name in ("public_key", "message", "signature")
            )
            verdicts.append(model_verify(self.model, key, message, signature))
        return verdicts

    @rejecting
    def new(self) -> ModelVerifierObject:
        return self.object_class()


class ModelMempoolObject(ReferenceMempoolObject):
    """A mempool admitting proofs and transfers whose signatures the model accepts."""

    proof_class: ClassVar[type[ModelProof]]
    transfer_class: ClassVar[type[ModelTransfer]]

    @rejecting
    def add_proof(self, proof: JSON) -> JSON:
        pending = self.pool.add_proof(_convert(self.proof_class, proof_from_json(proof)))
        return {"proof_id": pending.proof.proof_id.hex(), "difficulty": pending.difficulty}

    @rejecting
    def add_transaction(self, transaction: JSON, balance: int, nonce: int) -> JSON:
        parsed = _convert(self.transfer_class, transfer_from_json(transaction))
        pending = self.pool.add_transaction(parsed, Account(balance, nonce))
        result: dict[str, Any] = pending.proof.to_json()
        return result


class ModelMempool(ReferenceMempool):
    object_class: ClassVar[type[ModelMempoolObject]]

    @rejecting
    def new(self, capacity: int | None, judge_seed: Hex) -> ModelMempoolObject:
        return self.object_class(capacity, judge_seed)


class ModelChecker:
    """The replica's signature checker (aethel.consensus.signing.SignatureChecker) by a model."""

    def __init__(self, model: VerifierModel) -> None:
        self.model = model

    def verify(self, public_key: bytes, payload: bytes, signature: bytes) -> bool:
        return model_verify(self.model, public_key, payload, signature)

    def verify_batch(self, items: Sequence[SignatureItem], batch_id: bytes | None) -> list[bool]:
        return [model_verify(self.model, k, p, s) for k, p, s in items]


class ModelReplicaObject(ReferenceReplicaObject):
    """A reference replica whose signature checker is the model."""

    model: ClassVar[VerifierModel]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        services = self.replica.services
        self.replica.services = replace(services, checker=ModelChecker(self.model))


def _implementation(
    name: str, model: VerifierModel, proof: type[ModelProof], transfer: type[ModelTransfer]
) -> type[ReferenceImplementation]:
    """Return the reference with every signature check of the listed capabilities by ``model``."""
    common = {"model": model, "proof_class": proof, "transfer_class": transfer}
    encoding = type(f"{name}Encoding", (ModelEncoding,), common)
    verifier_object = type(f"{name}VerifierObject", (ModelVerifierObject,), common)
    verifier = type(
        f"{name}Verifier", (ModelVerifier,), {**common, "object_class": verifier_object}
    )
    mempool_object = type(f"{name}MempoolObject", (ModelMempoolObject,), common)
    mempool = type(f"{name}Mempool", (ModelMempool,), {"object_class": mempool_object})
    replica_object = type(f"{name}ReplicaObject", (ModelReplicaObject,), common)
    replica = type(f"{name}Replica", (ReferenceReplica,), {"object_class": replica_object})
    label = "mutant-ed25519-" + model.name
    return type(
        name,
        (ReferenceImplementation,),
        {
            "name": label,
            "make_encoding": lambda self: encoding(),
            "make_verifier": lambda self: verifier(),
            "make_mempool": lambda self: mempool(),
            "make_replica": lambda self: replica(),
        },
    )


UncheckedEd25519 = _implementation("UncheckedEd25519", UNCHECKED, UncheckedProof, UncheckedTransfer)
CofactorlessEd25519 = _implementation(
    "CofactorlessEd25519", COFACTORLESS, CofactorlessProof, CofactorlessTransfer
)
CofactoredEd25519 = _implementation(
    "CofactoredEd25519", COFACTORED, CofactoredProof, CofactoredTransfer
)
PrimeOrderKeysEd25519 = _implementation(
    "PrimeOrderKeysEd25519", PRIME_ORDER_KEYS, PrimeOrderProof, PrimeOrderTransfer
)

CAPABILITIES = ("encoding", "verifier", "mempool", "replica")

MUTANTS = [
    Mutant(
        "ed25519-unchecked",
        "Ed25519 verified by RFC 8032's equation alone: S unreduced, y mod p, small order taken",
        ("N1", "R7.5"),
        CAPABILITIES,
        UncheckedEd25519,
    ),
    Mutant(
        "ed25519-cofactorless-no-small-order",
        "Ed25519 verified like Go's crypto/ed25519: no small-order or key-canonicity checks",
        ("N1", "R7.5"),
        CAPABILITIES,
        CofactorlessEd25519,
    ),
    Mutant(
        "ed25519-cofactored",
        "Ed25519 verified with the cofactored equation and no small-order checks (ZIP 215)",
        ("N1", "R7.5"),
        CAPABILITIES,
        CofactoredEd25519,
    ),
    Mutant(
        "ed25519-prime-order-keys",
        "Ed25519 refuses keys outside the prime-order subgroup, which libsodium accepts",
        ("N1",),
        CAPABILITIES,
        PrimeOrderKeysEd25519,
    ),
]
