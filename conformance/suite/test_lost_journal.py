"""A validator restarted without its vote journal votes again two heights past what it learns
(R2.4, R2.5; spec/consensus.md, votes: "a validator that lost that record").

It may have signed votes at heights it does not know, so it first learns the peers' latest
certified height h, signs nothing below h + 2 (it may have voted at h + 1 before the restart) and
votes as any validator from h + 2 on. The replica of capability ``lost-journal`` is handed height
1 of a real chain as the peers' latest (``on_sync_completed``), then the proposal of height 2 and
its commit certificate, then the proposal of height 3: it must sign nothing before it learned the
height, nothing at height 2, and a PREPARE for the proposal of height 3. A control replica with its
journal, synced the same way, votes at height 2.

Written from the mechanical campaign's survivor
``aethel/consensus/replica.py:Replica._learn_commit:NumberReplacer:f1fde1d2`` (``cert.height + 2``
-> ``+ 3``: one more height of abstention), which no case could kill while the spec said only
what such a validator must not sign (reports/selftest/triage-sample60-seed7.md, item 8).
"""

from __future__ import annotations

from typing import Any

import pytest

from aethel.consensus.messages import Commit, Prepare, ViewChange
from conformance.adapters.api import Implementation
from conformance.checks import expect_equal
from conformance.suite.chains import (
    fresh_replica,
    learn_height,
    new_replica,
    slashed_chain,
)
from conformance.suite.fixtures import get_api
from conformance.suite.scene import sent, view_deadline
from conformance.testvectors import trace_cases

pytestmark = pytest.mark.capability("replica", "lost-journal")

NOW = 10**9
SIGNED = Prepare | Commit | ViewChange


@pytest.mark.req("R2.4", "R2.5")
def test_a_validator_without_its_journal_votes_again_from_two_heights_past_the_latest(
    impl: Implementation,
) -> None:
    chain = slashed_chain(trace_cases.FIVE)
    proposers = {chain.commits[h - 1].block.proposer for h in (2, 3)}
    name = next(n for n in ("v004", "v003", "v002", "v001") if n not in proposers)
    second = chain.proposal(2)
    # Control: the same replica with its journal, synced the same way, votes at height 2.
    control = fresh_replica(get_api(impl, "replica"), chain, name)
    learn_height(control, chain, 1, NOW)
    if not sent(control.on_message(second.to_wire(), NOW), Prepare):
        raise AssertionError(
            f"control: {name}, synced to height 1 with its journal, did not vote for the proposal "
            "of height 2 (the case cannot judge the restarted replica)"
        )

    remote = new_replica(get_api(impl, "lost-journal"), chain, name)
    early = sent(remote.start(0), SIGNED)
    if early:
        raise AssertionError(f"{name} signed {early[0].TYPE} before it learned the chain's height")
    learn_height(remote, chain, 1, NOW)
    votes = sent(remote.on_message(second.to_wire(), NOW), SIGNED)
    if votes:
        raise AssertionError(
            f"{name} lost its journal and learned height 1 is certified, but signed "
            f"{votes[0].TYPE} at height 2: it may have voted there before the restart"
        )
    remote.on_message(chain.commits[1].certificate.to_wire(), NOW)
    expect_equal(remote.status()["height"], 3, "height after height 2's commit certificate")

    third = chain.proposal(3)
    prepares = sent(
        remote.on_message(third.to_wire(), NOW),
        Prepare,
        lambda m: m.height == 3 and m.digest == third.block.digest,
    )
    if not prepares:
        raise AssertionError(
            f"{name} learned height 1 is certified and signed no PREPARE for the proposal of "
            "height 3: from two heights past what it learned it votes as any validator"
        )


