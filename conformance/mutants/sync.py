"""Mutants of state sync."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from unittest import mock

import aethel.state.sync
from aethel.encoding import canonical_json, parse_canonical_json
from aethel.merkle.tree import StateTree
from aethel.state.errors import SyncError
from aethel.state.snapshot import (
    Manifest,
    ManifestEntry,
    VerifiedChunk,
    parse_manifest,
    verify_chunk,
)
from conformance.adapters.reference import ReferenceImplementation
from conformance.adapters.reference_sync import PeerFailed, ReferenceSync, ReferenceSyncSession
from conformance.mutants import Mutant


def verify_chunk_without_root(data: bytes, manifest: Manifest, prefix: int) -> VerifiedChunk:
    """Defect: a chunk is checked for form, part and order, but its subtree root is not compared
    with the manifest's: the node adopts whatever entries a well-formed chunk lists."""
    try:
        return verify_chunk(data, manifest, prefix)
    except SyncError:
        pass
    try:
        entries = parse_canonical_json(data)["entries"]
        tree = StateTree()
        tree.batch_update({key: value for key, value in entries})
        own = tree.get_subtree_roots(manifest.prefix_bits)[prefix]
    except Exception:  # not even well formed: refused as before
        return verify_chunk(data, manifest, prefix)
    entry = ManifestEntry(own.hash, own.leaf)
    patched = replace(manifest, entries=(*manifest.entries[:prefix], entry,
                                         *manifest.entries[prefix + 1 :]))  # fmt: skip
    return verify_chunk(data, patched, prefix)


class UnverifiedChunkSession(ReferenceSyncSession):
    def poll(self, responses: list[Any]) -> Any:
        with mock.patch.object(aethel.state.sync, "verify_chunk", verify_chunk_without_root):
            return super().poll(responses)


class UnverifiedChunkSync(ReferenceSync):
    session_class = UnverifiedChunkSession


class UnverifiedChunkImplementation(ReferenceImplementation):
    name = "mutant-unverified-chunks"

    def make_sync(self) -> object:
        return UnverifiedChunkSync()


def parse_manifest_by_known_members(data: bytes, trusted_root: bytes, prefix_bits: int) -> Manifest:
    """Defect: a manifest entry (and its leaf) is read by the members it should have; anything
    else it carries is ignored instead of making the manifest malformed."""
    try:
        manifest = parse_canonical_json(data)
        entries = [
            {
                "hash": entry["hash"],
                "leaf": None
                if entry["leaf"] is None
                else {"path": entry["leaf"]["path"], "value_hash": entry["leaf"]["value_hash"]},
            }
            for entry in manifest["entries"]
        ]
        data = canonical_json({**manifest, "entries": entries})
    except Exception:  # not even well formed: refused as before
        pass
    return parse_manifest(data, trusted_root, prefix_bits)


class LenientManifestSession(ReferenceSyncSession):
    def poll(self, responses: list[Any]) -> Any:
        with mock.patch.object(
            aethel.state.sync, "parse_manifest", parse_manifest_by_known_members
        ):
            return super().poll(responses)


class LenientManifestSync(ReferenceSync):
    session_class = LenientManifestSession


class LenientManifestImplementation(ReferenceImplementation):
    name = "mutant-manifest-entry-extra-members-ignored"

    def make_sync(self) -> object:
        return LenientManifestSync()


def reject_as_a_failed_request(
    self: Any, peer: str, prefix: int | None, rule_id: str, detail: str, drop: bool
) -> None:
    """Defect: bad data counts against its peer like a failed request (three strikes), instead
    of dropping the peer at once: a lying peer keeps being asked for parts."""
    original_reject(self, peer, prefix, rule_id, detail, False)


def reject_bad_chunk_as_a_failed_request(
    self: Any, peer: str, prefix: int | None, rule_id: str, detail: str, drop: bool
) -> None:
    """Defect: a peer whose manifest does not verify is dropped, but a bad chunk counts against
    its peer like a failed request (three strikes): a peer caught once keeps serving parts."""
    original_reject(self, peer, prefix, rule_id, detail, drop and prefix is None)


def reject_without_counting_failures(
    self: Any, peer: str, prefix: int | None, rule_id: str, detail: str, drop: bool
) -> None:
    """Defect: a failed request is recorded but never counts against its peer: a peer that
    fails request after request stays in the rotation (only bad data drops a peer)."""
    self.rejections.append(aethel.state.sync.Rejection(peer, prefix, rule_id, detail))
    if drop and peer not in self.dropped:
        self.dropped.append(peer)


