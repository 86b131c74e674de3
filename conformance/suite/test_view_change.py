"""VIEW-CHANGE and NEW-VIEW, member by member (R2.6, R7.5), and their quorum boundaries.

A new leader holding valid VIEW-CHANGEs from q(W) stake sends NEW-VIEW re-proposing the highest
prepared block; a validator follows a NEW-VIEW only if it is the view's leader's, its
VIEW-CHANGEs are valid, for its height and view, from distinct members holding q(W), and its
proposal is the block of the highest claim, backed by a valid prepared certificate
(spec/consensus.md, "View change"). Each case below starts from a valid message of the
implementation's replica's scene (:mod:`conformance.suite.scene`), changes one member, and
requires the replica to refuse it: no NEW-VIEW from the leader, no PREPARE or COMMIT from a
follower. The unchanged message then moves the replica (the control). The quorum cases use
validator sets whose total stake W is a multiple of 3, W = 3k, where q(W) = 2k + 1: stake of
exactly q(W) must count and 2k must not (ceil(2W/3) is 2k there), and exactly k asking for a
later view must not pull a validator into it while k + 1 must (the join rule is > W/3).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from aethel.consensus.block import GENESIS_PARENT, ProofBlock
from aethel.consensus.messages import (
    Commit,
    Message,
    NewView,
    Prepare,
    PrepareCertificate,
    PrePrepare,
    ViewChange,
)
from aethel.consensus.signing import DirectSignatureChecker, KeySigner
from aethel.consensus.viewchange import check_new_view
from aethel.encoding import KeyPair
from conformance.adapters.api import ReplicaAPI
from conformance.checks import expect_equal
from conformance.suite.scene import (
    AFTER_TIMEOUT,
    FOUR,
    MS,
    TIMEOUT_AT,
    Scene,
    find_scene,
    flipped,
    make_scene,
    sent,
    subsets_with_stake,
    view_deadline,
)

pytestmark = pytest.mark.capability("replica")


def _started(scene: Scene, replica_api: ReplicaAPI, name: str) -> tuple[Any, int]:
    """Return ``name``'s replica in broadcast mode, started at 0 ns, and its view-0 timeout."""
    remote = scene.replica(replica_api, name, "broadcast", now=None)
    interval = view_deadline(remote.start(0), 1, 0)
    if interval is None:
        raise AssertionError(f"control: {name} set no timer for view 0 when started at 0 ns")
    return remote, interval


#: A key outside every scene's validator set, signing as ``v999``.
STRANGER = KeySigner("v999", KeyPair.from_seed(bytes([99]) * 32))


def _flip(signature: bytes) -> bytes:
    return bytes([signature[0] ^ 1]) + signature[1:]


def _signed_view_change(
    scene: Scene,
    signer: str,
    *,
    validator: str,
    view: int = 1,
    height: int = 1,
    claim: tuple[int, bytes | None] = (-1, None),
    prepared: PrepareCertificate | None = None,
    block: ProofBlock | None = None,
) -> ViewChange:
    """A VIEW-CHANGE naming ``validator``, signed with ``signer``'s key."""
    unsigned = ViewChange(height, view, claim[0], claim[1], validator, b"")
    signature = scene.signers[signer].key.sign_bytes(unsigned.payload)
    return ViewChange(height, view, claim[0], claim[1], validator, signature, prepared, block)


def _forged_certificate(
    scene: Scene, names: list[str], digest: bytes, view: int, wrong_key: str
) -> PrepareCertificate:
    """A prepared certificate whose last vote is signed with ``wrong_key``'s key."""
    votes = [scene.prepare(n, digest, view) for n in names[:-1]]
    unsigned = Prepare(1, view, digest, names[-1], b"")
    forged = scene.signers[wrong_key].key.sign_bytes(unsigned.payload)
    votes.append(Prepare(1, view, digest, names[-1], forged))
    return PrepareCertificate(1, view, digest, tuple(votes))


def _new_view_sent(outputs: object) -> list[NewView]:
    return [m for m in sent(outputs, NewView) if isinstance(m, NewView)]


def _votes_in(outputs: object, view: int) -> list[Message]:
    return sent(outputs, Prepare | Commit, lambda m: m.view >= view)


# --------------------------------------------------------------------------- the new leader


def _leader_scene() -> Scene:
    return find_scene(FOUR, lambda s: s.leader(0) != s.leader(1), label="vc-leader")


#: VIEW-CHANGE of the third member (B) changed alone; the leader R and A asked for view 1.
LeaderVariant = Callable[[Scene, str, str, str], ViewChange]


def _claim_material(scene: Scene, a: str) -> tuple[ProofBlock, ProofBlock, list[str]]:
    """Two height-1 blocks (D by the view-0 leader, D2 by A) and q(W) members to prepare."""
    d = scene.block()
    d2 = scene.block(a)
    return d, d2, scene.ids[:3]


def _claim_at_new_view(scene: Scene, a: str, b: str, c: str) -> ViewChange:
    d, _, members = _claim_material(scene, a)
    cert = scene.prepare_certificate(members, d.digest, view=1)
    return ViewChange(1, 1, 1, d.digest, b, _sign_claim(scene, b, 1, d.digest), cert, d)


def _sign_claim(scene: Scene, name: str, prepared_view: int, digest: bytes) -> bytes:
    unsigned = ViewChange(1, 1, prepared_view, digest, name, b"")
    return scene.signers[name].key.sign_bytes(unsigned.payload)


def _claim(
    scene: Scene, name: str, cert: PrepareCertificate, block: ProofBlock, digest: bytes
) -> ViewChange:
    """B's claim (view 0, ``digest``) carrying ``cert`` and ``block``."""
    return ViewChange(1, 1, 0, digest, name, _sign_claim(scene, name, 0, digest), cert, block)


def _other_digest_certificate(scene: Scene, a: str, b: str, c: str) -> ViewChange:
    d, d2, members = _claim_material(scene, a)
    return _claim(scene, b, scene.prepare_certificate(members, d2.digest), d, d.digest)


def _below_quorum_certificate(scene: Scene, a: str, b: str, c: str) -> ViewChange:
    d, _, members = _claim_material(scene, a)
    return _claim(scene, b, scene.prepare_certificate(members[:2], d.digest), d, d.digest)


