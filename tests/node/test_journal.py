"""The vote journal is on disk before a vote leaves the node (R5.4, R2.4).

Four validators run in this process over real TCP. Every time a node hands its transport a vote
it signed (PRE-PREPARE or NEW-VIEW, PREPARE, COMMIT, VIEW-CHANGE), the test opens the node's
journal file with a separate SQLite connection, which sees only what was committed to the
file, and requires the vote's row to be there (or its height to be committed in the store,
which prunes the journal). A node that crashes right after a send then restarts knowing the
vote, so it never signs a conflicting one. The control runs the same cluster with one node
writing its journal an instant after it sends (as an asynchronous writer would): the check
must see it.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from aethel.consensus.messages import Commit, Message, NewView, Prepare, PrePrepare, ViewChange
from aethel.node import testnet as nets
from aethel.node.assembly import JOURNAL_FILE, STATE_FILE
from aethel.node.runtime import NodeRuntime

from .inprocess import running, wait_for

KINDS: dict[type, str] = {
    Prepare: "prepare",
    Commit: "commit",
    PrePrepare: "pre-prepare",
    NewView: "pre-prepare",
    ViewChange: "view-change",
}


def _signer(message: Message) -> str | None:
    return getattr(message, "validator", None) or getattr(message, "leader", None)


def _on_disk(data: Path, message: Message) -> bool:
    kind = KINDS[type(message)]
    view = message.view  # type: ignore[union-attr]
    journal = sqlite3.connect(f"file:{data / JOURNAL_FILE}?mode=ro", uri=True)
    state = sqlite3.connect(f"file:{data / STATE_FILE}?mode=ro", uri=True)
    try:
        row = journal.execute(
            "SELECT 1 FROM votes WHERE height = ? AND view = ? AND kind = ?",
            (message.height, view, kind),
        ).fetchone()
        (committed,) = state.execute("SELECT MAX(height) FROM heights").fetchone()
    finally:
        journal.close()
        state.close()
    return row is not None or (committed or 0) >= message.height


def _watch(runtime: NodeRuntime, checked: list[str], late: list[str]) -> None:
    data = runtime.home.data
    send, broadcast = runtime.send, runtime.broadcast

    def check(message: Message) -> None:
        if type(message) in KINDS and _signer(message) == runtime.id:
            what = f"{runtime.id} {type(message).__name__} h{message.height}"
            checked.append(what)
            if not _on_disk(data, message):
                late.append(what)

    def checked_send(to: str, message: Message) -> None:
        check(message)
        send(to, message)

    def checked_broadcast(message: Message) -> None:
        check(message)
        broadcast(message)

    runtime.send = checked_send  # type: ignore[method-assign]
    runtime.broadcast = checked_broadcast  # type: ignore[method-assign]


def _defer_journal(runtime: NodeRuntime, loop: asyncio.AbstractEventLoop) -> None:
    """Make ``runtime`` write each journal entry on the loop's next turn (after the send)."""
    ledger = runtime.node.ledger
    write = ledger.record_vote

    def deferred(height: int, view: int, kind: str, key: bytes) -> None:
        loop.call_soon(write, height, view, kind, key)

    ledger.record_vote = deferred  # type: ignore[method-assign]


async def _run(testnet: nets.Testnet, defer: str | None) -> tuple[list[str], list[str]]:
    checked: list[str] = []
    late: list[str] = []
    async with running(testnet) as nodes:
        loop = asyncio.get_running_loop()
        for node_id, (runtime, _) in nodes.items():
            _watch(runtime, checked, late)
            if node_id == defer:
                _defer_journal(runtime, loop)
        runtimes = [runtime for runtime, _ in nodes.values()]
        await wait_for(lambda: min(r.node.height for r in runtimes) >= 4, 60, "height 4")
    return checked, late


@pytest.fixture
def testnet(tmp_path: Path) -> nets.Testnet:
    return nets.init_testnet(tmp_path / "net", 4, seed=16, accounts=4, params={"idle_block_ms": 20})


@pytest.mark.req("R5.4", "R2.4")
def test_every_vote_is_in_the_journal_file_before_it_is_sent(testnet: nets.Testnet) -> None:
    checked, late = asyncio.run(_run(testnet, defer=None))
    kinds = {what.split()[1] for what in checked}
    assert {"PrePrepare", "Prepare", "Commit"} <= kinds, kinds
    assert len(checked) >= 4 * 3
    assert late == []


@pytest.mark.req("R5.4", "R2.4")
def test_the_check_sees_a_journal_written_after_the_send(testnet: nets.Testnet) -> None:
    _, late = asyncio.run(_run(testnet, defer="v001"))
    assert late, "a journal written after the send went unnoticed"
    assert all(what.startswith("v001 ") for what in late)
