"""Sync sessions: the peers' manifests and chunks, valid and corrupt, each with its verdict, and
how the sync must end (vectors under ``sync/session/``; importable by the suite).

A case gives the trusted root, the prefix length and, per peer, what it serves: the manifest and
each chunk as hex bytes labelled ``"verdict": "valid"`` or with the rule their rejection names
(``R3.1`` a manifest that does not join to the trusted root, ``R3.5`` a corrupt chunk), or
``{"error": "unavailable"}``. The runner plays the peers (``sync.new``, then ``poll`` until the
sync concludes, answering each request from the labels' data) and records: the final state and
rule, the adopted root and key count, a few keys read back, whether the reported rejections are
exactly the bad items served (``rejection_problems``, empty when right; order of fetching is the
implementation's choice, so the comparison does not depend on it), and for a failed sync the
items no peer served validly that some peer was never asked for (``unasked``, empty when right).

The corruptions and lies are the suite's (:mod:`conformance.sync_harness`); generation checks
every label against the reference's manifest and chunk verification.

Spec: R3.1, R3.5.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from aethel.encoding import JSONValue
from aethel.state.errors import SyncError
from aethel.state.snapshot import parse_manifest, verify_chunk
from conformance.adapters.api import Implementation
from conformance.sync_harness import (
    CHUNK_CORRUPTIONS,
    MANIFEST_LIES,
    Served,
    Snapshot,
    build_state,
    build_tree,
    check_rejections,
    corrupt_chunk,
    drive_sync,
    lying_manifest,
)

#: (case, rules, input).
SyncCase = tuple[str, tuple[str, ...], dict[str, Any]]
KEYS = 40
PREFIX_BITS = 2
READ_BACK = 6


@functools.cache
def snapshot() -> Snapshot:
    """Return the snapshot every case serves (a 40-key state, parts of 2 prefix bits)."""
    built = Snapshot(build_tree(build_state(KEYS, 15)))
    built.prepare(PREFIX_BITS)
    return built


def _item(data: bytes, verdict: str = "valid") -> dict[str, Any]:
    return {"data": data.hex(), "verdict": verdict}


UNAVAILABLE = {"error": "unavailable"}


def honest(missing: frozenset[int | None] = frozenset()) -> dict[str, Any]:
    """Return an honest peer's items (``missing`` parts answer "unavailable")."""
    snap = snapshot()
    manifest = UNAVAILABLE if None in missing else _item(snap.manifest(PREFIX_BITS))
    chunks = {
        str(p): UNAVAILABLE if p in missing else _item(snap.chunk(PREFIX_BITS, p))
        for p in snap.get_needed_prefixes(PREFIX_BITS)
    }
    return {"manifest": manifest, "chunks": chunks}


def corrupt(kind: str, parts: frozenset[int] | None = None) -> dict[str, Any]:
    """Return a peer serving the true manifest and chunks spoiled by ``kind``."""
    snap = snapshot()
    peer = honest()
    for p in snap.get_needed_prefixes(PREFIX_BITS):
        if parts is None or p in parts:
            peer["chunks"][str(p)] = _item(corrupt_chunk(snap, PREFIX_BITS, p, kind), "R3.5")
    return peer


def liar(lie: str) -> dict[str, Any]:
    """Return a peer serving a manifest that does not join to the trusted root."""
    peer = honest()
    peer["manifest"] = _item(lying_manifest(snapshot(), PREFIX_BITS, lie), "R3.1")
    return peer


def _session(peers: dict[str, dict[str, Any]]) -> dict[str, Any]:
    snap = snapshot()
    return {
        "root": snap.root.hex(),
        "prefix_bits": PREFIX_BITS,
        "peers": peers,
        "read_back": _sample_keys(),
    }


