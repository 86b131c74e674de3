"""A hand-built first height for scripted replica cases: a validator set the case chooses
(stakes, and a public key of its choosing for some members), the view-0 leader's empty block,
and any vote, certificate, VIEW-CHANGE or NEW-VIEW a case wants to show the implementation's
replica.

Unlike :mod:`conformance.suite.chains` (a real chain run by reference replicas), nothing runs
here but the implementation's replica: the harness signs every message itself, so a case can
change one member of one message and watch what the replica does with it. The post-state root
of a block comes from the reference ledger (it is what the replica's COMMIT must carry).
"""

from __future__ import annotations

import functools
import itertools
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import UnionType
from typing import Any, TypeVar

from aethel.consensus.block import GENESIS_PARENT, ProofBlock
from aethel.consensus.events import Broadcast, Output, Send, SetTimer, Timer
from aethel.consensus.evidence import Evidence, check_evidence
from aethel.consensus.ledger import LedgerExecutor, LedgerValidator, StateRepository, make_genesis
from aethel.consensus.messages import (
    Commit,
    CommitCertificate,
    Message,
    NewView,
    Prepare,
    PrepareCertificate,
    PrePrepare,
    ViewChange,
)
from aethel.consensus.signing import DirectSignatureChecker, KeySigner
from aethel.consensus.validators import Validator, ValidatorSet, make_validator_keys
from aethel.consensus.workload import TransferWorkload
from aethel.encoding import JSONValue, KeyPair
from aethel.errors import ProtocolViolation
from aethel.proofs.model import Outcome, ProofKind, proof_from_json, sign_proof
from aethel.state.transitions import Genesis
from conformance.adapters.api import ReplicaAPI
from conformance.adapters.reference_replica import genesis_to_json
from conformance.replica_wire import outputs_from_json

KEY_SEED = 3
#: Four members of equal stake: q(W) = 26,667 is three of them, never two.
FOUR = (10_000, 10_000, 10_000, 10_000)
#: A moment past a replica's first view timer (4 s from a start at 0: R6.5's floor) ...
TIMEOUT_AT = 5 * 10**9
#: ... and one second later, when a case that timed view 0 out goes on.
AFTER_TIMEOUT = 6 * 10**9
#: One millisecond of the replica's clock (nanoseconds).
MS = 1_000_000


@dataclass
class Scene:
    """One validator set at height 1, and the messages of its members (see the module doc)."""

    validators: ValidatorSet
    signers: dict[str, KeySigner]
    genesis: Genesis
    repository: StateRepository = field(default_factory=StateRepository)

    @property
    def ids(self) -> list[str]:
        return [m.id for m in self.validators.validators]

    def leader(self, view: int = 0, height: int = 1) -> str:
        return self.validators.get_leader(height, view).id

    def others(self, *excluded: str) -> list[str]:
        """Return the members not in ``excluded``, in id order."""
        return [name for name in self.ids if name not in excluded]

    def replica(
        self, api: ReplicaAPI, name: str, mode: str = "collector", now: int | None = 0
    ) -> Any:
        """Return the implementation's replica of ``name``, started at ``now`` (None: not
        started; the case starts it and reads what it answers)."""
        remote = api.new(
            self.validators.to_wire(),
            name,
            self.signers[name].key.seed.hex(),
            mode,
            genesis_to_json(self.genesis),
        )
        if now is not None:
            remote.start(now)
        return remote

    def block(
        self,
        proposer: str | None = None,
        *,
        height: int = 1,
        parent: bytes = GENESIS_PARENT,
        last_commit: CommitCertificate | None = None,
    ) -> ProofBlock:
        """Return an empty block signed by ``proposer`` (default: the view-0 leader)."""
        signer = self.signers[proposer or self.leader(0, height)]
        return ProofBlock.create(signer, height, parent, [], [], [], last_commit)

    def pre_prepare(
        self, block: ProofBlock, view: int = 0, leader: str | None = None
    ) -> PrePrepare:
        return PrePrepare.create(self.signers[leader or self.leader(view)], view, block)

    @functools.cached_property
    def _executor(self) -> LedgerExecutor:
        return LedgerExecutor(self.repository, self.genesis)

    def post_root(self, block: ProofBlock) -> bytes:
        """Return the post-state root of a height-1 ``block`` by the reference ledger."""
        pre_root = self._executor.genesis_root()
        verdict = LedgerValidator(self.repository).validate_block(block, pre_root)
        execution = self._executor.execute(block, verdict, pre_root, self.validators)
        return execution.post_root

    def prepare(self, name: str, digest: bytes, view: int = 0, height: int = 1) -> Prepare:
        return Prepare.create(self.signers[name], height, view, digest)

    def commit(
        self, name: str, digest: bytes, root: bytes, view: int = 0, height: int = 1
    ) -> Commit:
        return Commit.create(self.signers[name], height, view, digest, root)

    def prepare_certificate(
        self, names: Iterable[str], digest: bytes, view: int = 0, height: int = 1
    ) -> PrepareCertificate:
        votes = tuple(self.prepare(n, digest, view, height) for n in names)
        return PrepareCertificate(height, view, digest, votes)

    def commit_certificate(
        self, names: Iterable[str], digest: bytes, root: bytes, view: int = 0, height: int = 1
    ) -> CommitCertificate:
        votes = tuple(self.commit(n, digest, root, view, height) for n in names)
        return CommitCertificate(height, view, digest, root, votes)

    def view_change(
        self,
        name: str,
        view: int,
        prepared: PrepareCertificate | None = None,
        block: ProofBlock | None = None,
        height: int = 1,
    ) -> ViewChange:
        return ViewChange.create(self.signers[name], height, view, prepared, block)

    def new_view(
        self,
        changes: Iterable[ViewChange],
        prepared: PrepareCertificate | None,
        block: ProofBlock,
        view: int,
        leader: str | None = None,
    ) -> NewView:
        name = leader or self.leader(view, block.height)
        pre_prepare = PrePrepare.create(self.signers[name], view, block)
        return NewView.create(self.signers[name], list(changes), prepared, pre_prepare)


