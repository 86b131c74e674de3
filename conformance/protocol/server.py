"""Serve a Python implementation over the subprocess protocol (stdin/stdout, JSON lines).

``aethel-conformance serve-reference`` serves the reference this way, so the suite exercises the
subprocess path with a known-good implementation; ``aethel-conformance serve --impl
python:pkg.mod:factory`` serves any Python implementation (the self-test's mutants too). This is
also a worked example for implementers in other languages: read a line, dispatch, write a line.

Every request is checked against its JSON Schema before it is dispatched (the same schemas
``--validate-protocol`` applies to the harness): a request whose ``id`` is not a non-negative
integer (``NaN``, ``Infinity``, ``1e400`` included), that lacks a member, carries an unknown one
or gives a parameter of the wrong type is answered ``bad-request``, on one valid JSON line, and
never reaches the implementation. An unknown command, or one of an undeclared capability, is
``unsupported``.
"""

from __future__ import annotations

import json
import sys
import traceback
from typing import IO, Any

from aethel.encoding import too_deep_for_the_decoder
from conformance.adapters.api import Implementation
from conformance.adapters.errors import Rejected, Unsupported
from conformance.protocol.commands import COMMANDS
from conformance.protocol.schema import PROTOCOL_VERSION, MessageValidator

#: Deepest nesting of a request line the server parses (the harness's answers nest at most 128,
#: PROTOCOL.md); deeper is refused as bad-request before the C decoder sees it.
MAX_REQUEST_DEPTH = 128

SESSION_COMMANDS = ("hello", "shutdown", "close")


class BadRequest(Exception):
    """The harness sent something the protocol does not allow."""


class Server:
    """Dispatch protocol requests to an :class:`Implementation`; hold the objects of handles."""

    def __init__(self, implementation: Implementation) -> None:
        self.implementation = implementation
        self.handles: dict[str, Any] = {}
        self.validator = MessageValidator()

    def handle(self, request: Any) -> tuple[Any, bool]:
        """Return ``(result, keep_serving)`` for one request; raise to answer with an error."""
        if not isinstance(request, dict) or not isinstance(request.get("cmd"), str):
            raise BadRequest("a request is an object with a string 'cmd'")
        if request_id_of(request) is None:
            raise BadRequest("a request needs an 'id': a non-negative integer")
        cmd = request["cmd"]
        command = COMMANDS.get(cmd)
        if command is None and cmd not in SESSION_COMMANDS:
            raise Unsupported(f"unknown command {cmd!r}")
        if command is not None and command.capability not in self.implementation.capabilities:
            raise Unsupported(f"capability {command.capability} is not declared")
        problems = self.validator.problems("request", cmd, request)
        if problems:
            raise BadRequest(f"{cmd}: {'; '.join(problems)}")
        params = request["params"]
        if cmd == "hello":
            offered = params.get("protocol", [])
            if PROTOCOL_VERSION not in offered:
                raise BadRequest(f"protocol {PROTOCOL_VERSION} not offered (got {offered})")
            impl = self.implementation
            answer = {
                "name": impl.name,
                "version": impl.version,
                "protocol": PROTOCOL_VERSION,
                "capabilities": sorted(impl.capabilities),
            }
            versions = getattr(impl, "consensus_versions", None)
            if versions is not None:  # absent: consensus protocol version 1 only
                answer["consensus_versions"] = sorted(versions)
            return answer, True
        if cmd == "shutdown":
            return None, False
        if cmd == "close":
            obj = self.handles.pop(self._handle(request), None)
            closer = getattr(obj, "close", None)
            if callable(closer):
                closer()
            return None, True
        assert command is not None
        if command.kind == "method":
            handle = self._handle(request)
            if handle not in self.handles:
                raise BadRequest(f"{cmd}: no object under handle {handle!r}")
            target = self.handles[handle]
        else:
            target = self.implementation.api(command.capability.value)
        method = getattr(target, command.method, None)
        if method is None:
            raise Unsupported(f"{cmd} is not implemented")
        result = method(**params)
        if command.kind == "create":
            self.handles[self._handle(request)] = result
            return None, True
        return result, True

    @staticmethod
    def _handle(request: dict[str, Any]) -> str:
        handle = request.get("handle")
        if not isinstance(handle, str) or not handle:
            raise BadRequest(f"{request['cmd']} needs a 'handle'")
        return handle

    def respond(self, line: str) -> tuple[str, bool]:
        """Return the response line to one request line and whether to keep serving."""
        if too_deep_for_the_decoder(line, MAX_REQUEST_DEPTH):
            message = f"the request is not JSON: it nests deeper than {MAX_REQUEST_DEPTH} levels"
            return _dump(_error(None, "bad-request", message)), True
        try:
            request = json.loads(line, parse_constant=_refuse_constant)
        except (ValueError, RecursionError) as exc:  # not JSON (NaN and Infinity are not)
            return _dump(_error(None, "bad-request", f"the request is not JSON: {exc}")), True
        request_id = request_id_of(request)
        keep = True
        try:
            result, keep = self.handle(request)
            response: dict[str, Any] = {"id": request_id, "ok": True, "result": result}
        except Rejected as exc:
            response = _error(request_id, "rejected", exc.message, exc.rule_id)
        except Unsupported as exc:
            response = _error(request_id, "unsupported", str(exc))
        except BadRequest as exc:
            response = _error(request_id, "bad-request", str(exc))
        except Exception as exc:  # the implementation failed: say so, keep serving
            traceback.print_exc(file=sys.stderr)
            response = _error(request_id, "internal", f"{type(exc).__name__}: {exc}")
        try:
            text = _dump(response)
        except (TypeError, ValueError) as exc:
            text = _dump(_error(request_id, "internal", f"result is not JSON: {exc}"))
        return text, keep


def request_id_of(request: Any) -> int | None:
    """Return the request's id if it is one the protocol allows (a non-negative integer)."""
    value = request.get("id") if isinstance(request, dict) else None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _dump(response: dict[str, Any]) -> str:
    return json.dumps(response, ensure_ascii=True, allow_nan=False, separators=(",", ":"))


def _error(
    request_id: int | None, kind: str, message: str, rule: str | None = None
) -> dict[str, Any]:
    return {
        "id": request_id,
        "ok": False,
        "error": {"kind": kind, "message": message, "rule": rule},
    }


def serve(implementation: Implementation, source: IO[str], sink: IO[str]) -> None:
    """Answer requests from ``source`` on ``sink`` until ``shutdown`` or end of input."""
    server = Server(implementation)
    try:
        for line in source:
            if not line.strip():
                continue
            text, keep = server.respond(line)
            sink.write(text + "\n")
            sink.flush()
            if not keep:
                break
    finally:
        implementation.close()
