"""Connection and probe helpers shared by the load client's scenarios."""

from __future__ import annotations

import asyncio
import math
import os
from collections.abc import Awaitable, Callable
from typing import TypeVar

from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

T = TypeVar("T")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


class ServerProbe:
    """Reads a process's CPU time and resident memory from /proc."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def cpu_seconds(self) -> float:
        with open(f"/proc/{self.pid}/stat") as f:
            # The command name may hold spaces: fields are counted after its closing paren.
            fields = f.read().rsplit(")", 1)[1].split()
        utime, stime = int(fields[11]), int(fields[12])
        return (utime + stime) / CLOCK_TICKS

    def rss_bytes(self) -> int:
        with open(f"/proc/{self.pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE_SIZE


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent running processes since boot."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    # user + nice + system: time charged to processes. Interrupt and softirq time (loopback
    # TCP processing lands there) is charged to no process, so it is left out.
    return (fields[0] + fields[1] + fields[2]) / CLOCK_TICKS


class Conn(WSListener):  # type: ignore[misc]
    """One client socket; text frames go to ``on_text`` or, by default, to a queue."""

    def __init__(self) -> None:
        super().__init__()
        self.transport: WSTransport | None = None
        self.frames: asyncio.Queue[bytes] = asyncio.Queue()
        self.on_text: Callable[[Conn, bytes], None] | None = None
        self.closed_by_peer = False

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        kind = frame.msg_type
        if kind is WSMsgType.TEXT or kind is WSMsgType.BINARY:
            if not frame.fin:
                raise RuntimeError("fragmented frames are not expected from a bench server")
            payload = frame.get_payload_as_bytes()
            if self.on_text is None:
                self.frames.put_nowait(payload)
            else:
                self.on_text(self, payload)
        elif kind is WSMsgType.CLOSE:
            self.closed_by_peer = True
            transport.send_close(frame.get_close_code())
            transport.disconnect()

    def send(self, payload: bytes) -> None:
        assert self.transport is not None
        self.transport.send(WSMsgType.TEXT, payload)

    async def next_frame(self, limit_s: float) -> bytes:
        return await asyncio.wait_for(self.frames.get(), limit_s)

    async def roundtrip(self, payload: bytes, limit_s: float = 10.0) -> bytes:
        self.send(payload)
        return await self.next_frame(limit_s)

    async def close(self, limit_s: float = 5.0) -> None:
        transport = self.transport
        if transport is None or transport.is_disconnected:
            return
        try:
            transport.send_close()
            transport.disconnect()
            await asyncio.wait_for(transport.wait_disconnected(), limit_s)
        except (TimeoutError, OSError):
            transport.disconnect(graceful=False)


async def connect_many(url: str, count: int, *, concurrency: int = 50) -> list[Conn]:
    """Open ``count`` sockets, at most ``concurrency`` handshakes at a time."""
    gate = asyncio.Semaphore(concurrency)

    async def one() -> Conn:
        async with gate:
            _, listener = await ws_connect(Conn, url, websocket_handshake_timeout=10)
            assert isinstance(listener, Conn)
            return listener

    results = await asyncio.gather(*(one() for _ in range(count)), return_exceptions=True)
    conns = [r for r in results if isinstance(r, Conn)]
    errors = [r for r in results if not isinstance(r, Conn)]
    if errors:
        await asyncio.gather(*(c.close() for c in conns))
        raise RuntimeError(f"{len(errors)} of {count} connections failed, first: {errors[0]!r}")
    return conns


def percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return math.nan
    index = min(len(sorted_values) - 1, max(0, math.ceil(pct / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


async def run_bounded(work: Awaitable[T], limit_s: float) -> T:
    return await asyncio.wait_for(work, limit_s)


__all__ = ["Conn", "ServerProbe", "connect_many", "percentile", "run_bounded"]
