"""Safety checks on what a cluster's honest replicas committed, computed independently.

Each check reads the recorded commits (blocks, certificates, executions), the content-addressed
states and the public keys, and recomputes what the spec requires with the spec's own functions
(compute_quorum, compute_reward_split, compute_emission_limit, Ed25519 verification). None of
them asks a replica whether it was right.
"""

from __future__ import annotations

from collections.abc import Mapping

from aethel.consensus.events import Committed
from aethel.consensus.ledger import LedgerExecutor, LedgerValidator, LedgerView
from aethel.consensus.quorum import compute_quorum
from aethel.economics import MIN_STAKE, compute_emission_limit, compute_reward_split
from aethel.encoding import verify_signature_bytes
from aethel.proofs.model import proof_from_json
from aethel.proofs.verifier import Verdict
from conformance.suite.machines.cluster import BYZANTINE, HONEST, Cluster
from conformance.suite.machines.common import ModelMismatch


def executed_state(cluster: Cluster, committed: Committed) -> LedgerView:
    """Return the state a commit claims, after checking it is the spec's transition (R3.2).

    A state the reference's executor has not produced yet (an implementation's replica
    committed it through the adapter) is recomputed from the agreed pre-state: verify the
    block, execute it, and compare roots.
    """
    execution = committed.execution
    if execution.post_root not in cluster.repository:
        pre_root = execution.pre_root
        if pre_root not in cluster.repository:
            raise ModelMismatch("R3.2", f"height {committed.height}: unknown pre-state root")
        stakes = cluster.repository.get(pre_root).stakes
        validators = cluster.validators.with_stakes(dict(stakes))
        verdict = LedgerValidator(cluster.repository, verify=cluster.verify).validate_block(
            committed.block, pre_root
        )
        if not verdict.valid:
            raise ModelMismatch("R1.1 R7.3", f"height {committed.height}: {verdict.reason}")
        redone = LedgerExecutor(cluster.repository, cluster.genesis).execute(
            committed.block, verdict, pre_root, validators
        )
        if redone.post_root != execution.post_root:
            where = f"height {committed.height}"
            if dict(execution.slashed) != dict(redone.slashed):
                raise ModelMismatch(
                    "R3.2 R4.6 P19",
                    f"{where}: slashed {dict(execution.slashed)}, the spec slashes "
                    f"{dict(redone.slashed)}",
                )
            if dict(execution.rewards) != dict(redone.rewards):
                raise ModelMismatch(
                    "R3.2 R4.1 P15",
                    f"{where}: paid {dict(execution.rewards)}, "
                    f"the spec pays {dict(redone.rewards)}",
                )
            raise ModelMismatch("R3.2", f"{where}: post-state root is not the transition's")
    return cluster.repository.get(execution.post_root)


def _voting_stakes(cluster: Cluster, pre_root: bytes) -> Mapping[str, int]:
    stakes = cluster.repository.get(pre_root).stakes
    return {v: s for v, s in stakes.items() if s >= MIN_STAKE}


def check_agreement(cluster: Cluster) -> None:
    """No two honest validators commit different blocks or roots at one height (R2.4, P8)."""
    decided: dict[int, tuple[bytes, bytes, str]] = {}
    for node, height, digest, root in cluster.history:
        if node == BYZANTINE:
            continue
        first = decided.setdefault(height, (digest, root, node))
        if first[:2] != (digest, root):
            raise ModelMismatch(
                "R2.4 P8 R3.2",
                f"height {height}: {first[2]} committed {first[0].hex()[:12]}/{first[1].hex()[:12]}"
                f", {node} committed {digest.hex()[:12]}/{root.hex()[:12]}",
            )


def check_integrity(cluster: Cluster) -> None:
    """An honest validator commits each height at most once, in increasing order (R5.4)."""
    last: dict[str, int] = {}
    for node, height, _, _ in cluster.history:
        if node != BYZANTINE and height <= last.get(node, 0):
            raise ModelMismatch(
                "R2.4 R5.4", f"{node} committed height {height} after height {last[node]}"
            )
        last[node] = height


