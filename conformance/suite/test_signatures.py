"""Ed25519 at its edges, everywhere an implementation checks a signature (N1, R7.5).

N1 makes libsodium's strict verification the rule: an unreduced S, a small-order or
non-canonically encoded public key or R, and a signature only the cofactored equation accepts
are invalid; a mixed-order key whose signature satisfies the cofactorless equation is valid.
The classes and the committed vectors are defined once in
:mod:`conformance.testvectors.ed25519` (conformance/vectors/ed25519/). Each class goes to the
encoding capability's ``verify_signature``, the verifier's ``batch_verify_signatures`` and
``verify_proof``, the mempool's admission of proofs and transfers, and the replica: as a
PREPARE vote, inside a PREPARE certificate and inside a COMMIT certificate, from a validator
whose key is the class's key. An invalid class must be refused everywhere; a valid one must be
accepted everywhere (nodes that disagree on a signature disagree on which votes count).
"""

from __future__ import annotations

from typing import Any

import pytest

from aethel.consensus.messages import Commit, CommitCertificate, Prepare, PrepareCertificate
from conformance.adapters.api import EncodingAPI, MempoolAPI, ReplicaAPI, VerifierAPI
from conformance.adapters.errors import Rejected
from conformance.checks import MustReject, expect_equal
from conformance.suite.scene import Scene, make_scene, sent
from conformance.testvectors.ed25519 import (
    EDGE_CLASSES,
    RULES,
    EdgeClass,
    EdgeVector,
    load_vectors,
)

JUDGE_SEED = bytes([7] * 32).hex()
NOW = 10**9


def _marks(valid: bool) -> list[Any]:
    marks = [pytest.mark.req(*RULES)]
    if not valid:
        marks.append(pytest.mark.rejects(*RULES))
    return marks


def _vector_params(kind: str | None = None) -> list[Any]:
    return [
        pytest.param(v, id=f"{v.edge}-{v.kind}", marks=_marks(v.valid))
        for v in load_vectors()
        if kind is None or v.kind == kind
    ]


def _class_params() -> list[Any]:
    return [pytest.param(e, id=e.name, marks=_marks(e.valid)) for e in EDGE_CLASSES]


def _verdict_name(valid: bool) -> str:
    return "valid" if valid else "invalid"


def _accepted(call: Any) -> bool:
    """Run ``call``: False if it raised Rejected or answered False, else True."""
    try:
        answer = call()
    except Rejected:
        return False
    return answer is not False


def _judge(vector: EdgeVector | EdgeClass, accepted: bool, where: str) -> None:
    name = vector.edge if isinstance(vector, EdgeVector) else vector.name
    if vector.valid and not accepted:
        raise AssertionError(
            f"{where}: the {name} signature is valid under N1 (libsodium accepts it), "
            "but the implementation refused it"
        )
    if not vector.valid and accepted:
        raise MustReject(
            f"{where}: the {name} signature is invalid under N1 (libsodium refuses it), "
            "but the implementation accepted it"
        )


# --------------------------------------------------------------------------- signed objects


@pytest.mark.capability("encoding")
@pytest.mark.parametrize("vector", _vector_params())
def test_verify_signature_at_the_edges(encoding_api: EncodingAPI, vector: EdgeVector) -> None:
    accepted = _accepted(
        lambda: encoding_api.verify_signature(
            vector.public_key, vector.domain, vector.value, vector.signature
        )
    )
    _judge(vector, accepted, f"verify_signature of a {vector.kind}")


@pytest.mark.capability("verifier")
@pytest.mark.parametrize("vector", _vector_params())
def test_batch_verify_signatures_at_the_edges(
    verifier_api: VerifierAPI, vector: EdgeVector
) -> None:
    """The vector alone, then between two honest items (a batch verdict is per item)."""
    honest = next(v for v in load_vectors() if v.edge == "honest" and v.kind == vector.kind)
    items = [
        {"public_key": v.public_key, "message": v.message, "signature": v.signature}
        for v in (honest, vector, honest)
    ]
    alone = verifier_api.batch_verify_signatures(items[1:2])
    mixed = verifier_api.batch_verify_signatures(items)
    expect_equal(mixed[0::2], [True, True], "verdicts of the honest items around it")
    expect_equal(mixed[1], alone[0], "verdict inside a batch vs alone")
    _judge(vector, alone[0] is True, "batch_verify_signatures")


@pytest.mark.capability("verifier")
@pytest.mark.parametrize("vector", _vector_params("proof"))
def test_verify_proof_at_the_edges(verifier_api: VerifierAPI, vector: EdgeVector) -> None:
    """The proof itself is valid (unsat inside the fragment): only its signature decides."""
    accepted = _accepted(
        lambda: verifier_api.verify_proof(vector.signed_object)["verdict"] == "valid"
    )
    _judge(vector, accepted, "verify_proof")