def make_scene(
    stakes: Sequence[int],
    *,
    keys: Mapping[str, bytes] | None = None,
    seed: int = KEY_SEED,
    epoch: str = "scene",
) -> Scene:
    """Build validators ``v000``... with ``stakes``; ``keys`` replaces some public keys (each
    member still signs with its own seed, so a replaced key is one whose signatures the case
    makes itself)."""
    pairs = make_validator_keys(len(stakes), seed)
    ids = [f"v{i:03d}" for i in range(len(stakes))]
    keys = keys or {}
    members = [
        Validator(name, keys.get(name, pair.public_key), stake)
        for name, pair, stake in zip(ids, pairs, stakes, strict=True)
    ]
    epoch_seed = random.Random(f"aethel-conformance/scene/{epoch}/{seed}").randbytes(32)
    validators = ValidatorSet.create(0, epoch_seed, members)
    signers = {name: KeySigner(name, pair) for name, pair in zip(ids, pairs, strict=True)}
    return Scene(validators, signers, make_genesis({}, validators))


#: Items of a block: (transactions, proofs) in their JSON form.
Items = tuple[list[dict[str, JSONValue]], list[dict[str, JSONValue]]]


def funded_scene(
    epoch: str = "funded", transfers: int = 2, accounts: int = 4
) -> tuple[Scene, Items]:
    """The four-member scene with ``accounts`` funded accounts, and ``transfers`` valid
    transfers of height 1 with their judge proofs (the reference's transfer workload, seeded):
    for cases whose blocks carry proofs."""
    base = make_scene(FOUR, epoch=epoch)
    repository = StateRepository()
    workload = TransferWorkload(repository, 11, accounts=accounts, per_block=transfers)
    genesis = make_genesis(workload.genesis_balances, base.validators)
    scene = Scene(base.validators, base.signers, genesis, repository)
    pre_root = LedgerExecutor(repository, genesis).genesis_root()
    transactions, proofs = workload.select(1, pre_root)
    return scene, (list(transactions), list(proofs))


#: The submitter of the proofs the cases re-sign (its own proofs, so they verify).
RESIGNER = KeyPair.from_seed(bytes([41] * 32))


def resigned_proof(
    proof: Mapping[str, JSONValue],
    *,
    kind: ProofKind | None = None,
    claimed: Outcome | None = None,
) -> dict[str, JSONValue]:
    """Return ``proof``'s obligation, budget and subjects signed again by :data:`RESIGNER`, with
    its kind or claimed outcome changed: a well-signed proof of another kind, or a false claim
    (the other outcome) that its signature does not give away."""
    parsed = proof_from_json(dict(proof))
    return sign_proof(
        RESIGNER,
        kind=kind or parsed.kind,
        smt=parsed.smt,
        claimed=claimed or parsed.claimed,
        budget=parsed.budget,
        subjects=parsed.subjects,
    ).to_json()


def the_other_outcome(proof: Mapping[str, JSONValue]) -> Outcome:
    """Return the outcome ``proof`` does not claim."""
    return Outcome.SAT if proof_from_json(dict(proof)).claimed is Outcome.UNSAT else Outcome.UNSAT


