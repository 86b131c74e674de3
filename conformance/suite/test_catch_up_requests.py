"""Catching up a validator that missed a commit, message by message (R3.5).

spec/consensus.md, "Catching up": a replica that sees validators holding more than W/3 of the
stake at later heights sends them its VIEW-CHANGE of its height, and repeats it at the pace of
timeout(latency, 0) for as long as later heights' messages reach it (answers lost before GST
are asked for again, not waited out until its own view timer); a validator past a height
answers a VIEW-CHANGE of that height with the height's commit certificate, preceded by its
latest commit certificate when it is more than one height past it, at most once per
timeout(latency, 0) per asker. Both paces are checked against the timeout the replica itself
sets for view 0, so an implementation whose latency estimate is not the floor's is judged by
its own.

Only the implementation's replica runs: the case plays the other validators, signs their
messages and keeps the virtual clock. It fires only the timers its scenario names, so a
request the replica sends later on answers a message the case handed it, not a timer.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from aethel.consensus.events import Broadcast, RequestSync, Send
from aethel.consensus.messages import Commit, CommitCertificate, PrePrepare, ViewChange
from aethel.consensus.signing import KeySigner
from aethel.encoding import KeyPair
from conformance.adapters.api import ReplicaAPI
from conformance.checks import Inconclusive, expect_equal
from conformance.suite.chains import SlashedChain, drive_to, fresh_replica, slashed_chain
from conformance.suite.scene import (
    MS,
    Scene,
    expect_signatures_counted,
    find_scene,
    parsed,
    sent,
    view_deadline,
)
from conformance.testvectors import trace_cases

pytestmark = pytest.mark.capability("replica")

#: The view the lagging replica reaches before it falls behind: its timer is 2^3 view-0
#: timeouts long, so a request repeated at the view-0 pace is due well before it runs out.
HIGH_VIEW = 3
#: Later heights' messages reach the lagging replica this many times per view-0 timeout.
MESSAGES_PER_INTERVAL = 4


def _requests(outputs: object, height: int, ahead: set[str]) -> list[str]:
    """Return to whom ``outputs`` send a VIEW-CHANGE of ``height`` (a broadcast reaches every
    validator seen ahead)."""
    found: list[str] = []
    for out in parsed(outputs):
        if not isinstance(out, Send | Broadcast):
            continue
        if not isinstance(out.message, ViewChange) or out.message.height != height:
            continue
        if isinstance(out, Broadcast):
            found.extend(sorted(ahead))
        elif out.to in ahead:
            found.append(out.to)
    return found


def _identity(certificate: CommitCertificate) -> tuple[int, str, str]:
    """Return what a certificate certifies: height, block digest and post-state root (short)."""
    return certificate.height, certificate.digest.hex()[:16], certificate.post_root.hex()[:16]


def _lagging_scene(seed: int) -> tuple[Scene, str]:
    """Return four equal members and one, the replica under test, that leads none of the views
    0 .. HIGH_VIEW of height 1 (the leaders are drawn from the epoch seed: the run's seed picks
    the draw)."""

    def follower(scene: Scene) -> str | None:
        leaders = {scene.leader(v) for v in range(HIGH_VIEW + 1)}
        return next((m for m in scene.ids if m not in leaders), None)

    scene = find_scene([10_000] * 4, lambda s: follower(s) is not None, label=f"lag/{seed}")
    name = follower(scene)
    assert name is not None
    return scene, name


def _climb_to_high_view(scene: Scene, remote: Any, name: str, interval: int) -> tuple[int, int]:
    """Time out views 0 .. HIGH_VIEW - 1 at ``remote`` and hand it each next view's NEW-VIEW
    (VIEW-CHANGEs of the three others): it ends in view HIGH_VIEW with a VIEW-CHANGE of its own.
    Return the time it entered view HIGH_VIEW and the deadline of that view's timer."""
    now, deadline = 0, interval
    others = scene.others(name)
    for view in range(1, HIGH_VIEW + 1):
        now = deadline
        remote.on_timer(1, view - 1, "view", now)
        changes = [scene.view_change(m, view) for m in others]
        new_view = scene.new_view(changes, None, scene.block(scene.leader(view)), view)
        now += MS
        found = view_deadline(remote.on_message(new_view.to_wire(), now), 1, view)
        status = remote.status()
        if (status["height"], status["view"]) != (1, view) or found is None:
            raise AssertionError(
                f"{name} did not follow the NEW-VIEW of height 1 view {view} at {now} ns with a "
                f"view timer (status {status}, timer {found})"
            )
        deadline = found
    return now, deadline