original_reject = aethel.state.sync._Sync.reject


class LyingPeerKeptSession(ReferenceSyncSession):
    def poll(self, responses: list[Any]) -> Any:
        with mock.patch.object(aethel.state.sync._Sync, "reject", reject_as_a_failed_request):
            return super().poll(responses)


class LyingPeerKeptSync(ReferenceSync):
    session_class = LyingPeerKeptSession


class LyingPeerKeptImplementation(ReferenceImplementation):
    name = "mutant-sync-lying-peer-kept"

    def make_sync(self) -> object:
        return LyingPeerKeptSync()


class ChunkLiarKeptSession(ReferenceSyncSession):
    def poll(self, responses: list[Any]) -> Any:
        with mock.patch.object(
            aethel.state.sync._Sync, "reject", reject_bad_chunk_as_a_failed_request
        ):
            return super().poll(responses)


class ChunkLiarKeptSync(ReferenceSync):
    session_class = ChunkLiarKeptSession


class ChunkLiarKeptImplementation(ReferenceImplementation):
    name = "mutant-sync-chunk-liar-kept"

    def make_sync(self) -> object:
        return ChunkLiarKeptSync()


class FailingPeerKeptSession(ReferenceSyncSession):
    def poll(self, responses: list[Any]) -> Any:
        with mock.patch.object(aethel.state.sync._Sync, "reject", reject_without_counting_failures):
            return super().poll(responses)


class FailingPeerKeptSync(ReferenceSync):
    session_class = FailingPeerKeptSession


class FailingPeerKeptImplementation(ReferenceImplementation):
    name = "mutant-sync-failing-peer-kept"

    def make_sync(self) -> object:
        return FailingPeerKeptSync()


class RetryingSession(ReferenceSyncSession):
    """Defect: a request that fails is sent once more to the same peer before it counts as a
    failure (a transport's retry): each peer may be asked for a part twice."""

    async def fetch(self, peer: str, prefix: int | None) -> bytes:
        try:
            return await super().fetch(peer, prefix)
        except PeerFailed:
            return await super().fetch(peer, prefix)


class RetryingSync(ReferenceSync):
    session_class = RetryingSession


class RetryingImplementation(ReferenceImplementation):
    name = "mutant-sync-failed-request-retried"

    def make_sync(self) -> object:
        return RetryingSync()


MUTANTS = [
    Mutant(
        name="manifest-entry-extra-members-ignored",
        defect="a manifest entry or leaf with extra members is read by its known members and "
        "accepted instead of rejected",
        breaks=("R3.1",),
        capabilities=("sync",),
        build=LenientManifestImplementation,
    ),
    Mutant(
        name="unverified-chunks",
        defect="sync adopts a well-formed chunk without checking it rebuilds the manifest's "
        "subtree root (a bad chunk is not re-fetched from another peer)",
        breaks=("R3.5",),
        capabilities=("sync",),
        build=UnverifiedChunkImplementation,
    ),
    Mutant(
        name="sync-lying-peer-kept",
        defect="a peer that served a bad manifest or chunk is not dropped: bad data counts "
        "against it like a failed request, so it is asked for more parts until its third",
        breaks=("R3.5",),
        capabilities=("sync",),
        build=LyingPeerKeptImplementation,
    ),
    Mutant(
        name="sync-chunk-liar-kept",
        defect="a peer whose manifest does not verify is dropped, but one that served a bad "
        "chunk is kept until its third bad answer, as if the chunk request had failed",
        breaks=("R3.5",),
        capabilities=("sync",),
        build=ChunkLiarKeptImplementation,
    ),
    Mutant(
        name="sync-failing-peer-kept",
        defect="failed requests never count against their peer: a peer that answers every "
        "request with an error stays in the rotation for the whole sync",
        breaks=("R3.5",),
        capabilities=("sync",),
        build=FailingPeerKeptImplementation,
    ),
    Mutant(
        name="sync-failed-request-retried",
        defect="a failed request is sent once more to the same peer before it counts: a peer "
        "is asked for a part twice instead of the part going to another peer",
        breaks=("R3.5",),
        capabilities=("sync",),
        build=RetryingImplementation,
    ),
]
