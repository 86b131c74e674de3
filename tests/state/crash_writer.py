"""A state store writer for the crash tests: commits heights in a loop until killed.

Usage: ``python crash_writer.py DB LAST_HEIGHT [KILL_AFTER]``. Opens (or creates) the store,
then commits deterministic heights until LAST_HEIGHT, printing ``begin <height>`` before each
commit and ``<height> <root hex>`` after it returns (so the parent knows what was committed and
whether a kill landed inside a commit). With KILL_AFTER, a SQLite progress
handler SIGKILLs this process after that many callbacks (one per 200 virtual machine steps,
about 17 per height): a
kill point inside a statement of the commit, chosen by the test.
"""

from __future__ import annotations

import os
import signal
import sys

from aethel.encoding import canonical_json
from aethel.state.store import StateStore
from aethel.state.transitions import Genesis, Reward, SetMeta, TransferOperation, Transition

ACCOUNTS = [f"acct{i:02d}" for i in range(40)]


def transition_at(store: StateStore, height: int) -> Transition:
    """Return the transition of ``height``: a function of the committed state only."""
    operations: list[object] = [Reward(ACCOUNTS[height % 40], 1_000)]
    for index in range(40):
        sender = ACCOUNTS[(height + index) % 40]
        receiver = ACCOUNTS[(height + index + 7) % 40]
        nonce = store.get(f"nonce:{sender}", default=0)
        operations.append(TransferOperation(sender, receiver, 1 + (height * index) % 5, nonce))
    operations.append(SetMeta("height", height))
    return Transition(height, tuple(operations))  # type: ignore[arg-type]


def main() -> None:
    path, last = sys.argv[1], int(sys.argv[2])
    kill_after = int(sys.argv[3]) if len(sys.argv) > 3 else None
    store = StateStore(path)
    if store.height is None:
        store.commit(
            store.stage_genesis(Genesis(dict.fromkeys(ACCOUNTS, 1_000_000), {"v1": 10_000})),
            {"block": canonical_json({"height": 0})},
        )
        print(0, store.root.hex(), flush=True)
    if kill_after is not None:
        calls = 0

        def progress() -> int:
            nonlocal calls
            calls += 1
            if calls >= kill_after:
                os.kill(os.getpid(), signal.SIGKILL)
            return 0

        store._db.set_progress_handler(progress, 200)
    while (store.height or 0) < last:
        height = (store.height or 0) + 1
        staged = store.stage(transition_at(store, height))
        block = canonical_json({"height": height, "padding": "x" * 4000})
        print("begin", height, flush=True)  # a kill before the next line lands inside commit()
        store.commit(staged, {"block": block, "certificate": canonical_json([height])})
        print(height, staged.post_root.hex(), flush=True)
    store.close()


if __name__ == "__main__":
    main()