@pytest.mark.req("R3.5")
def test_a_lagging_replica_asks_again_while_later_heights_messages_reach_it(
    replica_api: ReplicaAPI, seed: int
) -> None:
    """The replica under test is at height 1, view 3 (its own VIEW-CHANGE sent, a view timer
    of 8 view-0 timeouts set) when two of its three peers (half the stake) show up at height
    2. It asks them for height 1's certificate; the answers never come. Their later messages
    keep reaching it (VIEW-CHANGEs of height 2, one view higher each, four per view-0 timeout):
    it must ask again before its view timer runs out, since no timer of its fires here, and at
    the pace of timeout(latency, 0): with the first of those messages that arrives one view-0
    timeout after its first request (the survivor ``compute_timeout(..., 0)`` -> ``(..., 1)`` of
    the syncing.py campaign, at line 174, asked again only after two)."""
    scene, name = _lagging_scene(seed)
    remote = scene.replica(replica_api, name, "collector", now=None)
    interval = view_deadline(remote.start(0), 1, 0)
    if interval is None or interval <= 0:
        raise AssertionError(f"{name} set no view-0 timer of height 1 when started at 0 ns")
    entered, deadline = _climb_to_high_view(scene, remote, name, interval)
    ahead = scene.others(name)[:2]
    seen = set(ahead)
    case = (
        f"scene lag/{seed} (members {scene.ids}, replica {name}, ahead {ahead}), view-0 "
        f"timeout {interval} ns, view {HIGH_VIEW} entered at {entered} ns with its timer at "
        f"{deadline} ns"
    )
    start = entered + MS
    if deadline <= start + interval:
        raise Inconclusive(
            f"{case}: the timer of view {HIGH_VIEW} runs out within one view-0 timeout of the "
            "request, so a repeated request cannot be told from the view's timeout (R2.6 wants "
            f"{2**HIGH_VIEW} view-0 timeouts)"
        )
    first: list[str] = []
    for member in ahead:
        later = scene.view_change(member, 1, height=2)
        first += _requests(remote.on_message(later.to_wire(), start), 1, seen)
    if sorted(set(first)) != sorted(ahead):
        raise AssertionError(
            f"{case}: at {start} ns, with validators holding > W/3 seen at height 2, {name} "
            f"sent its VIEW-CHANGE of height 1 to {sorted(set(first))}, not to each of them"
        )
    step = interval // MESSAGES_PER_INTERVAL
    again: list[tuple[int, str]] = []
    view, now = 2, start + step
    while now < deadline and not again:
        member = ahead[view % 2]
        later = scene.view_change(member, view, height=2)
        again += [(now, to) for to in _requests(remote.on_message(later.to_wire(), now), 1, seen)]
        view, now = view + 1, now + step
    if remote.status()["height"] != 1:
        raise Inconclusive(f"{case}: {name} left height 1 without a certificate")
    if not again:
        raise AssertionError(
            f"{case}: {name} asked for height 1's certificate at {start} ns and never again; "
            f"{view - 2} later VIEW-CHANGEs of height 2 reached it, one every {step} ns until "
            f"{now - step} ns, and its view timer runs out at {deadline} ns"
        )
    if again[0][0] > start + interval + step:
        raise AssertionError(
            f"{case}: {name} asked for height 1's certificate at {start} ns and again only at "
            f"{again[0][0]} ns, though later VIEW-CHANGEs reached it every {step} ns from "
            f"{start + step} ns: R3.5 repeats the request at the pace of timeout(latency, 0) "
            f"({interval} ns), so the first message after that timeout brings it"
        )


#: One member (v000) holds exactly a third of the stake, each of the others a sixth.
THIRD_AND_SIXTHS = (20_000, 10_000, 10_000, 10_000, 10_000)


#: One vote of a hint: the member who signs it (None: a key outside the set, ``v999``) and what is
#: wrong with it ("": nothing; "another-block": its signature is over another block of that
#: height, and a certificate's wire form carries one target, so it is a bad signature;
#: "zero-signature": 64 zero bytes where its signature goes).
HintVote = tuple[int | None, str]

