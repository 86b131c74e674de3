"""The client API over HTTP (aiohttp): submit, query, metrics and health. See aethel/node/API.md.

Why aiohttp: the node is one asyncio process (peers, timers and syncs on one event loop), and
aiohttp is a kept asyncio HTTP server that runs inside that loop with no second server process,
no thread and no ASGI layer between the handler and the node's state; its request size limit and
its client (used by ``aethel testnet load``) come with it.

Every answer is JSON except ``/metrics`` (Prometheus text exposition). Errors are typed: status
400 for a malformed request (not JSON, wrong members or types: the encoding rule it breaks),
413 for a body over :data:`MAX_BODY_BYTES` (N6), 404 for what this node does not hold, 422 for an
input a protocol rule refuses (R5.5 signatures, R7.1 nonce order and balance, R1.1 obligation,
R1.5 verification), 429 when the mempool is full or the node saturated (N6) or catching up
(R3.5: send again shortly); the body is
``{"error": {"rule": ID, "type": class name, "detail": text}}``. A handler never lets an exception
escape as an untyped answer: anything unexpected is logged and answered 500 with the same shape.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from aethel import PROTOCOL_VERSION, __version__
from aethel.consensus.timeouts import compute_timeout
from aethel.encoding import MAX_DEPTH, to_hex, too_deep_for_the_decoder
from aethel.errors import AethelError, EncodingError, ProtocolViolation
from aethel.monitoring.health import health_to_json
from aethel.node.home import parse_address
from aethel.node.runtime import CatchingUp, NodeRuntime
from aethel.proofs.errors import MempoolFull
from aethel.proofs.model import proof_from_json, transfer_from_json
from aethel.state.layout import balance_key, nonce_key

logger = logging.getLogger("aethel.node.api")

#: Largest request body accepted (a transfer with its proof is about 1.5 KB).
MAX_BODY_BYTES = 256 * 1024
#: Most heights one /headers answer lists.
MAX_HEADERS = 1_000
#: Longest a client may ask a query to wait for a height.
MAX_WAIT_MS = 30_000

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(AethelError):
    """An answer other than 2xx: HTTP status, rule, detail."""

    def __init__(self, status: int, rule: str, detail: str, kind: str = "ApiError") -> None:
        super().__init__(detail)
        self.status = status
        self.rule = rule
        self.detail = detail
        self.kind = kind


def error_body(rule: str, kind: str, detail: str) -> dict[str, Any]:
    return {"error": {"rule": rule, "type": kind, "detail": detail}}


def _status_of(exc: ProtocolViolation) -> int:
    if isinstance(exc, MempoolFull | CatchingUp):
        return 429
    if isinstance(exc, EncodingError) or exc.rule_id.startswith("E"):
        return 400
    return 422


@web.middleware
async def typed_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every failure into a typed JSON answer (see the module docstring)."""
    try:
        return await handler(request)
    except ApiError as exc:
        return web.json_response(error_body(exc.rule, exc.kind, exc.detail), status=exc.status)
    except ProtocolViolation as exc:
        body = error_body(exc.rule_id, type(exc).__name__, exc.detail)
        return web.json_response(body, status=_status_of(exc))
    except web.HTTPRequestEntityTooLarge:
        detail = f"the body exceeds {MAX_BODY_BYTES} bytes"
        return web.json_response(error_body("N6", "BodyTooLarge", detail), status=413)
    except web.HTTPException as exc:
        body = error_body("", type(exc).__name__, exc.reason or "")
        return web.json_response(body, status=exc.status)
    except AethelError as exc:
        return web.json_response(error_body("", type(exc).__name__, str(exc)), status=400)
    except Exception:
        logger.exception("%s %s failed", request.method, request.path)
        body = error_body("", "InternalError", "the node failed to answer; see its log")
        return web.json_response(body, status=500)


def _reject_constant(name: str) -> Any:
    raise ApiError(400, "E2", f"{name} is not a JSON number this API accepts", "EncodingError")


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise ApiError(400, "E4", f"member {name!r} appears twice", "EncodingError")
        result[name] = value
    return result


async def read_json(request: web.Request, names: set[str], optional: set[str]) -> dict[str, Any]:
    """Read a JSON object body with exactly ``names`` (and any of ``optional``)."""
    data = await request.read()
    if too_deep_for_the_decoder(data, MAX_DEPTH):
        raise ApiError(400, "E4", f"the body nests deeper than {MAX_DEPTH} levels", "EncodingError")
    try:
        value = json.loads(data, object_pairs_hook=_unique_members, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, "E4", f"the body is not JSON: {exc}", "EncodingError") from None
    if not isinstance(value, dict) or not names <= set(value) <= names | optional:
        wanted = sorted(names) + [f"{name}?" for name in sorted(optional)]
        raise ApiError(400, "E12", f"the body is an object with members {wanted}", "EncodingError")
    return value


def _height(request: web.Request) -> int:
    text = request.match_info["height"]
    if not text.isdigit() or len(text) > 18:
        raise ApiError(400, "E2", "a height is a non-negative integer", "EncodingError")
    return int(text)


