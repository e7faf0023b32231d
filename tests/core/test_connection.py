"""The serving loop: order after a handler suspends, back-pressure, cancellation by the server."""

from __future__ import annotations

import asyncio
from typing import Literal

import anyio
import anyio.lowlevel
import pytest

from chanx.core import AsyncJsonWebsocketConsumer, BaseMessage, ws_handler
from chanx.core.layers import InMemoryChannelLayer
from chanx.core.types import Message
from chanx.testing import WebsocketCommunicator

release = anyio.Event()
log: list[str] = []


class Step(BaseMessage):
    action: Literal["step"] = "step"
    payload: int


class Done(BaseMessage):
    action: Literal["done"] = "done"
    payload: int


class Stepper(AsyncJsonWebsocketConsumer):
    groups = ["steppers"]

    @ws_handler
    async def step(self, message: Step) -> Done:
        if message.payload == 0:
            await release.wait()  # the first handler really suspends
        elif message.payload % 3 == 0:
            await anyio.lowlevel.checkpoint()  # some later ones yield once
        return Done(payload=message.payload)

    async def on_disconnect(self, code: int) -> None:
        log.append(f"disconnected {code}")


@pytest.fixture(autouse=True)
def fresh_state() -> None:
    global release
    release = anyio.Event()
    log.clear()


async def test_frames_stay_in_order_after_a_handler_suspends(
    memory_layer: InMemoryChannelLayer,
) -> None:
    async with WebsocketCommunicator(Stepper.as_asgi(), "/ws") as ws:
        for i in range(30):
            await ws.send_json({"action": "step", "payload": i})
        assert await ws.receive_nothing()  # frame 0 holds the line
        release.set()
        replies = [(await ws.receive_json())["payload"] for _ in range(30)]
    assert replies == list(range(30))


async def test_reading_pauses_when_pending_frames_are_full(
    memory_layer: InMemoryChannelLayer,
) -> None:
    frames = [
        {"type": "websocket.receive", "text": f'{{"action":"step","payload":{i}}}'}
        for i in range(20)
    ]
    inbox: list[Message] = [{"type": "websocket.connect"}, *frames]
    reads = 0
    sent: list[str] = []
    all_sent = anyio.Event()
    finished = anyio.Event()

    async def receive() -> Message:
        nonlocal reads
        if inbox:
            reads += 1
            return inbox.pop(0)
        await all_sent.wait()
        return {"type": "websocket.disconnect", "code": 1000}

    async def send(message: Message) -> None:
        if message["type"] == "websocket.send":
            sent.append(message["text"])
            if len(sent) == 20:
                all_sent.set()

    async def serve() -> None:
        await Stepper.as_asgi(max_pending_frames=3)(
            {"type": "websocket", "path": "/ws", "headers": []}, receive, send
        )
        finished.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(serve)
        for _ in range(50):
            await anyio.lowlevel.checkpoint()  # let the reader run as far as it may
        # connect + frame 0 (being handled) + at most 3 queued + the one waiting to be queued
        assert reads <= 1 + 1 + 3 + 1
        release.set()
        with anyio.fail_after(5):
            await finished.wait()
    assert reads == 21
    assert [int(text.split('"payload":')[1].rstrip("}")) for text in sent] == list(range(20))


async def test_a_server_cancelling_the_connection_gets_through(
    memory_layer: InMemoryChannelLayer,
) -> None:
    never = anyio.Event()
    inbox: list[Message] = [
        {"type": "websocket.connect"},
        {"type": "websocket.receive", "text": '{"action":"step","payload":0}'},
    ]

    async def receive() -> Message:
        if inbox:
            return inbox.pop(0)
        await never.wait()
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        return None

    before = asyncio.all_tasks()
    task = asyncio.create_task(
        Stepper.as_asgi()({"type": "websocket", "path": "/ws", "headers": []}, receive, send)
    )
    for _ in range(20):
        await asyncio.sleep(0)  # the handler of frame 0 is now suspended
    task.cancel()
    with anyio.fail_after(5):
        with pytest.raises(asyncio.CancelledError):
            await task
    assert log == ["disconnected 1000"]  # the hook ran; groups were left
    assert not memory_layer._groups.get("steppers")
    for _ in range(5):
        await asyncio.sleep(0)
    assert asyncio.all_tasks() - before - {asyncio.current_task()} == set()


class Shouter(AsyncJsonWebsocketConsumer):
    groups = ["shouters"]

    @ws_handler
    async def shout(self, message: Step) -> None:
        await self.broadcast_message(Done(payload=message.payload))


async def test_a_burst_of_broadcasts_reaches_every_member(
    memory_layer: InMemoryChannelLayer,
) -> None:
    # Outside trial: one client sent 3,000 broadcasting frames back to back. Frames handled
    # inline never gave the event loop back, so the members' layer readers could not
    # drain their channels (capacity 100) and most broadcasts were dropped for everyone.
    app = Shouter.as_asgi()
    async with (
        WebsocketCommunicator(app, "/ws") as watcher,
        WebsocketCommunicator(app, "/ws") as sender,
    ):
        for i in range(1000):
            await sender.send_json({"action": "step", "payload": i})
        with anyio.fail_after(10):
            seen = [(await watcher.receive_json())["payload"] for _ in range(1000)]
            echoed = [(await sender.receive_json())["payload"] for _ in range(1000)]
    assert seen == echoed == list(range(1000))
    assert memory_layer.dropped_on_full == 0
