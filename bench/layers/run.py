"""Channel-layer benchmark: chanx's Redis and RabbitMQ layers against their peers.

Run ``python bench/layers/run.py [--redis redis://127.0.0.1:6379/0] [--amqp amqp://...]
[--quick]`` (the RabbitMQ peer, channels-rabbitmq, is in the ``bench`` dependency group:
``uv sync --all-packages --group dev --group bench``). Every layer runs the same scenarios in
the same run; the table prints each figure and its ratio to its peer (channels_redis's core
layer; channels-rabbitmq for chanx-rabbitmq), checks that no message was lost, and the
results are written to bench/results/layers.json. Not a test: nothing here is timed by the
test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import platform
import sys
import time
import uuid
import warnings
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

warnings.filterwarnings("ignore", category=DeprecationWarning)

LAYERS = [
    "chanx-redis",
    "channels-redis-core",
    "channels-redis-pubsub",
    "chanx-rabbitmq",
    "channels-rabbitmq",
    "chanx-memory",
]
BASELINE = "channels-redis-core"
# The peer each layer's ratio is taken against (BASELINE when not listed).
PEERS = {"chanx-rabbitmq": "channels-rabbitmq", "channels-rabbitmq": "channels-rabbitmq"}
AMQP = {"chanx-rabbitmq", "channels-rabbitmq"}
RESULTS = Path(__file__).resolve().parents[1] / "results" / "layers.json"
TIMEOUT = 120.0


def make_layer(kind: str, url: str, prefix: str) -> Any:
    if kind == "chanx-redis":
        from chanx.redis import RedisChannelLayer

        return RedisChannelLayer([url], prefix=prefix, capacity=100_000)
    if kind == "channels-redis-core":
        from channels_redis.core import RedisChannelLayer as CoreLayer

        return CoreLayer(hosts=[url], prefix=prefix, capacity=100_000)
    if kind == "channels-redis-pubsub":
        from channels_redis.pubsub import RedisPubSubChannelLayer

        return RedisPubSubChannelLayer(hosts=[url], prefix=prefix)
    if kind == "chanx-rabbitmq":
        from chanx.rabbitmq import RabbitMQChannelLayer

        return RabbitMQChannelLayer(url, prefix=prefix, capacity=100_000)
    if kind == "channels-rabbitmq":
        from channels_rabbitmq.core import RabbitmqChannelLayer

        return RabbitmqChannelLayer(
            host=url,
            local_capacity=50_000,  # its AMQP prefetch count too: at most 65,535
            remote_capacity=100_000,
            groups_exchange=f"{prefix}.groups",
        )
    if kind == "chanx-memory":
        from chanx.core.layers import InMemoryChannelLayer

        return InMemoryChannelLayer(capacity=100_000)
    raise ValueError(f"expected one of {LAYERS}, but got {kind!r}")


async def shutdown(layer: Any) -> None:
    for name in ("flush", "close"):
        method = getattr(layer, name, None)
        if method is not None:
            with contextlib.suppress(NotImplementedError):  # channels-rabbitmq: no flush
                await method()


async def warm_up(layer: Any, channel: str) -> None:
    """Make sure ``channel`` is readable before its name is handed out.

    channels-rabbitmq declares its queue in the background: a message sent to a new channel
    before that is dropped by the broker. A round trip to itself waits for it (for every
    layer, so all are measured alike).
    """
    await layer.send(channel, {"type": "bench.warm"})
    await layer.receive(channel)


async def round_trip(layer: Any, count: int, size: int = 0) -> dict[str, Any]:
    channel = await layer.new_channel()
    message = {"type": "bench.ping", "body": "x" * size}
    await layer.send(channel, message)
    await layer.receive(channel)  # warm connections up
    received = 0
    start = time.perf_counter()
    for _ in range(count):
        await layer.send(channel, message)
        received += (await layer.receive(channel))["type"] == "bench.ping"
    elapsed = time.perf_counter() - start
    return {"per_s": count / elapsed, "expected": count, "received": received}


async def round_trip_two_instances(kind: str, url: str, prefix: str, count: int) -> dict[str, Any]:
    """Ping-pong between two layer instances of one process: every hop goes through Redis."""
    ping, pong = make_layer(kind, url, prefix), make_layer(kind, url, prefix)
    try:
        there, back = await pong.new_channel(), await ping.new_channel()
        await warm_up(pong, there)
        await warm_up(ping, back)

        async def echo() -> None:
            while (await pong.receive(there))["type"] != "bench.stop":
                await pong.send(back, {"type": "bench.pong"})

        echoer = asyncio.create_task(echo())
        await ping.send(there, {"type": "bench.ping"})
        await ping.receive(back)
        received = 0
        start = time.perf_counter()
        for _ in range(count):
            await ping.send(there, {"type": "bench.ping"})
            received += (await ping.receive(back))["type"] == "bench.pong"
        elapsed = time.perf_counter() - start
        await ping.send(there, {"type": "bench.stop"})
        await echoer
        return {"per_s": count / elapsed, "expected": count, "received": received}
    finally:
        await shutdown(ping)
        await shutdown(pong)


async def stream(layer: Any, count: int) -> dict[str, Any]:
    channel = await layer.new_channel()
    received = 0

    async def consume() -> None:
        nonlocal received
        for _ in range(count):
            await layer.receive(channel)
            received += 1

    start = time.perf_counter()
    consumer = asyncio.create_task(consume())
    window = asyncio.Semaphore(64)  # 64 sends in flight, like busy producers

    async def send(index: int) -> None:
        async with window:
            await layer.send(channel, {"type": "bench.item", "index": index})

    await asyncio.gather(*(send(index) for index in range(count)))
    await consumer
    elapsed = time.perf_counter() - start
    return {"per_s": count / elapsed, "expected": count, "received": received}


async def group_local(layer: Any, members: int, sends: int) -> dict[str, Any]:
    group = f"bench-{uuid.uuid4().hex[:8]}"
    channels = [await layer.new_channel() for _ in range(members)]
    for channel in channels:
        await layer.group_add(group, channel)
    received = 0

    async def consume(channel: str) -> None:
        nonlocal received
        for _ in range(sends):
            await layer.receive(channel)
            received += 1

    tasks = [asyncio.create_task(consume(channel)) for channel in channels]
    await asyncio.sleep(0.1)  # receivers waiting before the clock starts
    start = time.perf_counter()
    for index in range(sends):
        await layer.group_send(group, {"type": "bench.broadcast", "index": index})
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    return {"per_s": members * sends / elapsed, "expected": members * sends, "received": received}


# ---- scenarios across processes -------------------------------------------------------


def _echo_worker(kind: str, url: str, prefix: str, pipe: Connection) -> None:
    async def main() -> None:
        layer = make_layer(kind, url, prefix)
        channel = await layer.new_channel()
        await warm_up(layer, channel)
        pipe.send(channel)
        while True:
            message = await layer.receive(channel)
            if message["type"] == "bench.stop":
                break
            await layer.send(message["reply"], {"type": "bench.pong"})
        await layer.close() if hasattr(layer, "close") else None

    asyncio.run(main())


async def round_trip_two_processes(kind: str, url: str, prefix: str, count: int) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    worker = context.Process(target=_echo_worker, args=(kind, url, prefix, theirs))
    worker.start()
    layer = make_layer(kind, url, prefix)
    try:
        echo = await asyncio.to_thread(ours.recv)
        reply = await layer.new_channel()
        await warm_up(layer, reply)
        await layer.send(echo, {"type": "bench.ping", "reply": reply})
        await layer.receive(reply)
        received = 0
        start = time.perf_counter()
        for _ in range(count):
            await layer.send(echo, {"type": "bench.ping", "reply": reply})
            received += (await layer.receive(reply))["type"] == "bench.pong"
        elapsed = time.perf_counter() - start
        await layer.send(echo, {"type": "bench.stop"})
        return {"per_s": count / elapsed, "expected": count, "received": received}
    finally:
        await asyncio.to_thread(worker.join, 30)
        if worker.is_alive():
            worker.kill()
        await shutdown(layer)


def _group_worker(
    kind: str, url: str, prefix: str, group: str, members: int, sends: int, pipe: Connection
) -> None:
    async def main() -> None:
        layer = make_layer(kind, url, prefix)
        channels = [await layer.new_channel() for _ in range(members)]
        await warm_up(layer, channels[0])
        for channel in channels:
            await layer.group_add(group, channel)
        received = 0
        finished = 0.0

        async def consume(channel: str) -> None:
            nonlocal received, finished
            for _ in range(sends):
                await layer.receive(channel)
                received += 1
            finished = max(finished, time.time())

        tasks = [asyncio.create_task(consume(channel)) for channel in channels]
        await asyncio.sleep(0.2)
        pipe.send("ready")
        try:
            async with asyncio.timeout(TIMEOUT):
                await asyncio.gather(*tasks)
        except TimeoutError:
            pass
        pipe.send((received, finished))
        if hasattr(layer, "close"):
            await layer.close()

    asyncio.run(main())


async def group_processes(
    kind: str, url: str, prefix: str, processes: int, members: int, sends: int
) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    group = f"bench-{uuid.uuid4().hex[:8]}"
    per_process = members // processes
    pipes, workers = [], []
    for _ in range(processes):
        ours, theirs = context.Pipe()
        worker = context.Process(
            target=_group_worker,
            args=(kind, url, prefix, group, per_process, sends, theirs),
        )
        worker.start()
        pipes.append(ours)
        workers.append(worker)
    layer = make_layer(kind, url, prefix)
    try:
        for pipe in pipes:
            await asyncio.to_thread(pipe.recv)
        start = time.time()
        for index in range(sends):
            await layer.group_send(group, {"type": "bench.broadcast", "index": index})
        reports = [await asyncio.to_thread(pipe.recv) for pipe in pipes]
        received = sum(count for count, _ in reports)
        elapsed = max(finished for _, finished in reports) - start
        expected = per_process * processes * sends
        return {"per_s": expected / elapsed, "expected": expected, "received": received}
    finally:
        for worker in workers:
            await asyncio.to_thread(worker.join, 30)
            if worker.is_alive():
                worker.kill()
        await shutdown(layer)


# ---- driver ------------------------------------------------------------------------------

Scenario = Callable[[str, str, str], Awaitable[dict[str, Any]]]


def scenarios(quick: bool) -> dict[str, tuple[Scenario, bool]]:
    scale = 0.2 if quick else 1.0

    def n(value: int) -> int:
        return max(10, int(value * scale))

    def local(run: Callable[[Any], Awaitable[dict[str, Any]]]) -> Scenario:
        async def scenario(kind: str, url: str, prefix: str) -> dict[str, Any]:
            layer = make_layer(kind, url, prefix)
            try:
                return await run(layer)
            finally:
                await shutdown(layer)

        return scenario

    # name -> (scenario, needs a layer shared between processes)
    return {
        "round trip, same process (msg/s)": (
            local(lambda layer: round_trip(layer, n(3000))),
            False,
        ),
        "round trip via the broker, 2 instances, 1 process": (
            lambda kind, url, prefix: round_trip_two_instances(kind, url, prefix, n(3000)),
            True,
        ),
        "round trip, two processes (msg/s)": (
            lambda kind, url, prefix: round_trip_two_processes(kind, url, prefix, n(3000)),
            True,
        ),
        "pipelined stream (msg/s)": (local(lambda layer: stream(layer, n(20000))), False),
        "group of 100, one process (deliveries/s)": (
            local(lambda layer: group_local(layer, 100, n(100))),
            False,
        ),
        "group of 1,000 over 4 processes (deliveries/s)": (
            lambda kind, url, prefix: group_processes(kind, url, prefix, 4, 1000, n(200)),
            True,
        ),
        "round trip, 16 KB payload (msg/s)": (
            local(lambda layer: round_trip(layer, n(2000), size=16 * 1024)),
            False,
        ),
    }


async def run_all(
    urls: tuple[str, str], quick: bool, layers: list[str], only: str | None = None
) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    for name, (scenario, cross_process) in scenarios(quick).items():
        if only is not None and only not in name:
            continue
        results[name] = {}
        for kind in layers:
            if cross_process and kind == "chanx-memory":  # instances share nothing
                results[name][kind] = None  # one process only, by design
                continue
            prefix = f"bench{uuid.uuid4().hex[:6]}"
            url = urls[1] if kind in AMQP else urls[0]
            try:
                async with asyncio.timeout(TIMEOUT):
                    result = await scenario(kind, url, prefix)
            except Exception as error:
                result = {"error": repr(error)}
            results[name][kind] = result
            shown = result.get("error") if result and "error" in result else _cell(result)
            print(f"  {name:<48} {kind:<22} {shown}", file=sys.stderr, flush=True)
    return results


def _cell(result: dict[str, Any] | None) -> str:
    if result is None:
        return "n/a"
    if "error" in result:
        return "error"
    lost = result["expected"] - result["received"]
    return f"{result['per_s']:,.0f}" + (f" (LOST {lost})" if lost else "")


def table(results: dict[str, dict[str, Any]], layers: list[str]) -> str:
    head = f"{'scenario':<48}" + "".join(f"{kind:>24}" for kind in layers)
    lines = [head, "-" * len(head)]
    for name, row in results.items():
        cells = []
        for kind in layers:
            result = row.get(kind)
            base = row.get(PEERS.get(kind, BASELINE)) or {}
            text = _cell(result)
            if result and "per_s" in result and "per_s" in base:
                text += f" ({result['per_s'] / base['per_s']:.1f}x)"
            cells.append(f"{text:>24}")
        lines.append(f"{name:<48}" + "".join(cells))
    lines.append(
        f"ratios are to {BASELINE} (RabbitMQ layers: to channels-rabbitmq); "
        "LOST marks messages that never arrived"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--amqp", default="amqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--quick", action="store_true", help="a fifth of the work")
    parser.add_argument("--layers", default=",".join(LAYERS))
    parser.add_argument("--only", help="run the scenarios whose name contains this text")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the JSON")
    options = parser.parse_args()
    layers = options.layers.split(",")
    urls = (options.redis, options.amqp)
    results = asyncio.run(run_all(urls, options.quick, layers, options.only))
    print(table(results, layers))
    if options.only is not None:
        print(f"a partial run: {options.output} is left as it was")
        return
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(
        json.dumps(
            {
                "machine": {
                    "python": platform.python_version(),
                    "platform": platform.platform(),
                    "cpus": multiprocessing.cpu_count(),
                },
                "quick": options.quick,
                "baseline": BASELINE,
                "peers": PEERS,
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"written to {options.output}")


if __name__ == "__main__":
    main()
