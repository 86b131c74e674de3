"""Catching up: verified state sync of a lagging replica, and help for lagging validators.

Spec: R3.1, R3.5 (spec/consensus.md, "Catching up").

A replica that sees validators holding > W/3 stake at later heights asks them for the
certificate of its height (:meth:`SyncRules._note_ahead`); one past a height answers a
VIEW-CHANGE at that height with the height's certificate (:meth:`SyncRules._help_lagging`). A
certificate of a later height is only a hint to request a sync
(:meth:`SyncRules._is_catch_up_hint`); the synced state is adopted once the certified chain up
to it verifies by the validator set of each height (:meth:`SyncRules.check_sync`,
:meth:`SyncRules.on_sync_completed`, :func:`aethel.consensus.catchup.verify_certified_chain`).
"""

from __future__ import annotations

from collections.abc import Sequence

from aethel.consensus.block import ProofBlock
from aethel.consensus.catchup import ChainLink, verify_certified_chain
from aethel.consensus.events import Output, Send
from aethel.consensus.messages import CommitCertificate, Message
from aethel.consensus.replica_checks import CertificateChecks
from aethel.consensus.replica_timing import LatencyTracker
from aethel.consensus.signing import SignatureItem
from aethel.consensus.timeouts import compute_timeout
from aethel.errors import ProtocolViolation


class SyncRules(CertificateChecks, LatencyTracker):
    """Catch this replica up, and the validators lagging behind it (Spec: R3.1, R3.5)."""

    def check_sync(
        self,
        certificate: CommitCertificate,
        block: ProofBlock,
        links: Sequence[ChainLink] = (),
    ) -> str:
        """Return "" if the state ``certificate`` vouches for may be adopted, else why (R3.1).

        ``links`` are the certified heights from this replica's height up to the one before
        ``certificate``'s (none when that is this height): each certificate is checked by the
        validator set of its own height, derived along the chain
        (:func:`aethel.consensus.catchup.verify_certified_chain`). A certificate of a later
        height is never trusted by the stakes known here. A shell calls this before it installs
        the snapshot; nothing changes here but the cached verdict.
        """
        if certificate.height < self.height:
            return "R3.1: the certified height is not after this replica's"
        chain = [(b, c) for b, c in links if self.height <= b.height < certificate.height]
        chain.append((block, certificate))
        try:
            verified = verify_certified_chain(
                self.validators, self.height, self.parent, chain, self._check_cert_by
            )
        except ProtocolViolation as exc:
            return f"{exc.rule_id}: {exc.detail}"
        self._verified_sync = verified
        return ""

    def on_sync_completed(
        self,
        certificate: CommitCertificate,
        block: ProofBlock,
        now: int,
        links: Sequence[ChainLink] = (),
    ) -> list[Output]:
        """Adopt the state the shell synced, once the chain to ``certificate`` verifies (R3.1).

        See :meth:`check_sync` for ``links``; without them only a certificate of this very
        height can be verified.
        """
        self._now = now
        if certificate.height < self.height or block.digest != certificate.digest:
            return self._flush()
        verified = self._verified_sync
        if verified is None or verified.certificate is not certificate:
            reason = self.check_sync(certificate, block, links)
            verified = self._verified_sync
            if reason or verified is None:
                self._log("warning", "sync-rejected", reason)
                self._sync_target = 0  # ask again on the next certificate of a later height
                return self._flush()
        self._verified_sync = None
        self.height = certificate.height + 1
        self.parent = certificate.digest
        self.state_root = certificate.post_root
        self.last_certificate = certificate
        self.parent_validators = verified.certifiers
        self._adopt_stakes()
        if self.validators.to_wire() != verified.validators.to_wire():
            self._log(
                "error", "state-divergence", "R4.3: the synced stakes differ from the chain's"
            )
        self._sync_target = 0
        self.stats.syncs += 1
        self._log("info", "synced", f"height {certificate.height}")
        self._reset_height(0)
        self._height_started = now
        self._enter_view(0)
        self._replay_future()
        return self._flush()

    def _is_catch_up_hint(self, cert: CommitCertificate) -> str:
        """Return "" if a later height's certificate is worth a sync request, else why (R3.1).

        A hint, never trust: validators holding more than a third of the stake known here
        signed COMMITs at that height, so one of them is honest and the height before it
        committed. Whether the certificate itself is valid is decided by the set of its own
        height, which only the chain up to it tells (:meth:`check_sync`).
        """
        seen: set[str] = set()
        items: list[SignatureItem] = []
        stake = 0
        for vote in cert.votes:
            member = self.validators.get(vote.validator)
            if (
                member is None
                or vote.validator in seen
                or (vote.height, vote.view, vote.digest, vote.post_root)
                != (cert.height, cert.view, cert.digest, cert.post_root)
            ):
                continue
            seen.add(vote.validator)
            stake += member.stake
            items.append((member.public_key, vote.payload, vote.signature))
        if 3 * stake <= self.validators.total_stake:
            return f"R3.1: signers of height {cert.height} hold {stake}, not over a third"
        self.stats.signatures_checked += len(items)
        if not all(self.services.checker.verify_batch(items, None)):
            return "R7.5: a certificate vote has a bad signature"
        return ""

    def _note_ahead(self, message: Message, height: int) -> None:
        """Ask to be caught up once validators holding > W/3 stake are seen at later heights.

        More than a third of the stake includes an honest validator, so this height committed;
        if this replica missed the certificate (down, cut off), nobody may send it otherwise.
        It sends its VIEW-CHANGE of this height to those validators: a validator past a height
        answers a view change at that height with the height's certificate. It gives up its
        view for one only if it has not asked for a view yet (so this never runs views ahead
        of the others: R2.6's view synchronisation).
        """
        validator = getattr(message, "validator", None)
        if not isinstance(validator, str) or self._asked_sync:
            return
        self._ahead.add(validator)
        stake = sum(self.validators.stake_of(v) for v in self._ahead)
        if 3 * stake <= self.validators.total_stake:
            return
        self._asked_sync = True
        if self._own_view_change is None:
            self._start_view_change(self.view + 1)
        change = self._own_view_change
        if change is not None and change.height == self.height:
            for peer in sorted(self._ahead):
                if peer != self.id:
                    self._out.append(Send(peer, change))

    def _help_lagging(self, validator: str, height: int) -> None:
        """Send a validator still changing views at a committed height that height's commit
        certificate: it commits or syncs from it (R3.5). Without this, nodes that missed a
        commit while down would wait for a height that needs their votes.

        The lagging validator re-sends its VIEW-CHANGE while it waits (R2.6), so a certificate
        lost before GST is sent again; at most once per view-0 timeout per validator, so a
        Byzantine one flooding old VIEW-CHANGEs gets few certificates (N6).
        """
        if validator == self.id or self.validators.get(validator) is None:
            return
        last = self._helped.get(validator)
        if last is not None and self._now - last < compute_timeout(self.observed_latency(), 0):
            return
        certificate = self.services.store.get_certificate(height)
        if certificate is not None:
            self._helped[validator] = self._now
            self._out.append(Send(validator, certificate))
