"""Groups, broadcasts and channel-layer events; disconnect cleans up."""

from __future__ import annotations

import json
import logging

import anyio
import pytest
from asgiref.sync import async_to_sync

from chanx.core import (
    AsyncJsonWebsocketConsumer,
    PingMessage,
    PongMessage,
    routes_of,
    ws_handler,
)
from chanx.core._groups import numbered
from chanx.core.layers import InMemoryChannelLayer
from chanx.testing import WebsocketCommunicator
from tests.core import consumers
from tests.core.consumers import ChatConsumer
from tests.core.messages import ChatMessage, ChatNotification, ChatPayload, UserJoinedEvent


def chat(path: str = "/ws") -> WebsocketCommunicator:
    return WebsocketCommunicator(ChatConsumer.as_asgi(), path)


async def test_broadcast_reaches_every_member(memory_layer: InMemoryChannelLayer) -> None:
    async with chat() as a, chat() as b:
        await a.send_json({"action": "chat", "payload": {"text": "hi"}})
        expected = {"action": "chat_notification", "payload": {"text": "hi"}}
        assert await a.receive_json() == expected
        assert await b.receive_json() == expected


class ExcludingConsumer(AsyncJsonWebsocketConsumer):
    groups = ["room_1"]

    @ws_handler
    async def handle_chat(self, message: ChatMessage) -> None:
        await self.broadcast_message(
            ChatNotification(payload=message.payload), exclude_current=True
        )


async def test_exclude_current_skips_the_sender(memory_layer: InMemoryChannelLayer) -> None:
    app = ExcludingConsumer.as_asgi()
    async with WebsocketCommunicator(app, "/ws") as a, WebsocketCommunicator(app, "/ws") as b:
        await a.send_json({"action": "chat", "payload": {"text": "hi"}})
        assert (await b.receive_json())["payload"] == {"text": "hi"}
        assert await a.receive_nothing()


def test_overriding_a_handler_without_the_decorator_unroutes_it() -> None:
    class Quiet(ChatConsumer):
        async def handle_chat(self, message: ChatMessage) -> None: ...

    assert "chat" not in routes_of(Quiet).ws.by_key


async def test_raw_channels_style_event_reaches_typed_handler(
    memory_layer: InMemoryChannelLayer,
) -> None:
    async with chat() as ws:
        await memory_layer.group_send("room_1", {"type": "user_joined", "username": "alice"})
        assert await ws.receive_json() == {"action": "user_joined", "payload": "alice"}


async def test_typed_broadcast_event(memory_layer: InMemoryChannelLayer) -> None:
    async with chat() as ws:
        await ChatConsumer.broadcast_event(UserJoinedEvent(username="bob"))
        assert (await ws.receive_json())["payload"] == "bob"


async def test_sync_code_reaches_the_consumer(memory_layer: InMemoryChannelLayer) -> None:
    def celery_like_task() -> None:
        async_to_sync(memory_layer.group_send)(
            "room_1", {"type": "user_joined", "username": "sync"}
        )
        ChatConsumer.broadcast_event_sync(UserJoinedEvent(username="typed-sync"))

    async with chat() as ws:
        with anyio.fail_after(5):
            await anyio.to_thread.run_sync(celery_like_task)
        assert (await ws.receive_json())["payload"] == "sync"
        assert (await ws.receive_json())["payload"] == "typed-sync"


async def test_unknown_and_invalid_events_are_dropped(
    memory_layer: InMemoryChannelLayer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="chanx.consumer"):
        async with chat() as ws:
            await memory_layer.group_send("room_1", {"type": "who_knows"})
            await memory_layer.group_send("room_1", {"type": "user_joined", "username": 5})
            await memory_layer.group_send("room_1", {"type": "user_joined", "username": "ok"})
            assert (await ws.receive_json())["payload"] == "ok"
    assert "unknown type 'who_knows'" in caplog.text
    assert "invalid 'user_joined'" in caplog.text


async def test_send_event_to_one_channel(memory_layer: InMemoryChannelLayer) -> None:
    class Named(ChatConsumer):
        async def on_connect(self) -> None:
            assert self.channel_name is not None
            await self.send_json({"action": "hello", "channel": self.channel_name})

    async with WebsocketCommunicator(Named.as_asgi(), "/ws") as ws:
        name = (await ws.receive_json())["channel"]
        await Named.send_event(UserJoinedEvent(username="direct"), name)
        assert (await ws.receive_json())["payload"] == "direct"