#: variant -> (the members' stakes, the votes of the certificate of height 3 in their order,
#: whether it is a hint worth a sync request). The replica under test is the last member; a
#: quarter is one member of FOUR and a third is v000 of THIRD_AND_SIXTHS.
V1_HINTS: dict[str, tuple[tuple[int, ...], tuple[HintVote, ...], bool]] = {
    "a-quarter-of-the-stake": ((10_000,) * 4, ((0, ""),), False),
    "half-the-stake": ((10_000,) * 4, ((0, ""), (1, "")), True),
    "exactly-a-third": (THIRD_AND_SIXTHS, ((0, ""),), False),
    "one-unit-over-a-third": ((20_001, 10_000, 10_000, 10_000, 10_000), ((0, ""),), True),
    "one-member-twice": ((10_000,) * 4, ((0, ""), (0, "")), False),
    "one-signature-over-another-block": ((10_000,) * 4, ((0, ""), (1, "another-block")), False),
    "a-non-members-vote-first": ((10_000,) * 4, ((None, ""), (0, ""), (1, "")), True),
    "zero-signatures": ((10_000,) * 4, ((0, "zero-signature"), (1, "zero-signature")), False),
}


@pytest.mark.req("R3.5", "R3.1", "R7.5", "T22.2e")
@pytest.mark.parametrize("variant", list(V1_HINTS), ids=str)
def test_a_later_certificate_is_a_hint_only_over_a_third(
    replica_api: ReplicaAPI, variant: str
) -> None:
    """spec/consensus.md, Catching up: "A certificate of a later height signed by more than W/3
    of the stake it knows is only a hint that the chain has moved on (one signer is honest),
    worth a fetch, never trust." The replica under test, at height 1, gets a commit certificate
    of height 3 (of a block it cannot know) and must ask for a sync to height 3 exactly when
    distinct members holding more than W/3 signed it (V1_HINTS: a quarter, half, exactly a
    third, one unit over a third; a member counted once however often it signs; a non-member's
    vote or a bad signature (zeros, or a signature over another block) counting for nobody
    (R7.5), and the votes after a non-member's still counting). Its performance counters never
    decrease and, when it asks, count at least the signatures it needed (T22.2e).

    Written from the module campaign of aethel/consensus/syncing.py (survivor
    ``SyncRules._is_catch_up_hint:RemoveRaiseOrReturn`` at line 148: every later certificate
    taken as a hint) and of aethel/consensus/catchup.py (``check_catch_up_hint``: the stake
    started at 1 or -1, ``<=`` read as ``<``, the duplicate and signature checks removed,
    ``continue`` read as ``break``); the version-2 form is test_replica_v2.py's
    test_a_later_version_2_certificate_is_a_hint_only_over_a_third."""
    stakes, votes, worth = V1_HINTS[variant]
    scene = find_scene(stakes, lambda s: True, label="v1-hint")
    name = scene.ids[-1]
    digest, root = bytes([9]) * 32, bytes([8]) * 32
    stranger = KeySigner("v999", KeyPair.from_seed(bytes([99]) * 32))
    signed = []
    for member, flaw in votes:
        signer = stranger if member is None else scene.signers[scene.ids[member]]
        target = bytes([7]) * 32 if flaw == "another-block" else digest
        vote = Commit.create(signer, 3, 0, target, root)
        signed.append(
            dataclasses.replace(vote, signature=bytes(64)) if flaw == "zero-signature" else vote
        )
    remote = scene.replica(replica_api, name)
    before = remote.get_performance_stats().get("signatures_checked")
    certificate = CommitCertificate(3, 0, digest, root, tuple(signed))
    outputs = parsed(remote.on_message(certificate.to_wire(), MS))
    asked = [out.height for out in outputs if isinstance(out, RequestSync)]
    what = f"a commit certificate of height 3 ({variant.replace('-', ' ')}; stakes {stakes})"
    expect_equal(asked, [3] if worth else [], f"sync requests after {what}")
    good = sum(1 for member, flaw in votes if member is not None and not flaw)
    expect_signatures_counted(remote, before, good if worth else 0, what)


@pytest.mark.req("R3.5", "R2.6")
def test_a_later_heights_prepare_certificate_moves_no_replica(replica_api: ReplicaAPI) -> None:
    """The replica under test, at height 1 in view 0 of four equal members, gets a prepared
    certificate of height 2 signed by three of them (a collector ahead broadcasts one): it is no
    vote of any member, so it proves nothing about height 1 and counts nobody as seen ahead; the
    replica takes it without an error, asks no one for a certificate and stays in view 0.

    Written from the module campaign of aethel/consensus/syncing.py (survivor
    ``SyncRules._signed_sender:RemoveRaiseOrReturn`` at line 197: a message that is not a vote
    or a VIEW-CHANGE read as one; a certificate has no signer, and the replica raised)."""
    scene = find_scene([10_000] * 4, lambda s: True, label="later-prepared")
    name = scene.ids[3]
    remote = scene.replica(replica_api, name)
    later = scene.prepare_certificate(scene.ids[:3], bytes([7]) * 32, height=2)
    outputs = remote.on_message(later.to_wire(), MS)
    asked = _requests(outputs, 1, set(scene.ids))
    status = remote.status()
    if asked or (status["height"], status["view"]) != (1, 0):
        raise AssertionError(
            f"{name} (height 1, view 0) got a prepared certificate of height 2 and sent its "
            f"VIEW-CHANGE of height 1 to {asked} (now height {status['height']}, view "
            f"{status['view']}): a certificate is no member's message of that height"
        )


