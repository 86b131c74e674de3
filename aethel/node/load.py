"""``aethel testnet load``: signed transfers with their proofs, and the latency of each.

The load is prepared first, then sent: every transfer is signed by one of the testnet's funded
accounts and proved by this client's judge (the obligation on the balance the account is sure
to have: its balance when the load started minus everything it sent since, R1.1), so the proving
(Z3) is done before the clock starts and does not compete with the nodes it measures. Each
account sends its transfers in nonce order to one node (R7.1: the mempool refuses nonce gaps),
accounts are spread over the nodes; transfer ``i`` is due at ``start + i / rate`` (open loop: a
slow node is not given fewer transfers, it is given them late). A node that answers 429 (it is
saturated, N6) gets the same transfer again after a backoff (50 ms doubling to 1 s): skipping it
would leave a nonce gap. A node that does not answer (down) makes the account move to the next
node, which is first sent again what the account has acknowledged but not yet seen committed; the
same happens when a node refuses a transfer for a nonce gap (R7.1: it does not hold an earlier
one, say because it restarted without its mempool), with retries for up to 20 s; while draining,
what is acknowledged but not committed is sent again every 3 s (a crashed node's mempool is
gone: a wallet sends its pending transfers again).

A follower reads the chain from one node, block by block as they commit (``GET
/blocks/{h}?wait_ms=``): a transfer's latency is the time from its submission to the moment the
follower sees the block that holds it. At the end the load waits ``drain`` seconds for what was
acknowledged, then reports: submitted, acknowledged (202), refused (by HTTP status and rule),
committed, acknowledged but not committed, committed transfers per second over the sending
window, and latency percentiles.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from aethel.consensus.validators import ValidatorSet
from aethel.encoding import KeyPair, to_hex
from aethel.errors import UsageError
from aethel.node.client import verify_account_answer
from aethel.node.home import load_home
from aethel.node.testnet import Testnet, fetch_json
from aethel.proofs.judge import Judge
from aethel.proofs.model import Proof, Transfer, sign_transfer, transfer_from_json

#: How long an account keeps retrying one transfer refused for a nonce gap (R7.1).
RETRY_S = 20.0
#: Sending stops this long after the load's duration (the last transfers are due at its end).
SEND_GRACE_S = 2.0
#: While draining, unconfirmed transfers are sent again this often.
RESEND_S = 3.0


@dataclass(slots=True)
class Planned:
    """One prepared transfer."""

    transfer: Transfer
    proof: Proof
    node: int
    due: float = 0.0
    sent: float | None = None
    acknowledged: bool = False
    committed: float | None = None
    height: int | None = None


@dataclass(slots=True)
class LoadReport:
    """What a load run measured (``to_json`` is what ``--json`` prints)."""

    rate: float
    duration: float
    submitted: int = 0
    acknowledged: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    #: Submissions answered 429 (node saturated, N6) and sent again.
    busy_retries: int = 0
    #: Times an account moved to another node because its node did not answer.
    failovers: int = 0
    #: Times an account sent its unconfirmed transfers again (after a failover or a nonce gap).
    resent: int = 0
    committed: int = 0
    lost: int = 0
    window_s: float = 0.0
    committed_per_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    prepare_s: float = 0.0
    heights: int = 0
    follower: str = ""
    #: The sending window ``committed_per_s`` counts, on the monotonic clock (0.0: none).
    window_start: float = 0.0
    window_end: float = 0.0

    def percentile(self, fraction: float) -> float | None:
        values = sorted(self.latencies_ms)
        if not values:
            return None
        index = min(len(values) - 1, max(0, math.ceil(fraction * len(values)) - 1))
        return values[index]

    def to_json(self) -> dict[str, Any]:
        return {
            "rate_per_s": self.rate,
            "duration_s": self.duration,
            "submitted": self.submitted,
            "acknowledged": self.acknowledged,
            "refused": dict(sorted(self.refused.items())),
            "busy_retries": self.busy_retries,
            "failovers": self.failovers,
            "resent": self.resent,
            "committed": self.committed,
            "acknowledged_not_committed": self.lost,
            "window_s": round(self.window_s, 3),
            "committed_per_s": round(self.committed_per_s, 2),
            "latency_ms": {
                "p50": self.percentile(0.50),
                "p90": self.percentile(0.90),
                "p99": self.percentile(0.99),
                "max": max(self.latencies_ms, default=None),
            },
            "prepare_s": round(self.prepare_s, 3),
            "heights_followed": self.heights,
            "follower": self.follower,
        }


async def read_accounts(
    session: aiohttp.ClientSession, url: str, keys: list[KeyPair], validators: ValidatorSet
) -> dict[bytes, tuple[int, int]]:
    """Each account's (balance, nonce), verified against a certified root (R3.2, E9)."""
    found = {}
    for key in keys:
        answer = await fetch_json(session, f"{url}/accounts/{to_hex(key.public_key)}", 10.0)
        if answer is None:
            raise UsageError(
                f"{url} did not answer /accounts (is the testnet up and past height 0?)"
            )
        verified = verify_account_answer(answer, validators)
        found[key.public_key] = (verified.balance, verified.nonce)
    return found


