"""``aethel testnet chaos``: seeded SIGKILLs of random nodes under load, then a wipe.

One seed fixes the schedule: when each kill happens (0.5 to 3 s after the previous node caught
up), whom it hits (the current leader with probability 0.4, else any node, so the leader is
killed often), how long the victim stays down (0.2 to 3 s). Processes and timing are real, so
the same seed gives the same schedule, not the same trace. One node is down at a time (f = 1 of
4 validators), so the others must keep committing throughout (R2.5). For every kill:

* the victim is killed with SIGKILL (no shutdown: whatever was not on disk is lost) and
  restarted on the same home;
* no committed height is lost: once it answers again, its height is at least the one it
  reported just before the kill (R5.4);
* it recovers and catches up: within ``catch_up_timeout`` its height reaches the height the
  others had when it came back (by commits or by verified state sync, R3.1, R3.5).

Then one node is wiped (killed, its data directory deleted, restarted): it has lost its vote
journal, so it may vote only at heights it cannot have voted at (R2.4), and it catches up by
state sync. A load runs throughout (accounts move to another node when theirs is down). At the
end :func:`aethel.node.audit.audit_chain` checks agreement at every height, that no node was
accused (no evidence: every node is honest, R4.2) and the supply books at every node (R3.6); the
load checks that every acknowledged transfer was committed.

The wiped node signs nothing below two heights past the one it learned from its peers
(:mod:`aethel.consensus.journal`), so the next height cannot use a view it leads: each such
view times out before the next is established (R2.6). Its leader draw may give it several
views in a row (seed 1619's testnet: v000 leads views 0 to 3 of height 211, 60 s of timeouts
and more than the drain). The drain is therefore extended by :func:`silent_leader_allowance`,
what the spec's timeouts make those views cost at the heights the wiped node may not sign at,
and the chain must commit past them within the drain and that allowance (R2.5).
"""

from __future__ import annotations

import asyncio
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import aiohttp

from aethel.consensus.timeouts import compute_timeout
from aethel.consensus.validators import ValidatorSet
from aethel.node import testnet as nets
from aethel.node.audit import ChainAudit, audit_chain
from aethel.node.home import DATA_DIR, GENESIS_FILE, read_genesis
from aethel.node.load import Load, LoadReport

#: Views a silent leader is followed through at one height (far beyond any draw seen).
MAX_SILENT_VIEWS = 16


@dataclass
class KillRecord:
    """One kill and what the victim did after it."""

    index: int
    victim: str
    was_leader: bool
    height_before: int
    down_s: float
    height_at_restart: int | None = None
    target_height: int | None = None
    caught_up_s: float | None = None
    wiped: bool = False
    syncs: int = 0
    #: For the wipe: seconds the drain was extended by (silent_leader_allowance).
    allowance_s: float | None = None


