"""Limits and policies: frame size, rate, origin, connection count, stalled readers."""

from __future__ import annotations

import json
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from chanx.core import AsyncJsonWebsocketConsumer, PingMessage, PongMessage, ws_handler
from chanx.core.layers import InMemoryChannelLayer
from chanx.core.types import Message
from chanx.testing import WebsocketCommunicator
from tests.core.messages import ChatNotification, ChatPayload

disconnects: list[int] = []
disconnected = anyio.Event()


class Limited(AsyncJsonWebsocketConsumer):
    groups = ["room"]
    max_frame_bytes = 100

    @ws_handler
    async def ping(self, message: PingMessage) -> PongMessage:
        return PongMessage()

    async def on_disconnect(self, code: int) -> None:
        disconnects.append(code)
        disconnected.set()


pytestmark = pytest.mark.usefixtures("memory_layer")


async def test_oversized_frame_closes_1009() -> None:
    async with WebsocketCommunicator(Limited.as_asgi(), "/ws") as ws:
        await ws.send_text('{"action": "ping", "ref": "' + "x" * 200 + '"}')
        closed = await ws.assert_closed(1009)
    assert "larger than 100 bytes" in closed["reason"]


async def test_multibyte_text_counts_bytes_not_characters() -> None:
    async with WebsocketCommunicator(Limited.as_asgi(), "/ws") as ws:
        await ws.send_text('{"action": "ping", "ref": "' + "é" * 40 + '"}')  # 70 chars, 110 bytes
        await ws.assert_closed(1009)


async def test_oversized_frame_can_get_an_error_frame_instead() -> None:
    async with WebsocketCommunicator(Limited.as_asgi(oversized_frames="error"), "/ws") as ws:
        await ws.send_bytes(b"x" * 101)
        assert (await ws.receive_json())["payload"]["code"] == "frame_too_large"
        await ws.send_json({"action": "ping"})
        assert (await ws.receive_json())["action"] == "pong"


async def test_rate_limit_answers_then_closes_1008_when_sustained() -> None:
    app = Limited.as_asgi(rate_limit=(0.001, 3), rate_limit_close_after=3)
    async with WebsocketCommunicator(app, "/ws") as ws:
        for _ in range(5):
            await ws.send_json({"action": "ping"})
        actions = [(await ws.receive_json())["action"] for _ in range(5)]
        assert sorted(actions) == ["error", "error", "pong", "pong", "pong"]
        await ws.send_json({"action": "ping"})
        closed = await ws.assert_closed(1008)
    assert closed["reason"] == "rate limit exceeded"


@pytest.mark.parametrize(
    ("origin", "accepted"),
    [
        ("https://chat.example.com", True),
        ("https://eu.example.com", True),
        ("https://evil.example.org", False),
        ("null", False),
        (None, True),  # not a browser: authenticate such clients instead
    ],
)
async def test_origin_allow_list(origin: str | None, accepted: bool) -> None:
    app = Limited.as_asgi(allowed_origins=["https://chat.example.com", "https://*.example.com"])
    headers = [("origin", origin)] if origin else []
    ws = WebsocketCommunicator(app, "/ws", headers=headers)
    result = await ws.connect()
    assert result.accepted is accepted
    if not accepted:
        assert result.close_code == 1008
        assert result.response_status == 403
    await ws.disconnect()


async def test_max_connections_rejects_clearly_and_frees_slots() -> None:
    app = Limited.as_asgi(max_connections=1)
    async with WebsocketCommunicator(app, "/ws") as first:
        async with WebsocketCommunicator(app, "/ws") as second:
            assert (await second.receive_json())["payload"]["code"] == "overloaded"
            await second.assert_closed(1013)
        await first.send_json({"action": "ping"})
        assert (await first.receive_json())["action"] == "pong"
    async with WebsocketCommunicator(app, "/ws") as third:
        await third.send_json({"action": "ping"})
        assert (await third.receive_json())["action"] == "pong"