@pytest.mark.req("R3.5")
def test_a_third_of_the_stake_seen_ahead_is_not_enough_to_ask(replica_api: ReplicaAPI) -> None:
    """The replica under test, at height 1 in view 0, sees a VIEW-CHANGE of height 2 from v000,
    which holds exactly W/3: that is no proof that height 1 committed (R3.5 asks for more than
    W/3, which includes an honest validator), so it must neither ask for the certificate nor
    give up its view. A VIEW-CHANGE of height 2 from one more member (W/2 seen ahead) must then
    make it ask both (the control of the scene), with its VIEW-CHANGE for view 1: it gives up
    its view for the next one, never runs views ahead (survivor ``_start_view_change(self.view
    + 1`` -> ``+ 2`` at line 181).

    Written from the module campaign of aethel/consensus/syncing.py (survivor
    ``SyncRules._note_ahead:ReplaceComparisonOperator_LtE_Lt``: ``3 * stake <= W`` -> ``<``)."""

    def follower(scene: Scene) -> str | None:
        leaders = {scene.leader(v) for v in range(3)}
        return next((m for m in scene.ids[1:] if m not in leaders), None)

    scene = find_scene(THIRD_AND_SIXTHS, lambda s: follower(s) is not None, label="third-ahead")
    name = follower(scene)
    assert name is not None
    other = next(m for m in scene.others(name, "v000"))
    remote = scene.replica(replica_api, name, "collector", now=None)
    interval = view_deadline(remote.start(0), 1, 0)
    if interval is None or interval <= 0:
        raise AssertionError(f"{name} set no view-0 timer of height 1 when started at 0 ns")
    now = interval // 4
    seen = {"v000", other}
    outputs = remote.on_message(scene.view_change("v000", 1, height=2).to_wire(), now)
    early = _requests(outputs, 1, seen)
    status = remote.status()
    if early or status["view"] != 0:
        raise AssertionError(
            f"{name} (height 1, view 0) saw a VIEW-CHANGE of height 2 from v000, holding exactly "
            f"a third of the stake {list(THIRD_AND_SIXTHS)}, and sent its VIEW-CHANGE of height "
            f"1 to {early} (now in view {status['view']}): R3.5 asks for height 1's certificate "
            "only once validators holding more than W/3 are seen at later heights"
        )
    outputs = remote.on_message(scene.view_change(other, 1, height=2).to_wire(), now + MS)
    asked = _requests(outputs, 1, seen)
    if sorted(set(asked)) != sorted(seen):
        raise AssertionError(
            f"control: {name} saw VIEW-CHANGEs of height 2 from v000 and {other} (half the "
            f"stake) and sent its VIEW-CHANGE of height 1 to {sorted(set(asked))}, not to both "
            "(R3.5; the case cannot judge the boundary)"
        )
    views = sorted({m.view for m in sent(outputs, ViewChange, lambda m: m.height == 1)})
    expect_equal(
        views,
        [1],
        f"views of the VIEW-CHANGEs of height 1 {name} sent from view 0 to ask for the "
        "certificate (it gives up its view for the next one, never runs views ahead)",
    )


