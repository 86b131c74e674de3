"""Fast sync: fetch a verified snapshot of the state from several peers at once.

Spec: R3.1, R3.5, N5. The joining node trusts one thing: a state root that a commit certificate
vouches for (checking the certificate is the consensus layer's job; :func:`sync_state` takes
the root it vouches for). It then

1. fetches a manifest (:mod:`aethel.state.snapshot`) from the first peer that serves one that
   joins to the trusted root; a peer serving a bad manifest is dropped;
2. fetches the chunks of every non-empty part from all peers concurrently (``requests_per_peer``
   requests in flight per peer), verifying each chunk against the manifest on arrival;
3. a bad chunk (malformed, another part, or not rebuilding its subtree root) is rejected, its
   peer dropped for the rest of the sync (a verification failure proves misbehaviour), and the
   part is fetched from another peer; a failed or timed-out request counts against the peer
   (dropped after ``max_failures``) and the part goes to another peer too;
4. joins the verified subtrees into the tree, whose root is then the trusted root by
   construction (and is checked once more).

Peers are a :class:`SnapshotPeer` protocol of coroutines that return wire bytes, so a peer may be
remote and slow; :class:`InProcessPeer` serves trees of this process. After a sync the node
persists the tree (:meth:`aethel.state.store.StateStore.import_snapshot`) and replays the
blocks after the snapshot's height as ordinary transitions (R3.5).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from aethel.errors import UsageError
from aethel.merkle.batch import paused_gc
from aethel.merkle.hashing import EMPTY_HASH
from aethel.merkle.nodes import Ref
from aethel.merkle.tree import StateTree
from aethel.state.errors import SyncError
from aethel.state.snapshot import (
    Manifest,
    VerifiedChunk,
    build_chunk,
    build_manifest,
    parse_manifest,
    verify_chunk,
)
from aethel.state.store import StateStore

#: Default prefix length: 256 chunks (about 4,000 keys each in a million-key state).
DEFAULT_PREFIX_BITS = 8


class SnapshotPeer(Protocol):
    """A peer serving snapshots. Any call may fail (raise), stall, or return hostile bytes."""

    @property
    def name(self) -> str:
        """A name unique among the peers of one sync (for reports)."""
        ...

    async def get_manifest(self, root: bytes, prefix_bits: int) -> bytes:
        """Return the manifest (canonical JSON) of the state with ``root``."""
        ...

    async def get_chunk(self, root: bytes, prefix_bits: int, prefix: int) -> bytes:
        """Return the chunk (canonical JSON) of part ``prefix`` of the state with ``root``."""
        ...


class InProcessPeer:
    """A peer serving the trees of this process, found by root through ``lookup``.

    Manifests and chunks are built on first request and kept (:meth:`prepare` builds them all
    ahead, as a node that publishes snapshots at chosen heights would).
    """

    def __init__(self, name: str, lookup: Callable[[bytes], StateTree | None]) -> None:
        self._name = name
        self._lookup = lookup
        self._manifests: dict[tuple[bytes, int], bytes] = {}
        self._chunks: dict[tuple[bytes, int, int], bytes] = {}

    @classmethod
    def serving(cls, name: str, *trees: StateTree) -> InProcessPeer:
        """Return a peer serving the current versions of ``trees``."""
        by_root = {tree.root(): tree for tree in trees}
        return cls(name, by_root.get)

    @classmethod
    def for_store(cls, name: str, store: StateStore) -> InProcessPeer:
        """Return a peer serving every committed height of ``store``."""

        def lookup(root: bytes) -> StateTree | None:
            height = store.find_height(root)
            return None if height is None else store.tree(height)

        return cls(name, lookup)

    def clone(self, name: str) -> InProcessPeer:
        """Return another peer serving the same trees and sharing the prepared snapshots."""
        peer = InProcessPeer(name, self._lookup)
        peer._manifests = self._manifests
        peer._chunks = self._chunks
        return peer

    @property
    def name(self) -> str:
        """The peer's name."""
        return self._name

    def _tree(self, root: bytes) -> StateTree:
        tree = self._lookup(root)
        if tree is None:
            raise SyncError("R3.1", f"peer {self._name} has no state with root {root.hex()[:16]}")
        return tree

    def prepare(self, root: bytes, prefix_bits: int) -> None:
        """Build the manifest and every chunk of ``root`` now."""
        tree = self._tree(root)
        manifest = build_manifest(tree, prefix_bits)
        self._manifests[(root, prefix_bits)] = manifest.to_json()
        for prefix in manifest.get_needed_prefixes():
            self._chunks[(root, prefix_bits, prefix)] = build_chunk(tree, prefix_bits, prefix)

    async def get_manifest(self, root: bytes, prefix_bits: int) -> bytes:
        """Return the manifest of ``root``."""
        key = (root, prefix_bits)
        if key not in self._manifests:
            self._manifests[key] = build_manifest(self._tree(root), prefix_bits).to_json()
        return self._manifests[key]

    async def get_chunk(self, root: bytes, prefix_bits: int, prefix: int) -> bytes:
        """Return chunk ``prefix`` of ``root``."""
        key = (root, prefix_bits, prefix)
        if key not in self._chunks:
            self._chunks[key] = build_chunk(self._tree(root), prefix_bits, prefix)
        return self._chunks[key]


