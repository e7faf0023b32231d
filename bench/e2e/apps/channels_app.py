"""Django Channels' own AsyncJsonWebsocketConsumer, written the way its docs suggest.

BENCH_LAYER=memory (default) uses Channels' in-memory layer, BENCH_LAYER=redis uses
channels_redis at BENCH_REDIS_URL with the key prefix BENCH_REDIS_PREFIX.
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

from channels.generic.websocket import AsyncJsonWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402


class BenchConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    groups = ["bench"]

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        action = content.get("action")
        if action == "ping":
            await self.send_json({"action": "pong", "payload": None})
        elif action == "echo":
            await self.send_json({"action": "echo", "payload": content.get("payload")})
        elif action == "broadcast":
            await self.channel_layer.group_send(
                "bench", {"type": "bench.notify", "payload": content.get("payload")}
            )

    async def bench_notify(self, event: dict[str, Any]) -> None:
        await self.send_json({"action": "notify", "payload": event["payload"]})


app = ProtocolTypeRouter({"websocket": URLRouter([path("ws", BenchConsumer.as_asgi())])})
