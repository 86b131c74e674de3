"""A replica opened again on its store after a slashing counts by the right sets (R4.3, R2.3).

spec/consensus.md: voting weight is stake, and slashing lowers a member's stake in the state of
the height whose block applies it (R4.3); the last commit of a block of height h is valid by the
set of height h - 1, "the set that voted, before block h - 1's slashing changed the stakes"
(R2.3). A replica opened again on its directory (R5.4) must take both sets from its store: the
stakes of its committed state for the votes of its height, the stakes before its latest block
for the certificate that block carries forward.

The chain is real (:func:`conformance.suite.chains.slashed_chain`, four members, ``v000`` holds
3,000 and the others 1,800 each): block 2 burns 20% of ``v000``'s stake (R4.2), so the three
others (5,400) are below q(W) = 5,601 of heights 1 and 2 and above q(W) = 5,201 from height 3 on.
The replica commits heights 1 .. k - 1 from their PRE-PREPAREs and certificates, is closed and
opened again on the same directory, and is judged at height k against a replica that was never
closed (the control: the same messages, the same verdict expected).

Written from the module campaign of aethel/consensus/replica_core.py (survivors ``ReplicaCore.
__init__:RemoveStatement`` of ``self._adopt_stakes()`` and of ``self.parent_validators =
self._get_set_of(latest.height)``, and ``ReplicaCore._get_set_of``'s choice of the pre-state
root): no case reopened a replica whose chain had slashed anyone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

from aethel.consensus.block import ProofBlock
from aethel.consensus.messages import Commit, CommitCertificate, Prepare, PrePrepare
from aethel.consensus.validators import ValidatorSet
from conformance.adapters.api import Implementation
from conformance.suite.chains import SlashedChain, drive_to, genesis_of, new_replica, slashed_chain
from conformance.suite.fixtures import get_api
from conformance.suite.scene import sent

pytestmark = pytest.mark.capability("replica", "vote-journal")

#: v000 is slashed by block 2: 3,000 -> 2,400 (R4.2); the others hold 5,400 between them.
STAKES = (3_000, 1_800, 1_800, 1_800)
#: The three members that hold q(W) only once v000 is slashed.
UNSLASHED = ("v001", "v002", "v003")
NOW = 10**9


def _after_slashing(chain: SlashedChain) -> ValidatorSet:
    """The set of heights 3 and on: v000's stake as block 2 left it."""
    return chain.cluster.validators.with_stakes({"v000": chain.state(2)["stake:v000"]})


def _replicas(
    impl: Implementation, chain: SlashedChain, name: str, height: int, directory: Path
) -> dict[str, Any]:
    """Return two replicas of ``name`` at ``height`` in broadcast mode, each having committed
    the heights below it: ``reopened`` was closed and opened again on its directory (R5.4),
    ``control`` never was."""
    journal_api = cast(Any, get_api(impl, "vote-journal"))

    def open_journal() -> Any:
        return journal_api.open(
            chain.cluster.validators.to_wire(),
            name,
            chain.signers[name].key.seed.hex(),
            "broadcast",
            genesis_of(chain),
            str(directory),
        )

    first = open_journal()
    try:
        first.start(0)
        drive_to(first, chain, height, NOW)
    finally:
        getattr(first, "close", lambda: None)()
    reopened = open_journal()
    reopened.start(NOW)
    reached = reopened.status()["height"]
    if reached != height:
        getattr(reopened, "close", lambda: None)()
        raise AssertionError(
            f"opened again after committing heights 1 .. {height - 1}, {name} is at height "
            f"{reached}, not {height} (R5.4)"
        )
    try:
        control = new_replica(get_api(impl, "replica"), chain, name, "broadcast")
        control.start(0)
        drive_to(control, chain, height, NOW)
    except BaseException:
        getattr(reopened, "close", lambda: None)()
        raise
    return {"control": control, "reopened": reopened}


def _prepares(replica: Any, proposal: PrePrepare) -> bool:
    outputs = replica.on_message(proposal.to_wire(), NOW + 1)
    return bool(sent(outputs, Prepare, lambda m: m.digest == proposal.digest))


def _judge(replicas: dict[str, Any], verdict: Any, expected: bool, what: str) -> None:
    """Ask ``verdict`` of the control, then of the reopened replica; the control answering
    otherwise than ``expected`` is a failure of the set rule itself, said so."""
    try:
        for role in ("control", "reopened"):
            answer = verdict(replicas[role])
            if answer != expected:
                when = (
                    "never closed (the control)"
                    if role == "control"
                    else "closed and opened again on its directory"
                )
                raise AssertionError(f"a replica {when} {what}: it did {'' if answer else 'not '}")
    finally:
        for replica in replicas.values():
            getattr(replica, "close", lambda: None)()


