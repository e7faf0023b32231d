"""Micro-benchmark: µs per ping→pong through a whole connection, in process.

Unlike ``dispatch.py`` (the frame path alone), this drives a consumer's ASGI app the way a
server does (connect, N frames, disconnect) with a receive that hands frames over without a
socket, so the serving loop, the in-memory layer's reader task and the reply path all
count. Two modes: frames ready back to back (a pipelined burst: the loop never waits) and
one event-loop pass per frame (``await asyncio.sleep(0)`` in receive: each frame arrives
on its own, as on a quiet socket). A raw ASGI app gives the floor.

Run: ``.venv/bin/python bench/micro/connection.py`` (uvloop when installed,
``--asyncio`` for the standard loop). Not a test: compare figures within one run.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from _apps import PING, App, Grouped, Silent, raw_app

from chanx.core import register_channel_layer
from chanx.core.layers import InMemoryChannelLayer


async def per_frame(app: App, n: int, *, yield_each: bool) -> float:
    events: list[dict[str, Any]] = [
        {"type": "websocket.connect"},
        *[{"type": "websocket.receive", "text": PING}] * n,
        {"type": "websocket.disconnect", "code": 1000},
    ]
    pending = iter(events)

    async def receive() -> dict[str, Any]:
        if yield_each:
            await asyncio.sleep(0)
        return next(pending)

    async def send(message: dict[str, Any]) -> None:
        return None

    start = time.perf_counter()
    await app({"type": "websocket", "path": "/ws", "headers": []}, receive, send)
    return (time.perf_counter() - start) / n * 1e6


async def main(n: int, repeats: int) -> None:
    register_channel_layer("default", InMemoryChannelLayer())
    targets: list[tuple[str, App]] = [
        ("raw ASGI", raw_app),
        ("chanx ping -> pong", Grouped.as_asgi()),
        ("chanx, no reply", Silent.as_asgi()),
    ]
    print(f"{'target':<20} {'burst µs/frame':>15} {'one per pass':>13}  (best of {repeats})")
    for name, app in targets:
        burst = min([await per_frame(app, n, yield_each=False) for _ in range(repeats)])
        spaced = min([await per_frame(app, n, yield_each=True) for _ in range(repeats)])
        print(f"{name:<20} {burst:>15.2f} {spaced:>13.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100_000, help="frames per run")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--asyncio", action="store_true", help="standard event loop")
    args = parser.parse_args()
    coroutine = main(args.n, args.repeats)
    try:
        if args.asyncio:
            raise ImportError
        import uvloop
    except ImportError:
        print("event loop: asyncio")
        asyncio.run(coroutine)
    else:
        print("event loop: uvloop")
        uvloop.run(coroutine)
