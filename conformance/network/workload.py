"""The client workload: transfers, confirmations, verified balance reads, block reads, polls.

* A **transfer client** owns one funded account. It signs one transfer at a time (nonce order,
  R7.1), proves its obligation with its own judge on the balance it is sure to have (R1.1),
  submits it to a node chosen by the seed (``POST /transfers``), and asks that node whether it
  committed (``GET /transactions/{id}?wait_ms=``). A ``committed`` answer is a node's
  acknowledgement: the durability checker holds the node to it. When the node does not answer
  or forgot the transfer (a crash loses the mempool), the client sends the same transfer to
  another node (nodes dedupe by id) or learns from a verified balance read that its nonce moved.
* A **reader** reads random committed blocks and balances from random nodes; every balance
  answer is verified against its certificate and state proofs (R2.3, E9) before it is recorded.
* An **observer** polls every node's ``GET /status`` (height, digest, root) several times a
  second: the checkers' view of every node over time.

An answer that breaks the API's contract (a 2xx that is not the JSON NODE.md describes) is an
API violation: the run stops with that verdict (:attr:`Workload.api_violations`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from aethel.consensus.validators import ValidatorSet
from aethel.encoding import KeyPair, to_hex
from aethel.errors import AethelError
from aethel.node.client import verify_account_answer
from aethel.proofs.judge import Judge
from aethel.proofs.model import sign_transfer
from conformance.network.contract import ACCOUNT_BALANCE, NodeSlot
from conformance.network.history import History

HEX = frozenset("0123456789abcdef")
#: How often the observer polls each node (seconds).
POLL_S = 0.25


def is_hex32(value: object) -> bool:
    return isinstance(value, str) and len(value) == 64 and set(value) <= HEX


@dataclass(frozen=True, slots=True)
class ApiViolation:
    time: float
    node: str
    detail: str


class Api:
    """HTTP calls to the nodes, each answer checked against the contract's shape."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        history: History,
        on_violation: Callable[[ApiViolation], None],
    ) -> None:
        self.session = session
        self.history = history
        self.on_violation = on_violation

    def violation(self, node: str, detail: str) -> None:
        self.on_violation(ApiViolation(self.history.now(), node, detail))

    async def call(
        self,
        method: str,
        slot: NodeSlot,
        path: str,
        body: Any = None,
        timeout: float = 3.0,
    ) -> tuple[int | None, Any]:
        """Return (status, JSON body) or (None, reason) when the node does not answer."""
        try:
            async with self.session.request(
                method,
                slot.url + path,
                json=body,
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as answer:
                data = await answer.read()
                status = answer.status
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return None, type(exc).__name__
        try:
            value = json.loads(data)
        except ValueError:
            if 200 <= status < 300:
                self.violation(slot.id, f"{method} {path} answered {status} with non-JSON")
            return status, None
        return status, value


class TransferClient:
    """One account's transfers (see the module docstring)."""

    def __init__(
        self,
        name: str,
        key: KeyPair,
        receivers: list[bytes],
        nodes: list[NodeSlot],
        api: Api,
        validators: ValidatorSet,
        seed: int,
    ) -> None:
        self.name = name
        self.key = key
        self.account = to_hex(key.public_key)
        self.receivers = receivers
        self.nodes = nodes
        self.api = api
        self.history = api.history
        self.validators = validators
        self.rng = random.Random(f"aethel-network-client/{seed}/{name}")
        self.judge = Judge(KeyPair.generate(self.rng))
        self.nonce = 0
        self.available = ACCOUNT_BALANCE
        self.committed = 0

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            amount = self.rng.randrange(1, 100)
            receiver = self.rng.choice(self.receivers)
            transfer = sign_transfer(self.key, receiver=receiver, amount=amount, nonce=self.nonce)
            proof = await asyncio.to_thread(
                self.judge.prove_transfer, transfer, self.available, self.nonce
            )
            body = {"transfer": transfer.to_json(), "proof": proof.to_json()}
            tid = to_hex(transfer.transaction_id)
            if not await self._deliver(body, tid, amount, stop):
                return
            self.nonce += 1
            self.available -= amount
            self.committed += 1

    async def _deliver(self, body: Any, tid: str, amount: int, stop: asyncio.Event) -> bool:
        """Until the transfer is known committed (True) or the run stops (False)."""
        while not stop.is_set():
            slot = self.rng.choice(self.nodes)
            value = {"id": tid, "account": self.account, "nonce": self.nonce, "amount": amount}
            op = self.history.invoke(self.name, "transfer", slot.id, value)
            status, answer = await self.api.call("POST", slot, "/transfers", body)
            if status is None:
                self.history.complete(op, "info", {"error": answer})
            elif status == 202:
                if not isinstance(answer, dict) or answer.get("transaction_id") != tid:
                    self.api.violation(slot.id, f"POST /transfers 202 without its id: {answer!r}")
                self.history.complete(op, "ok", {"id": tid})
                if await self._confirm(slot, tid, stop):
                    return True
            else:
                rule = _rule_of(answer)
                self.history.complete(op, "fail", {"status": status, "rule": rule})
            if await self._nonce_moved(stop):
                return True
            await asyncio.sleep(0.2 + self.rng.uniform(0, 0.3))
        return False

    async def _confirm(self, slot: NodeSlot, tid: str, stop: asyncio.Event) -> bool:
        """Ask ``slot`` until it says committed (True), forgets it or stops answering."""
        for _ in range(4):
            if stop.is_set():
                return False
            op = self.history.invoke(self.name, "confirm", slot.id, {"id": tid})
            status, answer = await self.api.call(
                "GET", slot, f"/transactions/{tid}?wait_ms=2000", timeout=5.0
            )
            if status is None:
                self.history.complete(op, "info", {"error": answer})
                return False
            if status == 200 and isinstance(answer, dict):
                if answer.get("status") == "committed":
                    height = answer.get("height")
                    if type(height) is not int or height < 1:
                        self.api.violation(
                            slot.id, f"a committed transfer without height: {answer}"
                        )
                        return False
                    self.history.complete(op, "ok", {"id": tid, "height": height})
                    return True
                if answer.get("status") != "pending":
                    self.api.violation(slot.id, f"GET /transactions answered {answer!r}")
                    return False
                self.history.complete(op, "fail", {"id": tid, "status": "pending"})
                continue
            self.history.complete(op, "fail", {"id": tid, "status": status})
            return False
        return False

    async def _nonce_moved(self, stop: asyncio.Event) -> bool:
        """A verified balance read from some node: True if this account's nonce moved on."""
        if stop.is_set():
            return False
        slot = self.rng.choice(self.nodes)
        read = await read_balance(self.api, slot, self.account, self.validators, self.name)
        return read is not None and read["nonce"] > self.nonce


def _rule_of(answer: Any) -> str:
    if isinstance(answer, dict) and isinstance(answer.get("error"), dict):
        return str(answer["error"].get("rule", ""))
    return ""


async def read_balance(
    api: Api, slot: NodeSlot, account: str, validators: ValidatorSet, process: str
) -> dict[str, Any] | None:
    """Read and verify one account (certificate and state proofs); record it."""
    op = api.history.invoke(process, "balance", slot.id, {"account": account})
    status, answer = await api.call("GET", slot, f"/accounts/{account}")
    if status is None:
        api.history.complete(op, "info", {"error": answer})
        return None
    if status != 200:
        api.history.complete(op, "fail", {"status": status, "rule": _rule_of(answer)})
        return None
    try:
        verified = verify_account_answer(answer, validators)
    except AethelError as exc:
        rule = getattr(exc, "rule_id", "")
        value = {"account": account, "invalid": f"{rule}: {exc}", "rule": rule}
        if isinstance(answer, dict):
            value["height"] = answer.get("height")
            value["root"] = answer.get("root")
        api.history.complete(op, "fail", value)
        return None
    value = {
        "account": account,
        "height": verified.height,
        "root": verified.root.hex(),
        "balance": verified.balance,
        "nonce": verified.nonce,
    }
    api.history.complete(op, "ok", value)
    return value


class Reader:
    """Random block and balance reads from random nodes."""

    def __init__(
        self,
        api: Api,
        nodes: list[NodeSlot],
        accounts: list[str],
        validators: ValidatorSet,
        seed: int,
        known_height: Callable[[], int],
    ) -> None:
        self.api = api
        self.nodes = nodes
        self.accounts = accounts
        self.validators = validators
        self.rng = random.Random(f"aethel-network-reader/{seed}")
        self.known_height = known_height

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            slot = self.rng.choice(self.nodes)
            top = self.known_height()
            if top >= 1 and self.rng.random() < 0.5:
                await self.read_block(slot, self.rng.randint(1, top))
            else:
                await read_balance(
                    self.api, slot, self.rng.choice(self.accounts), self.validators, "reader"
                )
            await asyncio.sleep(0.3 + self.rng.uniform(0, 0.4))

    async def read_block(self, slot: NodeSlot, height: int) -> None:
        op = self.api.history.invoke("reader", "block", slot.id, {"height": height})
        status, answer = await self.api.call("GET", slot, f"/blocks/{height}")
        if status is None:
            self.api.history.complete(op, "info", {"error": answer})
        elif status == 200:
            if not isinstance(answer, dict) or not (
                is_hex32(answer.get("digest")) and is_hex32(answer.get("root"))
            ):
                self.api.violation(slot.id, f"GET /blocks/{height} answered without digest/root")
                self.api.history.complete(op, "fail", {"status": "malformed"})
                return
            value = {"height": height, "digest": answer["digest"], "root": answer["root"]}
            self.api.history.complete(op, "ok", value)
        else:
            self.api.history.complete(op, "fail", {"status": status})


class Observer:
    """Polls every node's status (see the module docstring)."""

    def __init__(self, api: Api, nodes: list[NodeSlot]) -> None:
        self.api = api
        self.nodes = nodes
        self.latest: dict[str, dict[str, Any]] = {}
        self.max_height = 0
        #: When (run seconds) ``max_height`` was first seen.
        self.max_height_at = 0.0

    async def run(self, stop: asyncio.Event) -> None:
        await asyncio.gather(*(self._poll(slot, stop) for slot in self.nodes))

    async def _poll(self, slot: NodeSlot, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.poll(slot)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), POLL_S)

    async def poll(self, slot: NodeSlot) -> dict[str, Any] | None:
        """One status read of ``slot``, recorded; the parsed value or None."""
        history = self.api.history
        began = history.now()
        status, answer = await self.api.call("GET", slot, "/status", timeout=1.5)
        if status != 200 or not isinstance(answer, dict):
            if status == 200:
                self.api.violation(slot.id, f"GET /status answered {answer!r:.200}")
            history.add("observer", "info", "status", slot.id, {"invoked": began})
            return None
        height, root, digest = answer.get("height"), answer.get("root"), answer.get("digest")
        if (
            type(height) is not int
            or height < 0
            or not is_hex32(root)
            or not (digest is None or is_hex32(digest))
        ):
            self.api.violation(
                slot.id, f"GET /status lacks height/root/digest of the contract: {answer!r:.200}"
            )
            history.add("observer", "fail", "status", slot.id, {"invoked": began})
            return None
        base = answer.get("timeout_base_ms")
        if base is not None and not is_positive_number(base):
            self.api.violation(
                slot.id, f"GET /status: timeout_base_ms must be a positive number, got {base!r:.80}"
            )
            history.add("observer", "fail", "status", slot.id, {"invoked": began})
            return None
        replica = answer.get("replica")
        leader = replica.get("leader") if isinstance(replica, dict) else None
        value = {
            "invoked": began,
            "height": height,
            "root": root,
            "digest": digest,
            "syncing": bool(answer.get("syncing", False)),
            "leader": leader if isinstance(leader, str) else None,
        }
        if base is not None:
            value["timeout_base_ms"] = base
        history.add("observer", "ok", "status", slot.id, value)
        self.latest[slot.id] = value
        if height > self.max_height:
            self.max_height, self.max_height_at = height, history.now()
        return value


def is_positive_number(value: object) -> bool:
    """A finite JSON number above zero (not a boolean)."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


__all__ = ["Api", "ApiViolation", "Observer", "Reader", "TransferClient", "read_balance"]
