"""``aethel-conformance smoke --impl X``: start an implementation, say hello, send one request per
declared capability, stop it; a verdict per capability in seconds.

Each probe is one small, valid request of the capability (a create and one method for the
capabilities that work on objects); its answer is compared with the reference's answer to the
same request. Every message is checked against the protocol's JSON Schemas. The exit status is 0
when every probe passes, 1 when one fails, 2 when the program does not start or says hello wrong.
This is a smoke test, not a conformance verdict: ``aethel-conformance run`` is that.

Spec: the subprocess protocol (conformance/PROTOCOL.md); E1, E10, E8, R1.4, R4.4, R6.5, R8.3.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from aethel.errors import UsageError
from conformance.adapters.api import Implementation
from conformance.adapters.errors import ImplementationFailure, Rejected
from conformance.adapters.load_options import LoadOptions
from conformance.adapters.loader import load_implementation
from conformance.checks import first_divergence, type_mismatches

Probe = Callable[[Any, Path], Any]


def _on_object(obj: Any, call: Callable[[Any], Any]) -> Any:
    try:
        return call(obj)
    finally:
        getattr(obj, "close", lambda: None)()


def _store(api: Any, scratch: Path) -> Any:
    store = api.open(str(scratch / "smoke.sqlite"))
    return _on_object(store, lambda s: s.commit_genesis({"acct": 10}, {"val": 1_000}))


def _mempool(api: Any, _: Path) -> Any:
    stats = _on_object(api.new(None, "07" * 32), lambda pool: pool.stats())
    return {k: stats.get(k) for k in ("size", "transactions", "admitted")}


def _history(api: Any, _: Path) -> Any:
    key = "3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29"  # seed 00..00
    validators = {"epoch": 0, "seed": "00" * 32, "validators": [
        {"id": "v000", "public_key": key, "stake": 1_000}]}  # fmt: skip
    genesis = {"balances": {"acct": 10}, "stakes": {"v000": 1_000}}
    return api.verify(genesis, validators, {"links": []})


def _replica(api: Any, _: Path) -> Any:
    return api.timeout(600_000_000, 2)


#: capability -> (what is sent, the probe). ``catch-up`` has no command of its own.
PROBES: dict[str, tuple[str, Probe]] = {
    "encoding": (
        "encoding.canonical_json",
        lambda api, _: api.canonical_json({"b": 2**63 - 1, "a": [True, None, "\u00e9"]}),
    ),
    "list-hash": ("list-hash.root", lambda api, _: api.root([{"index": 0}, {"index": 1}])),
    "state-tree": (
        "state-tree.new, batch_update",
        lambda api, _: _on_object(
            api.new(None), lambda tree: tree.batch_update([{"op": "set", "key": "a", "value": 1}])
        ),
    ),
    "state-store": ("state-store.open, commit_genesis", _store),
    "sync": (
        "sync.new, poll",
        lambda api, _: _on_object(
            api.new("00" * 32, 2, ["peer"]), lambda session: session.poll([]).get("state")
        ),
    ),
    "verifier": ("verifier.difficulty", lambda api, _: api.difficulty(41, 294)),
    "mempool": ("mempool.new, stats", _mempool),
    "economics": ("economics.block_reward", lambda api, _: api.block_reward(12_345)),
    "replica": ("replica.timeout", _replica),
    "monitoring": (
        "monitoring.accuracy_alerts",
        lambda api, _: api.accuracy_alerts([{"validator": "v1", "correct": True}]),
    ),
    "ghost": ("ghost.new", lambda api, _: _on_object(api.new("01" * 32), lambda _: None)),
    "history": ("history.verify", _history),
}


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """The verdict on one capability."""

    capability: str
    request: str
    status: str  # "pass", "fail", "error" or "n/a"
    detail: str
    seconds: float


def _run(probe: Probe, impl: Implementation, capability: str, scratch: Path) -> Any:
    return probe(impl.api(capability), scratch)


def probe_capability(
    impl: Implementation, reference: Implementation, capability: str, scratch: Path
) -> ProbeResult:
    """Send the capability's probe to ``impl`` and compare with the reference's answer."""
    if capability not in PROBES:
        return ProbeResult(capability, "-", "n/a", "no command of its own", 0.0)
    request, probe = PROBES[capability]
    expected = _run(probe, reference, capability, scratch / "reference")
    start = time.perf_counter()
    try:
        answer = _run(probe, impl, capability, scratch / "implementation")
    except Rejected as exc:
        return ProbeResult(capability, request, "fail", f"refused valid input: {exc}", 0.0)
    except ImplementationFailure as exc:
        detail = f"{type(exc).__name__}: {exc}"[:300]
        return ProbeResult(capability, request, "error", detail, time.perf_counter() - start)
    seconds = time.perf_counter() - start
    found = first_divergence(expected, answer)
    if found is not None:
        where, want, got = found
        detail = f"at {where or 'the top'}: expected {want!r}, got {got!r}"[:300]
        return ProbeResult(capability, request, "fail", detail, seconds)
    wrong = type_mismatches(expected, answer)
    if wrong:
        return ProbeResult(capability, request, "fail", wrong[0].describe(), seconds)
    return ProbeResult(capability, request, "pass", "as the reference", seconds)


def smoke(spec: str, timeout_s: float = 10.0) -> tuple[int, list[str]]:
    """Smoke-test the implementation ``spec``; return (exit status, report lines)."""
    from conformance.adapters.reference import ReferenceImplementation

    lines: list[str] = []
    options = LoadOptions(
        startup_timeout_s=timeout_s, request_timeout_s=timeout_s, validate_protocol=True
    )
    start = time.perf_counter()
    try:
        impl = load_implementation(spec, options)
    except (UsageError, ImplementationFailure) as exc:
        return 2, [f"hello failed: {exc}"]
    hello_s = time.perf_counter() - start
    results: list[ProbeResult] = []
    try:
        lines.append(
            f"hello: {impl.name} {impl.version}, capabilities "
            f"{', '.join(sorted(impl.capabilities)) or '(none)'} ({hello_s:.2f} s)"
        )
        reference = ReferenceImplementation()
        with tempfile.TemporaryDirectory(prefix="aethel-smoke-") as directory:
            scratch = Path(directory)
            for part in ("reference", "implementation"):
                (scratch / part).mkdir()
            for capability in sorted(impl.capabilities):
                results.append(probe_capability(impl, reference, capability, scratch))
    finally:
        stop = time.perf_counter()
        impl.close()
        stop_s = time.perf_counter() - stop
    for r in results:
        lines.append(f"{r.status:5} {r.capability:12} {r.request:34} {r.detail}")
    lines.append(f"shutdown: {stop_s:.2f} s; total {time.perf_counter() - start:.2f} s")
    failed = [r for r in results if r.status in ("fail", "error")]
    if not impl.capabilities:
        lines.append("verdict: FAIL (no capability declared)")
        return 1, lines
    verdict = "PASS" if not failed else f"FAIL ({len(failed)} of {len(results)} capabilities)"
    lines.append(f"verdict: {verdict}")
    return (1 if failed else 0), lines


def smoke_command(
    impl: Annotated[str, typer.Option(help='the implementation, e.g. "stdio:./my-node"')],
    timeout: Annotated[float, typer.Option(help="seconds for hello and for each request")] = 10.0,
) -> None:
    """Start an implementation, say hello, send one request per capability, stop it."""
    status, lines = smoke(impl, timeout)
    for line in lines:
        typer.echo(line, err=status == 2)
    raise typer.Exit(status)
