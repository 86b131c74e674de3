"""Mutants of the history verifier: each trusts something a presented history claims."""

from __future__ import annotations

import dataclasses

from aethel.consensus.history import HistoryLink, HistoryRejected
from aethel.consensus.history_verifier import HistoryVerifier, Replay
from aethel.consensus.messages import CommitCertificate
from aethel.consensus.validators import ValidatorSet
from aethel.merkle.batch import DELETE
from conformance.adapters.reference import ReferenceImplementation
from conformance.adapters.reference_history import ReferenceHistory
from conformance.mutants import Mutant


class TrustingVerifier(HistoryVerifier):
    """Defect: when a link carries the state it leads to, adopt it if its root is the
    certified one, without re-executing the block or auditing the books (a "fast" verifier that
    trusts the certificate for the state)."""

    def check_transition(
        self,
        replay: Replay,
        link: HistoryLink,
        certificate: CommitCertificate,
        validators: ValidatorSet,
    ) -> bytes:
        if link.changes is None:
            return super().check_transition(replay, link, certificate, validators)
        writes = {k: (DELETE if v is None else v) for k, v in link.changes.items()}
        root = replay.repository.apply(replay.root, writes)
        if root != certificate.post_root:
            raise HistoryRejected("R3.3", certificate.height, "claimed state off the certificate")
        return root


class MajorityVerifier(HistoryVerifier):
    """Defect: a certificate counts with more than half the stake instead of q(W) (the classic
    off-by-a-third quorum); members, distinctness and signatures are still checked."""

    def check_certificate(self, certificate: CommitCertificate, validators: ValidatorSet) -> str:
        lowered = dataclasses.replace(validators, quorum=validators.total_stake // 2 + 1)
        return super().check_certificate(certificate, lowered)


class TrustingHistory(ReferenceHistory):
    verifier_class = TrustingVerifier


class MajorityHistory(ReferenceHistory):
    verifier_class = MajorityVerifier


class TrustingHistoryImplementation(ReferenceImplementation):
    name = "mutant-history-trusts-claimed-state"

    def make_history(self) -> object:
        return TrustingHistory()


class MajorityHistoryImplementation(ReferenceImplementation):
    name = "mutant-history-majority-quorum"

    def make_history(self) -> object:
        return MajorityHistory()


MUTANTS = [
    Mutant(
        name="history-trusts-claimed-state",
        defect="adopts a presented state whose root is certified without re-executing the block "
        "or auditing the supply books",
        breaks=("R7.4", "P29"),
        capabilities=("history",),
        build=TrustingHistoryImplementation,
    ),
    Mutant(
        name="history-majority-quorum",
        defect="accepts commit certificates holding more than half the stake instead of q(W)",
        breaks=("R7.4", "P29"),
        capabilities=("history",),
        build=MajorityHistoryImplementation,
    ),
]
