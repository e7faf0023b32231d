"""chanx-django (this repository) under Django Channels.

BENCH_LAYER=memory (default) uses Channels' in-memory layer as CHANNEL_LAYERS backend,
BENCH_LAYER=redis channels_redis, so the figures compare with the Channels target on the
same layer.
"""

from __future__ import annotations

import os
from typing import Any

import django
from django.conf import settings

if os.environ.get("BENCH_LAYER", "memory") == "redis":
    LAYER: dict[str, Any] = {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")],
            "prefix": os.environ.get("BENCH_REDIS_PREFIX", "bench"),
        },
    }
else:
    LAYER = {"BACKEND": "channels.layers.InMemoryChannelLayer"}

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench-only",
    ALLOWED_HOSTS=["*"],
    INSTALLED_APPS=["channels"],
    CHANNEL_LAYERS={"default": LAYER},
)
django.setup()

from _chanx_messages import BroadcastMessage, EchoMessage, NotifyMessage  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from chanx.core import PingMessage, PongMessage, ws_handler  # noqa: E402
from chanx.django import AsyncJsonWebsocketConsumer  # noqa: E402


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


app = ProtocolTypeRouter({"websocket": URLRouter([path("ws", BenchConsumer.as_asgi())])})
