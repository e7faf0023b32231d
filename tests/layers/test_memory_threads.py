"""The in-memory layer across threads and event loops (``async_to_sync`` from sync code)."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import anyio.to_thread
from asgiref.sync import async_to_sync

from chanx.core.layers import ChannelFull, InMemoryChannelLayer


async def receive_count(layer: InMemoryChannelLayer, channel: str, count: int) -> list[Any]:
    return [await layer.receive(channel) for _ in range(count)]


async def test_async_to_sync_group_send_from_worker_threads() -> None:
    layer = InMemoryChannelLayer(capacity=1000)
    channel = await layer.new_channel()
    await layer.group_add("room", channel)
    senders, per_sender = 3, 20
    received: list[Any] = []

    def send_from_sync_code(sender: int) -> None:
        group_send = async_to_sync(layer.group_send)
        for index in range(per_sender):
            group_send("room", {"type": "event", "sender": sender, "index": index})

    async def receive_all() -> None:
        received.extend(await receive_count(layer, channel, senders * per_sender))

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(receive_all)
            await anyio.wait_all_tasks_blocked()
            for sender in range(senders):
                tasks.start_soon(anyio.to_thread.run_sync, send_from_sync_code, sender)
    for sender in range(senders):
        indexes = [m["index"] for m in received if m["sender"] == sender]
        assert indexes == list(range(per_sender))


async def test_senders_on_their_own_event_loops() -> None:
    layer = InMemoryChannelLayer(capacity=10)
    threads, per_thread = 4, 200

    async def send_all(thread: int) -> None:
        for index in range(per_thread):
            message = {"type": "event", "thread": thread, "index": index}
            while True:
                try:
                    await layer.send("shared", message)
                    break
                except ChannelFull:
                    await asyncio.sleep(0.001)  # back off until the receiver catches up

    def run_sender(thread: int) -> None:
        asyncio.run(send_all(thread))

    received: list[Any] = []

    async def receive_all() -> None:
        received.extend(await receive_count(layer, "shared", threads * per_thread))

    with anyio.fail_after(20):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(receive_all)
            for thread in range(threads):
                tasks.start_soon(anyio.to_thread.run_sync, run_sender, thread)
    assert len(received) == threads * per_thread
    for thread in range(threads):
        assert [m["index"] for m in received if m["thread"] == thread] == list(range(per_thread))


async def test_receiver_on_another_event_loop() -> None:
    layer = InMemoryChannelLayer(capacity=1000)
    count = 200

    def run_receiver() -> list[Any]:
        async def receive_with_timeout() -> list[Any]:
            async with asyncio.timeout(10):
                return await receive_count(layer, "remote", count)

        return asyncio.run(receive_with_timeout())

    async with anyio.create_task_group() as tasks:
        results: list[list[Any]] = []

        async def receive_in_thread() -> None:
            results.append(await anyio.to_thread.run_sync(run_receiver))

        tasks.start_soon(receive_in_thread)
        for index in range(count):
            await layer.send("remote", {"type": "event", "index": index})
    assert [m["index"] for m in results[0]] == list(range(count))
    assert layer._channels == {}


async def test_receiver_whose_loop_ended_is_forgotten() -> None:
    layer = InMemoryChannelLayer()

    def run_receiver() -> None:
        async def give_up() -> None:
            with anyio.move_on_after(0.01):
                await layer.receive("chan")

        asyncio.run(give_up())

    await anyio.to_thread.run_sync(run_receiver)
    await layer.send("chan", {"type": "event"})
    with anyio.fail_after(1):
        assert await layer.receive("chan") == {"type": "event"}
