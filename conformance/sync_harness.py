"""The suite's side of a state sync (capability ``sync``): snapshot peers living in the harness.

An implementation under test syncs to a trusted root from peers that the suite plays. The suite
builds a state with the reference, serves its manifest and chunks (the wire forms of
:mod:`aethel.state.snapshot`) from named peers, some honest and some not, and answers each of the
implementation's requests in turn (:func:`drive_sync`): the implementation's ``poll`` returns the
fetches it wants, the next ``poll`` carries the answers. Everything a peer served is recorded, so
the suite knows which bad manifests and chunks the implementation received and can check that it
rejected exactly those, whatever order it asked in.

Peer behaviours (each bad form is one the reference's checks refuse; a harness test keeps it so):

* :class:`HonestPeer`: the true manifest and chunks, optionally "unavailable" for some parts;
* :class:`CorruptPeer`: the true manifest, but chunks altered (a changed value, a dropped
  or foreign entry, entries out of order, another part's entries, another root, non-canonical
  bytes);
* :class:`LiarPeer`: a manifest that does not join to the trusted root (another state's, a
  tampered subtree root, another prefix length, non-canonical bytes), true chunks;
* :class:`DownPeer`: answers every request with an error.

Spec: R3.1, R3.5, N5, T22.3.B4.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from aethel.encoding import JSONValue, canonical_json
from aethel.merkle.tree import StateTree
from aethel.state.snapshot import build_chunk, build_manifest

#: How a peer's answer counts: true data, data that must be rejected, or an error answer.
Served = Literal["good", "bad", "error"]
CHUNK_CORRUPTIONS = (
    "altered-value",
    "dropped-entry",
    "foreign-entry",
    "swapped-order",
    "other-part",
    "other-root",
    "non-canonical",
)
MANIFEST_LIES = ("other-root", "tampered-entry", "wrong-depth", "non-canonical")
#: Most seconds an implementation may answer polls with no request while still running.
IDLE_LIMIT_S = 60.0


def build_state(size: int, seed: int) -> dict[str, JSONValue]:
    """Return a state of ``size`` keys: mostly balances, with objects, lists, non-ASCII keys and
    strings beyond the Basic Multilingual Plane mixed in (values and keys as spec/state-tree.md)."""
    rng = random.Random(f"aethel-conformance/sync-state/{seed}")
    state: dict[str, JSONValue] = {}
    for i in range(size):
        kind = i % 10
        if kind < 7:
            state[f"balance:acct{i:07d}"] = rng.randrange(10**15)
        elif kind == 7:
            state[f"stake:val{i:07d}"] = {"bonded": rng.randrange(10**9), "since": i}
        elif kind == 8:
            state[f"meta:note{i:07d}"] = f"café ✓ 𝔄{rng.randrange(1000)}"
        else:
            state[f"clé:é{i:07d}"] = [i, -i, True, None]
    return state


def build_tree(state: Mapping[str, JSONValue]) -> StateTree:
    """Return the reference state tree holding ``state``."""
    tree = StateTree()
    tree.batch_update(dict(state))
    return tree


def compute_prefix(key: str, prefix_bits: int) -> int:
    """Return the part of ``key``: the first ``prefix_bits`` bits of its path."""
    path = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(path, "big") >> (256 - prefix_bits)


class Snapshot:
    """The manifests and chunks of one reference tree, built once and kept as hex."""

    def __init__(self, tree: StateTree) -> None:
        self.tree = tree
        self.root = tree.root()
        self._manifests: dict[int, bytes] = {}
        self._chunks: dict[tuple[int, int], bytes] = {}
        self._hex: dict[tuple[int, int | None], str] = {}

    def manifest(self, prefix_bits: int) -> bytes:
        """Return the true manifest with ``prefix_bits`` prefix bits."""
        if prefix_bits not in self._manifests:
            self._manifests[prefix_bits] = build_manifest(self.tree, prefix_bits).to_json()
        return self._manifests[prefix_bits]

    def chunk(self, prefix_bits: int, prefix: int) -> bytes:
        """Return the true chunk of part ``prefix``."""
        key = (prefix_bits, prefix)
        if key not in self._chunks:
            self._chunks[key] = build_chunk(self.tree, prefix_bits, prefix)
        return self._chunks[key]

    def data_hex(self, prefix_bits: int, prefix: int | None) -> str:
        """Return the hex of the true manifest (``prefix`` None) or chunk, cached."""
        key = (prefix_bits, prefix)
        if key not in self._hex:
            raw = self.manifest(prefix_bits) if prefix is None else self.chunk(prefix_bits, prefix)
            self._hex[key] = raw.hex()
        return self._hex[key]

    def get_needed_prefixes(self, prefix_bits: int) -> list[int]:
        """Return the parts holding at least one key."""
        return build_manifest(self.tree, prefix_bits).get_needed_prefixes()

    def prepare(self, prefix_bits: int) -> None:
        """Build the manifest and every chunk now, so serving costs only look-ups."""
        self.data_hex(prefix_bits, None)
        for prefix in self.get_needed_prefixes(prefix_bits):
            self.data_hex(prefix_bits, prefix)


# --------------------------------------------------------------------------- bad data


def _encode(value: Any) -> bytes:
    return canonical_json(value)


def _foreign_key(prefix: int, prefix_bits: int, tree: StateTree) -> str:
    """Return a key under part ``prefix`` that the state does not hold."""
    missing = object()
    for i in range(1 << 24):
        key = f"forged:{prefix}:{i}"
        if compute_prefix(key, prefix_bits) == prefix and tree.get(key, missing) is missing:
            return key
    raise AssertionError(f"no forged key found for part {prefix}")


def corrupt_chunk(snapshot: Snapshot, prefix_bits: int, prefix: int, kind: str) -> bytes:
    """Return chunk ``prefix`` spoiled in the way ``kind`` names (see CHUNK_CORRUPTIONS)."""
    honest = snapshot.chunk(prefix_bits, prefix)
    chunk = json.loads(honest)
    entries: list[list[Any]] = chunk["entries"]
    if kind == "swapped-order" and len(entries) < 2:
        kind = "altered-value"
    if kind == "other-part":
        others = [p for p in snapshot.get_needed_prefixes(prefix_bits) if p != prefix]
        if not others:
            kind = "altered-value"
        else:
            chunk["entries"] = json.loads(snapshot.chunk(prefix_bits, others[0]))["entries"]
            return _encode(chunk)
    if kind == "altered-value":
        entries[0][1] = {"altered": entries[0][1]}
    elif kind == "dropped-entry":
        entries.pop()
    elif kind == "foreign-entry":
        key = _foreign_key(prefix, prefix_bits, snapshot.tree)
        entries.append([key, 1])
        entries.sort(key=lambda pair: hashlib.sha256(pair[0].encode("utf-8")).digest())
    elif kind == "swapped-order":
        entries[0], entries[1] = entries[1], entries[0]
    elif kind == "other-root":
        chunk["root"] = hashlib.sha256(b"another state" + snapshot.root).hexdigest()
    elif kind == "non-canonical":
        return honest.replace(b'{"entries":', b'{"entries": ', 1)
    elif kind not in CHUNK_CORRUPTIONS:
        raise ValueError(f"unknown chunk corruption {kind!r}")
    return _encode(chunk)


def lying_manifest(snapshot: Snapshot, prefix_bits: int, kind: str) -> bytes:
    """Return a manifest that does not join to the snapshot's root (see MANIFEST_LIES)."""
    honest = snapshot.manifest(prefix_bits)
    if kind == "other-root":
        other = StateTree()
        other.batch_update({"balance:someone-else": 1, "balance:another": 2})
        return build_manifest(other, prefix_bits).to_json()
    if kind == "tampered-entry":
        manifest = json.loads(honest)
        entry = next(e for e in manifest["entries"] if e["hash"] != "00" * 32)
        entry["hash"] = hashlib.sha256(bytes.fromhex(entry["hash"])).hexdigest()
        entry["leaf"] = None
        return _encode(manifest)
    if kind == "wrong-depth":
        other_bits = prefix_bits + 1 if prefix_bits < 16 else prefix_bits - 1
        return build_manifest(snapshot.tree, other_bits).to_json()
    if kind == "non-canonical":
        return honest.replace(b'{"entries":', b'{"entries": ', 1)
    raise ValueError(f"unknown manifest lie {kind!r}")


