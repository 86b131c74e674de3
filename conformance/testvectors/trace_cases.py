"""The replica traces: scripted events for one replica, built by the harness (one source for the
vectors under ``replica/trace/`` and for ``conformance/suite/test_replica_traces.py``).

Every message a trace delivers is built and signed here with the validators' keys (the replica
under test gets its own seed, so the harness can also build what the replica loops back to
itself). Blocks carry real transfers with the judge's proofs (a seeded workload); post-state
roots come from the reference ledger, so a COMMIT the harness signs names the root the replica
must compute. Catch-up traces replay the suite's real slashed chain
(:mod:`conformance.suite.chains`). Expected outcomes are never written here: generation runs each
trace on the reference (see :mod:`conformance.testvectors.traces` for the compared form).

Spec: R1.1, R2.3, R2.6, R3.1, R3.2, R4.2, R4.3, R5.6, R7.5, R8.5, P7, P10.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from aethel.consensus.block import GENESIS_PARENT, ProofBlock
from aethel.consensus.evidence import Evidence
from aethel.consensus.ledger import (
    LedgerExecutor,
    LedgerValidator,
    StateRepository,
    make_genesis,
)
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
from aethel.consensus.signing import KeySigner
from aethel.consensus.validators import Validator, ValidatorSet, make_validator_keys
from aethel.consensus.workload import TransferWorkload
from aethel.proofs.model import Outcome, ProofKind, sign_proof
from aethel.state.transitions import Genesis
from conformance.adapters.reference_replica import genesis_to_json

#: (name, rules, input) of one trace.
TraceCase = tuple[str, tuple[str, ...], dict[str, Any]]
KEY_SEED = 15
#: One millisecond of virtual time: the spacing of events in a trace.
MS = 1_000_000


@dataclass
class Scene:
    """A validator set, its keys, a funded genesis and the reference ledger to compute roots."""

    validators: ValidatorSet
    signers: dict[str, KeySigner]
    genesis: Genesis
    workload: TransferWorkload
    repository: StateRepository
    executor: LedgerExecutor
    roots: dict[int, bytes] = field(default_factory=dict)

    @property
    def ids(self) -> list[str]:
        return [m.id for m in self.validators.validators]

    def leader(self, height: int = 1, view: int = 0) -> str:
        return self.validators.get_leader(height, view).id

    def others(self, *excluded: str) -> list[str]:
        return [name for name in self.ids if name not in excluded]

    def setup(self, name: str, mode: str = "collector") -> dict[str, Any]:
        """Return the ``replica.new`` parameters of validator ``name``."""
        return {
            "validator_set": self.validators.to_wire(),
            "validator_id": name,
            "seed": self.signers[name].key.seed.hex(),
            "mode": mode,
            "genesis": genesis_to_json(self.genesis),
        }

    def pre_root(self, height: int) -> bytes:
        return self.executor.genesis_root() if height == 1 else self.roots[height - 1]

    def items(self, height: int) -> tuple[list[Any], list[Any]]:
        """Return the workload's (transactions, proofs) for ``height`` on its pre-state."""
        transactions, proofs = self.workload.select(height, self.pre_root(height))
        return list(transactions), list(proofs)

    def block(
        self,
        height: int = 1,
        *,
        proposer: str | None = None,
        last_commit: CommitCertificate | None = None,
        parent: bytes | None = None,
        empty: bool = False,
    ) -> ProofBlock:
        """Return the block of ``height`` (the workload's transfers unless ``empty``)."""
        transactions, proofs = ([], []) if empty else self.items(height)
        if parent is None:
            parent = GENESIS_PARENT if height == 1 else last_commit.digest  # type: ignore[union-attr]
        signer = self.signers[proposer or self.leader(height, 0)]
        return ProofBlock.create(signer, height, parent, transactions, proofs, [], last_commit)

    def post_root(self, block: ProofBlock) -> bytes:
        """Return (and remember) the reference ledger's post-state root of ``block``."""
        pre_root = self.pre_root(block.height)
        verdict = LedgerValidator(self.repository).validate_block(block, pre_root)
        if not verdict.valid:
            raise RuntimeError(f"the trace's block {block.height} is not valid (generator bug)")
        execution = self.executor.execute(block, verdict, pre_root, self.validators)
        self.roots[block.height] = execution.post_root
        return execution.post_root

    def pre_prepare(self, block: ProofBlock, view: int = 0) -> PrePrepare:
        return PrePrepare.create(self.signers[self.leader(block.height, view)], view, block)

    def prepare(self, name: str, block: ProofBlock, view: int = 0) -> Prepare:
        return Prepare.create(self.signers[name], block.height, view, block.digest)

    def commit(self, name: str, block: ProofBlock, root: bytes, view: int = 0) -> Commit:
        return Commit.create(self.signers[name], block.height, view, block.digest, root)

    def prepared(
        self, names: Sequence[str], block: ProofBlock, view: int = 0
    ) -> PrepareCertificate:
        votes = tuple(self.prepare(n, block, view) for n in self.in_order(names))
        return PrepareCertificate(block.height, view, block.digest, votes)

    def committed(
        self, names: Sequence[str], block: ProofBlock, root: bytes, view: int = 0
    ) -> CommitCertificate:
        votes = tuple(self.commit(n, block, root, view) for n in self.in_order(names))
        return CommitCertificate(block.height, view, block.digest, root, votes)

    def in_order(self, names: Sequence[str]) -> list[str]:
        """Return ``names`` in validator-set order (a certificate lists its votes so)."""
        return sorted(names, key=lambda n: self.validators.index.get(n, len(self.ids)))


