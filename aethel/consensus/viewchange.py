"""View change: when a view is left, what a VIEW-CHANGE claims, what a NEW-VIEW re-proposes.

Owns: R2.6 (a view that times out is left for the next one, with VIEW-CHANGE carrying the
highest prepared certificate; the new leader's NEW-VIEW re-proposes the block of the highest
claim; the timeout doubles per view) and P10.

Safety argument (PBFT): if a block committed at (height, view v), its commit certificate holds
> W/3 honest stake, each of which was prepared at v with a valid prepare certificate. Any q(W)
set of VIEW-CHANGEs for a later view intersects them in an honest validator, whose claim is at
view >= v; by induction every prepare certificate at views >= v is for the same digest. So the
new leader, re-proposing the digest of the highest claim (backed by its certificate), can only
re-propose the committed block. Validators check a NEW-VIEW completely before following it.

Liveness: when views time out and how validators stay in step is view synchronisation,
described on :class:`ViewChangeRules` (spec/consensus.md, "View change") and counted by
:class:`aethel.consensus.viewsync.ViewTally`. The phases of the current view (*active*,
*changing*, *awaiting new-view*) are the table :data:`aethel.consensus.phases.VIEW`.
"""

from __future__ import annotations

from aethel.consensus.events import Broadcast, Send
from aethel.consensus.messages import (
    NO_VIEW,
    NewView,
    PrepareCertificate,
    PrePrepare,
    ViewChange,
)
from aethel.consensus.phases import ViewEvent
from aethel.consensus.replica_core import ReplicaCore
from aethel.consensus.signing import SignatureChecker, SignatureItem
from aethel.consensus.timeouts import compute_timeout
from aethel.consensus.validators import ValidatorSet
from aethel.consensus.votes import CertificateCheck, VoteCollector, signature_certificates
from aethel.encoding import sha256


def check_leader(pp: PrePrepare, leader: str) -> str:
    """Return "" if ``pp`` comes from ``leader``, the leader of its (height, view), else why."""
    if pp.leader != leader:
        return f"R2.6: pre-prepare from {pp.leader}, leader is {leader}"
    return ""


def check_fresh_proposer(pp: PrePrepare) -> str:
    """Return "" unless ``pp`` is a view-0 proposal of a block another validator built.

    A fresh block (view 0) is proposed by the validator that built it; a block re-proposed in a
    later view keeps its first proposer (spec/consensus.md, "Blocks", rule 1).
    """
    if pp.view == 0 and pp.block.proposer != pp.leader:
        return "R2.6: a fresh block is proposed by its own proposer"
    return ""


def outside_new_view(pp: PrePrepare) -> bool:
    """Return True if ``pp`` is a bare proposal of a view after a view change: such a proposal
    is valid only inside its NEW-VIEW."""
    return pp.view > 0


def check_view_change_claim(
    vc: ViewChange,
    validators: ValidatorSet,
    checker: SignatureChecker,
    certificates: CertificateCheck | None = None,
) -> str:
    """Return "" if the certificate and block of ``vc`` back its prepared claim, else why.

    The certificate is checked by ``certificates`` (default: the version-1 form by ``checker``).
    """
    if vc.prepared_view == NO_VIEW:
        return "" if vc.prepared is None else "R2.6: a certificate without a claim"
    if vc.prepared_view >= vc.view:
        return "R2.6: a claim at or above the new view"
    cert = vc.prepared
    if cert is None or vc.block is None:
        return "R2.6: a prepared claim needs its certificate and block"
    if (cert.height, cert.view, cert.digest) != (vc.height, vc.prepared_view, vc.prepared_digest):
        return "R2.6: the certificate does not match the claim"
    if vc.block.digest != cert.digest or vc.block.height != vc.height:
        return "R2.6: the block does not match the claim"
    check = signature_certificates(checker) if certificates is None else certificates
    return check(cert, validators)


def select_view_changes(
    changes: list[ViewChange], validators: ValidatorSet
) -> tuple[list[ViewChange], ViewChange | None]:
    """Pick q(W) stake of VIEW-CHANGEs, highest claims first; return them and the top claim."""
    ordered = sorted(changes, key=lambda vc: (-vc.prepared_view, validators.index[vc.validator]))
    chosen: list[ViewChange] = []
    stake = 0
    for vc in ordered:
        chosen.append(vc)
        stake += validators.stake_of(vc.validator)
        if stake >= validators.quorum:
            break
    top = chosen[0] if chosen and chosen[0].prepared_view != NO_VIEW else None
    return chosen, top