@pytest.mark.req("R2.4", "R2.5", "R3.5")
@pytest.mark.capability("catch-up")
def test_a_validator_without_its_journal_learning_from_a_later_certificate_holds_back(
    impl: Implementation,
) -> None:
    """The restarted replica learns where the chain is from a commit certificate of height 3
    that reaches it as a message (not from a sync it asked for first): it asks for that state,
    adopts it through the certified chain (catch-up) and is at height 4, below h + 2 = 5, so its
    view-0 timeout there signs nothing, not even a VIEW-CHANGE. The control, with its journal,
    synced the same way, asks for view 1 at the same timeout.

    Written from the mechanical sample's survivor (seed 41)
    ``aethel/consensus/syncing.py:SyncRules._request_sync`` ``cert.height + 2`` -> ``- 2``: the
    first height learned counts, so learning h - 2 from the certificate let the replica vote
    at h + 1, where it may have voted before the restart."""
    chain = slashed_chain(trace_cases.FIVE)
    name = "v004"
    top = chain.commits[2]
    links = [chain.link(1), chain.link(2)]

    def timeout_at_height_4(remote: Any) -> list[Any]:
        remote.start(0)
        remote.on_message(top.certificate.to_wire(), NOW)
        outputs = remote.on_sync_completed_with_chain(
            links, top.certificate.to_wire(), top.block.to_wire(), chain.state(3), NOW
        )
        expect_equal(remote.status()["height"], 4, "height after adopting height 3's state")
        deadline = view_deadline(outputs, 4, 0)
        if deadline is None:
            raise AssertionError(f"control: {name} set no view-0 timer at height 4")
        return sent(remote.on_timer(4, 0, "view", deadline), SIGNED)

    control = fresh_replica(get_api(impl, "replica"), chain, name)
    if not timeout_at_height_4(control):
        raise AssertionError(
            f"control: {name}, with its journal, signed nothing when height 4's view 0 timed out"
        )
    remote = new_replica(get_api(impl, "lost-journal"), chain, name)
    signed = timeout_at_height_4(remote)
    if signed:
        raise AssertionError(
            f"{name} lost its journal and learned height 3 is certified, but signed "
            f"{signed[0].TYPE} at height 4: it signs nothing below 3 + 2"
        )


@pytest.mark.req("R2.4", "R2.6")
def test_a_validator_without_its_journal_waits_in_its_view_unsigned(impl: Implementation) -> None:
    """A validator restarted without its journal learns that height 1 is certified, so it signs
    nothing at height 2. When height 2's view 0 times out it enters view 1 without a VIEW-CHANGE
    of its own; when that view's timer fires it has nothing to re-send and keeps waiting: it
    signs nothing and sets its next timer (spec/consensus.md, "View change": a waiting validator
    re-sends its VIEW-CHANGE, and this one has none).

    Written from the module campaign of aethel/consensus/viewchange.py (survivor
    ``ViewChangeRules._resend_view_change:ReplaceAndWithOr:f50368e3``: a re-send that reads the
    validator's own VIEW-CHANGE when it has none raised out of the replica)."""
    chain = slashed_chain(trace_cases.FIVE)
    name = "v004"
    remote = new_replica(get_api(impl, "lost-journal"), chain, name)
    remote.start(0)
    learned = chain.commits[0]
    outputs = remote.on_sync_completed(
        learned.certificate.to_wire(), learned.block.to_wire(), chain.state(1), NOW
    )
    deadline = view_deadline(outputs, 2, 0)
    if deadline is None:
        raise AssertionError(f"control: {name} set no timer for height 2 after learning height 1")
    for view in (0, 1):
        outputs = remote.on_timer(2, view, "view", deadline)
        signed = sent(outputs, SIGNED)
        if signed:
            raise AssertionError(
                f"{name} lost its journal and learned height 1, but signed {signed[0].TYPE} when "
                f"height 2's view {view} timer fired"
            )
        deadline = view_deadline(outputs, 2, 1)
        if deadline is None:
            raise AssertionError(
                f"{name} set no timer for view 1 of height 2 when its view {view} timer fired: "
                "a waiting validator keeps its timer (R2.6)"
            )
    expect_equal(remote.status()["view"], 1, f"{name}'s view at height 2 after two timers")


