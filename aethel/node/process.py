"""``aethel node run``: one validator process, stopped cleanly by SIGTERM or SIGINT.

The process opens its home (:mod:`aethel.node.home`), starts the runtime (peers, replica) and the
API, prints one line ``ready {json}`` on standard output (the node's id and the addresses it is
bound to) and runs until SIGTERM or SIGINT. Stopping closes the API and the peer connections and
then the store and the journal; everything committed was on disk before it was announced (R5.4),
so a SIGKILL at any moment loses nothing committed either. Logs go to standard error.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from pathlib import Path

from aethel.node.api import Api
from aethel.node.home import load_home
from aethel.node.runtime import NodeRuntime


def configure_logging(level: str = "INFO") -> None:
    """Log lines with time, logger and level to standard error."""
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


async def serve(home_path: str | Path, *, durable: bool = True) -> None:
    """Run the node of ``home_path`` until SIGTERM or SIGINT."""
    home = load_home(home_path)
    runtime = NodeRuntime(home, durable=durable)
    api = Api(runtime)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await runtime.start()
        await api.start(home.config.api_listen)
        ready = {
            "id": runtime.id,
            "peer": list(runtime.network.bound or ()),
            "api": list(api.bound or ()),
            "height": runtime.node.height,
            "wiped": runtime.node.wiped,
        }
        print("ready " + json.dumps(ready), flush=True)
        await stop.wait()
        logging.getLogger("aethel.node").info("stopping (signal)")
    finally:
        await api.stop()
        await runtime.stop()


def run_node(home_path: str | Path, *, durable: bool = True, log_level: str = "INFO") -> int:
    """Run a node in this process; return the exit code."""
    configure_logging(log_level)
    asyncio.run(serve(home_path, durable=durable))
    return 0


__all__ = ["configure_logging", "run_node", "serve"]