def make_scene(
    stakes: Sequence[int], *, seed: int = KEY_SEED, distinct_leaders: bool = True
) -> Scene:
    """Build validators ``v000``... with ``stakes``; the epoch seed is the first whose leaders of
    height 1 in views 0 and 1 differ (so a view change changes the leader) when asked."""
    keys = make_validator_keys(len(stakes), seed)
    ids = [f"v{i:03d}" for i in range(len(stakes))]
    members = [Validator(i, k.public_key, s) for i, k, s in zip(ids, keys, stakes, strict=True)]
    for attempt in range(1_000):
        epoch_seed = random.Random(f"aethel-vectors/trace-epoch/{seed}/{attempt}").randbytes(32)
        validators = ValidatorSet.create(0, epoch_seed, members)
        leaders = {validators.get_leader(1, 0).id, validators.get_leader(1, 1).id}
        if not distinct_leaders or len(leaders) == 2 or len(stakes) == 1:
            break
    repository = StateRepository()
    workload = TransferWorkload(repository, seed, accounts=4, per_block=2)
    genesis = make_genesis(workload.genesis_balances, validators)
    signers = {i: KeySigner(i, k) for i, k in zip(ids, keys, strict=True)}
    return Scene(
        validators, signers, genesis, workload, repository, LedgerExecutor(repository, genesis)
    )


def _step(
    call: str, check: bool = False, refusal_allowed: bool = False, **params: Any
) -> dict[str, Any]:
    step: dict[str, Any] = {"call": call, "params": params}
    if check:
        step["check"] = True
    if refusal_allowed:
        step["refusal_allowed"] = True
    return step


def _message(message: Message | Evidence, now: int, check: bool = False) -> dict[str, Any]:
    return _step("on_message", check, message=message.to_wire(), now=now)


def _trace(setup: dict[str, Any], steps: list[dict[str, Any]]) -> dict[str, Any]:
    return {"replica": setup, "steps": steps}


FOUR = (10_000, 10_000, 10_000, 10_000)
#: v000 holds 50,000 and block 2 slashes it 20% to 40,000; v001..v004 hold 25,000 each.
FIVE = (50_000, 25_000, 25_000, 25_000, 25_000)
#: v000 holds 1,200: block 2 leaves it below the minimum stake, out of the set of height 3.
DROPPED = (1_200, 10_000, 10_000, 10_000)