async def test_disconnect_cancels_work_and_leaves_groups(
    memory_layer: InMemoryChannelLayer,
) -> None:
    consumers.events.clear()
    ws = chat()
    await ws.connect()
    assert list(memory_layer._groups) == ["room_1"]
    await ws.send_json({"action": "slow"})
    await ws.receive_nothing()
    assert consumers.events == ["slow started"]
    await ws.disconnect(code=1001)
    assert consumers.events == ["slow started", "slow cancelled", "disconnected 1001"]
    assert not memory_layer._groups.get("room_1")


class RuntimeGroups(AsyncJsonWebsocketConsumer):
    @ws_handler
    async def ping(self, message: PingMessage) -> PongMessage:
        if "lobby" in self.joined_groups:
            await self.leave_group("lobby")
        else:
            await self.join_group("lobby")
        return PongMessage()


async def test_join_and_leave_at_runtime(memory_layer: InMemoryChannelLayer) -> None:
    async with WebsocketCommunicator(RuntimeGroups.as_asgi(), "/ws") as ws:
        await ws.send_json({"action": "ping"})
        await ws.receive_json()
        assert len(memory_layer._groups.get("lobby", ())) == 1
        await ws.send_json({"action": "ping"})
        await ws.receive_json()
        assert not memory_layer._groups.get("lobby")


class Closer(AsyncJsonWebsocketConsumer):
    channel_layer_alias = None

    @ws_handler
    async def ping(self, message: PingMessage) -> None:
        await self.close(4000, "bye")


async def test_close_from_a_handler() -> None:
    async with WebsocketCommunicator(Closer.as_asgi(), "/ws") as ws:
        await ws.send_json({"action": "ping"})
        closed = await ws.assert_closed(4000)
        assert closed["reason"] == "bye"


async def test_without_layer_broadcast_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match="has no channel layer"):
        await Closer.broadcast_event(UserJoinedEvent(username="x"), "g")


class Subprotocols(AsyncJsonWebsocketConsumer):
    channel_layer_alias = None
    subprotocols = ("chanx.v1",)


async def test_subprotocol_selection() -> None:
    ws = WebsocketCommunicator(Subprotocols.as_asgi(), "/ws", subprotocols=["other", "chanx.v1"])
    result = await ws.connect()
    assert result.subprotocol == "chanx.v1"
    await ws.disconnect()


async def test_frames_are_answered_in_order(memory_layer: InMemoryChannelLayer) -> None:
    async with chat() as ws:
        for i in range(50):
            await ws.send_json({"action": "echo", "payload": {"i": i}})
        replies = [(await ws.receive_json())["payload"]["i"] for _ in range(50)]
    assert replies == list(range(50))


async def test_bounded_concurrency_lets_a_fast_frame_pass_a_slow_one(
    memory_layer: InMemoryChannelLayer,
) -> None:
    consumers.events.clear()
    app = ChatConsumer.as_asgi(max_concurrent_frames=2)
    async with WebsocketCommunicator(app, "/ws") as ws:
        await ws.send_json({"action": "slow"})
        await ws.send_json({"action": "ping"})
        assert (await ws.receive_json())["action"] == "pong"
    assert consumers.events[:2] == ["slow started", "slow cancelled"]


class EmptyGroupsConsumer(AsyncJsonWebsocketConsumer):
    groups = ["room_1"]

    @ws_handler
    async def handle_chat(self, message: ChatMessage) -> None:
        await self.broadcast_message(ChatNotification(payload=message.payload), groups=[])