@pytest.mark.req("R3.5")
@pytest.mark.parametrize("asked", [1, 2, 3], ids=lambda h: f"height-{h}")
def test_a_validator_heights_ahead_answers_with_its_latest_certificate_first(
    replica_api: ReplicaAPI, asked: int
) -> None:
    """The replica under test committed heights 1-3 (the real chain of
    :func:`conformance.suite.chains.slashed_chain`) and is at height 4 when v002 sends it a
    VIEW-CHANGE of height ``asked``: its answer is the certificate of height 3, its latest,
    then that of height ``asked``. Asked for height 3, one height behind it, it answers with
    that certificate alone, once (the latest goes first only "when it is more than one height
    past"; written from the syncing.py campaign's survivor ``SyncRules._help_lagging``
    ``self.height - 1 > height`` -> ``>=``, which sent it twice)."""
    chain = slashed_chain(trace_cases.FIVE)
    name, asker, now = "v004", "v002", 10**9
    remote = fresh_replica(replica_api, chain, name)
    drive_to(remote, chain, 4, now)
    stale = ViewChange.create(chain.signers[asker], asked, 1, None, None)
    answer = [
        out.message
        for out in parsed(remote.on_message(stale.to_wire(), now + MS))
        if isinstance(out, Send | Broadcast)
        and (isinstance(out, Broadcast) or out.to == asker)
        and isinstance(out.message, CommitCertificate)
    ]
    got = [_identity(c) for c in answer]
    latest, own = (_identity(chain.commits[h - 1].certificate) for h in (3, asked))
    if asked == 3:
        expect_equal(
            got,
            [own],
            f"{name} at height 4 (heights 1-3 committed): commit certificates (height, digest, "
            f"post-state root) answering {asker}'s VIEW-CHANGE of height 3, one height behind",
        )
        return
    if latest not in got or own not in got or got.index(latest) > got.index(own):
        raise AssertionError(
            f"{name} at height 4 (heights 1-3 committed) answered {asker}'s VIEW-CHANGE of "
            f"height {asked}, view 1 with the commit certificates (height, digest, post-state "
            f"root) {got}; R3.5 wants its latest, {latest}, before the asked height's, {own}"
        )


@pytest.mark.req("R7.5", "R3.5")
@pytest.mark.rejects("R7.5")
@pytest.mark.parametrize("forgery", ["another-members-signature", "zero-signature", "non-members"])
def test_forged_messages_of_a_later_height_move_no_replica(
    replica_api: ReplicaAPI, seed: int, forgery: str
) -> None:
    """The replica under test is at height 1, view 0 when VIEW-CHANGEs of height 2 arrive that
    name two of its three peers (half the stake, more than W/3) but that they did not sign: one
    carries the other's signature, or 64 zero bytes. A message with a bad signature is rejected
    (R7.5), so nobody has been seen ahead: the replica stays in view 0 and asks no one for a
    certificate. Then the same two members' own VIEW-CHANGEs of height 2 arrive: now it asks
    (R3.5; the control, so a replica that never asks is not taken for one that checks).

    ``non-members``: the first two VIEW-CHANGEs are signed by ``v998`` and ``v999``, no
    members, each with its own key. They are no validators' messages: the replica asks no
    one, and when the members' own arrive it asks them and never a non-member ("it asks the
    validators it sees at later heights", spec/sync.md R3.5). Written from the mechanical
    survivors ``aethel/consensus/certificates.py:CertificateChecks._signed_by_member:
    RemoveRaiseOrReturn:b69f8945`` and ``ReplaceFalseWithTrue:adc1040b`` (a non-member's
    message of a later height taken as signed, or crashing the check), which no case
    reached: every later-height message sent named a member."""
    scene, name = _lagging_scene(seed)
    remote = scene.replica(replica_api, name, "collector", now=None)
    remote.start(0)
    ahead = scene.others(name)[:2]
    strangers = [KeySigner(f"v{n}", KeyPair.from_seed(bytes([n % 256]) * 32)) for n in (998, 999)]
    outsiders = {signer.validator_id for signer in strangers}
    everyone = set(scene.others(name)) | outsiders
    case = f"scene lag/{seed} (members {scene.ids}, replica {name}, named {ahead}), {forgery}"
    forged_requests: list[str] = []
    for index, member in enumerate(ahead):
        if forgery == "non-members":
            forged = ViewChange.create(strangers[index], 2, 1, None, None)
        elif forgery == "zero-signature":
            forged = dataclasses.replace(
                scene.view_change(member, 1, height=2), signature=bytes(64)
            )
        else:
            signer = ahead[1 - index]
            forged = dataclasses.replace(scene.view_change(signer, 1, height=2), validator=member)
        outputs = remote.on_message(forged.to_wire(), (index + 1) * MS)
        forged_requests += _requests(outputs, 1, everyone)
    status = remote.status()
    if forged_requests or (status["height"], status["view"]) != (1, 0):
        raise AssertionError(
            f"{case}: after two VIEW-CHANGEs of height 2 that {ahead} did not sign, {name} "
            f"sent its VIEW-CHANGE of height 1 to {sorted(set(forged_requests))} and is at "
            f"height {status['height']}, view {status['view']}; R7.5 rejects a message whose "
            "signature is not its validator's, so none of them counts as ahead"
        )
    signed_requests: list[str] = []
    for index, member in enumerate(ahead):
        message = scene.view_change(member, 1, height=2)
        outputs = remote.on_message(message.to_wire(), (index + 3) * MS)
        signed_requests += _requests(outputs, 1, set(ahead) | outsiders)
    if set(signed_requests) & outsiders:
        raise AssertionError(
            f"{case}: {name} sent its VIEW-CHANGE of height 1 to "
            f"{sorted(set(signed_requests))}: {sorted(set(signed_requests) & outsiders)} "
            "are no validators, only their messages of height 2 reached it"
        )
    if sorted(set(signed_requests)) != sorted(ahead):
        raise Inconclusive(
            f"{case}: signed by {ahead}, the VIEW-CHANGEs of height 2 did not make {name} ask "
            f"them for height 1's certificate either (sent to {sorted(set(signed_requests))}); "
            "the case cannot tell a signature check from no request at all (the request "
            "itself is judged by the case of a lagging replica above)"
        )