def _follower_two_heights(mode: str) -> dict[str, Any]:
    """A follower commits heights 1 and 2 from PRE-PREPAREs and certificates."""
    scene = make_scene(FOUR)
    leader = scene.leader(1, 0)
    me = scene.others(leader, scene.leader(2, 0))[0]  # leads neither height
    voters = [leader, me, scene.others(leader, me)[0]]
    b1 = scene.block(1)
    r1 = scene.post_root(b1)
    c1 = scene.committed(voters, b1, r1)
    b2 = scene.block(2, last_commit=c1)
    r2 = scene.post_root(b2)
    steps = [
        _step("start", True, now=0),
        _message(scene.pre_prepare(b1), 1 * MS, True),
    ]
    if mode == "broadcast":  # every validator assembles certificates from the votes itself
        steps += [_message(scene.prepare(n, b1), 2 * MS) for n in voters if n != me]
        steps[-1]["check"] = True
        steps += [_message(scene.commit(n, b1, r1), 3 * MS) for n in voters if n != me]
        steps[-1]["check"] = True
    else:
        steps += [
            _message(scene.prepared(voters, b1), 2 * MS, True),
            _message(c1, 3 * MS, True),
        ]
    steps += [
        _message(scene.pre_prepare(b2), 4 * MS, True),
        _message(scene.prepared(voters, b2), 5 * MS, True),
        _message(scene.committed(voters, b2, r2), 6 * MS, True),
    ]
    return _trace(scene.setup(me, mode), steps)


def _batched(trace: dict[str, Any]) -> dict[str, Any]:
    """Return ``trace`` with each run of messages between checkpoints sent as one batch: the
    checkpoints must not change (T22.2b)."""
    steps: list[dict[str, Any]] = []
    batch: list[Any] = []
    for step in trace["steps"]:
        if step["call"] != "on_message":
            steps.append(step)
            continue
        batch.append(step["params"]["message"])
        if step.get("check"):
            now = step["params"]["now"]
            steps.append(_step("batch_process_messages", True, messages=batch, now=now))
            batch = []
    assert not batch, "a trace to batch ends at a checkpoint"
    return {"replica": trace["replica"], "steps": steps}


def _quorum_by_stake(case: str) -> dict[str, Any]:
    """Stakes 10,000, 10,000, 10,000 and 40,000 (q = 46,667): certificates signed by the three
    small validators (3 of 4 by count, 30,000) move nothing; one small plus the big one (2 of 4,
    50,000) commit (R7.2, P27, R2.3)."""
    scene = make_scene((10_000, 10_000, 10_000, 40_000))
    big = "v003"
    leader = scene.leader(1, 0)
    me = next(n for n in scene.ids if n not in (leader, big))
    block = scene.block(1)
    root = scene.post_root(block)
    small = [n for n in scene.ids if n != big]
    two = [me, big]
    steps = [_step("start", now=0), _message(scene.pre_prepare(block), 1 * MS, True)]
    if case == "count":
        steps += [
            _message(scene.prepared(small, block), 2 * MS, True),
            _message(scene.committed(small, block, root), 3 * MS, True),
        ]
    else:
        steps += [
            _message(scene.prepared(two, block), 2 * MS, True),
            _message(scene.committed(two, block, root), 3 * MS, True),
        ]
    return _trace(scene.setup(me), steps)