async def test_broadcast_to_an_empty_group_list_is_an_error(
    memory_layer: InMemoryChannelLayer, caplog: pytest.LogCaptureFixture
) -> None:
    # groups=[] names no group: sending to every joined group instead would be a surprise.
    app = EmptyGroupsConsumer.as_asgi()
    async with WebsocketCommunicator(app, "/ws") as ws:
        with caplog.at_level(logging.ERROR):
            await ws.send_json({"action": "chat", "payload": {"text": "hi"}})
            error = await ws.receive_json()
        assert error["payload"]["code"] == "handler_error"
        assert "groups=[] names no group" in caplog.text
        assert await ws.receive_nothing()
    with pytest.raises(ValueError, match="names no group"):
        await ChatConsumer.broadcast_event(UserJoinedEvent(username="x"), groups=[])
    with pytest.raises(ValueError, match="names no group"):
        await ChatConsumer.broadcast_to(ChatNotification(payload=ChatPayload(text="x")), [])


class NumberedConsumer(ChatConsumer):
    send_seq = True


async def test_pushes_carry_a_sequence_number(memory_layer: InMemoryChannelLayer) -> None:
    app = NumberedConsumer.as_asgi()
    async with WebsocketCommunicator(app, "/ws") as a, WebsocketCommunicator(app, "/ws") as b:
        await a.send_json({"action": "chat", "payload": {"text": "hi"}})  # a broadcast
        for ws in (a, b):
            frame = await ws.receive_json()
            assert frame == {"seq": 1, "action": "chat_notification", "payload": {"text": "hi"}}
        await memory_layer.group_send("room_1", {"type": "user_joined", "username": "eve"})
        for ws in (a, b):
            assert await ws.receive_json() == {"seq": 2, "action": "user_joined", "payload": "eve"}
        # Replies are not pushes: they carry no seq.
        await a.send_json({"action": "ping"})
        assert await a.receive_json() == {"action": "pong", "payload": None}


@pytest.mark.parametrize(
    "event",
    [
        {"type": "chanx.send"},
        {"type": "chanx.send", "text": None},
        {"type": "chanx.send", "text": 5},
        {"type": "chanx.send", "text": b'{"action":"x"}'},
        {"type": "chanx.send", "text": "not json"},
        {"type": "chanx.send", "text": ""},
    ],
)
async def test_a_frame_event_without_an_object_text_is_dropped(
    memory_layer: InMemoryChannelLayer, caplog: pytest.LogCaptureFixture, event: dict[str, object]
) -> None:
    # Any producer on the layer may send this type; one bad event used to close every
    # member of the group with 1011 (and "not json" became a corrupt numbered frame).
    app = NumberedConsumer.as_asgi()
    with caplog.at_level(logging.WARNING, logger="chanx.consumer"):
        async with WebsocketCommunicator(app, "/ws") as a, WebsocketCommunicator(app, "/ws") as b:
            await memory_layer.group_send("room_1", event)
            await memory_layer.group_send("room_1", {"type": "user_joined", "username": "ok"})
            for ws in (a, b):
                assert await ws.receive_json() == {
                    "seq": 1,
                    "action": "user_joined",
                    "payload": "ok",
                }
    assert "dropped an invalid 'chanx.send' event" in caplog.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"action":"x"}', '{"seq":7,"action":"x"}'),
        ('{ "action": "x" }', '{"seq":7, "action": "x" }'),
        ("{}", '{"seq":7}'),
        ("{ \n }", '{"seq":7}'),
    ],
)
def test_numbered_frames_stay_json(text: str, expected: str) -> None:
    assert numbered(text, 7) == expected
    assert json.loads(numbered(text, 7))["seq"] == 7


async def test_an_open_socket_outlives_group_expiry(monkeypatch: pytest.MonkeyPatch) -> None:
    # Issue 13, item 3: memory://?group_expiry=3, a socket open at t=5 received nothing.
    from chanx.core.layers import _memory, register_channel_layer, unregister_channel_layer

    now = [1000.0]
    monkeypatch.setattr(_memory, "monotonic", lambda: now[0])
    layer = InMemoryChannelLayer.from_url("memory://?group_expiry=3")
    previous = unregister_channel_layer("default")
    register_channel_layer("default", layer)
    try:
        async with chat() as ws:
            await ws.send_json({"action": "ping"})
            assert (await ws.receive_json())["action"] == "pong"
            now[0] += 5
            await layer.group_send("room_1", {"type": "user_joined", "username": "late"})
            assert await ws.receive_json() == {"action": "user_joined", "payload": "late"}
    finally:
        unregister_channel_layer("default")
        if previous is not None:
            register_channel_layer("default", previous)
