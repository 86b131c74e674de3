"""The engine's performance counters start from what the engine did: nothing (T22.2e).

T22.2e: get_performance_stats() "returns counters that match what the engine did, at least:
messages received by type, batches and batched messages, signatures checked, proofs checked,
votes sent, heights committed, timeouts and view changes; counters never decrease". A replica
that was only started, as a member that does not lead view 0, has received, checked, sent and
committed nothing, so each of those counters reads 0; after the leader's PRE-PREPARE of an empty
block it has received one message and still checked no proof. Then a whole height: the member
votes PREPARE and COMMIT, commits on the certificate, and times out the next height's view 0; the
counters must say so (messages, signatures at least those the messages carry, votes, the commit,
the timeout and the view change it started).

The counters' names are the reference's (``messages_received``, ``proofs_checked``, ...), the ones
conformance/suite/test_replica.py already reads; the protocol does not list them yet.

Written from the mechanical campaign's survivor
``aethel/consensus/stats.py:ReplicaStats:NumberReplacer:3b431620`` (``proofs_checked`` starting at
-1), and the hand-written mutant ``replica-counter-starts-at-minus-one``.
"""

from __future__ import annotations

import pytest

from aethel.consensus.messages import Commit, Prepare, ViewChange
from conformance.adapters.api import ReplicaAPI
from conformance.checks import expect_equal
from conformance.suite.scene import (
    expect_signatures_counted,
    find_scene,
    make_scene,
    sent,
    view_deadline,
)

pytestmark = pytest.mark.capability("replica")

#: T22.2e's counters, by the names the reference reports.
NAMED = (
    "messages_received",
    "batches",
    "batched_messages",
    "signatures_checked",
    "proofs_checked",
    "votes_sent",
    "commits",
    "timeouts",
    "view_changes",
)


def _never_decreased(before: dict[str, object], after: dict[str, object]) -> None:
    for name in NAMED:
        old, new = before.get(name), after.get(name)
        if isinstance(old, int) and isinstance(new, int) and new < old:
            raise AssertionError(f"counter {name} decreased from {old} to {new}")


@pytest.mark.req("T22.2e")
def test_counters_of_a_replica_that_did_nothing_are_zero(replica_api: ReplicaAPI) -> None:
    scene = make_scene([1_000] * 4, epoch="counters")
    member = scene.others(scene.leader(0))[0]
    remote = scene.replica(replica_api, member, now=0)
    first = remote.get_performance_stats()
    expect_equal(
        {name: first.get(name) for name in NAMED},
        dict.fromkeys(NAMED, 0),
        "T22.2e counters of a replica that was only started",
    )
    block = scene.block()
    remote.on_message(scene.pre_prepare(block).to_wire(), 1_000)
    second = remote.get_performance_stats()
    expect_equal(second.get("messages_received"), 1, "messages received after one PRE-PREPARE")
    expect_equal(second.get("proofs_checked"), 0, "proofs checked of an empty block")
    _never_decreased(first, second)


@pytest.mark.req("T22.2e")
def test_counters_match_a_heights_work(replica_api: ReplicaAPI) -> None:
    scene = make_scene([1_000] * 4, epoch="counters-height")
    leader = scene.leader(0)
    # A member that leads neither this height nor height 2's views 0 and 1: it only votes.
    busy = {leader, scene.leader(0, 2), scene.leader(1, 2)}
    member = next(name for name in scene.ids if name not in busy)
    quorum = [leader, *scene.others(leader, member)[:1], member]
    remote = scene.replica(replica_api, member, now=0)
    block = scene.block()
    root = scene.post_root(block)
    outputs = remote.on_message(scene.pre_prepare(block).to_wire(), 1_000)
    prepares = sent(outputs, Prepare, lambda m: m.validator == member)
    certificate = scene.prepare_certificate(quorum, block.digest)
    outputs = remote.on_message(certificate.to_wire(), 2_000)
    commits = sent(outputs, Commit, lambda m: m.validator == member)
    if len(prepares) != 1 or len(commits) != 1:
        raise AssertionError(
            f"control: {member} sent {len(prepares)} PREPARE(s) for the proposal and "
            f"{len(commits)} COMMIT(s) on its prepare certificate, not one of each"
        )
    done = scene.commit_certificate(quorum, block.digest, root)
    outputs = remote.on_message(done.to_wire(), 3_000)
    deadline = view_deadline(outputs, 2, 0)
    if deadline is None:
        raise AssertionError(f"control: {member} set no view timer for height 2 after committing")
    stats = remote.get_performance_stats()
    expect_equal(stats.get("messages_received"), 3, "messages received: three")
    expect_equal(stats.get("votes_sent"), 2, "votes sent: one PREPARE and one COMMIT")
    expect_equal(stats.get("commits"), 1, "heights committed")
    expect_equal(stats.get("timeouts"), 0, "timeouts before any timer fired")
    checked = stats.get("signatures_checked")
    least = 1 + len(certificate.votes) + len(done.votes)
    if not isinstance(checked, int) or checked < least:
        raise AssertionError(
            f"signatures checked: {checked!r}, but the three messages carry {least} signatures, "
            "each checked before it counts (R7.5)"
        )

    outputs = remote.on_timer(2, 0, "view", deadline)
    if not sent(outputs, ViewChange, lambda m: m.validator == member and m.height == 2):
        raise AssertionError(
            f"control: {member} sent no VIEW-CHANGE when height 2's view 0 timed out"
        )
    after = remote.get_performance_stats()
    expect_equal(after.get("timeouts"), 1, "timeouts after height 2's view 0 timed out")
    expect_equal(after.get("view_changes"), 1, "view changes after it asked for view 1")
    _never_decreased(stats, after)