@dataclass(frozen=True, slots=True)
class SyncProgress:
    """Where a sync stands (passed to the progress callback after each accepted chunk)."""

    chunks_done: int
    chunks_total: int
    keys_done: int
    bytes_received: int
    rejected: int


@dataclass(frozen=True, slots=True)
class Rejection:
    """A manifest or chunk (``prefix`` None: the manifest) refused from a peer, and why."""

    peer: str
    prefix: int | None
    rule_id: str
    detail: str


@dataclass(frozen=True, slots=True)
class SyncResult:
    """A completed sync: the verified tree (in memory, root = the trusted root) and its story."""

    tree: StateTree
    manifest: Manifest
    keys: int
    chunks: int
    bytes_received: int
    rejections: tuple[Rejection, ...]
    chunks_by_peer: dict[str, int]
    dropped_peers: tuple[str, ...]


class _Sync:
    """The state of one sync run (one event loop, so no locks beyond the condition)."""

    def __init__(
        self,
        root: bytes,
        peers: Sequence[SnapshotPeer],
        prefix_bits: int,
        on_progress: Callable[[SyncProgress], None] | None,
        request_timeout: float,
        max_failures: int,
    ) -> None:
        self.root = root
        self.peers = peers
        self.prefix_bits = prefix_bits
        self.on_progress = on_progress
        self.timeout = request_timeout
        self.max_failures = max_failures
        self.rejections: list[Rejection] = []
        self.dropped: list[str] = []
        self.failures: Counter[str] = Counter()
        self.served: Counter[str] = Counter()
        self.bytes_received = 0

    def reject(self, peer: str, prefix: int | None, rule_id: str, detail: str, drop: bool) -> None:
        self.rejections.append(Rejection(peer, prefix, rule_id, detail))
        if not drop:
            self.failures[peer] += 1
            drop = self.failures[peer] >= self.max_failures
        if drop and peer not in self.dropped:
            self.dropped.append(peer)

    async def fetch_manifest(self) -> Manifest:
        for peer in self.peers:
            try:
                data = await asyncio.wait_for(
                    peer.get_manifest(self.root, self.prefix_bits), self.timeout
                )
            except Exception as exc:  # a remote peer may fail in any way
                self.reject(peer.name, None, "R3.1", f"request failed: {exc!r}", drop=False)
                continue
            self.bytes_received += len(data) if isinstance(data, bytes) else 0
            try:
                return parse_manifest(data, self.root, self.prefix_bits)
            except SyncError as exc:
                self.reject(peer.name, None, exc.rule_id, exc.detail, drop=True)
        raise SyncError("R3.1", "no peer served a manifest that joins to the trusted root")

    async def fetch_chunks(self, manifest: Manifest, requests_per_peer: int) -> list[VerifiedChunk]:
        needed = manifest.get_needed_prefixes()
        pending = list(needed)
        in_flight: set[int] = set()
        tried: dict[int, set[str]] = {prefix: set() for prefix in needed}
        done: dict[int, VerifiedChunk] = {}
        keys_done = 0
        condition = asyncio.Condition()
        names = [peer.name for peer in self.peers]

        def next_prefix(name: str) -> int | None:
            """Pick a part for ``name``; raise SyncError when a part has no peer left.

            Each peer is asked for a given part at most once.
            """
            prefix = next((p for p in pending if name not in tried[p]), None)
            if prefix is None:
                live = {n for n in names if n not in self.dropped}
                for stuck in pending:
                    if live <= tried[stuck]:
                        raise SyncError(
                            "R3.5", f"no peer left to serve a valid chunk for part {stuck}"
                        )
            return prefix

        async def worker(peer: SnapshotPeer) -> None:
            nonlocal keys_done
            while True:
                async with condition:
                    while True:
                        if peer.name in self.dropped or len(done) == len(needed):
                            condition.notify_all()
                            return
                        prefix = next_prefix(peer.name)
                        if prefix is not None:
                            break
                        if not pending and not in_flight:
                            return
                        await condition.wait()
                    pending.remove(prefix)
                    in_flight.add(prefix)
                    tried[prefix].add(peer.name)
                verified = None
                try:
                    data = await asyncio.wait_for(
                        peer.get_chunk(self.root, self.prefix_bits, prefix), self.timeout
                    )
                except Exception as exc:  # a remote peer may fail in any way
                    failure: tuple[str, str, bool] = ("R3.5", f"request failed: {exc!r}", False)
                else:
                    self.bytes_received += len(data) if isinstance(data, bytes) else 0
                    try:
                        verified = verify_chunk(data, manifest, prefix)
                    except SyncError as exc:
                        failure = (exc.rule_id, exc.detail, True)
                async with condition:
                    in_flight.discard(prefix)
                    if verified is None:
                        self.reject(peer.name, prefix, *failure)
                        pending.append(prefix)
                    else:
                        done[prefix] = verified
                        keys_done += verified.keys
                        self.served[peer.name] += 1
                    condition.notify_all()
                if verified is not None and self.on_progress is not None:
                    self.on_progress(
                        SyncProgress(
                            len(done),
                            len(needed),
                            keys_done,
                            self.bytes_received,
                            len(self.rejections),
                        )
                    )

        live_peers = [peer for peer in self.peers if peer.name not in self.dropped]
        async with asyncio.TaskGroup() as group:
            for peer in live_peers:
                for _ in range(requests_per_peer):
                    group.create_task(worker(peer))
        if len(done) != len(needed):
            raise SyncError("R3.5", "every peer was dropped before the snapshot was complete")
        return [done[prefix] for prefix in needed]