@pytest.mark.req("R4.3", "R5.4", "R2.3")
def test_a_replica_reopened_after_a_slashing_counts_votes_by_the_slashed_stakes(
    impl: Implementation, tmp_path: Path
) -> None:
    """Opened again at height 4 (block 2 slashed v000), the replica is shown a block of height 4
    from its leader by the set after the slashing, whose last commit only v001, v002 and v003
    signed (q(W) of height 3's set, not of the epoch's): it must PREPARE it; given the two
    other members' PREPAREs (with its own, 5,400 of 7,800), it must send its COMMIT. A replica
    that reopens with the epoch's stakes (or the set of an earlier height) refuses the
    certificate, or waits for v000's vote."""
    chain = slashed_chain(STAKES)
    leader = _after_slashing(chain).get_leader(4, 0).id
    name = next(m for m in UNSLASHED if m != leader)
    height_3 = chain.commits[2].certificate
    block = ProofBlock.create(
        chain.signers[leader], 4, height_3.digest, [], [], [], chain.certificate(3, list(UNSLASHED))
    )
    proposal = PrePrepare.create(chain.signers[leader], 0, block)
    voters = [m for m in UNSLASHED if m != name]

    def prepares_and_commits(replica: Any) -> bool:
        if not _prepares(replica, proposal):
            return False
        commits = []
        for voter in voters:
            vote = Prepare.create(chain.signers[voter], 4, 0, block.digest)
            commits += sent(replica.on_message(vote.to_wire(), NOW + 2), Commit)
        return bool(commits)

    _judge(
        _replicas(impl, chain, name, 4, tmp_path / "journal"),
        prepares_and_commits,
        True,
        f"at height 4 must PREPARE {leader}'s block, whose last commit v001, v002 and v003 "
        "signed (5,400 of 7,800 once block 2 slashed v000), and send its COMMIT on their "
        "PREPAREs (R2.3, R4.3)",
    )


def _last_commit_of_2(chain: SlashedChain, members: tuple[str, ...]) -> PrePrepare:
    """Block 3 as committed, its last commit signed by ``members``, signed again by its
    proposer."""
    committed = chain.commits[2]
    block = committed.block
    signer = chain.signers[block.proposer]
    certificate: CommitCertificate = chain.certificate(2, list(members))
    changed = ProofBlock.create(
        signer, 3, block.parent, block.transactions, block.proofs, block.evidence, certificate
    )
    return PrePrepare.create(signer, committed.view, changed)


@pytest.mark.req("R2.3", "R4.3", "R5.4")
@pytest.mark.parametrize(
    ("signers", "expected"),
    [
        pytest.param(("v000", "v001", "v002"), True, id="signed-by-a-quorum-of-height-2"),
        pytest.param(
            UNSLASHED,
            False,
            id="signed-by-a-quorum-only-after-block-2",
            marks=pytest.mark.rejects("R2.3"),
        ),
    ],
)
def test_a_replica_reopened_on_the_slashing_block_checks_it_by_the_set_that_signed_it(
    impl: Implementation, tmp_path: Path, signers: tuple[str, ...], expected: bool
) -> None:
    """Opened again at height 3, its latest block the one that slashed v000, the replica is
    shown block 3 from its leader with the last commit of height 2 signed by ``signers``.
    Height 2 was signed by the set before block 2's slashing (q(W) 5,601): v001, v002 and v003
    hold 5,400 of it, so that certificate is not a quorum and the block gets no PREPARE, while
    one with v000 (6,600) gets it. A replica that reopens with the set after its latest block
    (the stakes of its state) takes the certificate of the three as valid."""
    chain = slashed_chain(STAKES)
    proposal = _last_commit_of_2(chain, signers)
    name = next(m for m in UNSLASHED if m != proposal.leader)
    _judge(
        _replicas(impl, chain, name, 3, tmp_path / "journal"),
        lambda replica: _prepares(replica, proposal),
        expected,
        f"at height 3 must {'' if expected else 'not '}PREPARE block 3 whose last commit "
        f"{', '.join(signers)} signed (height 2 is checked by the set before block 2 slashed "
        "v000: q(W) 5,601 of 8,400; R2.3)",
    )
