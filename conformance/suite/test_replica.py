"""The implementation's replica in exact, scripted clusters (R2.3, R2.6, R5.6, R7.2, R7.5, T22.2).

Each scenario mixes the implementation's replicas with reference ones and controls delivery
exactly (see :mod:`conformance.cluster`); commits are compared with the reference's execution.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from typing import Any, cast

import pytest

from aethel.consensus.events import Committed, Timer
from aethel.consensus.ledger import make_genesis
from aethel.consensus.messages import Prepare, PrepareCertificate, PrePrepare, ViewChange
from aethel.consensus.signing import KeySigner
from aethel.consensus.validators import make_validator_keys
from aethel.encoding import KeyPair
from conformance.adapters.api import Implementation, ReplicaAPI
from conformance.adapters.errors import Rejected
from conformance.adapters.reference_replica import genesis_to_json
from conformance.checks import MustReject, expect_equal
from conformance.cluster import Cluster, make_cluster
from conformance.mixed import ImplReplica
from conformance.plugin import catalog_threshold
from conformance.replica_wire import output_to_json

pytestmark = pytest.mark.capability("replica")


def reference_post_root(cluster: Cluster, commit: Committed) -> bytes:
    """Re-execute a committed block with the reference ledger and return the post-state root."""
    pre_root = commit.execution.pre_root
    verdict = cluster.block_validator.validate_block(commit.block, pre_root)
    return cluster.executor.execute(commit.block, verdict, pre_root, cluster.validators).post_root


@pytest.mark.req("R5.6", "R3.2")
@pytest.mark.parametrize("mode", ["collector", "broadcast"], ids=str)
def test_single_validator_commits_alone(
    impl: Implementation, replica_api: ReplicaAPI, mode: str
) -> None:
    cluster = make_cluster(impl, 1, mode=mode)
    cluster.start()
    cluster.run(max_steps=30)
    commits = cluster.commits.get("v000", [])
    heights = [c.height for c in commits]
    if heights[:3] != [1, 2, 3]:
        raise AssertionError(
            f"a lone validator must commit heights 1, 2, 3...; committed {heights}"
        )
    for commit in commits[:3]:
        expect_equal(
            commit.certificate.members, ("v000",), f"certificate members at {commit.height}"
        )
        expect_equal(
            commit.certificate.post_root.hex(),
            reference_post_root(cluster, commit).hex(),
            f"post-state root of height {commit.height}",
        )


@pytest.mark.req("R2.6", "P10")
@pytest.mark.parametrize("mode", ["collector", "broadcast"], ids=str)
def test_new_leader_reproposes_the_prepared_block(
    impl: Implementation, replica_api: ReplicaAPI, mode: str
) -> None:
    """Everyone prepares the view-0 block, its leader is lost: the view-1 leader (the
    implementation) must re-propose exactly that block, and it commits."""
    probe = make_cluster(impl, 4, [], mode=mode)
    leader0 = probe.validators.get_leader(1, 0).id
    leader1 = probe.validators.get_leader(1, 1).id
    assert leader0 != leader1
    others = [n for n in probe.nodes if n not in (leader0, leader1)]
    cluster = make_cluster(impl, 4, [leader1, others[0]], mode=mode)
    cluster.start()
    proposed: set[bytes] = set()
    while cluster.queue:
        item = cluster.queue[0][2]
        if isinstance(item, PrePrepare):
            proposed.add(item.digest)
        if type(item).__name__ in ("Commit", "CommitCertificate"):
            break  # every PREPARE phase is done: the block is prepared, not committed
        cluster.step()
    expect_equal(len(proposed), 1, "view-0 proposals")
    cluster.down.add(leader0)
    cluster.queue.clear()
    cluster.fire_timers()
    cluster.run()
    for name in cluster.nodes:
        if name == leader0:
            continue
        commits = cluster.commits.get(name, [])
        if not commits:
            raise AssertionError(f"{name} did not commit height 1 after the view change")
        first = commits[0]
        if first.view < 1 or first.block.digest not in proposed:
            raise AssertionError(
                f"{name} committed view {first.view} digest {first.block.digest.hex()[:16]}, "
                f"not the prepared block {next(iter(proposed)).hex()[:16]} in a later view"
            )


def seed_where_leader_is(
    impl: Implementation, names: list[str], stakes: list[int] | None = None
) -> int:
    """Return the first seed whose leader of (height 1, view 0) is one of ``names``.

    With the leader among the live validators, a replica that miscounts votes gets the chance
    to commit; with it among the silent ones nothing would be proposed at all.
    """
    for seed in range(1, 200):
        probe = make_cluster(impl, 4, [], stakes=stakes, seed=seed)
        if probe.validators.get_leader(1, 0).id in names:
            return seed
    raise AssertionError("no seed puts the first leader among the live validators")


def _silence(cluster: Cluster, names: list[str]) -> None:
    cluster.down.update(names)


@pytest.mark.req("R7.2", "P27", "R2.3")
@pytest.mark.parametrize(
    ("case", "down", "must_commit"),
    [("big-validator-down", ["v003"], False), ("two-small-down", ["v000", "v001"], True)],
    ids=["big-validator-down", "two-small-down"],
)
def test_quorum_is_by_stake_not_by_count(
    impl: Implementation, replica_api: ReplicaAPI, case: str, down: list[str], must_commit: bool
) -> None:
    """Stakes 10k, 10k, 10k, 40k (q = 46,667): three small validators (3 of 4 by count, 30k)
    must never commit; one small plus the big one (2 of 4, 50k) must."""
    stakes = [10_000, 10_000, 10_000, 40_000]
    alive = [n for n in ("v000", "v001", "v002", "v003") if n not in down]
    seed = seed_where_leader_is(impl, alive, stakes=stakes)
    cluster = make_cluster(impl, 4, alive, stakes=stakes, seed=seed)
    _silence(cluster, down)
    cluster.start()
    for _ in range(4):  # let views time out and change: the stake, not the leader, decides
        cluster.run(max_steps=20_000)
        cluster.fire_timers()
    cluster.run(max_steps=20_000)
    committed = {name: cluster.committed_heights(name) for name in alive}
    if must_commit and not all(committed.values()):
        raise AssertionError(
            f"{alive} hold 50,000 of 70,000 stake and must commit; got {committed}"
        )
    if not must_commit and any(committed.values()):
        raise AssertionError(f"{alive} hold 30,000 of 70,000 stake and committed {committed}")


@pytest.mark.req("R2.3", "P7")
@pytest.mark.parametrize("mode", ["collector", "broadcast"], ids=str)
@pytest.mark.parametrize("duplicate", [False, True], ids=["once", "duplicated"])
def test_half_the_validators_never_commit(
    impl: Implementation, replica_api: ReplicaAPI, duplicate: bool, mode: str
) -> None:
    """Two of four equal validators (below q(W)) never commit, even when every message they
    exchange is delivered twice."""
    seed = seed_where_leader_is(impl, ["v000", "v001"])
    cluster = make_cluster(impl, 4, ["v000", "v001"], seed=seed, mode=mode)
    cluster.duplicate = duplicate
    _silence(cluster, ["v002", "v003"])
    cluster.start()
    for _ in range(4):
        cluster.run(max_steps=20_000)
        cluster.fire_timers()
    committed = {n: cluster.committed_heights(n) for n in ("v000", "v001")}
    if any(committed.values()):
        raise AssertionError(f"half the stake committed {committed}")


@pytest.mark.req("R7.5")
def test_votes_with_bad_signatures_never_count(
    impl: Implementation, replica_api: ReplicaAPI
) -> None:
    """The implementation leads view 0 in collector mode; two of the three other validators'
    PREPAREs reach it with a flipped signature bit: it must not build a prepare certificate."""
    probe = make_cluster(impl, 4, [])
    leader = probe.validators.get_leader(1, 0).id
    cluster = make_cluster(impl, 4, [leader])
    forged = [n for n in cluster.nodes if n != leader][:2]
    cluster.start()
    steps = 0
    while cluster.queue and steps < 20_000:
        source, target, item = cluster.queue[0]
        if target == leader and isinstance(item, Prepare) and item.validator in forged:
            bad = bytearray(item.signature)
            bad[0] ^= 1
            cluster.queue[0] = (source, target, replace(item, signature=bytes(bad)))
        cluster.step()
        steps += 1
    sent = cluster.nodes[leader].sent
    certificates = [m for m in sent if isinstance(m, PrepareCertificate) and m.view == 0]
    if certificates:
        raise AssertionError(
            f"{leader} built a prepare certificate from forged votes: {certificates[0].members}"
        )
    if any(cluster.commits.values()):
        raise AssertionError("a height committed on forged votes")


def _trace_for(impl: Implementation, target: str) -> list[object]:
    """Run a reference cluster; return what ``target`` received (messages, propose timers)."""
    cluster = make_cluster(impl, 4, [])
    received: list[object] = []
    cluster.start()
    steps = 0
    while cluster.queue and steps < 4_000:
        _, to, item = cluster.queue[0]
        if to == target:
            received.append(item)
        cluster.step()
        steps += 1
        if len(cluster.committed_heights(target)) >= 2:
            break
    return received


def _shuffled_with_duplicates(trace: list[object], seed: int) -> list[object]:
    """Return ``trace`` with the messages between two timers shuffled in runs of 7 (seeded)
    and the first message of each run delivered twice: a network reorders and repeats."""
    rng = random.Random(seed)
    arranged: list[object] = []
    run: list[object] = []

    def close() -> None:
        rng.shuffle(run)
        arranged.extend(run[:1] + run)
        run.clear()

    for item in trace:
        if isinstance(item, Timer):
            close()
            arranged.append(item)
            continue
        run.append(item)
        if len(run) == 7:
            close()
    close()
    return arranged


def _with_non_members(trace: list[object]) -> list[object]:
    """Return ``trace`` with two messages of ``v999``, no member, signed with its own key,
    after every third message: a PREPARE of that message's height and a VIEW-CHANGE of the
    next height (a stranger on the network, R7.5)."""
    stranger = KeySigner("v999", KeyPair.from_seed(bytes([99]) * 32))
    arranged: list[object] = []
    for index, item in enumerate(trace):
        arranged.append(item)
        if index % 3 == 2 and not isinstance(item, Timer):
            height = cast(Any, item).height
            arranged.append(Prepare.create(stranger, height, 0, bytes(32)))
            arranged.append(ViewChange.create(stranger, height + 1, 1, None, None))
    return arranged


@pytest.mark.req("T22.2b", "T22.2e")
@pytest.mark.parametrize(
    "arrangement", ["as-recorded", "shuffled-with-duplicates", "with-non-members"]
)
def test_batch_processing_equals_one_at_a_time(
    impl: Implementation, replica_api: ReplicaAPI, arrangement: str
) -> None:
    """Feed one replica a recorded trace one message at a time, and an identical replica the
    same trace in batches of up to 7 messages: outputs, state and counters must agree. The
    second arrangement reorders each batch's messages and repeats one of each: a batch that
    sorts, groups or de-duplicates what it was given differs from one-at-a-time processing.
    The third adds messages signed by a non-member: a batch's signature check must take them
    as one-at-a-time processing does (written from the mechanical survivors ``aethel/consensus/
    certificates.py:CertificateChecks._signature_items:AddNot:d7a33925`` and
    ``ReplaceComparisonOperator_IsNot_Is:c51bf361``, which read a missing key; no batch held a
    non-member's message)."""
    target = "v001"
    trace = _trace_for(impl, target)
    if arrangement == "shuffled-with-duplicates":
        trace = _shuffled_with_duplicates(trace, seed=2202)
    elif arrangement == "with-non-members":
        trace = _with_non_members(trace)
    one: ImplReplica = make_cluster(impl, 4, [target]).nodes[target]
    batched: ImplReplica = make_cluster(impl, 4, [target]).nodes[target]
    now = 1_000_000_000
    one_out = [output_to_json(o) for o in one.start(0)]
    batch_out = [output_to_json(o) for o in batched.start(0)]
    chunk: list[object] = []
    batches = 0

    def flush() -> None:
        nonlocal chunk, batches
        if chunk:
            out = batched.remote.batch_process_messages([m.to_wire() for m in chunk], now)  # type: ignore[attr-defined]
            batched._outputs(out)
            batch_out.extend(out)
            batches += 1
            chunk = []

    for item in trace:
        if isinstance(item, Timer):
            one_out.extend(output_to_json(o) for o in one.on_timer(item, now))
            flush()
            batch_out.extend(output_to_json(o) for o in batched.on_timer(item, now))
        else:
            one_out.extend(output_to_json(o) for o in one.on_message(item, now))  # type: ignore[arg-type]
            chunk.append(item)
            if len(chunk) == 7:
                flush()
    flush()
    commits = sum(1 for o in one_out if o["type"] == "committed")
    assert commits >= 1, "the recorded trace should commit a height"
    expect_equal(batch_out, one_out, "outputs of batched vs one-at-a-time processing")
    expect_equal(batched.remote.status(), one.remote.status(), "state after both")
    stats_one = one.remote.get_performance_stats()
    stats_batch = batched.remote.get_performance_stats()
    messages = sum(1 for item in trace if not isinstance(item, Timer))
    expect_equal(stats_batch.get("batches"), batches, "batches counted")
    expect_equal(stats_batch.get("batched_messages"), messages, "batched messages counted")
    expect_equal(stats_one.get("messages_received"), messages, "messages counted one at a time")
    expect_equal(stats_one.get("commits"), commits, "commits counted")
    again = one.remote.get_performance_stats()
    for key, value in stats_one.items():
        if isinstance(value, int) and isinstance(again.get(key), int) and again[key] < value:
            raise AssertionError(f"counter {key} decreased from {value} to {again[key]}")


@pytest.mark.req("R3.1")
def test_synced_state_must_match_the_certified_root(
    impl: Implementation, replica_api: ReplicaAPI
) -> None:
    """A lagging replica is handed the state of a certified height: it must refuse a state whose
    root is not the certificate's post-state root, and adopt the right one."""
    cluster = make_cluster(impl, 4, [])
    cluster.start()
    cluster.run(max_steps=4_000)
    commit = cluster.commits["v000"][0]
    cert, block = commit.certificate, commit.block
    state = dict(cluster.repository.get(cert.post_root).leaves())
    late = make_cluster(impl, 4, ["v001"]).nodes["v001"]
    late.start(0)
    forged = dict(state)
    key = next(k for k in sorted(forged) if k.startswith("balance:"))
    forged[key] = forged[key] + 1
    try:
        late.remote.on_sync_completed(cert.to_wire(), block.to_wire(), forged, 10**9)
    except Rejected:
        pass
    else:
        if late.remote.status()["height"] > cert.height:
            raise AssertionError(
                "the replica adopted a state whose root no certificate vouches for"
            )
    late.remote.on_sync_completed(cert.to_wire(), block.to_wire(), state, 10**9)
    status = late.remote.status()
    expect_equal(status["height"], cert.height + 1, "height after adopting the certified state")
    expect_equal(status["state_root"], cert.post_root.hex(), "state root after the sync")


@pytest.mark.req("R4.3", "P17")
@pytest.mark.rejects("P17")
def test_validator_set_below_minimum_stake_is_refused(
    impl: Implementation, replica_api: ReplicaAPI
) -> None:
    """A replica is never built over a validator set that lists a stake below the minimum."""
    minimum = int(catalog_threshold("P17", "member_stake").value)
    probe = make_cluster(impl, 4, [])
    wire = probe.validators.to_wire()
    members = wire["validators"]
    assert isinstance(members, list)
    members[2]["stake"] = minimum - 1
    genesis = genesis_to_json(make_genesis(probe.workload.genesis_balances, probe.validators))
    seed = make_validator_keys(4, 1)[0].seed.hex()
    try:
        replica_api.new(wire, "v000", seed, "collector", genesis)
    except Rejected:
        return
    raise AssertionError(f"a validator set with a stake of {minimum - 1} was accepted")


#: Name -> what a validator set is changed into (its member v000, the replica's, stays valid):
#: each breaks "A set is invalid if it is empty, repeats an id or a public key, or lists a stake
#: below MIN_STAKE" or the form of an id (spec/consensus.md, "Validator set and epochs").
#: change -> (the rule the refusal names, the change to the members of a valid set). spec/
#: consensus.md: a set that repeats an id or a public key is invalid (R4.3); an id is a short
#: lowercase name, and a member has exactly its members, each of its type (spec/encoding.md's
#: data model: E12). The member changes were written from the mechanical survivor ``aethel/
#: consensus/validators.py:parse_validator_set:RemoveRaiseOrReturn:66c134ba`` (a member's
#: members not checked: one with an undefined member was taken).
SET_CHANGES: dict[str, tuple[str, Callable[[list[dict[str, Any]]], None]]] = {
    "an-id-twice": ("R4.3", lambda m: m[2].update(id=m[1]["id"])),
    "a-public-key-twice": ("R4.3", lambda m: m[2].update(public_key=m[1]["public_key"])),
    "an-id-in-uppercase": ("E12", lambda m: m[3].update(id="V003")),
    "an-id-starting-with-a-dash": ("E12", lambda m: m[3].update(id="-v003")),
    "an-id-of-65-characters": ("E12", lambda m: m[3].update(id="v" * 65)),
    "a-member-with-an-undefined-member": ("E12", lambda m: m[2].update(memo="x")),
    "a-member-without-its-stake": ("E12", lambda m: m[2].pop("stake")),
    "a-member-that-is-a-list": ("E12", lambda m: m.__setitem__(2, cast(Any, [*m[2].values()]))),
}


def _set_change_params() -> list[Any]:
    return [
        pytest.param(
            name, id=name, marks=[pytest.mark.req("R4.3", rule), pytest.mark.rejects(rule)]
        )
        for name, (rule, _) in sorted(SET_CHANGES.items())
    ]


@pytest.mark.parametrize("change", _set_change_params())
def test_a_validator_set_of_another_form_is_refused(
    impl: Implementation, replica_api: ReplicaAPI, change: str
) -> None:
    """A replica is never built over an invalid set: a repeated id or public key (R4.3), an id
    that is not a short lowercase name or a member of another form (E12); the refusal names the
    rule. The control: the same set with a 64-character id is taken."""
    probe = make_cluster(impl, 4, [])
    genesis = genesis_to_json(make_genesis(probe.workload.genesis_balances, probe.validators))
    seed = make_validator_keys(4, 1)[0].seed.hex()

    def changed(edit: Callable[[list[dict[str, Any]]], None]) -> dict[str, Any]:
        wire = probe.validators.to_wire()
        members = wire["validators"]
        assert isinstance(members, list)
        edit(members)
        return wire

    rule, edit = SET_CHANGES[change]
    try:
        made = replica_api.new(changed(edit), "v000", seed, "collector", genesis)
    except Rejected as refusal:
        if refusal.rule_id != rule:
            raise AssertionError(
                f"a validator set with {change.replace('-', ' ')} was refused naming "
                f"{refusal.rule_id}, not {rule}: {refusal}"
            ) from None
    else:
        getattr(made, "close", lambda: None)()
        raise MustReject(f"a validator set with {change.replace('-', ' ')} was accepted")
    longest = replica_api.new(
        changed(lambda m: m[3].update(id="v" + "3" * 63)), "v000", seed, "collector", genesis
    )
    getattr(longest, "close", lambda: None)()
