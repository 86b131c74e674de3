"""One node's ledger and chain persisted through :class:`aethel.state.store.StateStore` (R5.4).

:class:`PersistentLedger` is both the :class:`~aethel.consensus.interfaces.Executor` and the
:class:`~aethel.consensus.interfaces.ChainStore` of a node whose state lives in its own SQLite
state store: a block's transition is *staged* by the store (validated, nothing written), and the
height commits in one SQLite transaction together with the block and its certificate as
records. Reopening the store resumes at the latest committed height without rebuilding
anything. The vote journal (a vote is recorded before it is sent, so a restarted validator never
signs a conflicting one) lives in a small SQLite file beside the store.

Height 0 of the store is the genesis; consensus heights start at 1.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path

from aethel.consensus.block import ProofBlock
from aethel.consensus.interfaces import BlockVerdict, Execution
from aethel.consensus.ledger import LedgerView, build_operations, make_execution
from aethel.consensus.messages import CommitCertificate, PrepareCertificate
from aethel.consensus.validators import ValidatorSet
from aethel.consensus.wire import (
    parse_block,
    parse_commit_certificate,
    parse_prepare_certificate,
)
from aethel.encoding import canonical_json, parse_canonical_json
from aethel.errors import ProtocolViolation, UsageError
from aethel.merkle.nodes import OverlayNodeStore
from aethel.merkle.tree import StateTree
from aethel.state.layout import stake_key
from aethel.state.store import StagedHeight, StateStore
from aethel.state.transitions import Genesis, Transition

_JOURNAL = """
CREATE TABLE IF NOT EXISTS votes (
    height INTEGER NOT NULL, view INTEGER NOT NULL, kind TEXT NOT NULL, key BLOB NOT NULL,
    PRIMARY KEY (height, view, kind)
);
CREATE TABLE IF NOT EXISTS locks (
    height INTEGER PRIMARY KEY, certificate BLOB NOT NULL, block BLOB NOT NULL
);
"""


class PersistentLedger:
    """Executor, chain store and state source of one node over its StateStore."""

    def __init__(self, store: StateStore, genesis: Genesis, journal: str | Path) -> None:
        self.store = store
        if store.latest is None:
            store.commit(store.stage_genesis(genesis))
        self._genesis = store.get_root(0)
        self._validators = tuple(sorted(genesis.stakes))
        self._snapshots: dict[bytes, StateTree] = {}
        self._journal = sqlite3.connect(str(journal), isolation_level=None)
        self._journal.execute("PRAGMA journal_mode=WAL")
        self._journal.execute("PRAGMA synchronous=FULL")
        self._journal.executescript(_JOURNAL)

    def close(self) -> None:
        """Close the state store and the journal."""
        self._journal.close()
        self.store.close()

    # ------------------------------------------------------------------ state source

    def __contains__(self, root: object) -> bool:
        return isinstance(root, bytes) and self.store.find_height(root) is not None

    def get(self, root: bytes) -> LedgerView:
        """Return the committed state with ``root`` (R3.1: unknown roots are refused)."""
        height = self.store.find_height(root)
        if height is None:
            raise ProtocolViolation("R3.1", "no committed state with that root")
        return LedgerView(self.store.tree(height))

    # ------------------------------------------------------------------ executor

    def genesis_root(self) -> bytes:
        """Return the genesis root (height 0 of the store)."""
        return self._genesis

    def get_stakes(self, root: bytes) -> Mapping[str, int]:
        """Return the genesis validators' stakes at ``root``."""
        state = self.get(root)
        return {v: int(state.get(stake_key(v), 0)) for v in self._validators}

    def is_slashed(self, root: bytes, slash_key: tuple[str, str, int]) -> bool:
        """Return True if ``slash_key`` was slashed by ``root``."""
        return self.get(root).is_slashed(slash_key)

    def execute(
        self, block: ProofBlock, verdict: BlockVerdict, pre_root: bytes, validators: ValidatorSet
    ) -> Execution:
        """Stage ``block``'s transition in the store (validated, not written)."""
        if pre_root != self.store.root:
            raise UsageError("a node executes blocks on its latest committed state only")
        state = self.get(pre_root)
        operations, rewards, reward, transfers = build_operations(state, block, verdict, validators)
        staged = self.store.stage(Transition(block.height, tuple(operations)))
        after = LedgerView(self._staged_view(staged))
        return make_execution(
            block,
            verdict,
            pre_root,
            staged.post_root,
            staged.outcome,
            rewards,
            reward,
            transfers,
            after,
            handle=staged,
        )

    def _staged_view(self, staged: StagedHeight) -> StateTree:
        overlay = OverlayNodeStore(self.store.cache)
        overlay.put_nodes(staged.nodes)
        return StateTree(overlay, root=staged.post_root, cache=self.store.cache)

    # ------------------------------------------------------------------ chain store

    def latest(self) -> CommitCertificate | None:
        """Return the certificate of the latest committed consensus height (None at genesis)."""
        height = self.store.height
        if height is None or height == 0:
            return None
        block = self.get_block(height)
        certificate = self.get_certificate(height)
        if block is None or certificate is None:
            raise ProtocolViolation("R5.4", f"height {height} lacks its block or certificate")
        return certificate

    def commit_height(
        self, block: ProofBlock, certificate: CommitCertificate, execution: Execution
    ) -> None:
        """Commit the transition with the block and certificate in one transaction.

        ``execution.handle`` is the height staged by :meth:`execute`, or the operations another
        executor applied (a shared simulator ledger): they are staged again here, and the root
        this store computes must be the certified one (R3.2).
        """
        staged = execution.handle
        if isinstance(staged, tuple):
            staged = self.store.stage(Transition(block.height, staged))
        if not isinstance(staged, StagedHeight):
            raise UsageError("commit_height needs a staged height or the operations of the block")
        if staged.post_root != certificate.post_root:
            raise ProtocolViolation("R3.2", "this store computes another post-state root")
        records = {
            "block": canonical_json(block.to_wire()),
            "certificate": canonical_json(certificate.to_wire()),
        }
        self.store.commit(staged, records)
        self._journal.execute("DELETE FROM votes WHERE height <= ?", (block.height,))
        self._journal.execute("DELETE FROM locks WHERE height <= ?", (block.height,))

    def receive_snapshot(self, tree: StateTree) -> None:
        """Hold a verified snapshot tree (from aethel.state.sync) for :meth:`install_snapshot`."""
        self._snapshots[tree.root()] = tree

    def install_snapshot(self, certificate: CommitCertificate, block: ProofBlock) -> None:
        """Persist the synced state of ``certificate`` as its height (R3.1, R3.5)."""
        tree = self._snapshots.pop(certificate.post_root, None)
        if tree is None:
            raise UsageError("install_snapshot needs the verified tree of the certified root")
        records = {
            "block": canonical_json(block.to_wire()),
            "certificate": canonical_json(certificate.to_wire()),
        }
        self.store.import_snapshot(certificate.height, tree, records)

    def get_block(self, height: int) -> ProofBlock | None:
        """Return the committed block at ``height``."""
        data = self.store.get_record(height, "block")
        return None if data is None else parse_block(parse_canonical_json(data))

    def get_certificate(self, height: int) -> CommitCertificate | None:
        """Return the certificate of ``height``."""
        data = self.store.get_record(height, "certificate")
        return None if data is None else parse_commit_certificate(parse_canonical_json(data))

    def record_vote(self, height: int, view: int, kind: str, key: bytes) -> None:
        """Journal a vote durably before it is sent."""
        self._journal.execute(
            "INSERT OR IGNORE INTO votes VALUES (?, ?, ?, ?)", (height, view, kind, key)
        )

    def record_lock(self, certificate: PrepareCertificate, block: ProofBlock) -> None:
        """Persist the lock of its height durably before the COMMIT it justifies is sent."""
        self._journal.execute(
            "INSERT OR REPLACE INTO locks VALUES (?, ?, ?)",
            (
                certificate.height,
                canonical_json(certificate.to_wire()),
                canonical_json(block.to_wire()),
            ),
        )

    def get_lock(self, height: int) -> tuple[PrepareCertificate, ProofBlock] | None:
        """Return the persisted lock of ``height``."""
        row = self._journal.execute(
            "SELECT certificate, block FROM locks WHERE height = ?", (height,)
        ).fetchone()
        if row is None:
            return None
        certificate = parse_prepare_certificate(parse_canonical_json(row[0]))
        return certificate, parse_block(parse_canonical_json(row[1]))

    def get_votes(self, height: int) -> Mapping[tuple[int, str], bytes]:
        """Return the journaled votes of ``height``."""
        rows = self._journal.execute(
            "SELECT view, kind, key FROM votes WHERE height = ?", (height,)
        ).fetchall()
        return {(view, kind): key for view, kind, key in rows}
