"""A client that leaves while the server sends to it: a quiet end, not an ERROR.

ASGI servers raise an `OSError` from ``send`` once the client is gone (uvicorn:
``ClientDisconnected``). In a busy room every departure can race a push; the server log must
not fill with tracebacks for it. An `OSError` of the app's own (a `ConnectionError` of a
database) is still a handler failure.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import anyio
import pytest

from chanx.core import (
    AsyncJsonWebsocketConsumer,
    BaseEvent,
    BaseMessage,
    PingMessage,
    PongMessage,
    event_handler,
    ws_handler,
)
from chanx.core.layers import InMemoryChannelLayer
from chanx.core.types import Message
from chanx.testing import WebsocketCommunicator

pytestmark = pytest.mark.usefixtures("memory_layer")

disconnects: list[int] = []


class Joined(BaseMessage):
    action: Literal["joined"] = "joined"
    payload: str


class JoinedEvent(BaseEvent):
    type: Literal["user_joined"] = "user_joined"
    username: str


class Speak(BaseMessage):
    action: Literal["speak"] = "speak"
    payload: None = None


class Room(AsyncJsonWebsocketConsumer):
    groups = ["gone-room"]

    @ws_handler
    async def ping(self, message: PingMessage) -> PongMessage:
        return PongMessage()

    @ws_handler
    async def speak(self, message: Speak) -> None:
        await self.send_message(PongMessage())  # the handler's own send
        await self.send_message(PongMessage())

    @event_handler
    async def user_joined(self, event: JoinedEvent) -> Joined:
        return Joined(payload=event.username)

    async def on_disconnect(self, code: int) -> None:
        disconnects.append(code)


class Broken(AsyncJsonWebsocketConsumer):
    @ws_handler
    async def ping(self, message: PingMessage) -> PongMessage:
        raise ConnectionRefusedError("the database is down")  # an OSError of the app's own


class Disconnected(Exception):  # noqa: N818 - autobahn's name, which daphne raises
    """What daphne raises from send once the client is gone: not an OSError."""


GONE = pytest.mark.parametrize(
    "gone", [ConnectionResetError, Disconnected], ids=["uvicorn OSError", "daphne Disconnected"]
)


def _fake_socket(
    inbox: list[Message], fail_after: int, gone: type[Exception]
) -> tuple[Any, Any, anyio.Event, list[Message]]:
    """ASGI receive/send of a client that leaves after ``fail_after`` frames were sent."""
    accepted, never = anyio.Event(), anyio.Event()
    sent: list[Message] = []

    async def receive() -> Message:
        if inbox:
            return inbox.pop(0)
        await never.wait()
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        if message["type"] == "websocket.accept":
            accepted.set()
        elif message["type"] == "websocket.send":
            if len(sent) >= fail_after:
                raise gone("client disconnected")
            sent.append(message)

    return receive, send, accepted, sent


def _errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.levelno >= logging.ERROR]


@GONE
async def test_a_push_to_a_client_that_left_ends_the_connection_quietly(
    memory_layer: InMemoryChannelLayer, caplog: pytest.LogCaptureFixture, gone: type[Exception]
) -> None:
    disconnects.clear()
    receive, send, accepted, _ = _fake_socket([{"type": "websocket.connect"}], 0, gone)
    scope = {"type": "websocket", "path": "/ws", "headers": []}
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(Room.as_asgi(), scope, receive, send)
            await accepted.wait()
            await Room.broadcast_event(JoinedEvent(username="bob"))
    assert disconnects == [1006]
    assert _errors(caplog) == []
    assert not memory_layer._groups.get("gone-room")


@GONE
async def test_a_handler_sending_to_a_client_that_left_is_not_a_handler_error(
    caplog: pytest.LogCaptureFixture, gone: type[Exception]
) -> None:
    disconnects.clear()
    inbox: list[Message] = [
        {"type": "websocket.connect"},
        {"type": "websocket.receive", "text": '{"action": "speak"}'},
    ]
    receive, send, _, sent = _fake_socket(inbox, 1, gone)
    with anyio.fail_after(5):
        await Room.as_asgi()({"type": "websocket", "path": "/ws", "headers": []}, receive, send)
    assert len(sent) == 1
    assert disconnects == [1006]
    assert _errors(caplog) == []


@GONE
async def test_a_reply_to_a_client_that_left_is_not_an_error(
    caplog: pytest.LogCaptureFixture, gone: type[Exception]
) -> None:
    disconnects.clear()
    inbox: list[Message] = [
        {"type": "websocket.connect"},
        {"type": "websocket.receive", "text": '{"action": "ping"}'},
    ]
    receive, send, _, _ = _fake_socket(inbox, 0, gone)
    with anyio.fail_after(5):
        await Room.as_asgi()({"type": "websocket", "path": "/ws", "headers": []}, receive, send)
    assert disconnects == [1006]
    assert _errors(caplog) == []


async def test_an_oserror_of_the_app_is_still_a_handler_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with WebsocketCommunicator(Broken.as_asgi(), "/ws") as ws:
        await ws.send_json({"action": "ping", "ref": 7})
        error = await ws.receive_json()
        assert error["payload"]["code"] == "handler_error"
        assert error["ref"] == 7
        await ws.send_json({"action": "ping"})  # the socket stays open
        assert (await ws.receive_json())["payload"]["code"] == "handler_error"
    assert [r.getMessage() for r in _errors(caplog)] == ["handler Broken.ping failed"] * 2


class BadRoom(AsyncJsonWebsocketConsumer):
    async def get_groups(self) -> list[str]:
        return ["no spaces allowed"]  # refused with 4400


@GONE
async def test_a_refusal_to_a_client_that_left_is_not_an_error(
    caplog: pytest.LogCaptureFixture, gone: type[Exception]
) -> None:
    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        raise gone("client disconnected")  # it gave up waiting for the handshake

    with anyio.fail_after(5):
        await BadRoom.as_asgi()({"type": "websocket", "path": "/ws", "headers": []}, receive, send)
    assert _errors(caplog) == []
