"""chanx-fastapi (this repository) on FastAPI.

BENCH_LAYER=memory (default) uses chanx's in-memory layer, BENCH_LAYER=redis chanx's own
Redis layer at BENCH_REDIS_URL.
"""

from __future__ import annotations

import os

from _chanx_messages import BroadcastMessage, EchoMessage, NotifyMessage
from fastapi import FastAPI

from chanx.core import PingMessage, PongMessage, register_channel_layer, ws_handler
from chanx.fastapi import AsyncJsonWebsocketConsumer

if os.environ.get("BENCH_LAYER", "memory") == "redis":
    register_channel_layer(
        "default",
        os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
        prefix=os.environ.get("BENCH_REDIS_PREFIX", "bench"),
    )
else:
    register_channel_layer("default", "memory://")


class BenchConsumer(AsyncJsonWebsocketConsumer):
    channel_layer_alias = "default"
    groups = ["bench"]

    @ws_handler
    async def handle_ping(self, message: PingMessage) -> PongMessage:
        return PongMessage()

    @ws_handler
    async def handle_echo(self, message: EchoMessage) -> EchoMessage:
        return message

    @ws_handler
    async def handle_broadcast(self, message: BroadcastMessage) -> None:
        await self.broadcast_message(NotifyMessage(payload=message.payload))


app = FastAPI()
app.router.add_websocket_route("/ws", BenchConsumer.as_asgi())
