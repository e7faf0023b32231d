"""The apps the in-process micro-benchmarks compare: a raw ASGI echo and chanx consumers."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from chanx.core import AsyncJsonWebsocketConsumer, PingMessage, PongMessage, ws_handler

App = Callable[[dict[str, Any], Any, Any], Coroutine[Any, Any, None]]
PING = '{"action":"ping","payload":null}'
PONG = '{"action":"pong","payload":null}'


class Grouped(AsyncJsonWebsocketConsumer):
    groups = ["bench"]

    @ws_handler
    async def ping(self, message: PingMessage) -> PongMessage:
        return PongMessage()


class Silent(AsyncJsonWebsocketConsumer):
    groups = ["bench"]

    @ws_handler
    async def ping(self, message: PingMessage) -> None:
        return None


class NoLayer(Grouped):
    channel_layer_alias = None


async def raw_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The floor: accepts, answers PING with PONG, parses nothing."""
    await receive()
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("text") == PING:
            await send({"type": "websocket.send", "text": PONG})
