"""The history verifier: real runs' histories verify, tampered ones are rejected where they break,
and of two conflicting histories the verifiable one wins (R3.3, P12, R7.4, P29)."""

from __future__ import annotations

import functools
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aethel.consensus.block import ProofBlock
from aethel.consensus.evidence import Evidence, check_evidence
from aethel.consensus.history import (
    History,
    HistoryAnchor,
    HistoryLink,
    HistoryRejected,
    compute_changes,
    get_history,
    parse_history,
)
from aethel.consensus.history_verifier import (
    Choice,
    HistoryVerifier,
    SafetyViolation,
    is_possible_proposer,
)
from aethel.consensus.ledger import LedgerExecutor, StateRepository, make_genesis
from aethel.consensus.persistent import PersistentLedger
from aethel.consensus.signing import DirectSignatureChecker, KeySigner
from aethel.encoding import canonical_json, parse_canonical_json
from aethel.errors import EncodingError, ProtocolViolation
from aethel.proofs.verifier import verify_proof
from aethel.sim.simulator import SimConfig, Simulation
from aethel.state.store import StateStore
from conformance.histories import (
    TAMPERS,
    Chain,
    all_validators,
    alternative_link,
    below_quorum,
    build_case,
    chain_from_simulation,
    make_chain,
    recertify,
    resign_block,
    valid_case,
)
from tests.consensus.cluster import make_cluster

#: Proofs re-verify with Z3 on every check; memoizing the pure verifier keeps the many
#: verifications of one chain fast (each distinct proof is still solved once).
memo_verify = functools.lru_cache(maxsize=None)(verify_proof)


@pytest.fixture(scope="module")
def chain() -> Chain:
    return make_chain()


def verifier_of(chain: Chain) -> HistoryVerifier:
    return HistoryVerifier(chain.validators, verify=memo_verify)


def anchor_of(chain: Chain) -> HistoryAnchor:
    return HistoryAnchor.genesis(chain.genesis)


def honest_histories(sim: Simulation) -> Iterator[tuple[int, History, bytes]]:
    """Yield (node, its whole committed history, its committed root) of each honest node."""
    genesis_root = sim.ledger_executor.genesis_root()
    for node in sim.engine.nodes:
        latest = node.store.latest()
        if not node.honest or latest is None:
            continue
        history = get_history(node.store, 1, latest.height, sim.repository, genesis_root)
        yield node.index, history, latest.post_root


# ---------------------------------------------------------------------- real runs verify

RUNS = {
    "collector": {"validators": 5, "heights": 4},
    "broadcast": {"validators": 4, "heights": 3, "mode": "broadcast"},
    "silent-leader-views": {"validators": 5, "heights": 4, "byzantine": (("silent", 0.2),)},
    "double-voters-slashed": {
        "validators": 7,
        "heights": 4,
        "mode": "broadcast",
        "byzantine": (("double-vote", 0.2),),
    },
    "crash-and-restart": {"validators": 4, "heights": 3, "faults": ("crash:1@0.5s-3s",)},
}


@pytest.mark.req("R3.3")
@pytest.mark.parametrize("run", sorted(RUNS), ids=str)
def test_every_honest_nodes_history_of_a_simulated_run_verifies(run: str) -> None:
    sim = Simulation(SimConfig(seed=0, per_block=2, accounts=8, **RUNS[run]))
    assert sim.run().ok
    verifier = HistoryVerifier(sim.validators, verify=memo_verify)
    anchor = HistoryAnchor.genesis(sim.genesis)
    checked = 0
    for node, history, root in honest_histories(sim):
        verdict = verifier.check(anchor, history)
        assert verdict.accepted, (node, verdict.rule_id, verdict.reason)
        assert (verdict.height, verdict.root) == (len(history), root)
        checked += 1
    assert checked >= 3
    if run == "double-voters-slashed":  # the evidence and slashing paths ran
        assert any(
            link.block.evidence for _, history, _ in honest_histories(sim) for link in history.links
        )
    if run == "silent-leader-views":
        views = [link.certificate.view for _, h, _ in honest_histories(sim) for link in h.links]
        assert max(views) > 0  # blocks certified after a view change


