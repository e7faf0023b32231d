"""chanx 2.x from PyPI on FastAPI (fast-channels underneath), written after its README.

Runs only in bench/.venvs/chanx2: its regular ``chanx`` package would shadow our namespace.
BENCH_LAYER=memory (default) or redis.
"""

from __future__ import annotations

import os
from typing import Literal

from fast_channels.layers import InMemoryChannelLayer, register_channel_layer
from fastapi import FastAPI
from pydantic import BaseModel

from chanx.core.decorators import ws_handler
from chanx.fast_channels.websocket import AsyncJsonWebsocketConsumer
from chanx.messages.base import BaseMessage
from chanx.messages.incoming import PingMessage
from chanx.messages.outgoing import PongMessage

if os.environ.get("BENCH_LAYER", "memory") == "redis":
    from fast_channels.layers.redis import RedisChannelLayer

    register_channel_layer(
        "default",
        RedisChannelLayer(
            hosts=[os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")],
            prefix=os.environ.get("BENCH_REDIS_PREFIX", "bench"),
        ),
    )
else:
    register_channel_layer("default", InMemoryChannelLayer())


class Seq(BaseModel):
    seq: int


class EchoMessage(BaseMessage):
    action: Literal["echo"] = "echo"
    payload: Seq


class BroadcastMessage(BaseMessage):
    action: Literal["broadcast"] = "broadcast"
    payload: Seq


class NotifyMessage(BaseMessage):
    action: Literal["notify"] = "notify"
    payload: Seq


class BenchConsumer(AsyncJsonWebsocketConsumer):
    channel_layer_alias = "default"
    groups = ["bench"]

    @ws_handler
    async def handle_ping(self, message: PingMessage) -> PongMessage:
        return PongMessage()

    @ws_handler
    async def handle_echo(self, message: EchoMessage) -> EchoMessage:
        return message

    @ws_handler(output_type=NotifyMessage)
    async def handle_broadcast(self, message: BroadcastMessage) -> None:
        await self.broadcast_message(NotifyMessage(payload=message.payload))


app = FastAPI()
app.router.add_websocket_route("/ws", BenchConsumer.as_asgi())
