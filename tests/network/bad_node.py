"""Nodes that break the contract (NODE.md), for tests: ``python bad_node.py MODE HOME``.

* ``sleep``: never prints ``ready`` and never answers its API (never ready);
* ``exit``: exits with status 3 at once (crashes on start);
* ``garbage``: prints ``ready``, answers every HTTP request 200 with a body that is not JSON;
* ``flood``: prints ``ready``, listens on its peer port (discarding), and sends 4 MiB frames to
  every peer address it was given, as fast as it can.
"""

from __future__ import annotations

import asyncio
import json
import struct
import sys
import time
from pathlib import Path

FRAME = struct.pack(">I", 4 << 20) + b"x" * (4 << 20)


def _listen(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host, int(port)


async def garbage(config: dict[str, object]) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            line = await reader.readline()
            if not line or line in (b"\r\n", b"\n"):
                break
        body = b"<html>surely not JSON</html>"
        head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        writer.write(head.encode() + body)
        await writer.drain()
        writer.close()

    host, port = _listen(str(config["api_listen"]))
    server = await asyncio.start_server(answer, host, port)
    print("ready {}", flush=True)
    async with server:
        await server.serve_forever()


async def flood(config: dict[str, object]) -> None:
    async def discard(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(1 << 20):
            pass

    host, port = _listen(str(config["peer_listen"]))
    server = await asyncio.start_server(discard, host, port)
    print("ready {}", flush=True)

    async def send(address: str) -> None:
        while True:
            try:
                _, writer = await asyncio.open_connection(*_listen(address))
                while True:
                    writer.write(FRAME)
                    await writer.drain()
            except OSError:
                await asyncio.sleep(0.05)

    peers = config["peers"]
    assert isinstance(peers, dict)
    async with server:
        await asyncio.gather(*(send(str(a)) for a in peers.values()))


def main() -> None:
    mode, home = sys.argv[1], Path(sys.argv[2])
    if mode == "sleep":
        time.sleep(600)
    elif mode == "exit":
        print("cannot open my store", file=sys.stderr)
        sys.exit(3)
    config = json.loads((home / "node.json").read_text())
    asyncio.run(garbage(config) if mode == "garbage" else flood(config))


if __name__ == "__main__":
    main()
