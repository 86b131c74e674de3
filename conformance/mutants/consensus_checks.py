"""Mutants of the replica's consensus checks: one check an independent implementer forgets.

spec/consensus.md lists what makes a certificate, a VIEW-CHANGE, a NEW-VIEW and a proposal
valid. :class:`OutsiderReplica` is the reference replica with those checks written the way an
implementer reading the spec would write them: one named step per sentence
(:data:`CERTIFICATE_CHECKS`, :data:`VIEW_CHANGE_CHECKS`, :data:`NEW_VIEW_CHECKS`,
:data:`PROPOSAL_CHECKS`), done before the message is handed to the reference's handlers. With
nothing forgotten it behaves like the reference and passes the suite
(``--impl python:conformance.mutants.consensus_checks:OutsiderImplementation``); each
``forgot-*`` mutant is that implementation with one step forgotten. The other mutants get one
rule wrong instead: the quorum as ceil(2W/3), certificates needing more than q(W), the join rule
at W/3 inclusive, view timers without backoff, PREPAREs tallied across views or across digests,
a certificate's post-state root believed, signature verdicts cached without the message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, ClassVar

from aethel.consensus.events import Broadcast
from aethel.consensus.messages import (
    NO_VIEW,
    CommitCertificate,
    NewView,
    Prepare,
    PrepareCertificate,
    PrePrepare,
    ViewChange,
)
from aethel.consensus.replica import Replica
from aethel.consensus.replica_state import HeightState
from aethel.consensus.signing import SignatureChecker, SignatureItem
from aethel.consensus.timeouts import BASE_TIMEOUT_NS, LATENCY_MULTIPLE
from aethel.consensus.validators import ValidatorSet
from aethel.consensus.viewsync import ViewTally
from aethel.consensus.votes import VoteCollector, minimal_quorum
from aethel.encoding import sha256
from conformance.adapters.reference_replica import ReferenceReplicaObject
from conformance.mutants import Mutant, replica_implementation

Certificate = PrepareCertificate | CommitCertificate

# --------------------------------------------------------------------------- the checks


def certificate_reason(
    cert: Certificate, validators: ValidatorSet, checker: SignatureChecker, skip: str = ""
) -> str:
    """The outsider's certificate check (R2.3, R7.5): "" if valid, else the reason.

    Steps (:data:`CERTIFICATE_CHECKS`): ``members`` (every voter is in the set), ``distinct``
    (no voter twice), ``quorum`` (their stake reaches q(W)), ``signatures`` (every vote verifies
    over the certificate's height, view, digest and root).
    """
    stake = 0
    seen: set[str] = set()
    items: list[SignatureItem] = []
    for vote in cert.votes:
        member = validators.get(vote.validator)
        if member is None:
            if skip != "members":
                return f"R4.3: {vote.validator} is not a member"
            continue
        if vote.validator in seen and skip != "distinct":
            return f"R2.3: {vote.validator} votes twice"
        seen.add(vote.validator)
        stake += member.stake
        items.append((member.public_key, vote.payload, vote.signature))
    if stake < validators.quorum and skip != "quorum":
        return f"R2.3: stake {stake} below q(W) {validators.quorum}"
    if skip != "signatures" and not all(checker.verify_batch(items, cert.content_hash)):
        return "R7.5: a vote of the certificate has a bad signature"
    return ""


CERTIFICATE_CHECKS = ("members", "distinct", "quorum", "signatures")


def view_change_reason(
    vc: ViewChange, validators: ValidatorSet, checker: SignatureChecker, skip: str = ""
) -> str:
    """The outsider's check of the claim a full VIEW-CHANGE makes (R2.6): "" if backed.

    Steps (:data:`VIEW_CHANGE_CHECKS`): ``claim-below-view`` (a claim is for an earlier view),
    ``certificate-matches`` (the certificate is for the claimed height, view and digest),
    ``block-matches`` (the block is the claimed one), ``certificate-valid`` (by
    :func:`certificate_reason`).
    """
    if vc.prepared_view == NO_VIEW:
        return "" if vc.prepared is None and vc.block is None else "R2.6: a certificate unclaimed"
    cert, block = vc.prepared, vc.block
    if cert is None or block is None:
        return "R2.6: a claim without its certificate and block"
    if vc.prepared_view >= vc.view and skip != "claim-below-view":
        return "R2.6: a claim at or above the new view"
    claimed = (vc.height, vc.prepared_view, vc.prepared_digest)
    if (cert.height, cert.view, cert.digest) != claimed and skip != "certificate-matches":
        return "R2.6: the certificate is not the claimed one"
    if (block.digest, block.height) != (vc.prepared_digest, vc.height) and skip != "block-matches":
        return "R2.6: the block is not the claimed one"
    if skip == "certificate-valid":
        return ""
    return certificate_reason(cert, validators, checker)


VIEW_CHANGE_CHECKS = (
    "claim-below-view",
    "certificate-matches",
    "block-matches",
    "certificate-valid",
)


def new_view_reason(
    nv: NewView, validators: ValidatorSet, checker: SignatureChecker, skip: str = ""
) -> str:
    """The outsider's NEW-VIEW check (R2.6, R7.5): "" if valid, else the reason.

    Steps (:data:`NEW_VIEW_CHECKS`): ``leader`` (sent by the view's leader), ``signature``,
    ``pre-prepare-matches`` (its PRE-PREPARE is for the same height, view and leader),
    ``pre-prepare-signature``, ``members`` (view changes from distinct members),
    ``view-changes-match`` (each for this height and view), ``quorum`` (they hold q(W)),
    ``view-change-signatures``, ``claims-agree`` (every claim at the highest prepared view
    names one block), ``certificate-present`` (the highest claim is backed by the certificate
    it carries), ``highest-block`` (the proposal is that claim's block),
    ``certificate-valid``.
    """
    leader = validators.get_leader(nv.height, nv.view)
    if nv.leader != leader.id and skip != "leader":
        return f"R2.6: {nv.leader} does not lead view {nv.view}"
    signer = validators.get(nv.leader)
    if signer is None:
        return f"R4.3: {nv.leader} is not a member"
    if skip != "signature" and not checker.verify(signer.public_key, nv.payload, nv.signature):
        return "R7.5: bad NEW-VIEW signature"
    pp = nv.pre_prepare
    matches = (pp.height, pp.view, pp.leader) == (nv.height, nv.view, nv.leader)
    if not matches and skip != "pre-prepare-matches":
        return "R2.6: the PRE-PREPARE is for another height, view or leader"
    pp_signer = validators.get(pp.leader)
    if pp_signer is None:
        return f"R4.3: {pp.leader} is not a member"
    if skip != "pre-prepare-signature" and not checker.verify(
        pp_signer.public_key, pp.payload, pp.signature
    ):
        return "R7.5: bad PRE-PREPARE signature"
    seen: set[str] = set()
    stake = 0
    items: list[SignatureItem] = []
    top_view, top_digest = NO_VIEW, None
    for vc in nv.view_changes:
        member = validators.get(vc.validator)
        if (member is None or vc.validator in seen) and skip != "members":
            return "R2.6: view changes from non-members or repeated members"
        if (vc.height, vc.view) != (nv.height, nv.view) and skip != "view-changes-match":
            return "R2.6: a view change for another height or view"
        seen.add(vc.validator)
        if member is not None:
            stake += member.stake
            items.append((member.public_key, vc.payload, vc.signature))
        if vc.prepared_view > top_view:
            top_view, top_digest = vc.prepared_view, vc.prepared_digest
    if stake < validators.quorum and skip != "quorum":
        return f"R2.6: view changes hold {stake} < q(W) {validators.quorum}"
    batch_id = sha256(b"".join(p + s for _, p, s in items))
    if skip != "view-change-signatures" and not all(checker.verify_batch(items, batch_id)):
        return "R7.5: a view change has a bad signature"
    if top_view == NO_VIEW:
        return "" if nv.prepared is None else "R2.6: a certificate nobody claimed"
    tied = {vc.prepared_digest for vc in nv.view_changes if vc.prepared_view == top_view}
    if len(tied) > 1 and skip != "claims-agree":
        return "R2.6: claims at the highest prepared view name different blocks"
    cert = nv.prepared
    backed = cert is not None and (cert.height, cert.view, cert.digest) == (
        nv.height,
        top_view,
        top_digest,
    )
    if not backed and skip != "certificate-present":
        return "R2.6: the highest claim is not backed by its certificate"
    if pp.digest != top_digest and skip != "highest-block":
        return "R2.6: the proposal is not the block of the highest claim"
    if cert is None or skip == "certificate-valid":
        return ""
    return certificate_reason(cert, validators, checker)


NEW_VIEW_CHECKS = (
    "leader",
    "signature",
    "pre-prepare-matches",
    "pre-prepare-signature",
    "members",
    "view-changes-match",
    "quorum",
    "view-change-signatures",
    "claims-agree",
    "certificate-present",
    "highest-block",
    "certificate-valid",
)


def proposal_reason(
    replica: Replica,
    pp: PrePrepare,
    skip: str = "",
    *,
    in_new_view: bool = False,
    view: int | None = None,
) -> str:
    """The outsider's checks of a PRE-PREPARE and its block before it is executed (R2.6,
    R2.3, R3.3, R7.5; spec/consensus.md "Blocks", rules 1 and 2).

    Steps (:data:`PROPOSAL_CHECKS`): ``stale-view`` (not for a view the replica left),
    ``outside-new-view`` (a view > 0 only inside its NEW-VIEW), ``leader`` (from the view's
    leader), ``signature``, ``digest`` (the block is the one named), ``height`` (the block is
    for the replica's height), ``parent`` (it extends the committed chain), ``proposer`` (a
    member signed the block), ``view-0-proposer`` (in view 0 the proposer is the leader).
    """
    validators = replica.validators
    if pp.view < replica.view and skip != "stale-view":
        return "R2.6: a proposal for a view this replica left"
    if pp.view > 0 and not in_new_view and skip != "outside-new-view":
        return "R2.6: a proposal after a view change comes inside its NEW-VIEW"
    leader = validators.get_leader(replica.height, pp.view)
    if pp.leader != leader.id and skip != "leader":
        return f"R2.6: proposal from {pp.leader}, the leader is {leader.id}"
    signer = validators.get(pp.leader)
    if signer is None:
        return f"R4.3: {pp.leader} is not a member"
    if skip != "signature" and not replica.services.checker.verify(
        signer.public_key, pp.payload, pp.signature
    ):
        return "R7.5: bad PRE-PREPARE signature"
    block = pp.block
    if block.digest != pp.digest and skip != "digest":
        return "R2.3: the block is not the one the PRE-PREPARE names"
    if block.height != replica.height and skip != "height":
        return "R2.3: the block is for another height"
    if block.parent != replica.parent and skip != "parent":
        return "R3.3: the block does not extend the committed chain"
    proposer = validators.get(block.proposer)
    if proposer is None and skip != "proposer":
        return f"R4.3: proposer {block.proposer} is not a member"
    if pp.view == 0 and block.proposer != pp.leader and skip != "view-0-proposer":
        return "R2.6: in view 0 the proposer is the leader"
    if proposer is not None and not replica.services.checker.verify(
        proposer.public_key, block.payload, block.signature
    ):
        return "R7.5: bad block signature"
    return ""


PROPOSAL_CHECKS = (
    "stale-view",
    "outside-new-view",
    "leader",
    "signature",
    "digest",
    "height",
    "parent",
    "proposer",
    "view-0-proposer",
)


# --------------------------------------------------------------------------- the replica


class OutsiderReplica(Replica):
    """The reference replica behind the outsider's checks; ``forgotten`` is ``kind:step``.

    Each message is checked by the functions above first; what passes is handed to the
    reference's handlers as already checked, so the reference's own copy of a forgotten step
    does not run either. Everything else (counting, journaling, executing) is the reference's.
    """

    forgotten: ClassVar[str] = ""

    def _skip(self, kind: str) -> str:
        group, _, step = self.forgotten.partition(":")
        return step if group == kind else ""

    # certificates (R2.3, R7.5): the reference asks this for every certificate it checks
    def _check_cert_by(self, cert: Certificate, validators: ValidatorSet) -> str:
        self.stats.certificates_checked += 1
        return certificate_reason(cert, validators, self.services.checker, self._skip("cert"))

    # NEW-VIEW (R2.6)
    def _on_new_view(self, nv: NewView, trusted: bool = False) -> None:
        current = nv.height == self.height and nv.view >= self.view
        if trusted or not current or nv.view in self.proposals:
            super()._on_new_view(nv, trusted)
            return
        skip = self._skip("new-view")
        reason = new_view_reason(nv, self.validators, self.services.checker, skip)
        if not reason:  # the proposal is judged in its view
            reason = proposal_reason(
                self, nv.pre_prepare, self._skip("proposal"), in_new_view=True, view=nv.view
            )
        if reason:
            self._reject(reason[:4], reason)
            return
        super()._on_new_view(nv, trusted=True)

    # VIEW-CHANGE (R2.6, R7.5)
    def _on_view_change(self, vc: ViewChange, trusted: bool = False) -> None:
        current = vc.height == self.height and vc.view >= max(self.view, 1)
        if trusted or not current:
            super()._on_view_change(vc, trusted)
            return
        member = self.validators.get(vc.validator)
        if member is None:
            self._reject("R4.3", f"view change from non-member {vc.validator}")
            return
        if not self._verify(member.public_key, vc.payload, vc.signature):
            self._reject("R7.5", "bad view-change signature")
            return
        if vc.prepared is not None or vc.prepared_view == NO_VIEW:  # a copy carries no proof
            skip = self._skip("view-change")
            reason = view_change_reason(vc, self.validators, self.services.checker, skip)
            if reason:
                self._reject(reason[:4], reason)
                return
        super()._on_view_change(vc, trusted=True)

    # PRE-PREPARE (R2.6, blocks rules 1-2)
    def _on_pre_prepare(self, pp: PrePrepare) -> None:
        if pp.height != self.height or pp.view > self.view:
            super()._on_pre_prepare(pp)  # routed: buffered or dropped as the reference does
            return
        reason = proposal_reason(self, pp, self._skip("proposal"))
        if reason:
            self._reject(reason[:4], reason)
            return
        self._accept_pre_prepare(pp, trusted=True)

    def _accept_pre_prepare(self, pp: PrePrepare, trusted: bool) -> None:
        """The reference's acceptance; who proposed and what (rules 1-2) was checked by
        :func:`proposal_reason` before (``trusted``: every caller here checked it)."""
        if not trusted:
            reason = proposal_reason(self, pp, self._skip("proposal"), in_new_view=pp.view > 0)
            if reason:
                self._reject(reason[:4], reason)
                return
        if self._known_proposal(pp):
            return
        self._verify_proposal(pp)

    def _after_accepting(self, pp: PrePrepare) -> None:
        """PREPARE the accepted proposal if it is for the replica's view (the reference's
        rule), or for any view when the ``stale-view`` step is forgotten."""
        if pp.view == self.view or self._skip("proposal") == "stale-view":
            self._send_prepare(pp.view, pp.digest)
        self._check_prepare_quorum(pp.view)
        self._check_commit_quorums()

    def _check_block(self, pp: PrePrepare) -> str:
        """Rules 1-2 were :func:`proposal_reason`'s; then the limits, the last commit and the
        evidence, with the reference's own checks (:mod:`aethel.consensus.block_rules`)."""
        return self._limits_and_last_commit_reason(pp.block) or self._evidence_reason(pp.block)


def _forgetting(step: str) -> type[OutsiderReplica]:
    name = "".join(part.capitalize() for part in step.replace(":", "-").split("-"))
    return type(f"Forgot{name}Replica", (OutsiderReplica,), {"forgotten": step})


# --------------------------------------------------------------------------- wrong rules


class CeilQuorumReplica(Replica):
    """Defect: the quorum is computed as ceil(2W/3): equal to q(W) = floor(2W/3) + 1 unless W
    is a multiple of 3, where it is one short (2k of W = 3k)."""

    @property
    def validators(self) -> ValidatorSet:
        found: ValidatorSet = self.__dict__["_validator_set"]
        return found

    @validators.setter
    def validators(self, value: ValidatorSet) -> None:
        self.__dict__["_validator_set"] = replace(value, quorum=-(-2 * value.total_stake // 3))


class CertificateAboveQuorumReplica(Replica):
    """Defect: a certificate is taken only with more than q(W) stake (> instead of >=); the
    replica's own tallies are right."""

    def _check_cert_by(self, cert: Certificate, validators: ValidatorSet) -> str:
        return super()._check_cert_by(cert, replace(validators, quorum=validators.quorum + 1))


class _InclusiveTally(ViewTally):
    """The join rule at W/3 inclusive: a third of the stake asking for a later view pulls."""

    def get_join_view(self, view: int, total_stake: int) -> int | None:
        above = {v: stake for v, stake in self.stake_at.items() if v > view}
        if 3 * sum(above.values()) < total_stake:
            return None
        return min(above)


class JoinAtAThirdReplica(Replica):
    """Defect: validators holding exactly W/3 (not more) asking for a later view pull the
    replica into it."""

    def _height_state(self) -> HeightState:
        state = super()._height_state()
        state.view_tally = _InclusiveTally()
        return state


def timeout_without_backoff(observed_latency_ns: int, view: int) -> int:
    """The timeout rule with the backoff forgotten: max(4 s, 4 x latency) in every view."""
    return max(BASE_TIMEOUT_NS, LATENCY_MULTIPLE * observed_latency_ns)


class NoBackoffReplica(Replica):
    """Defect: the view timer the replica arms does not double per view (R2.6); its
    ``timeout`` rule, a separate function that the timeout vectors check (P26), is right."""

    def _arm_view_timer(self) -> None:
        self._set_view_timer(
            self._now + timeout_without_backoff(self.observed_latency(), self.view)
        )


class OldViewPreparesReplica(Replica):
    """Defect: PREPAREs are tallied per height and digest, whatever their view: a vote from a
    view the replica left counts towards the current view's certificate."""

    def _on_prepare(self, vote: Prepare, trusted: bool = False) -> None:
        if vote.height == self.height and vote.view < self.view:
            collector = self._collector(self.current.prepares, self.view)
            if collector.add(vote, self._verify, trusted).counted:
                self._check_prepare_quorum(self.view)
            return
        super()._on_prepare(vote, trusted)


class AnyDigestPreparesReplica(Replica):
    """Defect: the replica is prepared once PREPAREs of the view hold q(W), whatever digest
    each names (votes are counted per view, not per block)."""

    def _check_prepare_quorum(self, view: int) -> None:
        proposal = self.proposals.get(view)
        collector = self.current.prepares.get(view)
        if proposal is None or collector is None or self._is_prepared(view):
            return
        if not isinstance(collector, VoteCollector):  # version 2 aggregates: not this defect
            return
        if collector.stake() < self.validators.quorum:
            return
        votes = [v for tally in collector.tallies.values() for v in tally.votes]
        chosen = minimal_quorum(votes, self.validators)
        cert = PrepareCertificate(self.height, view, proposal.digest, chosen)
        self._verified_certs.add(cert.content_hash)
        if self.config.mode == "collector":
            self._out.append(Broadcast(cert))
        self._on_prepared(cert)


class RootOnTrustReplica(Replica):
    """Defect: a valid commit certificate commits the block held for its digest with the
    certificate's post-state root, never compared with the replica's own execution (R3.2)."""

    def _learn_commit(self, cert: CommitCertificate) -> None:
        if cert.height == self.height:
            proposal = self._proposal_for(cert.digest)
            if proposal is not None and proposal.execution.post_root != cert.post_root:
                if not self._check_cert(cert):
                    execution = replace(proposal.execution, post_root=cert.post_root)
                    self._commit(cert, replace(proposal, execution=execution))
                return
        super()._learn_commit(cert)


class _MemoByKeyAndSignature:
    """A signature checker remembering verdicts by (public key, signature): what was signed is
    not part of the key, so a signature once valid stays valid over any other payload."""

    def __init__(self, inner: SignatureChecker) -> None:
        self.inner = inner
        self.memo: dict[tuple[bytes, bytes], bool] = {}

    def verify(self, public_key: bytes, payload: bytes, signature: bytes) -> bool:
        found = self.memo.get((public_key, signature))
        if found is None:
            found = self.memo[(public_key, signature)] = self.inner.verify(
                public_key, payload, signature
            )
        return found

    def verify_batch(self, items: Sequence[SignatureItem], batch_id: bytes | None) -> list[bool]:
        return [self.verify(*item) for item in items]


class SignatureMemoObject(ReferenceReplicaObject):
    """Defect: the replica caches signature verdicts by key and signature, without the message
    (to skip re-checking votes it already saw when they come back inside certificates)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        services = self.replica.services
        self.replica.services = replace(services, checker=_MemoByKeyAndSignature(services.checker))


# --------------------------------------------------------------------------- implementations


OutsiderImplementation = replica_implementation(
    "OutsiderImplementation", __name__, replica_class=OutsiderReplica
)

#: (step, rules the forgotten step breaks, what the defect is)
FORGOTTEN: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("cert:distinct", ("R2.3",), "a certificate may hold one validator's vote twice"),
    ("cert:quorum", ("R2.3",), "a certificate below q(W) is taken"),
    ("view-change:claim-below-view", ("R2.6",), "a claim at or above the new view is taken"),
    ("view-change:certificate-matches", ("R2.6",), "a claim backed by another certificate"),
    ("view-change:block-matches", ("R2.6",), "a claim backed by another block"),
    ("view-change:certificate-valid", ("R2.6",), "a claim's certificate is not checked"),
    ("new-view:members", ("R2.6",), "a NEW-VIEW may repeat a VIEW-CHANGE or hold a non-member's"),
    ("new-view:view-changes-match", ("R2.6",), "a NEW-VIEW may hold VIEW-CHANGEs of other views"),
    ("new-view:quorum", ("R2.6",), "a NEW-VIEW with VIEW-CHANGEs below q(W) is followed"),
    ("new-view:view-change-signatures", ("R7.5",), "a NEW-VIEW's VIEW-CHANGEs are not verified"),
    (
        "new-view:claims-agree",
        ("R2.6",),
        "of two claims at the highest prepared view naming different blocks, the first counts",
    ),
    ("new-view:certificate-present", ("R2.6",), "a NEW-VIEW's highest claim needs no certificate"),
    ("new-view:highest-block", ("R2.6",), "a NEW-VIEW may re-propose another block"),
    ("new-view:certificate-valid", ("R2.6",), "a NEW-VIEW's certificate is not checked"),
    ("proposal:stale-view", ("R2.6",), "the replica votes for proposals of a view it left"),
    ("proposal:outside-new-view", ("R2.6",), "a later view's proposal is taken without NEW-VIEW"),
    ("proposal:leader", ("R2.6",), "a proposal from a non-leader is taken"),
    ("proposal:digest", ("R2.3",), "a PRE-PREPARE may carry another block than it names"),
    ("proposal:height", ("R2.3",), "a block of another height is taken"),
    ("proposal:parent", ("R3.3",), "a block that does not extend the chain is taken"),
    ("proposal:view-0-proposer", ("R2.6",), "in view 0 a block by another proposer is taken"),
)

#: Steps whose omission no message can show: another step refuses the same messages. A NEW-VIEW's
#: leader, its PRE-PREPARE's view and leader, and that PRE-PREPARE's signature are checked again
#: as a proposal (:func:`proposal_reason`: leader of the view, signature), so forgetting one of
#: them in :func:`new_view_reason` changes nothing (tried: the suite's NEW-VIEW cases from a
#: non-leader, with a PRE-PREPARE of another view and with a badly signed one all stay refused).
#: A certificate vote of a non-member adds no stake, so forgetting ``cert:members`` only skips
#: checking a signature that counts for nothing.
REDUNDANT = (
    "new-view:leader",
    "new-view:pre-prepare-matches",
    "new-view:pre-prepare-signature",
    "cert:members",
)

_FORGETFUL = {step: _forgetting(step) for step, _, _ in FORGOTTEN}
for _step, _replica in _FORGETFUL.items():
    _impl = replica_implementation(
        _replica.__name__.removesuffix("Replica"), __name__, replica_class=_replica
    )
    globals()[_impl.__name__] = _impl
    globals()[_replica.__name__] = _replica


def _built(step: str) -> Any:
    return globals()[_FORGETFUL[step].__name__.removesuffix("Replica")]


CeilQuorum = replica_implementation("CeilQuorum", __name__, replica_class=CeilQuorumReplica)
CertificateAboveQuorum = replica_implementation(
    "CertificateAboveQuorum", __name__, replica_class=CertificateAboveQuorumReplica
)
JoinAtAThird = replica_implementation("JoinAtAThird", __name__, replica_class=JoinAtAThirdReplica)
NoBackoff = replica_implementation("NoBackoff", __name__, replica_class=NoBackoffReplica)
OldViewPrepares = replica_implementation(
    "OldViewPrepares", __name__, replica_class=OldViewPreparesReplica
)
AnyDigestPrepares = replica_implementation(
    "AnyDigestPrepares", __name__, replica_class=AnyDigestPreparesReplica
)
RootOnTrust = replica_implementation("RootOnTrust", __name__, replica_class=RootOnTrustReplica)
SignatureMemo = replica_implementation(
    "SignatureMemo", __name__, SignatureMemoObject, replica_class=Replica
)

MUTANTS = [
    Mutant(f"forgot-{step.replace(':', '-')}", defect, rules, ("replica",), _built(step))
    for step, rules, defect in FORGOTTEN
] + [
    Mutant(
        "quorum-ceil-two-thirds",
        "the quorum is ceil(2W/3): 2k of W = 3k, one short of q(W)",
        ("R2.3",),
        ("replica",),
        CeilQuorum,
    ),
    Mutant(
        "certificate-above-quorum",
        "a certificate needs more than q(W) stake (> for >=)",
        ("R2.3",),
        ("replica",),
        CertificateAboveQuorum,
    ),
    Mutant(
        "view-join-at-a-third",
        "exactly W/3 asking for a later view pulls the replica into it",
        ("R2.6",),
        ("replica",),
        JoinAtAThird,
    ),
    Mutant(
        "view-timers-without-backoff",
        "the replica's view timers do not double per view (its timeout rule does)",
        ("R2.6",),
        ("replica",),
        NoBackoff,
    ),
    Mutant(
        "old-view-prepares-counted",
        "PREPAREs of a view the replica left count in the current view",
        ("R2.3",),
        ("replica",),
        OldViewPrepares,
    ),
    Mutant(
        "any-digest-prepares-counted",
        "PREPAREs for other digests count towards the proposal's quorum",
        ("R2.3",),
        ("replica",),
        AnyDigestPrepares,
    ),
    Mutant(
        "signature-memo-without-message",
        "signature verdicts are cached by key and signature, not by what was signed",
        ("R7.5",),
        ("replica",),
        SignatureMemo,
    ),
    Mutant(
        "certificate-root-on-trust",
        "a commit certificate's post-state root replaces the replica's own",
        ("R3.2",),
        ("replica",),
        RootOnTrust,
    ),
]