def _false_claim_proposal() -> dict[str, Any]:
    """The leader proposes a block whose proof claims the wrong outcome: the replica votes for
    nothing and reports false-claim evidence against the leader (R1.1, R1.5, P5)."""
    scene = make_scene(FOUR)
    leader = scene.leader(1, 0)
    me = scene.others(leader)[0]
    transactions, proofs = scene.items(1)
    honest = proofs[0]
    wrong = sign_proof(
        scene.workload.judge.key,
        kind=ProofKind.TRANSFER,
        smt=str(honest["smt"]),
        claimed=Outcome.SAT,
        budget=int(str(honest["budget"])),
        subjects=[bytes.fromhex(str(s)) for s in _list(honest["subjects"])],
    ).to_json()
    block = ProofBlock.create(
        scene.signers[leader], 1, GENESIS_PARENT, transactions[:1], [wrong], [], None
    )
    steps = [_step("start", now=0), _message(scene.pre_prepare(block), 1 * MS, True)]
    return _trace(scene.setup(me, "broadcast"), steps)


def _list(value: object) -> list[object]:
    assert isinstance(value, list)
    return value


def _proposal_steps(scene: Scene) -> list[dict[str, Any]]:
    """Return the steps after which the replica proposes at height 1 in view 0: it is offered
    the scene's items of height 1, started, and its propose timer fires."""
    transactions, proofs = scene.items(1)
    return [
        _step(
            "offer",
            height=1,
            pre_root=scene.pre_root(1).hex(),
            transactions=transactions,
            proofs=proofs,
        ),
        _step("start", now=0),
        _step("on_timer", height=1, view=0, kind="propose", now=0),
    ]


def _leader_commits() -> dict[str, Any]:
    """The view-0 leader proposes what it was offered and assembles both certificates."""
    scene = make_scene(FOUR)
    me = scene.leader(1, 0)
    a, b = scene.others(me)[:2]
    block = scene.block(1)
    root = scene.post_root(block)
    steps = [
        *_proposal_steps(scene),
        _message(scene.pre_prepare(block), 0, True),  # the loopback of its own proposal
        _message(scene.prepare(me, block), 0),  # the loopback of its own PREPARE
        _message(scene.prepare(a, block), 2 * MS),
        _message(scene.prepare(b, block), 2 * MS, True),
        _message(scene.commit(me, block, root), 2 * MS),  # loopback
        _message(scene.commit(a, block, root), 4 * MS),
        _message(scene.commit(b, block, root), 4 * MS, True),
    ]
    return _trace(scene.setup(me), steps)


def _single_validator() -> dict[str, Any]:
    """n = 1: the only validator proposes, votes and commits alone (R5.6)."""
    scene = make_scene((10_000,), distinct_leaders=False)
    me = scene.ids[0]
    block = scene.block(1)
    root = scene.post_root(block)
    steps = [
        *_proposal_steps(scene),
        # The loopbacks of its proposal and votes; a replica that counts its own messages
        # without them commits earlier, so only the end is a checkpoint.
        _message(scene.pre_prepare(block), 0),
        _message(scene.prepare(me, block), 0),
        _message(scene.commit(me, block, root), 0, True),
    ]
    return _trace(scene.setup(me), steps)


def _view_change_reproposal() -> dict[str, Any]:
    """Everyone prepared the view-0 block; the view-0 leader falls silent. The replica, leader
    of view 1, gathers VIEW-CHANGEs from q(W), re-proposes that block in NEW-VIEW and commits
    it in view 1 (R2.6, P10)."""
    scene = make_scene(FOUR)
    old, me = scene.leader(1, 0), scene.leader(1, 1)
    a, b = scene.others(old, me)
    block = scene.block(1)
    root = scene.post_root(block)
    voters = [old, me, a]
    prepared = scene.prepared(voters, block)
    timeout = 4_000 * MS
    mine = ViewChange.create(scene.signers[me], 1, 1, prepared, block)
    steps = [
        _step("start", now=0),
        _message(scene.pre_prepare(block), 1 * MS),
        _message(prepared, 2 * MS, True),
        _step("on_timer", True, height=1, view=0, kind="view", now=timeout),
        _message(mine, timeout),  # the loopback of its own VIEW-CHANGE
        _message(ViewChange.create(scene.signers[a], 1, 1, prepared, block), timeout + MS),
        _message(ViewChange.create(scene.signers[b], 1, 1, None, None), timeout + MS, True),
        _message(scene.prepare(me, block, 1), timeout + MS),  # loopback
        _message(scene.prepare(a, block, 1), timeout + 2 * MS),
        _message(scene.prepare(b, block, 1), timeout + 2 * MS, True),
        _message(scene.commit(me, block, root, 1), timeout + 2 * MS),  # loopback
        _message(scene.commit(a, block, root, 1), timeout + 3 * MS),
        _message(scene.commit(b, block, root, 1), timeout + 3 * MS, True),
    ]
    return _trace(scene.setup(me), steps)


