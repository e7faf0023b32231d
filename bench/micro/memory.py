"""Memory probe: bytes per idle connection, in process, with tracemalloc.

Opens 1,000 connections through fake ASGI queues (no server, no socket), lets each answer
one ping (as the end-to-end ``memory`` scenario does), then counts what stays allocated
while they sit idle. Targets: a raw ASGI echo app (the floor), a chanx consumer in a group
on the in-memory layer, and one without a layer. Each target first serves one warm-up
connection, so lazy imports and caches do not count.

Run: ``.venv/bin/python bench/micro/memory.py [-v] [-n 1000]``; ``-v`` lists where the
chanx target allocates beyond the raw app. Not a test: compare figures within one run.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tracemalloc
from typing import Any

from _apps import PING, App, Grouped, NoLayer, raw_app

from chanx.core import register_channel_layer
from chanx.core.layers import InMemoryChannelLayer


async def _noop_send(message: Any) -> None:
    return None


async def _settle() -> None:
    for _ in range(50):
        await asyncio.sleep(0)


async def open_connections(
    app: App, n: int
) -> tuple[list[asyncio.Queue[Any]], list[asyncio.Task[None]]]:
    queues: list[asyncio.Queue[Any]] = []
    tasks: list[asyncio.Task[None]] = []
    for _ in range(n):
        queue: asyncio.Queue[Any] = asyncio.Queue()
        queue.put_nowait({"type": "websocket.connect"})
        queue.put_nowait({"type": "websocket.receive", "text": PING})
        scope = {"type": "websocket", "path": "/ws", "headers": [], "subprotocols": []}
        tasks.append(asyncio.create_task(app(scope, queue.get, _noop_send)))
        queues.append(queue)
    await _settle()
    return queues, tasks


async def close_connections(
    queues: list[asyncio.Queue[Any]], tasks: list[asyncio.Task[None]]
) -> None:
    for queue in queues:
        queue.put_nowait({"type": "websocket.disconnect", "code": 1000})
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=30)


async def measure(app: App, n: int) -> tuple[float, tracemalloc.Snapshot]:
    await close_connections(*await open_connections(app, 1))  # warm-up
    gc.collect()
    tracemalloc.start(25)
    before = tracemalloc.get_traced_memory()[0]
    queues, tasks = await open_connections(app, n)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    snapshot = tracemalloc.take_snapshot()
    tracemalloc.stop()
    await close_connections(queues, tasks)
    return (after - before) / n, snapshot


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000, help="connections (default 1000)")
    parser.add_argument("-v", action="store_true", help="top allocation sites of chanx")
    args = parser.parse_args()
    register_channel_layer("default", InMemoryChannelLayer())
    targets: list[tuple[str, App]] = [
        ("raw ASGI", raw_app),
        ("chanx, layer + group", Grouped.as_asgi()),
        ("chanx, no layer", NoLayer.as_asgi()),
    ]
    floor: tuple[float, tracemalloc.Snapshot] | None = None
    print(f"{'target':<22} {'B/conn':>8} {'above raw':>10}")
    for name, app in targets:
        per_connection, snapshot = await measure(app, args.n)
        floor = (per_connection, snapshot) if floor is None else floor
        print(f"{name:<22} {per_connection:>8.0f} {per_connection - floor[0]:>10.0f}")
        if args.v and name.startswith("chanx, layer"):
            # what this target holds beyond the raw app, by allocation site
            for stat in snapshot.compare_to(floor[1], "lineno")[:20]:
                print(f"    {stat.size_diff / args.n:7.0f} B/conn  {stat.traceback[0]}")


if __name__ == "__main__":
    asyncio.run(main())
