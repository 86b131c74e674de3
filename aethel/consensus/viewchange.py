"""View-change rules: what a VIEW-CHANGE claims and what a NEW-VIEW must re-propose (R2.6).

Safety argument (PBFT): if a block committed at (height, view v), its commit certificate holds
> W/3 honest stake, each of which was prepared at v with a valid prepare certificate. Any q(W)
set of VIEW-CHANGEs for a later view intersects them in an honest validator, whose claim is at
view >= v; by induction every prepare certificate at views >= v is for the same digest. So the
new leader, re-proposing the digest of the highest claim (backed by its certificate), can only
re-propose the committed block. Validators check a NEW-VIEW completely before following it.
"""

from __future__ import annotations

from aethel.consensus.events import (
    Broadcast,
    SetTimer,
    Timer,
)
from aethel.consensus.messages import (
    NO_VIEW,
    NewView,
    PrepareCertificate,
    PrePrepare,
    ViewChange,
)
from aethel.consensus.replica_base import ReplicaBase
from aethel.consensus.signing import SignatureChecker, SignatureItem
from aethel.consensus.timeouts import compute_timeout
from aethel.consensus.validators import ValidatorSet
from aethel.consensus.votes import VoteCollector, check_certificate
from aethel.encoding import sha256


def check_view_change_claim(
    vc: ViewChange, validators: ValidatorSet, checker: SignatureChecker
) -> str:
    """Return "" if the certificate and block of ``vc`` back its prepared claim, else why."""
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
    return check_certificate(cert, validators, checker)


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


def check_new_view(nv: NewView, validators: ValidatorSet, checker: SignatureChecker) -> str:
    """Return "" if ``nv`` is a valid NEW-VIEW for its (height, view), else the reason (R2.6).

    Checks: the leader of (height, view) signed it; its VIEW-CHANGEs are for this (height, view),
    from distinct members holding >= q(W) stake, all signed; the proposal is the block of the
    highest claim, backed by a valid prepare certificate, or any block if nobody prepared.
    """
    leader = validators.get_leader(nv.height, nv.view)
    if nv.leader != leader.id:
        return f"R2.6: {nv.leader} is not the leader of view {nv.view}"
    if not checker.verify(leader.public_key, nv.payload, nv.signature):
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
        items.append((member.public_key, vc.payload, vc.signature))
        if vc.prepared_view > top_view:
            top_view, top_digest = vc.prepared_view, vc.prepared_digest
    if stake < validators.quorum:
        return f"R2.6: view changes hold {stake} < quorum {validators.quorum}"
    batch_id = sha256(b"".join(payload + signature for _, payload, signature in items))
    if not all(checker.verify_batch(items, batch_id)):
        return "R7.5: a view change has a bad signature"
    if top_view == NO_VIEW:
        return "" if nv.prepared is None else "R2.6: a certificate nobody claimed"
    cert: PrepareCertificate | None = nv.prepared
    if cert is None or (cert.height, cert.view, cert.digest) != (nv.height, top_view, top_digest):
        return "R2.6: the highest prepared claim is not backed by its certificate"
    if pp.digest != top_digest:
        return "R2.6: the new leader did not re-propose the highest prepared block"
    return check_certificate(cert, validators, checker)


class ViewChangeRules(ReplicaBase):
    """VIEW-CHANGE and NEW-VIEW handling of a replica (R2.6, P10)."""

    def _start_view_change(self, view: int) -> None:
        self.stats.view_changes += 1
        self._log("info", "view-change", f"height {self.height} to view {view}")
        self._enter_view_change(view)

    def _enter_view_change(self, view: int) -> None:
        previous = self.view
        self.view = view
        prepared = self.prepared
        if self._may_vote(view, "view-change", b"%d" % (prepared.view if prepared else -1)):
            vc = ViewChange.create(
                self.signer,
                self.height,
                view,
                prepared,
                self._prepared_block if prepared else None,
            )
            self._send_vote(vc, self._leader_id(view))
        if self.view == view:  # sending may have completed a NEW-VIEW that moved us on
            deadline = self._now + compute_timeout(self.observed_latency(), view)
            self._out.append(SetTimer(Timer(self.height, view), deadline))
            for v in range(previous + 1, view + 1):
                for message in self._future_views.pop(v, []):
                    self._buffered -= 1
                    self._dispatch(message)

    def _on_view_change(self, vc: ViewChange, trusted: bool = False) -> None:
        if vc.height > self.height:
            self._route(vc, vc.height, None)
            return
        if vc.height < self.height or vc.view < 1:
            self.stats.stale += 1
            if vc.height < self.height:
                self._help_lagging(vc.validator, vc.height)
            return
        if vc.view > self.view + self.config.max_views_ahead:
            self.stats.dropped += 1
            return
        is_leader = self.validators.get_leader(self.height, vc.view).id == self.id
        if self.config.mode == "collector" and not is_leader:
            return
        if vc.view in self._new_view_sent or vc.view < self.view:
            return
        if not trusted:
            reason = check_view_change_claim(vc, self.validators, self.services.checker)
            if reason:
                self._reject(reason[:4], reason)
                return
        if not self._add_vote(self._view_changes, vc, trusted).counted:
            return
        collector = self._view_changes[vc.view]
        if is_leader and collector.stake() >= self.validators.quorum:
            self._send_new_view(vc.view, collector)
        elif self.config.mode == "broadcast" and not is_leader:
            self._join_rule()

    def _join_rule(self) -> None:
        """Follow > W/3 stake of VIEW-CHANGEs for higher views (PBFT's join rule)."""
        higher = {v: c for v, c in self._view_changes.items() if v > self.view}
        voters: dict[str, int] = {}
        for view, collector in sorted(higher.items()):
            for validator in collector.first:
                voters.setdefault(validator, view)
        stake = sum(self.validators.stake_of(v) for v in voters)
        if 3 * stake > self.validators.total_stake:
            self.stats.view_changes += 1
            self._enter_view_change(min(voters.values()))

    def _send_new_view(self, view: int, collector: VoteCollector[ViewChange]) -> None:
        self._new_view_sent.add(view)
        changes, top = select_view_changes(list(collector.first.values()), self.validators)
        if top is not None and top.block is not None:
            block = top.block  # R2.6: re-propose the highest prepared block
            prepared = top.prepared
        else:
            saved, self.view = self.view, view
            block = self._build_block()
            self.view = saved
            prepared = None
        pre_prepare = PrePrepare.create(self.signer, view, block)
        if not self._may_vote(view, "pre-prepare", pre_prepare.digest):
            return  # never two proposals in one view, even across a restart
        new_view = NewView.create(self.signer, changes, prepared, pre_prepare)
        self.stats.new_views += 1
        self._out.append(Broadcast(new_view))
        self._on_new_view(new_view, trusted=True)

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
            reason = check_new_view(nv, self.validators, self.services.checker)
            if reason:
                self._reject(reason[:4], reason)
                return
        if nv.view > self.view:
            previous = self.view
            self.view = nv.view
            deadline = self._now + compute_timeout(self.observed_latency(), nv.view)
            self._out.append(SetTimer(Timer(self.height, nv.view), deadline))
            for v in range(previous + 1, nv.view):
                self._buffered -= len(self._future_views.pop(v, []))
        self._accept_pre_prepare(nv.pre_prepare, trusted=trusted)
        for message in self._future_views.pop(nv.view, []):
            self._buffered -= 1
            self._dispatch(message)
