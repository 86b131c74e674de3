"""``aethel testnet load``: signed transfers with their proofs, and the latency of each.

The load is prepared first, then sent: every transfer is signed by one of the testnet's funded
accounts and proved by this client's judge (the obligation on the balance the account is sure
to have: its balance when the load started minus everything it sent since, R1.1), so the proving
(Z3) is done before the clock starts and does not compete with the nodes it measures. Each
account sends its transfers in nonce order to one node (R7.1: the mempool refuses nonce gaps),
accounts are spread over the nodes; transfer ``i`` is due at ``start + i / rate`` (open loop: a
slow node is not given fewer transfers, it is given them late). A node that answers 429 (it is
saturated, N6) gets the same transfer again after a backoff (20 ms doubling to 1 s): skipping it
would leave a nonce gap.

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
    committed: int = 0
    lost: int = 0
    window_s: float = 0.0
    committed_per_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    prepare_s: float = 0.0
    heights: int = 0
    follower: str = ""

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
    url: str,
    start_height: int,
    by_id: dict[bytes, Planned],
    stop: asyncio.Event,
    report: LoadReport,
) -> None:
    height = start_height + 1
    while not stop.is_set():
        block = await fetch_json(session, f"{url}/blocks/{height}?wait_ms=1000", 5.0)
        if block is None:
            continue
        seen = time.monotonic()
        report.heights += 1
        for item in block["block"]["transactions"]:
            planned = by_id.get(transfer_from_json(item).transaction_id)
            if planned is not None and planned.committed is None:
                planned.committed = seen
                planned.height = height
        height += 1


async def _send_account(
    session: aiohttp.ClientSession,
    urls: list[str],
    plans: list[Planned],
    report: LoadReport,
) -> None:
    for planned in plans:
        delay = planned.due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        body = {"transfer": planned.transfer.to_json(), "proof": planned.proof.to_json()}
        planned.sent = time.monotonic()
        report.submitted += 1
        backoff = 0.02
        while True:
            status, rule = await _post(session, f"{urls[planned.node]}/transfers", body)
            if status != 429 or time.monotonic() - planned.sent > 30:
                break
            # The node is saturated (N6): send the same transfer again shortly; skipping it
            # would leave a nonce gap that refuses every later transfer of the account.
            report.busy_retries += 1
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 1.0)
        if status == 202:
            planned.acknowledged = True
            report.acknowledged += 1
        else:
            report.refused[f"{status} {rule}"] += 1


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
    """Run one load (see the module docstring) and return its report."""
    if rate <= 0 or duration <= 0:
        raise UsageError("rate and duration must be positive")
    keys = testnet.accounts()[: accounts or None]
    if len(keys) < 2:
        raise UsageError("a load needs at least 2 funded accounts")
    validators = load_home(testnet.nodes[0].home).chain.validators
    urls = [node.url for node in testnet.nodes]
    report = LoadReport(rate, duration, follower=testnet.nodes[follower].id)
    count = max(1, round(rate * duration))
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector) as session:
        status = await fetch_json(session, f"{urls[follower]}/status", 5.0)
        if status is None:
            raise UsageError(f"{urls[follower]} does not answer; is the testnet up?")
        start_height = int(status["height"])
        began = time.monotonic()
        states = await read_accounts(session, urls[follower], keys, validators)
        plans = await asyncio.to_thread(prepare, keys, states, count, len(urls), seed)
        report.prepare_s = time.monotonic() - began
        by_id = {p.transfer.transaction_id: p for p in plans}
        stop = asyncio.Event()
        follow = asyncio.create_task(
            _follow(session, urls[follower], start_height, by_id, stop, report)
        )
        start = time.monotonic() + 0.2
        for index, planned in enumerate(plans):
            planned.due = start + index / rate
        per_account: dict[bytes, list[Planned]] = {}
        for planned in plans:
            per_account.setdefault(planned.transfer.sender, []).append(planned)
        await asyncio.gather(
            *(_send_account(session, urls, items, report) for items in per_account.values())
        )
        sent_end = time.monotonic()
        deadline = sent_end + drain
        while time.monotonic() < deadline:
            if all(p.committed is not None for p in plans if p.acknowledged):
                break
            await asyncio.sleep(0.05)
        stop.set()
        await follow
    report.committed = sum(1 for p in plans if p.committed is not None)
    report.lost = sum(1 for p in plans if p.acknowledged and p.committed is None)
    timed = [(p.sent, p.committed) for p in plans if p.sent is not None and p.committed is not None]
    report.latencies_ms = [round((done - sent) * 1000, 3) for sent, done in timed]
    sent_times = [p.sent for p in plans if p.sent is not None]
    if timed and sent_times:
        first = min(sent_times)
        report.window_s = max(max(done for _, done in timed), sent_end) - first
        in_window = sum(1 for _, done in timed if done <= sent_end)
        report.committed_per_s = in_window / max(1e-9, sent_end - first)
    return report


__all__ = ["LoadReport", "Planned", "prepare", "run_load"]