def _view_change_follower() -> dict[str, Any]:
    """A follower times view 0 out (VIEW-CHANGE to the leader of view 1), accepts the NEW-VIEW
    that re-proposes the prepared block, votes for it in view 1 and commits it (R2.6)."""
    scene = make_scene(FOUR)
    old, new = scene.leader(1, 0), scene.leader(1, 1)
    me, other = scene.others(old, new)
    block = scene.block(1)
    root = scene.post_root(block)
    prepared = scene.prepared([old, new, me], block)
    timeout = 4_000 * MS
    changes = [ViewChange.create(scene.signers[n], 1, 1, prepared, block) for n in (new, me, other)]
    pre_prepare = PrePrepare.create(scene.signers[new], 1, block)
    new_view = NewView.create(scene.signers[new], changes, prepared, pre_prepare)
    voters = [new, me, other]
    steps = [
        _step("start", now=0),
        _message(scene.pre_prepare(block), 1 * MS),
        _message(prepared, 2 * MS, True),
        _step("on_timer", True, height=1, view=0, kind="view", now=timeout),
        _message(new_view, timeout + 2 * MS, True),
        _message(scene.prepared(voters, block, 1), timeout + 3 * MS, True),
        _message(scene.committed(voters, block, root, 1), timeout + 4 * MS, True),
    ]
    return _trace(scene.setup(me), steps)


def _forged_certificates() -> dict[str, Any]:
    """A follower holding the proposal is shown forged certificates (below q(W), one vote twice,
    a vote signed with another key, a vote of a non-member, a vote for another root): no COMMIT,
    no commit; the genuine ones then move it (R2.3, R7.5, P7)."""
    scene = make_scene(FOUR)
    leader = scene.leader(1, 0)
    me = scene.others(leader)[0]
    a, b = scene.others(leader, me)
    block = scene.block(1)
    root = scene.post_root(block)
    outsider = KeySigner("v999", make_validator_keys(5, KEY_SEED + 1)[4])

    def forged_prepares() -> list[PrepareCertificate]:
        good = {n: scene.prepare(n, block) for n in (leader, a, b)}
        wrong_key = Prepare.create(KeySigner(b, scene.signers[a].key), 1, 0, block.digest)
        stranger = Prepare.create(outsider, 1, 0, block.digest)
        return [
            PrepareCertificate(1, 0, block.digest, (good[leader], good[a])),
            PrepareCertificate(1, 0, block.digest, (good[leader], good[a], good[a])),
            PrepareCertificate(1, 0, block.digest, (good[leader], good[a], wrong_key)),
            PrepareCertificate(1, 0, block.digest, (good[leader], good[a], stranger)),
        ]

    def forged_commits() -> list[CommitCertificate]:
        good = {n: scene.commit(n, block, root) for n in (leader, a, b)}
        wrong_key = Commit.create(KeySigner(b, scene.signers[a].key), 1, 0, block.digest, root)
        other_root = Commit.create(scene.signers[b], 1, 0, block.digest, bytes(32))
        return [
            CommitCertificate(1, 0, block.digest, root, (good[leader], good[a])),
            CommitCertificate(1, 0, block.digest, root, (good[leader], good[a], good[a])),
            CommitCertificate(1, 0, block.digest, root, (good[leader], good[a], wrong_key)),
            CommitCertificate(1, 0, block.digest, root, (good[leader], good[a], other_root)),
        ]

    steps = [_step("start", now=0), _message(scene.pre_prepare(block), 1 * MS, True)]
    steps += [_message(cert, 2 * MS, True) for cert in forged_prepares()]
    steps += [_message(cert, 3 * MS, True) for cert in forged_commits()]
    steps += [
        _message(scene.prepared([leader, a, b], block), 4 * MS, True),
        _message(scene.committed([leader, a, b], block, root), 5 * MS, True),
    ]
    return _trace(scene.setup(me), steps)