@pytest.mark.req("R2.4")
def test_a_validator_without_its_journal_keeps_the_minimum_a_later_certificate_taught_it(
    impl: Implementation,
) -> None:
    """The restarted replica, at height 1, learns where the chain is from the commit certificate
    of height 2, which reaches it as a message (a hint: it may have voted at height 3, so it signs
    nothing below 2 + 2 = 4). Before any sync arrives it commits heights 1 and 2 itself, from
    their proposals and certificates: the proposal of height 3 then gets no vote. Its own commit
    of height 1 does not lower the minimum to 1 + 2 (the first height learned counts, and it is
    the higher one). The control, with its journal, handed the same messages, votes at height 3.

    Written from the module campaign of aethel/consensus/syncing.py (survivor
    ``SyncRules._request_sync:RemoveStatement`` at line 126: the minimum not set from the hint,
    so the replica learned 1 + 2 from its first commit instead)."""
    chain = slashed_chain(trace_cases.FIVE)
    name = next(n for n in ("v004", "v001") if n != chain.commits[2].block.proposer)
    hint = chain.commits[1].certificate
    third = chain.proposal(3)

    def votes_at_3(remote: Any) -> list[Any]:
        remote.start(0)
        remote.on_message(hint.to_wire(), NOW)
        for height in (1, 2):
            remote.on_message(chain.proposal(height).to_wire(), NOW)
            remote.on_message(chain.commits[height - 1].certificate.to_wire(), NOW)
        expect_equal(remote.status()["height"], 3, "height after committing heights 1 and 2")
        return sent(
            remote.on_message(third.to_wire(), NOW + 1),
            SIGNED,
            lambda m: m.height == 3,
        )

    if not votes_at_3(new_replica(get_api(impl, "replica"), chain, name)):
        raise AssertionError(
            f"control: {name}, with its journal, handed height 2's commit certificate and then "
            "heights 1 and 2, did not vote for the proposal of height 3 (the case cannot judge "
            "the restarted replica)"
        )
    signed = votes_at_3(new_replica(get_api(impl, "lost-journal"), chain, name))
    if signed:
        raise AssertionError(
            f"{name} lost its journal and learned from height 2's commit certificate where the "
            f"chain is, then committed heights 1 and 2, and signed {signed[0].TYPE} at height 3: "
            "it may have voted there before the restart (it signs nothing below 2 + 2)"
        )


@pytest.mark.req("R2.4", "R3.5")
def test_a_validator_without_its_journal_that_sees_others_ahead_signs_nothing(
    impl: Implementation,
) -> None:
    """A validator restarted without its journal, before it learned where the chain is, gets
    VIEW-CHANGEs of height 2 from three of the five members (more than W/3 seen ahead). Another
    validator would give up its view and ask them for height 1's certificate with its own
    VIEW-CHANGE (R3.5); this one may not sign any (R2.4), so it sends nothing signed, and the
    messages are taken without an error (the control, with its journal, asks).

    Written from the module campaign of aethel/consensus/syncing.py (survivor
    ``SyncRules._note_ahead:ReplaceAndWithOr`` at line 183: with no VIEW-CHANGE of its own, the
    replica raised)."""
    chain = slashed_chain(trace_cases.FIVE)
    name = "v004"
    ahead = ["v000", "v001", "v002"]

    def signed_after_the_others(remote: Any) -> list[Any]:
        remote.start(0)
        found: list[Any] = []
        for member in ahead:
            later = ViewChange.create(chain.signers[member], 2, 1, None, None)
            found += sent(remote.on_message(later.to_wire(), NOW), SIGNED)
        return found

    if not signed_after_the_others(new_replica(get_api(impl, "replica"), chain, name)):
        raise AssertionError(
            f"control: {name}, with its journal, saw {ahead} at height 2 and signed nothing "
            "(R3.5: it asks them with its VIEW-CHANGE; the case cannot judge the restarted one)"
        )
    signed = signed_after_the_others(new_replica(get_api(impl, "lost-journal"), chain, name))
    if signed:
        raise AssertionError(
            f"{name} lost its journal and, before it learned where the chain is, signed "
            f"{signed[0].TYPE} when it saw {ahead} at height 2 (R2.4)"
        )