def check_new_view(
    nv: NewView,
    validators: ValidatorSet,
    checker: SignatureChecker,
    certificates: CertificateCheck | None = None,
    version: int = 1,
    both_versions: bool = False,
) -> str:
    """Return "" if ``nv`` is a valid NEW-VIEW for its (height, view), else the reason (R2.6).

    Checks: the leader of (height, view) signed it; its VIEW-CHANGEs are for this (height, view),
    from distinct members holding >= q(W) stake, all signed; the proposal is the block of the
    highest claim, backed by a valid prepare certificate (checked by ``certificates``, default:
    the version-1 form by ``checker``), or any block if nobody prepared; claims at the highest
    prepared view all name one block. Signatures are checked
    in the domains of protocol ``version``, the version of the height (V2.2); on a network that
    runs ``both_versions``, a NEW-VIEW signed in the other version's domain is refused naming
    V2.2.
    """
    leader = validators.get_leader(nv.height, nv.view)
    if nv.leader != leader.id:
        return f"R2.6: {nv.leader} is not the leader of view {nv.view}"
    payload = nv.payload if version == 1 else nv.payload_for(version)
    if not checker.verify(leader.public_key, payload, nv.signature):
        if both_versions and checker.verify(
            leader.public_key, nv.payload_for(3 - version), nv.signature
        ):
            return f"V2.2: a version-{3 - version} new-view for a height of version {version}"
        return "R7.5: bad new-view signature"
    pp = nv.pre_prepare
    if (pp.height, pp.view, pp.leader) != (nv.height, nv.view, nv.leader):
        return "R2.6: the enclosed pre-prepare is for another height, view or leader"
    seen: set[str] = set()
    stake = 0
    items: list[SignatureItem] = []
    top_view, top_digest = NO_VIEW, None
    for vc in nv.view_changes:
        member = validators.get(vc.validator)
        if member is None or vc.validator in seen:
            return "R2.6: view changes from non-members or repeated validators"
        if (vc.height, vc.view) != (nv.height, nv.view):
            return "R2.6: a view change for another height or view"
        seen.add(vc.validator)
        stake += member.stake
        vc_payload = vc.payload if version == 1 else vc.payload_for(version)
        items.append((member.public_key, vc_payload, vc.signature))
        if vc.prepared_view > top_view:
            top_view, top_digest = vc.prepared_view, vc.prepared_digest
    if stake < validators.quorum:
        return f"R2.6: view changes hold {stake} < quorum {validators.quorum}"
    batch_id = sha256(b"".join(payload + signature for _, payload, signature in items))
    if not all(checker.verify_batch(items, batch_id)):
        return "R7.5: a view change has a bad signature"
    if top_view == NO_VIEW:
        return "" if nv.prepared is None else "R2.6: a certificate nobody claimed"
    # Two claims at the highest prepared view for different blocks: one is a lie (an honest
    # leader checked every claim's certificate), so the NEW-VIEW is refused whatever the
    # order of its VIEW-CHANGEs.
    if len({vc.prepared_digest for vc in nv.view_changes if vc.prepared_view == top_view}) > 1:
        return "R2.6: two claims at the highest prepared view name different blocks"
    cert: PrepareCertificate | None = nv.prepared
    if cert is None or (cert.height, cert.view, cert.digest) != (nv.height, top_view, top_digest):
        return "R2.6: the highest prepared claim is not backed by its certificate"
    if pp.digest != top_digest:
        return "R2.6: the new leader did not re-propose the highest prepared block"
    check = signature_certificates(checker) if certificates is None else certificates
    return check(cert, validators)


