"""Mutants of the consensus replica and of the block checks it runs before voting.

Each subclasses one reference class (the replica, its vote collector, its ledger validator or
executor) and changes one rule; the replica adapter then runs it like the reference.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from aethel.consensus.block import ProofBlock
from aethel.consensus.events import Broadcast
from aethel.consensus.interfaces import BlockVerdict, Execution
from aethel.consensus.ledger import LedgerExecutor, LedgerValidator
from aethel.consensus.messages import (
    CommitCertificate,
    NewView,
    PrepareCertificate,
    PrePrepare,
)
from aethel.consensus.quorum import compute_max_faulty
from aethel.consensus.replica import Replica
from aethel.consensus.validators import ValidatorSet
from aethel.consensus.viewchange import select_view_changes
from aethel.consensus.votes import AddResult, VoteCollector, check_certificate
from aethel.economics import Offence
from aethel.proofs.difficulty import compute_difficulty
from aethel.proofs.verifier import Verdict, VerificationResult, verify_proof
from aethel.state.transitions import Slash, Transition, compute_transition
from conformance.mutants import Mutant, replica_implementation

# --------------------------------------------------------------------------- vote counting


class TwoFQuorumReplica(Replica):
    """Defect: the quorum is the weight of 2f validators (PBFT's 2f+1 off by one), everywhere:
    vote tallies, certificate checks and view changes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        n = len(self.validators)
        quorum = 2 * compute_max_faulty(n) * self.validators.total_stake // n
        self.validators = replace(self.validators, quorum=max(1, quorum))


class UnweightedCollector(VoteCollector[Any]):
    """Defect: a quorum is two thirds of the validators by head count, whatever their stake."""

    def has_quorum(self, key: tuple[bytes, ...]) -> bool:
        tally = self.tallies.get(key)
        return tally is not None and len(tally.votes) >= 2 * len(self.validators) // 3 + 1


class DoubleCountCollector(VoteCollector[Any]):
    """Defect: a repeated copy of a vote counts again (no one-vote-per-key check)."""

    def add(self, vote: Any, verify: Any, trusted: bool = False) -> AddResult:
        prior = self.first.get(vote.validator)
        if prior is not None and prior.key == vote.key:
            member = self.validators.get(vote.validator)
            tally = self.tallies[vote.key]
            tally.stake += member.stake if member else 0
            tally.votes.append(vote)
            if tally.stake >= self.validators.quorum:
                self.quorum_keys.add(vote.key)
            return AddResult(counted=True)
        return super().add(vote, verify, trusted)


def _replica_with(collector: type[VoteCollector[Any]]) -> type[Replica]:
    def _collector(self: Replica, table: dict[int, Any], view: int) -> Any:
        found = table.get(view)
        if found is None:
            found = table[view] = collector(self.validators)
        return found

    return type(f"{collector.__name__}Replica", (Replica,), {"_collector": _collector})


# --------------------------------------------------------------------------- view change


class DropPreparedReplica(Replica):
    """Defect: the new leader proposes a fresh block even when a block was prepared."""

    def _send_new_view(self, view: int, collector: Any) -> None:
        self.current.new_view_sent.add(view)
        changes, _ = select_view_changes(list(collector.first.values()), self.validators)
        pre_prepare = PrePrepare.create(self.signer, view, self._build_block())
        new_view = NewView.create(self.signer, changes, None, pre_prepare)
        self.stats.new_views += 1
        self._out.append(Broadcast(new_view))
        self._on_new_view(new_view, trusted=True)


class NoSignatureCheckReplica(Replica):
    """Defect: votes and messages are taken without checking their Ed25519 signatures."""

    def _verify(self, public_key: bytes, payload: bytes, signature: bytes) -> bool:
        return True


# --------------------------------------------------------------------------- block checks


class ClaimTrustingValidator(LedgerValidator):
    """Defect: a proof's claimed outcome is believed; the solver never runs (effort = budget)."""

    def __init__(self, repository: Any) -> None:
        def believe(proof: Any) -> Any:
            size = len(proof.smt.encode("utf-8"))
            difficulty = compute_difficulty(proof.budget, size)
            return VerificationResult(
                proof.proof_id,
                Verdict.VALID,
                None,
                proof.claimed.value,
                proof.budget,
                size,
                difficulty,
            )

        super().__init__(repository, believe)


class WallClockValidator(LedgerValidator):
    """Defect: difficulty is the verification's wall time in microseconds, not solver effort."""

    def __init__(self, repository: Any) -> None:
        def timed(proof: Any) -> Any:
            start = time.perf_counter_ns()
            result = verify_proof(proof)
            micros = max(1, (time.perf_counter_ns() - start) // 1_000)
            return replace(result, difficulty=micros)

        super().__init__(repository, timed)


class SlashOfflineExecutor(LedgerExecutor):
    """Defect: validators missing from the parent's commit certificate lose 5% as "offline"."""

    def execute(
        self, block: ProofBlock, verdict: BlockVerdict, pre_root: bytes, validators: ValidatorSet
    ) -> Execution:
        execution = super().execute(block, verdict, pre_root, validators)
        cert = block.last_commit
        absent = [m.id for m in validators.validators if cert and m.id not in cert.members]
        if not absent:
            return execution
        state = self.repository.get(execution.post_root)
        punish = Transition(block.height, tuple(Slash(v, Offence.FALSE_CLAIM) for v in absent))
        outcome = compute_transition(state.get, punish)
        post_root = self.repository.apply(execution.post_root, outcome.writes)
        slashed = {**execution.slashed, **outcome.slashed}
        return replace(
            execution,
            post_root=post_root,
            slashed=slashed,
            burned=execution.burned + outcome.burned,
            burned_total=outcome.burned_total,
            total_supply=outcome.total_supply,
        )


class StaleStakesCatchUpReplica(Replica):
    """Defect: catching up, every certificate of the chain is checked by the validator set the
    replica knows, not by the set of its own height (slashing on the way is ignored)."""

    def _check_cert_by(
        self, cert: PrepareCertificate | CommitCertificate, validators: ValidatorSet
    ) -> str:
        return super()._check_cert_by(cert, self.validators)


class _AcceptEverySignature:
    """A signature checker that believes every signature."""

    def verify(self, public_key: bytes, payload: bytes, signature: bytes) -> bool:
        return True

    def verify_batch(self, items: Any, batch_id: bytes | None) -> list[bool]:
        return [True] * len(items)


class EvidenceOnTrustReplica(Replica):
    """Defect: the signatures a proposed block embeds (its evidence records and its parent
    certificate) are believed; only the block's own signature is checked."""

    def _check_block(self, pp: PrePrepare) -> str:
        block = pp.block
        proposer = self.validators.get(block.proposer)
        if proposer is not None and not self.services.checker.verify(
            proposer.public_key, block.payload, block.signature
        ):
            return "R7.5: bad block signature"
        services = self.services
        self.services = replace(services, checker=_AcceptEverySignature())
        try:
            return super()._check_block(pp)
        finally:
            self.services = services


class CertificateOnTrustReplica(Replica):
    """Defect: the signatures of the votes inside a certificate are believed (votes, members
    and stake are still checked)."""

    def _check_cert_by(
        self, cert: PrepareCertificate | CommitCertificate, validators: ValidatorSet
    ) -> str:
        return check_certificate(cert, validators, _AcceptEverySignature())


QuorumTwoF = replica_implementation("QuorumTwoF", __name__, replica_class=TwoFQuorumReplica)
UnweightedVotes = replica_implementation(
    "UnweightedVotes", __name__, replica_class=_replica_with(UnweightedCollector)
)
DoubleCount = replica_implementation(
    "DoubleCount", __name__, replica_class=_replica_with(DoubleCountCollector)
)
DropPrepared = replica_implementation("DropPrepared", __name__, replica_class=DropPreparedReplica)
NoSignatureCheck = replica_implementation(
    "NoSignatureCheck", __name__, replica_class=NoSignatureCheckReplica
)
ClaimTrusting = replica_implementation(
    "ClaimTrusting", __name__, validator_class=ClaimTrustingValidator
)
WallClockDifficulty = replica_implementation(
    "WallClockDifficulty", __name__, validator_class=WallClockValidator
)
SlashOffline = replica_implementation("SlashOffline", __name__, executor_class=SlashOfflineExecutor)
CertificateOnTrust = replica_implementation(
    "CertificateOnTrust", __name__, replica_class=CertificateOnTrustReplica
)
EvidenceOnTrust = replica_implementation(
    "EvidenceOnTrust", __name__, replica_class=EvidenceOnTrustReplica
)
StaleStakesCatchUp = replica_implementation(
    "StaleStakesCatchUp", __name__, replica_class=StaleStakesCatchUpReplica
)

MUTANTS = [
    Mutant(
        "quorum-2f-by-count",
        "a quorum is 2f votes by count instead of q(W) stake",
        ("R2.3", "P7"),
        ("replica",),
        QuorumTwoF,
    ),
    Mutant(
        "unweighted-votes",
        "a quorum is two thirds of the validators by head count",
        ("R7.2", "P27"),
        ("replica",),
        UnweightedVotes,
    ),
    Mutant(
        "vote-counted-twice",
        "a repeated copy of one validator's vote counts again",
        ("R2.3", "P7"),
        ("replica",),
        DoubleCount,
    ),
    Mutant(
        "view-change-drops-prepared",
        "a new leader proposes a fresh block, not the prepared",
        ("R2.6", "P10"),
        ("replica",),
        DropPrepared,
    ),
    Mutant(
        "missing-signature-check",
        "votes are counted without checking their signatures",
        ("R7.5",),
        ("replica",),
        NoSignatureCheck,
    ),
    Mutant(
        "claim-accepted-without-solving",
        "a proof's claimed outcome is believed; Z3 never runs",
        ("R1.1", "P1"),
        ("replica",),
        ClaimTrusting,
    ),
    Mutant(
        "wall-clock-difficulty",
        "difficulty is verification wall time, not solver effort",
        ("R1.4",),
        ("replica",),
        WallClockDifficulty,
    ),
    Mutant(
        "slashing-offline-node",
        "validators absent from a certificate are slashed 5%",
        ("R4.6", "P19"),
        ("replica",),
        SlashOffline,
    ),
    Mutant(
        "certificate-on-trust",
        "votes inside a certificate are counted without checking their signatures",
        ("R7.5",),
        ("replica",),
        CertificateOnTrust,
    ),
    Mutant(
        "evidence-on-trust",
        "a block's evidence and parent certificate signatures are believed",
        ("R4.2", "R7.5"),
        ("replica",),
        EvidenceOnTrust,
    ),
    Mutant(
        "catch-up-by-stale-stakes",
        "a synced chain's certificates are checked by the set the replica knows",
        ("R2.3", "R3.1"),
        ("replica", "catch-up"),
        StaleStakesCatchUp,
    ),
]