def _equivocation(kind: str) -> dict[str, Any]:
    """Two conflicting signed messages of one validator for one (height, view) reach the replica
    (broadcast mode, so every vote reaches every validator): it reports equivocation evidence,
    naming the offender, and gossips it (R4.2, R8.5); the conflicting vote counts for nothing."""
    scene = make_scene(FOUR)
    leader = scene.leader(1, 0)
    me, offender = scene.others(leader)[:2]
    block = scene.block(1)
    other = scene.block(1, empty=True)
    if kind == "prepare":
        first: Message = scene.prepare(offender, block)
        second: Message = scene.prepare(offender, other)
        steps = [
            _step("start", now=0),
            _message(scene.pre_prepare(block), 1 * MS, True),
            _message(first, 2 * MS, True),
            _message(second, 2 * MS, True),
        ]
    else:  # the leader proposes two blocks in view 0
        steps = [
            _step("start", now=0),
            _message(scene.pre_prepare(block), 1 * MS, True),
            _message(scene.pre_prepare(other), 2 * MS, True),
        ]
    return _trace(scene.setup(me, "broadcast"), steps)


def _synced_state() -> dict[str, Any]:
    """A replica at height 1 is handed the certified state of height 1: a state whose root is
    not the certificate's is refused (or ignored), the right one adopted (R3.1, R3.2)."""
    scene = make_scene(FOUR)
    leader = scene.leader(1, 0)
    me = scene.others(leader)[0]
    block = scene.block(1)
    root = scene.post_root(block)
    cert = scene.committed([leader, *scene.others(leader, me)], block, root)
    state = dict(scene.repository.get(root).leaves())
    forged = dict(state)
    key = next(k for k in sorted(forged) if k.startswith("balance:"))
    forged[key] = forged[key] + 1
    wire, block_wire = cert.to_wire(), block.to_wire()
    steps = [
        _step("start", now=0),
        _step(
            "on_sync_completed",
            True,
            True,
            certificate=wire,
            block=block_wire,
            state=forged,
            now=MS,
        ),
        _step(
            "on_sync_completed", True, certificate=wire, block=block_wire, state=state, now=2 * MS
        ),
    ]
    return _trace(scene.setup(me), steps)