@pytest.mark.req("R3.3")
def test_the_in_memory_clusters_history_verifies_with_and_without_claimed_changes() -> None:
    cluster = make_cluster(4, mode="broadcast", seed=5)
    cluster.start()
    while min(cluster.heights().values()) < 3 and cluster.queue:
        cluster.run(max_steps=50)
    replica = cluster.replicas["v002"]
    store = replica.services.store
    latest = store.latest()
    assert latest is not None
    genesis = make_genesis(cluster.workload.genesis_balances, cluster.validators)
    genesis_root = LedgerExecutor(StateRepository(), genesis).genesis_root()
    with_changes = get_history(store, 1, latest.height, cluster.repository, genesis_root)
    roots_only = get_history(store, 1, latest.height)
    anchor = HistoryAnchor.genesis(genesis)
    verifier = HistoryVerifier(cluster.validators, verify=memo_verify)
    for history in (with_changes, roots_only):
        verdict = verifier.check(anchor, history)
        assert verdict.accepted, verdict
        assert verdict.root == latest.post_root


@pytest.mark.req("R3.3")
def test_a_history_read_back_from_a_reopened_sqlite_store_verifies_from_genesis_and_checkpoint(
    tmp_path: Path,
) -> None:
    """Nodes on their own SQLite stores (R5.4): after the run, a node's store is closed and
    reopened; its chain verifies from the genesis, and its tail from its own state of height
    2 (a checkpoint anchor read from the store)."""
    sim = Simulation(
        SimConfig(
            seed=0, validators=4, heights=3, per_block=2, accounts=8, storage_dir=str(tmp_path)
        )
    )
    assert sim.run().ok
    node = sim.engine.nodes[1]
    assert isinstance(node.store, PersistentLedger)
    node.store.close()
    path = tmp_path / f"node-{node.index}.sqlite"
    store = PersistentLedger(StateStore(path, durable=False), sim.genesis, f"{path}.votes")
    try:
        latest = store.latest()
        assert latest is not None and latest.height >= 3
        verifier = HistoryVerifier(sim.validators, verify=memo_verify)
        history = get_history(store, 1, latest.height)
        verdict = verifier.check(HistoryAnchor.genesis(sim.genesis), history)
        assert verdict.accepted and verdict.root == latest.post_root
        second = store.get_certificate(2)
        assert second is not None
        entries = store.get(second.post_root).leaves()
        anchor = HistoryAnchor.checkpoint(2, second.digest, entries, sim.validators)
        tail = verifier.check(anchor, History(history.links[2:]))
        assert tail.accepted and tail.root == latest.post_root
    finally:
        store.close()


# ---------------------------------------------------------------------- tampered are rejected


def _tamper_params() -> list[Any]:
    return [pytest.param(t.kind, id=t.kind, marks=pytest.mark.req(*t.cites)) for t in TAMPERS]


@pytest.mark.parametrize("kind", _tamper_params())
def test_a_tampered_history_is_rejected_at_the_tampered_height_naming_the_rule(
    chain: Chain, kind: str
) -> None:
    """Every defect at every height it can take: rejected there, the prefix before it
    verified, and a typed error naming the rule and height from :meth:`verify`."""
    tamper = next(t for t in TAMPERS if t.kind == kind)
    verifier, anchor = verifier_of(chain), anchor_of(chain)
    entries_before = dict(anchor.entries)
    for height in range(tamper.first, len(chain.history) - tamper.last_offset + 1):
        case = build_case(chain, kind, height)
        verdict = verifier.check(anchor, case.history)
        assert not verdict.accepted, (kind, height)
        assert (verdict.height, verdict.rule_id) == (height, tamper.rule), verdict.reason
        assert verdict.verified is not None and verdict.verified.tip_height == height - 1
        with pytest.raises(HistoryRejected) as raised:
            verifier.verify(anchor, case.history)
        assert (raised.value.rule_id, raised.value.height) == (tamper.rule, height)
    assert dict(anchor.entries) == entries_before  # the trusted state is never written (P29)


@pytest.mark.req("R7.4", "P29")
def test_minting_is_caught_by_re_execution_alone_when_the_claim_keeps_the_books(
    chain: Chain,
) -> None:
    """A transition that creates one token and books it as minted, certified by every key:
    signatures, quorum and books all pass; only executing the block shows the root is wrong."""
    case = build_case(chain, "mint-booked", 2)
    link = case.history.links[1]
    assert link.certificate is not None and len(link.certificate.votes) == len(chain.validators)
    verifier = verifier_of(chain)
    assert verifier.check_certificate(link.certificate, chain.validators) == ""
    verdict = verifier.check(anchor_of(chain), case.history)
    assert (verdict.accepted, verdict.rule_id, verdict.height) == (False, "R7.4", 2)
    assert "executing the block" in verdict.reason


