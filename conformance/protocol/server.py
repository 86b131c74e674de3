"""Serve a Python implementation over the subprocess protocol (stdin/stdout, JSON lines).

``aethel-conformance serve-reference`` serves the reference this way, so the suite exercises the
subprocess path with a known-good implementation; ``aethel-conformance serve --impl
python:pkg.mod:factory`` serves any Python implementation (the self-test's mutants too). This is
also a worked example for implementers in other languages: read a line, dispatch, write a line.
"""

from __future__ import annotations

import json
import sys
import traceback
from typing import IO, Any

from conformance.adapters.api import Implementation
from conformance.adapters.errors import Rejected, Unsupported
from conformance.protocol.commands import COMMANDS
from conformance.protocol.schema import PROTOCOL_VERSION


class BadRequest(Exception):
    """The harness sent something the protocol does not allow."""


class Server:
    """Dispatch protocol requests to an :class:`Implementation`; hold the objects of handles."""

    def __init__(self, implementation: Implementation) -> None:
        self.implementation = implementation
        self.handles: dict[str, Any] = {}

    def handle(self, request: Any) -> tuple[Any, bool]:
        """Return ``(result, keep_serving)`` for one request; raise to answer with an error."""
        if not isinstance(request, dict) or not isinstance(request.get("cmd"), str):
            raise BadRequest("a request is an object with a string 'cmd'")
        cmd, params = request["cmd"], request.get("params", {})
        if not isinstance(params, dict):
            raise BadRequest("'params' must be an object")
        if cmd == "hello":
            offered = params.get("protocol", [])
            if PROTOCOL_VERSION not in offered:
                raise BadRequest(f"protocol {PROTOCOL_VERSION} not offered (got {offered})")
            impl = self.implementation
            return {
                "name": impl.name,
                "version": impl.version,
                "protocol": PROTOCOL_VERSION,
                "capabilities": sorted(impl.capabilities),
            }, True
        if cmd == "shutdown":
            return None, False
        if cmd == "close":
            obj = self.handles.pop(self._handle(request), None)
            closer = getattr(obj, "close", None)
            if callable(closer):
                closer()
            return None, True
        command = COMMANDS.get(cmd)
        if command is None:
            raise Unsupported(f"unknown command {cmd!r}")
        if command.capability not in self.implementation.capabilities:
            raise Unsupported(f"capability {command.capability} is not declared")
        missing = [
            p for p in command.param_names if p not in params and p not in command.optional_params
        ]
        unknown = sorted(set(params) - set(command.param_names))
        if missing or unknown:
            raise BadRequest(f"{cmd}: missing params {missing}, unknown params {unknown}")
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
        request_id: Any = None
        keep = True
        try:
            request = json.loads(line)
            if isinstance(request, dict):
                request_id = request.get("id")
            result, keep = self.handle(request)
            response: dict[str, Any] = {"id": request_id, "ok": True, "result": result}
        except Rejected as exc:
            response = _error(request_id, "rejected", exc.message, exc.rule_id)
        except Unsupported as exc:
            response = _error(request_id, "unsupported", str(exc))
        except (BadRequest, json.JSONDecodeError) as exc:
            response = _error(request_id, "bad-request", f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # the implementation failed: say so, keep serving
            traceback.print_exc(file=sys.stderr)
            response = _error(request_id, "internal", f"{type(exc).__name__}: {exc}")
        try:
            text = json.dumps(response, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            text = json.dumps(_error(request_id, "internal", f"result is not JSON: {exc}"))
        return text, keep


def _error(request_id: Any, kind: str, message: str, rule: str | None = None) -> dict[str, Any]:
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