@dataclass
class ChaosReport:
    """What a chaos run found (``ok`` when nothing failed)."""

    seed: int
    kills: list[KillRecord] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    load: LoadReport | None = None
    audit: ChainAudit | None = None
    wall_s: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures and self.audit is not None and self.audit.ok

    def to_json(self) -> dict[str, Any]:
        recoveries = sorted(k.caught_up_s for k in self.kills if k.caught_up_s is not None)
        return {
            "ok": self.ok,
            "seed": self.seed,
            "kills": len([k for k in self.kills if not k.wiped]),
            "leader_kills": sum(1 for k in self.kills if k.was_leader and not k.wiped),
            "wipes": sum(1 for k in self.kills if k.wiped),
            "catch_up_s": {
                "p50": recoveries[len(recoveries) // 2] if recoveries else None,
                "max": recoveries[-1] if recoveries else None,
            },
            "failures": self.failures,
            "load": None if self.load is None else self.load.to_json(),
            "audit": None if self.audit is None else self.audit.to_json(),
            "wall_s": round(self.wall_s, 1),
            "schedule": [asdict(k) for k in self.kills],
        }


def silent_leader_allowance(
    validators: ValidatorSet, victim: str, heights: range, latency_ns: int = 0
) -> float:
    """Return the seconds the views ``victim`` leads cost at the worst of ``heights``, when it
    signs nothing there (a wiped validator below its minimum vote height, R2.4).

    From view 0, each view in a row whose leader it is times out (``compute_timeout(latency,
    view)``, R2.6) and the next view is established only after one re-send period of the
    VIEW-CHANGEs (``compute_timeout(latency, 0)``: in collector mode the first copy went to the
    silent leader alone). The first view it does not lead commits in ordinary time.
    """
    worst = 0
    for height in heights:
        cost, view = 0, 0
        while view < MAX_SILENT_VIEWS and validators.get_leader(height, view).id == victim:
            cost += compute_timeout(latency_ns, view) + compute_timeout(latency_ns, 0)
            view += 1
        worst = max(worst, cost)
    return worst / 1e9


async def _status(session: aiohttp.ClientSession, node: nets.NodeEntry) -> dict[str, Any] | None:
    return await nets.fetch_json(session, f"{node.url}/status", 2.0)


async def _heights(session: aiohttp.ClientSession, testnet: nets.Testnet) -> dict[str, int]:
    answers = await asyncio.gather(*(_status(session, node) for node in testnet.nodes))
    return {
        node.id: int(status["height"])
        for node, status in zip(testnet.nodes, answers, strict=True)
        if status is not None
    }


async def _wait_until(check: Callable[[], Any], timeout: float, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(interval)
    return None


async def _kill_and_restart(
    session: aiohttp.ClientSession,
    testnet: nets.Testnet,
    record: KillRecord,
    report: ChaosReport,
    catch_up_timeout: float,
) -> None:
    node = testnet.node(record.victim)
    await asyncio.to_thread(nets.kill_node, testnet, record.victim)
    if record.wiped:
        shutil.rmtree(node.home / DATA_DIR, ignore_errors=True)
    await asyncio.sleep(record.down_s)
    await asyncio.to_thread(nets.start_node, testnet, record.victim)
    restarted = time.monotonic()

    async def answers() -> dict[str, Any] | None:
        return await _status(session, node)

    status = await _wait_until(answers, 30.0)
    if status is None:
        report.failures.append(f"kill {record.index}: {record.victim} did not come back")
        return
    record.height_at_restart = int(status["height"])
    if not record.wiped and record.height_at_restart < record.height_before:
        report.failures.append(
            f"kill {record.index}: {record.victim} lost committed heights "
            f"({record.height_before} before, {record.height_at_restart} after; R5.4)"
        )
    others = await _heights(session, testnet)
    others.pop(record.victim, None)
    record.target_height = max(others.values(), default=0)

    async def caught_up() -> bool:
        current = await _status(session, node)
        if current is None or int(current["height"]) < (record.target_height or 0):
            return False
        record.syncs = int(current["syncs"])
        return True

    if await _wait_until(caught_up, catch_up_timeout, 0.05):
        record.caught_up_s = round(time.monotonic() - restarted, 3)
    else:
        report.failures.append(
            f"kill {record.index}: {record.victim} did not reach height {record.target_height} "
            f"within {catch_up_timeout} s of its restart (R3.5)"
        )
    if record.wiped:
        if record.syncs < 1:
            report.failures.append(f"wipe: {record.victim} caught up without a state sync")
        # It learned the others' height when it came back (T), or T + 1 if the chain moved
        # while it synced: it may not sign at the height after (R2.4).
        validators = read_genesis(node.home / GENESIS_FILE).validators
        latency = int(status.get("replica", {}).get("stats", {}).get("observed_latency_ns", 0))
        target = record.target_height or 0
        record.allowance_s = silent_leader_allowance(
            validators, record.victim, range(target + 1, target + 3), latency
        )


def _all_at(
    session: aiohttp.ClientSession, testnet: nets.Testnet, height: int
) -> Callable[[], Any]:
    """Return a check for :func:`_wait_until`: has every node committed ``height``?"""

    async def check() -> bool:
        heights = await _heights(session, testnet)
        return len(heights) == len(testnet.nodes) and min(heights.values()) >= height

    return check


async def _require_commits_past(
    session: aiohttp.ClientSession,
    testnet: nets.Testnet,
    wipe: KillRecord,
    deadline: float,
    report: ChaosReport,
) -> None:
    """Fail unless every node commits two heights past the one the wiped node caught up to
    (the first it may sign at, R2.4) by ``deadline`` (monotonic; the drain's end, R2.5)."""
    goal = (wipe.target_height or 0) + 2
    past = _all_at(session, testnet, goal)
    if not await _wait_until(past, max(0.0, deadline - time.monotonic()), 0.2):
        report.failures.append(
            f"wipe: not every node committed height {goal} by the end of the drain, which "
            f"allowed {wipe.allowance_s or 0:g} s for the views {wipe.victim} leads there (R2.5)"
        )


async def run_chaos(
    testnet: nets.Testnet,
    *,
    kills: int = 50,
    seed: int = 0,
    rate: float = 20.0,
    wipe: bool = True,
    catch_up_timeout: float = 60.0,
    drain: float = 30.0,
    wipe_at: tuple[str, int] | None = None,
    progress: Callable[[str], None] | None = None,
) -> ChaosReport:
    """Run the schedule of ``seed`` on ``testnet`` (see the module docstring).

    ``wipe_at``: (node, height): the wipe hits that node as soon as every node has committed
    that height, instead of the seed's pick after its pause (the seed's draws are made all
    the same, so the kills before keep their schedule).
    """
    rng = random.Random(f"aethel-chaos/{seed}")
    report = ChaosReport(seed)
    began = time.monotonic()
    say = progress or (lambda _text: None)
    await asyncio.to_thread(nets.start_testnet, testnet)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256)) as session:
        # A live chain first: every node commits a height above the highest any node holds
        # now (a testnet left stalled, say by an earlier run's wipes, is refused here).
        start = max((await _heights(session, testnet)).values(), default=0)
        if not await _wait_until(_all_at(session, testnet, start + 1), 60.0):
            report.failures.append(
                f"the testnet did not commit past height {start} within 60 s before the first "
                "kill: a chaos run needs a live chain"
            )
            return report
        load = Load(testnet, rate, duration=kills * 10.0 + 120.0, seed=seed)
        await load.start(session)
        schedule = [(index, False) for index in range(kills)] + ([(kills, True)] if wipe else [])
        for index, wiped in schedule:
            pause = rng.uniform(0.5, 3.0)
            if wiped and wipe_at is not None:
                await _wait_until(_all_at(session, testnet, wipe_at[1]), catch_up_timeout, 0.02)
            else:
                await asyncio.sleep(pause)
            statuses = {node.id: await _status(session, node) for node in testnet.nodes}
            live = [s for s in statuses.values() if s is not None]
            leader = live[0]["replica"]["leader"] if live else None
            choose_leader = rng.random() < 0.4 and leader is not None
            victim = leader if choose_leader else rng.choice(testnet.ids)
            if wiped and wipe_at is not None:
                victim = wipe_at[0]
            assert victim is not None
            before = statuses[victim]
            record = KillRecord(
                index=index,
                victim=victim,
                was_leader=victim == leader,
                height_before=0 if before is None else int(before["height"]),
                down_s=round(rng.uniform(0.2, 3.0), 3),
                wiped=wiped,
            )
            report.kills.append(record)
            await _kill_and_restart(session, testnet, record, report, catch_up_timeout)
            what = "wiped" if wiped else "killed"
            say(
                f"{index + 1}/{len(schedule)}: {what} {victim}"
                f"{' (leader)' if record.was_leader else ''} at height {record.height_before}, "
                f"back at {record.height_at_restart}, caught up to {record.target_height} "
                f"in {record.caught_up_s} s"
            )
        load.stop()
        last_wipe = next((k for k in report.kills if k.wiped), None)
        allowance = 0.0 if last_wipe is None else last_wipe.allowance_s or 0.0
        deadline = time.monotonic() + drain + allowance
        report.load = await load.finish(drain + allowance)
        if last_wipe is not None:
            await _require_commits_past(session, testnet, last_wipe, deadline, report)
    if report.load.lost:
        report.failures.append(
            f"{report.load.lost} acknowledged transfers were not committed within {drain} s"
            + (f" and {allowance:g} s for the wiped node's views (R2.6)" if allowance else "")
        )
    report.audit = await audit_chain(testnet)
    report.wall_s = time.monotonic() - began
    return report


__all__ = ["ChaosReport", "KillRecord", "run_chaos"]
