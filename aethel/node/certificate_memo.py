"""One certificate check per node, shared by its replica and its monitor, that remembers what
held.

A node checks each certificate it receives twice over: its replica decides by it (R2.3, V2.8)
and its monitor counts the votes in it (R8.3; in protocol version 2 the members of the bitmap
of a certificate whose aggregate verifies, V2.7). A version-2 certificate costs a pairing check
(about 1.2 ms here), so the two share :class:`CertificateMemo`: a certificate found valid is
remembered by its content hash and the second asker gets the verdict without a second pairing.
The content holds the height, and every caller passes the validator set of the certificate's
height, so a remembered verdict stays that set's verdict (as the replica's own cache,
:meth:`aethel.consensus.certificates.CertificateChecks._check_cert`). A refusal is not
remembered: it is checked again, and says why each time.
"""

from __future__ import annotations

from collections import OrderedDict

from aethel.consensus.messages import CommitCertificate, PrepareCertificate
from aethel.consensus.signing import DirectSignatureChecker
from aethel.consensus.validators import ValidatorSet
from aethel.consensus.votes import aggregate_certificates, signature_certificates

#: Valid certificates remembered (the oldest forgotten first).
MAX_REMEMBERED = 4_096


class CertificateMemo:
    """A :class:`~aethel.consensus.votes.CertificateCheck` by each certificate's form (signed
    votes, R2.3, R7.5; or a bitmap and an aggregate, V2.7, V2.8) that remembers valid ones.

    The replica refuses a certificate of the other version than its height's (V2.2) before it
    asks; the monitor asks only about version-2 certificates at heights of version 2.
    """

    def __init__(self, capacity: int = MAX_REMEMBERED) -> None:
        self._by_signatures = signature_certificates(DirectSignatureChecker())
        self._by_aggregate = aggregate_certificates()
        self._valid: OrderedDict[bytes, None] = OrderedDict()
        self._capacity = capacity
        #: Checks computed, and answers taken from memory.
        self.computed = 0
        self.remembered = 0

    def __call__(
        self, certificate: PrepareCertificate | CommitCertificate, validators: ValidatorSet, /
    ) -> str:
        key = certificate.content_hash
        if key in self._valid:
            self._valid.move_to_end(key)
            self.remembered += 1
            return ""
        self.computed += 1
        check = self._by_signatures if certificate.v2 is None else self._by_aggregate
        reason = check(certificate, validators)
        if not reason:
            self._valid[key] = None
            while len(self._valid) > self._capacity:
                self._valid.popitem(last=False)
        return reason


__all__ = ["MAX_REMEMBERED", "CertificateMemo"]