def _wait_ms(request: web.Request) -> int:
    text = request.query.get("wait_ms", "0")
    if not text.isdigit() or int(text) > MAX_WAIT_MS:
        raise ApiError(400, "E2", f"wait_ms is an integer from 0 to {MAX_WAIT_MS}", "EncodingError")
    return int(text)


def _hex_id(text: str, what: str) -> bytes:
    try:
        value = bytes.fromhex(text)
    except ValueError:
        value = b""
    if len(value) != 32 or text != text.lower():
        raise ApiError(400, "E5", f"{what} is 32 bytes of lowercase hex", "EncodingError")
    return value


class Api:
    """The routes of one node (see aethel/node/API.md)."""

    def __init__(self, runtime: NodeRuntime) -> None:
        self.runtime = runtime
        self.app = web.Application(middlewares=[typed_errors], client_max_size=MAX_BODY_BYTES)
        self.app.add_routes(
            [
                web.post("/transfers", self.post_transfer),
                web.post("/proofs", self.post_proof),
                web.get("/status", self.get_status),
                web.get("/blocks/{height}", self.get_block),
                web.get("/certificates/{height}", self.get_certificate),
                web.get("/headers", self.get_headers),
                web.get("/accounts/{account}", self.get_account),
                web.get("/transactions/{id}", self.get_transaction),
                web.get("/evidence", self.get_evidence),
                web.get("/supply", self.get_supply),
                web.get("/metrics", self.get_metrics),
                web.get("/health", self.get_health),
            ]
        )
        self._runner: web.AppRunner | None = None
        #: The address the API is bound to (the port is chosen by the OS if 0).
        self.bound: tuple[str, int] | None = None

    async def start(self, listen: str) -> None:
        host, port = parse_address(listen)
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, backlog=512)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            name = sockets[0].getsockname()
            self.bound = (str(name[0]), int(name[1]))

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------------ submissions

    async def post_transfer(self, request: web.Request) -> web.Response:
        self.runtime.check_admission()  # a saturated node answers 429 before parsing anything
        body = await read_json(request, {"transfer"}, {"proof"})
        transfer = transfer_from_json(body["transfer"])
        proof = None if body.get("proof") is None else proof_from_json(body["proof"])
        admitted = self.runtime.submit_transfer(transfer, proof)
        answer = {
            "status": "pending",
            "transaction_id": to_hex(transfer.transaction_id),
            "proof_id": to_hex(admitted.proof_id),
        }
        return web.json_response(answer, status=202)

    async def post_proof(self, request: web.Request) -> web.Response:
        body = await read_json(request, {"proof"}, set())
        proof = self.runtime.submit_proof(proof_from_json(body["proof"]))
        answer = {"status": "pending", "proof_id": to_hex(proof.proof_id)}
        return web.json_response(answer, status=202)

    # ------------------------------------------------------------------ queries

    async def get_status(self, request: web.Request) -> web.Response:
        runtime = self.runtime
        node = runtime.node
        replica = runtime.replica
        latest = node.latest()
        stats = node.mempool.stats()
        records = node.monitor.records
        return web.json_response(
            {
                "id": runtime.id,
                "chain_id": to_hex(runtime.home.chain.chain_id),
                "version": __version__,
                "protocol": PROTOCOL_VERSION,
                "consensus": {
                    "versions": list(runtime.home.config.protocol_versions),
                    "protocol_v2_height": runtime.home.chain.activation,
                    "height_version": runtime.home.chain.version_of(replica.height),
                    "stopped_at": runtime.stopped_at,
                },
                "height": node.height,
                "digest": None if latest is None else to_hex(latest.digest),
                "root": to_hex(node.ledger.store.root),
                "replica": {
                    "height": replica.height,
                    "view": replica.view,
                    "leader": replica.validators.get_leader(replica.height, replica.view).id,
                    "stats": replica.get_performance_stats(),
                },
                "timeout_base_ms": compute_timeout(replica.observed_latency(), 0) / 1e6,
                "peers": runtime.peers,
                "validators": len(runtime.home.chain.validators),
                "mempool": {
                    "proofs": stats.size,
                    "transactions": stats.transactions,
                    "capacity": stats.capacity,
                },
                "syncing": runtime.syncing,
                "syncs": runtime.syncs_completed,
                "admission_backlog": len(runtime._admissions),
                "loop_lag_ms": round(runtime.loop_lag_ns / 1e6, 3),
                "frames_in": runtime.network.stats.frames_in,
                "last_height_ms": records[-1].duration_ns / 1e6 if records else None,
                "finality_ms": None
                if runtime.last_finality_ns is None
                else runtime.last_finality_ns / 1e6,
                "uptime_s": round((runtime.uptime_ns()) / 1e9, 3),
            }
        )

    async def _committed(self, request: web.Request) -> int:
        height = _height(request)
        wait = _wait_ms(request)
        if wait:
            await self.runtime.wait_for_height(height, wait / 1000)
        return height

    async def get_block(self, request: web.Request) -> web.Response:
        height = await self._committed(request)
        ledger = self.runtime.node.ledger
        block = ledger.get_block(height) if height >= 1 else None
        certificate = ledger.get_certificate(height) if height >= 1 else None
        if block is None or certificate is None:
            raise ApiError(404, "R3.1", f"height {height} is not held here", "NotFound")
        return web.json_response(
            {
                "height": height,
                "digest": to_hex(block.digest),
                "root": to_hex(certificate.post_root),
                "block": block.to_wire(),
                "certificate": certificate.to_wire(),
            }
        )

    async def get_certificate(self, request: web.Request) -> web.Response:
        height = await self._committed(request)
        certificate = self.runtime.node.ledger.get_certificate(height) if height >= 1 else None
        if certificate is None:
            raise ApiError(404, "R3.1", f"height {height} is not held here", "NotFound")
        return web.json_response({"height": height, "certificate": certificate.to_wire()})

    async def get_headers(self, request: web.Request) -> web.Response:
        """Digest and post-state root of each committed height in [from, to] held here (at
        most :data:`MAX_HEADERS`; heights skipped by a state sync are absent)."""
        first, last = (request.query.get(name, "") for name in ("from", "to"))
        if not (first.isdigit() and last.isdigit()) or len(first) > 18 or len(last) > 18:
            raise ApiError(400, "E2", "from and to are heights", "EncodingError")
        low, high = max(1, int(first)), min(int(last), int(first) + MAX_HEADERS - 1)
        ledger = self.runtime.node.ledger
        headers = []
        for height in range(low, min(high, self.runtime.node.height) + 1):
            certificate = ledger.get_certificate(height)
            if certificate is not None:
                headers.append(
                    {
                        "height": height,
                        "digest": to_hex(certificate.digest),
                        "root": to_hex(certificate.post_root),
                    }
                )
        return web.json_response({"headers": headers})

    async def get_account(self, request: web.Request) -> web.Response:
        account = request.match_info["account"]
        _hex_id(account, "an account")
        node = self.runtime.node
        latest = node.latest()
        if latest is None:
            raise ApiError(404, "R3.1", "no height is certified yet", "NotFound")
        store = node.ledger.store
        tree = store.tree(latest.height)
        balance = tree.prove(balance_key(account))
        nonce = tree.prove(nonce_key(account))
        state = node.ledger.get(latest.post_root)
        return web.json_response(
            {
                "account": account,
                "height": latest.height,
                "root": to_hex(latest.post_root),
                "balance": state.balance(account),
                "nonce": state.nonce(account),
                "certificate": latest.to_wire(),
                "proofs": {"balance": balance.to_dict(), "nonce": nonce.to_dict()},
            }
        )

    async def get_transaction(self, request: web.Request) -> web.Response:
        transaction_id = _hex_id(request.match_info["id"], "a transaction id")
        runtime = self.runtime
        wait = _wait_ms(request)
        height = runtime.committed_transfers.get(transaction_id)
        if height is None and wait and runtime.node.mempool.has_transaction(transaction_id):
            height = await runtime.wait_for_transfer(transaction_id, wait / 1000)
        if height is not None:
            return web.json_response({"status": "committed", "height": height})
        if runtime.node.mempool.has_transaction(transaction_id):
            return web.json_response({"status": "pending"})
        raise ApiError(404, "R7.1", "no pending or recently committed transfer", "NotFound")

    async def get_evidence(self, request: web.Request) -> web.Response:
        found = [
            {"offender": e.offender, "offence": e.offence, "height": e.height}
            for e in self.runtime.evidence_found
        ]
        return web.json_response({"evidence": found})

    async def get_supply(self, request: web.Request) -> web.Response:
        """The supply books at the latest height (R3.6: balances + stakes = genesis + minted -
        burned)."""
        node = self.runtime.node
        state = node.state()
        balances = sum(state.balances.values())
        stakes = sum(state.stakes.values())
        genesis, minted, burned = state.genesis_supply, state.minted, state.burned
        return web.json_response(
            {
                "height": node.height,
                "root": to_hex(state.root),
                "balances": balances,
                "stakes": stakes,
                "genesis": genesis,
                "minted": minted,
                "burned": burned,
                "balanced": balances + stakes == genesis + minted - burned,
            }
        )

    async def get_metrics(self, request: web.Request) -> web.Response:
        text = self.runtime.node.monitor.metrics.exposition()
        return web.Response(body=text, content_type="text/plain", charset="utf-8")

    async def get_health(self, request: web.Request) -> web.Response:
        runtime = self.runtime
        health = health_to_json(runtime.node.monitor.get_health())
        health["status"] = (
            "ok" if runtime.peers or len(runtime.home.chain.validators) == 1 else "degraded"
        )
        health["peers"] = runtime.peers
        health["syncing"] = runtime.syncing
        return web.json_response(health)


__all__ = ["MAX_BODY_BYTES", "Api", "ApiError"]