class ViewChangeRules(ReplicaCore):
    """VIEW-CHANGE and NEW-VIEW handling of a replica, with view synchronisation (R2.6, P10).

    Per height the replica is in one view, in one of the phases of
    :data:`aethel.consensus.phases.VIEW`: *active* or *awaiting new-view* when the view is
    established (its timer runs), *changing* when the replica asked for the view and waits for
    the others. View 0 is active when the height starts. A timeout in an established view v
    starts a view change to v + 1: the replica enters v + 1 changing and sends VIEW-CHANGE for
    it. A view v > 0 becomes established when validators holding q(W) stake asked for v or a
    later view (it then awaits its NEW-VIEW), or when a valid NEW-VIEW for v arrives (active);
    only then does its timer start (:class:`aethel.consensus.viewsync.ViewTally`). While
    changing, the timer only re-sends the replica's VIEW-CHANGE (a retransmission: the view does
    not change), every ``compute_timeout(latency, 0)``. The join rule (> W/3 stake asked for
    later views) pulls a replica forward at once.

    Why: a validator that times out alone can no longer run views ahead of the others (at the
    backoff cap it would advance as fast as they do, and the gap would never close); the most
    it gets ahead is one view, and the others' own timeouts carry them up to it, since the
    lowest honest view is always established (every honest validator asked for it or a later
    one, and honest stake >= q(W)). Once all honest validators wait in one view it is
    established everywhere within a message delay (its NEW-VIEW, or the re-sent requests), their
    timers overlap, and with the backoff and the latency-adaptive timeout a view with an honest
    leader eventually lasts long enough to commit. Retransmission covers VIEW-CHANGEs lost
    before GST. Whether a view is established decides only when timers run, never a vote, so
    safety does not depend on it.

    A NEW-VIEW lost before GST is retransmitted too: a validator that asks again for a view
    whose NEW-VIEW this replica sent has not followed it, so it gets the NEW-VIEW again (at most
    once per ``compute_timeout(latency, 0)``, the period of its re-sends). Without that, when
    the validators that missed it hold less than q(W) without the leader (whose own request, in
    collector mode, went nowhere), they wait un-established until the leader's view timer moves
    it on, and the view of an honest leader is lost after GST (network campaign seed 1028,
    tests/consensus/test_lost_new_view.py).
    """

    def _on_view_timeout(self) -> None:
        """Time the current view out if established; else re-send the VIEW-CHANGE.

        A timer of this view set before a later one (the view got established while a
        re-send timer was pending) is superseded and does nothing.
        """
        if self._timer_superseded():
            return
        self._share_latest_commit()  # the height is stuck: a validator may lack the last one
        if self.current.established:
            self.stats.timeouts += 1
            self._start_view_change(self.view + 1)
        else:
            self._resend_view_change()

    def _resend_view_change(self) -> None:
        """Re-send this replica's VIEW-CHANGE for the view it waits in; set the next re-send.

        A retransmission, not a new view: VIEW-CHANGEs lost before GST would otherwise leave
        the view unestablished for good.
        """
        self.current.step_view(ViewEvent.RESEND, self.view)
        change = self.current.own_view_change
        if change is not None and change.view == self.view:
            self.stats.view_change_resends += 1
            self._send_view_change(change, to_everyone=True)
        self._arm_resend_timer()

    def _start_view_change(self, view: int, event: ViewEvent = ViewEvent.TIMEOUT) -> None:
        self.stats.view_changes += 1
        self._log("info", "view-change", f"height {self.height} to view {view}")
        self._enter_view_change(view, event)

    def _enter_view_change(self, view: int, event: ViewEvent) -> None:
        """Enter ``view`` changing and ask for it with a VIEW-CHANGE."""
        previous, height = self.view, self.height
        current = self.current
        current.step_view(event, view)
        prepared = current.prepared
        if self._may_vote(view, "view-change", b"%d" % (prepared.view if prepared else -1)):
            vc = ViewChange.create(
                self.signer,
                self.height,
                view,
                prepared,
                current.prepared_block if prepared else None,
                self._version_of(self.height),
            )
            current.own_view_change = vc
            current.own_view_change_public = False
            self._send_view_change(vc, to_everyone=False)
            current.vote_sent_at[(view, vc.TYPE)] = self._now
            self.stats.votes_sent += 1
            self._on_view_change(vc, trusted=True)
        if (self.height, self.view) == (height, view) and not self.current.established:
            self._arm_resend_timer()
        if self.height == height:
            for v in range(previous + 1, view + 1):
                for peer, message in self.inbox.take_view(v):
                    self._dispatch_from(peer, message)

    def _send_view_change(self, vc: ViewChange, to_everyone: bool) -> None:
        """Send ``vc`` to the leader of its view, and to everyone when they must count it.

        Broadcast mode sends it to everyone. Collector mode sends it to the leader of the view
        (linear: an honest leader answers with NEW-VIEW, which establishes the view
        everywhere); a re-send (``to_everyone``: the view is still not established, so the
        leader may be silent) also goes to every other validator as a copy without the
        prepared certificate and block, enough to count the stake asking for the view.
        Copies cost n^2 messages, so only views whose leader failed pay them.
        """
        if self.config.mode == "broadcast":
            self._out.append(Broadcast(vc))
            self.current.own_view_change_public = True
            return
        leader = self._leader_id(vc.view)
        if to_everyone:
            self._out.append(Broadcast(vc.stripped()))
            self.current.own_view_change_public = True
            if vc.prepared is not None and leader != self.id:
                self._out.append(Send(leader, vc))
        elif leader != self.id:
            self._out.append(Send(leader, vc))

    def _on_view_change(self, vc: ViewChange, trusted: bool = False) -> None:
        if vc.height > self.height:
            self._route(vc, vc.height, None)
            return
        if vc.height < self.height or vc.view < 1:
            self.stats.stale += 1
            if vc.height < self.height:
                self._on_stale_view_change(vc)
            return
        if vc.view < self.view:
            self.stats.stale += 1
            return
        if vc.view in self.current.new_view_sent and vc.validator != self.id:
            self._send_new_view_again(vc)
        verified = trusted
        leads = self._leader_id(vc.view) == self.id
        # A copy without the certificate backing its claim only counts stake (collector mode).
        copy = vc.prepared_view != NO_VIEW and vc.prepared is None
        if (leads or self.config.mode == "broadcast") and not copy:
            if vc.view in self.current.new_view_sent:
                pass
            elif vc.view > self.view + self.config.max_views_ahead:
                self.stats.dropped += 1  # bounded memory (N6): the tally below keeps one view
            else:
                signed: bool | None = trusted
                if not trusted:
                    signed = self._claim_signed(vc)
                    if signed is False:
                        return  # refused naming R7.5 (V2.2 if signed for the other version)
                    reason = check_view_change_claim(
                        vc, self.validators, self.services.checker, self._embedded_certificates()
                    ) or self._carried_block_reason(vc)
                    if reason:
                        self._reject(reason[:4], reason)
                        return
                result = self._add_vote(self.current.view_changes, vc, bool(signed))
                if result.reason.startswith("R"):
                    return  # a bad signature, a non-member or an equivocation
                verified = verified or result.counted
                collector = self.current.view_changes[vc.view]
                if result.counted and leads and collector.stake() >= self.validators.quorum:
                    self._send_new_view(vc.view, collector)
        self._count_view_change(vc, verified)

    def _count_view_change(self, vc: ViewChange, verified: bool) -> None:
        """Count ``vc`` towards establishing and joining views (see
        :class:`aethel.consensus.viewsync.ViewTally`)."""
        member = self.validators.get(vc.validator)
        if vc.height != self.height or member is None:
            return
        if not self.current.view_tally.is_news(vc.validator, vc.view):
            return
        if not verified and self._signature_fails(member.public_key, vc, "view-change"):
            return
        self.current.view_tally.process_view_change(vc.validator, vc.view, member.stake)
        self._synchronise_view()

    def _synchronise_view(self) -> None:
        """Join a later view (> W/3 stake asked for it) or establish this one (q(W) stake)."""
        current = self.current
        target = current.view_tally.get_join_view(self.view, self.validators.total_stake)
        if target is not None:
            self.stats.view_changes += 1
            self._log("info", "view-join", f"height {self.height} to view {target}")
            self._enter_view_change(target, ViewEvent.JOIN)
            return
        if (
            not current.established
            and current.view_tally.get_stake_from(self.view) >= self.validators.quorum
        ):
            current.step_view(ViewEvent.QUORUM_ASKED, self.view)
            self._arm_view_timer()
            # Counted from others' copies, so the leader failed them: let them count this
            # validator too, or those short of q(W) without it wait for its next timeout.
            own = current.own_view_change
            if own is not None and own.view == self.view and not current.own_view_change_public:
                self._out.append(Broadcast(own.stripped()))
                current.own_view_change_public = True

    def _send_new_view(self, view: int, collector: VoteCollector[ViewChange]) -> None:
        self.current.new_view_sent.add(view)
        changes, top = select_view_changes(list(collector.first.values()), self.validators)
        if top is not None and top.block is not None:
            block = top.block  # re-propose the highest prepared block
            prepared = top.prepared
        else:
            block = self._build_block()
            prepared = None
        version = self._version_of(self.height)
        pre_prepare = PrePrepare.create(self.signer, view, block, version)
        if not self._may_vote(view, "pre-prepare", pre_prepare.digest):
            return  # never two proposals in one view, even across a restart
        new_view = NewView.create(self.signer, changes, prepared, pre_prepare, version)
        self.current.new_views[view] = new_view
        self.stats.new_views += 1
        self._out.append(Broadcast(new_view))
        self._on_new_view(new_view, trusted=True)

    def _claim_signed(self, vc: ViewChange) -> bool | None:
        """Check the signature of a VIEW-CHANGE whose claim carries a certificate before the
        certificate (R7.5): True, or False once refused (naming V2.2 if it was signed for the
        other version), or None when nothing was checked (no certificate; a non-member, refused
        by the vote collector naming R4.3; or this validator's VIEW-CHANGE for the view is
        counted already, which the collector settles without a check unless it conflicts).

        A forged VIEW-CHANGE carrying a real prepared certificate otherwise cost q(W) signature
        checks before its own one failed (forged-message audit of 2026-12-06: 68 instead of 1
        at 100 validators).
        """
        member = self.validators.get(vc.validator)
        if vc.prepared is None or member is None:
            return None
        counted = self.current.view_changes.get(vc.view)
        if counted is not None and vc.validator in counted.first:
            return None
        return not self._signature_fails(member.public_key, vc, "view-change")

    def _carried_block_reason(self, vc: ViewChange) -> str:
        """Return why the block a prepared claim carries is not its proposer's, or "" (R7.5).

        The VIEW-CHANGE's signature covers the claim, not the block, and the digest leaves out
        the block's signature: a copy with that signature changed would be re-proposed by the
        new leader and refused by every validator (audit of 2026-12-06: a height that never
        committed).
        """
        block = vc.block
        if block is None:
            return ""
        proposer = self.validators.get(block.proposer)
        if proposer is None:
            return f"R4.3: the claim's block names {block.proposer}, not a validator"
        return self._signature_reason(proposer.public_key, block, "block")

    def _send_new_view_again(self, vc: ViewChange) -> None:
        """Send the NEW-VIEW of ``vc``'s view again to its validator, if it asks once more.

        A request counted already (not news to the tally) that comes again means its sender has
        not followed the NEW-VIEW: it was lost. The first request of a validator is not
        answered (in broadcast mode a late one is common and the NEW-VIEW is on its way); at
        most one answer per validator per ``compute_timeout(latency, 0)``, the period of a
        waiting validator's re-sends, since a NEW-VIEW carries a block.
        """
        current = self.current
        new_view = current.new_views.get(vc.view)
        if new_view is None or current.view_tally.is_news(vc.validator, vc.view):
            return
        key = (vc.view, vc.validator)
        last = current.new_view_resent_at.get(key)
        if last is not None and self._now - last < compute_timeout(self.observed_latency(), 0):
            return
        if not self._signed_by_member(vc):
            return  # R7.5: a forged request takes no validator's turn
        current.new_view_resent_at[key] = self._now
        self._out.append(Send(vc.validator, new_view))

    def _on_new_view(self, nv: NewView, trusted: bool = False) -> None:
        if nv.height > self.height:
            self._route(nv, nv.height, None)
            if nv.pre_prepare.block.last_commit is not None:
                self._learn_commit(nv.pre_prepare.block.last_commit)
            return
        if nv.height < self.height or nv.view < self.view or nv.view in self.proposals:
            return
        if not trusted:
            self.stats.signatures_checked += 1 + len(nv.view_changes)
            reason = check_new_view(
                nv,
                self.validators,
                self.services.checker,
                self._embedded_certificates(),
                self._version_of(nv.height),
                self.activation is not None,
            )
            if reason:
                self._reject(reason[:4], reason)
                return
        self._enter_new_view(nv.view)
        self._accept_pre_prepare(nv.pre_prepare, trusted=trusted)
        for peer, message in self.inbox.take_view(nv.view):
            self._dispatch_from(peer, message)

    def _enter_new_view(self, view: int) -> None:
        """Follow a valid NEW-VIEW for ``view``: it proves q(W) stake asked for the view, so the
        view is established; its timer starts unless it was running already."""
        current = self.current
        if view > self.view or not current.established:
            current.step_view(ViewEvent.NEW_VIEW, view)
            self._arm_view_timer()
            self.inbox.drop_views(below=view)
        else:
            current.step_view(ViewEvent.NEW_VIEW, view)
