"""Replicas that refuse certificates another implementation may send (spec/consensus.md,
"Messages and certificates": "A certificate may hold more than q(W) stake"; its votes are listed
in validator-set order by a sender and taken in any order by a receiver).

``certificate-with-surplus-votes-refused``: a certificate is valid only if no vote could be left
out and q(W) still held (the reference's own certificates are built that way, the fewest votes
that reach q(W), and an implementation tested only against them never sees another). A replica
of another implementation that sends every vote it counted is then never followed: mixed
networks stall.

``certificate-votes-in-set-order-only``: a certificate whose votes are not listed in validator-set
order is refused, the sender's order read as a rule for the receiver.

Caught by conformance/suite/test_certificates.py::test_a_certificate_of_every_member_counts and
test_a_certificate_of_votes_in_another_order_counts.
"""

from __future__ import annotations

from aethel.consensus.messages import Certificate
from aethel.consensus.replica import Replica
from aethel.consensus.validators import ValidatorSet
from conformance.mutants import Mutant, replica_implementation


class MinimalCertificatesOnlyReplica(Replica):
    """Defect: a certificate with a vote it does not need is refused."""

    def _check_cert(self, cert: Certificate, validators: ValidatorSet | None = None) -> str:
        members = validators or self.validators
        votes = getattr(cert, "votes", ())  # a version-2 certificate is a bitmap: left alone
        stakes = sorted((members.stake_of(v.validator) for v in votes), reverse=True)
        if stakes and sum(stakes) - stakes[-1] >= members.quorum:
            return "R2.3: the certificate holds more votes than a quorum needs"
        return super()._check_cert(cert, validators)


class SetOrderOnlyReplica(Replica):
    """Defect: a certificate's votes must be listed in validator-set order."""

    def _check_cert(self, cert: Certificate, validators: ValidatorSet | None = None) -> str:
        members = validators or self.validators
        listed = [v.validator for v in getattr(cert, "votes", ())]
        if listed != sorted(listed, key=lambda name: members.index.get(name, -1)):
            return "R2.3: the votes are not in validator-set order"
        return super()._check_cert(cert, validators)


SetOrderOnly = replica_implementation("SetOrderOnly", __name__, replica_class=SetOrderOnlyReplica)
MinimalCertificatesOnly = replica_implementation(
    "MinimalCertificatesOnly", __name__, replica_class=MinimalCertificatesOnlyReplica
)

MUTANTS = [
    Mutant(
        name="certificate-with-surplus-votes-refused",
        defect="a certificate holding more votes than q(W) needs is refused, as if every "
        "certificate were the fewest votes reaching q(W)",
        breaks=("R2.3",),
        capabilities=("replica",),
        build=MinimalCertificatesOnly,
    ),
    Mutant(
        name="certificate-votes-in-set-order-only",
        defect="a certificate whose votes are not listed in validator-set order is refused",
        breaks=("R2.3",),
        capabilities=("replica",),
        build=SetOrderOnly,
    ),
]
