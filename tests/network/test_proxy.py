"""The harness's proxy forwards whole frames and applies each fault as NODE.md says (N6)."""

from __future__ import annotations

import asyncio
import struct

import pytest

from conformance.network.proxy import (
    FLOOD_BYTES_PER_S,
    FLOOD_FRAMES_PER_S,
    HEADER,
    LinkFaults,
    Proxy,
)


def frame(body: bytes) -> bytes:
    return HEADER.pack(len(body)) + body


async def read_frames(
    reader: asyncio.StreamReader, count: int, timeout: float = 2.0
) -> list[bytes]:
    frames: list[bytes] = []
    try:
        async with asyncio.timeout(timeout):
            while len(frames) < count:
                (length,) = HEADER.unpack(await reader.readexactly(4))
                frames.append(await reader.readexactly(length))
    except (TimeoutError, asyncio.IncompleteReadError):
        pass
    return frames


class Pair:
    """Node ``b`` is a server the test reads; node ``a`` dials it through the proxy."""

    def __init__(self, **limits: int) -> None:
        self.limits = limits
        self.accepted: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.Queue()
        )

    async def start(self) -> None:
        async def accept(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            await self.accepted.put((r, w))

        self.server = await asyncio.start_server(accept, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        self.proxy = Proxy(
            ["a", "b"],
            {"a": 1, "b": port},
            seed=7,
            flood_bytes_per_s=self.limits.get("flood_bytes_per_s", FLOOD_BYTES_PER_S),
            flood_frames_per_s=self.limits.get("flood_frames_per_s", FLOOD_FRAMES_PER_S),
        )
        await self.proxy.start()

    async def connect(self) -> tuple[asyncio.StreamWriter, asyncio.StreamReader]:
        host, port = self.proxy.addresses[("a", "b")].split(":")
        _, writer = await asyncio.open_connection(host, int(port))
        reader, _ = await asyncio.wait_for(self.accepted.get(), 2.0)
        return writer, reader

    async def stop(self) -> None:
        await self.proxy.stop()
        self.server.close()


def run(coroutine: object) -> None:
    asyncio.run(coroutine)  # type: ignore[arg-type]


async def _with_pair(test: object, **limits: int) -> None:
    pair = Pair(**limits)
    await pair.start()
    try:
        await test(pair)  # type: ignore[operator]
    finally:
        await pair.stop()


@pytest.mark.req("N6")
def test_frames_pass_whole_and_in_order() -> None:
    async def test(pair: Pair) -> None:
        writer, reader = await pair.connect()
        bodies = [f"frame {i}".encode() * (i + 1) for i in range(20)]
        writer.write(b"".join(frame(b) for b in bodies))
        await writer.drain()
        assert await read_frames(reader, 20) == bodies

    run(_with_pair(test))


@pytest.mark.req("N6")
def test_drop_spares_the_handshake_and_drops_the_rest() -> None:
    async def test(pair: Pair) -> None:
        pair.proxy.set_faults(("a", "b"), LinkFaults(drop=True))
        writer, reader = await pair.connect()
        writer.write(b"".join(frame(b"%d" % i) for i in range(6)))
        await writer.drain()
        assert await read_frames(reader, 6, timeout=0.5) == [b"0", b"1"]
        assert pair.proxy.stats.dropped == 4

    run(_with_pair(test))


@pytest.mark.req("N6")
def test_duplicate_and_reorder_and_delay() -> None:
    async def test(pair: Pair) -> None:
        writer, reader = await pair.connect()
        writer.write(frame(b"hello") + frame(b"auth"))
        await writer.drain()
        assert await read_frames(reader, 2) == [b"hello", b"auth"]
        pair.proxy.set_faults(("a", "b"), LinkFaults(duplicate=1.0))
        writer.write(frame(b"x"))
        await writer.drain()
        assert await read_frames(reader, 2) == [b"x", b"x"]
        pair.proxy.set_faults(("a", "b"), LinkFaults(reorder=1.0))
        writer.write(b"".join(frame(b"%d" % i) for i in range(30)))
        await writer.drain()
        got = await read_frames(reader, 30)
        assert sorted(got) == sorted(b"%d" % i for i in range(30)) and got != sorted(got)
        pair.proxy.set_faults(("a", "b"), LinkFaults(delay_ms=300))
        began = asyncio.get_running_loop().time()
        writer.write(frame(b"late"))
        await writer.drain()
        assert await read_frames(reader, 1) == [b"late"]
        assert asyncio.get_running_loop().time() - began >= 0.29

    run(_with_pair(test))


@pytest.mark.req("N6")
def test_a_cut_closes_and_refuses_until_healed() -> None:
    async def test(pair: Pair) -> None:
        writer, reader = await pair.connect()
        pair.proxy.cut("b", "a")
        assert await reader.read() == b""  # the connection was closed
        host, port = pair.proxy.addresses[("a", "b")].split(":")
        _, refused = await asyncio.open_connection(host, int(port))
        refused.write(frame(b"anyone?"))
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(pair.accepted.get(), 0.5)
        pair.proxy.heal_cuts()
        writer, reader = await pair.connect()
        writer.write(frame(b"back"))
        await writer.drain()
        assert await read_frames(reader, 1) == [b"back"]

    run(_with_pair(test))


@pytest.mark.req("N6")
@pytest.mark.rejects("N6")
def test_a_bad_frame_length_is_the_senders_violation() -> None:
    async def test(pair: Pair) -> None:
        writer, reader = await pair.connect()
        writer.write(struct.pack(">I", 0))
        await writer.drain()
        assert await reader.read() == b""
        assert [(v.node, v.kind) for v in pair.proxy.violations] == [("a", "frame-length")]

    run(_with_pair(test))


@pytest.mark.req("N6")
@pytest.mark.rejects("N6")
def test_a_flood_is_the_senders_violation() -> None:
    """Limits scaled down (1 MiB or 100 frames a second) so a loaded machine floods too."""

    async def test(pair: Pair) -> None:
        writer, _reader = await pair.connect()
        writer.write(b"".join(frame(b"z" * (64 << 10)) for _ in range(40)))  # 2.5 MiB
        await writer.drain()
        await asyncio.sleep(0.5)
        assert [(v.node, v.kind) for v in pair.proxy.violations] == [("a", "flood")]
        assert "1048576 bytes" in pair.proxy.violations[0].detail

    run(_with_pair(test, flood_bytes_per_s=1 << 20, flood_frames_per_s=100))
