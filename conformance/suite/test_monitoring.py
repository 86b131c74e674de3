"""Monitoring: per-height metrics, cumulative rewards, the health view and the accuracy alert
rule (R8.1, R8.3, R8.4, R8.6, P32, P34, P35).

The implementation's replicas run in a mixed cluster (five validators, one silent, broadcast
mode, WAN-7) beside reference ones; afterwards each reports its monitoring view
(``monitoring.metrics``): one record per committed height, cumulative rewards, a health view and
its Prometheus text exposition (names in conformance/PROTOCOL.md and spec/monitoring.md). The
suite compares them with what it saw happen: the heights the replica committed, the members of
their certificates, the proofs of their blocks, the total difficulty the reference computed for
the same blocks, the rewards computed with :mod:`aethel.economics` from the certificates, and the
virtual times at which the replica received proposals and committed.

The accuracy rule (R8.3) is checked on verdict sequences fed to the implementation's tracker,
against the rule of spec/monitoring.md with the catalog's window and threshold.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from aethel.economics import compute_reward_split
from aethel.sim.simulator import SimConfig
from conformance.adapters.api import Implementation, MonitoringAPI, ReplicaAPI
from conformance.capabilities import declared_consensus_versions
from conformance.checks import Inconclusive, expect_equal
from conformance.mixed import MixedResult, leader_is_byzantine, run_mixed, seed_where
from conformance.plugin import catalog_threshold
from conformance.suite.fixtures import get_api
from conformance.suite.test_consensus import require_clean
from conformance.testvectors import cases

pytestmark = pytest.mark.capability("monitoring")
HEIGHTS = 5
IMPL_NODES = 2
#: spec/monitoring.md R8.6: the health view looks at the last 10 committed heights.
HEALTH_HEIGHTS = 10
PROPOSALS = ("pre-prepare", "new-view")
VOTES = ("prepare", "commit")
CERTIFICATES = ("prepare-certificate", "commit-certificate")


# --------------------------------------------------------------------------- recording


@dataclass
class Timeline:
    """Virtual times (ns) of one replica's events, as the harness delivered them."""

    started_at: int = 0
    proposals: dict[int, int] = field(default_factory=dict)
    committed: list[dict[str, Any]] = field(default_factory=list)
    commit_times: dict[int, int] = field(default_factory=dict)
    #: (validator, height, view, type) of each PREPARE and COMMIT it received or sent.
    votes: set[tuple[str, int, int, str]] = field(default_factory=set)
    #: Each version-2 certificate it received or sent (wire form): its bitmap names votes too.
    certificates: list[dict[str, Any]] = field(default_factory=list)
    #: The validators it reported false-claim evidence against (R8.5).
    false_claims: set[str] = field(default_factory=set)

    def note_in(self, message: Any, now: int) -> None:
        if not isinstance(message, dict):
            return
        if message.get("type") in PROPOSALS:
            self.proposals.setdefault(int(message["height"]), now)
        elif message.get("type") in VOTES:
            key = (message["validator"], message["height"], message["view"], message["type"])
            self.votes.add(key)
        elif message.get("type") in CERTIFICATES and "signers" in message:
            self.certificates.append(message)

    def note_out(self, outputs: Any, now: int) -> Any:
        """Note the proposals sent and the commits among ``outputs``; return ``outputs``."""
        for out in outputs if isinstance(outputs, list) else []:
            if out.get("type") in ("send", "broadcast"):
                self.note_in(out.get("message"), now)
            elif out.get("type") == "committed":
                self.committed.append(out)
                self.commit_times.setdefault(int(out["height"]), now)
            elif out.get("type") == "evidence" and out.get("offence") == "false-claim":
                self.false_claims.add(out["offender"])
        return outputs


class RecordingReplica:
    """An implementation's replica object, with the times of what went in and out noted."""

    def __init__(self, remote: Any, timeline: Timeline) -> None:
        self.remote = remote
        self.timeline = timeline

    def __getattr__(self, name: str) -> Any:
        return getattr(self.remote, name)

    def start(self, now: int) -> Any:
        self.timeline.started_at = now
        return self.timeline.note_out(self.remote.start(now), now)

    def on_message(self, message: Any, now: int) -> Any:
        self.timeline.note_in(message, now)
        return self.timeline.note_out(self.remote.on_message(message, now), now)

    def on_timer(self, height: int, view: int, kind: str, now: int) -> Any:
        return self.timeline.note_out(self.remote.on_timer(height, view, kind, now), now)

    def batch_process_messages(self, messages: list[Any], now: int) -> Any:
        for message in messages:
            self.timeline.note_in(message, now)
        return self.timeline.note_out(self.remote.batch_process_messages(messages, now), now)

    def on_sync_completed(self, certificate: Any, block: Any, state: Any, now: int) -> Any:
        outputs = self.remote.on_sync_completed(certificate, block, state, now)
        return self.timeline.note_out(outputs, now)