# --------------------------------------------------------------------------- peers


class Peer(Protocol):
    """A peer the harness plays: answers one request for a manifest or a chunk.

    Not :class:`aethel.state.sync.SnapshotPeer`, which is another contract: that is the peer a
    syncing reference node calls (async, a root asked for, the bytes returned or an exception
    raised). This one is scripted by the suite for an implementation under test: it answers
    with the JSON response the next ``poll`` carries (the peer's name, the part, its data as hex
    or an error) and says how that answer counts (:data:`Served`), which the verdict needs.
    """

    name: str

    def answer(self, prefix: int | None) -> tuple[dict[str, JSONValue], Served]:
        """Return the response to a request (``prefix`` None: the manifest) and its kind."""
        ...


def _data(name: str, prefix: int | None, data: str) -> dict[str, JSONValue]:
    return {"peer": name, "prefix": prefix, "data": data}


def _error(name: str, prefix: int | None) -> dict[str, JSONValue]:
    return {"peer": name, "prefix": prefix, "error": "unavailable"}


@dataclass
class HonestPeer:
    """Serves the true snapshot; answers "unavailable" for the parts in ``missing``."""

    name: str
    snapshot: Snapshot
    prefix_bits: int
    missing: frozenset[int | None] = frozenset()

    def answer(self, prefix: int | None) -> tuple[dict[str, JSONValue], Served]:
        if prefix in self.missing:
            return _error(self.name, prefix), "error"
        return _data(self.name, prefix, self.snapshot.data_hex(self.prefix_bits, prefix)), "good"