def _catch_up(case: str) -> dict[str, Any]:
    """A fresh replica (height 1) is handed height 3's state with the certified chain of heights
    1 and 2 (block 2 slashes v000): adopt it only by the validator set the chain derives."""
    from conformance.suite.chains import invented_chain, slashed_chain

    chain = slashed_chain(DROPPED if case == "dropped-member" else FIVE)
    cluster = chain.cluster
    name = "v003" if case == "dropped-member" else "v004"
    genesis = make_genesis(cluster.workload.genesis_balances, cluster.validators)
    setup = {
        "validator_set": cluster.validators.to_wire(),
        "validator_id": name,
        "seed": chain.signers[name].key.seed.hex(),
        "mode": "collector",
        "genesis": genesis_to_json(genesis),
    }
    target = chain.commits[2]
    links = [chain.link(1), chain.link(2)]
    if case == "follows-slashing":
        cert = chain.certificate(3, ["v001", "v002", "v003", "v004"])
    elif case == "dropped-member":
        cert = chain.certificate(3, ["v000", "v001", "v002"])
    elif case == "gap":
        cert, links = target.certificate, [chain.link(1)]
    elif case == "third-of-stake":
        invented = invented_chain(chain.signers, "v000", ["v000", "v001"], 3)
        links = [{"block": b.to_wire(), "certificate": c.to_wire()} for b, c in invented[:2]]
        block, cert = invented[2]
        return _trace(
            setup,
            [
                _step("start", now=0),
                _step(
                    "on_sync_completed_with_chain",
                    True,
                    True,
                    links=links,
                    certificate=cert.to_wire(),
                    block=block.to_wire(),
                    state=chain.state(3),
                    now=MS,
                ),
            ],
        )
    else:  # malformed links: an error, nothing adopted
        bad: list[Any] = [{"block": {}, "certificate": {}, "x": 1}]
        return _trace(
            setup,
            [
                _step("start", now=0),
                _step(
                    "on_sync_completed_with_chain",
                    True,
                    links=bad,
                    certificate=target.certificate.to_wire(),
                    block=target.block.to_wire(),
                    state=chain.state(3),
                    now=MS,
                ),
            ],
        )
    refusal = case != "follows-slashing"
    step = _step(
        "on_sync_completed_with_chain",
        True,
        refusal,
        links=links,
        certificate=cert.to_wire(),
        block=target.block.to_wire(),
        state=chain.state(3),
        now=MS,
    )
    return _trace(setup, [_step("start", now=0), step])


def iter_trace_cases() -> Iterator[TraceCase]:
    """Yield every replica trace (name, rules, input), in a stable order."""
    follower = _follower_two_heights("collector")
    rules = ("R2.3", "R1.1", "R3.2", "R4.1", "P15")
    yield "normal-follower-two-heights", rules, follower
    yield "normal-follower-batched", ("T22.2b", "R2.3"), _batched(follower)
    yield (
        "normal-follower-broadcast-mode",
        ("R2.3", "R1.1", "R3.2"),
        _follower_two_heights("broadcast"),
    )
    yield "normal-leader-assembles-certificates", ("R2.3", "R6.3", "R3.2"), _leader_commits()
    yield "single-validator-commits-alone", ("R5.6", "R3.2"), _single_validator()
    yield "view-change-new-leader-reproposes", ("R2.6", "P10"), _view_change_reproposal()
    yield "view-change-follower-accepts-new-view", ("R2.6", "P10"), _view_change_follower()
    yield "certificates-forged-move-nothing", ("R2.3", "R7.5", "P7"), _forged_certificates()
    yield (
        "quorum-by-stake-three-small-validators",
        ("R7.2", "P27", "R2.3"),
        _quorum_by_stake("count"),
    )
    yield "quorum-by-stake-small-and-big", ("R7.2", "P27", "R2.3"), _quorum_by_stake("two")
    yield "false-claim-proposal", ("R1.1", "R1.5", "P5"), _false_claim_proposal()
    yield "evidence-equivocating-prepares", ("R4.2", "R8.5"), _equivocation("prepare")
    yield "evidence-equivocating-proposals", ("R4.2", "R8.5"), _equivocation("pre-prepare")
    yield "sync-certified-state-only", ("R3.1", "R3.2"), _synced_state()
    yield "catch-up-follows-slashing", ("R3.1", "R2.3", "R4.2"), _catch_up("follows-slashing")
    yield (
        "catch-up-dropped-member-does-not-count",
        ("R3.1", "R2.3", "R4.3"),
        _catch_up("dropped-member"),
    )
    yield "catch-up-third-of-stake-refused", ("R3.1", "R2.3"), _catch_up("third-of-stake")
    yield "catch-up-gap-refused", ("R3.1",), _catch_up("gap")
    yield "catch-up-malformed-links-rejected", ("R3.1",), _catch_up("malformed")
