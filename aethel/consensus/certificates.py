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
version-1 form checked by :func:`aethel.consensus.votes.check_certificate`, or
:func:`~aethel.consensus.votes.aggregate_certificates`, protocol version 2's aggregate.

Every check is by the protocol version of the height concerned (V2.2): a certificate of the
other version is refused naming V2.2 before anything is verified, and a message signed in the
other version's domain (which verifies there and not in its height's) is refused naming V2.2
rather than R7.5. A network that names no version-2 height checks exactly as version 1 does.
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
from aethel.consensus.replica_core import ReplicaCore
from aethel.consensus.signing import SignatureItem, Signed
from aethel.consensus.v2.checks import signed_by_registered_key
from aethel.consensus.v2.version import ONE_VERSION_RULE
from aethel.consensus.validators import ValidatorSet
from aethel.consensus.votes import (
    Certificate,
    CertificateCheck,
    aggregate_certificates,
    certificates_by_form,
    signature_certificates,
)


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
        """Return "" if ``public_key`` signed ``signed``'s payload in the version of its height,
        else the refusal: V2.2 if it was signed in the other version's domain, else R7.5."""
        version = self._version_of(signed.height)
        payload = signed.payload if version == 1 else signed.payload_for(version)
        if self._verify(public_key, payload, signed.signature):
            return ""
        if self.activation is not None and self._verify(
            public_key, signed.payload_for(3 - version), signed.signature
        ):
            return (
                f"{ONE_VERSION_RULE}: a version-{3 - version} {what} for height "
                f"{signed.height}, which runs version {version}"
            )
        return f"R7.5: bad {what} signature"

    def _signature_fails(self, public_key: bytes, signed: Signed, what: str) -> bool:
        """Refuse ``signed`` unless ``public_key`` signed it; return True if it was refused."""
        reason = self._signature_reason(public_key, signed, what)
        if reason:
            rule, _, detail = reason.partition(": ")
            self._reject(rule, detail)
        return bool(reason)

    def _wrong_version(self, message: Prepare | Commit | Certificate) -> bool:
        """Refuse a vote or certificate of the other version than its height's (V2.2); return
        True if it was refused."""
        version = self._version_of(message.height)
        if message.version == version:
            return False
        kind = (
            "certificate"
            if isinstance(message, PrepareCertificate | CommitCertificate)
            else message.TYPE
        )
        self._reject(
            ONE_VERSION_RULE,
            f"a version-{message.version} {kind} for height {message.height}, "
            f"which runs version {version}",
        )
        return True

    def _signed_by_member(self, message: SignedMessage) -> bool:
        member = self.validators.get(message.validator)
        if member is None:
            return False
        version = self._version_of(message.height)
        if version == 1:
            return self._verify(member.public_key, message.payload, message.signature)
        if isinstance(message, Prepare | Commit):
            return message.version == 2 and self._bls_vote_valid(message)
        return self._verify(member.public_key, message.payload_for(version), message.signature)

    def _bls_vote_valid(self, vote: Prepare | Commit) -> bool:
        """Return True if ``vote``'s BLS signature verifies for its validator's registered key
        (V2.3, V2.6): one pairing check, made only when a single vote must be judged, and
        counted as one signature check (like an Ed25519 one, malformed bytes included)."""
        self.stats.signatures_checked += 1
        v2 = self.validators.v2
        return signed_by_registered_key(
            None if v2 is None else v2.roster,
            vote.validator,
            vote.payload,
            vote.signature,
            self.aggregates,
        )

    def _signature_items(self, message: Message) -> Iterable[SignatureItem]:
        if isinstance(message, Prepare | Commit | PrePrepare | ViewChange | NewView):
            member = self.validators.get(message.validator)
            if member is not None:
                version = self._version_of(message.height)
                if version == 1:
                    yield (member.public_key, message.payload, message.signature)
                elif not isinstance(message, Prepare | Commit):  # BLS votes: aggregated
                    yield (member.public_key, message.payload_for(version), message.signature)

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
        """Check ``cert`` by ``validators`` with the node's certificate check, after refusing
        a certificate of the other version than its height's (V2.2)."""
        reason = self._version_reason(cert)
        if reason:
            return reason
        self.stats.certificates_checked += 1
        self.stats.signatures_checked += len(cert.votes) if cert.v2 is None else 1
        certificates = self.services.certificates
        if certificates is not None:
            return certificates(cert, validators)
        if cert.v2 is not None:
            return aggregate_certificates(self.aggregates)(cert, validators)
        return signature_certificates(self.services.checker)(cert, validators)

    def _version_reason(self, cert: Certificate) -> str:
        """Return "" if ``cert`` is of its height's version, else the refusal naming V2.2."""
        version = self._version_of(cert.height)
        if cert.version == version:
            return ""
        return (
            f"{ONE_VERSION_RULE}: a version-{cert.version} certificate for height "
            f"{cert.height}, which runs version {version}"
        )

    def _embedded_certificates(self) -> CertificateCheck:
        """Return the check of certificates carried inside VIEW-CHANGE and NEW-VIEW messages
        (not cached): the version-1 form over this replica's signature checker, or where a
        version-2 height is named, the form of each certificate's height (V2.2)."""
        if self.activation is None:
            return signature_certificates(self.services.checker)
        by_form = certificates_by_form(self.services.checker, self.aggregates)

        def check(cert: Certificate, validators: ValidatorSet, /) -> str:
            return self._version_reason(cert) or by_form(cert, validators)

        return check