@pytest.mark.req("T22.2e", "R7.5")
def test_signatures_checked_count_a_new_views_signatures(replica_api: ReplicaAPI) -> None:
    """A NEW-VIEW carries its own signature and those of its q(W) VIEW-CHANGEs, and each is
    checked before it counts (R7.5): a replica that follows a valid NEW-VIEW for view 1 counts at
    least that many more signatures checked (T22.2e: the counters match what the engine did)."""
    scene = find_scene([1_000] * 4, lambda s: s.leader(0) != s.leader(1), label="counted-nv")
    l1 = scene.leader(1)
    name = next(m for m in scene.ids if m not in (scene.leader(0), l1))
    remote = scene.replica(replica_api, name, now=0)
    before = remote.get_performance_stats().get("signatures_checked")
    changes = [scene.view_change(m, 1) for m in scene.others(name)]
    new_view = scene.new_view(changes, None, scene.block(l1), 1)
    if not sent(remote.on_message(new_view.to_wire(), 1_000), Prepare):
        raise AssertionError(f"control: {name} did not prepare the NEW-VIEW's proposal")
    what = f"a NEW-VIEW carrying its own signature and {len(changes)} VIEW-CHANGEs'"
    expect_signatures_counted(remote, before, 1 + len(changes), what)


@pytest.mark.req("T22.2e", "T22.2b")
def test_signatures_checked_in_a_batch_count(replica_api: ReplicaAPI) -> None:
    """A batch's signatures are checked too, all at once (T22.2b: "signature checks can be
    batched"), and the counters match what the engine did (T22.2e). A member in broadcast mode
    handed the leader's PRE-PREPARE and the three other members' PREPAREs in one
    batch_process_messages call sends its COMMIT: it counted q(W) PREPAREs, its own and at
    least two others', each checked before it counts (R7.5), and the PRE-PREPARE's signature,
    so at least three signatures were checked whether the batch checked them or not.

    Written from the mechanical survivor ``aethel/consensus/certificates.py:CertificateChecks.
    _verify:RemoveRaiseOrReturn:8154e8ed``, which showed that the reference itself counted none
    of a batch's signatures (one at a time it counted four here, batched one)."""
    scene = make_scene([1_000] * 4, epoch="counters-batch")
    leader = scene.leader(0)
    member = scene.others(leader)[0]
    remote = scene.replica(replica_api, member, "broadcast", now=0)
    block = scene.block()
    prepares = [Prepare.create(scene.signers[n], 1, 0, block.digest) for n in scene.others(member)]
    before = remote.get_performance_stats()
    messages = [scene.pre_prepare(block).to_wire(), *(p.to_wire() for p in prepares)]
    outputs = remote.batch_process_messages(messages, 1_000)
    if not sent(outputs, Commit, lambda m: m.validator == member):
        raise AssertionError(f"control: {member} sent no COMMIT on the batched PREPAREs")
    after = remote.get_performance_stats()
    expect_equal(after.get("batched_messages"), len(messages), "batched messages counted")
    checked = after.get("signatures_checked")
    if not isinstance(checked, int) or checked < 3:
        raise AssertionError(
            f"signatures checked after one batch: {checked!r}, but {member} committed on it, so "
            "it checked the PRE-PREPARE's signature and at least two others' PREPAREs (R7.5), "
            "in the batch or after it"
        )
    _never_decreased(before, after)


@pytest.mark.req("T22.2e", "R2.6")
def test_a_view_joined_counts_as_one_view_change(replica_api: ReplicaAPI) -> None:
    """Of four equal stakes, two members ask for view 1 (more than W/3): the replica, in view 0
    with no timer fired, joins view 1 at once and asks for it too (spec/consensus.md, "View
    change": the join rule). That is one view change and no timeout, and the counters must say
    so (T22.2e: "timeouts and view changes").

    Written from the module campaign of aethel/consensus/viewchange.py (survivors
    ``ViewChangeRules._synchronise_view:NumberReplacer:73c3dae4`` and ``:89656851``: a join
    counted as no view change, or as two): the counters case counts a view change started by a
    timeout only."""
    scene = make_scene([1_000] * 4, epoch="counters-join")
    name, askers = scene.ids[0], scene.ids[1:3]
    remote = scene.replica(replica_api, name, "broadcast", now=0)
    before = remote.get_performance_stats()
    own = []
    for member in askers:
        vc = scene.view_change(member, 1)
        own += sent(
            remote.on_message(vc.to_wire(), 1_000), ViewChange, lambda m: m.validator == name
        )
    if remote.status()["view"] != 1 or not own:
        raise AssertionError(f"control: {name} did not join view 1 when {askers} asked for it")
    after = remote.get_performance_stats()
    expect_equal(
        {k: after.get(k) for k in ("view_changes", "timeouts")},
        {"view_changes": 1, "timeouts": 0},
        f"view changes and timeouts after {name} joined view 1",
    )
    _never_decreased(before, after)
