"""A private Redis is killed and restarted mid-stream: the layer recovers and reports it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest
from redis.exceptions import RedisError

from chanx.redis import RedisChannelLayer

from ._servers import RedisProcess, free_port

pytestmark = [pytest.mark.redis, pytest.mark.slow]


async def test_layer_recovers_after_redis_restart(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = RedisProcess(free_port(), tmp_path)
    server.start()
    url = f"redis://127.0.0.1:{server.port}/0"
    receiver = RedisChannelLayer.from_url(url, capacity=10_000)
    sender = RedisChannelLayer.from_url(url, capacity=10_000)  # another process, in effect
    sent: list[int] = []
    failed: list[int] = []
    received: list[int] = []
    group_received: list[int] = []
    try:
        channel = await receiver.new_channel()
        await receiver.group_add("watchers", channel)
        restarted_at = -1
        stop_streaming = anyio.Event()  # a flag, not a cancel: no send is cut in half

        async def stream() -> None:
            index = 0
            while not stop_streaming.is_set():
                try:
                    await sender.send(channel, {"type": "tick", "index": index})
                    sent.append(index)
                except RedisError:
                    failed.append(index)
                    await anyio.sleep(0.02)  # the server is down: pace the retries
                index += 1
                await anyio.lowlevel.checkpoint()

        async def consume() -> None:
            while True:
                message = await receiver.receive(channel)
                if message["type"] == "tick":
                    received.append(message["index"])
                else:
                    group_received.append(message["index"])

        async def until(condition: Callable[[], bool]) -> None:
            while not condition():  # noqa: ASYNC110 - polls layer counters, bounded by fail_after
                await anyio.sleep(0.01)

        caplog.set_level(logging.WARNING, logger="chanx.redis")
        with anyio.fail_after(30):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(consume)
                tasks.start_soon(stream)
                await until(lambda: len(received) >= 200)
                server.kill()
                await until(lambda: bool(failed))
                server.start()
                await until(lambda: receiver.stats.reconnects >= 1)
                restarted_at = sent[-1]
                await until(lambda: bool(received) and received[-1] > restarted_at + 200)
                stop_streaming.set()
                await until(lambda: received[-1] >= sent[-1])  # drain the last sends
                await sender.group_send("watchers", {"type": "group", "index": -1})
                await until(lambda: bool(group_received))
                tasks.cancel_scope.cancel()
    finally:
        server.kill()
        await receiver.close()
        await sender.close()

    stats = receiver.stats
    assert stats.disconnects >= 1
    assert stats.reconnects >= 1
    assert stats.redis_restarts == 1
    assert stats.possible_loss >= 1
    # Nothing is invented or duplicated, and order holds. A send that raised may still have
    # reached Redis (the connection dropped after the write, before the reply), so it may
    # arrive: "raised" means "unknown", never "certainly not delivered".
    assert received == sorted(set(received))
    assert set(received) <= set(sent) | set(failed)
    lost = sorted(set(sent) - set(received))
    # Whatever went missing was sent around the outage, and the outage was reported.
    assert all(index <= restarted_at for index in lost), (lost, restarted_at, failed)
    assert any("Redis restarted" in r.getMessage() for r in caplog.records)
    assert any("connection lost" in r.getMessage() for r in caplog.records)
    # The membership was restored by the layer after the restart wiped it.
    assert group_received == [-1]
    print(f"sent={len(sent)} failed={len(failed)} received={len(received)} lost={len(lost)}")