class RecordingImplementation:
    """The implementation under test, whose new replicas are wrapped in RecordingReplica."""

    def __init__(self, impl: Implementation) -> None:
        self.impl = impl
        self.name, self.version, self.capabilities = impl.name, impl.version, impl.capabilities
        self.timelines: dict[str, Timeline] = {}
        self.replicas: dict[str, RecordingReplica] = {}

    def api(self, capability: str) -> Any:
        api = self.impl.api(capability)
        if capability != "replica":
            return api
        owner = self

        class Replicas:
            def __getattr__(self, name: str) -> Any:
                return getattr(api, name)

            def new(self, validator_set: Any, validator_id: str, *rest: Any) -> Any:
                timeline = owner.timelines.setdefault(validator_id, Timeline())
                remote = RecordingReplica(api.new(validator_set, validator_id, *rest), timeline)
                owner.replicas[validator_id] = remote
                return remote

        return Replicas()

    def close(self) -> None:
        """The suite closes the implementation itself."""


@dataclass
class Scenario:
    """A finished mixed run and each implementation node's monitoring view."""

    mixed: MixedResult
    recording: RecordingImplementation
    silent: set[str]
    views: dict[str, dict[str, Any]]

    def reference_executions(self) -> dict[str, Any]:
        """Return the reference's execution of every block a reference node committed, by
        digest (hex)."""
        impl_nodes = set(self.mixed.impl_nodes)
        return {
            r.digest.hex(): r.committed.execution
            for r in self.mixed.commits
            if r.node not in impl_nodes
        }


#: The scenario runs in each consensus version the implementation declares: version 2's
#: certificates name their voters by a bitmap (V2.7), and the monitoring view must still count
#: them (R8.1 participants, R8.4 rewards, R8.6 active validators).
VERSIONS = [1, pytest.param(2, marks=pytest.mark.consensus_version(2))]


@pytest.fixture(scope="module", params=VERSIONS, ids=lambda v: f"v{v}")
def scenario(
    request: pytest.FixtureRequest,
    impl: Implementation,
    replica_api: ReplicaAPI,
    monitoring_api: MonitoringAPI,
    seed: int,
) -> Scenario:
    if request.param not in declared_consensus_versions(impl):
        # The module's scenario is built before the capability gate of each case looks at the
        # param's mark: skip here, with the gate's reason, rather than run version 2 anyway.
        pytest.skip(f"{impl.name} does not declare consensus protocol version {request.param}")
    config = SimConfig(
        validators=5,
        heights=HEIGHTS,
        mode="broadcast",
        seed=seed,
        byzantine=(("silent", 0.2),),
        protocol_v2_height=1 if request.param == 2 else None,
    )
    recording = RecordingImplementation(impl)
    mixed = run_mixed(recording, config, IMPL_NODES)
    require_clean(mixed, HEIGHTS)
    sim = mixed.sim
    silent = {sim.ids[i] for i, kind in sim.behaviours.items() if kind == "silent"}
    views = {name: replica.remote.metrics() for name, replica in recording.replicas.items()}
    return Scenario(mixed, recording, silent, views)


