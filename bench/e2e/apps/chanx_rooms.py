"""chanx-fastapi with chat rooms and an error policy, for the hostile soak.

``/ws/room/{room}`` joins the group ``room-{room}`` and the group ``bench``. On top of the
bench protocol (ping, echo, broadcast to ``bench``) it speaks ``chat``: the payload is sent
to every member of the sender's room (the sender too) as ``room_chat``; and ``tag``, whose
payload holds a list of strings (the amplification attacker sends wrong-typed lists).
Frames larger than 64 KiB get a ``frame_too_large`` error frame instead of a close, so
oversized frames can be part of the malformed stream. Logging is configured with level
names, so the runner can count ERROR lines in the server log.

BENCH_LAYER=memory (default) uses chanx's in-memory layer, BENCH_LAYER=redis chanx's own
Redis layer at BENCH_REDIS_URL.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Literal

from _chanx_messages import BroadcastMessage, EchoMessage, NotifyMessage
from fastapi import FastAPI
from pydantic import BaseModel, Field

from chanx.core import BaseMessage, PingMessage, PongMessage, register_channel_layer, ws_handler
from chanx.fastapi import AsyncJsonWebsocketConsumer

logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

if os.environ.get("BENCH_LAYER", "memory") == "redis":
    register_channel_layer(
        "default",
        os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
        prefix=os.environ.get("BENCH_REDIS_PREFIX", "bench"),
    )
else:
    register_channel_layer("default", "memory://")

MAX_FRAME_BYTES = 64 * 1024


class ChatPayload(BaseModel):
    sender: int = Field(ge=0)
    seq: int = Field(ge=0)
    text: str = Field(max_length=500)


class ChatMessage(BaseMessage):
    action: Literal["chat"] = "chat"
    payload: ChatPayload


class RoomChatMessage(BaseMessage):
    action: Literal["room_chat"] = "room_chat"
    payload: ChatPayload


class TagsPayload(BaseModel):
    tags: list[str]


class TagMessage(BaseMessage):
    action: Literal["tag"] = "tag"
    payload: TagsPayload


class RoomConsumer(AsyncJsonWebsocketConsumer):
    channel_layer_alias = "default"
    max_frame_bytes = MAX_FRAME_BYTES
    oversized_frames = "error"
    emits = (NotifyMessage, RoomChatMessage)

    async def get_groups(self) -> Sequence[str]:
        return ["bench", self.room_group]

    @property
    def room_group(self) -> str:
        return f"room-{self.path_params['room']}"

    @ws_handler
    async def handle_ping(self, message: PingMessage) -> PongMessage:
        return PongMessage()

    @ws_handler
    async def handle_echo(self, message: EchoMessage) -> EchoMessage:
        return message

    @ws_handler
    async def handle_broadcast(self, message: BroadcastMessage) -> None:
        await self.broadcast_message(NotifyMessage(payload=message.payload), "bench")

    @ws_handler
    async def handle_chat(self, message: ChatMessage) -> None:
        await self.broadcast_message(RoomChatMessage(payload=message.payload), self.room_group)

    @ws_handler
    async def handle_tag(self, message: TagMessage) -> None:
        return None


app = FastAPI()
app.router.add_websocket_route("/ws/room/{room:int}", RoomConsumer.as_asgi())