def _forged_vote_certificate(scene: Scene, a: str, b: str, c: str) -> ViewChange:
    d, _, members = _claim_material(scene, a)
    wrong = next(m for m in scene.ids if m != members[-1])
    return _claim(scene, b, _forged_certificate(scene, members, d.digest, 0, wrong), d, d.digest)


def _block_not_claimed(scene: Scene, a: str, b: str, c: str) -> ViewChange:
    d, d2, members = _claim_material(scene, a)
    return _claim(scene, b, scene.prepare_certificate(members, d.digest), d2, d.digest)


def _certificate_without_block(scene: Scene, a: str, b: str, c: str) -> ViewChange:
    """B's true claim with D's certificate and no block (written from the viewchange.py
    campaign's survivor ``check_view_change_claim:ReplaceOrWithAnd:2a559320``, which took a
    claim missing either and raised out of the replica on the missing block)."""
    d, _, members = _claim_material(scene, a)
    cert = scene.prepare_certificate(members, d.digest)
    return ViewChange(1, 1, 0, d.digest, b, _sign_claim(scene, b, 0, d.digest), cert, None)


def _certificate_and_block_of_another_digest(scene: Scene, a: str, b: str, c: str) -> ViewChange:
    """B's signed claim names D; the certificate and block it carries are D2's, which agree with
    each other (written from the viewchange.py campaign's survivor ``check_view_change_claim:
    RemoveRaiseOrReturn:f914a509``: a certificate not matching the claim taken)."""
    d, d2, members = _claim_material(scene, a)
    return _claim(scene, b, scene.prepare_certificate(members, d2.digest), d2, d.digest)


def _block_by_a_non_member(scene: Scene, a: str, b: str, c: str) -> ViewChange:
    """B's true claim of a block whose proposer is no member (written from the viewchange.py
    campaign's survivor ``ViewChangeRules._carried_block_reason:RemoveRaiseOrReturn:6106f226``,
    reached by no case)."""
    block = ProofBlock.create(STRANGER, 1, GENESIS_PARENT, [], [], [], None)
    cert = scene.prepare_certificate(scene.ids[:3], block.digest)
    return _claim(scene, b, cert, block, block.digest)


def _claim_changed_alone(scene: Scene, a: str, b: str, c: str) -> ViewChange:
    d, d2, members = _claim_material(scene, a)
    signed = _sign_claim(scene, b, 0, d.digest)
    cert = scene.prepare_certificate(members, d2.digest)
    return ViewChange(1, 1, 0, d2.digest, b, signed, cert, d2)


LEADER_VARIANTS: dict[str, tuple[tuple[str, ...], LeaderVariant]] = {
    "flipped-signature": (
        ("R7.5",),
        lambda s, a, b, c: flipped(s.view_change(b, 1)),
    ),
    "signed-with-another-key": (
        ("R7.5",),
        lambda s, a, b, c: _signed_view_change(s, a, validator=b),
    ),
    "validator-changed": (
        ("R7.5",),
        lambda s, a, b, c: ViewChange(1, 1, -1, None, c, s.view_change(b, 1).signature),
    ),
    "non-member": (("R2.6",), lambda s, a, b, c: _signed_view_change(s, b, validator="v999")),
    "another-height": (("R2.6",), lambda s, a, b, c: s.view_change(b, 1, height=2)),
    "another-view": (("R2.6",), lambda s, a, b, c: s.view_change(b, 2)),
    "repeated": (("R2.6",), lambda s, a, b, c: s.view_change(a, 1)),
    "claim-at-the-new-view": (("R2.6",), _claim_at_new_view),
    "claim-changed-alone": (("R7.5",), _claim_changed_alone),
    "certificate-of-another-digest": (("R2.6",), _other_digest_certificate),
    "certificate-below-quorum": (("R2.6",), _below_quorum_certificate),
    "certificate-with-a-forged-vote": (("R2.6",), _forged_vote_certificate),
    "block-not-the-claimed-one": (("R2.6",), _block_not_claimed),
    "certificate-without-block": (("R2.6",), _certificate_without_block),
    "certificate-and-block-of-another-digest": (
        ("R2.6",),
        _certificate_and_block_of_another_digest,
    ),
    "block-by-a-non-member": (("R4.3",), _block_by_a_non_member),
}


def _leader_params() -> list[object]:
    return [
        pytest.param(
            name, id=name, marks=[pytest.mark.req("R2.6", *rules), pytest.mark.rejects(*rules)]
        )
        for name, (rules, _) in LEADER_VARIANTS.items()
    ]


@pytest.mark.parametrize("variant", _leader_params())
def test_new_leader_counts_no_changed_view_change(replica_api: ReplicaAPI, variant: str) -> None:
    """The replica leads view 1 and timed out of view 0; A's VIEW-CHANGE and B's, changed in
    one member, would complete q(W): no NEW-VIEW may follow. B's real one then completes it."""
    scene = _leader_scene()
    name = scene.leader(1)
    a, b, c = scene.others(name)
    remote = scene.replica(replica_api, name, "collector")
    remote.on_timer(1, 0, "view", TIMEOUT_AT)
    if remote.status()["view"] != 1:
        raise AssertionError(f"{name} did not move to view 1 when view 0 timed out")
    early = _new_view_sent(remote.on_message(scene.view_change(a, 1).to_wire(), AFTER_TIMEOUT))
    changed = LEADER_VARIANTS[variant][1](scene, a, b, c)
    early += _new_view_sent(remote.on_message(changed.to_wire(), AFTER_TIMEOUT))
    if early:
        raise AssertionError(
            f"{name} sent NEW-VIEW for view {early[0].view} from its own, A's and a VIEW-CHANGE "
            f"with one member changed ({variant})"
        )
    control = _new_view_sent(remote.on_message(scene.view_change(b, 1).to_wire(), AFTER_TIMEOUT))
    if not control:
        raise AssertionError(f"{name} sent no NEW-VIEW on q(W) valid VIEW-CHANGEs (the control)")
    reason = check_new_view(control[0], scene.validators, DirectSignatureChecker())
    if reason:
        raise AssertionError(f"{name}'s NEW-VIEW is invalid: {reason}")


# --------------------------------------------------------------------------- a follower


