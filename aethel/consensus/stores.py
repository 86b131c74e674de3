"""Chain stores: blocks, certificates, states and the vote journal of one node (R5.4).

* :class:`MemoryChainStore` keeps everything in memory (a simulated node's "disk": the
  simulator keeps the object across a crash to model a restart with saved state).
* :class:`SqliteChainStore` persists in SQLite (WAL): one transaction per committed height
  holding the block, its certificate and the post-state, and one per journaled vote, written
  before the vote leaves the node. Reopening loads the latest height without replaying history.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path

from aethel.consensus.block import ProofBlock, parse_block
from aethel.consensus.interfaces import CommittedHeight, Execution
from aethel.consensus.ledger import StateRepository
from aethel.consensus.messages import CommitCertificate, parse_commit_certificate
from aethel.encoding import canonical_json, parse_canonical_json
from aethel.errors import ProtocolViolation


class MemoryChainStore:
    """An in-memory :class:`~aethel.consensus.interfaces.ChainStore`."""

    def __init__(self) -> None:
        self.blocks: dict[int, ProofBlock] = {}
        self.certificates: dict[int, CommitCertificate] = {}
        self._latest: CommittedHeight | None = None
        self._votes: dict[int, dict[tuple[int, str], bytes]] = {}

    def latest(self) -> CommittedHeight | None:
        """Return the latest committed height."""
        return self._latest

    def commit_height(
        self, block: ProofBlock, certificate: CommitCertificate, execution: Execution
    ) -> None:
        """Record one committed height."""
        self.blocks[block.height] = block
        self.certificates[block.height] = certificate
        self._latest = CommittedHeight(block.height, block.digest, execution.post_root, certificate)
        for height in [h for h in self._votes if h <= block.height]:
            del self._votes[height]

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
        self._latest = CommittedHeight(
            certificate.height, certificate.digest, certificate.post_root, certificate
        )

    def record_vote(self, height: int, view: int, kind: str, key: bytes) -> None:
        """Journal a vote."""
        self._votes.setdefault(height, {})[(view, kind)] = key

    def get_votes(self, height: int) -> Mapping[tuple[int, str], bytes]:
        """Return the journaled votes of ``height``."""
        return dict(self._votes.get(height, {}))


_SCHEMA = """
CREATE TABLE IF NOT EXISTS heights (
    height INTEGER PRIMARY KEY,
    digest BLOB NOT NULL,
    post_root BLOB NOT NULL,
    block BLOB NOT NULL,
    certificate BLOB NOT NULL,
    state BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS votes (
    height INTEGER NOT NULL,
    view INTEGER NOT NULL,
    kind TEXT NOT NULL,
    key BLOB NOT NULL,
    PRIMARY KEY (height, view, kind)
);
"""


class SqliteChainStore:
    """A :class:`~aethel.consensus.interfaces.ChainStore` in SQLite (R5.4).

    States are read from and written to ``repository`` (so the executor finds them); the
    committed ones are also stored here, so reopening restores the latest state.
    """

    def __init__(self, path: str | Path, repository: StateRepository) -> None:
        self.path = str(path)
        self.repository = repository
        self._db = sqlite3.connect(self.path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._latest = self._load_latest()

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def _load_latest(self) -> CommittedHeight | None:
        row = self._db.execute(
            "SELECT height, digest, post_root, certificate, state FROM heights "
            "ORDER BY height DESC LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        height, digest, root, cert, state_bytes = row
        if self.repository.load(state_bytes) != root:
            raise ProtocolViolation("R5.4", f"stored state of height {height} does not match")
        certificate = parse_commit_certificate(parse_canonical_json(cert))
        return CommittedHeight(height, digest, root, certificate)

    def latest(self) -> CommittedHeight | None:
        """Return the latest committed height."""
        return self._latest

    def _write_height(self, block: ProofBlock, certificate: CommitCertificate, root: bytes) -> None:
        state = self.repository.get(root).encode()
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT OR REPLACE INTO heights VALUES (?, ?, ?, ?, ?, ?)",
                (
                    block.height,
                    block.digest,
                    root,
                    canonical_json(block.to_wire()),
                    canonical_json(certificate.to_wire()),
                    state,
                ),
            )
            self._db.execute("DELETE FROM votes WHERE height <= ?", (block.height,))
        self._latest = CommittedHeight(block.height, block.digest, root, certificate)

    def commit_height(
        self, block: ProofBlock, certificate: CommitCertificate, execution: Execution
    ) -> None:
        """Persist block, certificate and post-state in one transaction."""
        self._write_height(block, certificate, execution.post_root)

    def install_snapshot(self, certificate: CommitCertificate, block: ProofBlock) -> None:
        """Persist a synced height (its state must already be in the repository)."""
        self._write_height(block, certificate, certificate.post_root)

    def get_block(self, height: int) -> ProofBlock | None:
        """Return the block at ``height``."""
        row = self._db.execute("SELECT block FROM heights WHERE height = ?", (height,)).fetchone()
        return None if row is None else parse_block(parse_canonical_json(row[0]))

    def get_certificate(self, height: int) -> CommitCertificate | None:
        """Return the certificate of ``height``."""
        row = self._db.execute(
            "SELECT certificate FROM heights WHERE height = ?", (height,)
        ).fetchone()
        return None if row is None else parse_commit_certificate(parse_canonical_json(row[0]))

    def record_vote(self, height: int, view: int, kind: str, key: bytes) -> None:
        """Journal a vote durably before it is sent."""
        self._db.execute(
            "INSERT OR IGNORE INTO votes VALUES (?, ?, ?, ?)", (height, view, kind, key)
        )

    def get_votes(self, height: int) -> Mapping[tuple[int, str], bytes]:
        """Return the journaled votes of ``height``."""
        rows = self._db.execute(
            "SELECT view, kind, key FROM votes WHERE height = ?", (height,)
        ).fetchall()
        return {(view, kind): key for view, kind, key in rows}
