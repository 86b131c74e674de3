"""Catching up: state sync of a lagging replica, and help for lagging validators.

Owns: R3.5 (a replica that fell behind asks for the certified state and catches up from it;
one past a height hands a validator still at it that height's certificate).

The sync phase is the table :data:`aethel.consensus.phases.SYNC`. A certificate of a later
height, or of this height for a block the replica does not hold, is only a hint to request a
sync (:meth:`SyncRules._request_sync`, :meth:`SyncRules._is_catch_up_hint`); the synced state is
adopted once the certified chain up to it verifies by the validator set of each height
(:meth:`SyncRules.check_sync`, :meth:`SyncRules.on_sync_completed`,
:func:`aethel.consensus.catchup.verify_certified_chain`). A replica that sees
validators holding > W/3 stake at later heights asks them for the certificate of its height
(:meth:`SyncRules._note_ahead`); one past a height answers a VIEW-CHANGE at that height with the
height's certificate, and the latest one when it is further ahead
(:meth:`SyncRules._help_lagging`).
"""

from __future__ import annotations

from collections.abc import Sequence

from aethel.consensus.block import ProofBlock
from aethel.consensus.catchup import (
    ChainLink,
    check_aggregate_hint,
    check_catch_up_hint,
    check_catch_up_target,
    verify_certified_chain,
)
from aethel.consensus.events import Broadcast, Output, RequestSync, Send
from aethel.consensus.messages import Commit, CommitCertificate, Message, Prepare, ViewChange
from aethel.consensus.phases import HeightEvent, SyncEvent, SyncPhase, ViewEvent
from aethel.consensus.replica_core import ReplicaCore
from aethel.consensus.timeouts import compute_timeout
from aethel.errors import ProtocolViolation