def _follower_scene() -> Scene:
    """Leaders of views 0, 1 and 2 distinct; the follower is the fourth member."""
    return find_scene(
        FOUR, lambda s: len({s.leader(0), s.leader(1), s.leader(2)}) == 3, label="vc-follower"
    )


def _roles(scene: Scene) -> tuple[str, str, str, str]:
    """Return (follower R, leader of view 0, leader of view 1, leader of view 2)."""
    leaders = [scene.leader(v) for v in range(3)]
    follower = next(m for m in scene.ids if m not in leaders)
    return follower, leaders[0], leaders[1], leaders[2]


def _fresh(scene: Scene, view: int = 1) -> NewView:
    """A valid NEW-VIEW for ``view`` of a fresh block: VIEW-CHANGEs of the three leaders."""
    _, l0, l1, l2 = _roles(scene)
    block = scene.block(scene.leader(view))
    votes = [scene.view_change(m, view) for m in (l0, l1, l2)]
    return scene.new_view(votes, None, block, view)


def _reproposal(scene: Scene) -> tuple[NewView, ProofBlock, PrepareCertificate]:
    """A valid NEW-VIEW for view 1 re-proposing D, prepared in view 0 and claimed by one."""
    _, l0, l1, l2 = _roles(scene)
    d = scene.block()
    cert = scene.prepare_certificate([l0, l1, l2], d.digest, 0)
    votes = [scene.view_change(l0, 1, cert, d), scene.view_change(l1, 1), scene.view_change(l2, 1)]
    return scene.new_view(votes, cert, d, 1), d, cert


def _view_two(
    scene: Scene,
) -> tuple[list[ViewChange], ProofBlock, PrepareCertificate, ProofBlock, PrepareCertificate]:
    """VIEW-CHANGEs for view 2 claiming D (view 0) and D1 (view 1), and the claims' material."""
    _, l0, l1, l2 = _roles(scene)
    d, d1 = scene.block(), scene.block(l1)
    cert0 = scene.prepare_certificate([l0, l1, l2], d.digest, 0)
    cert1 = scene.prepare_certificate([l0, l1, l2], d1.digest, 1)
    votes = [
        scene.view_change(l0, 2, cert0, d),
        scene.view_change(l1, 2, cert1, d1),
        scene.view_change(l2, 2),
    ]
    return votes, d, cert0, d1, cert1


def _resigned(scene: Scene, nv: NewView, **members: object) -> NewView:
    """``nv`` with members replaced and signed again by its leader (a well-signed lie)."""
    changed = replace(nv, **members)  # type: ignore[arg-type]
    unsigned = replace(changed, signature=b"")
    return replace(
        changed, signature=scene.signers[changed.leader].key.sign_bytes(unsigned.payload)
    )


def _with_changes(scene: Scene, nv: NewView, changes: list[ViewChange]) -> NewView:
    return _resigned(scene, nv, view_changes=tuple(vc.stripped() for vc in changes))


def _flipped_new_view(scene: Scene) -> NewView:
    good = _fresh(scene)
    return replace(good, signature=_flip(good.signature))


def _from_non_leader(scene: Scene) -> NewView:
    l2 = _roles(scene)[3]
    good = _fresh(scene)
    block = scene.block(l2)
    return scene.new_view(good.view_changes, None, block, 1, leader=l2)


def _pre_prepare_of_view_two(scene: Scene) -> NewView:
    good = _fresh(scene)
    _, _, l1, _ = _roles(scene)
    pp = PrePrepare.create(scene.signers[l1], 2, good.pre_prepare.block)
    return _resigned(scene, good, pre_prepare=pp)


def _pre_prepare_flipped(scene: Scene) -> NewView:
    good = _fresh(scene)
    pp = replace(good.pre_prepare, signature=_flip(good.pre_prepare.signature))
    return _resigned(scene, good, pre_prepare=pp)


def _repeated_change(scene: Scene) -> NewView:
    good = _fresh(scene)
    first, second, _ = good.view_changes
    return _with_changes(scene, good, [first, second, second])


def _non_member_change(scene: Scene) -> NewView:
    good = _fresh(scene)
    _, _, _, l2 = _roles(scene)
    stranger = _signed_view_change(scene, l2, validator="v999")
    return _with_changes(scene, good, [*good.view_changes[:2], stranger])


def _change_of_view_two(scene: Scene) -> NewView:
    good = _fresh(scene)
    _, _, _, l2 = _roles(scene)
    return _with_changes(scene, good, [*good.view_changes[:2], scene.view_change(l2, 2)])


def _change_of_height_two(scene: Scene) -> NewView:
    good = _fresh(scene)
    _, _, _, l2 = _roles(scene)
    other = scene.view_change(l2, 1, height=2)
    return _with_changes(scene, good, [*good.view_changes[:2], other])


def _change_badly_signed(scene: Scene) -> NewView:
    good = _fresh(scene)
    return _with_changes(scene, good, [*good.view_changes[:2], flipped(good.view_changes[2])])


def _changes_below_quorum(scene: Scene) -> NewView:
    good = _fresh(scene)
    return _with_changes(scene, good, list(good.view_changes[:2]))


def _certificate_nobody_claimed(scene: Scene) -> NewView:
    good = _fresh(scene)
    _, cert = _reproposal(scene)[1:]
    return _resigned(scene, good, prepared=cert)


def _another_parent(scene: Scene) -> NewView:
    good = _fresh(scene)
    _, _, l1, _ = _roles(scene)
    block = ProofBlock.create(scene.signers[l1], 1, bytes([1]) * 32, [], [], [], None)
    return scene.new_view(good.view_changes, None, block, 1)


def _claim_without_certificate(scene: Scene) -> NewView:
    good = _reproposal(scene)[0]
    return _resigned(scene, good, prepared=None)


def _fresh_block_despite_claim(scene: Scene) -> NewView:
    good, _, cert = _reproposal(scene)
    _, _, l1, _ = _roles(scene)
    return scene.new_view(good.view_changes, cert, scene.block(l1), 1)


def _claim_certificate_below_quorum(scene: Scene) -> NewView:
    good, _, cert = _reproposal(scene)
    short = replace(cert, votes=cert.votes[:2])
    return _resigned(scene, good, prepared=short)


