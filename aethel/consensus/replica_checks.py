"""Signature and certificate checks of a replica, with their caches (R2.3, R7.5).

A message signature is checked once, or taken from the batch check of
:meth:`aethel.consensus.replica.Replica.batch_process_messages`; a certificate is checked by
the validator set of its own height (R2.3) and its verdict cached by content.
"""

from __future__ import annotations

from collections.abc import Iterable

from aethel.consensus.messages import (
    Commit,
    CommitCertificate,
    Message,
    NewView,
    Prepare,
    PrepareCertificate,
    PrePrepare,
    SignedMessage,
    ViewChange,
)
from aethel.consensus.replica_state import ReplicaState
from aethel.consensus.signing import SignatureItem
from aethel.consensus.validators import ValidatorSet
from aethel.consensus.votes import check_certificate


class CertificateChecks(ReplicaState):
    """Check signatures and certificates for the rules (Spec: R2.3, R7.5)."""

    def _verify(self, public_key: bytes, payload: bytes, signature: bytes) -> bool:
        item = (public_key, payload, signature)
        cached = self._preverified.get(item)
        if cached is not None:
            return cached
        self.stats.signatures_checked += 1
        return self.services.checker.verify(public_key, payload, signature)

    def _signed_by_member(self, message: SignedMessage) -> bool:
        member = self.validators.get(message.validator)
        return member is not None and self._verify(
            member.public_key, message.payload, message.signature
        )

    def _signature_items(self, message: Message) -> Iterable[SignatureItem]:
        if isinstance(message, Prepare | Commit | PrePrepare | ViewChange | NewView):
            member = self.validators.get(message.validator)
            if member is not None:
                yield (member.public_key, message.payload, message.signature)

    def _check_cert(
        self,
        cert: PrepareCertificate | CommitCertificate,
        validators: ValidatorSet | None = None,
    ) -> str:
        """Return "" if ``cert`` is valid by ``validators`` (default: this height's set), else why.

        Callers pass the set of the certificate's own height (R2.3), so a verdict cached by
        content stays the verdict of that set.
        """
        key = cert.content_hash
        if key in self._verified_certs:
            return ""
        reason = self._check_cert_by(cert, validators or self.validators)
        if not reason:
            self._verified_certs.add(key)
        return reason

    def _check_cert_by(
        self, cert: PrepareCertificate | CommitCertificate, validators: ValidatorSet
    ) -> str:
        self.stats.certificates_checked += 1
        self.stats.signatures_checked += len(cert.votes)
        certificates = self.services.certificates
        if certificates is not None:
            return certificates(cert, validators)
        return check_certificate(cert, validators, self.services.checker)
