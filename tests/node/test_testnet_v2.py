"""Protocol version 2 in real processes: a 4-validator loopback testnet moves from version 1 to
version 2 at height H2 (spec/consensus-v2.md, V2.1, V2.2).

``TestMovesToVersionTwo``: four validators whose genesis names H2 = 3 commit across H2; every node
reports the same block and root at every height; certificates below H2 hold signed votes and
from H2 on a signer bitmap and one BLS aggregate, the block of H2 carries the version-1
certificate of H2 - 1, and the chain a node serves verifies by each height's version (and is
refused naming V2.2 when read with another activation height). The set declares two regions
(v000-v002 in one, v003 in the other), so at the heights v003 leads, a validator of the other
region collects the votes (V2.10): those heights commit in view 0 too. Each node's monitor counts
the version-2 votes from the certificates' bitmaps (/metrics). Signed transfers with their proofs
commit at version-2 heights and the supply books balance (rewards by bitmap). A wiped node
rejoins by a state sync whose certified chain crosses H2.

``TestVersionOneOnlyNodeStops``: the same move with v003 configured to run version 1 only
(node.json ``protocol_versions`` [1]). The spec says a node that implements only version 1
cannot start the heights of version 2 and stops at H2 - 1 until it is upgraded (V2.2); so this
node commits every height below H2 with the others, then holds every message, timer and sync of
H2 and later: it stays at H2 - 1 while the three others (q(W) of the stake) go on in version 2,
and no node holds two blocks for any height.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from aethel.cli import app
from aethel.consensus.history import History, HistoryAnchor, HistoryLink, HistoryRejected
from aethel.consensus.history_verifier import HistoryVerifier
from aethel.consensus.v2.collector import choose_collector
from aethel.consensus.wire import parse_block, parse_commit_certificate
from aethel.node import testnet as nets
from aethel.node.audit import audit_chain
from aethel.node.chaos import run_chaos
from aethel.node.client import verify_account_answer
from aethel.node.home import DATA_DIR, load_home
from aethel.node.load import run_load

from .test_testnet import stop_leaving_nothing

H2 = 3
#: The command line of a node process, as the testnet starts it.
COMMAND = nets.node_command
#: v000-v002 in region a, v003 in region b (one-way 30 ms between them, 1 ms within).
REGIONS = nets.Regions(("a", "b"), ((1, 30), (30, 1)), ("a", "a", "a", "b"))


def get(url: str, timeout: float = 10.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as answer:
        return json.loads(answer.read())


def statuses(net: nets.Testnet) -> dict[str, dict[str, Any]]:
    found = asyncio.run(nets.gather_status(net))
    return {node_id: status for node_id, status in found.items() if status is not None}


def wait_for(net: nets.Testnet, ids: list[str], height: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        found = {n: int(s["height"]) for n, s in statuses(net).items() if n in ids}
        if len(found) == len(ids) and min(found.values()) >= height:
            return
        assert time.monotonic() < deadline, f"{ids} did not all reach {height}: {found}"
        time.sleep(0.2)


def metric(url: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


def running(tmp: pytest.TempPathFactory, name: str, **options: Any) -> Iterator[nets.Testnet]:
    net = nets.init_testnet(
        tmp.mktemp(name) / "net",
        4,
        accounts=4,
        params={"idle_block_ms": 50},
        protocol_v2_height=H2,
        regions=REGIONS,
        **options,
    )
    try:
        nets.start_testnet(net)
        yield net
    finally:
        stop_leaving_nothing(net)


@pytest.fixture(scope="class")
def v2net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[nets.Testnet]:
    yield from running(tmp_path_factory, "v2", seed=5)


@pytest.fixture(scope="class")
def v1only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[nets.Testnet]:
    # Seed 1: v003 leads no height from H2 to H2 + 4 in view 0, so the three others never
    # wait out a view for the node that stopped.
    yield from running(tmp_path_factory, "v1only", seed=1, protocol_versions={"v003": (1,)})


class TestMovesToVersionTwo:
    TOP = H2 + 5
    #: Heights where the collector rule is looked at (V2.10), long after every node started.
    WINDOW = range(30, 61)

    @pytest.mark.req("R3.2", "R3.6", "R5.4", "V2.8")
    def test_transfers_commit_at_version_2_heights_and_the_books_balance(
        self, v2net: nets.Testnet
    ) -> None:
        wait_for(v2net, v2net.ids, 1)
        report = asyncio.run(run_load(v2net, rate=20, duration=3, drain=20, seed=2))
        assert report.acknowledged == report.submitted >= 50, report.to_json()
        assert report.lost == 0 and report.committed == report.acknowledged, report.to_json()
        audit = asyncio.run(audit_chain(v2net))
        assert audit.ok, audit.to_json()
        assert all(s is not None and s["balanced"] for s in audit.supply.values())
        top = min(h for h in audit.heights.values() if h is not None)
        url = v2net.nodes[0].url
        transfers = {
            h: len(get(f"{url}/blocks/{h}")["block"]["transactions"]) for h in range(1, top + 1)
        }
        # Rewards of version-2 heights go to the bitmap's members (R3.6 holds above).
        assert sum(n for h, n in transfers.items() if h >= H2) > 0, transfers

    @pytest.mark.req("V2.1", "V2.2", "V2.7", "V2.8", "V2.10", "R2.3", "R3.2")
    def test_the_testnet_commits_across_h2_and_every_node_agrees(self, v2net: nets.Testnet) -> None:
        wait_for(v2net, v2net.ids, self.TOP)
        audit = asyncio.run(audit_chain(v2net))
        assert audit.ok, audit.to_json()
        assert min(h for h in audit.heights.values() if h is not None) >= self.TOP
        chain = load_home(v2net.nodes[0].home).chain
        validators = chain.validators
        assert validators.v2 is not None
        url = v2net.nodes[0].url
        answers = [get(f"{url}/blocks/{h}") for h in range(1, self.TOP + 1)]
        for height, answer in enumerate(answers, start=1):
            certificate = answer["certificate"]
            if height < H2:
                assert "votes" in certificate and "signers" not in certificate, height
            else:
                assert {"signers", "aggregate"} <= set(certificate), height
                assert "votes" not in certificate, height
        # The block of H2 carries the version-1 certificate of H2 - 1 (V2.2).
        last_commit = answers[H2 - 1]["block"]["last_commit"]
        assert last_commit == answers[H2 - 2]["certificate"]
        # A client verifies a balance against a version-2 certificate (V2.8, E9).
        account = next(iter(chain.balances))
        verified = verify_account_answer(get(f"{url}/accounts/{account}"), validators)
        assert verified.height >= self.TOP and verified.account == account
        # The chain verifies by each height's version, and not by another activation height.
        history = History(
            tuple(
                HistoryLink(parse_block(a["block"]), parse_commit_certificate(a["certificate"]))
                for a in answers
            )
        )
        anchor = HistoryAnchor.genesis(chain.genesis)
        verified = HistoryVerifier(validators).verify(anchor, history)
        assert verified.tip_height == self.TOP
        with pytest.raises(HistoryRejected) as refused:
            HistoryVerifier(validators, activation=H2 + 1).verify(anchor, history)
        assert refused.value.rule_id == "V2.2" and refused.value.height == H2

    @pytest.mark.req("V2.10")
    def test_where_region_b_leads_a_region_a_validator_collects_in_view_0(
        self, v2net: nets.Testnet
    ) -> None:
        # Heights from WINDOW[0] on, not the first ones: a node started last may not be connected
        # to its peers yet when the first heights run (CI once saw height 4 in view 1 that way).
        wait_for(v2net, v2net.ids, self.WINDOW[-1])
        validators = load_home(v2net.nodes[0].home).chain.validators
        assert validators.v2 is not None
        roster, v003 = validators.v2.roster, validators.v2.roster.index["v003"]
        led_by_v003 = [
            h
            for h in self.WINDOW
            if validators.get_leader(h, 0).id == "v003"
            and choose_collector(roster, validators.v2.table, validators.seed, h, 0, v003) != v003
        ]
        assert len(led_by_v003) >= 3, led_by_v003
        url = v2net.nodes[0].url
        views = {h: get(f"{url}/blocks/{h}")["certificate"]["view"] for h in led_by_v003}
        assert set(views.values()) == {0}, views

    @pytest.mark.req("R8.1", "R8.3", "R8.6", "V2.7")
    def test_every_node_reports_version_2_and_counts_votes_from_bitmaps(
        self, v2net: nets.Testnet
    ) -> None:
        wait_for(v2net, v2net.ids, self.TOP)
        for node in v2net.nodes:
            status = get(f"{node.url}/status")
            assert status["consensus"] == {
                "versions": [1, 2],
                "protocol_v2_height": H2,
                "height_version": 2,
                "stopped_at": None,
            }
            assert metric(node.url, "aethel_node_protocol_version") == {(): 2.0}
            verdicts = metric(node.url, "aethel_accuracy_verdicts")
            counted = {dict(labels)["validator"]: value for labels, value in verdicts.items()}
            # In collector mode a node receives no other validator's vote of a version-2
            # height, only certificates: every validator's verdicts come from their bitmaps.
            # Each of the >= 6 version-2 heights gives two certificates of >= 3 members.
            assert set(counted) == set(v2net.ids), (node.id, counted)
            assert sum(counted.values()) >= 2 * 3 * (self.TOP - H2 + 1), (node.id, counted)

    @pytest.mark.req("R3.1", "R3.5", "V2.2", "V2.8")
    def test_a_wiped_node_rejoins_by_state_sync_across_h2(self, v2net: nets.Testnet) -> None:
        wait_for(v2net, v2net.ids, self.TOP)
        node = v2net.node("v002")
        assert nets.kill_node(v2net, node.id)
        shutil.rmtree(node.home / DATA_DIR)
        others = [n for n in v2net.ids if n != node.id]
        top = max(int(s["height"]) for s in statuses(v2net).values())
        nets.start_node(v2net, node.id)
        wait_for(v2net, v2net.ids, top + 1)
        status = get(f"{node.url}/status")
        assert status["syncs"] >= 1, status
        # It adopted a state above H2 after verifying the certified chain 1..target, across
        # H2 (each certificate by its height's version); it holds no block below its target.
        held = get(f"{node.url}/headers?from=1&to={status['height']}")["headers"]
        assert held and held[0]["height"] > H2, held[:3]
        with pytest.raises(urllib.error.HTTPError) as missing:
            get(f"{node.url}/blocks/{H2}")
        assert missing.value.code == 404
        wait_for(v2net, others, top + 2)
        audit = asyncio.run(audit_chain(v2net))
        assert audit.ok, audit.to_json()

    @pytest.mark.req("R5.4", "R2.4", "R3.1", "V2.3")
    def test_killed_leaders_recover_at_version_2_heights(self, v2net: nets.Testnet) -> None:
        """Seeded SIGKILLs of random nodes (the leader may be one) under load at version-2
        heights: each restarted node reopens its store and vote journal and catches up, nobody
        is accused of equivocation, no committed height is lost."""
        report = asyncio.run(run_chaos(v2net, kills=2, seed=1, rate=10, wipe=False, drain=30))
        result = report.to_json()
        assert report.ok, json.dumps({k: v for k, v in result.items() if k != "audit"}, indent=1)
        assert result["kills"] == 2 and result["wipes"] == 0
        assert all(k.height_before >= H2 for k in report.kills)


class TestVersionOneOnlyNodeStops:
    @pytest.mark.req("V2.1", "V2.2", "R2.3")
    def test_a_version_1_only_node_stops_at_h2_minus_1_and_the_others_go_on(
        self, v1only: nets.Testnet
    ) -> None:
        upgraded = ["v000", "v001", "v002"]
        validators = load_home(v1only.nodes[0].home).chain.validators
        assert "v003" not in {validators.get_leader(h, 0).id for h in range(H2, H2 + 5)}
        wait_for(v1only, upgraded, H2 + 4)
        stopped = v1only.node("v003")
        status = get(f"{stopped.url}/status")
        assert status["height"] == H2 - 1, status
        assert status["consensus"] == {
            "versions": [1],
            "protocol_v2_height": H2,
            "height_version": 2,
            "stopped_at": H2 - 1,
        }
        with pytest.raises(urllib.error.HTTPError) as missing:
            get(f"{stopped.url}/blocks/{H2}")
        assert missing.value.code == 404
        # It received the version-2 messages and held them back (it did not ignore a silent
        # network: its peers are up and talk to it).
        assert metric(stopped.url, "aethel_node_held_back_total")[()] > 0
        assert len(status["peers"]) == 3
        log = (stopped.home / "node.log").read_text(encoding="utf-8")
        assert f"stopped at height {H2 - 1}" in log
        # Every node holds the same block and root at every height it holds: below H2 all four,
        # from H2 the three upgraded ones; nothing was committed twice at any height.
        audit = asyncio.run(audit_chain(v1only))
        assert audit.ok, audit.to_json()
        assert audit.heights["v003"] == H2 - 1
        assert all(audit.heights[n] >= H2 + 4 for n in upgraded)  # type: ignore[operator]
        assert len(audit.held["v003"]) == H2 - 1

    @pytest.mark.req("V2.2", "R5.4")
    def test_restarted_it_stays_stopped_at_h2_minus_1(self, v1only: nets.Testnet) -> None:
        stopped = v1only.node("v003")
        wait_for(v1only, ["v003"], H2 - 1)
        assert nets.stop_node(v1only, stopped.id, grace=15) == "stopped"
        nets.start_node(v1only, stopped.id)
        deadline = time.monotonic() + 30
        while stopped.id not in statuses(v1only):
            assert time.monotonic() < deadline, "v003 did not come back"
            time.sleep(0.2)
        # It asks its peers for their latest certificate on start (a height of version 2) and
        # hears their version-2 messages: it holds them back and stays where it stopped.
        before = max(int(s["height"]) for s in statuses(v1only).values())
        wait_for(v1only, ["v000", "v001", "v002"], before + 2)
        status = get(f"{stopped.url}/status")
        assert status["height"] == H2 - 1 and status["consensus"]["stopped_at"] == H2 - 1, status
        assert metric(stopped.url, "aethel_node_held_back_total")[()] > 0


class TestRegionsFromTheCommandLine:
    @pytest.mark.req("V2.10", "V2.1")
    def test_votes_of_a_region_collected_height_go_to_the_collector_the_rule_picks(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """`aethel testnet init --regions a,a,a,b` writes the regions into the genesis's
        version-2 set; the four processes commit across H2, and at each view-0 height where the
        rule picks a collector other than the leader, every PREPARE of that height was sent to
        that collector (the nodes' debug logs) and the height committed in view 0."""
        directory = tmp_path / "net"
        init = CliRunner().invoke(
            app,
            [
                *("testnet", "init", "-n", "4", "--dir", str(directory), "--seed", "5"),
                *("--accounts", "2", "--protocol-v2-height", str(H2)),
                *("--regions", "a,a,a,b", "--region-latency", "30"),
            ],
        )
        assert init.exit_code == 0, init.output
        net = nets.load_testnet(directory)
        validators = load_home(net.nodes[0].home).chain.validators
        assert validators.v2 is not None
        roster, table = validators.v2.roster, validators.v2.table
        assert [m.region for m in roster.members] == ["a", "a", "a", "b"]
        assert (table.names, table.latency_ms) == (("a", "b"), ((1, 30), (30, 1)))
        top = H2 + 3
        leaders = {h: validators.get_leader(h, 0).id for h in range(H2, top + 1)}
        picked = {
            h: roster.members[
                choose_collector(roster, table, validators.seed, h, 0, roster.index[leader])
            ].id
            for h, leader in leaders.items()
        }
        region_collected = [h for h in picked if picked[h] != leaders[h]]
        assert region_collected == [4, 5], (leaders, picked)  # seed 5: v003 (region b) leads
        # The same node processes, logging each message they send.
        monkeypatch.setattr(
            nets, "node_command", lambda home: [*COMMAND(home), "--log-level", "DEBUG"]
        )
        try:
            nets.start_testnet(net)
            wait_for(net, net.ids, top)
            url = net.nodes[0].url
            views = {h: get(f"{url}/blocks/{h}")["certificate"]["view"] for h in picked}
        finally:
            stop_leaving_nothing(net)
        logs = "".join((n.home / "node.log").read_text(encoding="utf-8") for n in net.nodes)
        for height in region_collected:
            assert views[height] == 0, (height, views)
            sent_to = set(re.findall(rf"send Prepare h{height} to (\S+)", logs))
            assert sent_to == {picked[height]}, (height, sent_to, picked)