class SyncRules(ReplicaCore):
    """Catch this replica up, and the validators lagging behind it (see the module docstring)."""

    def check_sync(
        self,
        certificate: CommitCertificate,
        block: ProofBlock,
        links: Sequence[ChainLink] = (),
    ) -> str:
        """Return "" if the state ``certificate`` vouches for may be adopted, else why.

        ``links`` are the certified heights from this replica's height up to the one before
        ``certificate``'s (none when that is this height): each certificate is checked by the
        validator set of its own height, derived along the chain
        (:func:`aethel.consensus.catchup.verify_certified_chain`). A certificate of a later
        height is never trusted by the stakes known here. A shell calls this before it installs
        the snapshot; nothing changes here but the cached verdict.
        """
        reason = check_catch_up_target(self.height, certificate)
        if reason:
            return reason
        chain = [(b, c) for b, c in links if self.height <= b.height < certificate.height]
        chain.append((block, certificate))
        try:
            verified = verify_certified_chain(
                self.validators, self.height, self.parent, chain, self._check_cert_by
            )
        except ProtocolViolation as exc:
            return f"{exc.rule_id}: {exc.detail}"
        self.sync.verified = verified
        return ""

    def on_sync_completed(
        self,
        certificate: CommitCertificate,
        block: ProofBlock,
        now: int,
        links: Sequence[ChainLink] = (),
    ) -> list[Output]:
        """Adopt the state the shell synced, once the chain to ``certificate`` verifies.

        See :meth:`check_sync` for ``links``; without them only a certificate of this very
        height can be verified.
        """
        self._now = now
        if certificate.height < self.height or block.digest != certificate.digest:
            return self._flush()
        verified = self.sync.verified
        if verified is None or verified.certificate is not certificate:
            reason = self.check_sync(certificate, block, links)
            verified = self.sync.verified
            if reason or verified is None:
                self._log("warning", "sync-rejected", reason)
                # Ask again on the next certificate of a later height.
                self.sync.step(SyncEvent.REFUSED)
                return self._flush()
        self.sync.verified = None
        # A replica without its vote journal that has not learned where the chain is learns it
        # here (aethel.consensus.journal): it votes again two heights past the state it adopted.
        self._set_min_vote_height(certificate.height + 2)
        self.current.close(HeightEvent.SYNC)
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
        self.sync.step(SyncEvent.ADOPTED)
        self.stats.syncs += 1
        self._log("info", "synced", f"height {certificate.height}")
        self._open_height()
        return self._flush()

    def _request_start_sync(self) -> None:
        """Ask the shell for the peers' latest certified state (a start without state, or
        without the vote journal): the target is unknown until it arrives."""
        self.sync.step(SyncEvent.REQUEST, self.sync.target)
        self._out.append(RequestSync(None, self.height))

    def _request_sync(self, cert: CommitCertificate) -> None:
        """Ask for a state sync to ``cert``, a certificate of a height this replica cannot
        commit itself, unless one is requested already or ``cert`` is no hint."""
        if cert.height <= self.sync.target or self._is_catch_up_hint(cert):
            return
        self._set_min_vote_height(cert.height + 2)
        self.sync.step(SyncEvent.REQUEST, cert.height)
        self._out.append(RequestSync(cert, cert.height))

    def _caught_up(self) -> None:
        """A commit took the replica past the height it asked to sync to: it is in step."""
        if self.sync.phase is SyncPhase.SYNCING and self.height > self.sync.target:
            self.sync.step(SyncEvent.CAUGHT_UP)

    def _is_catch_up_hint(self, cert: CommitCertificate) -> str:
        """Return "" if a later height's certificate is worth a sync request, else why
        (:func:`aethel.consensus.catchup.check_catch_up_hint`)."""
        if self.activation is not None:
            reason = self._version_reason(cert)  # a certificate of the other version (V2.2)
            if reason:
                return reason
            if cert.v2 is not None:
                reason, checked = check_aggregate_hint(cert, self.validators, self.aggregates)
                self.stats.signatures_checked += checked
                return reason
        reason, checked = check_catch_up_hint(cert, self.validators, self.services.checker)
        self.stats.signatures_checked += checked
        return reason

    def _note_ahead(self, message: Message, height: int) -> None:
        """Ask to be caught up while validators holding > W/3 stake are seen at later heights.

        More than a third of the stake includes an honest validator, so this height committed;
        if this replica missed the certificate (down, cut off), nobody may send it otherwise.
        It sends its VIEW-CHANGE of this height to those validators: a validator past a height
        answers a view change at that height with the height's certificate. It gives up its
        view for one only if it has not asked for a view yet (so this never runs views ahead
        of the others: view synchronisation). It asks again, at most once per
        ``compute_timeout(latency, 0)`` (the pace of the answers, N6), while later heights'
        messages keep coming: the answers may all be lost before GST, and its own view timer
        may be minutes away (network campaign seed 2010,
        tests/consensus/test_catchup_lost_answer.py).

        A validator counts as ahead only once its message's signature verifies by its key
        (:meth:`_signed_sender`, R7.5): a forged message of a later height must not move an
        honest replica out of its view.
        """
        current = self.current
        validator = self._signed_sender(message, current.ahead)
        if validator is None:
            return
        current.ahead.add(validator)
        asked = current.asked_sync_at
        if asked is not None and self._now - asked < compute_timeout(self.observed_latency(), 0):
            return
        stake = sum(self.validators.stake_of(v) for v in current.ahead)
        if 3 * stake <= self.validators.total_stake:
            return
        current.asked_sync_at = self._now
        if current.own_view_change is None:
            self._start_view_change(self.view + 1, ViewEvent.CATCH_UP)
        change = self.current.own_view_change
        if change is not None and change.height == self.height:
            for peer in sorted(self.current.ahead):
                if peer != self.id:
                    self._out.append(Send(peer, change))

    def _signed_sender(self, message: Message, known: set[str]) -> str | None:
        """Return the member who signed ``message`` (a vote or VIEW-CHANGE of a later height),
        or None if it is no such message or its signature does not verify (R7.5).

        A member already in ``known`` is not checked again: one verification per member and
        height. Keys do not change from height to height; a member slashed out of the set
        since is not one of this height's and does not count.
        """
        if not isinstance(message, Prepare | Commit | ViewChange):
            return None
        if message.validator in known:
            return message.validator
        return message.validator if self._signed_by_member(message) else None

    def _on_stale_view_change(self, vc: ViewChange) -> None:
        """Help the sender of a VIEW-CHANGE of a committed height if it signed it (R7.5): a
        forged one must not start the answer's pacing interval for the validator it names, nor
        send it certificates it did not ask for (found by helper 32 writing the pacing cases)."""
        if self._signed_by_member(vc):
            self._help_lagging(vc.validator, vc.height)

    def _share_latest_commit(self) -> None:
        """Send every validator the certificate of the last committed height (R3.5).

        Called when this height's view times out or its VIEW-CHANGE is re-sent: the height is
        stuck, and a validator that missed the last commit may be why. It asks with a
        VIEW-CHANGE of its height (:meth:`_note_ahead`), except one that may not sign there: a
        validator restarted without its journal votes from its minimum vote height on
        (:mod:`aethel.consensus.journal`), and one height below it learns the commit only from
        a copy sent to it (network campaign seed 1018 at 357bbe6: the wiped v002 stayed at 172
        while the others waited at 174 in views it led).
        """
        latest = self.services.store.get_certificate(self.height - 1) if self.height > 1 else None
        if latest is not None:
            self._out.append(Broadcast(latest))

    def _help_lagging(self, validator: str, height: int) -> None:
        """Send a validator still changing views at a committed height that height's commit
        certificate: it commits or syncs from it. Without this, nodes that missed a commit
        while down would wait for a height that needs their votes.

        A validator more than one height behind is first sent the latest certificate too, a
        hint to sync to (R3.5: it catches up from a recent certified height, not height by
        height); with only its own height's it synced one height per re-send period, 36 s for
        nine heights in network campaign seed 1019 (tests/consensus/test_catchup_lost_answer.py).

        The lagging validator re-sends its VIEW-CHANGE while it waits, so a certificate
        lost before GST is sent again; at most once per view-0 timeout per validator, so a
        Byzantine one flooding old VIEW-CHANGEs gets few certificates (N6).
        """
        if validator == self.id or self.validators.get(validator) is None:
            return
        last = self.current.helped.get(validator)
        if last is not None and self._now - last < compute_timeout(self.observed_latency(), 0):
            return
        store = self.services.store
        certificate = store.get_certificate(height)
        if certificate is not None:
            self.current.helped[validator] = self._now
            latest = store.get_certificate(self.height - 1) if self.height - 1 > height else None
            if latest is not None:
                self._out.append(Send(validator, latest))
            self._out.append(Send(validator, certificate))