#: Stale VIEW-CHANGEs one asker sends within one view-0 timeout of the answerer.
STALE_FLOOD = 8
#: Later heights' messages that reach a lagging replica within one view-0 timeout of its request.
LATER_FLOOD = 8


def _certificates_to(outputs: object, to: str, below: int) -> list[tuple[int, str, str]]:
    """Return the commit certificates of heights below ``below`` that ``outputs`` send ``to``
    (directly or by broadcast), as :func:`_identity` gives them."""
    return [
        _identity(out.message)
        for out in parsed(outputs)
        if isinstance(out, Send | Broadcast)
        and (isinstance(out, Broadcast) or out.to == to)
        and isinstance(out.message, CommitCertificate)
        and out.message.height < below
    ]


def _at_height_four(remote: Any, chain: SlashedChain, name: str, now: int) -> int:
    """Commit heights 1-3 of ``chain`` at ``remote`` at ``now`` ns (the last from its
    PRE-PREPARE and certificate, which start height 4); return the deadline of the view-0
    timer it sets for height 4."""
    return _at_height(remote, chain, name, now, 4)


def _at_height(remote: Any, chain: SlashedChain, name: str, now: int, height: int) -> int:
    """Commit heights 1 .. ``height`` - 1 of ``chain`` at ``remote`` at ``now`` ns (the last
    from its PRE-PREPARE and certificate, which start ``height``); return the deadline of the
    view-0 timer it sets for ``height``."""
    drive_to(remote, chain, height - 1, now)
    last = chain.commits[height - 2]
    proposal = PrePrepare.create(chain.signers[last.block.proposer], last.view, last.block)
    outputs = remote.on_message(proposal.to_wire(), now)
    outputs += remote.on_message(last.certificate.to_wire(), now)
    deadline = view_deadline(outputs, height, 0)
    if remote.status()["height"] != height or deadline is None or deadline <= now:
        raise AssertionError(
            f"{name} did not start height {height} with a view-0 timer when it committed height "
            f"{height - 1} at {now} ns (status {remote.status()}, timer {deadline})"
        )
    return deadline


@pytest.mark.req("R3.5", "N6")
def test_a_validator_ahead_answers_one_asker_at_most_once_per_view_0_timeout(
    replica_api: ReplicaAPI,
) -> None:
    """The replica under test committed heights 1-3 (:func:`slashed_chain`) and is at height 4
    in view 0, whose timer tells its view-0 timeout, timeout(latency, 0). v002 sends it
    VIEW-CHANGEs of height 1 (views 1 .. 8), eight within one such timeout: it answers that
    asker with certificates at most once among them (R3.5; a validator flooding old
    VIEW-CHANGEs gets few certificates: excess load shed by a stated rule, N6). One more, a
    timeout after the last, is answered (the control: the pace is a pace, not a single answer
    per asker; that a single VIEW-CHANGE is answered at all, and with what, is judged by
    test_a_validator_heights_ahead_answers_with_its_latest_certificate_first)."""
    chain = slashed_chain(trace_cases.FIVE)
    name, asker, now = "v004", "v002", 10**9
    remote = fresh_replica(replica_api, chain, name)
    interval = _at_height_four(remote, chain, name, now) - now
    step = interval // STALE_FLOOD
    first = now + MS
    times = [first + k * step for k in range(STALE_FLOOD)]
    case = (
        f"{name} at height 4 (heights 1-3 committed at {now} ns), view-0 timeout {interval} ns: "
        f"{asker}'s VIEW-CHANGEs of height 1, views 1-{STALE_FLOOD}, at {times} ns"
    )
    answered: list[tuple[int, list[tuple[int, str, str]]]] = []
    for view, at in enumerate(times, start=1):
        stale = ViewChange.create(chain.signers[asker], 1, view, None, None)
        got = _certificates_to(remote.on_message(stale.to_wire(), at), asker, 4)
        if got:
            answered.append((at, got))
    if len(answered) > 1:
        raise AssertionError(
            f"{case}: it answered {len(answered)} of them within one view-0 timeout (at ns, "
            f"certificates (height, digest, post-state root)): {answered}; R3.5 answers an "
            "asker at most once per timeout(latency, 0)"
        )
    later = times[-1] + interval + MS
    stale = ViewChange.create(chain.signers[asker], 1, STALE_FLOOD + 1, None, None)
    again = _certificates_to(remote.on_message(stale.to_wire(), later), asker, 4)
    if not answered and not again:
        raise Inconclusive(
            f"{case}, and one more (view {STALE_FLOOD + 1}) at {later} ns: it answered none "
            "with a certificate, so its pace cannot be told from no answer at all (a single "
            "VIEW-CHANGE's answer is judged by "
            "test_a_validator_heights_ahead_answers_with_its_latest_certificate_first)"
        )
    if answered and not again:
        raise AssertionError(
            f"{case}: it answered at {answered[0][0]} ns, then not the VIEW-CHANGE of view "
            f"{STALE_FLOOD + 1} at {later} ns, more than a view-0 timeout later; R3.5 answers "
            "again at that pace (the asker repeats its request because answers get lost)"
        )


