"""An in-memory chain store: blocks, certificates and the vote journal of one node.

A simulated node's "disk" when no storage directory is given (the simulator keeps the object
across a crash to model a restart with saved state). The persistent store of a real node is
:class:`aethel.consensus.persistent.PersistentLedger` over :class:`aethel.state.store.StateStore`.
"""

from __future__ import annotations

from collections.abc import Mapping

from aethel.consensus.block import ProofBlock
from aethel.consensus.interfaces import Execution
from aethel.consensus.messages import CommitCertificate, PrepareCertificate


class MemoryChainStore:
    """An in-memory :class:`~aethel.consensus.interfaces.ChainStore`."""

    def __init__(self) -> None:
        self.blocks: dict[int, ProofBlock] = {}
        self.certificates: dict[int, CommitCertificate] = {}
        self._latest: CommitCertificate | None = None
        self._votes: dict[int, dict[tuple[int, str], bytes]] = {}
        self._locks: dict[int, tuple[PrepareCertificate, ProofBlock]] = {}

    def latest(self) -> CommitCertificate | None:
        """Return the certificate of the latest committed height."""
        return self._latest

    def commit_height(
        self, block: ProofBlock, certificate: CommitCertificate, execution: Execution
    ) -> None:
        """Record one committed height."""
        self.blocks[block.height] = block
        self.certificates[block.height] = certificate
        self._latest = certificate
        for height in [h for h in self._votes if h <= block.height]:
            del self._votes[height]
        for height in [h for h in self._locks if h <= block.height]:
            del self._locks[height]

    def get_block(self, height: int) -> ProofBlock | None:
        """Return the block at ``height``."""
        return self.blocks.get(height)

    def get_certificate(self, height: int) -> CommitCertificate | None:
        """Return the certificate of ``height``."""
        return self.certificates.get(height)

    def install_snapshot(self, certificate: CommitCertificate, block: ProofBlock) -> None:
        """Jump to the height ``certificate`` vouches for."""
        self.blocks[certificate.height] = block
        self.certificates[certificate.height] = certificate
        self._latest = certificate

    def record_vote(self, height: int, view: int, kind: str, key: bytes) -> None:
        """Journal a vote."""
        self._votes.setdefault(height, {})[(view, kind)] = key

    def get_votes(self, height: int) -> Mapping[tuple[int, str], bytes]:
        """Return the journaled votes of ``height``."""
        return dict(self._votes.get(height, {}))

    def record_lock(self, certificate: PrepareCertificate, block: ProofBlock) -> None:
        """Keep the lock of its height."""
        self._locks[certificate.height] = (certificate, block)

    def get_lock(self, height: int) -> tuple[PrepareCertificate, ProofBlock] | None:
        """Return the lock of ``height``."""
        return self._locks.get(height)