def _claim_certificate_forged(scene: Scene) -> NewView:
    good, d, cert = _reproposal(scene)
    members = [v.validator for v in cert.votes]
    forged = _forged_certificate(scene, members, d.digest, 0, members[0])
    return _resigned(scene, good, prepared=forged)


def _lower_claim_reproposed(scene: Scene) -> NewView:
    votes, d, cert0, _, _ = _view_two(scene)
    return scene.new_view(votes, cert0, d, 2)


def _highest_certificate_lower_block(scene: Scene) -> NewView:
    votes, d, _, _, cert1 = _view_two(scene)
    return scene.new_view(votes, cert1, d, 2)


def _tied_claims(scene: Scene, backed: int) -> NewView:
    """A NEW-VIEW for view 2 whose first two VIEW-CHANGEs both claim view 1, for different
    blocks (one claim is a lie), re-proposing the block of claim ``backed`` (0 or 1) with its
    certificate: refused in either order (spec/consensus.md, view change)."""
    _, l0, l1, l2 = _roles(scene)
    blocks = [scene.block(), scene.block(l1)]
    certs = [scene.prepare_certificate([l0, l1, l2], b.digest, 1) for b in blocks]
    votes = [
        scene.view_change(l0, 2, certs[0], blocks[0]),
        scene.view_change(l1, 2, certs[1], blocks[1]),
        scene.view_change(l2, 2),
    ]
    return scene.new_view(votes, certs[backed], blocks[backed], 2)


def _genuine_view_two(scene: Scene) -> NewView:
    votes, _, _, d1, cert1 = _view_two(scene)
    return scene.new_view(votes, cert1, d1, 2)


FOLLOWER_VARIANTS: dict[
    str, tuple[tuple[str, ...], Callable[[Scene], NewView], Callable[[Scene], NewView]]
] = {
    "flipped-signature": (("R7.5",), _flipped_new_view, _fresh),
    "from-a-non-leader": (("R2.6",), _from_non_leader, _fresh),
    "pre-prepare-of-another-view": (("R2.6",), _pre_prepare_of_view_two, _fresh),
    "pre-prepare-badly-signed": (("R7.5",), _pre_prepare_flipped, _fresh),
    "a-view-change-repeated": (("R2.6",), _repeated_change, _fresh),
    "a-view-change-of-a-non-member": (("R2.6",), _non_member_change, _fresh),
    "a-view-change-for-another-view": (("R2.6",), _change_of_view_two, _fresh),
    "a-view-change-for-another-height": (("R2.6",), _change_of_height_two, _fresh),
    "a-view-change-badly-signed": (("R7.5",), _change_badly_signed, _fresh),
    "view-changes-below-quorum": (("R2.6",), _changes_below_quorum, _fresh),
    "a-certificate-nobody-claimed": (("R2.6",), _certificate_nobody_claimed, _fresh),
    "a-block-of-another-parent": (("R2.6",), _another_parent, _fresh),
    "a-claim-without-its-certificate": (
        ("R2.6",),
        _claim_without_certificate,
        lambda s: _reproposal(s)[0],
    ),
    "a-fresh-block-despite-a-claim": (
        ("R2.6",),
        _fresh_block_despite_claim,
        lambda s: _reproposal(s)[0],
    ),
    "a-certificate-below-quorum": (
        ("R2.6",),
        _claim_certificate_below_quorum,
        lambda s: _reproposal(s)[0],
    ),
    "a-certificate-with-a-forged-vote": (
        ("R2.6",),
        _claim_certificate_forged,
        lambda s: _reproposal(s)[0],
    ),
    "the-lower-claim-re-proposed": (("R2.6",), _lower_claim_reproposed, _genuine_view_two),
    "the-highest-certificate-with-a-lower-block": (
        ("R2.6",),
        _highest_certificate_lower_block,
        _genuine_view_two,
    ),
    "tied-claims-backing-the-first": (
        ("R2.6",),
        lambda s: _tied_claims(s, 0),
        _genuine_view_two,
    ),
    "tied-claims-backing-the-second": (
        ("R2.6",),
        lambda s: _tied_claims(s, 1),
        _genuine_view_two,
    ),
}


def _follower_params() -> list[object]:
    return [
        pytest.param(
            name, id=name, marks=[pytest.mark.req("R2.6", *rules), pytest.mark.rejects(*rules)]
        )
        for name, (rules, _, _) in FOLLOWER_VARIANTS.items()
    ]


@pytest.mark.parametrize("variant", _follower_params())
@pytest.mark.parametrize("mode", ["collector", "broadcast"], ids=str)
def test_follower_refuses_a_changed_new_view(
    replica_api: ReplicaAPI, variant: str, mode: str
) -> None:
    """A valid NEW-VIEW with one member changed gets no PREPARE or COMMIT; the valid one then
    moves the replica to its view with a PREPARE for its proposal."""
    scene = _follower_scene()
    name = _roles(scene)[0]
    _, changed_of, genuine_of = FOLLOWER_VARIANTS[variant]
    changed, genuine = changed_of(scene), genuine_of(scene)
    remote = scene.replica(replica_api, name, mode)
    votes = _votes_in(remote.on_message(changed.to_wire(), AFTER_TIMEOUT), 1)
    if votes:
        raise AssertionError(
            f"{name} sent {type(votes[0]).__name__} for view {getattr(votes[0], 'view', '?')} "
            f"on a NEW-VIEW with one member changed ({variant})"
        )
    control = remote.on_message(genuine.to_wire(), AFTER_TIMEOUT)
    prepares = sent(control, Prepare, lambda m: m.view == genuine.view)
    if not prepares or prepares[0].digest != genuine.pre_prepare.digest:  # type: ignore[union-attr]
        raise AssertionError(
            f"{name} sent no PREPARE for the proposal of a valid NEW-VIEW for view "
            f"{genuine.view} (the control)"
        )
    if remote.status()["view"] != genuine.view:
        raise AssertionError(f"{name} is in view {remote.status()['view']} after a valid NEW-VIEW")


# --------------------------------------------------------------------------- quorum boundaries

#: Stake-weighted sets with W = 3k: q(W) = 2k + 1, and 2k = ceil(2W/3) is one short.
THIRDS = {
    "W=30000": [10_001, 9_999, 5_000, 5_000],
    "W=3003": [1_000, 1_001, 1_002],
    "W=300000": [50_001, 59_999, 40_000, 30_000, 70_000, 25_000, 25_000],
}