@pytest.mark.req("R3.5")
def test_a_lagging_replica_asks_at_most_once_per_view_0_timeout(
    replica_api: ReplicaAPI, seed: int
) -> None:
    """The lagging replica of
    test_a_lagging_replica_asks_again_while_later_heights_messages_reach_it (height 1, view 3,
    two of its three peers seen at height 2) asks them for height 1's certificate. Then eight
    more messages of height 2 from them reach it within one view-0 timeout (VIEW-CHANGEs and
    PREPAREs in turn): it must not ask again among them, since R3.5 repeats the request at
    most once per timeout(latency, 0). That it does ask again after that timeout is the other
    case's check."""
    scene, name = _lagging_scene(seed)
    remote = scene.replica(replica_api, name, "collector", now=None)
    interval = view_deadline(remote.start(0), 1, 0)
    if interval is None or interval <= 0:
        raise AssertionError(f"{name} set no view-0 timer of height 1 when started at 0 ns")
    entered = _climb_to_high_view(scene, remote, name, interval)[0]
    ahead = scene.others(name)[:2]
    seen = set(ahead)
    start = entered + MS
    step = interval // LATER_FLOOD
    case = (
        f"scene lag/{seed} (members {scene.ids}, replica {name}, ahead {ahead}), view-0 "
        f"timeout {interval} ns, view {HIGH_VIEW} entered at {entered} ns"
    )
    first: list[str] = []
    for member in ahead:
        later = scene.view_change(member, 1, height=2)
        first += _requests(remote.on_message(later.to_wire(), start), 1, seen)
    if sorted(set(first)) != sorted(ahead):
        raise Inconclusive(
            f"{case}: at {start} ns, with {ahead} seen at height 2, {name} sent its "
            f"VIEW-CHANGE of height 1 to {sorted(set(first))}, not to each of them, so there "
            "is no request to pace (the request itself is judged by "
            "test_a_lagging_replica_asks_again_while_later_heights_messages_reach_it)"
        )
    digest = bytes([2]) * 32
    arrivals: list[tuple[int, str, str]] = []
    again: list[tuple[int, str]] = []
    for index in range(1, LATER_FLOOD + 1):
        now = start + index * step - (MS if index == LATER_FLOOD else 0)
        member = ahead[index % 2]
        if index % 2:
            message: Any = scene.view_change(member, index + 1, height=2)
        else:
            message = scene.prepare(member, digest, index, height=2)
        arrivals.append((now, type(message).__name__, member))
        outputs = remote.on_message(message.to_wire(), now)
        again += [(now, to) for to in _requests(outputs, 1, seen)]
    if again:
        raise AssertionError(
            f"{case}: {name} asked {ahead} for height 1's certificate at {start} ns and again "
            f"(at ns, to) {again}, within one view-0 timeout, as these messages of height 2 "
            f"arrived (at ns, kind, from): {arrivals}; R3.5 repeats the request at most once "
            "per timeout(latency, 0)"
        )