def _hex_paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], str]]:
    if isinstance(value, dict):
        for key in sorted(value):
            yield from _hex_paths(value[key], (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _hex_paths(item, (*path, index))
    elif (
        isinstance(value, str) and len(value) >= 64 and all(c in "0123456789abcdef" for c in value)
    ):
        yield path, value


def _set(value: Any, path: tuple[Any, ...], new: Any) -> None:
    for step in path[:-1]:
        value = value[step]
    value[path[-1]] = new


@pytest.mark.req("R3.3")
@given(data=st.data())
def test_a_changed_hex_digit_anywhere_in_a_link_rejects_the_history_at_that_height(
    chain: Chain, data: st.DataObject
) -> None:
    """Digests, roots, keys and signatures of every link are covered by a signature or by the
    certificate: changing one hex digit anywhere rejects the history at that link's height."""
    wire: Any = parse_canonical_json(canonical_json(chain.history.to_wire()))
    index = data.draw(st.integers(0, len(chain.history) - 1), label="link")
    paths = list(_hex_paths(wire["links"][index]))
    path, text = data.draw(st.sampled_from(paths), label="field")
    position = data.draw(st.integers(0, len(text) - 1), label="position")
    digit = data.draw(st.sampled_from([c for c in "0123456789abcdef" if c != text[position]]))
    _set(wire["links"][index], path, text[:position] + digit + text[position + 1 :])
    try:
        history = parse_history(wire)
    except ProtocolViolation:
        return  # no longer well formed (e.g. a key that is not a curve point)
    verdict = verifier_of(chain).check(anchor_of(chain), history)
    assert not verdict.accepted
    assert verdict.height == index + 1, (path, verdict.rule_id, verdict.reason)


@pytest.mark.req("R7.4", "P29")
def test_evidence_applied_twice_is_rejected(chain: Chain) -> None:
    sim = Simulation(
        SimConfig(
            seed=0,
            validators=7,
            heights=4,
            mode="broadcast",
            per_block=2,
            accounts=8,
            byzantine=(("double-vote", 0.2),),
        )
    )
    assert sim.run().ok
    node = next(n.index for n in sim.engine.nodes if n.honest)
    real = chain_from_simulation(sim, node, 4)
    verifier = HistoryVerifier(real.validators, verify=memo_verify)
    anchor = HistoryAnchor.genesis(real.genesis)
    assert verifier.check(anchor, real.history).accepted
    height = next(i + 1 for i, link in enumerate(real.history.links) if link.block.evidence)
    assert height < 4
    later = real.link(height + 1)
    again = resign_block(
        real, later.block, evidence=(*later.block.evidence, real.link(height).block.evidence[0])
    )
    assert later.certificate is not None
    certificate = recertify(real, again, later.certificate.post_root)
    forged = real.history.replace(height, HistoryLink(again, certificate, later.changes))
    verdict = verifier.check(anchor, forged)
    assert (verdict.accepted, verdict.height, verdict.rule_id) == (False, height + 1, "R4.2")


# ---------------------------------------------------------------------- choosing (R3.3, P12)


@pytest.mark.req("R3.3", "P12")
@given(
    kind=st.sampled_from([t.kind for t in TAMPERS if t.last_offset == 0]),
    height=st.integers(2, 4),
    valid_first=st.booleans(),
)
def test_of_a_valid_and_a_tampered_history_the_valid_one_is_chosen(
    chain: Chain, kind: str, height: int, valid_first: bool
) -> None:
    forged = build_case(chain, kind, height).history
    first, second = (chain.history, forged) if valid_first else (forged, chain.history)
    choice = verifier_of(chain).choose(anchor_of(chain), first, second)
    assert choice.choice is (Choice.FIRST if valid_first else Choice.SECOND)
    assert choice.fork is None
    adopted = choice.require()
    expected = valid_case(chain)
    assert (adopted.tip_height, adopted.tip_root) == (expected.height, expected.root)


@pytest.mark.req("R3.3", "P12")
def test_when_neither_history_verifies_neither_is_accepted(chain: Chain) -> None:
    first = build_case(chain, "mint-quorum", 3).history
    second = build_case(chain, "under-quorum", 2).history
    choice = verifier_of(chain).choose(anchor_of(chain), first, second)
    assert choice.choice is Choice.NEITHER and choice.chosen is None
    with pytest.raises(ProtocolViolation) as raised:
        choice.require()
    assert raised.value.rule_id == "R3.3"


@pytest.mark.req("R3.3", "P12")
@pytest.mark.parametrize("longer_first", [True, False], ids=["longer-first", "longer-second"])
def test_a_history_that_extends_the_other_wins(chain: Chain, longer_first: bool) -> None:
    short = chain.history.prefix(2)
    first, second = (chain.history, short) if longer_first else (short, chain.history)
    choice = verifier_of(chain).choose(anchor_of(chain), first, second)
    assert choice.choice is (Choice.FIRST if longer_first else Choice.SECOND)
    assert choice.require().tip_height == len(chain.history)


@pytest.mark.req("R3.3", "P12")
@pytest.mark.parametrize("height", [1, 2, 3, 4])
def test_two_valid_conflicting_histories_are_reported_with_the_double_signers(
    chain: Chain, height: int
) -> None:
    """A fork with q(W) on each side: no choice, but the evidence: the certificates of the
    height and the validators that signed both, holding more than W/3 (I2)."""
    real = chain.link(height).certificate
    assert real is not None
    others = [v for v in all_validators(chain) if v != real.members[0]]
    fork_link = alternative_link(chain, height, others)
    forked = History((*chain.history.links[: height - 1], fork_link))
    verifier = verifier_of(chain)
    assert verifier.check(anchor_of(chain), forked).accepted
    choice = verifier.choose(anchor_of(chain), chain.history, forked)
    assert choice.choice is Choice.CONFLICT and choice.chosen is None
    fork = choice.fork
    assert fork is not None and fork.height == height
    assert set(fork.signers) == set(real.members) & set(others)
    assert fork.stake == sum(chain.validators.stake_of(v) for v in fork.signers)
    assert 3 * fork.stake > fork.total_stake == chain.validators.total_stake
    with pytest.raises(SafetyViolation) as raised:
        choice.require()
    assert raised.value.rule_id == "R2.4" and raised.value.fork == fork
    # Same view: each pair of COMMIT votes is equivocation evidence anyone can check (R4.2).
    reporter = all_validators(chain)[0]
    checker = DirectSignatureChecker()
    for vote_a, vote_b in fork.conflicting_votes():
        evidence = Evidence.equivocation(KeySigner(reporter, chain.keys[reporter]), vote_a, vote_b)
        check_evidence(evidence, chain.validators, checker, lambda block, index: False)


@pytest.mark.req("R3.3", "P12")
def test_a_fork_in_the_verified_part_of_a_rejected_history_is_still_reported(
    chain: Chain,
) -> None:
    """A history that forks at height 2 with q(W) and breaks at 3: the fork proves more than W/3
    signed both sides, so the reference adopts neither and reports the fork."""
    real = chain.link(2).certificate
    assert real is not None
    others = [v for v in all_validators(chain) if v != real.members[0]]
    fork_link = alternative_link(chain, 2, others)
    broken = build_case(chain, "missing-certificate", 3).history.links[2]
    forked = History((chain.history.links[0], fork_link, broken))
    choice = verifier_of(chain).choose(anchor_of(chain), chain.history, forked)
    assert not choice.second.accepted and choice.second.height == 3
    assert choice.choice is Choice.CONFLICT and choice.fork is not None
    assert choice.fork.height == 2


@pytest.mark.req("R3.3", "P12")
def test_a_real_fork_by_a_coalition_above_a_third_is_reported_naming_only_the_coalition() -> None:
    """An over-threshold coalition splits the honest validators between two blocks of height
    1 (aethel.sim's fork behaviour): both sides' histories verify; choosing between them names
    validators of the coalition only, holding more than W/3."""
    for seed in range(200):
        sim = Simulation(
            SimConfig(
                seed=seed,
                validators=10,
                mode="broadcast",
                heights=2,
                byzantine=(("fork", 0.4),),
                max_time_ns=20_000_000_000,
            )
        )
        if sim.validators.get_leader(1, 0).id in {sim.ids[i] for i in sim.behaviours}:
            break
    sim.run()
    coalition = {sim.ids[i] for i in sim.behaviours}
    verifier = HistoryVerifier(sim.validators, verify=memo_verify)
    anchor = HistoryAnchor.genesis(sim.genesis)
    # Height 1 as each honest node committed it. (Later heights are not compared: a node that
    # committed one side and then synced a later height of the other stores blocks of both,
    # a chain that does not verify, R3.3.)
    firsts = [h.prefix(1) for _, h, _ in honest_histories(sim)]
    sides = sorted({h.links[0].block.digest for h in firsts})
    assert len(sides) == 2  # the fork happened
    a = next(h for h in firsts if h.links[0].block.digest == sides[0])
    b = next(h for h in firsts if h.links[0].block.digest == sides[1])
    choice = verifier.choose(anchor, a, b)
    assert choice.choice is Choice.CONFLICT and choice.fork is not None
    assert choice.fork.height == 1 and set(choice.fork.signers) <= coalition
    assert 3 * choice.fork.stake > choice.fork.total_stake


# ---------------------------------------------------------------------- anchors, wire, rules


@pytest.mark.req("R3.3")
def test_a_history_verifies_from_a_checkpoint_the_node_trusts(chain: Chain) -> None:
    """Heights 3 and 4 from the state of height 2 (as after a snapshot sync, R3.5)."""
    second = chain.link(2)
    assert second.certificate is not None
    entries = chain.repository.get(second.certificate.post_root).leaves()
    anchor = HistoryAnchor.checkpoint(2, second.block.digest, entries, chain.validators)
    tail = History(chain.history.links[2:])
    verifier = verifier_of(chain)
    verdict = verifier.check(anchor, tail)
    assert verdict.accepted and verdict.height == 4
    assert verdict.root == valid_case(chain).root
    weak = build_case(chain, "parent-certificate-under-quorum", 3).history
    verdict = verifier.check(anchor, History(weak.links[2:]))
    assert (verdict.accepted, verdict.height, verdict.rule_id) == (False, 3, "R2.3")
    # The tail does not verify from the genesis: its first block is not height 1.
    assert not verifier.check(anchor_of(chain), tail).accepted


@pytest.mark.req("R3.3")
def test_the_wire_form_round_trips_and_rejects_malformed_histories(chain: Chain) -> None:
    wire = parse_canonical_json(canonical_json(chain.history.to_wire()))
    again = parse_history(wire)
    assert again == chain.history
    assert [link.changes for link in again.links] == [link.changes for link in chain.history.links]
    assert verifier_of(chain).check(anchor_of(chain), again).accepted
    link = chain.history.to_wire()["links"][0]  # type: ignore[index]
    for bad in (
        [],
        {"links": {}},
        {"links": [], "extra": 1},
        {"links": [{"block": link["block"], "certificate": None}]},
        {"links": [{**link, "changes": {"balance:x": 1.5}}]},
        {"links": [{**link, "changes": ["balance:x", 1]}]},
    ):
        with pytest.raises(EncodingError):
            parse_history(bad)


def test_changes_between_two_states_list_updates_and_deletions() -> None:
    assert compute_changes({"a": 1, "b": 2, "c": 3}, {"a": 1, "b": 5, "d": 4}) == {
        "b": 5,
        "c": None,
        "d": 4,
    }


def test_a_rejection_keeps_its_rule_and_height_across_processes() -> None:
    error = pickle.loads(pickle.dumps(HistoryRejected("R3.6", 7, "books")))
    assert (error.rule_id, error.height, error.detail) == ("R3.6", 7, "books")


def test_a_block_certified_in_view_v_may_come_from_any_leader_of_views_up_to_v(
    chain: Chain,
) -> None:
    validators = chain.validators
    assert is_possible_proposer(validators, 5, 0, validators.get_leader(5, 0).id)
    led: set[str] = set()
    for view in range(64):
        leader = validators.get_leader(5, view).id
        if leader not in led:
            assert is_possible_proposer(validators, 5, view, leader)
            assert view == 0 or not is_possible_proposer(validators, 5, view - 1, leader)
        led.add(leader)
    assert len(led) > 1
    assert not is_possible_proposer(validators, 5, 3, "nobody")


@pytest.mark.req("R3.3")
def test_a_block_by_a_member_that_led_no_view_is_rejected(chain: Chain) -> None:
    link = chain.link(1)
    assert link.certificate is not None and link.certificate.view == 0
    validators = chain.validators
    other = next(v.id for v in validators.validators if v.id != validators.get_leader(1, 0).id)
    block = link.block
    forged_block = ProofBlock.create(
        KeySigner(other, chain.keys[other]),
        1,
        block.parent,
        block.transactions,
        block.proofs,
        block.evidence,
        block.last_commit,
    )
    certificate = recertify(chain, forged_block, link.certificate.post_root)
    forged = chain.history.replace(0, HistoryLink(forged_block, certificate, link.changes))
    verdict = verifier_of(chain).check(anchor_of(chain), forged)
    assert (verdict.accepted, verdict.height, verdict.rule_id) == (False, 1, "R2.6")


def test_below_quorum_keeps_a_majority_short_of_q(chain: Chain) -> None:
    certificate = chain.link(1).certificate
    assert certificate is not None
    kept = below_quorum(chain, certificate)
    stake = sum(chain.validators.stake_of(v.validator) for v in kept)
    assert 2 * stake > chain.validators.total_stake and stake < chain.validators.quorum