async def sync_state(
    trusted_root: bytes,
    peers: Iterable[SnapshotPeer],
    *,
    prefix_bits: int = DEFAULT_PREFIX_BITS,
    on_progress: Callable[[SyncProgress], None] | None = None,
    request_timeout: float = 30.0,
    requests_per_peer: int = 2,
    max_failures: int = 3,
) -> SyncResult:
    """Fetch and verify the state with ``trusted_root`` from ``peers`` (R3.1, R3.5, N5).

    ``trusted_root`` must come from a verified commit certificate. Returns a :class:`SyncResult`
    whose tree has exactly that root. Raises :class:`SyncError` (R3.1: no valid manifest; R3.5:
    a part no remaining peer serves correctly) and never returns a partial or unverified state.
    """
    if type(trusted_root) is not bytes or len(trusted_root) != 32:
        raise UsageError("the trusted root is exactly 32 bytes")
    peer_list = list(peers)
    names = [peer.name for peer in peer_list]
    if not peer_list or len(set(names)) != len(names):
        raise UsageError("sync needs at least one peer, with unique names")
    if requests_per_peer < 1 or max_failures < 1 or request_timeout <= 0:
        raise UsageError("requests_per_peer, max_failures and request_timeout must be positive")
    run = _Sync(trusted_root, peer_list, prefix_bits, on_progress, request_timeout, max_failures)
    if trusted_root == EMPTY_HASH:
        manifest = Manifest(EMPTY_HASH, 0, ())
        chunks: list[VerifiedChunk] = []
        tree = StateTree()
    else:
        manifest = await run.fetch_manifest()
        # Verified chunks become millions of new nodes: collections meanwhile would only rescan
        # them (as in a bulk batch_update).
        with paused_gc():
            try:
                chunks = await run.fetch_chunks(manifest, requests_per_peer)
            except* SyncError as group:
                raise group.exceptions[0] from None
            subtrees: list[Ref] = [None] * len(manifest.entries)
            for chunk in chunks:
                subtrees[chunk.prefix] = chunk.subtree
            tree = StateTree.from_subtrees(subtrees)
    if tree.root() != trusted_root:  # cannot happen once every chunk matched the manifest
        raise SyncError("R3.1", "the assembled tree does not have the trusted root")
    return SyncResult(
        tree=tree,
        manifest=manifest,
        keys=sum(chunk.keys for chunk in chunks),
        chunks=len(chunks),
        bytes_received=run.bytes_received,
        rejections=tuple(run.rejections),
        chunks_by_peer=dict(sorted(run.served.items())),
        dropped_peers=tuple(run.dropped),
    )


def run_sync(trusted_root: bytes, peers: Iterable[SnapshotPeer], **options: object) -> SyncResult:
    """Run :func:`sync_state` to completion in a new event loop (for synchronous callers)."""
    return asyncio.run(sync_state(trusted_root, peers, **options))  # type: ignore[arg-type]