def check_certificate(cluster: Cluster, committed: Committed) -> None:
    """The commit certificate matches the block and holds >= q(W) valid signed stake (R2.3)."""
    cert, block, execution = committed.certificate, committed.block, committed.execution
    where = f"height {committed.height}"
    if (cert.height, cert.digest, cert.post_root) != (
        committed.height,
        block.digest,
        execution.post_root,
    ):
        raise ModelMismatch("R2.3 R3.2", f"{where}: certificate does not match block and root")
    stakes = _voting_stakes(cluster, execution.pre_root)
    quorum = compute_quorum(sum(stakes.values()))
    members: set[str] = set()
    for vote in cert.votes:
        key = cluster.validators.get(vote.validator)
        if key is None or vote.validator in members:
            raise ModelMismatch("R2.3 R4.3", f"{where}: vote of {vote.validator} counted wrongly")
        if (vote.height, vote.view, vote.digest, vote.post_root) != (
            cert.height,
            cert.view,
            cert.digest,
            cert.post_root,
        ):
            raise ModelMismatch("R2.3", f"{where}: a vote is for other content")
        if not verify_signature_bytes(key.public_key, vote.payload, vote.signature):
            raise ModelMismatch("R7.5 P30", f"{where}: a vote's signature does not verify")
        members.add(vote.validator)
    stake = sum(stakes.get(m, 0) for m in members)
    if stake < quorum:
        raise ModelMismatch(
            "R2.3 P7 P31 I2", f"{where}: committed with {stake} stake < q(W) = {quorum}"
        )


def check_validity(cluster: Cluster, committed: Committed, parent: bytes | None) -> None:
    """A committed block extends the agreed chain and holds only valid proofs (R1.1, R7.3)."""
    block = committed.block
    where = f"height {committed.height}"
    if block.height != committed.height:
        raise ModelMismatch("R2.3", f"{where}: block of height {block.height}")
    if parent is not None and block.parent != parent:
        raise ModelMismatch("R3.3", f"{where}: block does not extend the committed parent")
    for index, item in enumerate(block.proofs):
        result = cluster.verify(proof_from_json(item))
        if result.verdict is not Verdict.VALID:
            raise ModelMismatch(
                "R1.1 R7.3 P28 P1", f"{where}: proof {index} is {result.verdict.value}"
            )


def check_books(cluster: Cluster, committed: Committed) -> None:
    """Conservation and the supply books hold in the committed state (R3.6, R4.7, I5, I7)."""
    state = executed_state(cluster, committed)
    where = f"height {committed.height}"
    held = sum(state.balances.values()) + sum(state.stakes.values())
    if held != state.genesis_supply + state.minted - state.burned:
        raise ModelMismatch(
            "R3.6 P14 I5",
            f"{where}: balances + stakes {held} != genesis {state.genesis_supply} + minted "
            f"{state.minted} - burned {state.burned}",
        )
    if state.minted > compute_emission_limit(committed.height):
        raise ModelMismatch("R4.7 P20 I7", f"{where}: minted {state.minted} > E(h)")
    if any(v < 0 for v in state.balances.values()) or any(v < 0 for v in state.stakes.values()):
        raise ModelMismatch("R3.6 I5", f"{where}: a balance or stake is negative")


def check_rewards(cluster: Cluster, committed: Committed) -> None:
    """Members of the parent's certificate get exactly their share of its reward (R4.1, P15)."""
    execution, block = committed.execution, committed.block
    pre_state = cluster.repository.get(execution.pre_root)
    if pre_state.pending is None:
        if execution.rewards:
            raise ModelMismatch("R4.1 P15", f"height {committed.height}: rewards with none due")
        return
    _, proposer, amount = pre_state.pending
    if block.last_commit is None:
        raise ModelMismatch("R4.1", f"height {committed.height}: no certificate to pay")
    stakes = _voting_stakes(cluster, execution.pre_root)
    members = {m: stakes.get(m, 0) for m in block.last_commit.members}
    expected = compute_reward_split(amount, members, proposer) if amount else {}
    if dict(execution.rewards) != expected:
        raise ModelMismatch(
            "R4.1 P15 P3",
            f"height {committed.height}: paid {dict(execution.rewards)}, owed {expected}",
        )


def check_evidence(cluster: Cluster, committed: Committed) -> None:
    """Only the Byzantine validator is ever accused or slashed (R4.6, P19, P36)."""
    for found in cluster.evidence:
        if found.offender != BYZANTINE:
            raise ModelMismatch("R4.6 P19 P36", f"honest {found.offender} accused: {found}")
    for offender in committed.execution.slashed:
        if offender != BYZANTINE:
            raise ModelMismatch("R4.6 P19", f"honest {offender} slashed")


def check_safety(cluster: Cluster) -> None:
    """Run every safety check over everything the honest replicas committed so far."""
    check_agreement(cluster)
    check_integrity(cluster)
    for node in HONEST:
        parent: bytes | None = None
        previous = 0
        for committed in cluster.commits.get(node, []):
            check_certificate(cluster, committed)
            check_validity(cluster, committed, parent if committed.height == previous + 1 else None)
            check_books(cluster, committed)
            check_rewards(cluster, committed)
            check_evidence(cluster, committed)
            parent, previous = committed.block.digest, committed.height