def prepare(
    keys: list[KeyPair],
    accounts: dict[bytes, tuple[int, int]],
    count: int,
    nodes: int,
    seed: int,
) -> list[Planned]:
    """Sign and prove ``count`` transfers, round-robin over the accounts (see the docstring)."""
    rng = random.Random(f"aethel-load/{seed}")
    judge = Judge(KeyPair.generate(rng))
    available = {key.public_key: accounts[key.public_key][0] for key in keys}
    nonces = {key.public_key: accounts[key.public_key][1] for key in keys}
    planned = []
    for index in range(count):
        sender = keys[index % len(keys)]
        receiver = keys[(index % len(keys) + 1 + rng.randrange(len(keys) - 1)) % len(keys)]
        amount = rng.randrange(1, 100)
        account = sender.public_key
        transfer = sign_transfer(
            sender, receiver=receiver.public_key, amount=amount, nonce=nonces[account]
        )
        proof = judge.prove_transfer(transfer, available[account], nonces[account])
        available[account] -= amount
        nonces[account] += 1
        planned.append(Planned(transfer, proof, (index % len(keys)) % nodes))
    return planned


async def _follow(
    session: aiohttp.ClientSession,
    urls: list[str],
    first: int,
    start_height: int,
    by_id: dict[bytes, Planned],
    stop: asyncio.Event,
    report: LoadReport,
) -> None:
    """Read every committed block from ``start_height + 1`` on, from ``urls[first]`` or, when
    it does not answer or does not hold a height (down, or synced past it), from the others."""
    height = start_height + 1
    current = first
    while not stop.is_set():
        block = await fetch_json(session, f"{urls[current]}/blocks/{height}?wait_ms=500", 5.0)
        if block is None:
            status = await fetch_json(session, f"{urls[current]}/status", 2.0)
            if status is None or int(status["height"]) >= height:
                current = (current + 1) % len(urls)  # down, or it skipped the height by a sync
            continue
        seen = time.monotonic()
        report.heights += 1
        for item in block["block"]["transactions"]:
            planned = by_id.get(transfer_from_json(item).transaction_id)
            if planned is not None and planned.committed is None:
                planned.committed = seen
                planned.height = height
        height += 1


async def _submit(
    session: aiohttp.ClientSession,
    url: str,
    planned: Planned,
    report: LoadReport,
    stop: asyncio.Event | None = None,
) -> tuple[int | str, str]:
    """Submit one transfer, again after 429 (the node is saturated, N6) with a backoff from
    50 ms to 1 s: skipping it would leave a nonce gap that refuses the account's next ones."""
    body = {"transfer": planned.transfer.to_json(), "proof": planned.proof.to_json()}
    backoff = 0.05
    began = time.monotonic()
    while True:
        status, rule = await _post(session, f"{url}/transfers", body)
        if status != 429 or time.monotonic() - began > 30 or (stop is not None and stop.is_set()):
            return status, rule
        report.busy_retries += 1
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, 1.0)