def _exact(scene: Scene, total: int, include: tuple[str, ...] = ()) -> bool:
    try:
        subsets_with_stake(scene, total, include=include)
    except AssertionError:
        return False
    return True


def _thirds_scene(stakes: list[int], label: str) -> Scene:
    """A scene of ``stakes`` whose view-1 leader is in sets of exactly q(W) and q(W) - 1."""

    def fits(scene: Scene) -> bool:
        quorum, leader = scene.validators.quorum, (scene.leader(1),)
        return (
            scene.leader(0) != scene.leader(1)
            and _exact(scene, quorum, leader)
            and _exact(scene, quorum - 1, leader)
        )

    scene = find_scene(stakes, fits, label=label)
    total = scene.validators.total_stake
    assert total % 3 == 0 and scene.validators.quorum == 2 * total // 3 + 1
    return scene


@pytest.mark.req("R2.6", "R2.3")
@pytest.mark.rejects("R2.6")
@pytest.mark.parametrize("stakes", list(THIRDS.values()), ids=list(THIRDS))
def test_new_leader_needs_exactly_q_of_view_changes(
    replica_api: ReplicaAPI, stakes: list[int]
) -> None:
    """The replica leads view 1 and timed out of view 0: VIEW-CHANGEs (its own included) of
    exactly q(W) - 1 = 2k stake give no NEW-VIEW; exactly q(W) = 2k + 1 give one."""
    scene = _thirds_scene(stakes, "vc-quorum")
    name, quorum = scene.leader(1), scene.validators.quorum
    for total, expected in ((quorum - 1, False), (quorum, True)):
        members = subsets_with_stake(scene, total, include=[name])
        remote = scene.replica(replica_api, name, "collector")
        remote.on_timer(1, 0, "view", TIMEOUT_AT)
        found: list[NewView] = []
        for member in members:
            if member != name:
                found += _new_view_sent(
                    remote.on_message(scene.view_change(member, 1).to_wire(), AFTER_TIMEOUT)
                )
        if expected and not found:
            raise AssertionError(
                f"{name} sent no NEW-VIEW holding VIEW-CHANGEs of {members}: {total} stake is "
                f"q(W) of W = {scene.validators.total_stake}"
            )
        if not expected and found:
            raise AssertionError(
                f"{name} sent NEW-VIEW on VIEW-CHANGEs of {members}: {total} stake, one short of "
                f"q(W) = {quorum}"
            )
        if found:
            reason = check_new_view(found[0], scene.validators, DirectSignatureChecker())
            if reason:
                raise AssertionError(f"{name}'s NEW-VIEW is invalid: {reason}")


@pytest.mark.req("R2.6", "R2.3")
@pytest.mark.rejects("R2.6")
@pytest.mark.parametrize("stakes", list(THIRDS.values()), ids=list(THIRDS))
def test_follower_needs_exactly_q_of_view_changes(
    replica_api: ReplicaAPI, stakes: list[int]
) -> None:
    """A NEW-VIEW for view 1 whose VIEW-CHANGEs hold exactly q(W) - 1 = 2k is refused (no
    PREPARE); one holding exactly q(W) = 2k + 1 is followed."""
    scene = _thirds_scene(stakes, "nv-quorum")
    leader, quorum = scene.leader(1), scene.validators.quorum
    name = next(m for m in scene.ids if m not in (leader, scene.leader(0)))
    block = scene.block(leader)
    for total, expected in ((quorum - 1, False), (quorum, True)):
        members = subsets_with_stake(scene, total, include=[leader])
        nv = scene.new_view([scene.view_change(m, 1) for m in members], None, block, 1)
        remote = scene.replica(replica_api, name, "collector")
        prepares = sent(
            remote.on_message(nv.to_wire(), AFTER_TIMEOUT), Prepare, lambda m: m.view == 1
        )
        if expected and not prepares:
            raise AssertionError(
                f"{name} did not follow a NEW-VIEW whose VIEW-CHANGEs ({members}) hold exactly "
                f"q(W) = {quorum}"
            )
        if not expected and prepares:
            raise AssertionError(
                f"{name} followed a NEW-VIEW whose VIEW-CHANGEs ({members}) hold {total}, one "
                f"short of q(W) = {quorum}"
            )


