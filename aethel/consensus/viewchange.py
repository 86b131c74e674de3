"""View-change rules: what a VIEW-CHANGE claims and what a NEW-VIEW must re-propose (R2.6).

Safety argument (PBFT): if a block committed at (height, view v), its commit certificate holds
> W/3 honest stake, each of which was prepared at v with a valid prepare certificate. Any q(W)
set of VIEW-CHANGEs for a later view intersects them in an honest validator, whose claim is at
view >= v; by induction every prepare certificate at views >= v is for the same digest. So the
new leader, re-proposing the digest of the highest claim (backed by its certificate), can only
re-propose the committed block. Validators check a NEW-VIEW completely before following it.
"""

from __future__ import annotations

from aethel.consensus.messages import NO_VIEW, NewView, PrepareCertificate, ViewChange
from aethel.consensus.signing import SignatureChecker, SignatureItem
from aethel.consensus.validators import ValidatorSet
from aethel.consensus.votes import check_certificate
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