def iter_sync_cases() -> Iterator[SyncCase]:
    """Yield every sync session, in a stable order."""
    yield "honest-peer", ("R3.1", "R3.5"), _session({"alice": honest()})
    yield (
        "down-peer-then-honest",
        ("R3.1",),
        _session({"down": {"manifest": UNAVAILABLE, "chunks": {}}, "alice": honest()}),
    )
    first = snapshot().get_needed_prefixes(PREFIX_BITS)[0]
    for kind in CHUNK_CORRUPTIONS:
        yield (
            f"corrupt-chunks-{kind}",
            ("R3.1", "R3.5"),
            _session(
                {"mallory": corrupt(kind), "alice": honest(frozenset({first})), "bob": honest()}
            ),
        )
    for kind in ("altered-value", "other-root"):
        only = frozenset({first})
        yield (
            f"part-only-a-corrupt-peer-serves-{kind}",
            ("R3.5",),
            _session({"alice": honest(only), "mallory": corrupt(kind, only), "bob": honest(only)}),
        )
    for lie in MANIFEST_LIES:
        yield f"lying-manifest-{lie}", ("R3.1",), _session({"liar": liar(lie), "alice": honest()})
    peers = {f"liar-{lie}": liar(lie) for lie in MANIFEST_LIES}
    peers["down"] = {"manifest": UNAVAILABLE, "chunks": {}}
    yield "no-valid-manifest", ("R3.1",), _session(peers)


def check_labels(data: dict[str, Any]) -> None:
    """Raise AssertionError if a label disagrees with the reference's verification."""
    root = bytes.fromhex(data["root"])
    bits = data["prefix_bits"]
    manifest = parse_manifest(snapshot().manifest(bits), root, bits)
    for name, peer in data["peers"].items():
        item = peer["manifest"]
        if "data" in item:
            try:
                parse_manifest(bytes.fromhex(item["data"]), root, bits)
                verdict = "valid"
            except SyncError as exc:
                verdict = exc.rule_id
            assert verdict == item["verdict"], f"{name} manifest: {verdict} != {item['verdict']}"
        for prefix, chunk in peer["chunks"].items():
            if "data" not in chunk:
                continue
            try:
                verify_chunk(bytes.fromhex(chunk["data"]), manifest, int(prefix))
                verdict = "valid"
            except SyncError as exc:
                verdict = exc.rule_id
            assert verdict == chunk["verdict"], f"{name} chunk {prefix}: {verdict}"


@dataclass
class ScriptedPeer:
    """A peer answering from a case's labelled items."""

    name: str
    items: dict[str, Any]

    def answer(self, prefix: int | None) -> tuple[dict[str, JSONValue], Served]:
        item = self.items["manifest"] if prefix is None else self.items["chunks"].get(str(prefix))
        if item is None or "data" not in item:
            return {"peer": self.name, "prefix": prefix, "error": "unavailable"}, "error"
        kind: Served = "good" if item["verdict"] == "valid" else "bad"
        return {"peer": self.name, "prefix": prefix, "data": item["data"]}, kind


def run_session(impl: Implementation, data: dict[str, Any]) -> dict[str, Any]:
    """Play the case's peers to ``impl``'s sync; return ``{"result": {...}}`` (module doc)."""
    peers = {name: ScriptedPeer(name, items) for name, items in data["peers"].items()}
    session = impl.api("sync").new(data["root"], data["prefix_bits"], list(peers))
    try:
        trace = drive_sync(session, peers, data["prefix_bits"], random.Random(0), max_polls=2_000)
        outcome = session.outcome()
        result: dict[str, Any] = {
            "state": trace.state,
            "rule": trace.rule,
            "root": outcome.get("root"),
            "keys": outcome.get("keys"),
        }
        good = trace.served_as("good")
        if trace.state == "done":
            result["rejection_problems"] = check_rejections(outcome, trace)
            result["read_back"] = session.get(data["read_back"])
        else:
            served = {prefix for _, prefix, _ in trace.served}
            hopeless = sorted(
                (p for p in served if not any(q == p for _, q in good)),
                key=lambda p: (p is not None, p or 0),
            )
            asked = {(peer, prefix) for peer, prefix, _ in trace.served}
            result["unasked"] = [
                [peer, prefix]
                for prefix in hopeless
                for peer in sorted(peers)
                if (peer, prefix) not in asked
            ]
    finally:
        getattr(session, "close", lambda: None)()
    return {"result": result}


def _sample_keys() -> list[str]:
    state = build_state(KEYS, 15)
    keys = sorted(state)
    return [*keys[:: max(1, len(keys) // (READ_BACK - 1))][: READ_BACK - 1], "absent:key"]