class AccountSender:
    """Sends one account's transfers in nonce order to its node (see the module docstring).

    When the node does not answer, the account moves to the next node; when a node refuses a
    transfer for a nonce gap (R7.1: it lacks an earlier one, having restarted without its
    mempool, or it is still catching up), the account sends it again what is acknowledged but
    not yet committed and retries, backing off, for up to :data:`RETRY_S` (nodes dedupe by id).
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        urls: list[str],
        plans: list[Planned],
        report: LoadReport,
    ) -> None:
        self.session = session
        self.urls = urls
        self.plans = plans
        self.report = report
        self.node = plans[0].node if plans else 0

    async def run(self, stop: asyncio.Event) -> None:
        for index, planned in enumerate(self.plans):
            delay = planned.due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if stop.is_set():
                return
            planned.sent = time.monotonic()
            self.report.submitted += 1
            status, rule = await self._deliver(planned, index, stop)
            if status == 202 or planned.committed is not None:
                planned.acknowledged = True
                self.report.acknowledged += 1
            else:
                self.report.refused[f"{status} {rule}"] += 1

    async def _deliver(
        self, planned: Planned, index: int, stop: asyncio.Event
    ) -> tuple[int | str, str]:
        deadline = time.monotonic() + RETRY_S
        backoff = 0.1
        while True:
            url = self.urls[self.node]
            status, rule = await _submit(self.session, url, planned, self.report, stop)
            if status == "unreachable":
                self.report.failovers += 1
                self.node = (self.node + 1) % len(self.urls)
            elif not (status == 422 and rule == "R7.1") or planned.committed is not None:
                return status, rule
            if time.monotonic() > deadline or stop.is_set():
                return status, rule
            await self.resend(index)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 2.0)

    async def resend(self, upto: int | None = None) -> None:
        """Send again, in nonce order, what is acknowledged but not seen committed."""
        unconfirmed = _unconfirmed(self.plans[:upto])
        if unconfirmed:
            self.report.resent += 1
        for earlier in unconfirmed:
            status, _ = await _submit(self.session, self.urls[self.node], earlier, self.report)
            if status == "unreachable":
                return


def _unconfirmed(plans: list[Planned]) -> list[Planned]:
    return [p for p in plans if p.acknowledged and p.committed is None]


async def _post(session: aiohttp.ClientSession, url: str, body: Any) -> tuple[int | str, str]:
    """POST ``body``; return (HTTP status or "unreachable", the rule of a refusal)."""
    try:
        async with session.post(url, json=body, timeout=aiohttp.ClientTimeout(total=30)) as answer:
            if answer.status == 202:
                return 202, ""
            try:
                error = (await answer.json())["error"]
                rule = str(error.get("rule") or error.get("type"))
            except (ValueError, KeyError, TypeError, aiohttp.ContentTypeError):
                rule = "?"
            return answer.status, rule
    except (aiohttp.ClientError, TimeoutError) as exc:
        return "unreachable", type(exc).__name__


class Load:
    """A load in progress: prepared transfers, their senders and the chain follower.

    ``await load.start(session)`` prepares and starts sending; ``load.stop()`` stops sending
    (what is not due yet is never sent); ``await load.finish(drain)`` waits for the
    acknowledged transfers to commit (up to ``drain`` s) and returns the report.
    """

    def __init__(
        self,
        testnet: Testnet,
        rate: float,
        duration: float,
        *,
        accounts: int | None = None,
        seed: int = 0,
        follower: int = 0,
    ) -> None:
        if rate <= 0 or duration <= 0:
            raise UsageError("rate and duration must be positive")
        self.keys = testnet.accounts()[: accounts or None]
        if len(self.keys) < 2:
            raise UsageError("a load needs at least 2 funded accounts")
        self.validators = load_home(testnet.nodes[0].home).chain.validators
        self.urls = [node.url for node in testnet.nodes]
        self.rate = rate
        self.duration = duration
        self.seed = seed
        self.follower = follower
        self.report = LoadReport(rate, duration, follower=testnet.nodes[follower].id)
        self.plans: list[Planned] = []
        self._stop_sending = asyncio.Event()
        self._stop_following = asyncio.Event()
        self._senders: asyncio.Future[Any] | None = None
        self.senders: list[AccountSender] = []
        self._follow: asyncio.Task[None] | None = None
        self._sent_end = 0.0

    async def start(self, session: aiohttp.ClientSession) -> None:
        """Read the accounts (verified), prepare the transfers, start sending and following."""
        url = self.urls[self.follower]
        status = None
        for candidate in [url, *self.urls]:
            status = await fetch_json(session, f"{candidate}/status", 5.0)
            if status is not None:
                url = candidate
                break
        if status is None:
            raise UsageError("no node answers; is the testnet up?")
        start_height = int(status["height"])
        began = time.monotonic()
        states = await read_accounts(session, url, self.keys, self.validators)
        count = max(1, round(self.rate * self.duration))
        self.plans = await asyncio.to_thread(
            prepare, self.keys, states, count, len(self.urls), self.seed
        )
        self.report.prepare_s = time.monotonic() - began
        by_id = {p.transfer.transaction_id: p for p in self.plans}
        self._follow = asyncio.create_task(
            _follow(
                session,
                self.urls,
                self.follower,
                start_height,
                by_id,
                self._stop_following,
                self.report,
            )
        )
        start = time.monotonic() + 0.2
        for index, planned in enumerate(self.plans):
            planned.due = start + index / self.rate
        per_account: dict[bytes, list[Planned]] = {}
        for planned in self.plans:
            per_account.setdefault(planned.transfer.sender, []).append(planned)
        self.senders = [
            AccountSender(session, self.urls, items, self.report) for items in per_account.values()
        ]
        self._senders = asyncio.gather(*(sender.run(self._stop_sending) for sender in self.senders))

    def stop(self) -> None:
        """Send nothing more."""
        self._stop_sending.set()

    async def finish(self, drain: float) -> LoadReport:
        """Wait for the senders, then up to ``drain`` s for the acknowledged transfers."""
        assert self._senders is not None and self._follow is not None
        await self._senders
        self._sent_end = time.monotonic()
        deadline = self._sent_end + drain
        next_resend = self._sent_end + RESEND_S
        while time.monotonic() < deadline:
            if all(p.committed is not None for p in self.plans if p.acknowledged):
                break
            if time.monotonic() >= next_resend:
                # A node that crashed lost its mempool; a wallet sends again what is pending.
                await asyncio.gather(*(sender.resend() for sender in self.senders))
                next_resend = time.monotonic() + RESEND_S
            await asyncio.sleep(0.05)
        self._stop_following.set()
        await self._follow
        return self._summarize()

    def _summarize(self) -> LoadReport:
        report = self.report
        plans = self.plans
        report.committed = sum(1 for p in plans if p.committed is not None)
        report.lost = sum(1 for p in plans if p.acknowledged and p.committed is None)
        timed = [
            (p.sent, p.committed) for p in plans if p.sent is not None and p.committed is not None
        ]
        report.latencies_ms = [round((done - sent) * 1000, 3) for sent, done in timed]
        sent_times = [p.sent for p in plans if p.sent is not None]
        if timed and sent_times:
            first = min(sent_times)
            end = self._sent_end
            report.window_s = max(max(done for _, done in timed), end) - first
            in_window = sum(1 for _, done in timed if done <= end)
            report.committed_per_s = in_window / max(1e-9, end - first)
            report.window_start, report.window_end = first, end
        return report


async def run_load(
    testnet: Testnet,
    rate: float,
    duration: float,
    *,
    drain: float = 20.0,
    accounts: int | None = None,
    seed: int = 0,
    follower: int = 0,
) -> LoadReport:
    """Run one load (see the module docstring) and return its report.

    Sending stops :data:`SEND_GRACE_S` after ``duration``: a saturated testnet falls behind the
    schedule (it answers 429 and transfers wait), and what is not sent by then never is.
    """
    load = Load(testnet, rate, duration, accounts=accounts, seed=seed, follower=follower)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256)) as session:
        await load.start(session)
        stop = asyncio.get_running_loop().call_later(duration + SEND_GRACE_S, load.stop)
        try:
            return await load.finish(drain)
        finally:
            stop.cancel()


__all__ = ["Load", "LoadReport", "Planned", "prepare", "run_load"]