@dataclass
class CorruptPeer:
    """Serves the true manifest but spoils the chunks of ``parts`` (None: every chunk); the kind
    of damage cycles with the part."""

    name: str
    snapshot: Snapshot
    prefix_bits: int
    kinds: Sequence[str] = CHUNK_CORRUPTIONS
    parts: frozenset[int] | None = None

    def answer(self, prefix: int | None) -> tuple[dict[str, JSONValue], Served]:
        if prefix is None or (self.parts is not None and prefix not in self.parts):
            true_data = self.snapshot.data_hex(self.prefix_bits, prefix)
            return _data(self.name, prefix, true_data), "good"
        kind = self.kinds[prefix % len(self.kinds)]
        data = corrupt_chunk(self.snapshot, self.prefix_bits, prefix, kind)
        return _data(self.name, prefix, data.hex()), "bad"


@dataclass
class LiarPeer:
    """Serves a manifest that does not join to the trusted root, and true chunks."""

    name: str
    snapshot: Snapshot
    prefix_bits: int
    lie: str

    def answer(self, prefix: int | None) -> tuple[dict[str, JSONValue], Served]:
        if prefix is None:
            data = lying_manifest(self.snapshot, self.prefix_bits, self.lie)
            return _data(self.name, None, data.hex()), "bad"
        return _data(self.name, prefix, self.snapshot.data_hex(self.prefix_bits, prefix)), "good"


@dataclass
class DownPeer:
    """Answers every request with an error."""

    name: str

    def answer(self, prefix: int | None) -> tuple[dict[str, JSONValue], Served]:
        return _error(self.name, prefix), "error"