def find_scene(
    stakes: Sequence[int],
    where: Callable[[Scene], bool],
    *,
    keys: Mapping[str, bytes] | None = None,
    label: str = "scene",
) -> Scene:
    """Return the first scene (epochs ``label/0`` .. ``label/199``) whose leaders satisfy
    ``where`` (leaders are drawn from the epoch seed, so a case picks the draw it needs)."""
    for attempt in range(200):
        scene = make_scene(stakes, keys=keys, epoch=f"{label}/{attempt}")
        if where(scene):
            return scene
    raise AssertionError(f"no epoch gives the scene its roles ({label}; suite bug)")


def subsets_with_stake(
    scene: Scene, total: int, *, include: Iterable[str] = (), exclude: Iterable[str] = ()
) -> list[str]:
    """Return the smallest set of members holding exactly ``total`` stake, with every member of
    ``include`` and none of ``exclude`` (a quorum boundary case needs exact sums)."""
    must, banned = set(include), set(exclude)
    free = [m for m in scene.ids if m not in must and m not in banned]
    base = sum(scene.validators.stake_of(m) for m in must)
    for size in range(len(free) + 1):
        for chosen in itertools.combinations(free, size):
            if base + sum(scene.validators.stake_of(m) for m in chosen) == total:
                return sorted(must | set(chosen))
    raise AssertionError(f"no members hold exactly {total} (suite bug)")


def sent(outputs: object, kind: type | UnionType, predicate: Any = None) -> list[Message]:
    """Return the messages of type ``kind`` the outputs send or broadcast (that pass
    ``predicate``)."""
    found: list[Message] = []
    for out in outputs_from_json(outputs):
        if not isinstance(out, Send | Broadcast):
            continue
        message = out.message
        if isinstance(message, kind) and (predicate is None or predicate(message)):
            found.append(message)
    return found


def gossiped_evidence(outputs: object) -> list[Evidence]:
    """Return the evidence records ``outputs`` send or broadcast."""
    return [e for e in sent(outputs, Evidence) if isinstance(e, Evidence)]


def require_provable(
    records: Iterable[Evidence],
    validators: ValidatorSet,
    who: str,
    is_proof_invalid: Any = None,
    activation: int | None = None,
) -> None:
    """Fail unless each record ``who`` gossiped proves its offence to anyone: the reference's
    check of evidence takes it (spec/consensus.md, Evidence: "Anyone can check evidence on its
    own"; ``activation``: the height version 2 starts at, V2.2)."""
    for record in records:
        try:
            check_evidence(
                record, validators, DirectSignatureChecker(), is_proof_invalid, activation
            )
        except ProtocolViolation as exc:
            raise AssertionError(
                f"{who} gossiped a record of {record.offender}'s {record.offence.value} that "
                f"does not prove it ({exc.rule_id}: {exc.detail})"
            ) from None


#: A signed protocol object (a message, vote, block or certificate's vote).
Signed = TypeVar("Signed")


def flipped(signed: Signed) -> Signed:
    """Return ``signed`` with the first bit of its signature flipped: the same bytes, signed by
    no one (R7.5)."""
    original: Any = signed
    damaged: Signed = replace(
        original, signature=bytes([original.signature[0] ^ 1]) + original.signature[1:]
    )
    return damaged


def parsed(outputs: object) -> list[Output]:
    """Return the outputs parsed strictly (a malformed output is the implementation's error)."""
    return outputs_from_json(outputs)


def view_deadline(outputs: object, height: int, view: int) -> int | None:
    """Return the deadline of the last view timer ``outputs`` set for (``height``, ``view``)."""
    found = None
    for out in parsed(outputs):
        if isinstance(out, SetTimer) and out.timer == Timer(height, view, "view"):
            found = out.deadline
    return found


def expect_signatures_counted(remote: Any, before: object, least: int, what: str) -> None:
    """T22.2e: ``remote``'s ``signatures_checked`` counter, ``before`` it handled ``what``,
    never decreases, and grew by at least the ``least`` signatures it had to check to act on it
    (R7.5; 0 when it did not act)."""
    after = remote.get_performance_stats().get("signatures_checked")
    if not isinstance(before, int) or not isinstance(after, int) or after - before < least:
        why = (
            f"it acted on it, so it checked {least} signature(s) first"
            if least
            else "a counter never decreases"
        )
        raise AssertionError(
            f"signatures checked went from {before!r} to {after!r} on {what}: {why} (T22.2e)"
        )
