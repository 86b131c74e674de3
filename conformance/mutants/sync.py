"""Mutants of state sync."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from unittest import mock

import aethel.state.sync
from aethel.encoding import parse_canonical_json
from aethel.merkle import StateTree
from aethel.state.errors import SyncError
from aethel.state.snapshot import Manifest, ManifestEntry, VerifiedChunk, verify_chunk
from conformance.adapters.reference import ReferenceImplementation
from conformance.adapters.reference_sync import ReferenceSync, ReferenceSyncSession
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


MUTANTS = [
    Mutant(
        name="unverified-chunks",
        defect="sync adopts a well-formed chunk without checking it rebuilds the manifest's "
        "subtree root (a bad chunk is not re-fetched from another peer)",
        breaks=("R3.5",),
        capabilities=("sync",),
        build=UnverifiedChunkImplementation,
    )
]
