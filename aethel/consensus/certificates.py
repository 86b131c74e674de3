"""Signatures and certificates as the replica checks them, with their caches.

Owns: R7.5 (a message, vote or certificate whose signatures do not verify counts for nothing).

A message signature is checked once, or taken from the batch check of
:meth:`aethel.consensus.replica.Replica.batch_process_messages` (:meth:`CertificateChecks._verify`).
A certificate is checked by the validator set of its own height, and a valid one is cached by its
content (:meth:`CertificateChecks._check_cert`).

The certificate check is one small interface,
:class:`~aethel.consensus.votes.CertificateCheck`: a certificate and the
validator set of its height in, "" or the reason (starting with the rule it breaks) out. The
replica asks :attr:`aethel.consensus.replica_config.Services.certificates` when the node gives one
(a simulator memoizes verdicts and charges CPU time), else
:func:`~aethel.consensus.votes.signature_certificates`, the
version-1 form checked by :func:`aethel.consensus.votes.check_certificate`; a second certificate
form (protocol version 2's aggregate) slots in as another :class:`CertificateCheck`
(:mod:`aethel.consensus.votes`).
"""

from __future__ import annotations

from collections.abc import Iterable

from aethel.consensus.messages import (
    Commit,
    Message,
    NewView,
    Prepare,
    PrePrepare,
    SignedMessage,
    ViewChange,
)
from aethel.consensus.replica_core import ReplicaCore
from aethel.consensus.signing import SignatureItem, Signed
from aethel.consensus.validators import ValidatorSet
from aethel.consensus.votes import Certificate, CertificateCheck, signature_certificates


class CertificateChecks(ReplicaCore):
    """Check signatures and certificates for the rules (see the module docstring)."""

    def _verify(self, public_key: bytes, payload: bytes, signature: bytes) -> bool:
        item = (public_key, payload, signature)
        cached = self._preverified.get(item)
        if cached is not None:
            return cached
        self.stats.signatures_checked += 1
        return self.services.checker.verify(public_key, payload, signature)

    def _signature_reason(self, public_key: bytes, signed: Signed, what: str) -> str:
        """Return "" if ``public_key`` signed ``signed``'s payload, else the refusal naming R7.5."""
        if self._verify(public_key, signed.payload, signed.signature):
            return ""
        return f"R7.5: bad {what} signature"

    def _signature_fails(self, public_key: bytes, signed: Signed, what: str) -> bool:
        """Refuse ``signed`` unless ``public_key`` signed it; return True if it was refused."""
        reason = self._signature_reason(public_key, signed, what)
        if reason:
            self._reject("R7.5", reason.removeprefix("R7.5: "))
        return bool(reason)

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

    def _check_cert(self, cert: Certificate, validators: ValidatorSet | None = None) -> str:
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

    def _check_cert_by(self, cert: Certificate, validators: ValidatorSet) -> str:
        """Check ``cert`` by ``validators`` with the node's certificate check."""
        self.stats.certificates_checked += 1
        self.stats.signatures_checked += len(cert.votes)
        certificates = self.services.certificates
        if certificates is not None:
            return certificates(cert, validators)
        return signature_certificates(self.services.checker)(cert, validators)

    def _embedded_certificates(self) -> CertificateCheck:
        """Return the check of certificates carried inside VIEW-CHANGE and NEW-VIEW messages:
        the version-1 form over this replica's signature checker (not cached)."""
        return signature_certificates(self.services.checker)