# --------------------------------------------------------------------------- driving a sync


@dataclass
class SyncTrace:
    """What happened in one sync: every answer served, the polls, the final state."""

    state: str = "running"
    rule: str | None = None
    polls: int = 0
    served: list[tuple[str, int | None, Served]] = field(default_factory=list)
    #: Every request as (number of the poll that asked it, peer, prefix), in the order of
    #: ``served``; polls count from 1, and the answer goes with the next poll.
    asked: list[tuple[int, str, int | None]] = field(default_factory=list)

    def served_as(self, kind: Served) -> set[tuple[str, int | None]]:
        """Return the (peer, prefix) pairs answered with ``kind``."""
        return {(peer, prefix) for peer, prefix, k in self.served if k == kind}


class SyncProtocolError(AssertionError):
    """The implementation's poll answer broke the shape the protocol gives it."""


def _requests(answer: Any, peers: Mapping[str, Peer], parts: int) -> list[tuple[str, int | None]]:
    if not isinstance(answer, dict) or answer.get("state") not in ("running", "done", "failed"):
        raise SyncProtocolError(f"poll must answer {{state, requests, rule}}, got {answer!r}"[:300])
    out = []
    for request in answer.get("requests") or []:
        if not isinstance(request, dict) or set(request) != {"peer", "prefix"}:
            raise SyncProtocolError(f"a request is {{peer, prefix}}, got {request!r}"[:300])
        peer, prefix = request["peer"], request["prefix"]
        if peer not in peers:
            raise SyncProtocolError(f"the implementation asked peer {peer!r}, not one it was given")
        if prefix is not None and (type(prefix) is not int or not 0 <= prefix < parts):
            raise SyncProtocolError(f"the implementation asked for part {prefix!r} of {parts}")
        out.append((peer, prefix))
    return out


def drive_sync(
    session: Any,
    peers: Mapping[str, Peer],
    prefix_bits: int,
    rng: random.Random,
    *,
    max_polls: int = 100_000,
    idle_limit_s: float = IDLE_LIMIT_S,
) -> SyncTrace:
    """Answer the session's requests from ``peers`` until it concludes; return the trace.

    The answers to one poll's requests go, shuffled, with the next poll. Raises AssertionError
    when the implementation asks for something it was not offered, never concludes within
    ``max_polls`` polls, or keeps answering with no request for ``idle_limit_s`` seconds.
    """
    trace = SyncTrace()
    responses: list[dict[str, JSONValue]] = []
    idle_since: float | None = None
    while True:
        answer = session.poll(responses)
        trace.polls += 1
        requests = _requests(answer, peers, 1 << prefix_bits)
        if answer["state"] != "running":
            trace.state, trace.rule = answer["state"], answer.get("rule")
            return trace
        if trace.polls >= max_polls:
            raise AssertionError(f"the sync did not conclude within {max_polls} polls")
        if requests:
            idle_since = None
        else:
            now = time.monotonic()
            idle_since = now if idle_since is None else idle_since
            if now - idle_since > idle_limit_s:
                raise AssertionError(f"no request and no conclusion for {idle_limit_s:g} s")
            time.sleep(0.001)
        responses = []
        for peer, prefix in requests:
            response, kind = peers[peer].answer(prefix)
            trace.asked.append((trace.polls, peer, prefix))
            trace.served.append((peer, prefix, kind))
            responses.append(response)
        rng.shuffle(responses)


#: Failed requests (error answers) after which spec/sync.md ("Fetching") drops a peer.
MAX_FAILED_REQUESTS = 3