@pytest.mark.capability("mempool")
@pytest.mark.parametrize("vector", _vector_params())
def test_mempool_admission_at_the_edges(mempool_api: MempoolAPI, vector: EdgeVector) -> None:
    """A proof (valid text) or a transfer (funded sender, next nonce) signed at the edge."""
    pool = mempool_api.new(None, JUDGE_SEED)
    try:
        if vector.kind == "proof":
            accepted = _accepted(lambda: pool.add_proof(vector.signed_object))
        else:
            accepted = _accepted(lambda: pool.add_transaction(vector.signed_object, 100, 0))
        _judge(vector, accepted, f"mempool admission of a {vector.kind}")
        size = pool.stats()["size"]
        expect_equal(size, 1 if vector.valid else 0, "pending proofs after the admission")
    finally:
        getattr(pool, "close", lambda: None)()


# --------------------------------------------------------------------------- consensus votes


STAKES = [10_000, 10_000, 10_000, 10_000]  # q(W) = 26,667: three votes, never two


def _scene(edge: EdgeClass) -> tuple[Scene, str, str, str, str]:
    """Return a scene whose member E signs under the class's key, and the roles
    (leader, E, the replica under test R, the other honest member H)."""
    probe = make_scene(STAKES, epoch="n1")
    leader = probe.leader()
    edge_member, replica, honest = probe.others(leader)
    seed = probe.signers[edge_member].key.seed
    scene = make_scene(STAKES, keys={edge_member: edge.key(seed)}, epoch="n1")
    if scene.leader() != leader:
        raise AssertionError("the leader changed with a key (suite bug)")
    return scene, leader, edge_member, replica, honest


def _edge_prepare(scene: Scene, edge: EdgeClass, name: str, digest: bytes) -> Prepare:
    unsigned = Prepare(1, 0, digest, name, b"")
    signature = edge.sign(scene.signers[name].key.seed, unsigned.payload)
    return Prepare(1, 0, digest, name, signature)


def _edge_commit(scene: Scene, edge: EdgeClass, name: str, digest: bytes, root: bytes) -> Commit:
    unsigned = Commit(1, 0, digest, root, name, b"")
    signature = edge.sign(scene.signers[name].key.seed, unsigned.payload)
    return Commit(1, 0, digest, root, name, signature)


@pytest.mark.capability("replica")
@pytest.mark.parametrize("edge", _class_params())
def test_replica_counts_a_prepare_vote_only_if_valid(
    replica_api: ReplicaAPI, edge: EdgeClass
) -> None:
    """Broadcast mode: the replica holds the proposal, its own PREPARE and the leader's; the
    third vote, which completes q(W), is the edge member's. A valid signature must prepare the
    replica (it sends COMMIT); an invalid one must not, and the honest fourth vote then must."""
    scene, leader, edge_member, name, honest = _scene(edge)
    remote = scene.replica(replica_api, name, "broadcast")
    block = scene.block()
    if not sent(remote.on_message(scene.pre_prepare(block).to_wire(), NOW), Prepare):
        raise AssertionError(f"{name} sent no PREPARE for a valid proposal")
    remote.on_message(scene.prepare(leader, block.digest).to_wire(), NOW)
    vote = _edge_prepare(scene, edge, edge_member, block.digest)
    counted = bool(sent(remote.on_message(vote.to_wire(), NOW), Commit))
    _judge(edge, counted, f"a PREPARE from {edge_member} completing q(W)")
    if not edge.valid:
        control = remote.on_message(scene.prepare(honest, block.digest).to_wire(), NOW)
        if not sent(control, Commit):
            raise AssertionError(f"{name} sent no COMMIT on q(W) honest PREPAREs (the control)")


@pytest.mark.capability("replica")
@pytest.mark.parametrize("edge", _class_params())
def test_replica_takes_a_certificate_only_if_every_signature_is_valid(
    replica_api: ReplicaAPI, edge: EdgeClass
) -> None:
    """Collector mode: the replica holds the proposal and is shown a PREPARE certificate, then
    a COMMIT certificate, of three votes (exactly q(W)), one of them the edge member's."""
    scene, leader, edge_member, name, honest = _scene(edge)
    remote = scene.replica(replica_api, name, "collector")
    block = scene.block()
    digest, root = block.digest, scene.post_root(block)
    if not sent(remote.on_message(scene.pre_prepare(block).to_wire(), NOW), Prepare):
        raise AssertionError(f"{name} sent no PREPARE for a valid proposal")
    members = sorted([leader, honest, edge_member])
    prepares = tuple(
        _edge_prepare(scene, edge, m, digest) if m == edge_member else scene.prepare(m, digest)
        for m in members
    )
    certificate = PrepareCertificate(1, 0, digest, prepares)
    counted = bool(sent(remote.on_message(certificate.to_wire(), NOW), Commit))
    _judge(edge, counted, "a PREPARE certificate holding one edge vote")
    commits = tuple(
        _edge_commit(scene, edge, m, digest, root)
        if m == edge_member
        else scene.commit(m, digest, root)
        for m in members
    )
    remote.on_message(CommitCertificate(1, 0, digest, root, commits).to_wire(), NOW)
    committed = remote.status()["height"] == 2
    _judge(edge, committed, "a COMMIT certificate holding one edge vote")
    if not edge.valid:
        genuine = scene.commit_certificate(sorted([leader, honest, name]), digest, root)
        remote.on_message(genuine.to_wire(), NOW)
        if remote.status()["height"] != 2:
            raise AssertionError(f"{name} did not commit on a genuine certificate (the control)")