def members(mixed: MixedResult, certificate: dict[str, Any]) -> list[str]:
    """Return the validators whose votes ``certificate`` (wire form) holds: its votes in
    version 1, its signer bitmap over the validator set in version 2 (V2.7: member i is bit
    0x80 >> (i mod 8) of byte i // 8, in set order)."""
    if "votes" in certificate:
        return [v for v, _ in certificate["votes"]]
    bits = bytes.fromhex(certificate["signers"])
    ids = [v.id for v in mixed.sim.validators.validators]
    return [ids[i] for i in range(len(ids)) if bits[i // 8] & (0x80 >> (i % 8))]


def samples(exposition: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Parse a Prometheus text exposition into {(sample name, labels): value}."""
    try:
        families = list(text_string_to_metric_families(exposition))
    except Exception as exc:  # the parser raises bare exceptions on malformed text
        raise AssertionError(f"the exposition is not Prometheus text format: {exc}") from None
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples}


def sample(values: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str,
           **labels: str) -> float:  # fmt: skip
    key = (name, tuple(sorted(labels.items())))
    if key not in values:
        raise AssertionError(f"the exposition lacks {name}{labels or ''}")
    return values[key]


# --------------------------------------------------------------------------- R8.1 / P32


@pytest.mark.req("R8.1", "P32")
@pytest.mark.capability("replica")
def test_each_committed_height_emits_its_metrics(scenario: Scenario) -> None:
    """One record per committed height, in order, with the certificate's member count, the
    block's proof count, the reference's total difficulty for the block, and a duration that
    lies between commit time minus the height's earliest and latest plausible start (the
    replica entering the height, or the first proposal it received or sent); the exposition's
    gauges and histogram agree."""
    executions = scenario.reference_executions()
    for name, view in sorted(scenario.views.items()):
        timeline = scenario.recording.timelines[name]
        records = view["heights"]
        committed = timeline.committed
        expect_equal(
            [r["height"] for r in records],
            [c["height"] for c in committed],
            f"{name}: heights with a metrics record",
        )
        for record, out in zip(records, committed, strict=True):
            height = out["height"]
            digest = out["certificate"]["digest"]
            if digest not in executions:
                raise Inconclusive(f"no reference node committed block {digest[:16]} of {height}")
            expected = {
                "height": height,
                "view": out["view"],
                "participants": len(members(scenario.mixed, out["certificate"])),
                "proof_count": len(out["block"]["proofs"]),
                "total_difficulty": executions[digest].total_difficulty,
            }
            got = {k: record.get(k) for k in expected}
            expect_equal(got, expected, f"{name}: metrics of height {height}")
            check_duration(name, height, record["duration_ns"], timeline)
        values = samples(view["exposition"])
        last = records[-1]
        expect_equal(
            {
                "aethel_height": sample(values, "aethel_height"),
                "aethel_heights_committed_total": sample(values, "aethel_heights_committed_total"),
                "aethel_height_participants": sample(values, "aethel_height_participants"),
                "aethel_height_proofs": sample(values, "aethel_height_proofs"),
                "aethel_height_total_difficulty": sample(values, "aethel_height_total_difficulty"),
                "aethel_height_duration_seconds_count": sample(
                    values, "aethel_height_duration_seconds_count"
                ),
            },
            {
                "aethel_height": float(last["height"]),
                "aethel_heights_committed_total": float(len(records)),
                "aethel_height_participants": float(last["participants"]),
                "aethel_height_proofs": float(last["proof_count"]),
                "aethel_height_total_difficulty": float(last["total_difficulty"]),
                "aethel_height_duration_seconds_count": float(len(records)),
            },
            f"{name}: exposition",
        )
        total_s = sum(r["duration_ns"] for r in records) / 1e9
        got_s = sample(values, "aethel_height_duration_seconds_sum")
        if not math.isclose(got_s, total_s, rel_tol=1e-9, abs_tol=1e-9):
            raise AssertionError(f"{name}: duration histogram sums {got_s} s, records {total_s} s")


def check_duration(name: str, height: int, duration: int, timeline: Timeline) -> None:
    commit = timeline.commit_times[height]
    entered = timeline.commit_times.get(height - 1, timeline.started_at)
    starts = [entered] + ([timeline.proposals[height]] if height in timeline.proposals else [])
    low, high = commit - max(starts), commit - min(starts)
    if not low <= duration <= high or duration <= 0:
        raise AssertionError(
            f"{name}: height {height} lasted {duration} ns by its metrics; committed at {commit} "
            f"ns after entering it at {entered} ns and a first proposal at "
            f"{timeline.proposals.get(height)} ns, so between {max(low, 1)} and {high} ns"
        )


# --------------------------------------------------------------------------- R8.4 / P35


def expected_rewards(scenario: Scenario, committed: list[dict[str, Any]]) -> dict[str, int]:
    """Sum the shares each committed transition paid, computed with aethel.economics: block h
    pays the reward of block h - 1 (the reference's pending reward of that block) to the members
    of the certificate it carries, by stake, the remainder to h - 1's proposer."""
    executions = scenario.reference_executions()
    validators = scenario.mixed.sim.validators
    by_height = {c["height"]: c for c in committed}
    totals: dict[str, int] = {}
    for _, out in sorted(by_height.items()):
        certificate = out["block"].get("last_commit")
        if certificate is None:
            continue
        parent = by_height.get(certificate["height"])
        if parent is None:
            raise Inconclusive(f"height {certificate['height']} was not committed by this node")
        amount = executions[parent["certificate"]["digest"]].pending_reward
        signers = {v: validators.stake_of(v) for v in members(scenario.mixed, certificate)}
        shares = compute_reward_split(amount, signers, parent["block"]["proposer"])
        for validator, share in shares.items():
            totals[validator] = totals.get(validator, 0) + share
    return {v: t for v, t in sorted(totals.items()) if t}


@pytest.mark.req("R8.4", "P35")
@pytest.mark.capability("replica")
def test_cumulative_rewards_are_exact(scenario: Scenario) -> None:
    """Each validator's reported total equals the sum of its shares in the transitions the node
    committed, in the JSON view and in the exposition's counters."""
    for name, view in sorted(scenario.views.items()):
        expected = expected_rewards(scenario, scenario.recording.timelines[name].committed)
        if not expected:
            raise Inconclusive("the scenario paid no reward")
        got = {v: t for v, t in sorted(view["rewards"].items()) if t}
        expect_equal(got, expected, f"{name}: cumulative rewards")
        values = samples(view["exposition"])
        for validator, total in expected.items():
            counted = sample(values, "aethel_validator_rewards_total", validator=validator)
            if counted != float(total):
                raise AssertionError(
                    f"{name}: exposition counts {counted} rewards for {validator}, not {total}"
                )


# --------------------------------------------------------------------------- R8.6


@pytest.mark.req("R8.6")
@pytest.mark.capability("replica")
def test_health_view_shows_validators_latency_and_throughput(scenario: Scenario) -> None:
    """The health view names the latest committed height; every member of a recent certificate
    is active with its stake and the silent validator is not; the latency is the recent heights'
    durations and the throughput their proofs over their summed durations."""
    validators = scenario.mixed.sim.validators
    for name, view in sorted(scenario.views.items()):
        health, records = view["health"], view["heights"][-HEALTH_HEIGHTS:]
        committed = scenario.recording.timelines[name].committed[-HEALTH_HEIGHTS:]
        expect_equal(health["height"], committed[-1]["height"], f"{name}: health height")
        expect_equal(
            health["consensus_latency_ns"],
            [r["duration_ns"] for r in records],
            f"{name}: consensus latency",
        )
        throughput = sum(r["proof_count"] for r in records) / (
            sum(r["duration_ns"] for r in records) / 1e9
        )
        if not math.isclose(health["proof_throughput_per_s"], throughput, rel_tol=1e-9):
            raise AssertionError(
                f"{name}: proof throughput {health['proof_throughput_per_s']}, "
                f"expected {throughput} (proofs over summed durations)"
            )
        active = health["active_validators"]
        signers = sorted({v for c in committed for v in members(scenario.mixed, c["certificate"])})
        missing = [v for v in signers if v not in active]
        if missing:
            raise AssertionError(f"{name}: certificate members {missing} are not shown active")
        wrongly = sorted(scenario.silent & set(active))
        if wrongly:
            raise AssertionError(f"{name}: silent validator(s) {wrongly} are shown active")
        expect_equal(active, {v: validators.stake_of(v) for v in active}, f"{name}: active stakes")


# --------------------------------------------------------------------------- R8.3 / P34


def expected_alerts(verdicts: list[tuple[str, bool]]) -> list[dict[str, Any]]:
    """Return the alerts spec/monitoring.md requires for the verdict sequence (R8.3, P34)."""
    window = int(catalog_threshold("R8.3", "accuracy_window_verdicts").value)
    below = Fraction(str(catalog_threshold("R8.3", "accuracy_alert_below").value))
    min_verdicts = int(catalog_threshold("R8.3", "accuracy_min_verdicts").value)
    recent: dict[str, list[bool]] = {}
    alerting: set[str] = set()
    alerts = []
    for index, (validator, correct) in enumerate(verdicts):
        kept = recent.setdefault(validator, [])
        kept.append(correct)
        del kept[:-window]
        if len(kept) < min_verdicts:
            continue
        good = sum(kept)
        if Fraction(good, len(kept)) < below:
            if validator not in alerting:
                alerting.add(validator)
                alerts.append(
                    {"index": index, "validator": validator, "correct": good, "verdicts": len(kept)}
                )
        else:
            alerting.discard(validator)
    return alerts


def _interleaved(rng: random.Random) -> list[tuple[str, bool]]:
    """Four validators interleaved, error rates around the threshold, 2,000 verdicts."""
    rates = {"v1": 0.0, "v2": 0.04, "v3": 0.06, "v4": 0.1}
    names = sorted(rates)
    return [(v, rng.random() >= rates[v]) for v in (rng.choice(names) for _ in range(2_000))]


def _fixed(name: str) -> Callable[[random.Random], list[tuple[str, bool]]]:
    return lambda rng: cases.accuracy_sequences()[name]


#: The fixed sequences of the vectors (cases.accuracy_sequences: steady, the 95% boundary, wrong
#: verdicts before 20, recovery and a fall again, two validators) and one drawn from the seed.
SEQUENCES: dict[str, Callable[[random.Random], list[tuple[str, bool]]]] = {
    **{name: _fixed(name) for name in cases.accuracy_sequences()},
    "interleaved": _interleaved,
}


@pytest.mark.req("R8.3", "P34")
@pytest.mark.parametrize("sequence", sorted(SEQUENCES), ids=str)
def test_accuracy_alert_rule(monitoring_api: MonitoringAPI, seed: int, sequence: str) -> None:
    verdicts = SEQUENCES[sequence](random.Random(f"aethel-conformance/accuracy/{seed}"))
    got = monitoring_api.accuracy_alerts([{"validator": v, "correct": c} for v, c in verdicts])
    expect_equal(got, expected_alerts(verdicts), f"alerts raised by the {sequence} sequence")


# --------------------------------------------------------------------------- R8.3 live


#: Heights of the live-accuracy scenario: enough for every validator's window to pass 20.
ACCURACY_HEIGHTS = 15


@dataclass
class AccuracyScenario:
    """A mixed run with a validator that votes for invalid blocks, and each implementation
    node's live accuracy (``live-accuracy.accuracy``) afterwards."""

    mixed: MixedResult
    mode: str
    recording: RecordingImplementation
    byzantine: set[str]
    answers: dict[str, dict[str, Any]]

    def votes_seen(self, name: str) -> set[tuple[str, int, int, str]]:
        """Return the distinct votes node ``name`` received or sent: single votes, and in
        version 2 the members of each certificate (V2.7)."""
        timeline = self.recording.timelines[name]
        seen = set(timeline.votes)
        for certificate in timeline.certificates:
            phase = certificate["type"].removesuffix("-certificate")
            height, view = certificate["height"], certificate["view"]
            seen.update((m, height, view, phase) for m in members(self.mixed, certificate))
        return seen


#: (protocol version, mode) of each live-accuracy run. In version 2's collector mode a node
#: that does not collect sees its peers' votes only as the members of a certificate.
ACCURACY_RUNS = [
    pytest.param((1, "broadcast"), id="v1"),
    pytest.param((2, "broadcast"), id="v2", marks=pytest.mark.consensus_version(2)),
    pytest.param((2, "collector"), id="v2-collector", marks=pytest.mark.consensus_version(2)),
]


@pytest.fixture(scope="module", params=ACCURACY_RUNS)
def live_accuracy(
    request: pytest.FixtureRequest, impl: Implementation, replica_api: ReplicaAPI, seed: int
) -> AccuracyScenario:
    get_api(impl, "live-accuracy")  # skips, with the reason, before the cluster runs
    version, mode = request.param
    if version not in declared_consensus_versions(impl):
        pytest.skip(f"{impl.name} does not declare consensus protocol version {version}")

    def make(offset: int) -> SimConfig:
        return SimConfig(
            validators=5,
            heights=ACCURACY_HEIGHTS,
            mode=mode,
            seed=seed + offset,
            byzantine=(("invalid-vote", 0.2),),
            protocol_v2_height=1 if version == 2 else None,
        )

    # The Byzantine validator leads height 1, so it proposes an invalid block and votes for it.
    config = seed_where(leader_is_byzantine(1), make)
    recording = RecordingImplementation(impl)
    mixed = run_mixed(recording, config, IMPL_NODES)
    require_clean(mixed, ACCURACY_HEIGHTS)
    sim = mixed.sim
    byzantine = {sim.ids[i] for i in sim.behaviours}
    answers = {name: replica.remote.accuracy() for name, replica in recording.replicas.items()}
    return AccuracyScenario(mixed, mode, recording, byzantine, answers)


@pytest.mark.req("R8.3", "R8.6", "P34")
@pytest.mark.capability("replica")
@pytest.mark.capability("live-accuracy")
def test_live_accuracy_judges_each_vote_once_and_alerts_the_false_claimer(
    live_accuracy: AccuracyScenario,
) -> None:
    """spec/monitoring.md, R8.3: each PREPARE or COMMIT a validator signs is one verdict, judged
    against the node's own validation of the block, counted once per (validator, height, view,
    vote type), the node's own votes too; the window is the last 100; an alert is open while a
    window of at least 20 verdicts is below 95% correct, and the health view lists it (R8.6).

    Five validators, broadcast mode, one voting for invalid blocks (it leads height 1 and
    proposes a false proof), 15 heights, two of the honest nodes the implementation's; in
    version 1 and in version 2 (votes signed with BLS, V2.3), and in version 2's collector mode,
    where a node that does not collect sees its peers' votes as a certificate's bitmap (V2.7).
    For each of them: no window holds more verdicts than the distinct votes of that validator it
    received or sent (a certificate's members included), or more than 100; every verdict of an
    honest validator is correct (an honest validator's accuracy is 1); each honest validator
    whose votes it saw, itself included, has a judged verdict; in broadcast mode, the validator
    it reported a false claim against has a wrong one; and the open alerts are exactly the
    windows of 20 or more verdicts below 95%.

    Version 2 was written from the mechanical survivor ``aethel/monitoring/node.py:NodeMonitor.
    _on_certificate:ZeroIterationForLoop:abcc7aed`` (a certificate's members never judged); it
    found the reference judging no version-2 vote it received (fixed in 98589c7)."""
    window = int(catalog_threshold("R8.3", "accuracy_window_verdicts").value)
    byzantine = live_accuracy.byzantine
    for name, answer in sorted(live_accuracy.answers.items()):
        timeline = live_accuracy.recording.timelines[name]
        seen: dict[str, int] = {}
        for validator, *_ in live_accuracy.votes_seen(name):
            seen[validator] = seen.get(validator, 0) + 1
        windows = answer["windows"]
        for validator, numbers in sorted(windows.items()):
            correct, verdicts = numbers["correct"], numbers["verdicts"]
            if not 0 <= correct <= verdicts <= min(window, seen.get(validator, 0)):
                raise AssertionError(
                    f"{name}: {validator}'s window holds {correct} correct of {verdicts} "
                    f"verdicts, but it saw {seen.get(validator, 0)} distinct votes of "
                    f"{validator} (each counts once) and a window holds at most {window}"
                )
            if validator not in byzantine and correct != verdicts:
                raise AssertionError(
                    f"{name}: {validator} is honest (every block it voted for is valid), yet "
                    f"{verdicts - correct} of its {verdicts} verdicts were judged wrong"
                )
        unjudged = [v for v in sorted(seen) if v not in byzantine and v not in windows]
        if unjudged:
            raise AssertionError(
                f"{name}: no verdict of {unjudged} judged, though it saw their votes for blocks "
                f"it validated over {ACCURACY_HEIGHTS} heights (its own votes count too)"
            )
        if live_accuracy.mode == "collector":
            # The false claimer's vote for its block went to a collector, maybe not this node:
            # the verdicts above and the alerts below are what this run shows.
            expect_equal(answer["alerts"], _alerts(windows), f"{name}: the open accuracy alerts")
            continue
        if not timeline.false_claims & byzantine:
            raise Inconclusive(f"{name} reported no false claim by {sorted(byzantine)}")
        for offender in sorted(timeline.false_claims & byzantine):
            numbers = windows.get(offender, {"correct": 0, "verdicts": 0})
            if numbers["correct"] == numbers["verdicts"]:
                raise AssertionError(
                    f"{name}: it reported {offender}'s false claim, yet judged all "
                    f"{numbers['verdicts']} of its verdicts correct: a vote for a block the node "
                    "found invalid is a wrong verdict"
                )
        expected = _alerts(windows)
        expect_equal(answer["alerts"], expected, f"{name}: the open accuracy alerts")
        if not expected:
            raise Inconclusive(
                f"{name}: no window is below 95% ({windows}): the scenario should have shown "
                f"{sorted(byzantine)}'s wrong verdicts raising an alert"
            )


def _alerts(windows: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    """Return the alerts R8.3 keeps open for ``windows``: each window of at least the
    catalog's least verdicts whose share of correct ones is below its threshold."""
    below = Fraction(str(catalog_threshold("R8.3", "accuracy_alert_below").value))
    least = int(catalog_threshold("R8.3", "accuracy_min_verdicts").value)
    return [
        {"validator": v, "correct": w["correct"], "verdicts": w["verdicts"]}
        for v, w in sorted(windows.items())
        if w["verdicts"] >= least and Fraction(w["correct"], w["verdicts"]) < below
    ]