@pytest.mark.req("R2.6", "R2.5")
@pytest.mark.parametrize("mode", ["collector", "broadcast"], ids=str)
def test_claims_that_arrive_before_the_leaders_own_timeout_are_carried(
    replica_api: ReplicaAPI, mode: str
) -> None:
    """The others time out of view 0 first (their clocks ran ahead): the leader of view 1, still
    in view 0 with nothing prepared, gets their VIEW-CHANGEs for view 1, the first two claiming
    the view-0 block D prepared, each with D's prepare certificate and D. Two of four equal
    stakes are more than W/3, so it joins view 1 at once (the join rule) and asks for it too;
    with the third it holds q(W) and must send a NEW-VIEW re-proposing D (spec/consensus.md,
    "View change": the proposal is the block of the highest claim).

    Written from the module campaign of aethel/consensus/viewchange.py (survivor
    ``ViewChangeRules._claim_signed:ReplaceComparisonOperator_IsNot_Is:3b5661e9``: a claim
    for a view whose VIEW-CHANGEs nobody counted yet raised out of the replica): every case
    that carried a claim to a leader had it time out first."""
    scene = find_scene(FOUR, lambda s: s.leader(0) != s.leader(1), label="early-claims")
    name, first = scene.leader(1), scene.leader(0)
    others = scene.others(name)
    block = scene.block(first)
    certificate = scene.prepare_certificate(scene.ids[:3], block.digest)
    new_views: list[NewView] = []
    remote = scene.replica(replica_api, name, mode)
    for index, member in enumerate(others):
        claim = (certificate, block) if index < 2 else (None, None)
        vc = scene.view_change(member, 1, *claim)
        new_views += _new_view_sent(remote.on_message(vc.to_wire(), AFTER_TIMEOUT // 2))
    expect_equal(remote.status()["view"], 1, f"{name}'s view once {others} asked for view 1")
    proposed = [nv.pre_prepare.digest.hex()[:16] for nv in new_views if nv.view == 1]
    expect_equal(
        proposed,
        [block.digest.hex()[:16]],
        f"the blocks {name}'s NEW-VIEWs for view 1 propose, two of the VIEW-CHANGEs claiming "
        "D prepared in view 0",
    )


@pytest.mark.req("R2.6", "R4.3")
@pytest.mark.rejects("R4.3")
def test_a_strangers_view_change_with_a_claim_counts_for_nothing(replica_api: ReplicaAPI) -> None:
    """A key outside the validator set signs a VIEW-CHANGE for view 1 claiming the view-0 block
    D, with D's genuine prepare certificate and D, and sends it to the leader of view 1, which
    timed out of view 0. It holds no stake (R4.3): with one member's VIEW-CHANGE besides the
    leader's own (two of four) no NEW-VIEW follows; with a second member's, q(W), the NEW-VIEW
    holds the three members' VIEW-CHANGEs only.

    Written from the module campaign of aethel/consensus/viewchange.py (survivors of
    ``ViewChangeRules._claim_signed``'s membership test: a stranger's claim checked with a
    member's key that does not exist raised out of the replica)."""
    scene = find_scene(FOUR, lambda s: s.leader(0) != s.leader(1), label="stranger-claim")
    name, first = scene.leader(1), scene.leader(0)
    block = scene.block(first)
    certificate = scene.prepare_certificate(scene.ids[:3], block.digest)
    forged = ViewChange.create(STRANGER, 1, 1, certificate, block)
    remote = scene.replica(replica_api, name, "broadcast")
    remote.on_timer(1, 0, "view", TIMEOUT_AT)
    new_views = _new_view_sent(remote.on_message(forged.to_wire(), AFTER_TIMEOUT))
    members = scene.others(name)[:2]
    new_views += _new_view_sent(
        remote.on_message(scene.view_change(members[0], 1).to_wire(), AFTER_TIMEOUT)
    )
    if new_views:
        raise AssertionError(
            f"{name} sent a NEW-VIEW for view 1 on its own VIEW-CHANGE, {members[0]}'s and a "
            "stranger's (v999, no stake): two of four members are not q(W)"
        )
    new_views = _new_view_sent(
        remote.on_message(scene.view_change(members[1], 1).to_wire(), AFTER_TIMEOUT)
    )
    holders = [sorted(vc.validator for vc in nv.view_changes) for nv in new_views]
    expect_equal(
        holders,
        [sorted([name, *members])],
        f"the VIEW-CHANGEs of {name}'s NEW-VIEW for view 1 (a stranger's among those it got)",
    )


@pytest.mark.req("R2.6")
@pytest.mark.parametrize("stakes", list(THIRDS.values()), ids=list(THIRDS))
def test_a_view_is_established_by_exactly_q_of_view_changes(
    replica_api: ReplicaAPI, stakes: list[int]
) -> None:
    """spec/consensus.md, "View change": a view v > 0 is established when validators holding
    q(W) stake asked for v or a later view, and only then does its timer start. The replica
    (broadcast mode, not the leader of view 1) timed out of view 0 and asked for view 1; the
    VIEW-CHANGEs for view 1 of other members bring the stake asking for it, its own included,
    to exactly q(W) - 1 = 2k (no view timer for view 1) or exactly q(W) = 2k + 1 (the timer of
    view 1 starts). No NEW-VIEW is sent, so only the count can establish the view.

    Written from the module campaign of aethel/consensus/viewchange.py (survivor
    ``ViewChangeRules._synchronise_view:ReplaceComparisonOperator_GtE_Gt:8083f67e``: a view
    established only above q(W)); the quorum cases above count VIEW-CHANGEs at a leader and in
    a NEW-VIEW, not towards a follower's timer."""

    def follower(scene: Scene) -> str | None:
        """A member not leading view 1 in sets of exactly q(W) and q(W) - 1."""
        quorum = scene.validators.quorum
        return next(
            (
                m
                for m in scene.ids
                if m != scene.leader(1)
                and _exact(scene, quorum, (m,))
                and _exact(scene, quorum - 1, (m,))
            ),
            None,
        )

    scene = find_scene(stakes, lambda s: follower(s) is not None, label="established")
    quorum, name = scene.validators.quorum, follower(scene)
    assert name is not None
    for total, established in ((quorum - 1, False), (quorum, True)):
        members = subsets_with_stake(scene, total, include=[name])
        remote, interval = _started(scene, replica_api, name)
        resend = view_deadline(remote.on_timer(1, 0, "view", interval), 1, 1)
        outputs: list[Any] = []
        for member in members:
            if member != name:
                vc = scene.view_change(member, 1)
                outputs += remote.on_message(vc.to_wire(), interval + 1)
        # The re-send timer of a view not established fires timeout(latency, 0) after the
        # timeout; the view's own timer runs timeout(latency, 1) from its establishment.
        timer = view_deadline(outputs, 1, 1)
        deadline = timer if timer is not None and (resend is None or timer > resend) else None
        if established and deadline is None:
            raise AssertionError(
                f"{name} started no timer for view 1 when {members} ({total} stake, exactly q(W) "
                f"of W = {scene.validators.total_stake}) asked for it: view 1 is established"
            )
        if not established and deadline is not None:
            raise AssertionError(
                f"{name} started the timer of view 1 when {members} asked for it: {total} stake, "
                f"one short of q(W) = {quorum}, does not establish the view"
            )


@pytest.mark.req("R2.6", "R6.5")
def test_a_new_view_for_an_established_view_does_not_restart_its_timer(
    replica_api: ReplicaAPI,
) -> None:
    """spec/consensus.md, "View change": a view becomes established once q(W) stake asked for it
    or once a NEW-VIEW for it is accepted, and the validator then starts the view's timer, of
    duration timeout(latency, v). The replica (broadcast mode, four equal stakes) timed out of
    view 0 and two others' VIEW-CHANGEs establish view 1 (its timer starts); the leader's
    NEW-VIEW arrives later and is followed (a PREPARE), but the view was established already:
    its timer keeps the deadline it got, or a view whose NEW-VIEW comes late would last longer
    than its timeout.

    Written from the module campaign of aethel/consensus/viewchange.py (survivor
    ``ViewChangeRules._enter_new_view:ReplaceComparisonOperator_Gt_GtE:1b9bf3ad``: the timer
    started again by the NEW-VIEW of the view the replica is in)."""
    scene = find_scene(FOUR, lambda s: s.leader(0) != s.leader(1), label="established-nv")
    leader = scene.leader(1)
    name = next(m for m in scene.ids if m not in (scene.leader(0), leader))
    askers = scene.others(name)[:2]
    remote, interval = _started(scene, replica_api, name)
    remote.on_timer(1, 0, "view", interval)
    outputs: list[Any] = []
    for member in askers:
        outputs += remote.on_message(scene.view_change(member, 1).to_wire(), interval + 1)
    established = view_deadline(outputs, 1, 1)
    if established is None:
        raise AssertionError(
            f"control: {name} started no timer for view 1 when {askers} asked for it with it "
            "(three of four: q(W))"
        )
    changes = [scene.view_change(m, 1) for m in (name, *askers)]
    new_view = scene.new_view(changes, None, scene.block(leader), 1)
    outputs = remote.on_message(new_view.to_wire(), interval + MS)
    if not sent(outputs, Prepare, lambda m: m.view == 1):
        raise AssertionError(f"control: {name} did not follow {leader}'s NEW-VIEW for view 1")
    again = view_deadline(outputs, 1, 1)
    if again is not None and again != established:
        raise AssertionError(
            f"{name}'s view 1 was established at {interval + 1} ns with its timer at "
            f"{established} ns; the NEW-VIEW at {interval + MS} ns moved it to {again} ns: a "
            "view's timer starts once, when it becomes established (R2.6)"
        )


@pytest.mark.req("R2.6", "R6.5")
def test_a_join_that_completes_q_starts_the_views_timer(replica_api: ReplicaAPI) -> None:
    """Of four equal stakes, two members ask for view 1 while the replica (broadcast mode) is
    still in view 0: it joins view 1 and asks for it too, and with its own request three of four
    asked, q(W): view 1 is established at once, so its timer is the view's, timeout(latency, 1),
    not the re-send period timeout(latency, 0) of a view still waited for (spec/consensus.md,
    "View change").

    Written from the module campaign of aethel/consensus/viewchange.py (survivor
    ``ViewChangeRules._enter_view_change:ReplaceAndWithOr:d923f7af``: the re-send timer set
    over the timer of a view the join had just established, so the view timed out early)."""
    scene = make_scene(list(FOUR), epoch="join-establishes")
    name, askers = scene.ids[0], scene.ids[1:3]
    remote, interval = _started(scene, replica_api, name)
    at = interval // 2
    outputs: list[Any] = []
    for member in askers:
        outputs += remote.on_message(scene.view_change(member, 1).to_wire(), at)
    if remote.status()["view"] != 1:
        raise AssertionError(f"control: {name} did not join view 1 when {askers} asked for it")
    deadline = view_deadline(outputs, 1, 1)
    if deadline is None or deadline <= at + interval:
        raise AssertionError(
            f"{name} joined view 1 at {at} ns, established by its own request and {askers}'s "
            f"(q(W)), and set its timer for {deadline} ns: an established view's timer runs "
            f"timeout(latency, 1), longer than the re-send period {interval} ns"
        )


@pytest.mark.req("R2.6")
@pytest.mark.parametrize("timed_out", [False, True], ids=["in-view-0", "after-its-timeout"])
def test_prepares_that_came_before_the_new_view_count_once_it_is_followed(
    replica_api: ReplicaAPI, timed_out: bool
) -> None:
    """The replica (broadcast mode, view 0) gets two members' PREPAREs for the view-1 proposal
    before the NEW-VIEW that carries it (they left view 0 earlier); then its own view 0 times out
    (``after-its-timeout``) or not (``in-view-0``). Messages of a later view wait for it; once the
    NEW-VIEW is followed, they count: with its own PREPARE, q(W) of four prepared the block, and
    it sends its COMMIT.

    Written from the module campaign of aethel/consensus/viewchange.py (survivors ``ViewChange
    Rules._on_new_view:ZeroIterationForLoop:4895baf2`` and ``ViewChangeRules._enter_view_change:
    RemoveStatement:9fed0f8a``: the messages waiting for the view forgotten when its NEW-VIEW
    arrives, or taken and dropped when the replica's own timeout enters the view)."""
    scene = find_scene(FOUR, lambda s: s.leader(0) != s.leader(1), label="early-prepares")
    leader = scene.leader(1)
    name = next(m for m in scene.ids if m not in (scene.leader(0), leader))
    voters = scene.others(name)[:2]
    block = scene.block(leader)
    remote = scene.replica(replica_api, name, "broadcast")
    commits = []
    for voter in voters:
        vote = scene.prepare(voter, block.digest, view=1)
        commits += sent(remote.on_message(vote.to_wire(), MS), Commit)
    if timed_out:
        remote.on_timer(1, 0, "view", TIMEOUT_AT)
    changes = [scene.view_change(m, 1) for m in scene.others(name)]
    outputs = remote.on_message(scene.new_view(changes, None, block, 1).to_wire(), AFTER_TIMEOUT)
    if not sent(outputs, Prepare, lambda m: m.view == 1 and m.digest == block.digest):
        raise AssertionError(f"control: {name} did not follow {leader}'s NEW-VIEW for view 1")
    commits += sent(outputs, Commit, lambda m: m.view == 1 and m.digest == block.digest)
    if not commits:
        raise AssertionError(
            f"{name} followed the NEW-VIEW for view 1 and sent its PREPARE, but no COMMIT: "
            f"{voters}'s PREPAREs for that block came before the NEW-VIEW and, with its own, "
            "hold q(W)"
        )


@pytest.mark.req("R2.6")
@pytest.mark.rejects("R2.6")
def test_a_new_view_for_a_view_the_replica_left_gets_no_vote(replica_api: ReplicaAPI) -> None:
    """The replica followed a NEW-VIEW for view 2; a valid NEW-VIEW for view 1 arrives after it
    (delayed). spec/consensus.md: a validator accepts a NEW-VIEW "for a view at or above its
    own" only, and stops voting in a view it left: no PREPARE for the view-1 proposal.

    Written from the module campaign of aethel/consensus/viewchange.py (survivors of
    ``ViewChangeRules._on_new_view``'s ``nv.height < self.height or nv.view < self.view or ...``
    with ``and``: a NEW-VIEW for an earlier view followed)."""
    scene = find_scene(
        FOUR, lambda s: len({s.leader(0), s.leader(1), s.leader(2)}) == 3, label="left-view"
    )
    name = next(
        m for m in scene.ids if m not in (scene.leader(0), scene.leader(1), scene.leader(2))
    )
    remote = scene.replica(replica_api, name, "broadcast")
    proposals = {}
    for view in (2, 1):
        leader = scene.leader(view)
        block = scene.block(leader)
        changes = [scene.view_change(m, view) for m in scene.others(name)]
        new_view = scene.new_view(changes, None, block, view)
        proposals[view] = sent(
            remote.on_message(new_view.to_wire(), view * MS),
            Prepare,
            lambda m, v=view, d=block.digest: m.view == v and m.digest == d,
        )
    if not proposals[2]:
        raise AssertionError(f"control: {name} did not follow the NEW-VIEW for view 2")
    if proposals[1]:
        raise AssertionError(
            f"{name} in view 2 sent PREPARE for the proposal of a NEW-VIEW for view 1, a view "
            "below its own (R2.6)"
        )


def _join_roles(scene: Scene) -> tuple[str, list[str], list[str]]:
    """A replica and two sets of the others holding exactly W/3 and W/3 + 1."""
    third = scene.validators.total_stake // 3
    for name in scene.ids:
        try:
            low = subsets_with_stake(scene, third, exclude=[name])
            high = subsets_with_stake(scene, third + 1, exclude=[name])
        except AssertionError:
            continue
        return name, low, high
    raise AssertionError("no member leaves W/3 and W/3 + 1 to the others (suite bug)")


@pytest.mark.req("R2.6", "R2.5")
@pytest.mark.rejects("R2.6")
@pytest.mark.parametrize(
    "stakes", [THIRDS["W=30000"], THIRDS["W=300000"]], ids=["W=30000", "W=300000"]
)
def test_a_third_of_the_stake_does_not_pull_a_validator_into_a_later_view(
    replica_api: ReplicaAPI, stakes: list[int]
) -> None:
    """VIEW-CHANGEs for view 1 from exactly W/3 leave the replica in view 0, sending no
    VIEW-CHANGE of its own; from W/3 + 1 (more than a third: one of them is honest) it joins
    view 1 at once (spec/consensus.md, "View change": the join rule)."""
    scene = _thirds_scene(stakes, "join")
    name, low, high = _join_roles(scene)
    for members, joins in ((low, False), (high, True)):
        remote = scene.replica(replica_api, name, "broadcast")
        own: list[Message] = []
        for member in members:
            own += sent(
                remote.on_message(scene.view_change(member, 1).to_wire(), AFTER_TIMEOUT),
                ViewChange,
                lambda m: m.validator == name,
            )
        view = remote.status()["view"]
        stake = sum(scene.validators.stake_of(m) for m in members)
        if joins and (view != 1 or not own):
            raise AssertionError(
                f"{name} did not join view 1 when {members} ({stake} of W = "
                f"{scene.validators.total_stake}, more than W/3) asked for it (view {view})"
            )
        if not joins and (view != 0 or own):
            raise AssertionError(
                f"{name} moved to view {view} when {members} holding exactly W/3 = {stake} asked "
                "for view 1; only more than W/3 may pull it"
            )


@pytest.mark.req("R2.6", "R2.5")
@pytest.mark.parametrize("order", ["near-first", "far-first"], ids=str)
def test_a_validator_joins_the_smallest_later_view_asked_for(
    replica_api: ReplicaAPI, order: str
) -> None:
    """Of four equal stakes, one member asks for view 1 and another for view 9 (a Byzantine
    validator may name any view): together they hold more than W/3, so the replica joins a
    later view at once, and it must be view 1, the smallest asked for (spec/consensus.md, "View
    change": it "joins the smallest of those views"; one of them is honest, so the view joined
    is at most an honest validator's). Joining view 9 would let one liar drag honest validators
    far ahead."""
    scene = make_scene(list(FOUR), epoch="join-smallest")
    name, near, far = scene.ids[0], scene.ids[1], scene.ids[2]
    asks = [(near, 1), (far, 9)] if order == "near-first" else [(far, 9), (near, 1)]
    remote = scene.replica(replica_api, name, "broadcast")
    own: list[Message] = []
    for member, view in asks:
        own += sent(
            remote.on_message(scene.view_change(member, view).to_wire(), AFTER_TIMEOUT),
            ViewChange,
            lambda m: m.validator == name,
        )
    view = remote.status()["view"]
    asked = sorted({m.view for m in own if isinstance(m, ViewChange)})
    if view != 1 or asked != [1]:
        raise AssertionError(
            f"{name} is in view {view} and asked for {asked} after {near} asked for view 1 and "
            f"{far} for view 9 ({order}): it must join view 1, the smallest asked for"
        )


@pytest.mark.req("R2.6", "R2.5")
def test_one_validator_asking_for_two_views_counts_once(replica_api: ReplicaAPI) -> None:
    """Of four equal stakes, one member asks for view 1 and then for view 2: a request for a later
    view counts for every earlier one, so the replica keeps that member's highest view only, and
    a quarter of the stake is not more than W/3: the replica stays in view 0 and asks for
    nothing. A second member asking for view 1 then makes it join view 1."""
    scene = make_scene(list(FOUR), epoch="one-entry")
    name, asker, second = scene.ids[0], scene.ids[1], scene.ids[2]
    remote = scene.replica(replica_api, name, "broadcast")
    own: list[Message] = []
    for view in (1, 2):
        own += sent(
            remote.on_message(scene.view_change(asker, view).to_wire(), AFTER_TIMEOUT),
            ViewChange,
            lambda m: m.validator == name,
        )
    if remote.status()["view"] != 0 or own:
        raise AssertionError(
            f"{name} left view 0 (now in view {remote.status()['view']}) when only {asker}, a "
            "quarter of the stake, asked for views 1 and 2: one validator counts once"
        )
    remote.on_message(scene.view_change(second, 1).to_wire(), AFTER_TIMEOUT)
    expect_equal(remote.status()["view"], 1, f"{name}'s view once {second} asked for view 1 too")