def check_dropped_peers(trace: SyncTrace) -> list[str]:
    """Return the requests made to peers the sync must have dropped (spec/sync.md, "Fetching").

    A peer that served a manifest or chunk that does not verify is dropped for the rest of the
    sync; a peer whose requests failed :data:`MAX_FAILED_REQUESTS` times too. Answers are
    verified on arrival (conformance/PROTOCOL.md), so no poll after the one that carried the bad
    answer (or the last failure) may ask the peer anything. That poll's own requests may: the
    answers it carried are taken in some order, and another answer of the same peer may have
    been taken first. Requests made before stay.
    """
    dropped_at: dict[str, tuple[int, str]] = {}
    failures: dict[str, int] = {}
    for (peer, prefix, kind), (asked_at, _, _) in zip(trace.served, trace.asked, strict=True):
        poll = asked_at + 1  # the poll that carried the answer
        what = "the manifest" if prefix is None else f"chunk {prefix}"
        reason = None
        if kind == "bad":
            reason = f"{what}, which does not verify"
        elif kind == "error":
            failures[peer] = failures.get(peer, 0) + 1
            if failures[peer] == MAX_FAILED_REQUESTS:
                reason = f"its failure number {MAX_FAILED_REQUESTS} (for {what})"
        if reason is not None and (peer not in dropped_at or poll < dropped_at[peer][0]):
            dropped_at[peer] = (poll, reason)
    problems = []
    for peer, (poll, reason) in sorted(dropped_at.items()):
        late = [(p, prefix) for p, name, prefix in trace.asked if name == peer and p > poll]
        if late:
            parts = ", ".join("manifest" if x is None else str(x) for _, x in late[:8])
            problems.append(
                f"{peer} is asked again after poll {poll}, which carried {reason}"
                f": {len(late)} more request(s), from poll {late[0][0]} (parts {parts})"
            )
    return problems


def check_asked_once(trace: SyncTrace) -> list[str]:
    """Return the requests a sync repeated: it asks its peers in turn for the manifest and each
    peer for a given part at most once (spec/sync.md, "Fetching"); a part that failed goes to
    another peer."""
    polls: dict[tuple[str, int | None], list[int]] = {}
    for poll, peer, prefix in trace.asked:
        polls.setdefault((peer, prefix), []).append(poll)
    return [
        f"{peer} was asked for {'the manifest' if prefix is None else f'part {prefix}'} "
        f"{len(asked)} times (polls {asked})"
        for (peer, prefix), asked in sorted(polls.items(), key=repr)
        if len(asked) > 1
    ]


def check_rejections(outcome: Mapping[str, Any], trace: SyncTrace) -> list[str]:
    """Return what is wrong with the rejections a completed sync reports (R3.1, R3.5).

    Every bad manifest or chunk served must be reported rejected, under R3.1 (a manifest) or
    R3.5 (a chunk); nothing served true may be. Error answers may be reported or not.
    """
    problems = []
    rejected = outcome.get("rejected")
    if not isinstance(rejected, list):
        return [f"a completed sync reports its rejections as a list, got {rejected!r}"]
    reported: dict[tuple[str, int | None], set[Any]] = {}
    for item in rejected:
        if not isinstance(item, dict) or set(item) != {"peer", "prefix", "rule"}:
            problems.append(f"a rejection is {{peer, prefix, rule}}, got {item!r}")
            continue
        reported.setdefault((item["peer"], item["prefix"]), set()).add(item["rule"])
    for peer, prefix in sorted(trace.served_as("bad"), key=repr):
        want = "R3.1" if prefix is None else "R3.5"
        what = "manifest" if prefix is None else f"chunk {prefix}"
        rules = reported.get((peer, prefix))
        if rules is None:
            problems.append(f"the bad {what} from {peer} is not reported rejected")
        elif want not in rules:
            problems.append(f"the bad {what} from {peer} is rejected under {rules}, not {want}")
    for peer, prefix in sorted(trace.served_as("good") - trace.served_as("bad"), key=repr):
        if (peer, prefix) in reported:
            what = "manifest" if prefix is None else f"chunk {prefix}"
            problems.append(f"the true {what} from {peer} is reported rejected")
    return problems