@pytest.mark.req("R7.5", "R3.5")
@pytest.mark.rejects("R7.5")
@pytest.mark.parametrize("forgery", ["another-members-signature", "zero-signature"])
def test_a_forged_stale_view_change_gets_no_certificate_and_takes_no_ones_turn(
    replica_api: ReplicaAPI, forgery: str
) -> None:
    """The replica under test is at height 4 (heights 1-3 of :func:`slashed_chain` committed)
    when a VIEW-CHANGE of height 1 arrives that names v002 but that v002 did not sign (another
    member's signature, or 64 zero bytes). It is rejected (R7.5): no certificate goes out for
    it. v002's own VIEW-CHANGE of height 1, a millisecond later, is answered: a forged request
    must not use up the one answer an asker gets per timeout(latency, 0) (R3.5)."""
    chain = slashed_chain(trace_cases.FIVE)
    name, asker, now = "v004", "v002", 10**9
    remote = fresh_replica(replica_api, chain, name)
    drive_to(remote, chain, 4, now)
    real = ViewChange.create(chain.signers[asker], 1, 1, None, None)
    if forgery == "zero-signature":
        forged = dataclasses.replace(real, signature=bytes(64))
    else:
        forged = dataclasses.replace(
            ViewChange.create(chain.signers["v003"], 1, 1, None, None), validator=asker
        )
    sent = _certificates_to(remote.on_message(forged.to_wire(), now + MS), asker, 4)
    case = f"{name} at height 4 (heights 1-3 committed), a VIEW-CHANGE of height 1 naming {asker}"
    if sent:
        raise AssertionError(
            f"{case} with {forgery} at {now + MS} ns was answered with the certificates "
            f"(height, digest, post-state root) {sent}; R7.5 rejects a message whose signature "
            "is not its validator's"
        )
    answer = _certificates_to(remote.on_message(real.to_wire(), now + 2 * MS), asker, 4)
    if not answer:
        raise AssertionError(
            f"{case} with {forgery} at {now + MS} ns, then {asker}'s own at {now + 2 * MS} ns: "
            "the own one got no certificate; a rejected message must not start the interval "
            "of an asker's one answer per timeout(latency, 0) (R3.5)"
        )


@pytest.mark.req("R3.5")
@pytest.mark.parametrize("stuck", [2, 4], ids=lambda h: f"height-{h}")
def test_a_stuck_height_sends_the_latest_commit_certificate_to_every_validator(
    replica_api: ReplicaAPI, stuck: int
) -> None:
    """The replica under test committed the heights below ``stuck`` (:func:`slashed_chain`) and
    is at height ``stuck`` when its view-0 timer runs out: it sends the certificate of the
    height before, its latest, to every other validator. When its VIEW-CHANGE for view 1 is
    re-sent (the view is never established here), it sends that certificate again. (Height 2
    was added for the syncing.py campaign's survivor ``self.height > 1`` -> ``> 2`` at line 220,
    which shared nothing there.) A validator restarted without its
    journal signs nothing below its minimum vote height, so it cannot ask for the commit it
    missed: a stuck height is the others' sign to send it (spec/consensus.md, "Catching up"; the
    reference lacked this until network campaign seed 1018 halted a wiped node one height
    behind for good)."""
    chain = slashed_chain(trace_cases.FIVE)
    name, now = "v004", 10**9
    remote = fresh_replica(replica_api, chain, name)
    deadline = _at_height(remote, chain, name, now, stuck)
    latest = _identity(chain.commits[stuck - 2].certificate)
    honest = ["v001", "v002", "v003"]  # v000 equivocated at height 1; block 2 slashed it
    timers = [("view 0 timed out", 0, deadline)]
    outputs = remote.on_timer(stuck, 0, "view", deadline)
    resend = view_deadline(outputs, stuck, 1)
    if resend is not None and resend > deadline:
        timers.append(("VIEW-CHANGE for view 1 re-sent", 1, resend))
    for label, view, at in timers:
        if view:
            outputs = remote.on_timer(stuck, view, "view", at)
        missing = [m for m in honest if latest not in _certificates_to(outputs, m, stuck)]
        if missing:
            raise AssertionError(
                f"{name} at height {stuck} (heights below committed at {now} ns), {label} at "
                f"{at} ns: the certificate of height {stuck - 1} {latest} (height, digest, "
                f"post-state root) did not go to {missing}; R3.5 sends the latest commit "
                "certificate to every validator when a view times out or its VIEW-CHANGE is "
                "re-sent"
            )
    if len(timers) == 1:
        raise Inconclusive(
            f"{name} passed on view 0's timeout at height {stuck} but set no later timer of view 1 "
            "(R2.6 re-sends the VIEW-CHANGE every timeout(latency, 0)), so the re-send's "
            "certificate was not judged"
        )