class StalledClient:
    """Drives a consumer whose client accepted and then never reads again."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.inbox: list[Message] = [{"type": "websocket.connect"}]
        self.accepted = anyio.Event()
        self.forever = anyio.Event()

    async def receive(self) -> Message:
        if self.inbox:
            return self.inbox.pop(0)
        await self.forever.wait()
        raise AssertionError("unreachable")

    async def send(self, message: Message) -> None:
        if message["type"] == "websocket.accept":
            self.accepted.set()
            return
        await self.forever.wait()  # back-pressure: the client's TCP window is full

    async def run(self) -> None:
        await self.app({"type": "websocket", "path": "/ws", "headers": []}, self.receive, self.send)


async def test_stalled_reader_is_dropped_and_does_not_block_others(
    memory_layer: InMemoryChannelLayer,
) -> None:
    global disconnected
    disconnects.clear()
    disconnected = anyio.Event()
    app = Limited.as_asgi(slow_client_timeout=0.2)
    stalled = StalledClient(app)
    async with anyio.create_task_group() as tg:
        tg.start_soon(stalled.run)
        with anyio.fail_after(2):
            await stalled.accepted.wait()
        async with WebsocketCommunicator(app, "/ws") as healthy:
            for i in range(150):  # more than the layer's per-channel capacity
                notification = ChatNotification(payload=ChatPayload(text=str(i)))
                await Limited.broadcast_to(notification, "room")
                assert (await healthy.receive_json())["payload"]["text"] == str(i)
            with anyio.fail_after(3):
                await disconnected.wait()
    assert disconnects == [1008, 1000]  # the stalled client first, then the healthy one
    assert memory_layer.dropped_on_full > 0  # the stalled member's queue was full, not ours
    assert not memory_layer._groups.get("room")


async def test_sending_to_a_vanished_client_is_not_an_error(
    memory_layer: InMemoryChannelLayer, caplog: pytest.LogCaptureFixture
) -> None:
    global disconnected
    disconnects.clear()
    disconnected = anyio.Event()
    inbox: list[Message] = [
        {"type": "websocket.connect"},
        {"type": "websocket.receive", "text": '{"action": "ping"}'},
    ]
    never = anyio.Event()

    async def receive() -> Message:
        if inbox:
            return inbox.pop(0)
        await never.wait()
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        if message["type"] == "websocket.send":
            raise ConnectionResetError("client disconnected")  # what uvicorn raises: OSError

    with anyio.fail_after(2):
        await Limited.as_asgi()({"type": "websocket", "path": "/ws", "headers": []}, receive, send)
    assert disconnects == [1006]
    assert "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


@pytest.mark.parametrize("send_seq", [False, True])
async def test_drop_oldest_keeps_the_freshest_pushes_for_a_slow_client(
    memory_layer: InMemoryChannelLayer, send_seq: bool
) -> None:
    consumers: list[Any] = []
    gate = anyio.Event()
    received: list[str] = []
    inbox: list[Message] = [{"type": "websocket.connect"}]
    never = anyio.Event()

    async def receive() -> Message:
        if inbox:
            return inbox.pop(0)
        await never.wait()
        raise AssertionError("unreachable")

    accepted = anyio.Event()
    got_last = anyio.Event()

    async def send(message: Message) -> None:
        if message["type"] == "websocket.accept":
            accepted.set()
        if message["type"] == "websocket.send":
            await gate.wait()  # the client reads nothing until the gate opens
            received.append(message["text"])
            if '"49"' in message["text"]:
                got_last.set()

    class Spy(Limited):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            consumers.append(self)

    app = Spy.as_asgi(max_outbound_events=5, send_seq=send_seq)
    async with anyio.create_task_group() as tg:
        tg.start_soon(app, {"type": "websocket", "path": "/ws", "headers": []}, receive, send)
        with anyio.fail_after(2):
            await accepted.wait()
        for i in range(50):
            await Limited.broadcast_to(ChatNotification(payload=ChatPayload(text=str(i))), "room")
        for _ in range(20):
            await anyio.lowlevel.checkpoint()  # the reader drains the layer into its buffer
        gate.set()
        with anyio.fail_after(2):
            await got_last.wait()
        tg.cancel_scope.cancel()
    texts = [json.loads(text)["payload"]["text"] for text in received]
    # the 5 freshest, after at most one push that was already being sent when it stalled
    assert texts[-5:] == ["45", "46", "47", "48", "49"]
    assert texts[:-5] in ([], ["0"])
    assert consumers[0].dropped_events == 50 - len(texts)
    assert memory_layer.dropped_on_full == 0  # the layer itself never filled up
    if send_seq:
        # Every push is numbered, dropped ones too, so the client sees the gap.
        seqs = [json.loads(text)["seq"] for text in received]
        assert seqs == sorted(seqs)
        assert seqs[-1] == 50
        assert len(seqs) < 50


class SlowPing(Limited):
    release: anyio.Event | None = None

    @ws_handler
    async def ping(self, message: PingMessage) -> PongMessage:
        assert self.release is not None
        await self.release.wait()  # suspended: the socket reader queues what follows
        return PongMessage()


async def test_an_error_frame_for_an_oversized_frame_keeps_its_turn() -> None:
    SlowPing.release = anyio.Event()
    app = SlowPing.as_asgi(oversized_frames="error")
    async with WebsocketCommunicator(app, "/ws") as ws:
        await ws.send_json({"action": "ping", "ref": 1})
        await ws.send_bytes(b"x" * 101)
        await ws.send_text('{"action": "ping", "ref": "' + "x" * 200 + '"}')
        await ws.receive_nothing()  # nothing overtakes the suspended ping's reply
        SlowPing.release.set()
        first, second, third = [await ws.receive_json() for _ in range(3)]
    assert (first["action"], first["ref"]) == ("pong", 1)
    assert second["payload"]["code"] == third["payload"]["code"] == "frame_too_large"


def test_a_client_that_never_reads_is_dropped_by_default() -> None:
    # Issue #12 item 6: the watchdog was off unless a consumer set slow_client_timeout.
    assert AsyncJsonWebsocketConsumer.slow_client_timeout == 30.0
    assert Limited.slow_client_timeout == 30.0


async def test_stalled_readers_share_one_sweeper_task(memory_layer: InMemoryChannelLayer) -> None:
    # The default is on for every connection, so it must not cost a task per connection.
    import asyncio

    app = Limited.as_asgi(slow_client_timeout=0.2)
    stalled = [StalledClient(app) for _ in range(20)]
    before = len(asyncio.all_tasks())
    async with anyio.create_task_group() as tg:
        for client in stalled:
            tg.start_soon(client.run)
        with anyio.fail_after(2):
            for client in stalled:
                await client.accepted.wait()
        # per connection: its own task and its layer reader; plus one sweeper in all
        assert len(asyncio.all_tasks()) - before <= 2 * len(stalled) + 1
        for _ in range(150):  # fill every stalled member's queue: their sends block
            await Limited.broadcast_to(ChatNotification(payload=ChatPayload(text="x")), "room")
        with anyio.fail_after(3):
            while memory_layer._groups.get("room"):  # noqa: ASYNC110 - bounded by fail_after
                await anyio.sleep(0.02)


def test_watchdog_judges_a_stall_by_send_counts_never_early() -> None:
    # The watchdog counts sends (no wrapper coroutine per send): a send in flight with no
    # send finished for `limit` seconds, as seen by successive sweeps, is a stall.
    from types import SimpleNamespace

    from chanx.core._limits import SendWatchdog

    progress = SimpleNamespace(sends_begun=0, sends_done=0)
    watchdog = SendWatchdog(1.0)
    watchdog.progress = progress  # what arm() sets, without starting a sweeper
    assert not watchdog.stalled(0.0)  # nothing in flight
    progress.sends_begun = 1
    assert not watchdog.stalled(0.25)  # first seen blocked here
    assert not watchdog.stalled(1.0)  # 0.75 s: not yet
    progress.sends_begun, progress.sends_done = 3, 2  # progress: the clock starts anew
    assert not watchdog.stalled(1.1)
    assert not watchdog.stalled(2.0)
    assert watchdog.stalled(2.1)  # 1.0 s without progress
    progress.sends_done = 3  # caught up
    assert not watchdog.stalled(2.2)
    assert watchdog.blocked_since is None
