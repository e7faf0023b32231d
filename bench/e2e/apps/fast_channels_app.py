"""fast-channels (Channels-style consumers for Starlette/FastAPI), written after its docs.

BENCH_LAYER=memory (default) or redis, as for the Channels target.
"""

from __future__ import annotations

import os
from typing import Any

from fast_channels.consumer.websocket import AsyncJsonWebsocketConsumer
from fast_channels.layers import InMemoryChannelLayer, register_channel_layer
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute

if os.environ.get("BENCH_LAYER", "memory") == "redis":
    from fast_channels.layers.redis import RedisChannelLayer

    register_channel_layer(
        "bench",
        RedisChannelLayer(
            hosts=[os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")],
            prefix=os.environ.get("BENCH_REDIS_PREFIX", "bench"),
        ),
    )
else:
    register_channel_layer("bench", InMemoryChannelLayer())


class BenchConsumer(AsyncJsonWebsocketConsumer):
    channel_layer_alias = "bench"
    groups = ["bench"]

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        action = content.get("action")
        if action == "ping":
            await self.send_json({"action": "pong", "payload": None})
        elif action == "echo":
            await self.send_json({"action": "echo", "payload": content.get("payload")})
        elif action == "broadcast":
            assert self.channel_layer is not None
            await self.channel_layer.group_send(
                "bench", {"type": "bench.notify", "payload": content.get("payload")}
            )

    async def bench_notify(self, event: dict[str, Any]) -> None:
        await self.send_json({"action": "notify", "payload": event["payload"]})


app = Starlette(routes=[WebSocketRoute("/ws", BenchConsumer.as_asgi())])
